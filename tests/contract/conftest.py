"""Backends for the store contract suites: the in-memory fakes, SQLite, MongoDB through mongomock,
and a real MongoDB when CHURN_MONGODB_URI is set (a fresh database per test, dropped after)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Callable

import mongomock
import pytest

from adapters.memory import (
    InMemoryCustomerRepository,
    InMemoryDatasetStore,
    InMemoryJobStore,
    InMemoryModelRecordRepository,
    InMemoryOutcomeRepository,
    InMemoryPredictionRepository,
    InMemoryScoringRunStore,
)
from adapters.mongo.customers import MongoCustomerRepository
from adapters.mongo.database import MongoDatabase
from adapters.mongo.datasets import MongoDatasetStore
from adapters.mongo.jobs import MongoJobStore
from adapters.mongo.model_records import MongoModelRecordRepository
from adapters.mongo.predictions import MongoPredictionRepository
from adapters.mongo.outcomes import MongoOutcomeRepository
from adapters.mongo.scoring_runs import MongoScoringRunStore
from adapters.sqlite.customers import SqliteCustomerRepository
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.datasets import SqliteDatasetStore
from adapters.sqlite.jobs import SqliteJobStore
from adapters.sqlite.model_records import SqliteModelRecordRepository
from adapters.sqlite.predictions import SqlitePredictionRepository
from adapters.sqlite.outcomes import SqliteOutcomeRepository
from adapters.sqlite.scoring_runs import SqliteScoringRunStore

MONGODB_URI = os.environ.get("CHURN_MONGODB_URI", "")

_MEMORY = {
    "datasets": InMemoryDatasetStore,
    "jobs": InMemoryJobStore,
    "model_records": InMemoryModelRecordRepository,
    "customers": InMemoryCustomerRepository,
    "predictions": InMemoryPredictionRepository,
    "scoring_runs": InMemoryScoringRunStore,
    "outcomes": InMemoryOutcomeRepository,
}
_SQLITE = {
    "datasets": SqliteDatasetStore,
    "jobs": SqliteJobStore,
    "model_records": SqliteModelRecordRepository,
    "customers": SqliteCustomerRepository,
    "predictions": SqlitePredictionRepository,
    "scoring_runs": SqliteScoringRunStore,
    "outcomes": SqliteOutcomeRepository,
}
_MONGO = {
    "datasets": MongoDatasetStore,
    "jobs": MongoJobStore,
    "model_records": MongoModelRecordRepository,
    "customers": MongoCustomerRepository,
    "predictions": MongoPredictionRepository,
    "scoring_runs": MongoScoringRunStore,
    "outcomes": MongoOutcomeRepository,
}


class Backend:
    """Builds each port's adapter on one shared store; `restarted()` reopens that store from scratch."""

    def __init__(self, name: str, build: Callable[[str], Any], restart: Callable[[], "Backend"] | None) -> None:
        self.name = name
        self._build = build
        self._restart = restart

    def datasets(self):
        return self._build("datasets")

    def jobs(self):
        return self._build("jobs")

    def model_records(self):
        return self._build("model_records")

    def customers(self):
        return self._build("customers")

    def predictions(self):
        return self._build("predictions")

    def scoring_runs(self):
        return self._build("scoring_runs")

    def outcomes(self):
        return self._build("outcomes")

    def restarted(self) -> "Backend":
        """The same stored data seen through new connections (a process restart)."""
        if self._restart is None:
            pytest.skip(f"the {self.name} store does not outlive its objects")
        return self._restart()


def memory_backend() -> Backend:
    return Backend("memory", lambda port: _MEMORY[port](), None)


def sqlite_backend(path: Path) -> Backend:
    database = SqliteDatabase(path)
    return Backend("sqlite", lambda port: _SQLITE[port](database), lambda: sqlite_backend(path))


def mongo_backend(client_or_uri: Any, db_name: str, opened: list[MongoDatabase]) -> Backend:
    database = MongoDatabase(client_or_uri, db_name=db_name)
    opened.append(database)
    return Backend("mongo", lambda port: _MONGO[port](database), lambda: mongo_backend(client_or_uri, db_name, opened))


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        "mongomock",
        pytest.param("mongodb", marks=pytest.mark.skipif(not MONGODB_URI, reason="CHURN_MONGODB_URI is not set")),
    ]
)
def backend(request, tmp_path):
    if request.param == "memory":
        yield memory_backend()
    elif request.param == "sqlite":
        yield sqlite_backend(tmp_path / "churn.db")
    elif request.param == "mongomock":
        yield mongo_backend(mongomock.MongoClient(), "churn", [])
    else:
        opened: list[MongoDatabase] = []
        yield mongo_backend(MONGODB_URI, f"churn_test_{uuid.uuid4().hex[:12]}", opened)
        opened[0].drop()
        for database in opened:
            database.close()
