from __future__ import annotations

from datetime import timedelta

from churn.ports import Clock, JobStore


class RecoverInterruptedJobs:
    """No job may stay queued or running for a process that is gone. Each process keeps its own
    jobs' heartbeat fresh (KeepJobsAlive); a job without a sign of life for a whole lease belongs
    to a process that stopped, and is marked failed as interrupted. Safe to run from every process
    on a shared store, at start and periodically: a live process's jobs are never touched."""

    def __init__(self, jobs: JobStore, clock: Clock, lease: timedelta) -> None:
        self._jobs = jobs
        self._clock = clock
        self._lease = lease

    def execute(self) -> list[str]:
        now = self._clock.now()
        return self._jobs.interrupt_stale(now - self._lease, now)


class KeepJobsAlive:
    """This process is alive: refresh the heartbeat of the jobs it owns (queued ones included)."""

    def __init__(self, jobs: JobStore, clock: Clock, owner: str) -> None:
        self._jobs = jobs
        self._clock = clock
        self._owner = owner

    def execute(self) -> int:
        return self._jobs.heartbeat(self._owner, self._clock.now())
