"""Training in a separate worker process, so fitting (pandas, scikit-learn) never holds the serving
process's GIL: /predict keeps its latency while a model trains."""

from __future__ import annotations

import importlib
import os
import logging
import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Mapping, Sequence

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


PARENT_CHECK_SECONDS = 1.0


def _start_worker(parent: int, niceness: int) -> None:
    """Each worker's initializer. The worker yields the CPU to the serving process (`niceness`, as
    `nice` would: on a machine with fewer free cores than busy processes, a fit at the same priority
    takes a full share and /predict's tail latency grows), and exits once the process that started
    it is gone. A server stopped with SIGKILL runs no shutdown, so without this its workers would
    train on, orphaned, holding memory and CPU. (Not PR_SET_PDEATHSIG: it fires when the *thread*
    that spawned the worker ends, and the pool spawns workers from whichever thread submits.)"""
    if niceness > 0:
        os.nice(niceness)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _train_in_worker(trainer_path: str, options: Mapping[str, Any], *args: Any) -> TrainedModel:
    return _build(trainer_path, options).train(*args)


def _holdout_in_worker(trainer_path: str, options: Mapping[str, Any], dataset: Dataset, content: bytes) -> HoldoutSet:
    return _build(trainer_path, options).holdout(dataset, content)


class ProcessTrainer(Trainer):
    """Runs another Trainer (named `module:Class`, built in the worker) in a pool of `workers` spawned
    processes. A worker that dies mid-training (killed, out of memory) fails that training with
    TrainingFailedError("interrupted"), as a killed server's trainings are; the pool is replaced and
    the next training runs. `holdout` (reading a split) runs in a worker too; `evaluate` (scoring a
    split with a model this process holds) runs here."""

    def __init__(
        self,
        trainer_path: str = "adapters.sklearn_trainer:SklearnTrainer",
        workers: int = 1,
        trainer_options: Mapping[str, Any] | None = None,
        niceness: int = 10,
    ) -> None:
        self._trainer_path = trainer_path
        self._niceness = max(0, int(niceness))
        self._options = dict(trainer_options or {})
        self._local: Trainer | None = None
        self._workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
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
        pool = self._current_pool()
        try:
            return pool.submit(task, self._trainer_path, self._options, dataset, *args).result()
        except BrokenProcessPool:
            self._replace(pool)
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
        with self._lock:
            processes = getattr(self._pool, "_processes", None) or {}
            return [p.pid for p in processes.values() if p.is_alive()]

    def shutdown(self) -> None:
        """Stop the workers (a training under way fails as interrupted) and release the pool's
        queues and semaphores, so nothing is left for the resource tracker to complain about."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def _current_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The resource tracker (a helper process spawned with the pool) reports semaphores still
                # registered at exit in plain text; it cleans them up itself. Its lines would break the
                # JSON-only logs, so it is told to keep that one warning to itself (a known leak at
                # shutdown, see the issue note).
                os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning:multiprocessing.resource_tracker")
                # spawn, not fork: the serving process has threads (writer, followers) a fork would copy mid-state
                self._pool = ProcessPoolExecutor(
                    self._workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                    initargs=(os.getpid(), self._niceness),
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=True, cancel_futures=True)  # its workers are gone: waiting releases its queues now
