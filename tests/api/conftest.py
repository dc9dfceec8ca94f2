from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from adapters.memory import DeferredJobRunner
from entrypoints.api.app import create_app
from entrypoints.container import build_container
from entrypoints.settings import Settings
from tests.support.datasets import subscriptions_csv


def make_container(tmp_path, **overrides):
    settings = Settings.from_env(
        env={},
        home=str(tmp_path),
        store=overrides.pop("store", "memory"),
        registry=overrides.pop("registry", "memory"),
        job_runner="inline",
        training_process=overrides.pop("training_process", False),
        load_sample=overrides.pop("load_sample", False),
        **overrides,
    )
    return build_container(settings)


def pytest_generate_tests(metafunc):
    """The store behind `client`: memory, and SQLite too in the modules that say STORES = ("memory", "sqlite")
    (where /predict's group commit, the listings and the latest risk run in process on the embedded default)."""
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", getattr(metafunc.module, "STORES", ("memory",)))


@pytest.fixture
def container(tmp_path, store):
    return make_container(tmp_path, store=store)


@pytest.fixture
def client(container):
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def deferred(container):
    runner = DeferredJobRunner()
    container.job_runner.override(runner)
    yield runner
    container.job_runner.reset_override()


def upload(client, name="subs", content=None, target="left", id_column="account"):
    files = {"file": (f"{name}.csv", content if content is not None else subscriptions_csv(), "text/csv")}
    data = {"name": name, "target": target}
    if id_column:
        data["id_column"] = id_column
    return client.post("/datasets", files=files, data=data)


def train(client, model_type="logistic_regression", dataset="subs", **body):
    """Two folds unless asked: cross-validation is tested on its own, the suite stays fast."""
    body.setdefault("cv_folds", 2)
    response = client.post("/train", json={"dataset": dataset, "model_type": model_type, **body})
    assert response.status_code == 202, response.text
    job = client.get(response.headers["Location"]).json()
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture
def trained(client):
    assert upload(client).status_code == 201
    return train(client)
