from __future__ import annotations

from churn.versions import ModelFilter
from churn.ports import Clock, CustomerRepository, JobRunner, ScoringRunStore
from churn.scoring_runs import CustomerFilter, ScoringRun
from churn.services.model_versions import ModelVersions
from churn.use_cases.score_customer_base import ScoreCustomerBase


class StartScoringRun:
    """Queue a run over the stored customers with the active version or the one named; the version is
    fixed when the run is created (a /use-model meanwhile does not change it)."""

    def __init__(
        self,
        models: ModelVersions,
        customers: CustomerRepository,
        runs: ScoringRunStore,
        runner: JobRunner,
        score: ScoreCustomerBase,
        clock: Clock,
        owner: str | None = None,
    ) -> None:
        self._models = models
        self._customers = customers
        self._runs = runs
        self._runner = runner
        self._score = score
        self._clock = clock
        self._owner = owner

    def execute(self, model: ModelFilter | None, customers: CustomerFilter | None, background: bool = True) -> ScoringRun:
        """NoActiveModelError / ModelNotFoundError before anything is stored. With `background` the
        run is handed to the runner and returned queued; otherwise the caller runs it (the CLI)."""
        ref, _ = self._models.get(model)
        size = None if customers is None else customers.size
        total = self._customers.count() if size is None else size
        run = ScoringRun.new(ref, total, customers, self._clock.now(), self._owner)
        self._runs.save(run)
        if background:
            self._runner.submit(run.run_id, lambda: self._score.execute(run.run_id, owner=self._owner))
        return self._runs.get(run.run_id)
