"""Group commit for callers that must not block: the writer thread behind `SqliteDatabase.submit`.

Callers on the event loop hand over a write and await a future; one thread writes whatever queued
meanwhile. Runs of the same single-row INSERT become one multi-row INSERT: one statement is atomic
on its own (autocommit), pays one commit for all its rows, and releases the GIL once. That last
point is what made the difference: the writer takes the GIL back after every statement, and while
the event loop holds it, that wait and the hand-over (futex calls, context switches) cost more than
the SQL (bench/serving.py: 3,030 -> ~4,000 req/s on /predict when one statement replaced one per row).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from contextlib import nullcontext
from concurrent.futures import Future
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any, Callable, Iterator, Sequence

MAX_GROUP = 512  # writes taken from the queue at once
MAX_VARIABLES = 999  # SQLite's most conservative host-parameter limit, per statement
_SINGLE_ROW_INSERT = re.compile(r"^(?P<head>\s*INSERT\b.*\bVALUES\s*)(?P<row>\([?,\s]*\))\s*;?\s*$", re.I | re.S)


@dataclass(slots=True)
class Write:
    statement: str
    parameters: Callable[[], Sequence[Any]]
    future: Future | None  # None once the caller has given up: the write still happens


class GroupWriter:
    """One daemon thread, started on the first submit; `close()` writes what was submitted, then stops."""

    def __init__(
        self, connection: Callable[[], sqlite3.Connection], translated_errors: Callable[[], Any], foreground: Callable[[], Any] | None = None
    ) -> None:
        self._connection = connection  # the calling thread's connection (the writer thread's, here)
        self._translated_errors = translated_errors
        self._foreground = foreground or nullcontext  # announces each statement to background writers (SqliteDatabase.foreground)
        self._queue: SimpleQueue[Write | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups_written = 0  # for tests and benchmarks

    def submit(self, statement: str, parameters: Callable[[], Sequence[Any]]) -> Future:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="churn-sqlite-writer", daemon=True)
                    self._thread.start()
        future: Future = Future()
        self._queue.put(Write(statement, parameters, future))
        return future

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float = 30.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _loop(self) -> None:
        queue = self._queue
        while True:
            first = queue.get()
            if first is None:
                return
            group, stop = [first], False
            while len(group) < MAX_GROUP:
                try:
                    write = queue.get_nowait()
                except Empty:
                    break
                if write is None:
                    stop = True
                    break
                group.append(write)
            for write in group:
                if write.future is not None and not write.future.set_running_or_notify_cancel():
                    write.future = None
            for run in _runs(group):
                self._write(run)
            self.groups_written += 1
            if stop:
                return

    def _write(self, run: list[Write]) -> None:
        try:
            with self._translated_errors(), self._foreground():
                self._connection().execute(*_combined(run))
        except Exception as exc:
            if len(run) > 1:
                for write in run:  # find the failing write: the others still go in
                    self._write([write])
            elif run[0].future is not None:
                run[0].future.set_exception(exc)
            return
        for write in run:
            if write.future is not None:
                write.future.set_result(None)


def _runs(group: list[Write]) -> Iterator[list[Write]]:
    """Consecutive writes of the same single-row INSERT, at most MAX_VARIABLES parameters per run;
    any other statement on its own."""
    run: list[Write] = []
    limit = 1
    for write in group:
        if run and write.statement == run[0].statement and len(run) < limit:
            run.append(write)
            continue
        if run:
            yield run
        run = [write]
        match = _SINGLE_ROW_INSERT.match(write.statement)
        limit = max(1, MAX_VARIABLES // max(1, match.group("row").count("?"))) if match else 1
    if run:
        yield run


def _combined(run: list[Write]) -> tuple[str, list[Any]]:
    if len(run) == 1:
        return run[0].statement, list(run[0].parameters())
    match = _SINGLE_ROW_INSERT.match(run[0].statement)
    assert match is not None  # _runs only groups single-row INSERTs
    statement = match.group("head") + ", ".join([match.group("row")] * len(run))
    return statement, [value for write in run for value in write.parameters()]
