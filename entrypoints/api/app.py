"""The FastAPI application: `create_app(container=None)` builds it, wired to a container."""

from __future__ import annotations

import gc
import logging
import threading
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from churn.errors import ChurnError
from entrypoints.api.errors import install_error_handlers
from entrypoints.api.limits import BodyLimitMiddleware
from entrypoints.api.openapi import install_openapi
from entrypoints.api.query_params import refuse_unknown_query
from entrypoints.api.observability import (
    Metrics,
    ObservabilityMiddleware,
    cache_families,
    configure_json_logging,
    job_families,
)
from entrypoints.api import docs
from entrypoints.api.drift_metrics import drift_gauges
from entrypoints.api.routes import customers, datasets, drift, health, models, outcomes, predictions, scoring_runs, training
from entrypoints.api.security import ApiKeys
from entrypoints.bootstrap import bootstrap
from entrypoints.console import install_console
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings

log = logging.getLogger("churn")

DESCRIPTION = """Churn prediction as a service: upload CSV data sets, train scikit-learn classifiers
tracked and versioned in MLflow, switch the active model at runtime, score customers in real time
(every prediction stored) and list customers by churn-risk band.

Authentication: when the service runs with `CHURN_API_KEYS`, send a key in the `X-API-Key` header.
Role `admin` uploads data sets, imports customers, trains and switches models; role `predict` scores
and reads predictions, customers and models."""

MB = 1024 * 1024


def create_app(container: Container | None = None, run_bootstrap: bool = True, background_start: bool = False) -> FastAPI:
    """`background_start` (what `main.py serve` uses) runs the start-up work in a thread, so /health
    answers at once and /ready says "startup: in progress" until it is done; tests start synchronously."""
    container = container or build_container(Settings.from_env())
    container.wire(packages=["entrypoints.api.routes", "entrypoints.console"])
    config = container.config()

    started = threading.Event()

    def start_up() -> None:
        try:
            container.start_training_worker()  # spawns and imports beside the start-up work, not after it
        except Exception:
            log.exception("the training worker did not start: the first training will start it")
        try:
            bootstrap(container)
        except Exception:
            log.exception("start-up did not complete")
        try:
            # Follows the registry's active pointer in the background: no request waits for the
            # registry, or for a version another process activated to load.
            container.active_model_follower().start()
            # Everything loaded so far (MLflow, scikit-learn, the model) lives as long as the process:
            # move it out of the collector's reach so full collections do not stall requests.
            gc.collect()
            gc.freeze()
        finally:
            started.set()  # last: a shutdown after this finds every thread it stops started

    def stop_when_started() -> None:
        started.wait(60)  # a shutdown during start-up waits for it rather than race its threads

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if run_bootstrap and background_start:
            # Off the critical path: /health answers at once, /ready says "starting" until done.
            threading.Thread(target=start_up, name="churn-start-up", daemon=True).start()
        elif run_bootstrap:
            start_up()
        else:
            started.set()
        metrics.start()
        yield
        stop_when_started()
        metrics.stop()
        container.active_model_follower().stop()
        container.job_lease_keeper().stop()
        container.job_runner().shutdown(timeout=1.0)
        if config.get("training_process"):
            container.trainer().shutdown()

    # FastAPI's native OpenTelemetry looks up the global providers on every request even when none is
    # configured (~10 us of a /predict); it runs only when asked for. /metrics is always there.
    otel = bool(config.get("opentelemetry"))
    telemetry: TelemetryConfig = {"tracing": otel, "metrics": otel, "logs": otel}
    app = FastAPI(
        title="churn",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=telemetry,
        docs_url=None,  # served by entrypoints.api.docs with local assets
        redoc_url=None,
    )
    install_openapi(app)
    app.state.container = container
    app.state.started = started
    app.state.api_keys = ApiKeys.parse(config.get("api_keys") or "")
    app.state.predict_churn = container.predict_churn  # /predict's LeanRoute solves no dependencies: its two
    app.state.inline_scoring = container.inline_scoring()  # collaborators, chosen here by the composition root
    app.state.example_for = lambda path: _example_for(container, path)
    metrics = app.state.metrics = Metrics()
    metrics.watch_local(cache_families(container.model_cache()))
    metrics.watch_shared(job_families(lambda: container.job_store().counts()))
    metrics.watch_shared(drift_gauges(container, config.get("drift_refresh_seconds")))
    install_error_handlers(app)
    app.include_router(predictions.hot_router)  # first: matched before every other route
    for module in (health, datasets, training, models, predictions, customers, scoring_runs, outcomes, drift):
        # The API refuses query parameters it does not document (the console's pages are not the API).
        app.include_router(module.router, dependencies=[Depends(refuse_unknown_query)])
    install_console(app)  # the web console at /ui (and the redirect from /)
    app.include_router(docs.router)

    upload = int((config.get("max_upload_mb") or 50) * MB) + MB  # multipart overhead on top of the file
    datasets.spool_uploads_in_memory(upload)
    request = int((config.get("max_request_kb") or 64) * 1024)
    app.add_middleware(
        BodyLimitMiddleware,
        limits={
            "/predict": request,
            "/predict/batch": int((config.get("max_batch_request_mb") or 16) * MB),
            "/datasets": upload,
            "/clients/import": upload,
            "/ui/part/datasets": upload,
            "/ui/part/datasets/preview": upload,
        },
        default=MB,
    )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics, access_logs=config.get("access_log") or "errors")
    return app


def app_from_env() -> FastAPI:
    """The factory each `main.py serve --workers N` process calls: worker processes are spawned, not
    forked, so each sets up its own logging and container from the CHURN_* environment."""
    settings = Settings.from_env()
    if settings.json_logs:
        configure_json_logging(settings.log_level)
    return create_app(build_container(settings), background_start=True)


def _example_for(container: Container, path: str) -> dict | None:
    """A valid body for the prediction endpoints, from the active model's schema."""
    if path not in ("/predict", "/predict/batch"):
        return None
    try:
        _, model = container.active_model().current()
    except ChurnError:
        return None
    single = {"customer_id": "example-customer-id", "features": model.schema.example()}
    return single if path == "/predict" else {"items": [single]}
