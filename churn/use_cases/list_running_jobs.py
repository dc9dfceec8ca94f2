from __future__ import annotations

from churn.training_jobs import TrainingJob
from churn.ports import JobStore


class ListRunningJobs:
    """The trainings not finished yet (queued or running), newest first."""

    def __init__(self, jobs: JobStore) -> None:
        self._jobs = jobs

    def execute(self) -> list[TrainingJob]:
        return sorted(self._jobs.unfinished(), key=lambda job: job.created_at, reverse=True)
