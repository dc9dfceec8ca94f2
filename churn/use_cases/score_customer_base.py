from __future__ import annotations

import logging
from collections import Counter
from typing import Callable

from churn.errors import ChurnError
from churn.feature_batches import check_records
from churn.predictions import Prediction
from churn.versions import ModelFilter
from churn.ports import Clock, CustomerRepository, PredictionRepository, ScoringRunStore
from churn.scoring_runs import ScoringRun
from churn.services.model_versions import ModelVersions

log = logging.getLogger(__name__)

BATCH = 2000
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
    ) -> None:
        self._models = models
        self._customers = customers
        self._predictions = predictions
        self._runs = runs
        self._clock = clock
        self._batch = batch

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
        ref, model = self._models.get(ModelFilter(run.model.name, run.model.version))
        schema = model.schema
        wanted = run.customers
        while True:
            started = self._clock.monotonic()
            missing = 0
            if wanted is not None and wanted.ids:  # the filter's ids looked up, not the whole base walked
                ids = wanted.ids_after(run.last_customer_id, self._batch)
                if not ids:
                    return run.succeeded(self._clock.now())
                batch = self._customers.batch_of(ids)
                missing, last = len(ids) - len(batch), ids[-1]
            else:
                batch = self._customers.batch_after(run.last_customer_id, self._batch)
                if not batch:
                    return run.succeeded(self._clock.now())
                last = batch[-1].customer_id
            chosen = batch if wanted is None else [c for c in batch if wanted.matches(c)]
            excluded = len(batch) - len(chosen)
            checked = check_records(schema, [c.attributes for c in chosen])  # a column at a time, once per batch
            skipped = Counter(f"{problem.feature}: {problem.problem}" for _, problem in checked.problems)
            if missing:
                skipped[NOT_STORED] += missing
            rows = checked.rows
            if rows:
                now = self._clock.now()
                scores = model.score_many(checked.encoded)  # as the model takes them: booleans, dates as numbers
                reasons = model.reasons_many(checked.encoded, rows)
                threshold = model.threshold
                self._predictions.add_many(
                    [
                        Prediction.new(chosen[i].customer_id, row, p, ref, now, r, run.run_id, threshold=threshold)
                        for i, row, p, r in zip(checked.kept, rows, scores, reasons, strict=True)
                    ]
                )
            run = run.progressed(len(rows), skipped, excluded, last, self._clock.monotonic() - started, self._clock.now())
            self._runs.save(run)
            if progress is not None:
                progress(run)
