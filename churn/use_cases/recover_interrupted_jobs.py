from __future__ import annotations

from churn.model import INTERRUPTED
from churn.ports import Clock, JobStore


class RecoverInterruptedJobs:
    """At start-up, no job may stay queued or running from a process that is gone: mark them failed."""

    def __init__(self, jobs: JobStore, clock: Clock) -> None:
        self._jobs = jobs
        self._clock = clock

    def execute(self) -> int:
        jobs = self._jobs.unfinished()
        for job in jobs:
            self._jobs.save(job.failed(INTERRUPTED, self._clock.now()))
        return len(jobs)
