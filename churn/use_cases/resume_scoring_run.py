from __future__ import annotations

from datetime import timedelta

from churn.errors import ScoringRunNotResumableError
from churn.ports import Clock, JobRunner, ScoringRunStore
from churn.scoring_runs import RunStatus, ScoringRun
from churn.use_cases.score_customer_base import ScoreCustomerBase
from churn.use_cases.score_run_chunk import ScoreRunChunk
from churn.use_cases.start_scoring_run import submit_run


class ResumeScoringRun:
    """Go on with a run that failed or whose process stopped (interrupted): it continues after the
    last customer it stored a prediction for (a chunked run: its unfinished chunks are queued again,
    each going on where the store says it got to)."""

    def __init__(
        self, runs: ScoringRunStore, runner: JobRunner, score: ScoreCustomerBase, clock: Clock, lease: timedelta, owner: str | None = None,
        score_chunk: ScoreRunChunk | None = None,
    ) -> None:
        self._score_chunk = score_chunk
        self._runs = runs
        self._runner = runner
        self._score = score
        self._clock = clock
        self._lease = lease
        self._owner = owner

    def execute(self, run_id: str, background: bool = True) -> ScoringRun:
        """ScoringRunNotResumableError for a run that succeeded or is still alive in some process, and
        for all but one of several callers resuming the same run at once (the store's compare-and-set
        decides: only one of them hands it to a worker)."""
        run = self._runs.get(run_id)
        if run.status is RunStatus.SUCCEEDED or (not run.status.finished and not run.interrupted(self._clock.now(), self._lease)):
            raise ScoringRunNotResumableError(
                f"scoring run {run_id} is {run.status.value} and "
                + ("finished" if run.status.finished else "still alive (its process reported progress within the lease)")
                + "; only a failed or interrupted run can be resumed"
            )
        resumed = run.queued_again(self._clock.now(), self._owner, self._lease)
        if not self._runs.claim(resumed, expected=run):
            raise ScoringRunNotResumableError(
                f"scoring run {run_id} was resumed or reported progress meanwhile (by another process); it is not resumed twice"
            )
        if background:
            submit_run(self._runner, resumed, self._score, self._score_chunk, self._owner)
        return resumed
