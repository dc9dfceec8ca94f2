"""Use cases assembled on the in-memory adapters: the 'high gear' of the test pyramid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.pandas_reader import PandasTableReader
from adapters.memory import (
    DeferredJobRunner,
    FakeClock,
    InlineJobRunner,
    InMemoryCustomerRepository,
    InMemoryDatasetStore,
    InMemoryJobStore,
    InMemoryModelRecordRepository,
    InMemoryPredictionRepository,
)
from adapters.memory_registry import InMemoryModelRegistry
from adapters.model_cache import LruModelCache
from churn.services.active_model import ActiveModel
from churn.use_cases.customers import ImportCustomers
from churn.use_cases.get_training_job import GetTrainingJob
from churn.use_cases.list_models import ListModels
from churn.use_cases.list_predictions import CountPredictionsByBand, ListCustomerPredictions, ListPredictionsByBand
from churn.services.model_versions import ModelVersions
from churn.use_cases.predict_churn import PredictBatch, PredictChurn
from churn.use_cases.predict_stored_customer import PredictStoredCustomer
from churn.use_cases.recover_interrupted_jobs import KeepJobsAlive, RecoverInterruptedJobs
from churn.use_cases.register_dataset import RegisterDataset
from churn.use_cases.start_training import StartTraining
from churn.use_cases.train_model import TrainModel
from churn.use_cases.use_model import GetActiveModel, UseModel
from tests.fakes import FakeTrainer

OWNER = "this-process"
LEASE = timedelta(seconds=60)

def toy_csv(rows: int = 120) -> bytes:
    """Customers with a tenure and a plan, every other one churned: enough for a hold-out with 10 of each class."""
    lines = ["customer,tenure,plan,Churn"]
    for i in range(rows):
        churned = i % 2 == 0
        tenure = "" if i == 4 else str(1 + i % 7 if churned else 30 + i % 40)
        lines.append(f"c{i + 1},{tenure},{'basic' if churned else 'premium'},{'Yes' if churned else 'No'}")
    return ("\n".join(lines) + "\n").encode()


CSV = toy_csv()


@dataclass
class Service:
    clock: FakeClock
    datasets: InMemoryDatasetStore
    jobs: InMemoryJobStore
    records: InMemoryModelRecordRepository
    customers: InMemoryCustomerRepository
    predictions: InMemoryPredictionRepository
    registry: InMemoryModelRegistry
    cache: LruModelCache
    trainer: FakeTrainer
    runner: InlineJobRunner | DeferredJobRunner
    active: ActiveModel

    def __post_init__(self) -> None:
        self.reader = PandasTableReader()
        self.register_dataset = RegisterDataset(self.datasets, self.reader, self.clock)
        self.train_model = TrainModel(self.datasets, self.jobs, self.trainer, self.registry, self.records, self.active, self.clock)
        self.start_training = StartTraining(self.datasets, self.jobs, self.runner, self.train_model, self.clock, owner=OWNER)
        self.get_job = GetTrainingJob(self.jobs, self.runner)
        self.recover = RecoverInterruptedJobs(self.jobs, self.clock, lease=LEASE)
        self.keep_alive = KeepJobsAlive(self.jobs, self.clock, owner=OWNER)
        self.list_models = ListModels(self.records, self.active, self.cache)
        self.use_model = UseModel(self.records, self.registry, self.cache, self.active)
        self.get_active = GetActiveModel(self.records, self.active, self.cache)
        self.versions = ModelVersions(self.active, self.records, self.registry, self.cache)
        self.predict = PredictChurn(self.versions, self.predictions, self.clock)
        self.predict_batch = PredictBatch(self.versions, self.predictions, self.clock)
        self.predict_customer = PredictStoredCustomer(self.customers, self.active, self.predict)
        self.import_customers = ImportCustomers(self.customers, self.reader)
        self.customer_history = ListCustomerPredictions(self.customers, self.predictions)
        self.by_band = ListPredictionsByBand(self.predictions)
        self.band_counts = CountPredictionsByBand(self.predictions)

    def trained(self, model_type: str = "logistic_regression", base: float = 0.5, name: str | None = None, activate: bool = True):
        """Register the toy data set if needed and train one model that scores `base`."""
        try:
            self.datasets.get("toy")
        except Exception:
            self.register_dataset.execute("toy", CSV, "Churn", "customer")
        self.trainer.base = base
        job = self.start_training.execute("toy", model_type, {}, name, activate)
        return self.jobs.get(job.job_id)


def make_service(runner=None, registry=None, clock=None, predictions=None) -> Service:
    clock = clock or FakeClock()
    registry = registry or InMemoryModelRegistry()
    cache = LruModelCache(capacity=2)
    return Service(
        clock=clock,
        datasets=InMemoryDatasetStore(),
        jobs=InMemoryJobStore(),
        records=InMemoryModelRecordRepository(),
        customers=InMemoryCustomerRepository(),
        predictions=predictions or InMemoryPredictionRepository(),
        registry=registry,
        cache=cache,
        trainer=FakeTrainer(),
        runner=runner or InlineJobRunner(),
        active=ActiveModel(registry, cache, clock, refresh_seconds=5.0),
    )


@pytest.fixture
def service() -> Service:
    return make_service()
