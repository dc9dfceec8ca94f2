from __future__ import annotations

from dataclasses import replace

from churn.training_jobs import JobStatus, TrainingJob
from churn.ports import Clock, JobStore
from churn.use_cases.train_model import TrainModel


class RunQueuedTraining:
    """A worker process takes a training that an API process queued on a broker: the job becomes the
    worker's (`owner`), so the worker's heartbeats keep it alive and, if the worker dies, its lease runs
    out and any process fails it as interrupted. Then the training runs (TrainModel); a job that is
    no longer queued (finished, failed meanwhile) is returned untouched."""

    def __init__(self, jobs: JobStore, train: TrainModel, clock: Clock, owner: str) -> None:
        self._jobs = jobs
        self._train = train
        self._clock = clock
        self._owner = owner

    def execute(self, job_id: str) -> TrainingJob:
        job = self._jobs.get(job_id)
        if job.status is not JobStatus.QUEUED:
            return job
        self._jobs.save(replace(job, owner=self._owner, heartbeat_at=self._clock.now()))
        return self._train.execute(job_id)
