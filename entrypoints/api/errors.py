"""Domain errors → HTTP, in one table; request-parsing errors → 400 (never FastAPI's default 422).

Bodies name fields and problems; they never echo submitted values or customer data.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from churn import errors as e
from entrypoints.api.observability import request_id_var

log = logging.getLogger("churn.api")

# (status, error code); the first matching class in MRO order wins.
STATUS_FOR: dict[type[e.ChurnError], tuple[int, str]] = {
    e.InvalidFeaturesError: (400, "invalid_features"),
    e.InvalidDatasetError: (400, "invalid_dataset"),
    e.UnknownModelTypeError: (400, "unknown_model_type"),
    e.InvalidHyperparametersError: (400, "invalid_hyperparameters"),
    e.InvalidBandError: (400, "invalid_band"),
    e.InvalidPageError: (400, "invalid_page"),
    e.InvalidCustomerFileError: (400, "invalid_customer_file"),
    e.InvalidRequestError: (400, "invalid_request"),
    e.DatasetNotFoundError: (404, "dataset_not_found"),
    e.ModelNotFoundError: (404, "model_not_found"),
    e.JobNotFoundError: (404, "job_not_found"),
    e.CustomerNotFoundError: (404, "customer_not_found"),
    e.ScoringRunNotFoundError: (404, "scoring_run_not_found"),
    e.ScoringRunNotResumableError: (409, "scoring_run_not_resumable"),
    e.DriftReferenceMissingError: (409, "drift_reference_missing"),
    e.NotFoundError: (404, "not_found"),
    e.DatasetExistsError: (409, "dataset_exists"),
    e.ModelArtifactError: (409, "model_artifact_unusable"),
    e.StoreConflictError: (409, "store_conflict"),
    e.ConflictError: (409, "conflict"),
    e.StoreRejectedError: (500, "store_rejected"),
    e.NoActiveModelError: (503, "no_active_model"),
    e.StoreUnavailableError: (503, "store_unavailable"),
    e.RegistryUnavailableError: (503, "registry_unavailable"),
    e.JobQueueUnavailableError: (503, "job_queue_unavailable"),
    e.UnavailableError: (503, "unavailable"),
    e.TrainingFailedError: (409, "training_failed"),  # recorded on the job; never 422
}

RETRY_AFTER_SECONDS = "5"


def status_for(exc: e.ChurnError) -> tuple[int, str]:
    for cls in type(exc).__mro__:
        if cls in STATUS_FOR:
            return STATUS_FOR[cls]
    return 500, "internal_error"


def error_body(code: str, message: str, **extra) -> dict:
    body = {"error": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _churn_error(request: Request, exc: e.ChurnError) -> JSONResponse:
    status, code = status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, e.InvalidFeaturesError):
        extra["problems"] = [p.to_dict() for p in exc.problems]
        extra["expected_example"] = {"customer_id": "example-customer-id", "features": exc.expected_example}
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if status == 503 else None
    message = exc.message
    if status == 500:
        # Not the caller's fault and not worth a retry: the cause is logged in full, under the request id.
        log.error("%s %s → %s: %s", request.method, request.url.path, status, exc.message, exc_info=exc.__cause__ or exc)
        message = f"{exc.message}; it has been logged with request id {request_id_var.get()}"
    elif status >= 500 or isinstance(exc, e.ModelArtifactError):
        # An artifact refused (missing, corrupt, digest mismatch, not ours) is a security event too.
        log.warning("%s %s → %s: %s", request.method, request.url.path, status, exc.message)
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


_TYPE_NAMES = re.compile(r"^(\w+)")


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        kind = err.get("type", "")
        where = _location(tuple(err.get("loc", ())))
        if kind == "json_invalid":
            return JSONResponse(
                error_body("invalid_json", "the request body is not valid JSON; send a JSON object"), status_code=400
            )
        if kind == "missing":
            problem = "missing"
        elif kind == "extra_forbidden":
            problem = "unknown field"
        elif where == "body" and kind in ("model_attributes_type", "dict_type"):
            problem = "expected a JSON object, sent as content-type application/json"
        else:
            problem = str(err.get("msg", "invalid")).split(", input_value")[0]
        problems.append({"feature" if where.startswith("features") else "field": where, "problem": problem})
    message = "the request does not match the documented body: " + "; ".join(
        f"{p.get('field') or p.get('feature')}: {p['problem']}" for p in problems
    )
    example = getattr(request.app.state, "example_for", lambda path: None)(request.url.path)
    return JSONResponse(error_body("invalid_request", message, problems=problems, expected_example=example), status_code=400)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden", 413: "too_large"}
OTHER_CODES = ("invalid_json", "invalid_request", "http_error", "internal_error")


def error_codes() -> list[str]:
    """Every `error` value a body can carry (documented as an enum in OpenAPI)."""
    return sorted({code for _, code in STATUS_FOR.values()} | set(HTTP_CODES.values()) | set(OTHER_CODES))


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no endpoint at {request.url.path}; see /docs for the API"
    elif exc.status_code == 405:
        allowed = (getattr(exc, "headers", None) or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'} (see /docs)"
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = f"unexpected server error; it has been logged with request id {request_id_var.get()}"
    return JSONResponse(error_body("internal_error", message), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    # FastAPI's decorator form of add_exception_handler: its type admits a handler of one exception class
    app.exception_handler(e.ChurnError)(_churn_error)
    app.exception_handler(RequestValidationError)(_validation_error)
    app.exception_handler(StarletteHTTPException)(_http_error)
    app.exception_handler(Exception)(_unexpected)
