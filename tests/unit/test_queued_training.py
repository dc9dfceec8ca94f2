"""Trainings queued on a broker and run by a worker process (RunQueuedTraining), on the fakes."""

from dataclasses import replace

import pytest

from churn.errors import JobQueueUnavailableError
from churn.training_jobs import INTERRUPTED, JobStatus
from churn.ports import JobRunner
from churn.use_cases.recover_interrupted_jobs import KeepJobsAlive
from churn.use_cases.run_queued_training import RunQueuedTraining
from adapters.memory import DeferredJobRunner
from tests.unit.conftest import CSV, make_service

QUEUE_OWNER = "queue:churn-training"


class UnreachableBroker(JobRunner):
    def submit(self, job_id, work):
        raise JobQueueUnavailableError("job queue unreachable (redis://broker:6379/0): Connection refused")

    def position(self, job_id):
        return None

    def shutdown(self, timeout=1.0):
        pass


def queued_on_broker(service):
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    service.start_training._owner = QUEUE_OWNER  # what the container gives StartTraining with CHURN_JOB_RUNNER=rq
    return service.start_training.execute("toy", "knn")


def test_a_worker_takes_the_job_as_its_own_then_trains_it():
    service = make_service(runner=DeferredJobRunner())
    job = queued_on_broker(service)
    done = RunQueuedTraining(service.jobs, service.train_model, service.clock, owner="worker-1").execute(job.job_id)
    assert done.status is JobStatus.SUCCEEDED and done.owner == "worker-1"
    assert [r.ref for r in service.records.list()] == [done.model]


def test_a_job_no_longer_queued_is_not_trained_again():
    service = make_service(runner=DeferredJobRunner())
    job = queued_on_broker(service)
    worker = RunQueuedTraining(service.jobs, service.train_model, service.clock, owner="worker-1")
    first = worker.execute(job.job_id)
    assert worker.execute(job.job_id) == first
    assert len(service.records.list()) == 1


def test_a_killed_worker_leaves_its_job_failed_as_interrupted_while_the_queue_keeps_waiting_jobs_alive():
    service = make_service(runner=DeferredJobRunner())
    taken = queued_on_broker(service)
    waiting = service.start_training.execute("toy", "knn")
    # the worker claimed `taken` and died before training it (its heartbeats stop); the API processes
    # go on beating for the jobs still waiting in the broker's queue
    worker = RunQueuedTraining(service.jobs, service.train_model, service.clock, owner="worker-1")
    service.jobs.save(replace(service.jobs.get(taken.job_id), owner="worker-1").started(service.clock.now()))
    queue_alive = KeepJobsAlive(service.jobs, service.clock, owner=QUEUE_OWNER)
    service.clock.advance(61)
    assert queue_alive.execute() == 1
    assert service.recover.execute() == [taken.job_id]
    assert (service.jobs.get(taken.job_id).status, service.jobs.get(taken.job_id).error) == (JobStatus.FAILED, INTERRUPTED)
    assert service.jobs.get(waiting.job_id).status is JobStatus.QUEUED
    assert worker.execute(taken.job_id).status is JobStatus.FAILED  # a late redelivery trains nothing
    assert service.records.list() == []


def test_a_training_the_broker_cannot_take_ends_failed_with_the_reason():
    service = make_service(runner=UnreachableBroker())
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    with pytest.raises(JobQueueUnavailableError):
        service.start_training.execute("toy", "knn")
    (job,) = service.jobs._jobs.values()  # the fake's contents: the job was stored, then failed
    assert job.status is JobStatus.FAILED and "job queue unreachable" in job.error
    assert service.jobs.unfinished() == []


def test_a_training_failed_by_another_process_while_it_ran_registers_nothing():
    """A worker starved past its lease: another process failed the job as interrupted; the worker's
    late result is dropped rather than registered behind a job the store reports failed."""
    service = make_service(runner=DeferredJobRunner())
    job = queued_on_broker(service)
    fit = service.trainer.train

    def fit_while_the_lease_runs_out(*args, **kwargs):
        trained = fit(*args, **kwargs)
        service.clock.advance(61)
        assert service.recover.execute() == [job.job_id]
        return trained

    service.trainer.train = fit_while_the_lease_runs_out
    done = RunQueuedTraining(service.jobs, service.train_model, service.clock, owner="worker-1").execute(job.job_id)
    assert (done.status, done.error) == (JobStatus.FAILED, INTERRUPTED)
    assert service.records.list() == [] and service.registry.active() is None
