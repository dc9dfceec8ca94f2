"""Training in a separate worker process, so fitting (pandas, scikit-learn) never holds the serving
process's GIL: /predict keeps its latency while a model trains."""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any, Mapping, Sequence

from adapters.worker_pool import WorkerPool, WorkerStopped
from churn.errors import TrainingFailedError
from churn.datasets import Dataset
from churn.training_jobs import INTERRUPTED
from churn.model_types import ModelType
from churn.evaluation import HoldoutSet
from churn.ports import ChurnModel, TrainedModel, Trainer
from churn.training_options import TrainingOptions

log = logging.getLogger(__name__)


def _build(trainer_path: str, options: Mapping[str, Any]) -> Trainer:
    module, _, name = trainer_path.partition(":")
    return getattr(importlib.import_module(module), name)(**options)


def _train_in_worker(trainer_path: str, options: Mapping[str, Any], *args: Any) -> TrainedModel:
    return _build(trainer_path, options).train(*args)


def _holdout_in_worker(trainer_path: str, options: Mapping[str, Any], dataset: Dataset, content: bytes) -> HoldoutSet:
    return _build(trainer_path, options).holdout(dataset, content)


class ProcessTrainer(Trainer):
    """Runs another Trainer (named `module:Class`, built in the worker) in a pool of spawned processes
    (its own of `workers` at `niceness`, or a shared `pool`). A worker that dies mid-training (killed,
    out of memory) fails that training with TrainingFailedError("interrupted"), as a killed server's
    trainings are; the pool is replaced and the next training runs. `holdout` (reading a split) runs
    in a worker too; `evaluate` (scoring a split with a model this process holds) runs here."""

    def __init__(
        self,
        trainer_path: str = "adapters.sklearn_trainer:SklearnTrainer",
        workers: int = 1,
        trainer_options: Mapping[str, Any] | None = None,
        niceness: int = 10,
        pool: WorkerPool | None = None,
    ) -> None:
        self._trainer_path = trainer_path
        self._options = dict(trainer_options or {})
        self._local: Trainer | None = None
        self._pool = pool or WorkerPool(workers, niceness)
        self._lock = threading.Lock()

    def train(
        self,
        dataset: Dataset,
        content: bytes,
        model_type: ModelType,
        hyperparameters: Mapping[str, Any],
        columns: Sequence[str] | None = None,
        options: TrainingOptions = TrainingOptions(),
    ) -> TrainedModel:
        return self._in_worker(_train_in_worker, dataset, content, model_type, dict(hyperparameters), columns, options)

    def holdout(self, dataset: Dataset, content: bytes) -> HoldoutSet:
        """Read in a worker too: parsing a large upload is as much pandas work as a small fit."""
        return self._in_worker(_holdout_in_worker, dataset, content)

    def _in_worker(self, task: Any, dataset: Dataset, *args: Any) -> Any:
        try:
            return self._pool.run(task, self._trainer_path, self._options, dataset, *args)
        except WorkerStopped:
            log.warning("a training worker process stopped during a training of %s", dataset.name)
            raise TrainingFailedError(INTERRUPTED) from None

    def evaluate(self, model: ChurnModel, holdout: HoldoutSet) -> dict[str, float]:
        return self._inline().evaluate(model, holdout)

    def _inline(self) -> Trainer:
        with self._lock:
            if self._local is None:
                self._local = _build(self._trainer_path, self._options)
            return self._local

    def worker_pids(self) -> list[int]:
        """The live worker processes (for operators and tests)."""
        return self._pool.pids()

    def shutdown(self) -> None:
        """Stop the workers (a training under way fails as interrupted)."""
        self._pool.shutdown()
