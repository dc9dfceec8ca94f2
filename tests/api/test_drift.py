"""Drift through the API and on /metrics."""

from __future__ import annotations

from dataclasses import replace

from churn.versions import ModelRecord, ModelRef
from tests.api.conftest import train, upload
from tests.support.datasets import SUBSCRIPTION_FEATURES


def _predict(client, **changes):
    response = client.post("/predict", json={"features": {**SUBSCRIPTION_FEATURES, **changes}})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_version_reads_its_drift_per_feature_and_it_is_a_gauge_per_version(client, container):
    assert upload(client).status_code == 201
    train(client)
    for calls in range(8):
        _predict(client, support_calls=calls, plan="premium")
    body = client.get("/models/churn-logistic_regression/1/drift", params={"days": 7}).json()
    assert body["model"] == {"name": "churn-logistic_regression", "version": 1} and body["days"] == 7
    assert body["predictions"] == 8 and body["sampled"] is False and body["reference_rows"] > 100
    drift = {f["feature"]: f for f in body["features"]}
    assert set(drift) == set(SUBSCRIPTION_FEATURES)
    # every request was a premium plan, about a third of the training rows: shifted; the bins hold both sides' shares
    assert drift["plan"]["reading"] == "shifted" and drift["plan"]["psi"] > 0.25
    assert abs(sum(b["expected"] for b in drift["plan"]["bins"]) - 1.0) < 1e-6
    assert {b["label"]: b["actual"] for b in drift["plan"]["bins"]}["premium"] == 1.0
    assert body["probability"]["feature"] == "churn_probability" and body["probability"]["psi"] is not None
    assert body["reading"] == "shifted"

    metrics = client.get("/metrics").text
    assert 'churn_feature_drift_psi{feature="plan",model="churn-logistic_regression:1"}' in metrics
    assert 'churn_drift_predictions{model="churn-logistic_regression:1"} 8.0' in metrics
    assert 'churn_probability_drift_psi{model="churn-logistic_regression:1"}' in metrics

    record = container.model_records().get(ModelRef("churn-logistic_regression", 1))
    container.model_records().save(ModelRecord(ModelRef("churn-before-drift", 1), replace(record.summary, drift_reference=None)))
    old = client.get("/models/churn-before-drift/1/drift")
    assert old.status_code == 409 and old.json()["error"] == "drift_reference_missing"
    assert "trained before drift references" in old.json()["message"]
    assert client.get("/models/churn-logistic_regression/9/drift").status_code == 404
    assert client.get("/models/churn-logistic_regression/1/drift", params={"days": 0}).status_code == 400
