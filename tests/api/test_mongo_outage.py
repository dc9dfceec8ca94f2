"""The service starts while MongoDB is down (live, unready), names the failing part without hosts,
answers 503 with Retry-After, and recovers without a restart."""

from __future__ import annotations

import time
from unittest import mock

import mongomock
from dependency_injector import providers
from fastapi.testclient import TestClient
from pymongo.errors import ServerSelectionTimeoutError

from adapters.mongo.database import MongoDatabase
from entrypoints.api.app import create_app
from tests.api.conftest import make_container

METHODS = [
    "find", "find_one", "count_documents", "insert_one", "insert_many", "replace_one", "update_one", "update_many", "delete_many", "aggregate",
    "create_index",
]
HOSTS = ("mongo-1.internal", "27017")


def test_the_service_starts_while_mongodb_is_down_and_recovers_when_it_is_back(tmp_path):
    down = ServerSelectionTimeoutError("mongo-1.internal:27017: timed out, Topology Description: <TopologyDescription ...>")
    outage = mock.patch.multiple(mongomock.collection.Collection, **{m: mock.Mock(side_effect=down) for m in METHODS})
    container = make_container(tmp_path, store="mongo", load_sample=True)
    outage.start()
    try:
        database = MongoDatabase(mongomock.MongoClient(), "churn")
        database.RETRY_SECONDS = 0.1
        container.mongo_database.override(providers.Object(database))
        with TestClient(create_app(container), raise_server_exceptions=False) as http:
            assert http.get("/health").status_code == 200
            ready = http.get("/ready")
            assert ready.status_code == 503 and ready.headers["Retry-After"]
            assert ready.json()["checks"]["store"] == "store unavailable: MongoDB did not answer in time"
            listing = http.get("/datasets")
            assert listing.status_code == 503 and listing.headers["Retry-After"]
            assert not any(host in listing.text or host in ready.text for host in HOSTS)

            outage.stop()
            outage = None
            assert http.get("/ready").json()["checks"]["store"] == "ok"
            deadline = time.monotonic() + 20  # the sample is seeded by the start-up retry thread
            while time.monotonic() < deadline and "sample" not in {d["name"] for d in http.get("/datasets").json()["items"]}:
                time.sleep(0.1)
            assert "sample" in {d["name"] for d in http.get("/datasets").json()["items"]}
            assert database.indexed.wait(20)
            job = http.post("/train", json={"dataset": "sample", "model_type": "logistic_regression"}).json()
            assert http.get(f"/jobs/{job['job_id']}").json()["status"] == "succeeded"
    finally:
        if outage is not None:
            outage.stop()
        container.mongo_database.reset_override()
