"""The small contract breaks an operator found: each answer as the README promises it."""

from __future__ import annotations

import json

import pytest

from churn.customers import Customer
from tests.api.conftest import upload

def test_a_json_body_without_a_content_type_trains_like_it_predicts(client):
    assert upload(client).status_code == 201
    body = json.dumps({"dataset": "subs", "model_type": "logistic_regression"}).encode()
    response = client.post("/train", content=body)
    assert response.status_code == 202, response.text


def test_a_body_of_another_type_is_told_to_send_json(client):
    response = client.post("/train", content=b'{"dataset": "subs"}', headers={"content-type": "text/plain"})
    assert response.status_code == 400 and "application/json" in response.json()["message"]


def test_a_wrong_method_names_the_allowed_ones(client):
    response = client.delete("/predict")
    assert response.status_code == 405
    assert response.json() == {"error": "method_not_allowed", "message": "DELETE is not allowed on /predict; use POST (see /docs)"}


@pytest.mark.parametrize("url", ["/clients?colour=red", "/datasets?x=1", "/predictions?band=75-100&sort=asc", "/health?verbose=1"])
def test_unknown_query_parameters_are_refused_naming_the_allowed_ones(client, url):
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and "unknown query parameter" in response.json()["message"]


def test_an_unknown_query_parameter_on_predict_is_refused_too(client):
    response = client.post("/predict?debug=1", json={"features": {}})
    assert response.status_code == 400 and "debug" in response.json()["message"]


def test_integer_bounds_of_model_types_are_integers(client):
    items = {m["name"]: m for m in client.get("/model-types").json()["items"]}
    for model in items.values():
        for h in model["hyperparameters"]:
            if h["type"] == "int":
                assert isinstance(h["minimum"], int) and isinstance(h["maximum"], int), (model["name"], h)
    c = {h["name"]: h for h in items["logistic_regression"]["hyperparameters"]}["C"]
    assert isinstance(c["minimum"], float)


def customers(container, count):
    attributes = {"age": 40.0, "plan": "basic", "monthly_fee": 9.5, "support_calls": 2.0, "autopay": "yes"}
    container.customers().upsert_many([Customer(f"c{i:03d}", attributes) for i in range(count)])


def test_clients_pages_carry_a_next_cursor_that_reads_the_following_page(client, container):
    customers(container, 5)
    first = client.get("/clients?limit=2").json()
    assert [c["customer_id"] for c in first["items"]] == ["c000", "c001"] and first["next"]
    second = client.get(f"/clients?limit=2&after={first['next']}").json()
    third = client.get(f"/clients?limit=2&after={second['next']}").json()
    assert [c["customer_id"] for c in second["items"] + third["items"]] == ["c002", "c003", "c004"]
    assert third["next"] is None


@pytest.mark.parametrize("url", ["/clients?after=bogus", "/clients/c1/predictions?after=bogus", "/clients?after=WyJvZmZzZXQiLCAtM10"])
def test_a_bogus_after_is_a_400(client, container, url):
    customers(container, 2)
    response = client.get(url)
    assert response.status_code == 400 and response.json()["error"] == "invalid_page", response.text


def test_a_customer_history_carries_a_next_cursor(client, container, trained):
    customers(container, 1)
    for _ in range(3):
        assert client.post("/clients/c000/predict").status_code == 200
    first = client.get("/clients/c000/predictions?limit=1").json()
    assert first["total"] == 3 and first["next"]
    second = client.get(f"/clients/c000/predictions?limit=1&after={first['next']}").json()
    assert second["items"][0]["prediction_id"] != first["items"][0]["prediction_id"]
