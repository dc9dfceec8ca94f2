"""`JobStore` on MongoDB: `JOBS`, one document per job keyed by job_id; moments as BSON dates
(adapters.mongo.moments), jobs stored before with text moments read and lapse the same."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.documents import job_document, job_of
from adapters.mongo import moments
from adapters.mongo.database import JOBS, MongoDatabase, translated_errors
from churn.errors import JobNotFoundError
from churn.training_jobs import INTERRUPTED, JobStatus, TrainingJob
from churn.ports import JobStore

_UNFINISHED = [status.value for status in JobStatus if not status.finished]
_MOMENTS = ("created_at", "started_at", "finished_at", "heartbeat_at")
_OLDEST_FIRST = [*moments.order("created_at", 1), ("_id", 1)]


class MongoJobStore(JobStore):
    def __init__(self, database: MongoDatabase) -> None:
        self._jobs = database.collection(JOBS)

    def save(self, job: TrainingJob) -> None:
        """Insert or replace by job_id."""
        with translated_errors():
            self._jobs.replace_one({"_id": job.job_id}, _to_document(job), upsert=True)

    def get(self, job_id: str) -> TrainingJob:
        with translated_errors():
            document = self._jobs.find_one({"_id": job_id})
        if document is None:
            raise JobNotFoundError(f"training job {job_id!r} not found")
        return _from_document(document)

    def unfinished(self) -> list[TrainingJob]:
        """Queued or running, oldest first (created_at, then job_id)."""
        with translated_errors():
            cursor = self._jobs.find({"status": {"$in": _UNFINISHED}}).sort(_OLDEST_FIRST)
            return [_from_document(d) for d in cursor]

    def heartbeat(self, owner: str, now: datetime) -> int:
        with translated_errors():
            result = self._jobs.update_many({"status": {"$in": _UNFINISHED}, "owner": owner}, {"$set": moments.stored("heartbeat_at", now)})
        return result.matched_count

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        """Each job is failed by a conditional update_one carrying the staleness test, so a job
        finishing or beating between the find and the update keeps its own state."""
        stale = {
            "status": {"$in": _UNFINISHED},
            "$or": [
                moments.before("heartbeat_at", before),
                {"heartbeat_at": None, **moments.before("started_at", before)},
                {"heartbeat_at": None, "started_at": None, **moments.before("created_at", before)},
            ],
        }
        change = {"$set": {"status": JobStatus.FAILED.value, **moments.stored("finished_at", now), "error": INTERRUPTED}}
        interrupted = []
        with translated_errors():
            for document in self._jobs.find(stale, {"_id": 1}).sort(_OLDEST_FIRST):
                if self._jobs.update_one({"_id": document["_id"], **stale}, change).modified_count:
                    interrupted.append(document["_id"])
        return interrupted


def _to_document(job: TrainingJob) -> dict[str, Any]:
    return {"_id": job.job_id, **moments.dated(job_document(job), _MOMENTS)}


def _from_document(document: dict[str, Any]) -> TrainingJob:
    return job_of({"job_id": document["_id"], **moments.undated(document, _MOMENTS)})
