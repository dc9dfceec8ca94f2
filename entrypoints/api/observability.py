"""Request ids, structured JSON logs and Prometheus metrics, as one pure-ASGI middleware
(cheaper on the hot path than BaseHTTPMiddleware)."""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import threading
import time
from datetime import datetime, timezone
from typing import Any, Literal, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from starlette.routing import compile_path
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from churn.ids import fresh_id

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
    """Every line JSON: the root logger's handler formats all loggers', uvicorn's and MLflow's
    included (MLflow is told not to install its own plain-text handler)."""
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # tqdm bars on stderr are not log lines
    logging.captureWarnings(True)  # Python warnings become log lines too (logger py.warnings)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "mlflow", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True


class Metrics:
    """The service's metrics in a registry of its own (one per app, so tests do not collide).

    With several server processes (`PROMETHEUS_MULTIPROC_DIR` set, as `main.py serve --workers N`
    does), counters and histograms live in files shared by the processes and every scrape, whichever
    process answers it, sees the sum of all of them. The totals kept in process (per-stage sums, the
    model cache's counters, process_* figures) are then copied into shared metrics as they change,
    once a second and at each scrape, so /predict's hot path stays a dict update."""

    SYNC_SECONDS = 1.0

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        own = None if self.multiprocess else self.registry  # shared files are read by the collector
        self.requests = Counter("churn_http_requests", "HTTP requests by route and status", ["method", "route", "status"], registry=own)
        self.latency = Histogram(
            "churn_http_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self.predictions = Counter("churn_predictions", "Predictions stored, by band and model version", ["band", "model"], registry=own)
        # Per-stage time of /predict as running sums and counts (mean per stage = rate(sum) / rate(count)),
        # exported at scrape time: a histogram observation per stage cost ~6 us a request; latency
        # percentiles come from churn_http_request_duration_seconds.
        self._stage_seconds: dict[str, float] = {}
        self._stage_counts: dict[str, int] = {}
        self._stage_lock = threading.Lock()
        self._local: list = []  # callables returning this process's families
        self._mirror: _Mirror | None = None
        self._sync_stop = threading.Event()
        self._sync_thread: threading.Thread | None = None
        if self.multiprocess:
            from prometheus_client import multiprocess

            self._mirror = _Mirror()
            self._local.append(_process_families)
            self.watch_shared(self._sync)  # first: the shared files are read after this process's copy
            multiprocess.MultiProcessCollector(self.registry)
        else:
            ProcessCollector(registry=self.registry)
        self.watch_local(self._stage_families)

        # Label children by their values: a dict lookup per request instead of labels() (lock, checks).
        self._request_children: dict[tuple[str, str, int], tuple] = {}
        self._prediction_children: dict[tuple, Any] = {}

    def watch_local(self, collect) -> None:
        """Families computed from this process's state at scrape time (the model cache, stage sums):
        exported as they are with one process, mirrored into shared metrics with several."""
        if self.multiprocess:
            self._local.append(collect)
        else:
            self.watch(collect)

    def watch_shared(self, collect) -> None:
        """Families every process sees alike (read from the store): exported as they are."""
        self.watch(collect)

    def start(self) -> None:
        """With several processes, mirror this process's totals once a second (a daemon thread)."""
        if self._mirror is None or self._sync_thread is not None:
            return

        def loop() -> None:
            while not self._sync_stop.wait(self.SYNC_SECONDS):
                self._mirror_now()

        self._sync_thread = threading.Thread(target=loop, name="churn-metrics-sync", daemon=True)
        self._sync_thread.start()

    def stop(self) -> None:
        self._sync_stop.set()
        if self._mirror is not None:
            self._mirror_now()
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())  # drops this process's live gauges

    def _mirror_now(self) -> None:
        if self._mirror is None:  # one process: nothing to mirror (the callers check it first)
            return
        try:
            self._mirror.update(family for collect in self._local for family in collect())
        except Exception:  # metrics must never take a request or the process down
            logging.getLogger("churn.metrics").exception("could not mirror metrics")

    def _sync(self):
        self._mirror_now()  # the scraping process's own figures are current, the others' within a second
        return []

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


def cache_families(cache):
    """Families for the model cache: hits, misses, failed loads, load time, size."""

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
        return [hits, misses, failures, load_sum, last, cached]

    return collect


def job_families(job_counts):
    """Training jobs by status, counted in the store (the same for every process)."""

    def collect():
        jobs = CounterMetricFamily("churn_training_jobs", "Training jobs reaching each status", labels=["status"])
        for status, count in sorted(job_counts().items()):
            jobs.add_metric([status], count)
        return [jobs]

    return collect


def _process_families():
    return list(ProcessCollector(registry=None).collect())


class _Mirror:
    """Copies families computed in this process into metrics shared between processes: counters by
    the increase since the last copy (so the shared value is the sum over processes), gauges as this
    process's live value (summed over live processes; the most recent for "last" figures)."""

    LATEST = ("churn_model_load_last_seconds", "process_start_time_seconds")

    def __init__(self) -> None:
        self._metrics: dict[tuple[str, tuple[str, ...]], Counter | Gauge] = {}
        self._seen: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def update(self, families) -> None:
        with self._lock:
            for family in families:
                for sample in family.samples:
                    if family.type == "counter" and not sample.name.endswith("_total"):
                        continue  # a counter's _created sample
                    self._copy(family, sample)

    def _copy(self, family, sample) -> None:
        labels = tuple(sorted(sample.labels))
        key = (sample.name, labels)
        metric = self._metrics.get(key)
        if metric is None:
            if family.type == "counter":
                metric = Counter(family.name, family.documentation, list(labels), registry=None)
            else:
                mode: Literal["livemostrecent", "livesum", "min"] = "livemostrecent" if sample.name in self.LATEST else "livesum"
                if sample.name == "process_start_time_seconds":
                    mode = "min"
                metric = Gauge(sample.name, family.documentation, list(labels), registry=None, multiprocess_mode=mode)
            self._metrics[key] = metric
        child = metric.labels(**sample.labels) if labels else metric
        series = (sample.name, tuple(sorted(sample.labels.items())))
        if isinstance(child, Counter):  # made for a counter family above
            increase = sample.value - self._seen.get(series, 0.0)
            if increase > 0:
                child.inc(increase)
            self._seen[series] = sample.value
        else:
            child.set(sample.value)


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
        self._templates: list | None = None

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
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
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

    def _route_of(self, scope) -> str:
        """The matched route's template, never the raw path: set in the scope by FastAPI's routes;
        for the others (/openapi.json) and for answers given before routing (a 413 from the body
        limit), found by matching the app's route templates. "unmatched" only when none fits."""
        path = getattr(scope.get("route"), "path", None)
        if path:
            return path
        if self._templates is None:
            self._templates = [(compile_path(t)[0], t) for t in _templates(getattr(scope.get("app"), "routes", ()))]
        for regex, template in self._templates:
            if regex.match(scope.get("path", "")):
                return template
        return "unmatched"


def _templates(routes, prefix: str = "") -> list[str]:
    """Every route's path template, included routers walked (with their prefix)."""
    found: list[str] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found += _templates(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif getattr(route, "path", None):
            found.append(prefix + route.path)
    return found


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            try:
                return value.decode("latin-1")
            except Exception:
                return None
    return None
