"""The JSON documents the SQLite and MongoDB stores keep for data sets, training jobs and model
records: one codec, so both stores write the same fields the same way, with one encoding of a moment
(churn.timestamps.utc_text: fixed-width ISO 8601 UTC, sortable as text).

Each store adds only its own keys around a document: SQLite its indexed columns, MongoDB `_id`, and
MongoDB stores the moments as BSON dates (adapters.mongo.moments turns this text into dates and back).
Reading accepts what older versions wrote: moments as microseconds since the epoch (SQLite) or with a
`Z` suffix (MongoDB), documents without the fields added since.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from churn.columns import Reading
from churn.datasets import Dataset
from churn.profiles import DatasetProfile
from churn.promotion import PromotionDecision
from churn.timestamps import utc_text
from churn.training_jobs import JobStatus, TrainingJob
from churn.training_options import TrainingOptions
from churn.versions import ModelRecord, ModelRef, TrainingSummary

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def moment_text(moment: datetime | None) -> str | None:
    return None if moment is None else utc_text(moment)


def moment_of(value: str | int | None) -> datetime | None:
    """The timezone-aware UTC moment of `moment_text`, or of the microseconds older SQLite documents hold."""
    if value is None:
        return None
    if isinstance(value, int):
        return _EPOCH + timedelta(microseconds=value)
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def dataset_document(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "rows": dataset.rows,
        "columns": list(dataset.columns),
        "target": dataset.target,
        "positive_label": dataset.positive_label,
        "positive_rate": dataset.positive_rate,
        "content_hash": dataset.content_hash,
        "created_at": utc_text(dataset.created_at),
        "id_column": dataset.id_column,
        "reading": dataset.reading.to_dict() if dataset.reading else None,
        "profile": dataset.profile.to_dict() if dataset.profile else None,
    }


def dataset_of(document: Mapping[str, Any]) -> Dataset:
    created_at = moment_of(document["created_at"])
    assert created_at is not None
    return Dataset(
        name=document["name"],
        rows=document["rows"],
        columns=tuple(document["columns"]),
        target=document["target"],
        positive_label=document["positive_label"],
        positive_rate=document["positive_rate"],
        content_hash=document["content_hash"],
        created_at=created_at,
        id_column=document["id_column"],
        reading=Reading.from_dict(document["reading"]) if document.get("reading") else None,
        profile=DatasetProfile.from_dict(document.get("profile")),
    )


def job_document(job: TrainingJob) -> dict[str, Any]:
    return {
        "job_id": job.job_id,
        "status": job.status.value,
        "dataset": job.dataset,
        "model_type": job.model_type,
        "hyperparameters": dict(job.hyperparameters),
        "model_name": job.model_name,
        "activate": job.activate.value,
        "created_at": utc_text(job.created_at),
        "started_at": moment_text(job.started_at),
        "finished_at": moment_text(job.finished_at),
        "model": None if job.model is None else {"name": job.model.name, "version": job.model.version},
        "metrics": dict(job.metrics),
        "error": job.error,
        "owner": job.owner,
        "heartbeat_at": moment_text(job.heartbeat_at),
        "columns": list(job.columns),
        "options": job.options.to_dict(),
        "promotion": None if job.promotion is None else job.promotion.to_dict(),
    }


def job_of(document: Mapping[str, Any]) -> TrainingJob:
    model = document["model"]
    created_at = moment_of(document["created_at"])
    assert created_at is not None
    return TrainingJob(
        job_id=document["job_id"],
        dataset=document["dataset"],
        model_type=document["model_type"],
        hyperparameters=document["hyperparameters"],
        model_name=document["model_name"],
        activate=document["activate"],
        created_at=created_at,
        status=JobStatus(document["status"]),
        started_at=moment_of(document["started_at"]),
        finished_at=moment_of(document["finished_at"]),
        model=None if model is None else _model_ref(model),
        metrics=document["metrics"],
        error=document["error"],
        owner=document.get("owner"),  # absent in jobs stored before leases existed
        heartbeat_at=moment_of(document.get("heartbeat_at")),
        columns=tuple(document.get("columns") or ()),
        options=TrainingOptions.from_dict(document.get("options"), document["activate"]),  # absent before options existed
        promotion=None if document.get("promotion") is None else PromotionDecision.from_dict(document["promotion"]),
    )


def record_document(record: ModelRecord) -> dict[str, Any]:
    return {"name": record.ref.name, "version": record.ref.version, "run_id": record.run_id, **record.summary.to_dict()}


def record_of(document: Mapping[str, Any]) -> ModelRecord:
    return ModelRecord(ModelRef(document["name"], document["version"]), TrainingSummary.from_dict(document), document["run_id"])


def _model_ref(stored: Mapping[str, Any] | list[Any]) -> ModelRef:
    """{"name", "version"}, or the [name, version] pair older SQLite documents hold."""
    if isinstance(stored, list):
        return ModelRef(stored[0], stored[1])
    return ModelRef(stored["name"], stored["version"])
