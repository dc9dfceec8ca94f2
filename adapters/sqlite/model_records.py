"""`ModelRecordRepository` (`MODELOS`) on SQLite: one row per (name, version), the summary as JSON."""

from __future__ import annotations

import json

from adapters.documents import record_document, record_of
from adapters.sqlite.database import SqliteDatabase, to_micros
from churn.errors import ModelNotFoundError
from churn.versions import ModelRecord, ModelRef
from churn.ports import ModelRecordRepository

_COLUMNS = "name, version, finished_at, document"


class SqliteModelRecordRepository(ModelRecordRepository):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def save(self, record: ModelRecord) -> None:
        """Insert or replace by (name, version)."""
        with self._db.transaction() as tx:
            tx.execute(
                f"INSERT INTO model_records ({_COLUMNS}) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name, version) DO UPDATE SET finished_at = excluded.finished_at, document = excluded.document",
                _to_row(record),
            )

    def get(self, ref: ModelRef) -> ModelRecord:
        with self._db.snapshot() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM model_records WHERE name = ? AND version = ?", (ref.name, ref.version)).fetchone()
        if row is None:
            raise ModelNotFoundError(f"model {ref} not found; GET /models lists the trained versions")
        return _from_row(row)

    def mark_active(self, ref: ModelRef) -> None:
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO active_model (slot, name, version) VALUES (1, ?, ?) "
                "ON CONFLICT (slot) DO UPDATE SET name = excluded.name, version = excluded.version",
                (ref.name, ref.version),
            )

    def last_active(self) -> ModelRef | None:
        with self._db.snapshot() as db:
            row = db.execute("SELECT name, version FROM active_model WHERE slot = 1").fetchone()
        return None if row is None else ModelRef(row[0], row[1])

    def list(self) -> list[ModelRecord]:
        """Newest first: finished_at desc, then name asc, version desc."""
        with self._db.snapshot() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM model_records ORDER BY finished_at DESC, name, version DESC").fetchall()
        return [_from_row(row) for row in rows]


def _to_row(record: ModelRecord) -> tuple[str, int, int, str]:
    return record.ref.name, record.ref.version, to_micros(record.summary.finished_at), json.dumps(record_document(record))


def _from_row(row: tuple[str, int, int, str]) -> ModelRecord:
    name, version, _, raw = row
    return record_of({**json.loads(raw), "name": name, "version": version})
