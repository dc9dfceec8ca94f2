"""The OpenAPI document, made to tell the truth about what every operation answers.

FastAPI declares a 422 for every operation with parameters or a body; this service answers 400
instead (`errors.py`), and a few statuses apply across the board rather than per route: those are
added here, in one table, instead of being repeated in every decorator."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from entrypoints.api.errors import RETRY_AFTER_SECONDS, error_codes

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}

DESCRIPTIONS = {
    "400": "The request does not match the documentation (body, features, query parameters or paging); "
    "every problem is named, with a valid example where there is a body",
    "401": "No valid API key in X-API-Key (only when the service runs with API keys)",
    "403": "The API key's role does not allow this operation",
    "404": "Not found",
    "409": "Conflict with the current state",
    "413": "The request body is over this endpoint's limit; nothing was stored",
    "503": "The store, the model registry or the active model is unavailable; retry after Retry-After seconds",
}

# Operations that touch neither the store nor the registry, so never answer 503.
NO_STORE = {("get", "/health"), ("get", "/metrics"), ("get", "/model-types")}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = truthful(
                get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi


def truthful(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "ErrorOut" in schemas:
        schemas["ErrorOut"]["properties"]["error"]["enum"] = error_codes()
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            wanted = ["400"]
            if operation.get("security"):
                wanted += ["401", "403"]
            if "{" in path:
                wanted.append("404")
            if "requestBody" in operation:
                wanted.append("413")
            if (method, path) not in NO_STORE:
                wanted.append("503")
            for status in wanted:
                responses.setdefault(status, {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}})
            for status, response in responses.items():
                if status != "200" and response.get("description") in (None, "", "Error", "Successful Response"):
                    response["description"] = DESCRIPTIONS.get(status, response.get("description", ""))
            if "503" in responses:
                responses["503"].setdefault("headers", {})["Retry-After"] = {
                    "description": f"seconds to wait before retrying ({RETRY_AFTER_SECONDS})",
                    "schema": {"type": "integer"},
                }
    return doc
