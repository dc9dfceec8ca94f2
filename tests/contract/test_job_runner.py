"""JobRunner contract: the in-process thread pool and RQ on a real redis-server keep the same
promises (every job runs once, in order; a failing job does not stop the rest; a waiting job
reports its 1-based place, an unknown one None)."""

from __future__ import annotations

import threading
import uuid

import pytest
import redis
from rq import SimpleWorker

from adapters.job_runner import ThreadJobRunner
from adapters.rq_runner import RqJobRunner
from tests.support import rq_tasks


class ThreadHarness:
    def __init__(self) -> None:
        self.runner = ThreadJobRunner(workers=1)
        self._ran: list[str] = []
        self._release = threading.Event()
        self._count = threading.Condition()

    def hold(self) -> None:
        """Keep the worker busy until `drain`, so later jobs wait."""
        taken = threading.Event()
        self.runner.submit("holder", lambda: (taken.set(), self._release.wait(10)))
        assert taken.wait(10)

    def submit(self, job_id: str) -> None:
        def work() -> None:
            with self._count:
                self._ran.append(job_id)
                self._count.notify_all()
            if job_id.startswith("fail"):
                raise RuntimeError(f"{job_id} fails on purpose")

        self.runner.submit(job_id, work)

    def drain(self, expected: int) -> list[str]:
        self._release.set()
        with self._count:
            assert self._count.wait_for(lambda: len(self._ran) >= expected, timeout=10)
        self.runner.shutdown(timeout=10)  # joins the worker: the last job's work has returned
        return list(self._ran)

    def close(self) -> None:
        self._release.set()
        self.runner.shutdown()


class RqHarness:
    def __init__(self, url: str) -> None:
        self.connection = redis.Redis.from_url(url)
        self.connection.delete(rq_tasks.RAN_KEY)
        self.queue = f"churn-test-{uuid.uuid4().hex[:8]}"
        self.runner = RqJobRunner(url, queue=self.queue, task="tests.support.rq_tasks.record")

    def hold(self) -> None:
        """No worker runs until `drain`: every job waits in Redis."""

    def submit(self, job_id: str) -> None:
        self.runner.submit(job_id, lambda: None)

    def drain(self, expected: int) -> list[str]:
        SimpleWorker([self.queue], connection=self.connection).work(burst=True, logging_level="WARNING")
        return [raw.decode() for raw in self.connection.lrange(rq_tasks.RAN_KEY, 0, -1)]

    def close(self) -> None:
        self.runner.shutdown()


@pytest.fixture(params=["thread", "rq"])
def harness(request):
    harness = ThreadHarness() if request.param == "thread" else RqHarness(request.getfixturevalue("redis_server").url)
    yield harness
    harness.close()


def test_every_job_runs_once_in_the_order_submitted(harness):
    for job_id in ("a", "b", "c"):
        harness.submit(job_id)
    assert [j for j in harness.drain(3) if j != "holder"] == ["a", "b", "c"]


def test_a_failing_job_does_not_stop_the_jobs_after_it(harness):
    harness.submit("fail-1")
    harness.submit("good")
    assert harness.drain(2) == ["fail-1", "good"]


def test_waiting_jobs_report_their_place_and_unknown_ones_none(harness):
    harness.hold()
    harness.submit("b")
    harness.submit("c")
    assert (harness.runner.position("b"), harness.runner.position("c")) == (1, 2)
    assert harness.runner.position("never-submitted") is None
    assert harness.drain(2)[-2:] == ["b", "c"]
    assert harness.runner.position("c") is None


def test_rq_a_queued_job_survives_the_broker_being_killed_and_restarted(redis_server):
    """redis-server runs with appendonly yes / appendfsync always: SIGKILL loses no acknowledged enqueue."""
    harness = RqHarness(redis_server.url)
    harness.submit("before-the-crash")
    redis_server.restart(kill=True)
    harness.runner.shutdown()  # a fresh connection, as a restarted API process would have
    assert harness.drain(1) == ["before-the-crash"]


def test_rq_an_unreachable_broker_queues_nothing_and_says_so():
    from churn.errors import JobQueueUnavailableError

    runner = RqJobRunner("redis://:secret@127.0.0.1:1/0", queue="churn-test", task="tests.support.rq_tasks.record")
    with pytest.raises(JobQueueUnavailableError) as raised:
        runner.submit("lost", lambda: None)
    assert "127.0.0.1:1" in raised.value.message and "secret" not in raised.value.message
    assert runner.position("lost") is None


def test_rq_every_replica_reads_the_same_queue_positions(redis_server):
    harness = RqHarness(redis_server.url)
    other_replica = RqJobRunner(redis_server.url, queue=harness.queue, task="tests.support.rq_tasks.record")
    for job_id in ("first", "second"):
        harness.submit(job_id)
    assert [other_replica.position(j) for j in ("first", "second")] == [1, 2]
    harness.drain(2)
    assert other_replica.position("second") is None
    other_replica.shutdown()


def test_a_scoring_chunk_task_goes_through_with_its_run_and_index(harness):
    """A chunk's task id (what the scoring runner is given) is one the engine takes, and comes back whole."""
    from churn.ids import fresh_id
    from churn.scoring_chunks import parse_task_id, task_id

    run_id = fresh_id()
    for index in (0, 12):
        harness.submit(task_id(run_id, index))
    assert [parse_task_id(ran) for ran in harness.drain(2)] == [(run_id, 0), (run_id, 12)]
