"""The MongoDB database behind every Mongo store: client, collections, indexes, error translation.

Datetimes are stored as fixed-width ISO-8601 UTC text (`2026-01-01T00:00:00.000000Z`): BSON dates keep
only milliseconds and come back naive, while this text is exact to the microsecond, sorts in time
order and stays readable in a shell.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from pymongo import ASCENDING, DESCENDING, MongoClient, WriteConcern
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from churn.errors import StoreUnavailableError

CUSTOMERS = "CLIENTES"
PREDICTIONS = "PREVISOES"
MODELS = "MODELOS"
DATASETS = "DATASETS"
DATASET_CHUNKS = "DATASET_CHUNKS"
JOBS = "JOBS"
SCORING_RUNS = "SCORING_RUNS"
OUTCOMES = "RESULTADOS"
LATEST = "RISCO"
"""Each customer's latest prediction, _id the customer id (kept by the prediction repository)."""

SERVER_SELECTION_TIMEOUT_MS = 2000

_BAND_ORDER = [("churn_probability", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]

INDEXES: dict[str, list[tuple[str, list[tuple[str, int]], dict[str, Any]]]] = {
    PREDICTIONS: [
        ("by_customer", [("customer_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ("by_probability", _BAND_ORDER, {}),
        ("by_model", [("model_name", ASCENDING), *_BAND_ORDER], {}),
        ("by_model_version", [("model_name", ASCENDING), ("model_version", ASCENDING), *_BAND_ORDER], {}),
        ("by_band", [("band", ASCENDING), ("model_name", ASCENDING), ("model_version", ASCENDING)], {}),
        ("by_run", [("run_id", ASCENDING), ("customer_id", ASCENDING)], {"partialFilterExpression": {"run_id": {"$exists": True}}}),
    ],
    SCORING_RUNS: [("by_created", [("created_at", DESCENDING), ("_id", DESCENDING)], {})],
    LATEST: [
        ("by_probability", [("churn_probability", DESCENDING), ("created_at", DESCENDING), ("prediction_id", DESCENDING)], {}),
        ("by_model", [("model_name", ASCENDING), ("churn_probability", DESCENDING), ("created_at", DESCENDING), ("prediction_id", DESCENDING)], {}),
        (
            "by_model_version",
            [("model_name", ASCENDING), ("model_version", ASCENDING), ("churn_probability", DESCENDING), ("created_at", DESCENDING), ("prediction_id", DESCENDING)],
            {},
        ),
        ("by_band", [("band", ASCENDING), ("model_name", ASCENDING), ("model_version", ASCENDING)], {}),
    ],
    MODELS: [
        ("by_ref", [("name", ASCENDING), ("version", ASCENDING)], {"unique": True}),
        ("by_finished", [("finished_at", DESCENDING), ("name", ASCENDING), ("version", DESCENDING)], {}),
    ],
    DATASETS: [("by_created", [("created_at", ASCENDING), ("_id", ASCENDING)], {})],
    DATASET_CHUNKS: [("by_upload", [("upload_id", ASCENDING), ("n", ASCENDING)], {"unique": True})],
    JOBS: [("by_status", [("status", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)], {})],
}


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn any PyMongoError (server selection timeout, AutoReconnect, ...) into StoreUnavailableError."""
    try:
        yield
    except PyMongoError as exc:
        raise StoreUnavailableError(f"store unavailable: {exc}") from exc


def to_text(moment: datetime) -> str:
    """Fixed-width ISO-8601 UTC, exact to the microsecond; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_text(text: str) -> datetime:
    """The timezone-aware UTC datetime of `to_text`."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)


class MongoDatabase:
    """A database on a MongoDB server, from a URI or an already built client (tests pass
    `mongomock.MongoClient()`). Writes are acknowledged (w=1). Creates its indexes at construction
    (idempotent); StoreUnavailableError when the server cannot be reached."""

    def __init__(self, client_or_uri: str | Any, db_name: str = "churn") -> None:
        self._owns_client = isinstance(client_or_uri, str)
        with translated_errors():
            if self._owns_client:
                self.client = MongoClient(client_or_uri, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS, tz_aware=True)
            else:
                self.client = client_or_uri
            self.db = self.client.get_database(db_name)
            self.name = db_name
            for collection, indexes in INDEXES.items():
                for name, keys, options in indexes:
                    self.collection(collection).create_index(keys, name=name, **options)

    def collection(self, name: str) -> Collection:
        return self.db.get_collection(name, write_concern=WriteConcern(w=1))

    def drop(self) -> None:
        """Drop the whole database (tests and benchmarks)."""
        with translated_errors():
            self.client.drop_database(self.name)

    def close(self) -> None:
        """Close the client when this object built it from a URI."""
        if self._owns_client:
            self.client.close()
