"""Access control, limits, readiness, metrics, request ids and fault handling over HTTP."""

import pytest
from fastapi.testclient import TestClient

from churn.errors import RegistryUnavailableError, StoreUnavailableError
from churn.versions import ModelRef
from entrypoints.api.app import create_app
from tests.api.conftest import make_container, train, upload
from tests.support.datasets import SUBSCRIPTION_FEATURES

ADMIN_KEY = "admin-key-0123456789"
PREDICT_KEY = "predict-key-0123456789"


@pytest.fixture
def secured(tmp_path):
    container = make_container(tmp_path, api_keys=f"{ADMIN_KEY}:admin,{PREDICT_KEY}:predict")
    with TestClient(create_app(container)) as client:
        yield client


def test_without_a_key_calls_are_401_and_health_stays_open(secured):
    assert secured.get("/health").status_code == 200
    response = secured.get("/models")
    assert response.status_code == 401 and "X-API-Key" in response.json()["message"]
    assert secured.get("/models", headers={"X-API-Key": "wrong-key-0123456789"}).status_code == 401


def test_a_predict_key_can_read_and_score_but_not_train(secured):
    headers = {"X-API-Key": PREDICT_KEY}
    assert secured.get("/models", headers=headers).status_code == 200
    assert secured.post("/predict", headers=headers, json={"features": {}}).status_code == 503
    response = secured.post("/train", headers=headers, json={"dataset": "x", "model_type": "knn"})
    assert response.status_code == 403 and "admin" in response.json()["message"]


def test_an_admin_key_can_do_everything(secured):
    headers = {"X-API-Key": ADMIN_KEY}
    files = {"file": ("d.csv", b"a,left\n1,0\n5,1\n3,0\n9,1\n", "text/csv")}
    assert secured.post("/datasets", headers=headers, files=files, data={"name": "d", "target": "left"}).status_code == 201
    assert secured.get("/predictions/bands", headers=headers).status_code == 200


def test_the_openapi_document_declares_the_key_header(secured):
    schemes = secured.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "a key from CHURN_API_KEYS"}


def test_a_predict_body_over_the_limit_is_413_and_stores_nothing(tmp_path):
    with TestClient(create_app(make_container(tmp_path, max_request_kb=1))) as client:
        upload(client)
        train(client)
        big = dict(SUBSCRIPTION_FEATURES, plan="x" * 2000)
        response = client.post("/predict", json={"features": big})
        assert response.status_code == 413 and response.json()["error"] == "too_large"
        assert client.get("/predictions/bands").json()["total"] == 0


def test_readiness_names_what_is_missing_then_turns_ready(client):
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["store"] == "ok" and response.json()["checks"]["active_model"].startswith("none")
    upload(client)
    train(client)
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["active_model"] == "churn-logistic_regression:1"


def test_request_id_is_echoed_or_made_up(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    assert len(client.get("/health").headers["X-Request-ID"]) == 32
    assert client.get("/health", headers={"X-Request-ID": "bad id\n"}).headers["X-Request-ID"] != "bad id\n"


def test_metrics_count_requests_predictions_jobs_and_cache(client, trained):
    client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES})
    client.get("/clients/A1/predictions")
    text = client.get("/metrics").text
    assert 'churn_http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'route="/clients/{customer_id}/predictions"' in text and "A1" not in text
    assert 'churn_predictions_total{band=' in text and 'model="churn-logistic_regression:1"' in text
    assert 'churn_training_jobs_total{status="succeeded"} 1.0' in text
    assert "churn_model_cache_hits_total" in text and "churn_http_request_duration_seconds_bucket" in text


def test_predict_says_where_its_time_went_in_the_response_and_in_metrics(client, trained):
    response = client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES})
    stages = dict(part.strip().split(";dur=") for part in response.headers["server-timing"].split(","))
    assert list(stages) == ["parse", "validate", "score", "store"]
    assert all(float(ms) >= 0 for ms in stages.values())
    text = client.get("/metrics").text
    for stage in stages:
        assert f'churn_predict_stage_observations_total{{stage="{stage}"}} 1.0' in text
        assert f'churn_predict_stage_seconds_total{{stage="{stage}"}}' in text


def test_store_outage_is_503_with_retry_after_and_heals_without_restart(client, container, trained, monkeypatch):
    repository = container.predictions()
    real_add = repository.add

    def down(prediction):
        raise StoreUnavailableError("store unavailable: database is locked")

    monkeypatch.setattr(repository, "add", down)
    response = client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "store_unavailable"
    monkeypatch.setattr(repository, "add", real_add)
    assert client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES}).status_code == 200
    assert client.get("/clients/A1/predictions").json()["total"] == 1


def test_registry_outage_keeps_scoring_with_the_cached_model_and_shows_in_ready(client, container, trained, monkeypatch):
    registry = container.registry()

    def down(*args):
        raise RegistryUnavailableError("model registry unreachable: connection refused")

    monkeypatch.setattr(registry, "active", down)
    monkeypatch.setattr(registry, "register", down)
    container.active_model()._checked_at = -1e9  # force a re-read of the registry pointer on the next request
    assert client.post("/predict", json={"features": SUBSCRIPTION_FEATURES}).status_code == 200
    ready = client.get("/ready")
    assert ready.status_code == 503 and "unreachable" in ready.json()["checks"]["registry"]
    job = client.get(client.post("/train", json={"dataset": "subs", "model_type": "knn"}).headers["Location"]).json()
    assert job["status"] == "failed" and "unreachable" in job["error"]


def test_a_corrupt_artifact_is_409_logged_and_the_previous_model_keeps_serving(client, container, trained, caplog):
    caplog.set_level("WARNING", logger="churn.api")
    train(client, "knn", activate=False)
    container.registry().break_artifact(ModelRef("churn-knn", 1))
    response = client.post("/use-model", json={"name": "churn-knn", "version": 1})
    assert response.status_code == 409 and response.json()["error"] == "model_artifact_unusable"
    assert any("churn-knn:1" in r.getMessage() for r in caplog.records if r.name == "churn.api")
    assert client.get("/models/active").json()["name"] == "churn-logistic_regression"


def test_error_bodies_never_echo_submitted_values(client, trained):
    secret = "4111-1111-1111-1111"
    bodies = [
        {"customer_id": "A1", "features": dict(SUBSCRIPTION_FEATURES, age=secret)},
        {"customer_id": "A1", "features": dict(SUBSCRIPTION_FEATURES, **{secret: 1})},
        {"customer_id": ["not", secret], "features": SUBSCRIPTION_FEATURES},
    ]
    for body in bodies:
        response = client.post("/predict", json=body)
        assert response.status_code == 400
        if secret in body["features"]:
            continue  # an unknown feature is named by its key, which the caller chose as a name
        assert secret not in response.text


def test_access_log_by_default_keeps_failures_with_their_request_id(client, caplog):
    caplog.set_level("INFO", logger="churn.access")
    client.get("/health")
    client.get("/clients/nobody", headers={"X-Request-ID": "trace-42"})
    lines = [(r.fields["route"], r.fields["status"]) for r in caplog.records if r.name == "churn.access"]
    assert lines == [("/clients/{customer_id}", 404)]


def test_json_log_lines_carry_the_request_id(tmp_path, caplog):
    import json

    from entrypoints.api.observability import JsonFormatter

    with TestClient(create_app(make_container(tmp_path, access_log="all"))) as client:
        caplog.set_level("INFO", logger="churn.access")
        client.get("/health", headers={"X-Request-ID": "trace-43"})
    record = next(r for r in caplog.records if r.name == "churn.access")
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["route"], line["status"]) == ("trace-43", "/health", 200)


def test_every_operation_documented_as_secured_refuses_a_call_without_a_key(secured):
    """The OpenAPI document and the behaviour agree, the lean /predict route included."""
    paths = secured.get("/openapi.json").json()["paths"]
    secured_operations = [
        (method, path) for path, operations in paths.items() for method, operation in operations.items() if operation.get("security")
    ]
    assert ("post", "/predict") in secured_operations and len(secured_operations) > 15
    for method, path in secured_operations:
        url = path.replace("{", "").replace("}", "")  # any value will do for a path parameter
        response = secured.request(method.upper(), url, json={})
        assert response.status_code == 401, (method, path, response.status_code)
    assert secured.get("/predictions/bands", headers={"X-API-Key": PREDICT_KEY}).json()["total"] == 0


def test_promtool_finds_nothing_wrong_with_the_metrics(client, trained):
    from tests.support.promtool import promtool_problems

    client.post("/predict", json={"customer_id": "A1", "features": SUBSCRIPTION_FEATURES})
    client.post("/predict", json={"features": SUBSCRIPTION_FEATURES, "model": "churn-logistic_regression:9"})
    problems = promtool_problems(client.get("/metrics").text)
    if problems is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    assert problems == []


def test_every_route_is_labelled_by_its_template_even_when_answered_before_routing(client):
    client.get("/metrics")
    client.get("/docs")
    client.get("/openapi.json")
    client.post("/predict", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"})
    text = client.get("/metrics").text
    for route, status in (("/metrics", 200), ("/docs", 200), ("/openapi.json", 200), ("/predict", 413)):
        assert f'route="{route}",status="{status}"' in text, route
    assert 'route="unmatched",status="200"' not in text and 'route="unmatched",status="413"' not in text


def test_process_metrics_are_exported(client):
    text = client.get("/metrics").text
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"):
        assert f"\n{name} " in text, name


def test_health_answers_while_start_up_is_still_under_way_and_ready_says_so(tmp_path):
    import threading

    container = make_container(tmp_path)
    release = threading.Event()
    real_sync = container.sync_model_records()

    class SlowSync:  # a registry that takes its time answering at start-up
        def execute(self):
            release.wait(30)
            return real_sync.execute()

    container.sync_model_records.override(SlowSync())
    try:
        with TestClient(create_app(container, background_start=True)) as client:
            assert client.get("/health").status_code == 200
            starting = client.get("/ready")
            assert starting.status_code == 503 and starting.json()["checks"]["startup"] == "in progress"
            release.set()
            assert client.app.state.started.wait(30)
            assert "startup" not in client.get("/ready").json()["checks"]
    finally:
        release.set()
        container.sync_model_records.reset_override()
