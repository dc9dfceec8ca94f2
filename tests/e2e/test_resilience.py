"""Faults against real processes: a kill during training, a second process starting beside a training,
swaps under load. Several processes serving one store: test_replicas.py."""

import threading
import time

import pytest

from tests.e2e.conftest import Server, upload_and_train
from tests.support.datasets import SUBSCRIPTION_FEATURES

pytestmark = pytest.mark.e2e


def test_a_kill_during_training_leaves_the_job_failed_as_interrupted_and_the_model_unchanged(tmp_path):
    home = tmp_path / "home"
    server = Server(home).start()
    with server.client() as http:
        upload_and_train(http, "logistic_regression", hyperparameters={}, name="base")
        slow = {"dataset": "sample", "model_type": "gradient_boosting", "hyperparameters": {"n_estimators": 1000, "max_depth": 10}}
        location = http.post("/train", json=slow).headers["Location"]
        deadline = time.monotonic() + 60
        while http.get(location).json()["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert http.get(location).json()["status"] == "running"
    server.stop(kill=True)

    restarted = Server(home, CHURN_JOB_LEASE_SECONDS="1").start()  # the dead process's lease runs out in a second
    try:
        with restarted.client() as http:
            deadline = time.monotonic() + 30
            while (job := http.get(location).json())["status"] == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
            assert (job["status"], job["error"]) == ("failed", "interrupted")
            assert http.get("/models/active").json()["name"] == "base"
            assert [m["name"] for m in http.get("/models").json()["items"]] == ["base"]
    finally:
        restarted.stop()


def test_a_second_process_starting_on_the_store_leaves_a_running_training_alone(tmp_path):
    """Before job leases, any starting process (a second server, any CLI command) failed every
    unfinished job as interrupted, including the ones another live process was running."""
    home = tmp_path / "home"
    server = Server(home, CHURN_JOB_LEASE_SECONDS="2").start()
    try:
        with server.client() as http:
            slow = {"dataset": "sample", "model_type": "gradient_boosting", "hyperparameters": {"n_estimators": 1000, "max_depth": 10}}
            location = http.post("/train", json=slow).headers["Location"]
            deadline = time.monotonic() + 60
            while http.get(location).json()["status"] != "running" and time.monotonic() < deadline:
                time.sleep(0.05)
            other = Server(home, CHURN_JOB_LEASE_SECONDS="2").start()
            time.sleep(3)  # more than a lease: the other process has checked the store's jobs several times
            other.stop()
            job = http.get(location).json()
            assert (job["status"], job["error"]) == ("running", None)
    finally:
        server.stop()


def test_fifty_model_swaps_under_load_fail_no_request_and_label_every_score_truly(tmp_path):
    server = Server(tmp_path / "home").start()
    try:
        with server.client() as http:
            jobs = upload_and_train(http, "logistic_regression", "decision_tree")
            refs = [job["model"] for job in jobs]
            truth = {}
            for ref in refs:
                http.post("/use-model", json=ref).raise_for_status()
                truth[ref["name"]] = http.post("/predict", json={"features": SUBSCRIPTION_FEATURES}).json()["churn_probability"]
            assert truth[refs[0]["name"]] != truth[refs[1]["name"]]

            stop = threading.Event()
            results: list[tuple[int, dict]] = []

            def load():
                with server.client() as client:
                    while not stop.is_set():
                        response = client.post("/predict", json={"features": SUBSCRIPTION_FEATURES})
                        results.append((response.status_code, response.json()))

            workers = [threading.Thread(target=load) for _ in range(4)]
            for worker in workers:
                worker.start()
            for i in range(50):
                http.post("/use-model", json=refs[i % 2]).raise_for_status()
            stop.set()
            for worker in workers:
                worker.join(30)

            failed = [r for r in results if r[0] != 200]
            mislabelled = [b for s, b in results if s == 200 and b["churn_probability"] != truth[b["model"]["name"]]]
            served = {b["model"]["name"] for s, b in results if s == 200}
            print(f"swap under load: {len(results)} requests, 50 swaps, {len(failed)} failed, {len(mislabelled)} mislabelled")
            assert len(results) > 100 and failed == [] and mislabelled == []
            assert served == {refs[0]["name"], refs[1]["name"]}
    finally:
        server.stop()
