"""Beyond one machine, with real processes on loopback: redis-server, PostgreSQL, `mlflow server` on
PostgreSQL serving the artifacts itself, two `main.py serve` replicas with different CHURN_HOME folders
(no shared artifact disk) and two `main.py worker` processes, all configured by the same CHURN_*
variables as compose.yaml. The replicas share one store: a SQLite file both open (MongoDB cannot run
on this machine; compose.yaml uses MongoDB). One set of servers serves the whole module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapters.mlflow_registry import MODEL_FILE

from tests.e2e.conftest import ROOT, Server, wait_for_job
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv
from tests.support.servers import MlflowServer

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("scale-out")]  # one set of servers, on one xdist worker (--dist loadgroup)

LEASE_SECONDS = "6"  # long enough for a worker starved by a busy machine to keep beating


class Worker:
    """A `main.py worker` process."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = {**os.environ, **env, "CHURN_HOME": str(home)}
        self.log = home / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.home.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        earlier = self.log.stat().st_size  # a restarted worker appends to the log of the one before
        self.process = subprocess.Popen([sys.executable, "main.py", "worker"], cwd=ROOT, env=self.env, stdout=out, stderr=out)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # listening once RQ says so
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()[-3000:]}")
            if b"Listening on" in self.log.read_bytes()[earlier:]:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker did not start: {self.log.read_text()[-3000:]}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def carry_on(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # RQ's warm shutdown: the current job ends first
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class Cluster:
    def __init__(self, replicas: list[Server], workers: list[Worker], mlflow: MlflowServer) -> None:
        self.a, self.b = replicas
        self.workers = workers
        self.mlflow = mlflow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_server, mlflow_on_postgres):
    root = tmp_path_factory.mktemp("scale-out")
    env = {
        "CHURN_JOB_RUNNER": "rq",
        "CHURN_BROKER_URL": redis_server.url,
        "CHURN_MLFLOW_TRACKING_URI": mlflow_on_postgres.url,
        "CHURN_SQLITE_PATH": str(root / "store" / "churn.db"),  # the one shared store (see the module docstring)
        "CHURN_JOB_LEASE_SECONDS": LEASE_SECONDS,
        "CHURN_ACTIVE_REFRESH_SECONDS": "0.5",
        "CHURN_SCORING_CHUNK_SIZE": "200",  # the sample's 2,000 customers and 240 more: 12 chunks
        "CHURN_SCORING_BATCH": "10",  # twenty batches per chunk, so a chunk is seen part done (columnar batches of 50 went by unseen)
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    }
    (root / "store").mkdir()
    replicas = [Server(root / "replica-a", **env), Server(root / "replica-b", **env, CHURN_LOAD_SAMPLE="false")]
    workers = [Worker(root / f"worker-{n}", env) for n in (1, 2)]
    try:
        replicas[0].start(timeout=120)  # the first creates the store's schema, then the others start together
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda process: process.start(), [replicas[1], *workers]))
        yield Cluster(replicas, workers, mlflow_on_postgres.ready())  # the processes follow the registry once it answers
    finally:
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda process: process.stop(), [*replicas, *workers]))


def active_version(server: Server) -> dict | None:
    response = httpx.get(f"{server.url}/models/active", timeout=30)
    return response.json() if response.status_code == 200 else None


def test_workers_have_imported_what_a_training_needs_before_the_first_one(cluster):
    """First in the module: no training has run yet. matplotlib's font extension is mapped only once
    the charts module (adapters.evaluation_plots) is imported, so a worker that maps it imported it ahead."""
    for worker in cluster.workers:
        maps = Path(f"/proc/{worker.pid}/maps").read_text()
        assert "matplotlib/ft2font" in maps, "the worker did not import the charts module before its first training"


def test_trained_on_a_worker_activated_on_one_replica_served_by_both_through_the_mlflow_server(cluster):
    with cluster.a.client() as a, cluster.b.client() as b:
        upload = a.post(
            "/datasets",
            files={"file": ("subs.csv", subscriptions_csv(), "text/csv")},
            data={"name": "subs", "target": "left", "id_column": "account"},
        )
        assert upload.status_code == 201, upload.text
        trained = []
        for model_type in ("logistic_regression", "decision_tree"):
            response = a.post("/train", json={"dataset": "subs", "model_type": model_type, "activate": False, "cv_folds": 0})
            assert response.status_code == 202, response.text
            trained.append(wait_for_job(b, response.headers["Location"]))  # the job's status read on the other replica
        assert [j["status"] for j in trained] == ["succeeded", "succeeded"], trained

        ref = trained[1]["model"]
        assert b.post("/use-model", json=ref).status_code == 200
        deadline = time.monotonic() + 30
        while (active_version(cluster.a) or {}).get("version") != ref["version"] and time.monotonic() < deadline:
            time.sleep(0.2)
        answers = [http.post("/predict", json={"customer_id": "A7", "features": SUBSCRIPTION_FEATURES}) for http in (a, b)]
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        assert [r.json()["model"] for r in answers] == [ref, ref]
        assert answers[0].json()["churn_probability"] == answers[1].json()["churn_probability"]
        assert b.get("/clients/A7/predictions").json()["total"] == 2  # one store behind both replicas

    for replica in (cluster.a, cluster.b):  # each downloaded the version from the server into its own cache
        assert not (replica.home / "mlartifacts").exists()
        assert (replica.home / "model-cache" / ref["name"] / str(ref["version"]) / MODEL_FILE).is_file()
    assert list((cluster.mlflow.folder / "artifacts").rglob(MODEL_FILE)), "the server holds the artifacts"


def test_a_worker_killed_during_a_training_leaves_the_job_failed_with_the_reason_and_no_new_version(cluster):
    with cluster.a.client() as a, cluster.b.client() as b:
        before = [(m["name"], m["version"]) for m in b.get("/models").json()["items"]]
        slow = {"dataset": "sample", "model_type": "gradient_boosting", "hyperparameters": {"n_estimators": 1000, "max_depth": 10}}
        location = a.post("/train", json=slow).headers["Location"]
        deadline = time.monotonic() + 60
        while (job := b.get(location).json())["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job["status"] == "running", job
        (holder,) = [w for w in cluster.workers if f":{w.pid}:" in stored_owner(cluster, job["job_id"])]
        holder.kill()

        deadline = time.monotonic() + 60
        while (job := a.get(location).json())["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (job["status"], job["error"]) == ("failed", "interrupted")
        assert [(m["name"], m["version"]) for m in b.get("/models").json()["items"]] == before

        # the other worker goes on taking trainings
        response = b.post("/train", json={"dataset": "subs", "model_type": "logistic_regression", "activate": False, "cv_folds": 0})
        assert wait_for_job(a, response.headers["Location"])["status"] == "succeeded"


def stored_owner(cluster: Cluster, job_id: str) -> str:
    """The job's owner as the store holds it (the API does not show it): the worker process's identity."""
    import sqlite3

    path = cluster.a.env["CHURN_SQLITE_PATH"]
    with sqlite3.connect(path) as db:
        (document,) = db.execute("SELECT json_extract(document, '$.owner') FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return document or ""


def test_a_scoring_run_split_over_both_workers_scores_each_customer_once_even_with_a_worker_killed_mid_chunk(cluster):
    """One worker waits (SIGSTOP) while the other takes the first chunks; it is killed once the store
    shows it part way through a chunk; the first then takes the remaining chunks, and the killed one's
    chunk goes on where the store says it got to (taken over after the lease, or queued again by a resume)."""
    for worker in cluster.workers:  # the training kill above left one worker dead: a new process in its place
        if not worker.alive:
            worker.start()
    waiting, first = cluster.workers
    with cluster.a.client() as a, cluster.b.client() as b:
        imported = a.post("/clients/import", files={"file": ("subs.csv", subscriptions_csv(), "text/csv")}, data={"id_column": "account"})
        assert imported.status_code == 200, imported.text
        waiting.pause()
        try:
            started = a.post("/scoring-runs", json={})
            assert started.status_code == 202, started.text
            location = started.headers["Location"]
            assert len(started.json()["chunks"]) == -(-started.json()["total"] // 200)  # pages of CHURN_SCORING_CHUNK_SIZE
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # progress read on the other replica
                run = b.get(location).json()
                if any(c["status"] == "running" and c["done"] > 0 and f":{first.pid}:" in (c["worker"] or "") for c in run["chunks"]):
                    break
                time.sleep(0.02)
            else:
                raise AssertionError(f"no chunk seen part done: {run}")
            first.kill()
        finally:
            waiting.carry_on()
        at_kill = b.get(location).json()
        assert at_kill["status"] == "running" and any(c["status"] != "succeeded" for c in at_kill["chunks"]), at_kill

        deadline = time.monotonic() + 120
        while (run := a.get(location).json())["status"] != "succeeded" and time.monotonic() < deadline:
            if run["status"] == "interrupted":  # the killed worker's chunk was the last one left: hand it out again
                assert a.post(f"{location}/resume").status_code in (202, 409)
            time.sleep(0.2)
        assert run["status"] == "succeeded", run
        assert run["done"] == run["total"] == b.get("/clients").json()["total"] and run["scored"] >= 200
    assert all(c["status"] == "succeeded" for c in run["chunks"])
    assert sorted(run["workers"]) == sorted(i for i in run["workers"] if any(f":{w.pid}:" in i for w in (waiting, first)))
    assert [any(f":{w.pid}:" in i for i in run["workers"]) for w in (waiting, first)] == [True, True]  # both workers did chunks
    import sqlite3

    with sqlite3.connect(cluster.a.env["CHURN_SQLITE_PATH"]) as db:
        rows, customers = db.execute("SELECT count(*), count(DISTINCT customer_id) FROM predictions WHERE run_id = ?", (run["run_id"],)).fetchone()
    assert rows == customers == run["scored"]  # one prediction of this run per customer
