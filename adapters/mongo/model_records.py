"""`ModelRecordRepository` on MongoDB: `MODELOS`, one document per (name, version)."""

from __future__ import annotations

from typing import Any

from adapters.mongo.database import MODELS, MongoDatabase, from_text, to_text, translated_errors
from churn.errors import ModelNotFoundError
from churn.model import FeatureSchema, ModelRecord, ModelRef, TrainingSummary
from churn.ports import ModelRecordRepository


class MongoModelRecordRepository(ModelRecordRepository):
    def __init__(self, database: MongoDatabase) -> None:
        self._models = database.collection(MODELS)

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
            cursor = self._models.find().sort([("finished_at", -1), ("name", 1), ("version", -1)])
            return [_from_document(d) for d in cursor]


def _to_document(record: ModelRecord) -> dict[str, Any]:
    summary = record.summary
    return {
        "_id": str(record.ref),
        "name": record.ref.name,
        "version": record.ref.version,
        "run_id": record.run_id,
        "model_type": summary.model_type,
        "hyperparameters": dict(summary.hyperparameters),
        "metrics": dict(summary.metrics),
        "dataset": summary.dataset,
        "dataset_hash": summary.dataset_hash,
        "rows": summary.rows,
        "schema": summary.schema.to_dict(),
        "training_seconds": summary.training_seconds,
        "started_at": to_text(summary.started_at),
        "finished_at": to_text(summary.finished_at),
        "serving_path": summary.serving_path,
        "parity": summary.parity,
    }


def _from_document(document: dict[str, Any]) -> ModelRecord:
    summary = TrainingSummary(
        model_type=document["model_type"],
        hyperparameters=document["hyperparameters"],
        metrics=document["metrics"],
        dataset=document["dataset"],
        dataset_hash=document["dataset_hash"],
        rows=document["rows"],
        schema=FeatureSchema.from_dict(document["schema"]),
        training_seconds=document["training_seconds"],
        started_at=from_text(document["started_at"]),
        finished_at=from_text(document["finished_at"]),
        serving_path=document["serving_path"],
        parity=document["parity"],
    )
    return ModelRecord(ModelRef(document["name"], document["version"]), summary, document["run_id"])
