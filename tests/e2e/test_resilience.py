"""Faults against real processes: a kill during training, two processes on one store, swaps under load."""

import threading
import time

import httpx
import pytest

from tests.e2e.conftest import Server, wait_for_job
from tests.support.promtool import promtool_problems
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv

pytestmark = pytest.mark.e2e


def upload_and_train(http: httpx.Client, *model_types: str, **body) -> list[dict]:
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


def sample(text: str, series: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series + " ")]
    return sum(values) if values else float("nan")


def test_several_worker_processes_serve_store_and_follow_a_switch_together(tmp_path):
    """`serve --workers 2`: requests land on either process; both store into one store and follow
    a switch made through the other within the refresh interval."""
    server = Server(tmp_path / "home", CHURN_WORKERS="2", CHURN_ACTIVE_REFRESH_SECONDS="1").start()
    try:
        with server.client() as http:
            upload_and_train(http, "logistic_regression", "knn")
            http.post("/use-model", json={"name": "churn-logistic_regression", "version": 1}).raise_for_status()
            time.sleep(2.5)  # both processes have re-read the active pointer
            served = [http.post("/predict", json={"customer_id": f"w-{n}", "features": SUBSCRIPTION_FEATURES}) for n in range(40)]
            assert {r.status_code for r in served} == {200}
            assert {r.json()["model"]["name"] for r in served} == {"churn-logistic_regression"}
            assert http.get("/predictions/bands").json()["total"] == 40
            assert http.get("/clients/w-7/predictions").json()["total"] == 1
            # Every scrape, whichever process answers it, counts the requests of both.
            scrapes = [http.get("/metrics").text for _ in range(8)]
            served_counts = [sample(text, 'churn_http_requests_total{method="POST",route="/predict",status="200"}') for text in scrapes]
            assert served_counts == [40.0] * 8
            assert all(sample(text, "process_resident_memory_bytes") > 0 for text in scrapes)
            assert promtool_problems(scrapes[-1]) in ([], None)
    finally:
        server.stop()


def test_a_switch_on_one_process_is_followed_by_another_on_the_same_store(tmp_path):
    home = tmp_path / "home"
    first = Server(home, CHURN_ACTIVE_REFRESH_SECONDS="1").start()
    second = Server(home, CHURN_ACTIVE_REFRESH_SECONDS="1").start()
    try:
        with first.client() as a, second.client() as b:
            upload_and_train(a, "logistic_regression", "knn")
            a.post("/use-model", json={"name": "churn-logistic_regression", "version": 1}).raise_for_status()
            deadline = time.monotonic() + 10
            seen = None
            while time.monotonic() < deadline:
                seen = b.post("/predict", json={"features": SUBSCRIPTION_FEATURES}).json().get("model")
                if seen == {"name": "churn-logistic_regression", "version": 1}:
                    break
                time.sleep(0.2)
            assert seen == {"name": "churn-logistic_regression", "version": 1}
            assert b.get("/models/active").json()["name"] == "churn-logistic_regression"
    finally:
        first.stop()
        second.stop()


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
