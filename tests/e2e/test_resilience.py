"""Faults against real processes: a second process beside a training, a kill during it, swaps under
load. `serve --workers 2` on one store: test_replicas.py."""

import threading
import time

import pytest

from tests.e2e.conftest import Server, upload_and_train
from tests.support.datasets import SUBSCRIPTION_FEATURES

pytestmark = pytest.mark.e2e


SLOW = {"dataset": "sample", "model_type": "gradient_boosting", "hyperparameters": {"n_estimators": 1000, "max_depth": 10}}


def test_a_second_process_follows_a_switch_leaves_a_live_training_alone_and_fails_it_once_its_process_is_killed(tmp_path):
    """Two servers on one store. The second follows a switch made through the first. Starting, and
    checking the store's jobs for several leases, it leaves the first one's running training alone
    (before job leases, any starting process failed every unfinished job as interrupted). Once the
    first is killed mid-training, its lease runs out and the second fails that job as interrupted,
    with the active model unchanged."""
    home = tmp_path / "home"
    first = Server(home, CHURN_JOB_LEASE_SECONDS="2", CHURN_ACTIVE_REFRESH_SECONDS="1").start()
    second = Server(home, CHURN_JOB_LEASE_SECONDS="2", CHURN_ACTIVE_REFRESH_SECONDS="1", CHURN_LOAD_SAMPLE="false").start()
    try:
        with first.client() as a, second.client() as b:
            upload_and_train(a, "logistic_regression", hyperparameters={}, name="base", cv_folds=0)
            upload_and_train(a, "decision_tree", name="other", activate=False, cv_folds=0)
            a.post("/use-model", json={"name": "other", "version": 1}).raise_for_status()
            deadline = time.monotonic() + 10
            while (seen := b.post("/predict", json={"features": SUBSCRIPTION_FEATURES}).json().get("model")) != {"name": "other", "version": 1}:
                assert time.monotonic() < deadline, f"the second process still serves {seen}"
                time.sleep(0.2)
            a.post("/use-model", json={"name": "base", "version": 1}).raise_for_status()

            location = a.post("/train", json=SLOW).headers["Location"]
            deadline = time.monotonic() + 60
            while a.get(location).json()["status"] != "running" and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(3)  # more than a lease: the second process has checked the store's jobs several times
            assert (b.get(location).json()["status"], b.get(location).json()["error"]) == ("running", None)

            first.stop(kill=True)
            deadline = time.monotonic() + 30
            while (job := b.get(location).json())["status"] == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
            assert (job["status"], job["error"]) == ("failed", "interrupted")
            assert b.get("/models/active").json()["name"] == "base"
            assert sorted(m["name"] for m in b.get("/models").json()["items"]) == ["base", "other"]
    finally:
        first.stop()
        second.stop()


def test_fifty_model_swaps_under_load_fail_no_request_and_label_every_score_truly(tmp_path):
    server = Server(tmp_path / "home").start()
    try:
        with server.client() as http:
            jobs = upload_and_train(http, "logistic_regression", "decision_tree", cv_folds=0)
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
