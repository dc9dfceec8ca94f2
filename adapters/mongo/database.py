"""The MongoDB database behind every Mongo store: client, collections, indexes, error translation.

The connection string's write concern, journal and timeouts are honoured; when it names no write
concern, writes wait for a majority of the replica set (`w=majority`: an acknowledged prediction
survives a failover), and server selection gives up after 2 s unless it says otherwise.

Moments are BSON dates with their microseconds beside them (adapters.mongo.moments); documents
stored before as UTC text still read, and every time filter matches both forms.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

from bson.errors import InvalidDocument
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import (
    BulkWriteError,
    ConnectionFailure,
    DocumentTooLarge,
    DuplicateKeyError,
    ExecutionTimeout,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WriteError,
    WTimeoutError,
)

from adapters.mongo.moments import order
from churn.errors import ChurnError, StoreConflictError, StoreRejectedError, StoreUnavailableError

log = logging.getLogger(__name__)

CUSTOMERS = "CLIENTES"
PREDICTIONS = "PREVISOES"
MODELS = "MODELOS"
DATASETS = "DATASETS"
DATASET_CHUNKS = "DATASET_CHUNKS"
JOBS = "JOBS"
SCORING_RUNS = "SCORING_RUNS"
OUTCOMES = "RESULTADOS"
LATEST = "RISCO"
ACTIVE = "MODELO_ATIVO"
"""One document: the version last seen active (a copy of the registry's pointer)."""
"""Each customer's latest prediction, _id the customer id (kept by the prediction repository)."""

SERVER_SELECTION_TIMEOUT_MS = 2000
DEFAULT_WRITE_CONCERN = "majority"

_BAND_ORDER = [("churn_probability", DESCENDING), *order("created_at", DESCENDING), ("_id", DESCENDING)]

INDEXES: dict[str, list[tuple[str, list[tuple[str, int]], dict[str, Any]]]] = {
    PREDICTIONS: [
        ("by_customer", [("customer_id", ASCENDING), *order("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ("by_probability", _BAND_ORDER, {}),
        ("by_model", [("model_name", ASCENDING), *_BAND_ORDER], {}),
        ("by_model_version", [("model_name", ASCENDING), ("model_version", ASCENDING), *_BAND_ORDER], {}),
        ("by_band", [("band", ASCENDING), ("model_name", ASCENDING), ("model_version", ASCENDING)], {}),
        ("by_run", [("run_id", ASCENDING), ("customer_id", ASCENDING)], {"partialFilterExpression": {"run_id": {"$exists": True}}}),
    ],
    SCORING_RUNS: [("by_created", [*order("created_at", DESCENDING), ("_id", DESCENDING)], {})],
    LATEST: [
        ("by_probability", [("churn_probability", DESCENDING), *order("created_at", DESCENDING), ("prediction_id", DESCENDING)], {}),
        ("by_model", [("model_name", ASCENDING), ("churn_probability", DESCENDING), *order("created_at", DESCENDING), ("prediction_id", DESCENDING)], {}),
        (
            "by_model_version",
            [
                ("model_name", ASCENDING),
                ("model_version", ASCENDING),
                ("churn_probability", DESCENDING),
                *order("created_at", DESCENDING),
                ("prediction_id", DESCENDING),
            ],
            {},
        ),
        ("by_band", [("band", ASCENDING), ("model_name", ASCENDING), ("model_version", ASCENDING)], {}),
    ],
    MODELS: [
        ("by_ref", [("name", ASCENDING), ("version", ASCENDING)], {"unique": True}),
        ("by_finished", [*order("finished_at", DESCENDING), ("name", ASCENDING), ("version", DESCENDING)], {}),
    ],
    DATASETS: [("by_created", [*order("created_at", ASCENDING), ("_id", ASCENDING)], {})],
    DATASET_CHUNKS: [("by_upload", [("upload_id", ASCENDING), ("n", ASCENDING)], {"unique": True})],
    JOBS: [("by_status", [("status", ASCENDING), *order("created_at", ASCENDING), ("_id", ASCENDING)], {})],
}


@contextmanager
def translated_errors() -> Iterator[None]:
    """PyMongo's errors as the core's, by what the caller can do about them. Messages name the
    failing part, never hosts, ports or documents (the full error is logged by whoever reports it):
    unreachable or timed out → StoreUnavailableError (retry later); duplicate key → StoreConflictError;
    anything else (authentication, a document the server refuses) → StoreRejectedError."""
    try:
        yield
    except (PyMongoError, InvalidDocument) as exc:
        raise translate(exc) from exc


def translate(exc: PyMongoError | InvalidDocument) -> ChurnError:
    retryable = isinstance(exc, PyMongoError) and exc.has_error_label("RetryableWriteError")
    if isinstance(exc, (ConnectionFailure, ExecutionTimeout, WTimeoutError)) or retryable:
        log.warning("MongoDB unavailable: %s", exc)
        timed_out = isinstance(exc, (ExecutionTimeout, WTimeoutError, NetworkTimeout, ServerSelectionTimeoutError))
        kind = "did not answer in time" if timed_out else "cannot be reached"
        return StoreUnavailableError(f"store unavailable: MongoDB {kind}")
    if isinstance(exc, DuplicateKeyError) or (isinstance(exc, BulkWriteError) and _only_duplicates(exc)):
        return StoreConflictError("the store already holds a record with this key; nothing was changed")
    if isinstance(exc, OperationFailure) and exc.code in _AUTH_CODES:
        return StoreRejectedError("the store refused the operation: MongoDB authentication or authorisation failed")
    if isinstance(exc, (InvalidDocument, DocumentTooLarge, WriteError, BulkWriteError)):
        return StoreRejectedError("the store refused the operation: MongoDB did not accept the document")
    return StoreRejectedError(f"the store refused the operation: MongoDB error {type(exc).__name__}")


_AUTH_CODES = {13, 18, 8000}  # Unauthorized, AuthenticationFailed, Atlas AtlasError (bad credentials)
_DUPLICATE_KEY = 11000


def _only_duplicates(exc: BulkWriteError) -> bool:
    errors = exc.details.get("writeErrors", [])
    return bool(errors) and not exc.details.get("writeConcernErrors") and all(e.get("code") == _DUPLICATE_KEY for e in errors)


def client_options(uri: str) -> dict[str, Any]:
    """What the service adds to the URI's own options: only what it leaves unsaid."""
    given = {key.lower() for key in parse_qs(urlsplit(uri).query, keep_blank_values=True)}
    options: dict[str, Any] = {"tz_aware": True}
    if "w" not in given:
        options["w"] = DEFAULT_WRITE_CONCERN
    if "serverselectiontimeoutms" not in given:
        options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
    return options


class MongoDatabase:
    """A database on a MongoDB server, from a URI or an already built client (tests pass
    `mongomock.MongoClient()`). Creates its indexes (idempotent) at construction; when the server
    cannot be reached then, the service still starts (unready) and a background thread creates them
    as soon as it can, so nothing here stops a process from starting while MongoDB is down."""

    RETRY_SECONDS = 2.0

    def __init__(self, client_or_uri: str | Any, db_name: str = "churn") -> None:
        self._owns_client = isinstance(client_or_uri, str)
        if isinstance(client_or_uri, str):
            self.client = MongoClient(client_or_uri, **client_options(client_or_uri))  # connects lazily
        else:
            self.client = client_or_uri
        self.db = self.client.get_database(db_name)
        self.name = db_name
        self.indexed = threading.Event()
        self._closed = threading.Event()
        try:
            self.ensure_indexes()
        except StoreUnavailableError as exc:
            log.warning("%s at start-up; serving unready, indexes created once it answers", exc.message)
            threading.Thread(target=self._retry_indexes, name="churn-mongo-indexes", daemon=True).start()

    def ensure_indexes(self) -> None:
        """Each index of INDEXES by its name; one stored under that name with other keys (an earlier
        version's, e.g. before moments had their `_us` key) is dropped and built again."""
        with translated_errors():
            for collection, indexes in INDEXES.items():
                present = self.collection(collection).index_information()
                for name, keys, options in indexes:
                    if name in present and [tuple(key) for key in present[name]["key"]] != keys:
                        log.warning("MongoDB index %s.%s has other keys than this version's: rebuilding it", collection, name)
                        self.collection(collection).drop_index(name)
                    self.collection(collection).create_index(keys, name=name, **options)
        self.indexed.set()

    def _retry_indexes(self) -> None:
        while not self._closed.wait(self.RETRY_SECONDS):
            try:
                self.ensure_indexes()
                log.info("MongoDB answers again: indexes in place")
                return
            except ChurnError:
                continue

    def collection(self, name: str) -> Collection:
        """With the client's write concern: the URI's, or w=majority."""
        return self.db.get_collection(name)

    def drop(self) -> None:
        """Drop the whole database (tests and benchmarks)."""
        with translated_errors():
            self.client.drop_database(self.name)

    def close(self) -> None:
        """Close the client when this object built it from a URI."""
        self._closed.set()
        if self._owns_client:
            self.client.close()
