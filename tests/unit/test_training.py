import pytest

from adapters.memory import DeferredJobRunner
from churn.errors import DatasetExistsError, DatasetNotFoundError, InvalidHyperparametersError, UnknownModelTypeError
from churn.training_jobs import INTERRUPTED, JobStatus
from churn.versions import ModelRef
from tests.unit.conftest import CSV, OWNER, make_service


def test_registering_a_taken_name_is_refused_and_keeps_the_first(service):
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    with pytest.raises(DatasetExistsError):
        service.register_dataset.execute("toy", b"a,Churn\n1,Yes\n", "Churn")
    assert service.datasets.content("toy") == CSV


def test_training_registers_a_new_version_records_it_and_activates_it(service):
    job = service.trained()
    assert job.status is JobStatus.SUCCEEDED
    assert job.model == ModelRef("churn-logistic_regression", 1)
    assert service.records.get(job.model).summary.dataset == "toy"
    assert service.registry.active() == job.model
    assert service.get_active.execute().record.ref == job.model


def test_each_training_of_a_name_is_the_next_version(service):
    service.trained()
    assert service.trained().model == ModelRef("churn-logistic_regression", 2)
    assert [e.record.ref.version for e in service.list_models.execute()] == [2, 1]


def test_training_without_activate_leaves_the_active_model_alone(service):
    first = service.trained()
    second = service.trained(activate=False)
    entries = {e.record.ref: e.active for e in service.list_models.execute()}
    assert entries == {first.model: True, second.model: False}


def test_a_failed_training_records_the_reason_and_registers_nothing(service):
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    service.trainer.fail_with = "a feature column is entirely blank"
    job = service.start_training.execute("toy", "random_forest")
    stored = service.jobs.get(job.job_id)
    assert (stored.status, stored.error) == (JobStatus.FAILED, "a feature column is entirely blank")
    assert service.registry.records() == [] and service.registry.active() is None


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"dataset": "toy", "model_type": "xgboost"}, UnknownModelTypeError),
        ({"dataset": "toy", "model_type": "knn", "hyperparameters": {"n_neighbors": 0}}, InvalidHyperparametersError),
        ({"dataset": "missing", "model_type": "knn"}, DatasetNotFoundError),
    ],
)
def test_bad_training_requests_queue_nothing(service, kwargs, error):
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    with pytest.raises(error):
        service.start_training.execute(**kwargs)
    assert service.jobs.unfinished() == [] and service.runner.ran == []


def test_queued_jobs_report_their_place_until_they_run():
    service = make_service(runner=DeferredJobRunner())
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    first = service.start_training.execute("toy", "knn")
    second = service.start_training.execute("toy", "knn")
    assert service.get_job.execute(second.job_id) == (second, 2)
    service.runner.run_next()
    assert service.get_job.execute(first.job_id)[0].status is JobStatus.SUCCEEDED
    assert service.get_job.execute(second.job_id)[1] == 1


def test_jobs_of_a_process_that_stopped_are_failed_as_interrupted_once_silent_for_a_lease():
    service = make_service(runner=DeferredJobRunner())
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    job = service.start_training.execute("toy", "knn")
    service.jobs.save(service.jobs.get(job.job_id).started(service.clock.now()))
    service.clock.advance(59)
    assert service.recover.execute() == []
    service.clock.advance(2)  # the process stopped beating: a whole lease without a sign of life
    assert service.recover.execute() == [job.job_id]
    stored = service.jobs.get(job.job_id)
    assert (stored.status, stored.error) == (JobStatus.FAILED, INTERRUPTED)
    assert service.registry.active() is None


def test_a_live_process_keeps_its_jobs_however_long_they_wait_or_run():
    """Another process recovering on the same store (a CLI command, a second server) must not fail
    this one's jobs: its heartbeats keep them alive."""
    service = make_service(runner=DeferredJobRunner())
    service.register_dataset.execute("toy", CSV, "Churn", "customer")
    queued = service.start_training.execute("toy", "knn")
    for _ in range(10):
        service.clock.advance(45)
        assert service.keep_alive.execute() == 1
        assert service.recover.execute() == []
    assert service.jobs.get(queued.job_id).owner == OWNER
    service.runner.run_next()
    assert service.jobs.get(queued.job_id).status is JobStatus.SUCCEEDED
