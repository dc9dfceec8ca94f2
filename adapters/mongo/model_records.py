"""`ModelRecordRepository` on MongoDB: `MODELOS`, one document per (name, version)."""

from __future__ import annotations

from typing import Any

from adapters.mongo import moments
from adapters.mongo.database import ACTIVE, MODELS, MongoDatabase, translated_errors
from churn.errors import ModelNotFoundError
from adapters.documents import record_document, record_of
from churn.versions import ModelRecord, ModelRef
from churn.ports import ModelRecordRepository

_MOMENTS = ("started_at", "finished_at")


class MongoModelRecordRepository(ModelRecordRepository):
    def __init__(self, database: MongoDatabase) -> None:
        self._models = database.collection(MODELS)
        self._active = database.collection(ACTIVE)

    def mark_active(self, ref: ModelRef) -> None:
        with translated_errors():
            self._active.replace_one({"_id": "active"}, {"_id": "active", "name": ref.name, "version": ref.version}, upsert=True)

    def last_active(self) -> ModelRef | None:
        with translated_errors():
            document = self._active.find_one({"_id": "active"})
        return None if document is None else ModelRef(document["name"], document["version"])

    def save(self, record: ModelRecord) -> None:
        """Insert or replace by (name, version); `_id` is `name:version`."""
        with translated_errors():
            self._models.replace_one({"_id": str(record.ref)}, _to_document(record), upsert=True)

    def get(self, ref: ModelRef) -> ModelRecord:
        with translated_errors():
            document = self._models.find_one({"_id": str(ref)})
        if document is None:
            raise ModelNotFoundError(f"model {ref} not found; GET /models lists the trained versions")
        return _from_document(document)

    def list(self) -> list[ModelRecord]:
        """Newest first: finished_at desc, then name asc, version desc."""
        with translated_errors():
            cursor = self._models.find().sort([*moments.order("finished_at", -1), ("name", 1), ("version", -1)])
            return [_from_document(d) for d in cursor]


def _to_document(record: ModelRecord) -> dict[str, Any]:
    return {"_id": str(record.ref), **moments.dated(record_document(record), _MOMENTS)}


def _from_document(document: dict[str, Any]) -> ModelRecord:
    return record_of(moments.undated(document, _MOMENTS))
