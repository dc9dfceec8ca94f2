"""The SQLite writer thread behind `PredictionRepository.submit`: concurrent submissions share a
commit, a failure stays with its own caller, and nothing submitted is dropped."""

from __future__ import annotations

import sqlite3
import time
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable, Iterator

import pytest

from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.predictions import _INSERT, SqlitePredictionRepository
from churn.errors import StoreUnavailableError
from churn.bands import ProbabilityRange
from churn.paging import PageRequest
from churn.predictions import Prediction
from churn.versions import ModelRef

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
EVERYTHING = ProbabilityRange(0.0, 1.0)


def prediction(n: int) -> Prediction:
    return Prediction(f"p-{n}", f"c-{n % 7}", {"a": float(n)}, (n % 100) / 100, ModelRef("churn-lr", 1), T0)


def stored(repository: SqlitePredictionRepository) -> int:
    return repository.in_range(EVERYTHING, None, PageRequest(limit=1)).total


class HeldLock:
    """Another connection holding the write lock: the writer thread waits behind it."""

    def __init__(self, path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        self._connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self._connection.execute("ROLLBACK")
        self._connection.close()


@contextmanager
def writer_waiting_behind_a_lock(database: SqliteDatabase, path, first: Callable[[], Future]) -> Iterator[Future]:
    """Another connection holds the write lock; the writer takes `first` and waits for it, so what
    is submitted inside the block queues up and is written together once the lock is released."""
    lock = HeldLock(path)
    try:
        future = first()
        deadline = time.monotonic() + 10
        while database._writer.pending() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        yield future
    finally:
        lock.release()


@pytest.fixture
def database(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db")
    yield database
    database.close()


def test_submissions_made_while_a_commit_waits_are_committed_together(database, tmp_path):
    repository = SqlitePredictionRepository(database)
    with writer_waiting_behind_a_lock(database, tmp_path / "churn.db", lambda: repository.submit(prediction(0))) as first:
        futures = [first] + [repository.submit(prediction(n)) for n in range(1, 50)]
    for future in futures:
        future.result(timeout=10)
    assert stored(repository) == 50
    assert database.groups_written == 2  # the first alone, the 49 that queued behind it together


def test_a_failing_statement_fails_only_its_own_caller(database, tmp_path):
    repository = SqlitePredictionRepository(database)
    with writer_waiting_behind_a_lock(database, tmp_path / "churn.db", lambda: repository.submit(prediction(0))) as first:
        good = [repository.submit(prediction(n)) for n in range(1, 5)]
        bad = database.submit("INSERT INTO no_such_table VALUES (?)", lambda: (1,))
        good += [repository.submit(prediction(n)) for n in range(5, 10)]
    with pytest.raises(StoreUnavailableError):
        bad.result(timeout=10)
    for future in [first, *good]:
        assert future.result(timeout=10) is None
    assert stored(repository) == 10


def test_a_failing_row_among_merged_inserts_fails_only_its_own_caller(database, tmp_path):
    """Equal INSERTs are written as one multi-row statement; when it fails, each row is retried alone."""
    repository = SqlitePredictionRepository(database)

    def unencodable():
        raise ValueError("this row cannot be encoded")

    with writer_waiting_behind_a_lock(database, tmp_path / "churn.db", lambda: repository.submit(prediction(0))) as first:
        good = [repository.submit(prediction(n)) for n in range(1, 4)]
        bad = database.submit(_INSERT, unencodable)
        good += [repository.submit(prediction(n)) for n in range(4, 8)]
    with pytest.raises(ValueError, match="cannot be encoded"):
        bad.result(timeout=10)
    for future in [first, *good]:
        assert future.result(timeout=10) is None
    assert stored(repository) == 8


def test_more_rows_than_one_statement_may_bind_are_all_written(database, tmp_path):
    repository = SqlitePredictionRepository(database)
    with writer_waiting_behind_a_lock(database, tmp_path / "churn.db", lambda: repository.submit(prediction(0))) as first:
        futures = [first] + [repository.submit(prediction(n)) for n in range(1, 500)]  # 500 x 8 parameters > 999
    for future in futures:
        future.result(timeout=10)
    assert stored(repository) == 500


def test_a_store_locked_past_the_busy_timeout_fails_the_caller_and_heals(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db", busy_timeout_ms=20)
    repository = SqlitePredictionRepository(database)
    lock = HeldLock(tmp_path / "churn.db")
    try:
        with pytest.raises(StoreUnavailableError, match="locked"):
            repository.submit(prediction(1)).result(timeout=10)
    finally:
        lock.release()
    repository.submit(prediction(2)).result(timeout=10)
    assert [p.prediction_id for p in repository.in_range(EVERYTHING, None, PageRequest()).items] == ["p-2"]
    database.close()


def test_close_commits_everything_submitted(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db")
    repository = SqlitePredictionRepository(database)
    futures = [repository.submit(prediction(n)) for n in range(200)]
    database.close()
    assert all(future.done() and future.exception() is None for future in futures)
    reopened = SqliteDatabase(tmp_path / "churn.db")
    assert stored(SqlitePredictionRepository(reopened)) == 200
    reopened.close()


def test_a_caller_that_gives_up_still_gets_its_prediction_stored(database, tmp_path):
    repository = SqlitePredictionRepository(database)
    with writer_waiting_behind_a_lock(database, tmp_path / "churn.db", lambda: repository.submit(prediction(0))) as first:
        abandoned = repository.submit(prediction(1))
        assert abandoned.cancel()
    first.result(timeout=10)
    deadline = time.monotonic() + 10
    while stored(repository) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stored(repository) == 2
