"""`serve --workers 2`: two processes on one store following a switch made through either (two
servers on one store: test_resilience.py; split so the two files run on both test workers)."""

import time

import pytest

from tests.e2e.conftest import Server, upload_and_train
from tests.support.datasets import SUBSCRIPTION_FEATURES
from tests.support.promtool import promtool_problems

pytestmark = pytest.mark.e2e


def sample(text: str, series: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(series + " ")]
    return sum(values) if values else float("nan")


def test_several_worker_processes_serve_store_and_follow_a_switch_together(tmp_path):
    """`serve --workers 2`: requests land on either process; both store into one store and follow
    a switch made through the other within the refresh interval."""
    server = Server(tmp_path / "home", CHURN_WORKERS="2", CHURN_ACTIVE_REFRESH_SECONDS="1").start()
    try:
        with server.client() as http:
            upload_and_train(http, "logistic_regression", "knn", cv_folds=0)
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
