"""Scoring runs through the API (inline runner: the run completes within the POST)."""

from __future__ import annotations

from tests.api.conftest import train, upload
from tests.support.datasets import subscriptions_csv


def test_a_scoring_run_scores_the_base_and_the_list_follows(client):
    assert upload(client).status_code == 201
    train(client)
    client.post("/clients/import", files={"file": ("c.csv", subscriptions_csv(25), "text/csv")}, data={"id_column": "account"})
    response = client.post("/scoring-runs", json={})
    assert response.status_code == 202, response.text
    run = client.get(response.headers["Location"]).json()
    assert run["status"] == "succeeded" and run["scored"] == 25 and run["done"] == run["total"] == 25
    assert run["model"]["version"] == 1 and run["rate"] > 0 and run["finished_at"]
    page = client.get("/clients", params={"min_probability": 0, "limit": 100}).json()
    assert page["total"] == 25 and {item["run_id"] for item in page["items"]} == {run["run_id"]}
    assert [r["run_id"] for r in client.get("/scoring-runs").json()["items"]] == [run["run_id"]]
    assert client.post(f"/scoring-runs/{run['run_id']}/resume").status_code == 409


def test_a_filtered_run_and_bad_requests(client):
    assert upload(client).status_code == 201
    train(client)
    client.post("/clients/import", files={"file": ("c.csv", subscriptions_csv(10), "text/csv")}, data={"id_column": "account"})
    run = client.post("/scoring-runs", json={"model": "churn-logistic_regression:1", "customers": {"ids": ["A00001", "A00002"]}}).json()
    assert (run["scored"], run["excluded"], run["total"]) == (2, 0, 2)  # the ids are looked up, the rest of the base is not read
    assert client.post("/scoring-runs", json={"model": "churn-logistic_regression:7"}).status_code == 404
    assert client.post("/scoring-runs", json={"model": "bad name!"}).status_code == 400
    assert client.post("/scoring-runs", json={"colour": "red"}).status_code == 400
    assert client.get("/scoring-runs/nope").status_code == 404


def test_no_active_model_is_503(client):
    assert client.post("/scoring-runs", json={}).status_code == 503
