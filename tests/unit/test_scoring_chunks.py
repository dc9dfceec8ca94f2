"""A scoring run cut into chunks for a job engine's workers, on the in-memory adapters: each customer
once per run whichever worker takes which chunk, a killed worker's chunk taken over where the store
says it got to, a worker that lost its chunk writing nothing."""

from __future__ import annotations

import pytest

from adapters.memory import DeferredJobRunner, InMemoryScoringRunStore
from churn.customers import Customer
from churn.errors import StoreUnavailableError
from churn.paging import PageRequest
from churn.scoring_chunks import parse_task_id, task_id
from churn.scoring_runs import CustomerFilter, RunStatus
from churn.use_cases.resume_scoring_run import ResumeScoringRun
from churn.use_cases.score_customer_base import ScoreCustomerBase
from churn.use_cases.score_run_chunk import ScoreRunChunk
from churn.use_cases.start_scoring_run import StartScoringRun
from tests.unit.conftest import LEASE, OWNER, make_service

IDS = [f"c{i:02d}" for i in range(10)]


class ChunkedRuns:
    def __init__(self, service, customers=None, chunk_size=4, batch=2, queue=None):
        customers = customers or service.customers
        self.service = service
        self.store = InMemoryScoringRunStore()
        self.runner = DeferredJobRunner()
        score = ScoreCustomerBase(service.versions, customers, service.predictions, self.store, service.clock, batch=batch)
        self.chunk = ScoreRunChunk(service.versions, customers, service.predictions, self.store, service.clock, LEASE, batch=batch)
        self.start = StartScoringRun(
            service.versions, customers, self.store, queue or self.runner, score, service.clock, owner=OWNER, score_chunk=self.chunk, chunk_size=chunk_size
        )
        self.resume = ResumeScoringRun(self.store, self.runner, score, service.clock, LEASE, owner=OWNER, score_chunk=self.chunk)

    def each_scored_once(self, run_id: str) -> bool:
        return self.service.predictions.count_of_run(run_id) == 10 and all(
            [p.run_id for p in self.service.predictions.for_customer(i, PageRequest()).items] == [run_id] for i in IDS
        )


@pytest.fixture
def service():
    service = make_service()
    service.trained(base=0.3)
    service.customers.upsert_many([Customer(i, {"tenure": float(n), "plan": "basic"}) for n, i in enumerate(IDS)] + [Customer("c99", {"plan": "premium"})])
    return service


@pytest.fixture
def runs(service):
    return ChunkedRuns(service)


def test_a_run_is_cut_every_chunk_size_customers_and_each_chunk_is_a_task_of_its_own(runs):
    run = runs.start.execute(None, None)
    assert [(c.after, c.upto) for c in run.chunks] == [(None, "c03"), ("c03", "c07"), ("c07", None)]
    assert [parse_task_id(queued) for queued, _ in runs.runner._queue] == [(run.run_id, 0), (run.run_id, 1), (run.run_id, 2)]
    runs.runner.run_all()
    run = runs.store.get(run.run_id)
    assert (run.status, run.scored, run.skipped, run.done, run.total) == (RunStatus.SUCCEEDED, 10, 1, 11, 11)
    assert [c.status for c in run.chunks] == [RunStatus.SUCCEEDED] * 3 and run.workers == {OWNER: 11}
    assert run.skip_reasons == {"tenure: missing": 1} and runs.each_scored_once(run.run_id)


def test_the_last_page_ending_with_the_last_customer_leaves_no_empty_chunk_after_it(service):
    assert len(ChunkedRuns(service, chunk_size=11).start.execute(None, None).chunks) == 1
    assert len(ChunkedRuns(service, chunk_size=1000).start.execute(None, None).chunks) == 1
    filtered = ChunkedRuns(service, chunk_size=2).start.execute(None, CustomerFilter(("c05", "c01", "c02", "nobody", "c09")))
    assert [(c.after, c.upto) for c in filtered.chunks] == [(None, "c02"), ("c02", "c09"), ("c09", None)]


def test_a_run_is_cut_into_at_most_max_chunks_pages(service, monkeypatch):
    from churn.use_cases import start_scoring_run

    monkeypatch.setattr(start_scoring_run, "MAX_CHUNKS", 2)
    assert [(c.after, c.upto) for c in ChunkedRuns(service, chunk_size=1).start.execute(None, None).chunks] == [(None, "c05"), ("c05", None)]


def test_without_a_chunk_size_a_run_is_one_task_in_one_sequence_as_on_one_machine(service):
    runs = ChunkedRuns(service, chunk_size=None)
    run = runs.start.execute(None, None)
    assert run.chunks == () and [queued for queued, _ in runs.runner._queue] == [run.run_id]
    runs.runner.run_all()
    assert runs.store.get(run.run_id).scored == 10 and runs.each_scored_once(run.run_id)


def test_two_workers_taking_chunks_in_turn_score_each_customer_once_and_a_task_delivered_twice_does_nothing(runs):
    run = runs.start.execute(None, None)
    runs.chunk.execute(run.run_id, 0, "worker-1")
    runs.chunk.execute(run.run_id, 1, "worker-2")
    runs.chunk.execute(run.run_id, 0, "worker-2")  # delivered again: the chunk is finished
    done = runs.chunk.execute(run.run_id, 2, "worker-1")
    assert done.status is RunStatus.SUCCEEDED and done.workers == {"worker-1": 7, "worker-2": 4}
    assert [(c.owner, c.attempt) for c in done.chunks] == [("worker-1", 1), ("worker-2", 1), ("worker-1", 1)]
    assert runs.each_scored_once(run.run_id)


def test_a_worker_killed_between_its_write_and_its_report_leaves_the_chunk_to_another_with_no_customer_twice(runs):
    run = runs.start.execute(None, None)
    claim = runs.store.claim

    def killed_at_first_report(changed, expected):
        if changed.chunks[0].owner == "worker-1" and changed.chunks[0].last_customer_id is not None:
            raise SystemExit("worker killed")  # c00 and c01 are stored; the chunk's record says nothing of them
        return claim(changed, expected)

    runs.store.claim = killed_at_first_report
    with pytest.raises(SystemExit):
        runs.chunk.execute(run.run_id, 0, "worker-1")
    runs.store.claim = claim
    alive = runs.chunk.execute(run.run_id, 1, "worker-2")  # within the lease worker-1 may be alive: chunk 0 is left to it
    assert alive.status is RunStatus.RUNNING and alive.chunks[0].owner == "worker-1"
    runs.service.clock.advance(LEASE.total_seconds() + 1)
    done = runs.chunk.execute(run.run_id, 2, "worker-2")  # then its chunk, and the one whose worker stopped
    assert done.status is RunStatus.SUCCEEDED and (done.chunks[0].owner, done.chunks[0].attempt) == ("worker-2", 2)
    assert (done.scored, done.skipped) == (10, 1) and runs.each_scored_once(run.run_id)


class _AwayOnce:
    """The customers, with one worker away (stopped past its lease) on its first batch while another
    takes its chunk over."""

    def __init__(self, inner, while_away):
        self._inner = inner
        self._while_away = while_away

    def batch_after(self, customer_id, limit):
        if self._while_away is not None:
            away, self._while_away = self._while_away, None
            away()
        return self._inner.batch_after(customer_id, limit)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_worker_that_lost_its_chunk_while_away_writes_nothing_more(service):
    def taken_over():
        service.clock.advance(LEASE.total_seconds() + 1)
        runs.chunk.execute(run.run_id, 0, "worker-2")

    runs = ChunkedRuns(service, customers=_AwayOnce(service.customers, taken_over))
    run = runs.start.execute(None, None)
    left = runs.chunk.execute(run.run_id, 0, "worker-1")
    assert (left.chunks[0].owner, left.chunks[0].attempt, left.chunks[0].status) == ("worker-2", 2, RunStatus.SUCCEEDED)
    assert "worker-1" not in left.workers and left.chunks[0].scored == 4
    runs.runner.run_all()
    assert runs.store.get(run.run_id).status is RunStatus.SUCCEEDED and runs.each_scored_once(run.run_id)


class _FailingChunk:
    def __init__(self, inner, after):
        self._inner = inner
        self._after = after

    def batch_after(self, customer_id, limit):
        if customer_id == self._after and self._after is not None:
            self._after = None
            raise StoreUnavailableError("store unreachable")
        return self._inner.batch_after(customer_id, limit)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_failing_chunk_fails_the_run_and_a_resume_queues_only_the_unfinished_chunks(service):
    runs = ChunkedRuns(service, customers=_FailingChunk(service.customers, "c05"))
    run = runs.start.execute(None, None)
    runs.runner.run_next()
    runs.runner.run_next()
    failed = runs.store.get(run.run_id)
    assert (failed.status, failed.error) == (RunStatus.FAILED, "store unreachable")
    assert [c.status for c in failed.chunks] == [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.QUEUED]
    runs.runner.run_all()  # chunk 2's task finds the run failed and leaves it
    assert runs.store.get(run.run_id).chunks[2].status is RunStatus.QUEUED
    resumed = runs.resume.execute(run.run_id)
    assert resumed.status is RunStatus.QUEUED
    assert [queued for queued, _ in runs.runner._queue] == [task_id(run.run_id, 1), task_id(run.run_id, 2)]
    runs.runner.run_all()
    done = runs.store.get(run.run_id)
    assert done.status is RunStatus.SUCCEEDED and done.error is None and runs.each_scored_once(run.run_id)


def test_progress_of_a_run_in_chunks_counts_rate_over_the_wall_clock(runs):
    run = runs.start.execute(None, None)
    runs.service.clock.advance(2)
    runs.chunk.execute(run.run_id, 0, "worker-1")
    midway = runs.store.get(run.run_id)
    assert midway.done == 4 and midway.total == 11 and midway.eta_seconds is not None
    runs.runner.run_all()
    done = runs.store.get(run.run_id)
    assert done.eta_seconds == 0.0 and done.done == 11


class _UnreachableQueue(DeferredJobRunner):
    def submit(self, job_id, work):
        from churn.errors import JobQueueUnavailableError

        raise JobQueueUnavailableError("job queue unreachable (redis://queue:6379/0)")


def test_a_run_the_queue_could_not_take_is_kept_failed_with_the_reason_and_can_be_resumed(service):
    from churn.errors import JobQueueUnavailableError

    runs = ChunkedRuns(service, queue=_UnreachableQueue())  # the queue is back for the resume
    with pytest.raises(JobQueueUnavailableError):
        runs.start.execute(None, None)
    (run,) = runs.store.list(10)
    assert (run.status, run.error) == (RunStatus.FAILED, "job queue unreachable (redis://queue:6379/0)")
    runs.resume.execute(run.run_id)
    runs.runner.run_all()
    assert runs.store.get(run.run_id).status is RunStatus.SUCCEEDED and runs.each_scored_once(run.run_id)


def test_a_resume_leaves_a_chunk_a_live_worker_holds_to_it(runs):
    run = runs.start.execute(None, None)
    runs.runner.shutdown()  # the first tasks are not needed here: the workers below act on the store
    now = runs.service.clock.now()

    def record(change):
        read = runs.store.get(run.run_id)
        assert runs.store.claim(change(read), expected=read)

    record(lambda r: r.chunk_claimed(0, "worker-1", now, LEASE, 0, None))  # worker-1 is alive, part way through
    record(lambda r: r.chunk_claimed(1, "worker-2", now, LEASE, 0, None))
    record(lambda r: r.chunk_ended(1, "worker-2", 1, now, "store unreachable"))  # which fails the run
    resumed = runs.resume.execute(run.run_id)
    assert [(c.status, c.owner) for c in resumed.chunks] == [(RunStatus.RUNNING, "worker-1"), (RunStatus.QUEUED, "worker-2"), (RunStatus.QUEUED, None)]
    assert [queued for queued, _ in runs.runner._queue] == [task_id(run.run_id, 1), task_id(run.run_id, 2)]
    runs.runner.run_all()
    assert runs.store.get(run.run_id).status is RunStatus.RUNNING  # chunk 0 is still worker-1's
    runs.service.clock.advance(LEASE.total_seconds() + 1)  # ... until it stops beating
    done = runs.chunk.execute(run.run_id, 0, "worker-3")
    assert done.status is RunStatus.SUCCEEDED and runs.each_scored_once(run.run_id)


class _NoVersion:
    def get(self, wanted):
        from churn.errors import ModelNotFoundError

        raise ModelNotFoundError("model version churn-logistic_regression:1 not found")


def test_a_run_whose_version_cannot_be_had_fails_with_the_reason(service):
    runs = ChunkedRuns(service)
    run = runs.start.execute(None, None)
    broken = ScoreRunChunk(_NoVersion(), service.customers, service.predictions, runs.store, service.clock, LEASE, batch=2)
    ended = broken.execute(run.run_id, 0, "worker-1")
    assert (ended.status, ended.error) == (RunStatus.FAILED, "model version churn-logistic_regression:1 not found")
    assert service.predictions.count_of_run(run.run_id) == 0
