import pytest

from churn.model_types import CATALOG
from tests.api.conftest import train, upload
from tests.support.datasets import SUBSCRIPTION_FEATURES


def test_health_answers_while_the_process_is_up(client):
    assert client.get("/health").json() == {"status": "ok"}


def test_uploading_a_csv_describes_it_and_lists_it(client):
    response = upload(client)
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["rows"], body["target"], body["positive_label"]) == ("subs", 240, "left", "1")
    assert 0 < body["positive_rate"] < 1 and response.headers["Location"] == "/datasets/subs"
    assert [d["name"] for d in client.get("/datasets").json()["items"]] == ["subs"]


def test_a_taken_name_is_409_and_the_first_upload_stays(client):
    upload(client)
    response = upload(client, content=b"a,left\n1,0\n2,1\n3,0\n4,1\n", id_column=None)
    assert response.status_code == 409 and response.json()["error"] == "dataset_exists"
    assert client.get("/datasets").json()["items"][0]["rows"] == 240


@pytest.mark.parametrize(
    "content, target, fragment",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "left", "binary"),
        (b"a,b\n1,2\n", "left", "target column 'left' is not in the file"),
        (b"a,left\n1,0\n5,1\n3,2\n", "left", "exactly two values"),
        (b"a,left\n1,0\n5,1\n3,0\n", "left", "at least 2"),
    ],
)
def test_untrainable_files_get_400_with_the_reason(client, content, target, fragment):
    response = upload(client, content=content, target=target, id_column=None)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert client.get("/datasets").json()["items"] == []


def test_a_bad_data_set_name_is_400(client):
    response = upload(client, name="Not OK!")
    assert response.status_code == 400 and "data set name" in response.json()["message"]


def test_an_upload_over_the_size_limit_is_413(tmp_path):
    from fastapi.testclient import TestClient

    from entrypoints.api.app import create_app
    from tests.api.conftest import make_container

    with TestClient(create_app(make_container(tmp_path, max_upload_mb=0.001))) as client:
        response = upload(client)
    assert response.status_code == 413 and "limit" in response.json()["message"]


def test_model_types_list_every_type_with_defaults_and_ranges(client):
    items = {m["name"]: m for m in client.get("/model-types").json()["items"]}
    assert set(items) == {m.name for m in CATALOG}
    trees = {h["name"]: h for h in items["random_forest"]["hyperparameters"]}["n_estimators"]
    assert (trees["default"], trees["minimum"], trees["maximum"]) == (100, 1, 1000)


def test_training_is_queued_with_a_location_to_poll(client, deferred):
    upload(client)
    response = client.post("/train", json={"dataset": "subs", "model_type": "decision_tree"})
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["queue_position"]) == ("queued", 1)
    assert response.headers["Location"] == f"/jobs/{body['job_id']}"
    deferred.run_all()
    job = client.get(f"/jobs/{body['job_id']}").json()
    assert job["status"] == "succeeded" and job["model"] == {"name": "churn-decision_tree", "version": 1}
    assert {"roc_auc", "accuracy", "precision", "recall", "f1", "log_loss", "brier"} <= set(job["metrics"])
    assert job["started_at"] and job["finished_at"]


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"dataset": "subs", "model_type": "xgboost"}, 400, "valid types: logistic_regression"),
        ({"dataset": "subs", "model_type": "random_forest", "hyperparameters": {"n_estimators": 100000}}, 400, "n_estimators"),
        ({"dataset": "subs", "model_type": "random_forest", "hyperparameters": {"n_jobs": -1}}, 400, "n_jobs"),
        ({"dataset": "nope", "model_type": "knn"}, 404, "nope"),
        ({"dataset": "subs"}, 400, "model_type: missing"),
    ],
)
def test_bad_training_requests_are_refused(client, body, status, fragment):
    upload(client)
    response = client.post("/train", json=body)
    assert response.status_code == status and fragment in response.json()["message"]


def test_malformed_json_is_400_not_422(client):
    response = client.post("/train", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


def test_unknown_job_is_404(client):
    assert client.get("/jobs/does-not-exist").status_code == 404


@pytest.mark.parametrize("model_type", [m.name for m in CATALOG])
def test_every_model_type_trains_and_serves_a_never_seen_schema(client, model_type):
    upload(client)
    job = train(client, model_type)
    prediction = client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES})
    assert prediction.status_code == 200
    assert prediction.json()["model"] == job["model"]
    assert 0.0 <= prediction.json()["churn_probability"] <= 1.0
    model = client.get("/models/active").json()
    assert model["model_type"] == model_type and model["parity"] is not None and model["parity"] <= 1e-6
