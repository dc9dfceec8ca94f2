"""`DatasetStore` on MongoDB: metadata in `DATASETS`, the CSV bytes in `DATASET_CHUNKS`.

Content is split in chunks of at most 8 MB (documents cap at 16 MB), written under a fresh upload id
before the `DATASETS` document that points at them, so a data set is visible only once complete.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from pymongo.errors import DuplicateKeyError, PyMongoError

from adapters.documents import dataset_document, dataset_of
from adapters.mongo import moments
from adapters.mongo.database import DATASET_CHUNKS, DATASETS, MongoDatabase, translated_errors
from churn.errors import DatasetExistsError, DatasetNotFoundError, StoreUnavailableError
from churn.datasets import Dataset
from churn.ports import DatasetStore

CHUNK_BYTES = 8 * 1024 * 1024
_MOMENTS = ("created_at",)


class MongoDatasetStore(DatasetStore):
    def __init__(self, database: MongoDatabase, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._datasets = database.collection(DATASETS)
        self._chunks = database.collection(DATASET_CHUNKS)
        self._chunk_bytes = chunk_bytes

    def staging(self, content: bytes) -> AbstractContextManager[None]:
        return nullcontext()  # the chunks go in with the metadata, in `add`

    def add(self, dataset: Dataset, content: bytes) -> None:
        """Chunks first, then the metadata; DatasetExistsError when the name is taken (the chunks are removed)."""
        with translated_errors():
            if self._datasets.find_one({"_id": dataset.name}, {"_id": 1}) is not None:
                raise _exists(dataset.name)
            upload_id = uuid.uuid4().hex
            view = memoryview(content)
            starts = range(0, len(view), self._chunk_bytes) or range(1)
            try:
                for n, start in enumerate(starts):
                    self._chunks.insert_one({"upload_id": upload_id, "n": n, "data": bytes(view[start : start + self._chunk_bytes])})
                self._datasets.insert_one(_to_document(dataset, upload_id, len(starts), len(view)))
            except DuplicateKeyError:
                self._discard(upload_id)
                raise _exists(dataset.name) from None
            except PyMongoError:
                self._discard(upload_id)
                raise

    def get(self, name: str) -> Dataset:
        with translated_errors():
            document = self._datasets.find_one({"_id": name})
        if document is None:
            raise _not_found(name)
        return _from_document(document)

    def content(self, name: str) -> bytes:
        """The bytes as uploaded, reassembled from the chunks in order."""
        with translated_errors():
            document = self._datasets.find_one({"_id": name}, {"upload_id": 1, "chunks": 1, "size": 1})
            if document is None:
                raise _not_found(name)
            parts = [bytes(c["data"]) for c in self._chunks.find({"upload_id": document["upload_id"]}, {"data": 1}).sort("n", 1)]
        content = b"".join(parts)
        if len(parts) != document["chunks"] or len(content) != document["size"]:
            raise StoreUnavailableError(f"store unavailable: the content of data set {name!r} is incomplete")
        return content

    def list(self) -> list[Dataset]:
        """Oldest first (created_at, then name)."""
        with translated_errors():
            return [_from_document(d) for d in self._datasets.find().sort([*moments.order("created_at", 1), ("_id", 1)])]

    def remove(self, name: str) -> None:
        """The metadata first (the data set is gone at once), then its chunks."""
        with translated_errors():
            document = self._datasets.find_one_and_delete({"_id": name}, {"upload_id": 1})
            if document is None:
                raise _not_found(name)
            self._chunks.delete_many({"upload_id": document["upload_id"]})

    def _discard(self, upload_id: str) -> None:
        try:
            self._chunks.delete_many({"upload_id": upload_id})
        except PyMongoError:
            pass


def _exists(name: str) -> DatasetExistsError:
    return DatasetExistsError(f"data set {name!r} already exists; choose another name")


def _not_found(name: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets")


def _to_document(dataset: Dataset, upload_id: str, chunks: int, size: int) -> dict[str, Any]:
    return {"_id": dataset.name, **moments.dated(dataset_document(dataset), _MOMENTS), "upload_id": upload_id, "chunks": chunks, "size": size}


def _from_document(document: dict[str, Any]) -> Dataset:
    return dataset_of({"name": document["_id"], **moments.undated(document, _MOMENTS)})  # older documents: the name only as _id
