"""The job-lease thread's round: beat, then recover; a store outage is logged, not raised."""

import threading
from datetime import timedelta

from adapters.memory import FakeClock, InMemoryJobStore
from churn.errors import StoreUnavailableError
from churn.training_jobs import TrainingJob
from churn.use_cases.recover_interrupted_jobs import KeepJobsAlive, RecoverInterruptedJobs
from entrypoints.background import Periodic
from entrypoints.job_lease import JobLeaseKeeper


class UnreachableJobStore(InMemoryJobStore):
    def heartbeat(self, owner, now):
        raise StoreUnavailableError("store unavailable: connection refused")


def keeper(jobs, clock, owner="me"):
    return JobLeaseKeeper(KeepJobsAlive(jobs, clock, owner), RecoverInterruptedJobs(jobs, clock, timedelta(seconds=60)), 60)


def test_a_round_keeps_our_jobs_and_fails_those_of_a_stopped_process():
    clock, jobs = FakeClock(), InMemoryJobStore()
    ours = TrainingJob.new("d", "knn", {}, "churn-knn", True, clock.now(), owner="me")
    theirs = TrainingJob.new("d", "knn", {}, "churn-knn", True, clock.now(), owner="a-stopped-process")
    jobs.save(ours)
    jobs.save(theirs)
    clock.advance(61)
    assert keeper(jobs, clock).tick() == [theirs.job_id]
    assert not jobs.get(ours.job_id).status.finished


def test_a_store_outage_skips_a_round_without_raising(caplog):
    clock = FakeClock()
    assert keeper(UnreachableJobStore(), clock).tick() == []
    assert "could not renew training job leases" in caplog.text


def test_a_failing_background_round_is_logged_and_the_next_one_runs(caplog):
    rounds = []
    done = threading.Event()

    def action():
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the first round fails")
        done.set()

    periodic = Periodic("churn-test", 0.05, action)
    periodic.start()
    try:
        assert done.wait(10)
    finally:
        periodic.stop()
    assert len(rounds) >= 2 and "a background round failed" in caplog.text
