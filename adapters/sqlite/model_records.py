"""`ModelRecordRepository` (`MODELOS`) on SQLite: one row per (name, version), the summary as JSON."""

from __future__ import annotations

import json
from typing import Any

from adapters.sqlite.database import SqliteDatabase, from_micros, to_micros
from churn.errors import ModelNotFoundError
from churn.model import FeatureSchema, ModelRecord, ModelRef, TrainingSummary
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

    def list(self) -> list[ModelRecord]:
        """Newest first: finished_at desc, then name asc, version desc."""
        with self._db.snapshot() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM model_records ORDER BY finished_at DESC, name, version DESC").fetchall()
        return [_from_row(row) for row in rows]


def _to_row(record: ModelRecord) -> tuple[str, int, int, str]:
    summary = record.summary
    document: dict[str, Any] = {
        "run_id": record.run_id,
        "model_type": summary.model_type,
        "hyperparameters": dict(summary.hyperparameters),
        "metrics": dict(summary.metrics),
        "dataset": summary.dataset,
        "dataset_hash": summary.dataset_hash,
        "rows": summary.rows,
        "schema": summary.schema.to_dict(),
        "training_seconds": summary.training_seconds,
        "started_at": to_micros(summary.started_at),
        "serving_path": summary.serving_path,
        "parity": summary.parity,
    }
    return record.ref.name, record.ref.version, to_micros(summary.finished_at), json.dumps(document)


def _from_row(row: tuple[str, int, int, str]) -> ModelRecord:
    name, version, finished_at, raw = row
    document = json.loads(raw)
    summary = TrainingSummary(
        model_type=document["model_type"],
        hyperparameters=document["hyperparameters"],
        metrics=document["metrics"],
        dataset=document["dataset"],
        dataset_hash=document["dataset_hash"],
        rows=document["rows"],
        schema=FeatureSchema.from_dict(document["schema"]),
        training_seconds=document["training_seconds"],
        started_at=from_micros(document["started_at"]),
        finished_at=from_micros(finished_at),
        serving_path=document["serving_path"],
        parity=document["parity"],
    )
    return ModelRecord(ModelRef(name, version), summary, document["run_id"])
