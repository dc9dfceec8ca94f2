from __future__ import annotations

from datetime import timedelta

from churn.ports import Clock, ScoringRunStore
from churn.scoring_runs import ScoringRun


class GetScoringRun:
    def __init__(self, runs: ScoringRunStore, clock: Clock, lease: timedelta) -> None:
        self._runs = runs
        self._clock = clock
        self._lease = lease

    def execute(self, run_id: str) -> tuple[ScoringRun, bool]:
        """The run and whether it was interrupted (unfinished, no sign of life for a lease: resumable).
        ScoringRunNotFoundError when unknown."""
        run = self._runs.get(run_id)
        return run, run.interrupted(self._clock.now(), self._lease)

    def recent(self, limit: int = 50) -> list[tuple[ScoringRun, bool]]:
        now = self._clock.now()
        return [(run, run.interrupted(now, self._lease)) for run in self._runs.list(limit)]
