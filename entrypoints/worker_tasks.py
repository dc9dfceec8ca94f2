"""The functions RQ workers run, by dotted path: each takes a job id and runs its use case with the
worker's container (the one `main.py worker` installed, or one built from the CHURN_* environment)."""

from __future__ import annotations

import threading

from entrypoints.container import Container

TRAIN = "entrypoints.worker_tasks.train"
SCORE_CHUNK = "entrypoints.worker_tasks.score_chunk"

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


def score_chunk(task_id: str) -> str:
    """Go through the chunk of a scoring run `task_id` names (then help with chunks whose worker
    stopped), as this worker's process; returns the run's status as this worker left it."""
    from churn.scoring_chunks import parse_task_id

    container = _current()
    run_id, index = parse_task_id(task_id)
    return container.score_run_chunk().execute(run_id, index, container.process_identity()).status.value


def train(job_id: str) -> str:
    """Run the queued training `job_id`; returns its final status (kept by RQ for a day)."""
    return _current().run_queued_training().execute(job_id).status.value
