"""A JobStore decorator that counts the statuses jobs reach in this process, for /metrics."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

from churn.training_jobs import JobStatus, TrainingJob
from churn.ports import JobStore


class CountingJobStore(JobStore):
    def __init__(self, inner: JobStore) -> None:
        self._inner = inner
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def save(self, job: TrainingJob) -> None:
        self._inner.save(job)
        with self._lock:
            self._counts[job.status.value] += 1

    def get(self, job_id: str) -> TrainingJob:
        return self._inner.get(job_id)

    def unfinished(self) -> list[TrainingJob]:
        return self._inner.unfinished()

    def heartbeat(self, owner: str, now: datetime) -> int:
        return self._inner.heartbeat(owner, now)

    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        interrupted = self._inner.interrupt_stale(before, now)
        with self._lock:
            self._counts[JobStatus.FAILED.value] += len(interrupted)
        return interrupted

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
