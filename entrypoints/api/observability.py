"""Request ids, structured JSON logs and Prometheus metrics, as one pure-ASGI middleware
(cheaper on the hot path than BaseHTTPMiddleware)."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from churn.model import fresh_id

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("churn.access")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_json_logging(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    """The service's metrics in a registry of its own (one per app, so tests do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "churn_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "churn_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.predictions = Counter(
            "churn_predictions", "Predictions stored, by band and model version", ["band", "model"], registry=self.registry
        )
        # Per-stage time of /predict as running sums and counts (mean per stage = rate(sum) / rate(count)),
        # exported at scrape time: a histogram observation per stage cost ~6 us a request; latency
        # percentiles come from churn_http_request_duration_seconds.
        self._stage_seconds: dict[str, float] = {}
        self._stage_counts: dict[str, int] = {}
        self._stage_lock = threading.Lock()
        self.watch(self._stage_families)

        # Label children by their values: a dict lookup per request instead of labels() (lock, checks).
        self._request_children: dict[tuple[str, str, int], tuple] = {}
        self._prediction_children: dict[tuple, Any] = {}

    def record_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)

    def record_predictions(self, predictions, stages: Mapping[str, float] | None = None) -> None:
        if stages:
            with self._stage_lock:
                sums, counts = self._stage_seconds, self._stage_counts
                for stage, seconds in stages.items():
                    sums[stage] = sums.get(stage, 0.0) + seconds
                    counts[stage] = counts.get(stage, 0) + 1
        for p in predictions:
            key = (p.band, p.model)
            child = self._prediction_children.get(key)
            if child is None:
                child = self._prediction_children[key] = self.predictions.labels(p.band.value, str(p.model))
            child.inc()

    def _stage_families(self):
        with self._stage_lock:
            sums, counts = dict(self._stage_seconds), dict(self._stage_counts)
        total = CounterMetricFamily(
            "churn_predict_stage_seconds",
            "Seconds spent per stage of POST /predict: parse (body), validate (features against the schema), score, store (until committed)",
            labels=["stage"],
        )
        observed = CounterMetricFamily("churn_predict_stage_observations", "Predictions timed per stage", labels=["stage"])
        for stage in sums:
            total.add_metric([stage], sums[stage])
            observed.add_metric([stage], counts[stage])
        return [total, observed]

    def watch(self, collect) -> None:
        """Register a callable returning metric families at scrape time (cache, jobs)."""

        class _Collector:
            def collect(self_inner):
                yield from collect()

        self.registry.register(_Collector())


def cache_and_job_families(cache, job_counts):
    """Families for the model cache (hits, misses, load time) and training jobs by status."""

    def collect():
        stats = cache.stats()
        hits = CounterMetricFamily("churn_model_cache_hits", "Model lookups answered from memory")
        hits.add_metric([], stats.hits)
        misses = CounterMetricFamily("churn_model_cache_misses", "Model lookups that loaded the version into memory")
        misses.add_metric([], stats.misses)
        failures = CounterMetricFamily(
            "churn_model_load_failures", "Model lookups whose load failed (unknown version, unusable artifact)"
        )
        failures.add_metric([], stats.load_failures)
        load_sum = CounterMetricFamily("churn_model_load_seconds", "Seconds spent in successful model loads")
        load_sum.add_metric([], stats.load_seconds_total)
        last = GaugeMetricFamily("churn_model_load_last_seconds", "Seconds the last successful model load took")
        last.add_metric([], stats.load_seconds_last)
        cached = GaugeMetricFamily("churn_model_cache_size", "Model versions in memory")
        cached.add_metric([], stats.size)
        jobs = CounterMetricFamily("churn_training_jobs", "Training jobs reaching each status", labels=["status"])
        for status, count in sorted(job_counts().items()):
            jobs.add_metric([status], count)
        return [hits, misses, failures, load_sum, last, cached, jobs]

    return collect


class ObservabilityMiddleware:
    """Gives each request an id (echoed in X-Request-ID), counts and times it under its route template
    (not the raw path, so customer ids never become label values) and logs it as JSON: every request
    with access_logs="all", only failed (4xx/5xx) or slow ones with "errors" (the default: a log line
    costs about a fifth of a /predict; the metrics count every request either way)."""

    SLOW_SECONDS = 1.0

    def __init__(self, app, metrics: Metrics, access_logs: str = "errors") -> None:
        self.app = app
        self.metrics = metrics
        self.access_logs = access_logs

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and SAFE_REQUEST_ID.match(incoming) else fresh_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self._route_of(scope)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"  # bounded label values
            self.metrics.record_request(method, route, status, elapsed)
            if self.access_logs == "all" or (
                self.access_logs == "errors" and (status >= 400 or elapsed >= self.SLOW_SECONDS)
            ):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "request_id": request_id,
                            "method": method,
                            "route": route,
                            "status": status,
                            "duration_ms": round(elapsed * 1000, 3),
                        }
                    },
                )
            request_id_var.reset(token)

    @staticmethod
    def _route_of(scope) -> str:
        """The matched route's template (set in the scope by the router), never the raw path."""
        route = scope.get("route")
        return getattr(route, "path", None) or "unmatched"


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            try:
                return value.decode("latin-1")
            except Exception:
                return None
    return None
