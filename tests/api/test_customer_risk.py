"""The latest risk per customer through the API: the list by band, the counts, the CSV, and reasons."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import train, upload
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv

STORES = ("memory", "sqlite")  # the API on both embedded stores


def predict(client, customer_id, **changes):
    return client.post("/predict", json={"customer_id": customer_id, "features": {**SUBSCRIPTION_FEATURES, **changes}})


def scored_base(client):
    assert upload(client).status_code == 201
    train(client)
    client.post("/clients/import", files={"file": ("c.csv", subscriptions_csv(30), "text/csv")}, data={"id_column": "account"})
    for i in range(30):
        assert client.post(f"/clients/A{i:05d}/predict").status_code == 200


def test_a_prediction_carries_three_reasons_each_way_with_values(client, trained):
    body = predict(client, "A1").json()
    raising, lowering = body["reasons"]["raising"], body["reasons"]["lowering"]
    assert 1 <= len(raising) <= 3 and len(lowering) <= 3
    assert all(r["contribution"] > 0 for r in raising) and all(r["contribution"] < 0 for r in lowering)
    assert [r["contribution"] for r in raising] == sorted((r["contribution"] for r in raising), reverse=True)
    assert {r["feature"] for r in raising + lowering} <= set(SUBSCRIPTION_FEATURES)
    history = client.get("/clients/A1/predictions").json()["items"]
    assert history[0]["reasons"] == body["reasons"]
    assert client.get("/models/active").json()["explanation_method"] == "linear-exact"


def test_customers_are_listed_once_by_latest_risk_highest_first(client):
    scored_base(client)
    predict(client, "A00000")  # scored again: still one row
    page = client.get("/clients", params={"min_probability": 0, "limit": 100}).json()
    ids = [item["customer_id"] for item in page["items"]]
    assert len(ids) == len(set(ids)) == 30 == page["total"]
    probabilities = [item["churn_probability"] for item in page["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    latest = next(item for item in page["items"] if item["customer_id"] == "A00000")
    assert latest["prediction_id"] == client.get("/clients/A00000/predictions").json()["items"][0]["prediction_id"]
    counts = client.get("/clients/bands").json()
    assert counts["total"] == 30


def test_the_list_pages_by_cursor_and_filters_by_band_and_model(client):
    scored_base(client)
    counts = {item["label"]: item["count"] for item in client.get("/clients/bands").json()["items"]}
    band = max(counts, key=counts.get)
    seen, after = [], None
    while True:
        params = {"band": band, "limit": 4, **({"after": after} if after else {})}
        page = client.get("/clients", params=params).json()
        seen.extend(item["customer_id"] for item in page["items"])
        after = page["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == counts[band]
    assert client.get("/clients", params={"band": band, "model": "nobody"}).json()["total"] == 0
    assert client.get("/clients", params={"band": "90-100"}).status_code == 400
    assert client.get("/clients", params={"limit": 5}).json()["items"][0].keys() == {"customer_id", "attributes"}


def test_the_csv_export_has_every_customer_with_reasons(client):
    scored_base(client)
    response = client.get("/clients.csv", params={"min_probability": 0})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["customer_id", "churn_probability", "band", "model", "scored_at", "reasons_up", "reasons_down"]
    assert len(rows) == 31 and all(row[5] or row[6] for row in rows[1:])
    same = client.get("/clients", params={"min_probability": 0}, headers={"accept": "text/csv"})
    assert list(csv.reader(io.StringIO(same.text))) == rows


def test_a_customer_id_that_looks_like_a_formula_is_neutralised_in_the_csv(client, trained):
    predict(client, "=HYPERLINK(\"http://x\")")
    rows = list(csv.reader(io.StringIO(client.get("/clients.csv").text)))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"
