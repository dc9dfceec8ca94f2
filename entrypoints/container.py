"""The composition root: the only module that names concrete adapters.

Which adapters run is chosen by configuration (`CHURN_STORE`, `CHURN_REGISTRY`, ...), through
`providers.Selector`; nothing is built until first asked for.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Any, Mapping

from dependency_injector import containers, providers

from entrypoints.lazy import lazy

from adapters.clock import SystemClock
from adapters.job_runner import ThreadJobRunner
from adapters.memory import (
    InlineJobRunner,
    InMemoryCustomerRepository,
    InMemoryDatasetStore,
    InMemoryJobStore,
    InMemoryModelRecordRepository,
    InMemoryOutcomeRepository,
    InMemoryPredictionRepository,
    InMemoryScoringRunStore,
)
from adapters.memory_registry import InMemoryModelRegistry
from adapters.metered import CountingJobStore
from adapters.model_cache import LruModelCache
from adapters.sqlite.customers import SqliteCustomerRepository
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.datasets import SqliteDatasetStore
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.model_records import SqliteModelRecordRepository
from adapters.sqlite.predictions import SqlitePredictionRepository
from adapters.sqlite.outcomes import SqliteOutcomeRepository
from adapters.sqlite.scoring_runs import SqliteScoringRunStore
from churn.datasets import DatasetLimits
from entrypoints.background import Periodic
from entrypoints.job_lease import JobLeaseKeeper
from entrypoints.settings import apply_library_defaults
from churn.services.active_model import ActiveModel
from churn.promotion import PromotionRule
from churn.use_cases.check_readiness import CheckReadiness
from churn.use_cases.count_customers_by_band import CountCustomersByBand
from churn.use_cases.export_customers_by_risk import ExportCustomersByRisk
from churn.use_cases.list_customers_by_risk import ListCustomersByRisk
from churn.use_cases.compare_models import CompareModels
from churn.use_cases.get_model_version import GetModelVersion
from churn.use_cases.customers import GetCustomer, ImportCustomers, ListCustomers
from churn.use_cases.get_scoring_run import GetScoringRun
from churn.use_cases.measure_realised_performance import MeasureRealisedPerformance
from churn.use_cases.measure_drift import MeasureDrift
from churn.use_cases.record_outcomes import RecordOutcomes
from churn.use_cases.get_training_job import GetTrainingJob
from churn.use_cases.resume_scoring_run import ResumeScoringRun
from churn.use_cases.score_customer_base import ScoreCustomerBase
from churn.use_cases.score_run_chunk import ScoreRunChunk
from churn.use_cases.start_scoring_run import StartScoringRun
from churn.use_cases.list_datasets import ListDatasets
from churn.use_cases.list_models import ListModels, ListRecordedModels
from churn.use_cases.count_predictions_per_day import CountPredictionsPerDay
from churn.use_cases.list_running_jobs import ListRunningJobs
from churn.use_cases.list_predictions import CountPredictionsByBand, ListCustomerPredictions, ListPredictionsByBand
from churn.services.model_versions import ModelVersions
from churn.use_cases.predict_churn import PredictBatch, PredictChurn
from entrypoints.api.predict_stages import MeteredModelVersions, MeteredPredictions
from churn.use_cases.predict_stored_customer import PredictStoredCustomer
from churn.ids import fresh_id
from churn.use_cases.recover_interrupted_jobs import KeepJobsAlive, RecoverInterruptedJobs
from churn.use_cases.get_dataset import GetDataset
from churn.use_cases.preview_dataset import PreviewDataset
from churn.use_cases.register_dataset import RegisterDataset
from churn.use_cases.remove_dataset import RemoveDataset
from churn.use_cases.run_queued_training import RunQueuedTraining
from churn.use_cases.start_training import StartTraining
from churn.use_cases.sync_model_records import SyncModelRecords
from churn.use_cases.train_model import TrainModel
from churn.use_cases.use_model import GetActiveModel, UseModel


TRAINING_QUEUE = "churn-training"
TRAINING_TASK = "entrypoints.worker_tasks.train"  # what a worker runs for a queued training (by dotted path)
SCORING_QUEUE = "churn-scoring"
SCORING_TASK = "entrypoints.worker_tasks.score_chunk"  # what a worker runs for a chunk of a scoring run


MLFLOW_REGISTRY = "adapters.mlflow_registry:MlflowModelRegistry"
TRAINER = "adapters.sklearn_trainer:SklearnTrainer"
# What a training worker imports as it starts (seconds of a first training otherwise): the trainer; for
# MLflow, the charts it draws (matplotlib), the registry and MLflow's SQL store it registers through.
TRAINING_IMPORTS = ("adapters.sklearn_trainer",)
MLFLOW_IMPORTS = ("adapters.evaluation_plots", "adapters.mlflow_registry", "mlflow.store.tracking.sqlalchemy_store")


def _built(path: str, options: Mapping[str, Any]) -> Any:
    """`module:Class` built from `options`: the registry a worker process builds from the same options."""
    return lazy(path)(**options)


class Container(containers.DeclarativeContainer):
    # No wiring_config: it would import every route module (FastAPI, pydantic, Jinja) each time a
    # container is made, the CLI's included; create_app wires the routes it serves.

    config = providers.Configuration()

    clock = providers.ThreadSafeSingleton(SystemClock)
    process_identity = providers.ThreadSafeSingleton(lambda: f"{socket.gethostname()}:{os.getpid()}:{fresh_id()[:8]}")
    job_lease = providers.Callable(lambda seconds: timedelta(seconds=float(seconds)), config.job_lease_seconds)

    # ------------------------------------------------------------------ stores
    sqlite_database = providers.ThreadSafeSingleton(SqliteDatabase, config.sqlite_path, background_checkpoints=True)
    mongo_database = providers.ThreadSafeSingleton(lazy("adapters.mongo.database:MongoDatabase"), config.mongodb_uri, db_name=config.mongodb_db)

    dataset_store = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteDatasetStore, sqlite_database, directory=config.dataset_dir),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.datasets:MongoDatasetStore"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryDatasetStore),
    )
    job_store_backend = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteJobStore, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.jobs:MongoJobStore"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryJobStore),
    )
    job_store = providers.ThreadSafeSingleton(CountingJobStore, job_store_backend)
    model_records = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteModelRecordRepository, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.model_records:MongoModelRecordRepository"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryModelRecordRepository),
    )
    customers = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteCustomerRepository, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.customers:MongoCustomerRepository"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryCustomerRepository),
    )
    predictions = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqlitePredictionRepository, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.predictions:MongoPredictionRepository"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryPredictionRepository),
    )
    outcomes = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteOutcomeRepository, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.outcomes:MongoOutcomeRepository"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryOutcomeRepository),
    )
    scoring_runs = providers.Selector(
        config.store,
        sqlite=providers.ThreadSafeSingleton(SqliteScoringRunStore, sqlite_database),
        mongo=providers.ThreadSafeSingleton(lazy("adapters.mongo.scoring_runs:MongoScoringRunStore"), mongo_database),
        memory=providers.ThreadSafeSingleton(InMemoryScoringRunStore),
    )

    # ------------------------------------------------------------------ models
    # What a registry stores of a model, and the model rebuilt from it: the scoring adapter's to say.
    model_codec = providers.ThreadSafeSingleton(lazy("adapters.fast_scoring.codec:SklearnModelCodec"))
    # Trainings fit in a worker process (CHURN_TRAINING_PROCESS, default true), off the serving GIL, at
    # a lower CPU priority (CHURN_TRAINING_NICENESS); charts are drawn there for the registry that keeps
    # them, and an MLflow registration runs there too.
    # The modules a training needs, imported by a training worker (a pool's or `main.py worker`) as it starts.
    training_imports = providers.Callable(lambda registry: TRAINING_IMPORTS + MLFLOW_IMPORTS * (registry == "mlflow"), config.registry)
    import_training_modules = providers.Callable(lazy("adapters.worker_pool:import_ahead"), training_imports)  # for `main.py worker`
    training_pool = providers.ThreadSafeSingleton(
        lazy("adapters.worker_pool:WorkerPool"), workers=config.training_workers, niceness=config.training_niceness,
        preload=training_imports,
    )
    # A single-process server that runs its own trainings starts the worker with the rest of its start-up,
    # so the first training does not wait for a process to spawn and import scikit-learn, pandas and
    # MLflow. Not with several serving processes (each would hold an idle worker) nor with RQ workers.
    start_training_worker = providers.Callable(
        lambda separate, runner, processes, pool: pool().start() if separate and runner != "rq" and processes == 1 else None,
        config.training_process, config.job_runner, config.workers, training_pool.provider,
    )
    mlflow_options = providers.Dict(
        tracking_uri=config.mlflow_tracking_uri,
        codec=model_codec,
        artifact_location=config.mlflow_artifacts,
        download_cache=config.model_download_cache,
    )
    mlflow_registry = providers.ThreadSafeSingleton(_built, MLFLOW_REGISTRY, mlflow_options)
    registry = providers.Selector(
        providers.Callable(
            lambda registry, separate: "mlflow_in_worker" if separate and registry == "mlflow" else registry,
            config.registry, config.training_process,
        ),
        mlflow=mlflow_registry,
        mlflow_in_worker=providers.ThreadSafeSingleton(
            lazy("adapters.process_registry:ProcessRegistry"), mlflow_registry, MLFLOW_REGISTRY, mlflow_options, training_pool
        ),
        memory=providers.ThreadSafeSingleton(InMemoryModelRegistry, model_codec),
    )
    draws_reports = providers.Callable(lambda registry: registry == "mlflow", config.registry)
    trainer = providers.Selector(
        providers.Callable(lambda separate: "process" if separate else "inline", config.training_process),
        process=providers.ThreadSafeSingleton(
            lazy("adapters.process_trainer:ProcessTrainer"),
            trainer_path=TRAINER,
            trainer_options=providers.Dict(cv_max_rows=config.cv_max_rows, draw_reports=draws_reports),
            pool=training_pool,
        ),
        inline=providers.ThreadSafeSingleton(
            lazy(TRAINER), cv_max_rows=config.cv_max_rows, draw_reports=draws_reports
        ),
    )
    promotion_rule = providers.ThreadSafeSingleton(PromotionRule, metric=config.promotion_metric, min_roc_auc=config.min_roc_auc)
    model_cache = providers.ThreadSafeSingleton(LruModelCache, capacity=config.model_cache_size)
    active_model = providers.ThreadSafeSingleton(
        ActiveModel, registry, model_cache, clock, refresh_seconds=config.active_refresh_seconds, records=model_records
    )
    active_model_follower = providers.ThreadSafeSingleton(
        Periodic,
        "churn-active-model",
        providers.Callable(lambda seconds: max(0.05, float(seconds) / 2), config.active_refresh_seconds),
        active_model.provided.refresh,
    )
    job_runner = providers.Selector(
        config.job_runner,
        thread=providers.ThreadSafeSingleton(ThreadJobRunner, workers=config.training_workers),
        inline=providers.ThreadSafeSingleton(InlineJobRunner),
        rq=providers.ThreadSafeSingleton(lazy("adapters.rq_runner:RqJobRunner"), broker_url=config.broker_url, queue=TRAINING_QUEUE, task=TRAINING_TASK),
    )
    # Who keeps a queued training alive: the process that runs it, or with a broker every process on
    # it (the job waits in Redis, not in a process); a worker taking it makes it its own.
    job_owner = providers.Selector(
        config.job_runner,
        thread=process_identity,
        inline=process_identity,
        rq=providers.Object(f"queue:{TRAINING_QUEUE}"),
    )
    scoring_runner = providers.Selector(  # its own worker: a scoring run never waits behind a training
        config.job_runner,
        thread=providers.ThreadSafeSingleton(ThreadJobRunner, workers=1),
        inline=providers.ThreadSafeSingleton(InlineJobRunner),
        rq=providers.ThreadSafeSingleton(lazy("adapters.rq_runner:RqJobRunner"), broker_url=config.broker_url, queue=SCORING_QUEUE, task=SCORING_TASK),
    )
    # With a job engine a run is cut into chunks, one task each, so several workers share it.
    scoring_chunk_size = providers.Selector(
        config.job_runner, thread=providers.Object(None), inline=providers.Object(None), rq=config.scoring_chunk_size
    )
    dataset_limits = providers.ThreadSafeSingleton(
        DatasetLimits, max_rows=config.max_dataset_rows, max_columns=config.max_dataset_columns
    )

    # ------------------------------------------------------------------ use cases (stateless)
    table_reader = providers.ThreadSafeSingleton(lazy("adapters.pandas_reader:PandasTableReader"))
    register_dataset = providers.ThreadSafeSingleton(RegisterDataset, dataset_store, table_reader, clock, dataset_limits)
    get_dataset = providers.ThreadSafeSingleton(GetDataset, dataset_store)
    remove_dataset = providers.ThreadSafeSingleton(RemoveDataset, dataset_store)
    list_datasets = providers.ThreadSafeSingleton(ListDatasets, dataset_store)
    train_model = providers.ThreadSafeSingleton(
        TrainModel, dataset_store, job_store, trainer, registry, model_records, active_model, clock, promotion=promotion_rule
    )
    start_training = providers.ThreadSafeSingleton(
        StartTraining, dataset_store, job_store, job_runner, train_model, clock, owner=job_owner
    )
    get_training_job = providers.ThreadSafeSingleton(GetTrainingJob, job_store, job_runner)
    recover_interrupted_jobs = providers.ThreadSafeSingleton(RecoverInterruptedJobs, job_store, clock, lease=job_lease)
    keep_jobs_alive = providers.ThreadSafeSingleton(KeepJobsAlive, job_store, clock, owner=process_identity)
    keep_queued_jobs_alive = providers.Selector(
        config.job_runner,
        thread=providers.List(),
        inline=providers.List(),
        rq=providers.List(providers.ThreadSafeSingleton(KeepJobsAlive, job_store, clock, owner=job_owner)),
    )
    job_lease_keeper = providers.ThreadSafeSingleton(
        JobLeaseKeeper, keep_jobs_alive, recover_interrupted_jobs, lease_seconds=config.job_lease_seconds, also=keep_queued_jobs_alive
    )
    run_queued_training = providers.ThreadSafeSingleton(RunQueuedTraining, job_store, train_model, clock, owner=process_identity)
    sync_model_records = providers.ThreadSafeSingleton(SyncModelRecords, registry, model_records)
    list_models = providers.ThreadSafeSingleton(ListModels, model_records, active_model, model_cache)
    list_recorded_models = providers.ThreadSafeSingleton(ListRecordedModels, model_records)
    use_model = providers.ThreadSafeSingleton(UseModel, model_records, registry, model_cache, active_model)
    get_active_model = providers.ThreadSafeSingleton(GetActiveModel, model_records, active_model, model_cache)
    model_versions = providers.ThreadSafeSingleton(ModelVersions, active_model, model_records, registry, model_cache)
    get_model_version = providers.ThreadSafeSingleton(GetModelVersion, model_records, active_model, model_cache)
    compare_models = providers.ThreadSafeSingleton(CompareModels, dataset_store, model_versions, trainer)
    # Scoring on the event loop pays only with a store that commits in groups or at once (no network
    # wait): the store then takes submitted predictions, and /predict awaits the commit.
    prediction_submitter = providers.Selector(config.store, sqlite=predictions, memory=predictions, mongo=providers.Object(None))
    inline_scoring = providers.Selector(config.store, sqlite=providers.Object(True), memory=providers.Object(True), mongo=providers.Object(False))
    predict_churn = providers.ThreadSafeSingleton(
        PredictChurn,
        providers.ThreadSafeSingleton(MeteredModelVersions, model_versions),
        providers.ThreadSafeSingleton(MeteredPredictions, predictions, prediction_submitter),
        clock,
    )
    predict_batch = providers.ThreadSafeSingleton(PredictBatch, model_versions, predictions, clock)
    predict_stored_customer = providers.ThreadSafeSingleton(PredictStoredCustomer, customers, active_model, predict_churn)
    list_customer_predictions = providers.ThreadSafeSingleton(ListCustomerPredictions, customers, predictions)
    list_predictions_by_band = providers.ThreadSafeSingleton(ListPredictionsByBand, predictions)
    count_predictions_by_band = providers.ThreadSafeSingleton(CountPredictionsByBand, predictions)
    import_customers = providers.ThreadSafeSingleton(ImportCustomers, customers, table_reader)
    get_customer = providers.ThreadSafeSingleton(GetCustomer, customers)
    list_customers = providers.ThreadSafeSingleton(ListCustomers, customers)
    check_readiness = providers.ThreadSafeSingleton(CheckReadiness, customers, registry, active_model)
    # the console's own reads
    list_running_jobs = providers.ThreadSafeSingleton(ListRunningJobs, job_store)
    preview_dataset = providers.ThreadSafeSingleton(PreviewDataset, table_reader, clock, dataset_limits)
    count_predictions_per_day = providers.ThreadSafeSingleton(CountPredictionsPerDay, predictions, clock)
    record_outcomes = providers.ThreadSafeSingleton(RecordOutcomes, outcomes)
    measure_realised_performance = providers.ThreadSafeSingleton(MeasureRealisedPerformance, model_records, predictions, outcomes)
    score_customer_base = providers.ThreadSafeSingleton(
        ScoreCustomerBase, model_versions, customers, predictions, scoring_runs, clock, batch=config.scoring_batch
    )
    score_run_chunk = providers.ThreadSafeSingleton(
        ScoreRunChunk, model_versions, customers, predictions, scoring_runs, clock, lease=job_lease, batch=config.scoring_batch
    )
    start_scoring_run = providers.ThreadSafeSingleton(
        StartScoringRun,
        model_versions,
        customers,
        scoring_runs,
        scoring_runner,
        score_customer_base,
        clock,
        owner=process_identity,
        score_chunk=score_run_chunk,
        chunk_size=scoring_chunk_size,
    )
    get_scoring_run = providers.ThreadSafeSingleton(GetScoringRun, scoring_runs, clock, lease=job_lease)
    resume_scoring_run = providers.ThreadSafeSingleton(
        ResumeScoringRun,
        scoring_runs,
        scoring_runner,
        score_customer_base,
        clock,
        lease=job_lease,
        owner=process_identity,
        score_chunk=score_run_chunk,
    )
    list_customers_by_risk = providers.ThreadSafeSingleton(ListCustomersByRisk, predictions)
    count_customers_by_band = providers.ThreadSafeSingleton(CountCustomersByBand, predictions)
    export_customers_by_risk = providers.ThreadSafeSingleton(ExportCustomersByRisk, predictions)
    measure_drift = providers.ThreadSafeSingleton(MeasureDrift, model_records, predictions, clock)


def build_container(settings) -> Container:
    """A container configured from `Settings`; nothing is connected until first used."""
    apply_library_defaults()
    container = Container()
    container.config.from_dict(settings.as_dict())
    return container
