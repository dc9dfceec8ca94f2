from __future__ import annotations

from typing import Any, Mapping, Sequence

from churn.errors import ChurnError, InvalidDatasetError
from churn.training_jobs import TrainingJob
from churn.versions import ModelRef
from churn.model_types import model_type as find_model_type
from churn.ports import Clock, DatasetStore, JobRunner, JobStore
from churn.promotion import Activation
from churn.training_options import TrainingOptions, check_holdout
from churn.use_cases.train_model import TrainModel


class StartTraining:
    """Validate a training request, queue it, and return the queued job at once."""

    def __init__(
        self, datasets: DatasetStore, jobs: JobStore, runner: JobRunner, train: TrainModel, clock: Clock, owner: str | None = None
    ) -> None:
        self._owner = owner  # this process, which runs what it queues and keeps it alive
        self._datasets = datasets
        self._jobs = jobs
        self._runner = runner
        self._train = train
        self._clock = clock

    def execute(
        self,
        dataset: str,
        model_type: str,
        hyperparameters: Mapping[str, Any] | None = None,
        name: str | None = None,
        activate: Activation | bool | str | None = Activation.IF_BETTER,
        features: Sequence[str] | None = None,
        exclude: Sequence[str] = (),
        options: TrainingOptions | None = None,
    ) -> TrainingJob:
        """UnknownModelTypeError / InvalidHyperparametersError / InvalidRequestError (400: bad options,
        or a data set whose hold-out would hold fewer than 10 customers of a class) / InvalidDatasetError
        for `features` or `exclude` naming a column that is not a feature (400), DatasetNotFoundError (404)."""
        kind = find_model_type(model_type)
        resolved = kind.resolve(hyperparameters)
        options = options or TrainingOptions()
        options.calibration_for(kind.name)
        found = self._datasets.get(dataset)
        check_holdout(found.rows, round(found.rows * found.positive_rate))
        columns: tuple[str, ...] = ()
        if features or exclude:
            if found.profile is None:
                raise InvalidDatasetError(
                    f"data set {dataset!r} was stored before column profiles; upload it again to choose features"
                )
            columns = found.profile.choose(tuple(features) if features else None, tuple(exclude))
        model_name = name or f"churn-{kind.name}"
        ModelRef(model_name, 1)  # validates the name before anything is queued
        job = TrainingJob.new(
            dataset, kind.name, resolved, model_name, Activation.parse(activate), self._clock.now(), self._owner,
            columns=columns, options=options,
        )
        self._jobs.save(job)
        try:
            self._runner.submit(job.job_id, lambda: self._train.execute(job.job_id))
        except ChurnError as exc:  # e.g. the broker is down: the job must not wait for a queue it is not in
            self._jobs.save(job.failed(exc.message, self._clock.now()))
            raise
        return job
