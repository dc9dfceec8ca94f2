"""Trainings in a worker process: the model comes back usable; a worker killed mid-training fails
that training as interrupted and the next one runs in a fresh worker."""

from __future__ import annotations

import os
from pathlib import Path
import signal
import threading
import time
from datetime import datetime, timezone

import pytest

from adapters.process_trainer import ProcessTrainer
from adapters.sklearn_trainer import SklearnTrainer
from churn.feature_batches import check_records
from churn.model_types import CATALOG
from churn.training_options import TrainingOptions
from tests.support.profiling import profile_dataset
from churn.errors import TrainingFailedError
from churn.datasets import Dataset
from churn.training_jobs import INTERRUPTED
from churn.model_types import model_type
from churn.versions import ModelRef

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_customers.csv"

CSV = b"customer,tenure,plan,Churn\nc1,1,basic,Yes\nc2,30,premium,No\nc3,2,basic,Yes\nc4,50,premium,No\n"
DATASET = Dataset("toy", 4, ("customer", "tenure", "plan", "Churn"), "Churn", "Yes", 0.5, "h", datetime(2026, 1, 1, tzinfo=timezone.utc), id_column="customer")


@pytest.fixture
def trainer():
    trainer = ProcessTrainer("tests.support.blocking_trainer:BlockingTrainer")
    yield trainer
    trainer.shutdown()


def test_a_model_trained_in_a_worker_process_scores_here(trainer):
    trained = trainer.train(DATASET, CSV, model_type("logistic_regression"), {})
    assert trained.metrics["roc_auc"] == 0.8
    assert trained.model.score({"tenure": 5.0, "plan": "basic"}) == pytest.approx(0.5)
    assert trainer.worker_pids() and os.getpid() not in trainer.worker_pids()


def test_the_worker_trains_at_a_lower_cpu_priority_than_the_server(trainer):
    """A fit at the server's priority would take a full share of a busy machine from /predict."""
    trainer.train(DATASET, CSV, model_type("logistic_regression"), {})
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in trainer.worker_pids()] == [min(19, own + 10)]


def test_the_hold_out_is_read_in_the_worker_and_comes_back_whole(trainer):
    holdout = trainer.holdout(DATASET, CSV)
    assert holdout.labels == [1, 0, 1, 0]
    assert [row["plan"] for row in holdout.rows] == ["basic", "premium", "basic", "premium"]
    assert trainer.worker_pids()  # the pool was started for it


def test_a_worker_killed_mid_training_fails_it_as_interrupted_and_the_next_training_runs(trainer, tmp_path):
    marker = tmp_path / "worker.pid"
    outcome: dict = {}

    def train_blocking():
        try:
            trainer.train(DATASET, CSV, model_type("logistic_regression"), {"block": str(marker)})
        except TrainingFailedError as exc:
            outcome["error"] = exc.message

    thread = threading.Thread(target=train_blocking)
    thread.start()
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the worker never started the training"
    os.kill(int(marker.read_text()), signal.SIGKILL)
    thread.join(60)
    assert outcome == {"error": INTERRUPTED}
    again = trainer.train(DATASET, CSV, model_type("logistic_regression"), {})
    assert again.metrics["roc_auc"] == 0.8


ORPHAN_SCRIPT = """
import sys, threading
from adapters.process_trainer import ProcessTrainer
from tests.integration.test_process_trainer import CSV, DATASET
from churn.model_types import model_type
trainer = ProcessTrainer("tests.support.blocking_trainer:BlockingTrainer")
trainer.train(DATASET, CSV, model_type("logistic_regression"), {"block": sys.argv[1]})
"""


def test_workers_of_a_server_killed_with_sigkill_stop_too(tmp_path):
    """SIGKILL runs no shutdown: the worker notices its parent is gone and exits by itself."""
    import subprocess
    import sys
    from pathlib import Path

    marker = tmp_path / "worker.pid"
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT, str(marker)], cwd=root)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the worker never started the training"
        worker = int(marker.read_text())
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        deadline = time.monotonic() + 60
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), f"worker {worker} outlived the killed server"
    finally:
        if server.poll() is None:
            server.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by init) counts as gone
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_a_version_is_registered_by_the_worker_that_fitted_it_and_read_here():
    """The registration's bookkeeping (MLflow: SQLAlchemy, the skops dump) runs in the training
    worker, off the serving GIL; loading and the active pointer stay in this process."""
    from adapters.memory_registry import InMemoryModelRegistry
    from adapters.process_registry import ProcessRegistry
    from adapters.worker_pool import WorkerPool

    pool = WorkerPool(workers=1)
    trainer = ProcessTrainer("tests.support.blocking_trainer:BlockingTrainer", pool=pool)
    local = InMemoryModelRegistry()
    registry = ProcessRegistry(local, "tests.support.pid_registry:PidRegistry", {"name_prefix": "w-"}, pool)
    try:
        trained = trainer.train(DATASET, CSV, model_type("logistic_regression"), {})
        record = registry.register("churn-lr", trained.model, _summary(trained), {"chart.png": b"png"})
        assert record.ref == ModelRef("w-churn-lr", 1)  # built in the worker from the options given
        assert record.run_id == str(pool.pids()[0]) != str(os.getpid())
        assert trainer.worker_pids() == pool.pids()  # one pool: the worker that trained registered
        assert registry.records() == [] and registry.active() is None  # reads go to the local registry
    finally:
        pool.shutdown()


def _summary(trained):
    from churn.versions import TrainingSummary

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return TrainingSummary("logistic_regression", {}, dict(trained.metrics), "toy", "h", 4, trained.model.schema, 0.1, now, now)


def test_a_started_pool_spawns_its_worker_at_once_with_the_modules_it_preloads():
    """`start` (what a server calls as it starts) spawns the worker without waiting for a first
    training, and the worker imports what trainings need before any task arrives."""
    from adapters.worker_pool import WorkerPool
    from tests.support.worker_probe import imported

    pool = WorkerPool(workers=1, preload=("tests.support.pid_registry",))
    try:
        assert pool.pids() == []
        pool.start()
        assert len(pool.pids()) == 1
        assert pool.run(imported, "tests.support.pid_registry") is True
        assert pool.run(imported, "tests.support.blocking_trainer") is False  # only what it was told to preload
    finally:
        pool.shutdown()


@pytest.fixture(scope="module")
def sklearn_in_a_worker():
    trainer = ProcessTrainer()  # the real trainer in a spawned worker, as `main.py serve` runs it
    yield trainer
    trainer.shutdown()


@pytest.mark.parametrize("name", [kind.name for kind in CATALOG])
def test_every_model_type_comes_back_from_the_worker_scoring_and_explaining_as_in_process(sklearn_in_a_worker, name):
    """The model crosses the process boundary pickled: a part of it that cannot be (a closure, a lock)
    fails every training of its type through the service and no in-process test sees it (d143f19)."""
    content = SAMPLE.read_bytes()  # 2,000 rows: enough leaves for the default forest to be explained by its decision paths
    dataset = profile_dataset("sample", content, "Churn", "customerID", datetime(2026, 1, 1, tzinfo=timezone.utc))
    options = TrainingOptions(cv_folds=0)
    there = sklearn_in_a_worker.train(dataset, content, model_type(name), {}, options=options)
    here = SklearnTrainer().train(dataset, content, model_type(name), {}, options=options)
    columns = check_records(here.model.schema, [dict(row) for row in here.model.probe_rows]).columns
    assert there.metrics == here.metrics
    assert there.model.assess_many(columns) == here.model.assess_many(columns)
