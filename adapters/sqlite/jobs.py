"""`JobStore` on SQLite: one row per job, the job's fields as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from adapters.sqlite.database import SqliteDatabase, from_micros, to_micros
from churn.errors import JobNotFoundError
from churn.training_jobs import INTERRUPTED, JobStatus, TrainingJob
from churn.versions import ModelRef
from churn.ports import JobStore
from churn.promotion import PromotionDecision
from churn.training_options import TrainingOptions

_UNFINISHED = tuple(status.value for status in JobStatus if not status.finished)


class SqliteJobStore(JobStore):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def save(self, job: TrainingJob) -> None:
        """Insert or replace by job_id."""
        with self._db.transaction() as tx:
            tx.execute(
                "INSERT INTO jobs (job_id, status, created_at, document) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, created_at = excluded.created_at, "
                "document = excluded.document",
                _to_row(job),
            )

    def get(self, job_id: str) -> TrainingJob:
        with self._db.snapshot() as db:
            row = db.execute("SELECT job_id, status, created_at, document FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(f"training job {job_id!r} not found")
        return _from_row(row)

    def unfinished(self) -> list[TrainingJob]:
        """Queued or running, oldest first (created_at, then job_id)."""
        marks = ", ".join("?" for _ in _UNFINISHED)
        with self._db.snapshot() as db:
            rows = db.execute(
                f"SELECT job_id, status, created_at, document FROM jobs WHERE status IN ({marks}) ORDER BY created_at, job_id",
                _UNFINISHED,
            ).fetchall()
        return [_from_row(row) for row in rows]

    def heartbeat(self, owner: str, now: datetime) -> int:
        marks = ", ".join("?" for _ in _UNFINISHED)
        with self._db.transaction() as tx:
            return tx.execute(
                f"UPDATE jobs SET document = json_set(document, '$.heartbeat_at', ?) "
                f"WHERE status IN ({marks}) AND json_extract(document, '$.owner') = ?",
                (to_micros(now), *_UNFINISHED, owner),
            ).rowcount

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        """One UPDATE: the staleness test and the change are atomic per job."""
        marks = ", ".join("?" for _ in _UNFINISHED)
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"UPDATE jobs SET status = ?, document = json_set(document, '$.finished_at', ?, '$.error', ?) "
                f"WHERE status IN ({marks}) AND {_LAST_SIGN_OF_LIFE} < ? RETURNING job_id, created_at",
                (JobStatus.FAILED.value, to_micros(now), INTERRUPTED, *_UNFINISHED, to_micros(before)),
            ).fetchall()
        return [job_id for job_id, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


_LAST_SIGN_OF_LIFE = (
    "coalesce(json_extract(document, '$.heartbeat_at'), json_extract(document, '$.started_at'), created_at)"
)


def _to_row(job: TrainingJob) -> tuple[str, str, int, str]:
    document: dict[str, Any] = {
        "dataset": job.dataset,
        "model_type": job.model_type,
        "hyperparameters": dict(job.hyperparameters),
        "model_name": job.model_name,
        "activate": job.activate.value,
        "started_at": None if job.started_at is None else to_micros(job.started_at),
        "finished_at": None if job.finished_at is None else to_micros(job.finished_at),
        "model": None if job.model is None else [job.model.name, job.model.version],
        "metrics": dict(job.metrics),
        "error": job.error,
        "owner": job.owner,
        "heartbeat_at": None if job.heartbeat_at is None else to_micros(job.heartbeat_at),
        "columns": list(job.columns),
        "options": job.options.to_dict(),
        "promotion": None if job.promotion is None else job.promotion.to_dict(),
    }
    return job.job_id, job.status.value, to_micros(job.created_at), json.dumps(document)


def _from_row(row: tuple[str, str, int, str]) -> TrainingJob:
    job_id, status, created_at, raw = row
    document = json.loads(raw)
    model = document["model"]
    return TrainingJob(
        job_id=job_id,
        dataset=document["dataset"],
        model_type=document["model_type"],
        hyperparameters=document["hyperparameters"],
        model_name=document["model_name"],
        activate=document["activate"],
        created_at=from_micros(created_at),
        status=JobStatus(status),
        started_at=None if document["started_at"] is None else from_micros(document["started_at"]),
        finished_at=None if document["finished_at"] is None else from_micros(document["finished_at"]),
        model=None if model is None else ModelRef(model[0], model[1]),
        metrics=document["metrics"],
        error=document["error"],
        owner=document.get("owner"),  # absent in jobs stored before leases existed
        heartbeat_at=None if document.get("heartbeat_at") is None else from_micros(document["heartbeat_at"]),
        columns=tuple(document.get("columns") or ()),
        options=TrainingOptions.from_dict(document.get("options"), document["activate"]),  # absent before options existed
        promotion=None if document.get("promotion") is None else PromotionDecision.from_dict(document["promotion"]),
    )
