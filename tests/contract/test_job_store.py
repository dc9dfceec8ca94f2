"""JobStore contract, for every adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import JobNotFoundError
from churn.model import ModelRef, TrainingJob

T0 = datetime(2026, 3, 1, 12, 0, 0, 250001, tzinfo=timezone.utc)


def job(job_id: str = "job-1", created_at: datetime = T0) -> TrainingJob:
    return TrainingJob(
        job_id=job_id,
        dataset="telco",
        model_type="gradient_boosting",
        hyperparameters={"n_estimators": 200, "learning_rate": 0.05, "max_depth": None, "class_weight": "balanced"},
        model_name="churn-gb",
        activate=True,
        created_at=created_at,
    )


@pytest.fixture
def store(backend):
    return backend.jobs()


def test_saved_queued_job_comes_back_equal(store):
    store.save(job())
    got = store.get("job-1")
    assert got == job()
    assert got.created_at.utcoffset() == timedelta(0)


def test_saving_again_replaces_the_job(store):
    queued = job()
    store.save(queued)
    running = queued.started(T0 + timedelta(seconds=1, microseconds=7))
    store.save(running)
    assert store.get("job-1") == running
    done = running.succeeded(ModelRef("churn-gb", 3), {"roc_auc": 0.8412345678901234, "f1": 1 / 3}, T0 + timedelta(minutes=2))
    store.save(done)
    got = store.get("job-1")
    assert got == done
    assert got.model == ModelRef("churn-gb", 3)
    assert got.metrics["f1"] == 1 / 3
    assert got.finished_at == T0 + timedelta(minutes=2)


def test_failed_job_keeps_its_error(store):
    failed = job().started(T0).failed("the target column has a single class", T0 + timedelta(seconds=3))
    store.save(failed)
    assert store.get("job-1") == failed


def test_unknown_job_is_not_found(store):
    with pytest.raises(JobNotFoundError):
        store.get("nope")


def test_unfinished_lists_queued_and_running_oldest_first(store):
    store.save(job("b-queued", T0 + timedelta(seconds=2)))
    store.save(job("a-running", T0 + timedelta(seconds=2)).started(T0 + timedelta(seconds=3)))
    store.save(job("oldest", T0))
    store.save(job("done", T0 - timedelta(days=1)).started(T0).succeeded(ModelRef("churn-gb", 1), {"roc_auc": 0.8}, T0))
    store.save(job("broken", T0 - timedelta(days=1)).started(T0).failed("boom", T0))
    assert [j.job_id for j in store.unfinished()] == ["oldest", "a-running", "b-queued"]


def test_finishing_a_job_removes_it_from_unfinished(store):
    store.save(job())
    store.save(job().started(T0).failed("interrupted", T0 + timedelta(seconds=1)))
    assert store.unfinished() == []


def test_unfinished_is_empty_at_first(store):
    assert store.unfinished() == []


def test_jobs_survive_a_restart(backend):
    running = job().started(T0 + timedelta(seconds=1))
    backend.jobs().save(running)
    reopened = backend.restarted().jobs()
    assert reopened.get("job-1") == running
    assert reopened.unfinished() == [running]
