"""The thread that keeps this process's training jobs alive in the store and fails those of
processes that stopped (see churn/use_cases/recover_interrupted_jobs.py)."""

from __future__ import annotations

import logging
from typing import Sequence

from churn.errors import ChurnError
from churn.use_cases.recover_interrupted_jobs import KeepJobsAlive, RecoverInterruptedJobs
from entrypoints.background import Periodic

log = logging.getLogger("churn")

BEATS_PER_LEASE = 4  # a process misses three heartbeats in a row before its jobs count as gone


class JobLeaseKeeper:
    def __init__(
        self, keep_alive: KeepJobsAlive, recover: RecoverInterruptedJobs, lease_seconds: float, also: Sequence[KeepJobsAlive] = ()
    ) -> None:
        self._keep_alive = keep_alive
        self._also = tuple(also)  # other owners this process beats for (jobs waiting on a broker's queue)
        self._recover = recover
        self._periodic = Periodic("churn-job-lease", float(lease_seconds) / BEATS_PER_LEASE, self.tick)

    def tick(self) -> list[str]:
        """One round: beat for our own jobs, then fail the stale ones; store failures are logged and
        the next round tries again (a store outage must not stop the service)."""
        try:
            self._keep_alive.execute()
            for keep in self._also:
                keep.execute()
            interrupted = self._recover.execute()
        except ChurnError as exc:
            log.warning("could not renew training job leases: %s", exc.message)
            return []
        if interrupted:
            log.warning(
                "%d training job(s) had no sign of life from their process for a whole lease and are now failed as interrupted: %s",
                len(interrupted),
                ", ".join(interrupted),
            )
        return interrupted

    def start(self) -> None:
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()
