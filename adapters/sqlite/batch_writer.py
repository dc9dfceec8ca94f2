"""Group commit for batches: the thread behind `SqlitePredictionRepository.submit_batch`.

A scoring run keeps several batches in flight; this thread writes the ones queued when it gets to
them in one transaction, up to MAX_JOINED_ROWS. Each of a run's batches dirties about one page per
row of every random-order index (probability, model version, the latest risk's two), so once those
indexes outgrow a batch a commit writes ~16 KB of WAL per row; rows joined in one transaction share
pages, and the WAL written (and checkpointed, and fsynced) shrinks with it. Batches are written in
the order submitted; one whose `after` failed fails with it, unwritten, as does every later one
chained to it, so no later batch of a run is stored after a failed one.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any, Callable, Sequence

MAX_JOINED_ROWS = 50_000
"""Rows per transaction at most: a longer transaction holds SQLite's one write lock longer (~3.5 s at
1,000,000 stored predictions), and other writers wait for it (busy_timeout 5 s)."""

Rows = tuple[list[Any], int, bool]
"""A batch's flat parameters, its row count, whether they are a run's rows."""


@dataclass(slots=True)
class Queued:
    rows: Rows
    future: Future[None]
    after: Future[None] | None


class BatchWriter:
    """One daemon thread, started on the first submit; `write` stores a list of batches in one transaction."""

    def __init__(self, write: Callable[[Sequence[Rows]], None], max_rows: int = MAX_JOINED_ROWS) -> None:
        self._write = write
        self._max_rows = max_rows
        self._queue: SimpleQueue[Queued] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.transactions = 0  # for tests and benchmarks

    def submit(self, rows: Rows, after: Future[None] | None) -> Future[None]:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="churn-sqlite-batches", daemon=True)
                    self._thread.start()
        future: Future[None] = Future()
        self._queue.put(Queued(rows, future, after))
        return future

    def _loop(self) -> None:
        carried: Queued | None = None
        while True:
            first = carried if carried is not None else self._queue.get()
            carried = None
            group, rows = [first], first.rows[1]
            while True:
                try:
                    queued = self._queue.get_nowait()
                except Empty:
                    break
                if rows + queued.rows[1] > self._max_rows:
                    carried = queued
                    break
                group.append(queued)
                rows += queued.rows[1]
            self._write_group(group)

    def _write_group(self, group: list[Queued]) -> None:
        writing: list[Queued] = []
        refused: dict[int, BaseException] = {}  # id(future) of a refused batch -> the error it carries
        for queued in group:
            error = _failure_of(queued.after, refused)
            if error is None:
                writing.append(queued)
            else:
                refused[id(queued.future)] = error
                queued.future.set_exception(error)
        if not writing:
            return
        try:
            self._write([queued.rows for queued in writing])
        except Exception as exc:
            for queued in writing:
                queued.future.set_exception(exc)
            return
        finally:
            self.transactions += 1
        for queued in writing:
            queued.future.set_result(None)


def _failure_of(after: Future[None] | None, refused: dict[int, BaseException]) -> BaseException | None:
    """The error that keeps a batch chained to `after` unwritten, or None. `after` was submitted
    earlier, so it is settled, refused in this group, or about to be written with it."""
    if after is None:
        return None
    if id(after) in refused:
        return refused[id(after)]
    if after.done():
        return after.exception()
    return None
