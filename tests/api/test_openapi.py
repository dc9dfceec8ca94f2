"""The OpenAPI document tells the truth: every status an operation answers is declared with its body."""

from __future__ import annotations

import json

import pytest

from churn.bands import Band
from churn.training_jobs import JobStatus


@pytest.fixture
def doc(client):
    return client.get("/openapi.json").json()


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def test_no_operation_declares_a_422_and_no_validation_error_schema_is_left(doc):
    assert [(m, p) for m, p, op in operations(doc) if "422" in op["responses"]] == []
    assert not {"HTTPValidationError", "ValidationError"} & set(doc["components"]["schemas"])


def test_every_operation_declares_400_and_keyed_ones_401_and_403(doc):
    for method, path, op in operations(doc):
        assert "400" in op["responses"], (method, path)
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), (method, path)


def test_predict_declares_what_it_really_answers(doc):
    responses = doc["paths"]["/predict"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "413", "503"} <= set(responses)
    for status in ("400", "404", "413", "503"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
    assert "Retry-After" in responses["503"]["headers"]


def test_bodies_declare_413_and_paths_with_ids_declare_404(doc):
    for method, path, op in operations(doc):
        if "requestBody" in op:
            assert "413" in op["responses"], (method, path)
        if "{" in path:
            assert "404" in op["responses"], (method, path)


def test_bands_and_statuses_are_enums(doc):
    schemas = doc["components"]["schemas"]
    assert set(schemas["Band"]["enum"]) == {b.value for b in Band}
    assert set(schemas["JobStatus"]["enum"]) == {s.value for s in JobStatus}
    assert schemas["PredictionOut"]["properties"]["band"]["$ref"].endswith("/Band")
    assert schemas["JobOut"]["properties"]["status"]["$ref"].endswith("/JobStatus")
    assert set(schemas["ReadyOut"]["properties"]["status"]["enum"]) == {"ready", "unavailable"}


def test_one_precise_error_schema(doc, client):
    error = doc["components"]["schemas"]["ErrorOut"]
    assert error["additionalProperties"] is False and set(error["required"]) == {"error", "message"}
    assert {"invalid_features", "invalid_request", "not_found", "store_unavailable", "too_large"} <= set(error["properties"]["error"]["enum"])
    assert client.get("/jobs/nope").json()["error"] in error["properties"]["error"]["enum"]


def test_descriptions_expose_no_internals(doc):
    text = json.dumps(doc)
    for internal in ("LeanRoute", "entrypoints", ".py", "pydantic", "event loop", "thread"):
        assert internal not in text, internal


def test_docs_pages_load_their_assets_from_the_service(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "/docs/assets/" in html and "cdn" not in html and "https://" not in html, page
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert b"cdn.redoc.ly" not in client.get("/docs/assets/redoc.standalone.js").content
    assert client.get("/docs/assets/nothing.js").status_code == 404
