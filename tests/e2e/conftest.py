"""A real `python main.py serve` process on a free loopback port, with its own CHURN_HOME."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

import httpx
import pytest

from tests.support.datasets import subscriptions_csv

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@cache
def migrated_mlflow_store() -> Path:
    """An empty MLflow SQLite store, migrated once per test process. A server on a new home would
    otherwise spend seconds of CPU on MLflow's migrations before it is ready; test_full_loop keeps
    that first start (fresh_mlflow=True)."""
    from mlflow import MlflowClient

    path = Path(tempfile.mkdtemp(prefix="churn-mlflow-template-")) / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


class Server:
    def __init__(self, home: Path, fresh_mlflow: bool = False, **env: str) -> None:
        self.home = home
        self.fresh_mlflow = fresh_mlflow
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "CHURN_HOME": str(home), **env}
        self.process: subprocess.Popen | None = None
        self.log = home / "server.log"

    def start(self, timeout: float = 180.0) -> "Server":
        self.home.mkdir(parents=True, exist_ok=True)
        own_mlflow_file = "CHURN_MLFLOW_TRACKING_URI" not in self.env and self.env.get("CHURN_REGISTRY", "mlflow") == "mlflow"
        if not self.fresh_mlflow and own_mlflow_file and not (self.home / "mlflow.db").exists():
            shutil.copy(migrated_mlflow_store(), self.home / "mlflow.db")
        out = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "main.py", "serve", "--port", str(self.port)], cwd=ROOT, env=self.env, stdout=out, stderr=out
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:  # live, and done starting (the sample registered, the active model loaded)
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    if "startup" not in httpx.get(f"{self.url}/ready", timeout=5).json()["checks"]:
                        return self
                    time.sleep(0.1)
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop(kill=True)  # never leave a half-started server behind
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(20)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "home").start()
    yield s
    s.stop()


def wait_for_job(client: httpx.Client, location: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {location} did not finish in {timeout}s")


def upload_and_train(http: httpx.Client, *model_types: str, **body) -> list[dict]:
    """The subscriptions data set uploaded once as "subs", then one training per type, each waited for."""
    if http.get("/datasets").json()["items"][-1]["name"] != "subs":
        files = {"file": ("subs.csv", subscriptions_csv(), "text/csv")}
        assert http.post("/datasets", files=files, data={"name": "subs", "target": "left", "id_column": "account"}).status_code == 201
    jobs = []
    for model_type in model_types:
        response = http.post("/train", json={"dataset": "subs", "model_type": model_type, **body})
        assert response.status_code == 202, response.text
        jobs.append(wait_for_job(http, response.headers["Location"]))
    assert all(j["status"] == "succeeded" for j in jobs), jobs
    return jobs
