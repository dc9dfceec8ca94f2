"""Outcomes and realised performance through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.conftest import train, upload
from tests.support.datasets import subscriptions_csv

STORES = ("memory", "sqlite")  # the API on both embedded stores


def test_outcomes_come_in_as_json_or_csv_and_the_version_is_measured_on_them(client):
    assert upload(client).status_code == 201
    train(client)
    client.post("/clients/import", files={"file": ("c.csv", subscriptions_csv(40), "text/csv")}, data={"id_column": "account"})
    assert client.post("/scoring-runs", json={}).status_code == 202
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    one = client.post("/outcomes", json={"customer_id": "A00000", "churned": True, "observed_at": tomorrow})
    assert one.status_code == 200 and one.json()["inserted"] == 1
    lines = ["customer_id,churned,observed_at"] + [f"A{i:05d},{'yes' if i % 3 == 0 else 'no'},{tomorrow}" for i in range(1, 40)]
    csv_body = ("\n".join([*lines, f"A00001,bogus,{tomorrow}"]) + "\n").encode()
    report = client.post("/outcomes/import", files={"file": ("o.csv", csv_body, "text/csv")}).json()
    assert (report["inserted"], len(report["rejected"])) == (39, 1)
    again = client.post("/outcomes/import", files={"file": ("o.csv", csv_body, "text/csv")}).json()
    assert (again["inserted"], again["unchanged"]) == (0, 39)
    performance = client.get("/models/churn-logistic_regression/1/performance", params={"horizon_days": 90}).json()
    assert performance["matched"] == 40 and performance["predictions_with_outcome"] == 40 and performance["predictions_without_outcome"] == 0
    assert 0.0 <= performance["roc_auc"] <= 1.0 and performance["threshold"] == 0.5
    assert sum(b["predictions"] for b in performance["bands"]) == 40 and len(performance["reliability"]) == 10
    assert client.get("/models/churn-logistic_regression/9/performance").status_code == 404
    assert client.get("/models/churn-logistic_regression/1/performance", params={"horizon_days": 0}).status_code == 400
    assert client.post("/outcomes", json={"customer_id": "A1", "churned": "maybe", "observed_at": "2026-01-01"}).status_code == 400
