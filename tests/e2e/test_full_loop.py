"""Upload → train → list → use-model → predict → 400, over HTTP against a real server, then a restart."""

import json

import pytest

from tests.e2e.conftest import Server, wait_for_job
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv

pytestmark = pytest.mark.e2e


def test_full_loop_on_a_schema_the_code_has_never_seen_survives_a_restart(tmp_path):
    server = Server(tmp_path / "home", fresh_mlflow=True).start()  # the very first start, MLflow's migrations included
    try:
        with server.client() as http:
            assert http.get("/datasets").json()["items"][0]["name"] == "sample"
            upload = http.post(
                "/datasets",
                files={"file": ("subs.csv", subscriptions_csv(), "text/csv")},
                data={"name": "subs", "target": "left", "id_column": "account"},
            )
            assert upload.status_code == 201, upload.text

            jobs = []
            for model_type in ("logistic_regression", "gradient_boosting"):
                response = http.post("/train", json={"dataset": "subs", "model_type": model_type, "activate": True})
                assert response.status_code == 202
                jobs.append(wait_for_job(http, response.headers["Location"]))
            assert [j["status"] for j in jobs] == ["succeeded", "succeeded"], jobs

            models = http.get("/models").json()["items"]
            assert [m["name"] for m in models] == ["churn-gradient_boosting", "churn-logistic_regression"]
            assert models[0]["active"] and models[0]["run_id"]

            switched = http.post("/use-model", json={"name": "churn-logistic_regression", "version": 1})
            assert switched.status_code == 200
            prediction = http.post("/predict", json={"customer_id": "A7", "features": SUBSCRIPTION_FEATURES})
            assert prediction.status_code == 200
            assert prediction.json()["model"] == {"name": "churn-logistic_regression", "version": 1}

            bad = http.post("/predict", json={"features": {"age": "old"}})
            assert bad.status_code == 400
            assert set(bad.json()["expected_example"]["features"]) == set(SUBSCRIPTION_FEATURES)
    finally:
        server.stop()

    restarted = Server(tmp_path / "home")
    restarted.port, restarted.url = server.port, server.url
    restarted.start()
    try:
        with restarted.client() as http:
            assert http.get("/models/active").json()["name"] == "churn-logistic_regression"
            assert len(http.get("/models").json()["items"]) == 2
            history = http.get("/clients/A7/predictions").json()
            assert history["total"] == 1 and history["items"][0] == prediction.json()
            assert http.get("/clients", params={"limit": 1}).json()["total"] == 2000
            again = http.post("/predict", json={"customer_id": "A7", "features": SUBSCRIPTION_FEATURES}).json()
            assert again["churn_probability"] == pytest.approx(prediction.json()["churn_probability"], abs=1e-9)
    finally:
        restarted.stop()
    # Every line the server printed, MLflow's and uvicorn's included, is a JSON object with the same fields.
    lines = [line for line in restarted.log.read_text().splitlines() if line.strip()]
    assert lines
    entries = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message", "request_id"} <= set(entry) for entry in entries)
    assert any(entry["logger"].startswith("mlflow") or entry["logger"].startswith("alembic") for entry in entries)
