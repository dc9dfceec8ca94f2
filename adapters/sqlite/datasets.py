"""`DatasetStore` on SQLite: metadata in `datasets`, the CSV bytes as a BLOB in `dataset_contents`."""

from __future__ import annotations

import json
import sqlite3

from adapters.documents import dataset_document, dataset_of
from adapters.sqlite.database import SqliteDatabase, to_micros
from churn.errors import DatasetExistsError, DatasetNotFoundError
from churn.datasets import Dataset
from churn.ports import DatasetStore


class SqliteDatasetStore(DatasetStore):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def add(self, dataset: Dataset, content: bytes) -> None:
        """Metadata and content in one transaction; DatasetExistsError when the name is taken."""
        with self._db.transaction() as tx:
            try:
                tx.execute("INSERT INTO datasets (name, created_at, document) VALUES (?, ?, ?)", _to_row(dataset))
            except sqlite3.IntegrityError:
                raise DatasetExistsError(f"data set {dataset.name!r} already exists; choose another name") from None
            tx.execute("INSERT INTO dataset_contents (name, content) VALUES (?, ?)", (dataset.name, bytes(content)))

    def get(self, name: str) -> Dataset:
        with self._db.snapshot() as db:
            row = db.execute("SELECT name, created_at, document FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise _not_found(name)
        return _from_row(row)

    def content(self, name: str) -> bytes:
        with self._db.snapshot() as db:
            row = db.execute("SELECT content FROM dataset_contents WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise _not_found(name)
        return bytes(row[0])

    def list(self) -> list[Dataset]:
        """Oldest first (created_at, then name)."""
        with self._db.snapshot() as db:
            rows = db.execute("SELECT name, created_at, document FROM datasets ORDER BY created_at, name").fetchall()
        return [_from_row(row) for row in rows]

    def remove(self, name: str) -> None:
        """Metadata and content in one transaction."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM dataset_contents WHERE name = ?", (name,))
            deleted = tx.execute("DELETE FROM datasets WHERE name = ?", (name,)).rowcount
        if not deleted:
            raise _not_found(name)


def _not_found(name: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets")


def _to_row(dataset: Dataset) -> tuple[str, int, str]:
    return dataset.name, to_micros(dataset.created_at), json.dumps(dataset_document(dataset))


def _from_row(row: tuple[str, int, str]) -> Dataset:
    name, created_at, raw = row
    return dataset_of({"name": name, "created_at": created_at, **json.loads(raw)})  # older documents: columns only
