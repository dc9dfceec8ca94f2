from __future__ import annotations

import logging

from churn.errors import ChurnError, NoActiveModelError
from churn.datasets import Dataset
from churn.training_jobs import JobStatus, TrainingJob
from churn.versions import TrainingSummary
from churn.model_types import model_type as find_model_type
from churn.ports import ChurnModel, Clock, DatasetStore, JobStore, ModelRecordRepository, ModelRegistry, Trainer, TrainedModel
from churn.promotion import Activation, Incumbent, PromotionDecision, PromotionRule
from churn.services.active_model import ActiveModel

log = logging.getLogger(__name__)


class TrainModel:
    """Run one queued training job: fit, register a new version, record it, and activate it as the
    job's `activate` policy and the promotion rule decide (the job says whether, and why).

    Never raises for a training problem: the job ends `failed` with the reason."""

    def __init__(
        self,
        datasets: DatasetStore,
        jobs: JobStore,
        trainer: Trainer,
        registry: ModelRegistry,
        records: ModelRecordRepository,
        active: ActiveModel,
        clock: Clock,
        promotion: PromotionRule | None = None,
    ) -> None:
        self._datasets = datasets
        self._jobs = jobs
        self._trainer = trainer
        self._registry = registry
        self._records = records
        self._active = active
        self._clock = clock
        self._promotion = promotion or PromotionRule()

    def execute(self, job_id: str) -> TrainingJob:
        job = self._jobs.get(job_id)
        if job.status is not JobStatus.QUEUED:
            return job
        job = job.started(self._clock.now())
        self._jobs.save(job)
        try:
            job = self._run(job)
        except _Abandoned:
            log.warning("training job %s was failed by another process before it registered; nothing registered", job.job_id)
            return self._jobs.get(job.job_id)
        except ChurnError as exc:
            job = job.failed(exc.message, self._clock.now())
        except Exception as exc:  # a bug or a library failure: record it rather than lose the job
            log.exception("training job %s failed", job.job_id)
            job = job.failed(f"internal error: {type(exc).__name__}: {exc}", self._clock.now())
        self._jobs.save(job)
        return job

    def _run(self, job: TrainingJob) -> TrainingJob:
        dataset = self._datasets.get(job.dataset)
        content = self._datasets.content(job.dataset)
        trained = self._trainer.train(
            dataset, content, find_model_type(job.model_type), job.hyperparameters, job.columns or None, job.options
        )
        finished = self._clock.now()
        summary = TrainingSummary(
            model_type=job.model_type,
            hyperparameters=dict(job.hyperparameters),
            metrics=dict(trained.metrics),
            dataset=dataset.name,
            dataset_hash=dataset.content_hash,
            rows=dataset.rows,
            schema=trained.model.schema,
            training_seconds=trained.training_seconds,
            started_at=job.started_at or finished,
            finished_at=finished,
            explanation_method=trained.model.explanation_method,
            threshold=trained.model.threshold,
            evaluation=trained.evaluation,
            drift_reference=trained.drift_reference,
        )
        if self._jobs.get(job.job_id).status is not JobStatus.RUNNING:
            # failed meanwhile (its lease ran out while this process was starved): a job the store
            # reports failed must not leave a version behind
            raise _Abandoned()
        record = self._registry.register(job.model_name, trained.model, summary, trained.reports)
        self._records.save(record)
        decision = self._decide(job.activate, dataset, content, trained)
        if decision.activated:
            self._active.switch(record.ref, trained.model)
        return job.succeeded(record.ref, summary.metrics, self._clock.now(), decision)

    def _decide(self, policy: Activation, dataset: Dataset, content: bytes, trained: TrainedModel) -> PromotionDecision:
        """The active version is measured on the new version's hold-out rows, when it reads the same features."""
        incumbent = None
        if policy is Activation.IF_BETTER:
            try:
                ref, model = self._active.current()
            except NoActiveModelError:
                ref = None
            if ref is not None:
                if not _same_features(model, trained.model):
                    incumbent = Incumbent(ref, None)
                else:
                    try:
                        metrics = self._trainer.evaluate(model, self._trainer.holdout(dataset, content))
                    except ChurnError as exc:
                        return PromotionDecision(False, f"the active model {ref} could not be measured on this hold-out ({exc.message})")
                    incumbent = Incumbent(ref, metrics)
        return self._promotion.decide(policy, trained.metrics, incumbent)


def _same_features(a: ChurnModel, b: ChurnModel) -> bool:
    return {(f.name, f.kind) for f in a.schema.features} == {(f.name, f.kind) for f in b.schema.features}


class _Abandoned(Exception):
    """The job is no longer running in the store: its result is dropped."""
