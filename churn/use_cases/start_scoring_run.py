from __future__ import annotations

from functools import partial

from churn.errors import JobQueueUnavailableError
from churn.versions import ModelFilter
from churn.ports import Clock, CustomerRepository, JobRunner, ScoringRunStore
from churn.scoring_chunks import ScoringChunk, plan, task_id
from churn.scoring_runs import CustomerFilter, RunStatus, ScoringRun
from churn.services.model_versions import ModelVersions
from churn.use_cases.score_customer_base import ScoreCustomerBase
from churn.use_cases.score_run_chunk import ScoreRunChunk


MAX_CHUNKS = 1000
"""A run is cut into at most this many chunks (larger pages beyond): every change rewrites the run's
document, which holds them all."""


class StartScoringRun:
    """Queue a run over the stored customers with the active version or the one named; the version is
    fixed when the run is created (a /use-model meanwhile does not change it).

    With `chunk_size` (a job engine's workers), the run is cut into pages of that many customers of
    the id order, recorded in the run, and each page is handed to the runner as its own task
    (`ScoreRunChunk`); without it the run is one task going through the base in order."""

    def __init__(
        self,
        models: ModelVersions,
        customers: CustomerRepository,
        runs: ScoringRunStore,
        runner: JobRunner,
        score: ScoreCustomerBase,
        clock: Clock,
        owner: str | None = None,
        score_chunk: ScoreRunChunk | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self._models = models
        self._customers = customers
        self._runs = runs
        self._runner = runner
        self._score = score
        self._clock = clock
        self._owner = owner
        self._score_chunk = score_chunk
        self._chunk_size = chunk_size

    def execute(self, model: ModelFilter | None, customers: CustomerFilter | None, background: bool = True) -> ScoringRun:
        """NoActiveModelError / ModelNotFoundError before anything is stored. With `background` the
        run is handed to the runner and returned queued; otherwise the caller runs it (the CLI), in one sequence."""
        ref, _ = self._models.get(model)
        size = None if customers is None else customers.size
        total = self._customers.count() if size is None else size
        chunked = background and self._chunk_size is not None and self._score_chunk is not None
        chunks = self._plan(customers, total) if chunked else ()
        run = ScoringRun.new(ref, total, customers, self._clock.now(), self._owner, chunks=chunks)
        self._runs.save(run)
        if background:
            try:
                submit_run(self._runner, run, self._score, self._score_chunk, self._owner)
            except JobQueueUnavailableError as exc:  # the run is kept, failed with the reason: it can be resumed
                self._runs.save(run.failed(exc.message, self._clock.now()))
                raise
        return self._runs.get(run.run_id)

    def _plan(self, customers: CustomerFilter | None, total: int) -> tuple[ScoringChunk, ...]:
        step = max(self._chunk_size or 1, -(-total // MAX_CHUNKS))
        bounds = list(customers.ids_every(step) if customers is not None and customers.ids else self._customers.ids_every(step))
        if bounds and len(bounds) * step == total:
            bounds.pop()  # the last page ends with the last id: no empty page after it
        return plan(bounds)


def submit_run(runner: JobRunner, run: ScoringRun, score: ScoreCustomerBase, score_chunk: ScoreRunChunk | None, owner: str | None) -> None:
    """Hand `run` to `runner`: its queued chunks one task each, or the whole run as one task."""
    if run.chunks and score_chunk is not None:
        worker = owner or "api"
        for chunk in run.chunks:
            if chunk.status is RunStatus.QUEUED:
                runner.submit(task_id(run.run_id, chunk.index), partial(score_chunk.execute, run.run_id, chunk.index, worker))
    else:
        runner.submit(run.run_id, lambda: score.execute(run.run_id, owner=owner))
