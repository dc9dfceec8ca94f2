import pytest

from tests.api.conftest import train
from tests.support.datasets import SUBSCRIPTION_FEATURES

STORES = ("memory", "sqlite")  # the API on both embedded stores


def predict(client, features=None, customer_id="A1"):
    return client.post("/predict", json={"customer_id": customer_id, "features": features or SUBSCRIPTION_FEATURES})


def test_no_active_model_is_503_saying_how_to_get_one(client):
    response = predict(client)
    assert response.status_code == 503 and "POST /train" in response.json()["message"]
    assert response.headers["Retry-After"]
    assert client.get("/models/active").status_code == 404


def test_prediction_answers_the_contract_and_is_stored(client, trained):
    body = predict(client).json()
    assert set(body) == {"prediction_id", "customer_id", "churn_probability", "churn", "band", "model", "created_at", "reasons", "run_id"}
    assert set(body["reasons"]) == {"raising", "lowering"}
    assert body["band"] in {"0-25", "25-50", "50-75", "75-100"}
    assert body["churn"] == (body["churn_probability"] >= 0.5)
    history = client.get("/clients/A1/predictions").json()
    assert history["total"] == 1 and history["items"][0] == body


def test_wrong_features_get_400_listing_every_problem_with_an_example(client, trained):
    features = dict(SUBSCRIPTION_FEATURES, age="thirty-three", colour="red")
    del features["plan"]
    response = predict(client, features)
    assert response.status_code == 400
    body = response.json()
    assert {p["feature"]: p["problem"] for p in body["problems"]} == {
        "age": "expected a number, got a string",
        "plan": "missing",
        "colour": "unknown feature for this model",
    }
    example = body["expected_example"]
    assert set(example["features"]) == set(SUBSCRIPTION_FEATURES)
    assert predict(client, example["features"]).status_code == 200
    assert "thirty-three" not in response.text


def test_a_body_without_features_gets_400_with_the_active_models_example(client, trained):
    response = client.post("/predict", json={"customer_id": "A1"})
    assert response.status_code == 400
    assert set(response.json()["expected_example"]["features"]) == set(SUBSCRIPTION_FEATURES)


def test_malformed_json_on_predict_is_400(client, trained):
    response = client.post("/predict", content=b'{"features": ', headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_models_are_listed_newest_first_with_their_metadata(client, trained):
    train(client, "knn", activate=True)  # the listing, not promotion, is under test
    items = client.get("/models").json()["items"]
    assert [(m["name"], m["active"]) for m in items] == [("churn-knn", True), ("churn-logistic_regression", False)]
    first = items[1]
    assert first["dataset"] == "subs" and first["hyperparameters"]["C"] == 1.0 and first["training_seconds"] >= 0
    assert {"roc_auc", "brier"} <= set(first["metrics"])
    assert items[0]["serving_path"] and first["serving_path"] == "numpy-linear"  # both loaded here: the first was active


def test_use_model_switches_the_model_that_scores(client, trained):
    train(client, "knn")
    response = client.post("/use-model", json={"name": "churn-logistic_regression", "version": 1})
    assert response.status_code == 200 and response.json()["active"] is True
    assert predict(client).json()["model"] == {"name": "churn-logistic_regression", "version": 1}
    assert client.get("/models/active").json()["name"] == "churn-logistic_regression"


@pytest.mark.parametrize("body", [{"name": "churn-logistic_regression", "version": 9}, {"name": "nobody", "version": 1}])
def test_use_model_of_an_unknown_version_is_404_and_changes_nothing(client, trained, body):
    assert client.post("/use-model", json=body).status_code == 404
    assert client.get("/models/active").json()["name"] == "churn-logistic_regression"


def test_a_prediction_can_name_the_version_that_scores_it(client, trained):
    """Comparing versions, or a shadow test before /use-model, without switching what everyone gets."""
    train(client, "knn", activate=False)
    named = client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES, "model": "churn-knn:1"})
    assert named.status_code == 200 and named.json()["model"] == {"name": "churn-knn", "version": 1}
    assert client.post("/predict", json={"features": SUBSCRIPTION_FEATURES, "model": "churn-knn"}).json()["model"]["name"] == "churn-knn"
    assert predict(client).json()["model"]["name"] == "churn-logistic_regression"
    assert client.get("/predictions/bands", params={"model": "churn-knn:1"}).json()["total"] == 2
    batch = client.post("/predict/batch", json={"model": "churn-knn:1", "items": [{"features": SUBSCRIPTION_FEATURES}]})
    assert [p["model"]["name"] for p in batch.json()["items"]] == ["churn-knn"]


@pytest.mark.parametrize(
    "model, status, says", [("churn-knn:7", 404, "not found"), ("nobody", 404, "GET /models"), ("churn knn", 400, "name:version")]
)
def test_naming_a_version_that_cannot_score_is_a_clear_4xx_and_stores_nothing(client, trained, model, status, says):
    response = client.post("/predict", json={"features": SUBSCRIPTION_FEATURES, "model": model})
    assert response.status_code == status and says in response.json()["message"]
    assert client.get("/predictions/bands").json()["total"] == 0


def test_batch_scores_and_stores_every_customer(client, trained):
    items = [{"customer_id": f"B{i}", "features": SUBSCRIPTION_FEATURES} for i in range(3)]
    response = client.post("/predict/batch", json={"items": items})
    assert response.status_code == 200 and [p["customer_id"] for p in response.json()["items"]] == ["B0", "B1", "B2"]
    assert client.get("/predictions/bands").json()["total"] == 3


def test_batch_with_one_bad_row_stores_nothing(client, trained):
    items = [{"features": SUBSCRIPTION_FEATURES}, {"features": {"age": 1}}]
    response = client.post("/predict/batch", json={"items": items})
    assert response.status_code == 400 and response.json()["problems"][0]["feature"].startswith("items[1].")
    assert client.get("/predictions/bands").json()["total"] == 0


def scored(client, n=12):
    for i in range(n):
        features = dict(SUBSCRIPTION_FEATURES, support_calls=i % 10, age=20 + 5 * i)
        assert predict(client, features, customer_id=f"C{i % 4}").status_code == 200


def test_band_listing_is_highest_risk_first_and_pages_by_offset_and_cursor(client, trained):
    scored(client)
    whole = client.get("/predictions", params={"min_probability": 0, "max_probability": 1, "limit": 1000}).json()
    probabilities = [p["churn_probability"] for p in whole["items"]]
    assert whole["total"] == 12 and probabilities == sorted(probabilities, reverse=True)
    first = client.get("/predictions", params={"min_probability": 0, "limit": 5}).json()
    second = client.get("/predictions", params={"min_probability": 0, "limit": 5, "after": first["next"]}).json()
    by_offset = client.get("/predictions", params={"min_probability": 0, "limit": 5, "offset": 5}).json()
    assert second["items"] == by_offset["items"] == whole["items"][5:10]


def test_band_listing_reports_the_band_and_counts_add_up(client, trained):
    scored(client)
    counts = {c["label"]: c["count"] for c in client.get("/predictions/bands").json()["items"]}
    for label, count in counts.items():
        page = client.get("/predictions", params={"band": label}).json()
        assert page["total"] == count and page["band"]["label"] == label
        assert all(p["band"] == label for p in page["items"])
    assert sum(counts.values()) == 12


@pytest.mark.parametrize(
    "params",
    [
        {"band": "80-100"},
        {"band": "75-100", "limit": 0},
        {"band": "75-100", "limit": 1001},
        {"band": "75-100", "offset": -1},
        {"band": "75-100", "limit": "many"},
        {"band": "75-100", "after": "garbage"},
        {"min_probability": 0.8, "max_probability": 0.2},
        {"band": "0-25", "model": "bad:version"},
    ],
)
def test_bad_listing_parameters_get_400_with_the_allowed_values(client, params):
    response = client.get("/predictions", params=params)
    assert response.status_code == 400 and response.json()["message"]


def test_model_filter_narrows_the_listing(client, trained):
    scored(client, 3)
    train(client, "knn", activate=True)
    scored(client, 2)
    assert client.get("/predictions", params={"min_probability": 0, "model": "churn-knn"}).json()["total"] == 2
    assert client.get("/predictions", params={"min_probability": 0, "model": "churn-logistic_regression:1"}).json()["total"] == 3
    assert client.get("/predictions/bands", params={"model": "churn-knn"}).json()["total"] == 2
