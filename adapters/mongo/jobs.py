"""`JobStore` on MongoDB: `JOBS`, one document per job keyed by job_id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.mongo.database import JOBS, MongoDatabase, from_text, to_text, translated_errors
from churn.errors import JobNotFoundError
from churn.training_jobs import INTERRUPTED, JobStatus, TrainingJob
from churn.versions import ModelRef
from churn.ports import JobStore
from churn.promotion import PromotionDecision
from churn.training_options import TrainingOptions

_UNFINISHED = [status.value for status in JobStatus if not status.finished]


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
            cursor = self._jobs.find({"status": {"$in": _UNFINISHED}}).sort([("created_at", 1), ("_id", 1)])
            return [_from_document(d) for d in cursor]

    def heartbeat(self, owner: str, now: datetime) -> int:
        with translated_errors():
            result = self._jobs.update_many({"status": {"$in": _UNFINISHED}, "owner": owner}, {"$set": {"heartbeat_at": to_text(now)}})
        return result.matched_count

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        """Each job is failed by a conditional update_one carrying the staleness test, so a job
        finishing or beating between the find and the update keeps its own state."""
        cutoff = to_text(before)
        stale = {
            "status": {"$in": _UNFINISHED},
            "$or": [
                {"heartbeat_at": {"$lt": cutoff}},
                {"heartbeat_at": None, "started_at": {"$lt": cutoff}},
                {"heartbeat_at": None, "started_at": None, "created_at": {"$lt": cutoff}},
            ],
        }
        change = {"$set": {"status": JobStatus.FAILED.value, "finished_at": to_text(now), "error": INTERRUPTED}}
        interrupted = []
        with translated_errors():
            for document in self._jobs.find(stale, {"_id": 1}).sort([("created_at", 1), ("_id", 1)]):
                if self._jobs.update_one({"_id": document["_id"], **stale}, change).modified_count:
                    interrupted.append(document["_id"])
        return interrupted


def _optional_time(moment) -> str | None:
    return None if moment is None else to_text(moment)


def _to_document(job: TrainingJob) -> dict[str, Any]:
    return {
        "_id": job.job_id,
        "dataset": job.dataset,
        "model_type": job.model_type,
        "hyperparameters": dict(job.hyperparameters),
        "model_name": job.model_name,
        "activate": job.activate.value,
        "created_at": to_text(job.created_at),
        "status": job.status.value,
        "started_at": _optional_time(job.started_at),
        "finished_at": _optional_time(job.finished_at),
        "model": None if job.model is None else {"name": job.model.name, "version": job.model.version},
        "metrics": dict(job.metrics),
        "error": job.error,
        "owner": job.owner,
        "heartbeat_at": _optional_time(job.heartbeat_at),
        "columns": list(job.columns),
        "options": job.options.to_dict(),
        "promotion": None if job.promotion is None else job.promotion.to_dict(),
    }


def _from_document(document: dict[str, Any]) -> TrainingJob:
    model = document["model"]
    return TrainingJob(
        job_id=document["_id"],
        dataset=document["dataset"],
        model_type=document["model_type"],
        hyperparameters=document["hyperparameters"],
        model_name=document["model_name"],
        activate=document["activate"],
        created_at=from_text(document["created_at"]),
        status=JobStatus(document["status"]),
        started_at=None if document["started_at"] is None else from_text(document["started_at"]),
        finished_at=None if document["finished_at"] is None else from_text(document["finished_at"]),
        model=None if model is None else ModelRef(model["name"], model["version"]),
        metrics=document["metrics"],
        error=document["error"],
        owner=document.get("owner"),  # absent in jobs stored before leases existed
        heartbeat_at=None if document.get("heartbeat_at") is None else from_text(document["heartbeat_at"]),
        columns=tuple(document.get("columns") or ()),
        options=TrainingOptions.from_dict(document.get("options"), document["activate"]),  # absent before options existed
        promotion=None if document.get("promotion") is None else PromotionDecision.from_dict(document["promotion"]),
    )
