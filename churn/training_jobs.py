"""A training job's life, from queued to succeeded or failed."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from churn.ids import fresh_id
from churn.promotion import Activation, PromotionDecision
from churn.training_options import TrainingOptions
from churn.versions import ModelRef



class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


INTERRUPTED = "interrupted"
"""The error of a job whose process stopped before it finished."""


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """One asked-for training, from queued to succeeded or failed. Transitions return new jobs."""

    job_id: str
    dataset: str
    model_type: str
    hyperparameters: Mapping[str, Any]
    model_name: str
    activate: Activation
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    model: ModelRef | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    owner: str | None = None
    heartbeat_at: datetime | None = None
    columns: tuple[str, ...] = ()
    """The data set columns to train on (from /train's features / exclude); empty: every feature column."""
    options: TrainingOptions = field(default_factory=TrainingOptions)
    promotion: PromotionDecision | None = None

    def __post_init__(self) -> None:
        # `activate` is the options' policy; a bool (jobs stored before "if_better") is read as one.
        if not isinstance(self.activate, Activation):
            object.__setattr__(self, "activate", Activation.parse(self.activate))
        if self.options.activate is not self.activate:
            object.__setattr__(self, "options", replace(self.options, activate=self.activate))

    @classmethod
    def new(
        cls,
        dataset: str,
        model_type: str,
        hyperparameters: Mapping[str, Any],
        model_name: str,
        activate: Activation | bool,
        now: datetime,
        owner: str | None = None,
        columns: tuple[str, ...] = (),
        options: TrainingOptions | None = None,
    ) -> "TrainingJob":
        """`owner` names the process that will run the job; it keeps the job's heartbeat fresh."""
        policy = Activation.parse(activate)
        options = replace(options or TrainingOptions(), activate=policy)
        return cls(
            fresh_id(), dataset, model_type, dict(hyperparameters), model_name, policy, now,
            owner=owner, heartbeat_at=now, columns=tuple(columns), options=options,
        )

    @property
    def last_sign_of_life(self) -> datetime:
        """When the owning process last showed it was alive: an unfinished job older than a lease
        is one whose process is gone."""
        return self.heartbeat_at or self.started_at or self.created_at

    def started(self, now: datetime) -> "TrainingJob":
        return replace(self, status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)

    def succeeded(
        self, model: ModelRef, metrics: Mapping[str, float], now: datetime, promotion: PromotionDecision | None = None
    ) -> "TrainingJob":
        return replace(self, status=JobStatus.SUCCEEDED, finished_at=now, model=model, metrics=dict(metrics), promotion=promotion)

    def failed(self, reason: str, now: datetime) -> "TrainingJob":
        return replace(self, status=JobStatus.FAILED, finished_at=now, error=reason)
