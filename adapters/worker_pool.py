"""A pool of spawned worker processes for the work that must not hold the serving process's GIL:
fitting (adapters.process_trainer) and registering a version (adapters.process_registry) share it,
so the worker that fitted a model, with its libraries imported, is the one that stores it."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Sequence

log = logging.getLogger(__name__)

PARENT_CHECK_SECONDS = 1.0


class WorkerStopped(Exception):
    """The worker running the call stopped (killed, out of memory); the pool was replaced."""


def import_ahead(modules: Sequence[str]) -> None:
    """Import `modules` now, before the first task that needs them (seconds each for scikit-learn and
    MLflow). A failure is logged, not raised: the task that needs the module imports it again and
    reports the error there. Used by the pool's workers and by `main.py worker`."""
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:
            log.exception("could not import %s ahead of the first training", module)


def _start_worker(parent: int, niceness: int, preload: Sequence[str] = ()) -> None:
    """Each worker's initializer. The worker yields the CPU to the serving process (`niceness`, as
    `nice` would: on a machine with fewer free cores than busy processes, a fit at the same priority
    takes a full share and /predict's tail latency grows), and exits once the process that started
    it is gone. A server stopped with SIGKILL runs no shutdown, so without this its workers would
    train on, orphaned, holding memory and CPU. (Not PR_SET_PDEATHSIG: it fires when the *thread*
    that spawned the worker ends, and the pool spawns workers from whichever thread submits.)
    `preload` names the modules the tasks need, imported here so a worker started early is ready."""
    if niceness > 0:
        os.nice(niceness)
    import_ahead(preload)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def _started() -> None:
    """The task `start` submits: nothing to do once the initializer has run."""


class WorkerPool:
    """`workers` spawned processes at `niceness`, started on first use (or by `start`) and replaced
    when one dies; each imports `preload` as it starts."""

    def __init__(self, workers: int = 1, niceness: int = 10, preload: Sequence[str] = ()) -> None:
        self._workers = max(1, int(workers))
        self._niceness = max(0, int(niceness))
        self._preload = tuple(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, task: Any, *args: Any) -> Any:
        """`task(*args)` in a worker; WorkerStopped when the worker died under it."""
        pool = self._current_pool()
        try:
            return pool.submit(task, *args).result()
        except BrokenProcessPool:
            self._replace(pool)
            raise WorkerStopped() from None

    def start(self) -> None:
        """Spawn the workers now, without waiting for them: a server calls it as it starts, so its
        first training does not wait seconds for a worker to spawn and import scikit-learn and MLflow."""
        pool = self._current_pool()
        for _ in range(self._workers):
            pool.submit(_started)

    def pids(self) -> list[int]:
        """The live worker processes (for operators and tests)."""
        with self._lock:
            processes = getattr(self._pool, "_processes", None) or {}
            return [p.pid for p in processes.values() if p.is_alive()]

    def shutdown(self) -> None:
        """Stop the workers (a call under way fails with WorkerStopped) and release the pool's
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
                    initargs=(os.getpid(), self._niceness, self._preload),
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=True, cancel_futures=True)  # its workers are gone: waiting releases its queues now
