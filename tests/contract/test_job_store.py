"""JobStore contract, for every adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import JobNotFoundError
from churn.training_jobs import INTERRUPTED, JobStatus, TrainingJob
from churn.versions import ModelRef

T0 = datetime(2026, 3, 1, 12, 0, 0, 250001, tzinfo=timezone.utc)


def job(job_id: str = "job-1", created_at: datetime = T0, owner: str | None = None) -> TrainingJob:
    return TrainingJob(
        job_id=job_id,
        dataset="telco",
        model_type="gradient_boosting",
        hyperparameters={"n_estimators": 200, "learning_rate": 0.05, "max_depth": None, "class_weight": "balanced"},
        model_name="churn-gb",
        activate=True,
        created_at=created_at,
        owner=owner,
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


# ---------------------------------------------------------------- leases: heartbeats and stale jobs


def test_owner_and_heartbeat_come_back_equal(store):
    beating = TrainingJob.new("telco", "knn", {}, "churn-knn", True, T0, owner="host-a:41:x")
    store.save(beating)
    assert store.get(beating.job_id) == beating
    assert (beating.owner, beating.heartbeat_at) == ("host-a:41:x", T0)


def test_a_heartbeat_refreshes_only_the_owners_unfinished_jobs(store):
    store.save(job("mine-queued", owner="a"))
    store.save(job("mine-running", owner="a").started(T0))
    store.save(job("mine-done", owner="a").started(T0).succeeded(ModelRef("churn-gb", 1), {}, T0))
    store.save(job("theirs", owner="b").started(T0))
    later = T0 + timedelta(minutes=5)
    assert store.heartbeat("a", later) == 2
    assert store.get("mine-queued").heartbeat_at == later
    assert store.get("mine-running").heartbeat_at == later
    assert store.get("mine-done").heartbeat_at == T0
    assert store.get("theirs").heartbeat_at == T0


def test_only_jobs_silent_for_a_whole_lease_are_interrupted(store):
    store.save(job("silent-queued", T0, owner="gone"))
    store.save(job("silent-running", T0 + timedelta(seconds=1), owner="gone").started(T0 + timedelta(seconds=2)))
    store.save(job("alive", T0, owner="here").started(T0))
    store.save(job("done", T0, owner="gone").started(T0).failed("boom", T0))
    store.heartbeat("here", T0 + timedelta(seconds=50))
    now = T0 + timedelta(seconds=60)
    assert store.interrupt_stale(T0 + timedelta(seconds=30), now) == ["silent-queued", "silent-running"]
    for job_id in ("silent-queued", "silent-running"):
        stored = store.get(job_id)
        assert (stored.status, stored.error, stored.finished_at) == (JobStatus.FAILED, INTERRUPTED, now)
    assert store.get("alive").status is JobStatus.RUNNING
    assert store.get("done").error == "boom"
    assert [j.job_id for j in store.unfinished()] == ["alive"]


def test_jobs_stored_without_a_heartbeat_go_by_their_start_then_their_creation(store):
    """As jobs saved before leases existed are."""
    store.save(replace(job("started-late", T0).started(T0 + timedelta(seconds=40)), heartbeat_at=None))
    store.save(job("never-started", T0))
    assert store.interrupt_stale(T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)) == ["never-started"]


def test_interrupting_nothing_changes_nothing(store):
    store.save(job("fresh", T0, owner="a"))
    assert store.interrupt_stale(T0, T0 + timedelta(seconds=1)) == []
    assert store.get("fresh").status is JobStatus.QUEUED
