from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from churn.errors import ChurnError
from churn.feature_batches import check_records
from churn.prediction_batches import BatchScores, PredictionBatch
from churn.versions import ModelFilter
from churn.customers import Customer
from churn.ports import ChurnModel, Clock, CustomerRepository, PredictionRepository, ScoringRunStore
from churn.scoring_runs import CustomerFilter, ScoringRun
from churn.versions import ModelRef
from churn.services.model_versions import ModelVersions

log = logging.getLogger(__name__)

BATCH = 10_000
IN_FLIGHT = 6
"""Batches submitted and not yet stored at most: room for the store to join five behind the one it
writes (SQLite: 50,000 rows per transaction), each ~10 MB of parameters while it waits."""
NOT_STORED = "not a stored customer"
"""The skip reason of an id named by a run's filter that CLIENTES does not hold."""

Progress = Callable[[ScoringRun], None]


class ScoreCustomerBase:
    """Run (or resume) a scoring run: the stored customers in id order (a filter's ids looked up, in
    id order, rather than the whole base walked; ids not stored are skipped as NOT_STORED), BATCH at a time, each batch
    scored in one vectorised call with its reasons and stored all-or-nothing with the run's id, so
    each becomes the customer's latest risk. A resumed run goes on after the greatest customer id the
    store holds a prediction of this run for: no customer is scored twice in a run. Customers whose
    record lacks a feature (or holds an unusable value) are skipped and counted by reason.

    Synchronous and self-contained (ports only): any worker, thread or process, can execute it."""

    def __init__(
        self,
        models: ModelVersions,
        customers: CustomerRepository,
        predictions: PredictionRepository,
        runs: ScoringRunStore,
        clock: Clock,
        batch: int = BATCH,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self._models = models
        self._customers = customers
        self._predictions = predictions
        self._runs = runs
        self._clock = clock
        self._batch = batch
        self._in_flight = max(1, in_flight)

    def execute(self, run_id: str, progress: Progress | None = None, owner: str | None = None) -> ScoringRun:
        """The run as it ended: succeeded, or failed with the reason (never raises for a scoring problem)."""
        run = self._runs.get(run_id)
        if run.status.finished:
            return run
        try:
            resume_after = max(filter(None, (run.last_customer_id, self._predictions.last_customer_of_run(run_id))), default=None)
            run = run.started(self._clock.now(), self._predictions.count_of_run(run_id), resume_after, owner)
            self._runs.save(run)
            run = self._score(run, progress)
        except ChurnError as exc:
            run = run.failed(exc.message, self._clock.now())
        except Exception as exc:  # a bug or a library failure: recorded, not lost
            log.exception("scoring run %s failed", run_id)
            run = run.failed(f"internal error: {type(exc).__name__}: {exc}", self._clock.now())
        self._runs.save(run)
        if progress is not None:
            progress(run)
        return run

    def _score(self, run: ScoringRun, progress: Progress | None) -> ScoringRun:
        """Batch N+1 is read, checked, scored and explained while the store writes the batches before
        it: up to `in_flight` are submitted and not yet stored (a store may write those queued
        together in one transaction), each chained to the one before (`after`), so a failed write
        leaves no later batch stored. The run's progress is saved for each stored batch, in order,
        never ahead of the store: by the thread that completes the batch's future, as it completes
        it (SQLite: the writer, between its transactions; here, a save would wait for the lock while
        the writer holds it for the batches behind)."""
        ref, model = self._models.get(ModelFilter(run.model.name, run.model.version))
        writing: deque[Stored] = deque()
        last: Future[None] | None = None
        try:
            while True:
                started = self._clock.monotonic()
                found = next_batch(self._customers, run.customers, run.last_customer_id, self._batch)
                scored = None if found is None else score_batch(model, ref, run, found, self._clock.now())
                while writing and (writing[0].saved.is_set() or len(writing) >= self._in_flight or scored is None or not scored.predictions):
                    writing.popleft().settled()  # the store's error fails the run here
                if found is None or scored is None:
                    return run.succeeded(self._clock.now())
                run = run.progressed(
                    len(scored.predictions), scored.skipped, scored.excluded, found.last, self._clock.monotonic() - started, self._clock.now()
                )
                if not scored.predictions:  # nothing to write: saved here, once every batch before it is
                    self._save(run, progress)
                    continue
                last = self._predictions.submit_batch(scored.predictions, after=last)
                stored = Stored(run, self._save, progress)
                writing.append(stored)
                last.add_done_callback(stored.on_done)
        finally:
            for stored in writing:
                stored.saved.wait()  # a failure: what is in flight settles before the run is saved as failed

    def _save(self, run: ScoringRun, progress: Progress | None) -> None:
        self._runs.save(run)
        if progress is not None:
            progress(run)


class Stored:
    """A batch in flight and the run once it is stored: saved by `on_done`, in the thread completing the write."""

    def __init__(self, run: ScoringRun, save: Callable[[ScoringRun, Progress | None], None], progress: Progress | None) -> None:
        self._run = run
        self._save = save
        self._progress = progress
        self._error: BaseException | None = None
        self.saved = threading.Event()
        """Set once the write failed, or it succeeded and the run was saved (or failed to be)."""

    def on_done(self, written: Future[None]) -> None:
        try:
            self._error = written.exception()
            if self._error is None:
                self._save(self._run, self._progress)
        except BaseException as exc:
            self._error = exc
        finally:
            self.saved.set()

    def settled(self) -> None:
        """Once saved; raises the write's (or the save's) error."""
        self.saved.wait()
        if self._error is not None:
            raise self._error


@dataclass(frozen=True, slots=True)
class Batch:
    customers: list[Customer]
    missing: int
    """Ids the filter names that CLIENTES does not hold."""
    last: str
    """The greatest id the batch went through: where the next one starts."""


@dataclass(frozen=True, slots=True)
class ScoredBatch:
    predictions: PredictionBatch
    skipped: Counter[str]
    excluded: int


def next_batch(customers: CustomerRepository, wanted: CustomerFilter | None, after: str | None, size: int, upto: str | None = None) -> Batch | None:
    """The next `size` customers after `after` (up to `upto` included, when given) in id order, or
    None when there are none: a filter's ids looked up, not the whole base walked."""
    if wanted is not None and wanted.ids:
        ids = [i for i in wanted.ids_after(after, size) if upto is None or i <= upto]
        if not ids:
            return None
        batch = customers.batch_of(ids)
        return Batch(batch, len(ids) - len(batch), ids[-1])
    batch = customers.batch_after(after, size)
    if upto is not None:
        batch = [c for c in batch if c.customer_id <= upto]
    return Batch(batch, 0, batch[-1].customer_id) if batch else None


def score_batch(model: ChurnModel, ref: ModelRef, run: ScoringRun, batch: Batch, now: datetime) -> ScoredBatch:
    """One vectorised call with its reasons for the batch's customers the filter keeps and the model
    can take, as columns (assess_many: one encoding, no object per reason); the predictions carry
    the run's id. Nothing is stored here."""
    wanted = run.customers
    chosen = batch.customers if wanted is None else [c for c in batch.customers if wanted.matches(c)]
    checked = check_records(model.schema, [c.attributes for c in chosen])  # a column at a time, once per batch
    skipped = Counter(f"{problem.feature}: {problem.problem}" for _, problem in checked.problems)
    if batch.missing:
        skipped[NOT_STORED] += batch.missing
    scores = model.assess_many(checked.columns) if checked.kept else BatchScores([], [])
    ids = [chosen[i].customer_id for i in checked.kept]
    predictions = PredictionBatch.new(ids, checked.rows, scores, ref, now, run.run_id, model.threshold)
    return ScoredBatch(predictions, skipped, len(batch.customers) - len(chosen))
