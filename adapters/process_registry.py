"""Registering a version in a worker process, so the registry's bookkeeping never holds the serving
process's GIL: an MLflow registration is a few hundred milliseconds of Python (SQLAlchemy round
trips, the skops dump, artifact copies), and /predict's tail latency grew by as much while it ran
in the server. Reading (load, records, the active pointer) stays here: it is what serving needs."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from adapters.worker_pool import WorkerPool, WorkerStopped
from churn.errors import TrainingFailedError
from churn.ports import ChurnModel, ModelRegistry
from churn.training_jobs import INTERRUPTED
from churn.versions import ModelRecord, ModelRef, TrainingSummary

_REGISTRIES: dict[tuple[str, str], ModelRegistry] = {}
"""The registry each worker built, by path and options: its client (a database engine, a
connection pool) is made once per worker, not once per registration."""


def _register_in_worker(
    registry_path: str, options: Mapping[str, Any], name: str, model: ChurnModel, summary: TrainingSummary, reports: Mapping[str, bytes]
) -> ModelRecord:
    key = (registry_path, repr(sorted(options.items())))
    if key not in _REGISTRIES:
        module, _, cls = registry_path.partition(":")
        _REGISTRIES[key] = getattr(importlib.import_module(module), cls)(**options)
    return _REGISTRIES[key].register(name, model, summary, reports)


class ProcessRegistry(ModelRegistry):
    """`register` runs in a worker of `pool` on a registry built there (`module:Class` with
    `options`, the same store as `local`); everything else runs on `local`, in this process.
    Both write to one store, as a training worker on another machine does."""

    def __init__(self, local: ModelRegistry, registry_path: str, options: Mapping[str, Any], pool: WorkerPool) -> None:
        self._local = local
        self._path = registry_path
        self._options = dict(options)
        self._pool = pool

    def register(self, name: str, model: ChurnModel, summary: TrainingSummary, reports: Mapping[str, bytes] = {}) -> ModelRecord:
        try:
            return self._pool.run(_register_in_worker, self._path, self._options, name, model, summary, dict(reports))
        except WorkerStopped:  # as a worker killed while fitting: the job fails as interrupted
            raise TrainingFailedError(INTERRUPTED) from None

    def load(self, ref: ModelRef) -> ChurnModel:
        return self._local.load(ref)

    def records(self) -> list[ModelRecord]:
        return self._local.records()

    def set_active(self, ref: ModelRef) -> None:
        self._local.set_active(ref)

    def active(self) -> ModelRef | None:
        return self._local.active()
