"""`JobStore` on SQLite: one row per job, the job's fields as JSON."""

from __future__ import annotations

import json
from datetime import datetime

from adapters.documents import job_document, job_of
from adapters.sqlite.database import SqliteDatabase, to_micros
from churn.errors import JobNotFoundError
from churn.ports import JobStore
from churn.timestamps import utc_text
from churn.training_jobs import INTERRUPTED, JobStatus, TrainingJob

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
                (utc_text(now), *_UNFINISHED, owner),
            ).rowcount

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        """One UPDATE: the staleness test and the change are atomic per job."""
        marks = ", ".join("?" for _ in _UNFINISHED)
        with self._db.transaction() as tx:
            rows = tx.execute(
                f"UPDATE jobs SET status = ?, document = json_set(document, '$.status', ?, '$.finished_at', ?, '$.error', ?) "
                f"WHERE status IN ({marks}) AND {_STALE} RETURNING job_id, created_at",
                (
                    JobStatus.FAILED.value, JobStatus.FAILED.value, utc_text(now), INTERRUPTED, *_UNFINISHED,
                    to_micros(before), utc_text(before),
                ),
            ).fetchall()
        return [job_id for job_id, _ in sorted(rows, key=lambda row: (row[1], row[0]))]


# When the owning process last showed it was alive. Documents hold moments as text (adapters.documents);
# those written before that hold microseconds, compared as such.
_LAST_SIGN_OF_LIFE = (
    "coalesce(json_extract(document, '$.heartbeat_at'), json_extract(document, '$.started_at'), "
    "json_extract(document, '$.created_at'), created_at)"
)
_STALE = f"(CASE typeof({_LAST_SIGN_OF_LIFE}) WHEN 'integer' THEN {_LAST_SIGN_OF_LIFE} < ? ELSE {_LAST_SIGN_OF_LIFE} < ? END)"


def _to_row(job: TrainingJob) -> tuple[str, str, int, str]:
    return job.job_id, job.status.value, to_micros(job.created_at), json.dumps(job_document(job))


def _from_row(row: tuple[str, str, int, str]) -> TrainingJob:
    job_id, status, created_at, raw = row
    # The columns are the truth for what SQL updates in place (status) and what older documents lack.
    return job_of({"created_at": created_at, **json.loads(raw), "job_id": job_id, "status": status})
