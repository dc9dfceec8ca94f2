"""Background training: a fixed number of worker threads and a FIFO queue behind them."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Callable

from churn.ports import JobRunner

log = logging.getLogger(__name__)


class ThreadJobRunner(JobRunner):
    """Runs at most `workers` trainings at once, off the event loop; the rest wait in order
    (queued, never rejected). Workers start lazily so importing or building this starts nothing.

    A job a worker has taken stays first in line (position 1) until its work returns: between the
    worker taking it and the work marking it running, its status is still queued, and a queued job
    always has a place."""

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("at least one training worker is needed")
        self._workers = workers
        self._queue: deque[tuple[str, Callable[[], object]]] = deque()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._taken: set[str] = set()

    def submit(self, job_id: str, work: Callable[[], object]) -> None:
        with self._cond:
            self._queue.append((job_id, work))
            while len(self._threads) < self._workers:
                thread = threading.Thread(target=self._loop, name=f"churn-training-{len(self._threads) + 1}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()

    def position(self, job_id: str) -> int | None:
        with self._cond:
            if job_id in self._taken:
                return 1
            for index, (queued, _) in enumerate(self._queue, start=1):
                if queued == job_id:
                    return index
        return None

    def shutdown(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                job_id, work = self._queue.popleft()
                self._taken.add(job_id)
            try:
                work()
            except Exception:  # the work records its own failure; never let a worker die
                log.exception("training job %s raised", job_id)
            finally:
                with self._cond:
                    self._taken.discard(job_id)
