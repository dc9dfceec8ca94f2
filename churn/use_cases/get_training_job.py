from __future__ import annotations

from churn.training_jobs import JobStatus, TrainingJob
from churn.ports import JobRunner, JobStore


class GetTrainingJob:
    def __init__(self, jobs: JobStore, runner: JobRunner) -> None:
        self._jobs = jobs
        self._runner = runner

    def execute(self, job_id: str) -> tuple[TrainingJob, int | None]:
        """The job and its 1-based place in the queue (None unless queued); JobNotFoundError."""
        job = self._jobs.get(job_id)
        if job.status is not JobStatus.QUEUED:
            return job, None
        return job, self._runner.position(job_id)
