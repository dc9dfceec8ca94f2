"""The batch thread behind SqlitePredictionRepository.submit_batch: joining and chaining, with a fake write."""

from __future__ import annotations

import threading

import pytest

from adapters.sqlite.batch_writer import BatchWriter
from churn.errors import StoreUnavailableError


class _Store:
    """A write that records each transaction's batches; the first waits until released."""

    def __init__(self, fail_on: int | None = None) -> None:
        self.transactions: list[list[str]] = []
        self.release = threading.Event()
        self.started = threading.Event()
        self._fail_on = fail_on

    def write(self, batches) -> None:
        if not self.transactions:
            self.started.set()
            self.release.wait(10)
        self.transactions.append([values[0] for values, _, _ in batches])
        if len(self.transactions) == self._fail_on:
            raise StoreUnavailableError("disk I/O error")


def rows(name: str, count: int = 10):
    return ([name], count, True)


def test_batches_queued_while_one_is_written_share_the_next_transaction_up_to_the_row_limit():
    store = _Store()
    writer = BatchWriter(store.write, max_rows=30)
    first = writer.submit(rows("a"), None)
    store.started.wait(10)
    queued = [writer.submit(rows(name), None) for name in "bcdef"]
    store.release.set()
    for future in [first, *queued]:
        assert future.result(timeout=10) is None
    assert store.transactions == [["a"], ["b", "c", "d"], ["e", "f"]]


def test_a_batch_chained_to_a_failed_one_fails_unwritten_and_so_does_the_chain_after_it():
    store = _Store(fail_on=1)
    writer = BatchWriter(store.write)
    first = writer.submit(rows("a"), None)
    store.started.wait(10)
    second = writer.submit(rows("b"), first)
    third = writer.submit(rows("c"), second)
    alone = writer.submit(rows("d"), None)
    store.release.set()
    for future in (first, second, third):
        with pytest.raises(StoreUnavailableError, match="disk I/O error"):
            future.result(timeout=10)
    assert alone.result(timeout=10) is None
    assert store.transactions == [["a"], ["d"]]


def test_batches_joined_in_a_failed_transaction_all_fail_and_the_next_one_chained_to_them_is_not_written():
    store = _Store(fail_on=2)
    writer = BatchWriter(store.write)
    first = writer.submit(rows("a"), None)
    store.started.wait(10)
    second = writer.submit(rows("b"), first)
    third = writer.submit(rows("c"), second)
    store.release.set()
    assert first.result(timeout=10) is None
    for future in (second, third):
        with pytest.raises(StoreUnavailableError, match="disk I/O error"):
            future.result(timeout=10)
    fourth = writer.submit(rows("d"), third)
    with pytest.raises(StoreUnavailableError):
        fourth.result(timeout=10)
    assert store.transactions == [["a"], ["b", "c"]]
