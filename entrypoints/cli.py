"""The commands behind main.py: thin, each builds the container and calls one use case."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import sys
from pathlib import Path

from churn.errors import ChurnError
from churn.model import JobStatus
from entrypoints.settings import Settings, SettingsError

log = logging.getLogger("churn")


def _print(data) -> None:
    print(json.dumps(data, indent=2, default=str))


def run(args: argparse.Namespace, params: dict) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return serve(args.host, args.port, args.workers)
        settings = Settings.from_env(job_runner="inline")
        Path(settings.home).mkdir(parents=True, exist_ok=True)
        from entrypoints.bootstrap import bootstrap
        from entrypoints.container import build_container

        container = build_container(settings)
        bootstrap(container)
        return COMMANDS[args.command](container, args, params)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except ChurnError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


def serve(host: str | None, port: int | None, workers: int | None = None) -> int:
    import uvicorn

    from entrypoints.api.app import create_app
    from entrypoints.api.observability import configure_json_logging
    from entrypoints.api.security import ApiKeyConfigError, ApiKeys
    from entrypoints.container import build_container

    settings = Settings.from_env(host=host, port=port, workers=workers)
    if settings.json_logs:
        configure_json_logging(settings.log_level)
    try:
        keys = ApiKeys.parse(settings.api_keys)
    except ApiKeyConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if not keys.enabled:
        if not _is_loopback(settings.host):
            print(
                f"refusing to listen on {settings.host} without API keys: set CHURN_API_KEYS "
                "(e.g. 'a-long-random-key:admin,another-long-key:predict') or bind to 127.0.0.1",
                file=sys.stderr,
            )
            return 2
        log.warning("no CHURN_API_KEYS set: the API is open to anyone on this machine (bound to %s only)", settings.host)
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    log.info("store: %s, registry: %s, state under %s", settings.store, settings.registry, settings.home)
    if settings.store == "memory":
        log.warning("CHURN_STORE=memory: data sets, customers and predictions are lost when the process stops")
    if settings.workers > 1 and settings.store == "memory":
        print("CHURN_WORKERS > 1 needs a shared store (sqlite or mongo): with memory each process would hold its own data", file=sys.stderr)
        return 2
    common = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None if settings.json_logs else uvicorn.config.LOGGING_CONFIG,
        "access_log": False,
    }
    if settings.workers > 1:
        # Each worker process builds its own app from the same CHURN_* environment; they share the
        # store and the registry like any two processes (a switch is followed within
        # CHURN_ACTIVE_REFRESH_SECONDS).
        os.environ.update({"CHURN_HOST": settings.host, "CHURN_PORT": str(settings.port), "CHURN_WORKERS": str(settings.workers)})
        log.info("serving with %d worker processes", settings.workers)
        from entrypoints.bootstrap import prepare_shared_state

        prepare_shared_state(build_container(settings))
        uvicorn.run("entrypoints.api.app:app_from_env", factory=True, workers=settings.workers, **common)
    else:
        uvicorn.run(create_app(build_container(settings)), **common)
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def datasets(container, args, params) -> int:
    if args.action == "list":
        _print([{"name": d.name, "rows": d.rows, "target": d.target, "positive_rate": d.positive_rate} for d in container.list_datasets().execute()])
        return 0
    content = Path(args.file).read_bytes()
    d = container.register_dataset().execute(args.name, content, args.target, args.id_column)
    _print({"name": d.name, "rows": d.rows, "columns": list(d.columns), "positive_rate": d.positive_rate})
    return 0


def train(container, args, params) -> int:
    job = container.start_training().execute(args.dataset, args.model_type, params, args.name, not args.no_activate)
    job, _ = container.get_training_job().execute(job.job_id)
    if job.status is not JobStatus.SUCCEEDED:
        print(f"training failed: {job.error}", file=sys.stderr)
        return 1
    _print({"model": str(job.model), "metrics": dict(job.metrics), "active": job.activate})
    return 0


def models(container, args, params) -> int:
    rows = []
    for entry in container.list_models().execute():
        r = entry.record
        rows.append(
            {
                "model": str(r.ref),
                "type": r.summary.model_type,
                "dataset": r.summary.dataset,
                "roc_auc": r.summary.metrics.get("roc_auc"),
                "serving_path": r.summary.serving_path,
                "active": entry.active,
                "created_at": r.created_at.isoformat(),
            }
        )
    _print(rows)
    return 0


def use_model(container, args, params) -> int:
    entry = container.use_model().execute(args.name, args.version)
    _print({"active": str(entry.record.ref)})
    return 0


def load_clients(container, args, params) -> int:
    content = Path(args.file).read_bytes()
    total = max(content.count(b"\n") - 1, 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        width = 30
        filled = int(width * min(done / total, 1.0))
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} customers", end="", file=sys.stderr, flush=True)

    report = container.import_customers().execute(content, args.id_column, progress=progress)
    print(file=sys.stderr)
    _print(
        {
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": [{"line": r.line, "reason": r.reason} for r in report.rejected],
        }
    )
    return 0


COMMANDS = {
    "datasets": datasets,
    "train": train,
    "models": models,
    "use-model": use_model,
    "load-clients": load_clients,
}
