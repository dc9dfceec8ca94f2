"""The functions RQ workers run, by dotted path: each takes a job id and runs its use case with the
worker's container (the one `main.py worker` installed, or one built from the CHURN_* environment)."""

from __future__ import annotations

import threading

from entrypoints.container import Container

TRAIN = "entrypoints.worker_tasks.train"

_container: Container | None = None
_lock = threading.Lock()


def install(container: Container) -> None:
    global _container
    with _lock:
        _container = container


def _current() -> Container:
    global _container
    with _lock:
        if _container is None:
            from entrypoints.container import build_container
            from entrypoints.settings import Settings

            _container = build_container(Settings.from_env())
        return _container


def train(job_id: str) -> str:
    """Run the queued training `job_id`; returns its final status (kept by RQ for a day)."""
    return _current().run_queued_training().execute(job_id).status.value
