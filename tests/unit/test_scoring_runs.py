"""Scoring runs on the in-memory adapters: every customer once, skips counted, resume without doubles."""

from __future__ import annotations

from concurrent.futures import Future

import pytest

from adapters.memory import DeferredJobRunner, InMemoryPredictionRepository, InMemoryScoringRunStore
from churn.errors import NoActiveModelError, ScoringRunNotResumableError, StoreUnavailableError
from churn.bands import ProbabilityRange
from churn.customers import Customer
from churn.paging import PageRequest
from churn.versions import ModelFilter
from churn.scoring_runs import CustomerFilter, RunStatus
from churn.use_cases.get_scoring_run import GetScoringRun
from churn.use_cases.resume_scoring_run import ResumeScoringRun
from churn.use_cases.score_customer_base import ScoreCustomerBase
from churn.use_cases.start_scoring_run import StartScoringRun
from tests.unit.conftest import LEASE, OWNER, make_service

ALL = ProbabilityRange(0.0, 1.0)


class Runs:
    def __init__(self, service, batch=3):
        self.service = service
        self.store = InMemoryScoringRunStore()
        self.runner = DeferredJobRunner()
        self.score = ScoreCustomerBase(service.versions, service.customers, service.predictions, self.store, service.clock, batch=batch)
        self.start = StartScoringRun(service.versions, service.customers, self.store, self.runner, self.score, service.clock, owner=OWNER)
        self.get = GetScoringRun(self.store, service.clock, LEASE)
        self.resume = ResumeScoringRun(self.store, self.runner, self.score, service.clock, LEASE, owner=OWNER)


@pytest.fixture
def runs():
    service = make_service()
    service.trained(base=0.3)
    service.trainer.per_unit = 0.0
    customers = [Customer(f"c{i:02d}", {"tenure": float(i), "plan": "basic"}) for i in range(10)]
    customers.append(Customer("c99", {"plan": "premium"}))  # no tenure: skipped
    service.customers.upsert_many(customers)
    return Runs(service)


def latest_ids(service):
    return sorted(p.customer_id for p in service.predictions.latest_in_range(ALL, None, PageRequest(limit=1000)).items)


def test_a_run_scores_every_stored_customer_once_and_counts_the_skipped(runs):
    run = runs.start.execute(None, None)
    assert run.status is RunStatus.QUEUED and run.total == 11
    runs.runner.run_all()
    run, interrupted = runs.get.execute(run.run_id)
    assert run.status is RunStatus.SUCCEEDED and not interrupted
    assert (run.scored, run.skipped, run.done) == (10, 1, 11)
    assert run.skip_reasons == {"tenure: missing": 1}
    assert latest_ids(runs.service) == [f"c{i:02d}" for i in range(10)]
    assert runs.service.predictions.count_of_run(run.run_id) == 10
    stored = runs.service.predictions.for_customer("c03", PageRequest()).items
    assert [p.run_id for p in stored] == [run.run_id]


def test_a_filter_scores_only_the_matching_customers(runs):
    run = runs.start.execute(None, CustomerFilter((), {"plan": "basic", "tenure": 3}))
    runs.runner.run_all()
    run = runs.store.get(run.run_id)
    assert (run.scored, run.excluded, run.total) == (1, 10, 11)
    assert latest_ids(runs.service) == ["c03"]


class _CountingCustomers:
    """The service's customers, counting the batches of the whole base a run asks for."""

    def __init__(self, inner):
        self._inner = inner
        self.scans = 0

    def batch_after(self, customer_id, limit):
        self.scans += 1
        return self._inner.batch_after(customer_id, limit)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_a_filter_of_ids_looks_them_up_without_walking_the_base_and_counts_ids_not_stored(runs):
    counting = _CountingCustomers(runs.service.customers)
    score = ScoreCustomerBase(runs.service.versions, counting, runs.service.predictions, runs.store, runs.service.clock, batch=2)
    start = StartScoringRun(runs.service.versions, counting, runs.store, runs.runner, score, runs.service.clock, owner=OWNER)
    run = start.execute(None, CustomerFilter(("c03", "c01", "nobody", "c02", "c99", "c01")))
    assert run.total == 5  # the distinct ids named, not the base
    runs.runner.run_all()
    run = runs.store.get(run.run_id)
    assert (run.status, run.scored, run.skipped, run.excluded, run.done) == (RunStatus.SUCCEEDED, 3, 2, 0, 5)
    assert run.skip_reasons == {"tenure: missing": 1, "not a stored customer": 1}
    assert latest_ids(runs.service) == ["c01", "c02", "c03"] and counting.scans == 0
    both = start.execute(None, CustomerFilter(("c04", "c05"), {"tenure": 4.0}))
    runs.runner.run_all()
    both = runs.store.get(both.run_id)
    assert (both.scored, both.excluded, both.total) == (1, 1, 2)


def test_a_run_without_an_active_model_is_refused_before_anything_is_stored():
    service = make_service()
    runs = Runs(service)
    with pytest.raises(NoActiveModelError):
        runs.start.execute(None, None)
    assert runs.store.list(10) == []


def test_an_interrupted_run_resumes_after_its_last_stored_customer_with_no_customer_twice(runs):
    run = runs.start.execute(ModelFilter.parse("churn-logistic_regression:1"), None)
    original_save = runs.store.save
    saves = {"n": 0}

    def crash_after_second_batch(r):
        saves["n"] += 1
        if r.status is RunStatus.RUNNING and r.scored >= 6:  # the predictions of batch 2 are stored, its progress is not
            raise SystemExit("process killed")
        original_save(r)

    runs.store.save = crash_after_second_batch
    with pytest.raises(SystemExit):
        runs.runner.run_next()
    runs.store.save = original_save
    with pytest.raises(ScoringRunNotResumableError):
        runs.resume.execute(run.run_id)  # still within its lease: maybe alive elsewhere
    runs.service.clock.advance(LEASE.total_seconds() + 1)
    assert runs.get.execute(run.run_id)[1] is True
    runs.resume.execute(run.run_id)
    runs.runner.run_all()
    run = runs.store.get(run.run_id)
    assert run.status is RunStatus.SUCCEEDED and run.scored == 10
    assert runs.service.predictions.count_of_run(run.run_id) == 10
    assert all(runs.service.predictions.for_customer(f"c{i:02d}", PageRequest()).total == 1 for i in range(10))
    with pytest.raises(ScoringRunNotResumableError):
        runs.resume.execute(run.run_id)


class _SecondWriteFails(InMemoryPredictionRepository):
    """A store whose second batch write fails (a disk full, say), once."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def submit_batch(self, batch, after=None):
        self.writes += 1
        if self.writes == 2:
            failed: Future[None] = Future()
            failed.set_exception(StoreUnavailableError("disk I/O error"))
            return failed
        return super().submit_batch(batch, after)


def test_a_failed_batch_write_fails_the_run_with_nothing_after_it_stored_and_a_resume_scores_the_rest_once(runs):
    predictions = _SecondWriteFails()
    service = runs.service
    score = ScoreCustomerBase(service.versions, service.customers, predictions, runs.store, service.clock, batch=3)
    run = runs.start.execute(None, None)
    run = score.execute(run.run_id)
    assert run.status is RunStatus.FAILED and "disk I/O error" in run.error
    stored = sorted(p.customer_id for p in predictions.latest_in_range(ALL, None, PageRequest(limit=1000)).items)
    assert stored == ["c00", "c01", "c02"]  # the first batch; the one prepared while the second was written was never submitted
    resumed = runs.resume.execute(run.run_id)  # claimed for a worker; run here with the same store
    assert resumed.status is RunStatus.QUEUED
    run = score.execute(run.run_id)
    assert run.status is RunStatus.SUCCEEDED and predictions.count_of_run(run.run_id) == 10
    assert all(predictions.for_customer(f"c{i:02d}", PageRequest()).total == 1 for i in range(10))


def test_progress_reports_rate_and_eta(runs):
    seen = []
    run = runs.start.execute(None, None, background=False)
    runs.score.execute(run.run_id, progress=seen.append)
    assert [r.done for r in seen] == [3, 6, 9, 11, 11]
    assert seen[-1].eta_seconds == 0.0
