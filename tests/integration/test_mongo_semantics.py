"""MongoDB: the URI's write concern and timeouts honoured, errors classified by what the caller can do."""

from __future__ import annotations

from unittest import mock

import mongomock
import pytest
from bson.errors import InvalidDocument
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WriteError,
)

from adapters.mongo.customers import MongoCustomerRepository
from adapters.mongo.database import MongoDatabase, translate
from churn.errors import StoreConflictError, StoreRejectedError, StoreUnavailableError


def built(uri):
    database = MongoDatabase(uri + ("&" if "?" in uri else "?") + "serverSelectionTimeoutMS=200", db_name="churn")
    database.close()
    return database


def test_without_a_write_concern_in_the_uri_writes_wait_for_a_majority():
    database = built("mongodb://127.0.0.1:1/")
    assert database.collection("PREVISOES").write_concern.document == {"w": "majority"}


def test_the_uri_write_concern_journal_and_timeouts_are_honoured():
    database = built("mongodb://127.0.0.1:1/?w=2&journal=true&wtimeoutMS=1500&socketTimeoutMS=700")
    assert database.collection("PREVISOES").write_concern.document == {"w": 2, "j": True, "wtimeout": 1500}
    options = database.client.options
    assert options.pool_options.socket_timeout == 0.7 and options.server_selection_timeout == 0.2


@pytest.mark.parametrize(
    "error",
    [
        ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused, Topology Description: <...>"),
        AutoReconnect("mongo-1.internal:27017: connection closed"),
        ExecutionTimeout("operation exceeded time limit", 50),
    ],
)
def test_unreachable_or_timed_out_is_unavailable_and_names_no_host(error):
    translated = translate(error)
    assert isinstance(translated, StoreUnavailableError)
    assert "27017" not in translated.message and "internal" not in translated.message and "127.0.0.1" not in translated.message


def test_a_duplicate_key_is_a_conflict():
    duplicate = DuplicateKeyError("E11000 duplicate key error collection: churn.X index: _id_ dup key: { _id: 'c-1' }", 11000)
    assert isinstance(translate(duplicate), StoreConflictError)
    bulk = BulkWriteError({"writeErrors": [{"index": 0, "code": 11000, "errmsg": "dup", "op": {"_id": "secret"}}], "writeConcernErrors": []})
    translated = translate(bulk)
    assert isinstance(translated, StoreConflictError) and "secret" not in translated.message


@pytest.mark.parametrize(
    "error",
    [
        OperationFailure("Authentication failed.", 18),
        OperationFailure("not authorized on churn to execute command", 13),
        WriteError("Document failed validation", 121, {"errInfo": {"details": "the document"}}),
        InvalidDocument("cannot encode object: <object at 0x7f>"),
        BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid", "op": {"_id": "secret", "features": {"x": 1}}}]}),
    ],
)
def test_authentication_and_document_errors_are_rejected_not_retry_and_carry_no_document(error):
    translated = translate(error)
    assert isinstance(translated, StoreRejectedError) and not isinstance(translated, StoreUnavailableError)
    assert "secret" not in translated.message and "0x7f" not in translated.message and "features" not in translated.message


def test_a_repository_reports_an_authentication_failure_as_rejected():
    database = MongoDatabase(mongomock.MongoClient(), "churn")
    customers = MongoCustomerRepository(database)
    refused = OperationFailure("Authentication failed.", 18)
    with mock.patch.object(mongomock.collection.Collection, "find_one", side_effect=refused):
        with pytest.raises(StoreRejectedError, match="authentication"):
            customers.get("c-1")
