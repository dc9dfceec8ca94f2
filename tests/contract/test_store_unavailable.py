"""Every persistent store turns its driver's failures into StoreUnavailableError."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timezone
from unittest import mock

import mongomock
import pytest
from pymongo.errors import AutoReconnect

from adapters.mongo.customers import MongoCustomerRepository
from adapters.mongo.database import MongoDatabase
from adapters.mongo.datasets import MongoDatasetStore
from adapters.mongo.jobs import MongoJobStore
from adapters.mongo.model_records import MongoModelRecordRepository
from adapters.mongo.predictions import MongoPredictionRepository
from adapters.sqlite.customers import SqliteCustomerRepository
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.datasets import SqliteDatasetStore
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.model_records import SqliteModelRecordRepository
from adapters.sqlite.predictions import SqlitePredictionRepository
from churn.errors import StoreUnavailableError
from churn.bands import Band, ProbabilityRange
from churn.customers import Customer
from churn.datasets import Dataset
from churn.paging import PageRequest
from churn.predictions import Prediction
from churn.training_jobs import TrainingJob
from churn.versions import ModelFilter, ModelRef

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
DATASET = Dataset("telco", 2, ("a", "churn"), "churn", "yes", 0.5, hashlib.sha256(b"a,churn\n1,yes\n").hexdigest(), T0)
JOB = TrainingJob("job-1", "telco", "logistic_regression", {}, "churn-lr", True, T0)
PREDICTION = Prediction("p-1", "c-1", {"a": 1.0}, 0.8, ModelRef("churn-lr", 1), T0)


def writes(datasets, jobs, customers, predictions):
    return [
        lambda: datasets.add(DATASET, b"a,churn\n1,yes\n"),
        lambda: jobs.save(JOB),
        lambda: customers.upsert_many([Customer("c-1", {"a": 1.0})]),
        lambda: predictions.add(PREDICTION),
        lambda: predictions.add_many([PREDICTION]),
    ]


def reads(datasets, jobs, records, customers, predictions):
    return [
        lambda: datasets.list(),
        lambda: datasets.content("telco"),
        lambda: jobs.unfinished(),
        lambda: records.list(),
        lambda: records.get(ModelRef("churn-lr", 1)),
        lambda: customers.get("c-1"),
        lambda: customers.list(PageRequest()),
        lambda: predictions.for_customer("c-1", PageRequest()),
        lambda: predictions.in_range(Band.VERY_HIGH.range, ModelFilter("churn-lr"), PageRequest()),
        lambda: predictions.in_range(ProbabilityRange(0.3, 0.8), None, PageRequest()),
        lambda: predictions.count_by_band(None),
    ]


def sqlite_stores(database):
    return [cls(database) for cls in (SqliteDatasetStore, SqliteJobStore, SqliteModelRecordRepository, SqliteCustomerRepository, SqlitePredictionRepository)]


def mongo_stores(database):
    return [cls(database) for cls in (MongoDatasetStore, MongoJobStore, MongoModelRecordRepository, MongoCustomerRepository, MongoPredictionRepository)]


def test_sqlite_writes_to_a_read_only_database_are_unavailable(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db")
    datasets, jobs, _, customers, predictions = sqlite_stores(database)
    database.connection().execute("PRAGMA query_only=ON")
    for write in writes(datasets, jobs, customers, predictions):
        with pytest.raises(StoreUnavailableError, match="store unavailable"):
            write()


def test_sqlite_writes_while_another_process_holds_the_lock_are_unavailable(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db", busy_timeout_ms=20)
    datasets, jobs, _, customers, predictions = sqlite_stores(database)
    other = sqlite3.connect(tmp_path / "churn.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        for write in writes(datasets, jobs, customers, predictions):
            with pytest.raises(StoreUnavailableError, match="locked"):
                write()
    finally:
        other.execute("ROLLBACK")
        other.close()
    predictions.add(PREDICTION)
    assert predictions.count_by_band(None)[Band.VERY_HIGH] == 1


def test_sqlite_reads_of_a_corrupt_file_are_unavailable(tmp_path):
    path = tmp_path / "churn.db"
    database = SqliteDatabase(path)
    stores = sqlite_stores(database)
    database.close()
    for leftover in tmp_path.iterdir():
        leftover.unlink()
    path.write_bytes(b"this is not a database" * 500)
    for read in reads(*stores):
        with pytest.raises(StoreUnavailableError, match="store unavailable"):
            read()
    with pytest.raises(StoreUnavailableError):
        SqliteDatabase(path)


def test_sqlite_file_that_cannot_be_created_is_unavailable(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StoreUnavailableError):
        SqliteDatabase(tmp_path / "a-file" / "churn.db")


def test_mongo_operations_while_the_server_is_gone_are_unavailable():
    database = MongoDatabase(mongomock.MongoClient(), "churn")
    datasets, jobs, records, customers, predictions = mongo_stores(database)
    gone = AutoReconnect("connection reset by peer")
    methods = ["find", "find_one", "count_documents", "insert_one", "insert_many", "replace_one", "delete_many", "aggregate"]
    with mock.patch.multiple(mongomock.collection.Collection, **{m: mock.Mock(side_effect=gone) for m in methods}):
        for call in writes(datasets, jobs, customers, predictions) + reads(datasets, jobs, records, customers, predictions):
            with pytest.raises(StoreUnavailableError, match="store unavailable"):
                call()


def test_mongo_server_that_cannot_be_reached_is_unavailable_without_naming_hosts():
    database = MongoDatabase("mongodb://127.0.0.1:1/?connectTimeoutMS=200&serverSelectionTimeoutMS=300", db_name="churn")
    try:  # built while the server is down: the process can start, unready
        assert not database.indexed.is_set()
        with pytest.raises(StoreUnavailableError) as info:
            MongoCustomerRepository(database).get("c-1")
        assert info.value.message == "store unavailable: MongoDB did not answer in time"
        assert "127.0.0.1" not in info.value.message and ":1" not in info.value.message
    finally:
        database.close()
