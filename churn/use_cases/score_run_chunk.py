from __future__ import annotations

import logging
from datetime import timedelta
from datetime import datetime
from functools import partial
from typing import Callable

from churn.errors import ChurnError
from churn.ports import ChurnModel, Clock, CustomerRepository, PredictionRepository, ScoringRunStore
from churn.scoring_runs import ScoringRun
from churn.services.model_versions import ModelVersions
from churn.use_cases.score_customer_base import BATCH, ScoredBatch, next_batch, score_batch
from churn.versions import ModelFilter, ModelRef

log = logging.getLogger(__name__)

Change = Callable[[ScoringRun], "ScoringRun | None"]


class ScoreRunChunk:
    """One chunk of a run split over workers (a task of the job engine), then any chunk of the same run
    whose worker stopped beating for a lease (taken over where the prediction store says it got to).

    Every change to the run goes through the store's compare-and-set, so of several workers only one
    holds a chunk at a time (the claim adds one to the chunk's attempt). Before each batch is written
    the worker checks it still holds its attempt: one that lost the chunk (it was taken over) stops
    without writing. A taken-over chunk resumes after the greatest customer id the store holds a
    prediction of this run for within the chunk, so a worker killed between its write and its report
    leaves no customer to be scored twice. Synchronous and self-contained (ports only)."""

    def __init__(
        self,
        models: ModelVersions,
        customers: CustomerRepository,
        predictions: PredictionRepository,
        runs: ScoringRunStore,
        clock: Clock,
        lease: timedelta,
        batch: int = BATCH,
    ) -> None:
        self._models = models
        self._customers = customers
        self._predictions = predictions
        self._runs = runs
        self._clock = clock
        self._lease = lease
        self._batch = batch

    def execute(self, run_id: str, index: int, owner: str) -> ScoringRun:
        """The run as this worker left it. A chunk that is finished or held by a live worker is left
        alone (its task delivered twice, say); scoring problems fail the run with the reason, never raise."""
        self._work(run_id, index, owner)
        while any(self._work(run_id, i, owner) for i in self._runs.get(run_id).interrupted_chunks(self._clock.now(), self._lease)):
            pass  # helped with a chunk whose worker stopped; look again
        return self._runs.get(run_id)

    def _work(self, run_id: str, index: int, owner: str) -> bool:
        """Claim chunk `index` and go through it; False when it was not to be taken. The model is
        loaded before the claim, so a worker's first chunk does not go quiet for the load's length."""
        run = self._runs.get(run_id)
        chunk = run.chunks[index]
        if run.status.finished or not chunk.claimable(self._clock.now(), self._lease):
            return False
        try:
            ref, model = self._models.get(ModelFilter(run.model.name, run.model.version))
        except ChurnError as exc:
            return self._refused(run_id, index, owner, exc.message)
        scored, last = self._predictions.run_rows_between(run_id, chunk.after, chunk.upto)
        now = self._clock.now()
        claimed = self._update(run_id, lambda r: r.chunk_claimed(index, owner, now, self._lease, scored, last))
        if claimed is None:
            return False
        attempt = claimed.chunks[index].attempt
        try:
            self._go_through(claimed, ref, model, index, owner, attempt)
        except ChurnError as exc:
            self._end(run_id, index, owner, attempt, exc.message)
        except Exception as exc:  # a bug or a library failure: recorded, not lost
            log.exception("scoring run %s, chunk %s failed", run_id, index)
            self._end(run_id, index, owner, attempt, f"internal error: {type(exc).__name__}: {exc}")
        return True

    def _refused(self, run_id: str, index: int, owner: str, reason: str) -> bool:
        """The run's version cannot be had (removed, registry down): the chunk is claimed to fail the run with the reason."""
        now = self._clock.now()
        claimed = self._update(run_id, lambda r: r.chunk_claimed(index, owner, now, self._lease, 0, None))
        if claimed is not None:
            self._end(run_id, index, owner, claimed.chunks[index].attempt, reason)
        return claimed is not None

    def _go_through(self, run: ScoringRun, ref: ModelRef, model: ChurnModel, index: int, owner: str, attempt: int) -> None:
        chunk = run.chunks[index]
        after = chunk.start_after
        while True:
            found = next_batch(self._customers, run.customers, after, self._batch, upto=chunk.upto)
            if found is None:
                self._end(run.run_id, index, owner, attempt, None)
                return
            scored = score_batch(model, ref, run, found, self._clock.now())
            if not self._runs.get(run.run_id).chunks[index].held_by(owner, attempt):
                return  # taken over while this worker was away: the new holder scores these
            if scored.predictions:
                self._predictions.add_batch(scored.predictions)
            report = partial(_progressed, index=index, owner=owner, attempt=attempt, batch=scored, last=found.last, now=self._clock.now())
            recorded = self._update(run.run_id, report)
            if recorded is None:
                return  # the run failed elsewhere, or the chunk was taken over
            after = found.last

    def _end(self, run_id: str, index: int, owner: str, attempt: int, error: str | None) -> None:
        now = self._clock.now()
        self._update(run_id, lambda r: r.chunk_ended(index, owner, attempt, now, error))

    def _update(self, run_id: str, change: Change) -> ScoringRun | None:
        """Read, change, compare-and-set, again until the store takes it; None when `change` declines."""
        while True:
            read = self._runs.get(run_id)
            changed = change(read)
            if changed is None:
                return None
            if self._runs.claim(changed, expected=read):
                return changed


def _progressed(run: ScoringRun, index: int, owner: str, attempt: int, batch: ScoredBatch, last: str, now: datetime) -> ScoringRun | None:
    return run.chunk_progressed(index, owner, attempt, len(batch.predictions), batch.skipped, batch.excluded, last, now)
