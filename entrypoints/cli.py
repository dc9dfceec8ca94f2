"""The commands behind main.py: thin, each builds the container and calls one use case."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import json
import logging
import os
import re
import shutil
import socket
import sys
from pathlib import Path
from typing import Any, TypedDict

from churn.errors import ChurnError
from churn.training_jobs import JobStatus
from churn.versions import ModelRef
from entrypoints import cli_risk
from entrypoints.settings import Settings, SettingsError

log = logging.getLogger("churn")


def _print(data) -> None:
    print(json.dumps(data, indent=2, default=str))


# Commands that need the start-up work (the sample registered, jobs of dead processes recovered,
# the registry's records copied): the others only read or write the store and start in well under a second.
BOOTSTRAPPED = {"train"}


def run(args: argparse.Namespace, params: dict) -> int:
    """Every failure is one line on stderr: `error: ...` (1) or `configuration error: ...` (2)."""
    configure_cli_logging(getattr(args, "log_format", None))
    try:
        if args.command == "serve":
            return serve(args.host, args.port, args.workers)
        file = getattr(args, "file", None)
        if file is not None and not Path(file).is_file():
            print(f"error: cannot read {file}: no such file", file=sys.stderr)
            return 1
        check_arguments(args, params)
        if args.command == "worker":
            return worker(args.burst)
        settings = Settings.from_env(job_runner="inline", training_process=False)  # the command itself waits
        Path(settings.home).mkdir(parents=True, exist_ok=True)
        from entrypoints.container import build_container

        container = build_container(settings)
        if args.command in BOOTSTRAPPED:
            from entrypoints.bootstrap import bootstrap

            bootstrap(container)
        return COMMANDS[args.command](container, args, params)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except ChurnError as exc:
        print(f"error: {for_the_cli(exc.message)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: cannot read {exc.filename or 'the file'}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        log.debug("unexpected error", exc_info=exc)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: unexpected {type(exc).__name__}{': ' + first if first else ''} (CHURN_LOG_LEVEL=debug shows the traceback)", file=sys.stderr)
        return 1


ROUTES_TO_COMMANDS = (
    ("upload it with POST /datasets", "add it with main.py datasets add"),
    ("exclude it on /train", "leave it out with main.py train --exclude"),
    ("on /train", "with main.py train"),
    ("GET /models lists them", "main.py models lists them"),
    ("POST /datasets", "main.py datasets add"),
    ("GET /datasets", "main.py datasets list"),
    ("/use-model", "main.py use-model"),
    ("positive_label", "--positive-label"),
    ("column_types", "--column-type"),
    ("GET /models lists", "main.py models lists"),
    ("min_probability", "--min-probability"),
    ("max_probability", "--max-probability"),
    ("horizon_days must", "--horizon-days must"),
)


_COLUMN_TYPES_EXAMPLE = re.compile(r"column_types (\{[^{}]*\})")


def _as_column_type_options(match: re.Match[str]) -> str:
    """`column_types {"notes": "ignored"}` as the CLI spells it: `--column-type notes=ignored`."""
    try:
        example = json.loads(match.group(1))
    except ValueError:
        return match.group(0)
    return " ".join(f"--column-type {column}={kind}" for column, kind in example.items())


def for_the_cli(message: str) -> str:
    """A domain message on one line, naming CLI commands and options instead of HTTP routes and fields."""
    message = _COLUMN_TYPES_EXAMPLE.sub(_as_column_type_options, message)
    for route, command in ROUTES_TO_COMMANDS:
        message = message.replace(route, command)
    return " ".join(message.split())


def worker(burst: bool) -> int:
    from entrypoints.api.observability import configure_json_logging
    from entrypoints.container import build_container
    from entrypoints.worker import run_worker

    settings = Settings.from_env(training_process=False)  # the worker is already off the serving processes
    if settings.json_logs:
        configure_json_logging(settings.log_level)
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    return run_worker(build_container(settings), burst=burst)


def check_arguments(args: argparse.Namespace, params: dict) -> None:
    """Argument errors found from the domain alone, before anything heavy is imported or opened."""
    if args.command == "train":
        from churn.model_types import model_type

        model_type(args.model_type).resolve(params)  # UnknownModelTypeError / InvalidHyperparametersError
        if args.name:
            ModelRef(args.name, 1)
    elif args.command == "use-model":
        ModelRef(args.name, args.version)
    else:
        cli_risk.check_arguments(args)


def configure_cli_logging(log_format: str | None) -> None:
    """Text for people by default (`--log-format json` or CHURN_CLI_LOG_FORMAT=json for one JSON
    object per line, the server's format); `serve` follows CHURN_JSON_LOGS instead."""
    chosen = (log_format or os.environ.get("CHURN_CLI_LOG_FORMAT") or "text").lower()
    level = (os.environ.get("CHURN_LOG_LEVEL") or "info").upper()
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")  # MLflow's lines go through ours
    if chosen == "json":
        from entrypoints.api.observability import configure_json_logging

        configure_json_logging(level)
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)


class _ServerOptions(TypedDict):
    """What `serve` passes to `uvicorn.run` in both of its modes."""

    host: str
    port: int
    log_level: str
    log_config: dict[str, Any] | None
    access_log: bool


def serve(host: str | None, port: int | None, workers: int | None = None) -> int:
    settings = Settings.from_env(host=host, port=port, workers=workers)
    # Refusals that need no library come first, so each answers at once.
    if not (settings.api_keys or "").strip() and not _is_loopback(settings.host):
        print(
            f"refusing to listen on {settings.host} without API keys: set CHURN_API_KEYS "
            "(e.g. 'a-long-random-key:admin,another-long-key:predict') or bind to 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    if settings.workers > 1 and settings.store == "memory":
        print("CHURN_WORKERS > 1 needs a shared store (sqlite or mongo): with memory each process would hold its own data", file=sys.stderr)
        return 2
    busy = port_in_use(settings.host, settings.port)  # before the seconds of imports below, not after them
    if busy:
        print(f"error: {busy}", file=sys.stderr)
        return 1
    from entrypoints.api.observability import configure_json_logging
    from entrypoints.api.security import ApiKeyConfigError, ApiKeys

    if settings.json_logs:
        configure_json_logging(settings.log_level)
    try:
        keys = ApiKeys.parse(settings.api_keys)
    except ApiKeyConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from entrypoints.api.app import create_app
    from entrypoints.container import build_container

    if not keys.enabled:
        log.warning("no CHURN_API_KEYS set: the API is open to anyone on this machine (bound to %s only)", settings.host)
    Path(settings.home).mkdir(parents=True, exist_ok=True)
    log.info("store: %s, registry: %s, state under %s", settings.store, settings.registry, settings.home)
    if settings.store == "memory":
        log.warning("CHURN_STORE=memory: data sets, customers and predictions are lost when the process stops")
    common: _ServerOptions = {
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
        # Metrics shared by the worker processes (prometheus_client's multiprocess mode): every
        # scrape sees the sum over workers, whichever answers it. A directory per server run.
        metrics_dir = Path(settings.home) / "metrics" / str(os.getpid())
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        try:
            uvicorn.run("entrypoints.api.app:app_from_env", factory=True, workers=settings.workers, **common)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    else:
        uvicorn.run(create_app(build_container(settings), background_start=True), **common)
    return 0


def port_in_use(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (in use, or not an address of this machine), or None."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"cannot listen on {host}: {exc.strerror}; pass an address of this machine with --host"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use: stop what listens there, or pick another with --port (or CHURN_PORT)"
            return f"cannot listen on {host}:{port}: {exc.strerror}; pick another address with --host or port with --port"
    return None


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
    if args.action == "remove":
        container.remove_dataset().execute(args.name)
        print(f"removed data set {args.name!r} (models trained on it keep their metadata)")
        return 0
    if args.action == "show":
        print(profile_table(container.get_dataset().execute(args.name)))
        return 0
    from churn.columns import ReadOptions

    content = Path(args.file).read_bytes()
    types = {}
    for pair in args.column_type or ():
        column, sep, kind = pair.rpartition("=")
        if not sep or not column:
            print(f"error: --column-type {pair!r}: use COLUMN=KIND", file=sys.stderr)
            return 2
        types[column] = kind
    options = ReadOptions.parse(args.delimiter, args.encoding, args.decimal)
    d = container.register_dataset().execute(args.name, content, args.target, args.id_column, options, types, args.positive_label)
    print(profile_table(d))
    return 0


def profile_table(d) -> str:
    """A data set's profile as a text table, one row per column."""
    lines = [
        f"data set {d.name}: {d.rows} rows, target {d.target} (churn = {d.positive_label!r}, {d.positive_rate:.1%})",
    ]
    if d.reading is not None:
        delimiter = "tab" if d.reading.delimiter == "\t" else d.reading.delimiter
        lines.append(f"read as {d.reading.encoding}, separator {delimiter!r}, decimal {d.reading.decimal!r}")
    if d.profile is None:
        return "\n".join([*lines, "(stored before profiles: upload it again to see one)"])
    rows = [("column", "kind", "role", "missing", "distinct", "range / most frequent", "warnings")]
    for c in d.profile.columns:
        if c.minimum is not None:
            summary = f"{c.minimum} .. {c.maximum}"
        else:
            summary = ", ".join(f"{value} ({count})" for value, count in c.top[:3])
        rows.append((c.name, c.kind.value, c.role, f"{c.missing:.1%}", str(c.distinct), summary[:48], for_the_cli("; ".join(c.warnings))))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:6])) + ("  " + r[6] if r[6] else ""))
    return "\n".join(lines)


def train(container, args, params) -> int:
    job = container.start_training().execute(
        args.dataset, args.model_type, params, args.name, not args.no_activate,
        getattr(args, "features", None) or None, getattr(args, "exclude", None) or (),
    )
    job, _ = container.get_training_job().execute(job.job_id)
    if job.status is not JobStatus.SUCCEEDED:
        print(f"training failed: {job.error}", file=sys.stderr)
        return 1
    _print({"model": str(job.model), "metrics": dict(job.metrics), "active": job.activate})
    return 0


def models(container, args, params) -> int:
    """From the store alone (the active flag is the version the service last recorded as active), so
    the listing never imports MLflow."""
    rows = []
    for entry in container.list_recorded_models().execute():
        r = entry.record
        rows.append(
            {
                "model": str(r.ref),
                "type": r.summary.model_type,
                "dataset": r.summary.dataset,
                "roc_auc": r.summary.metrics.get("roc_auc"),
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

    from churn.columns import ReadOptions

    options = ReadOptions.parse(getattr(args, "delimiter", None), getattr(args, "encoding", None), getattr(args, "decimal", None))
    report = container.import_customers().execute(content, args.id_column, progress=progress, options=options)
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


def score_all(container, args, params) -> int:
    """A scoring run in this process (the same use case a POST /scoring-runs hands to a worker), with
    a progress bar on stderr; --resume goes on with a failed or interrupted run."""
    from churn.versions import ModelFilter
    from entrypoints.heap import freeze_long_lived

    def progress(run) -> None:
        width = 30
        filled = int(width * min(run.done / max(run.total, 1), 1.0))
        rate = f"{run.rate:,.0f}/s" if run.rate else "-"
        eta = f"{run.eta_seconds:,.0f}s" if run.eta_seconds is not None else "-"
        print(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {run.done:,}/{run.total:,} customers, {run.skipped:,} skipped, {rate}, eta {eta}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    if args.resume:
        run = container.resume_scoring_run().execute(args.resume, background=False)
    else:
        model = ModelFilter.parse(args.model) if args.model else None
        run = container.start_scoring_run().execute(model, None, background=False)
    freeze_long_lived()  # the model is loaded: what the run allocates is collected without re-walking it
    if run.chunks:  # a run split for the workers (resumed here): its unfinished chunks, one after the other
        for chunk in [c for c in run.chunks if not c.status.finished]:
            run = container.score_run_chunk().execute(run.run_id, chunk.index, container.process_identity())
            progress(run)
    else:
        run = container.score_customer_base().execute(run.run_id, progress=progress, owner=container.process_identity())
    print(file=sys.stderr)
    _print(
        {
            "run_id": run.run_id,
            "status": run.status.value,
            "model": str(run.model),
            "scored": run.scored,
            "skipped": run.skipped,
            "skip_reasons": dict(run.skip_reasons),
            "customers_per_second": None if run.rate is None else round(run.rate, 1),
            "error": run.error,
        }
    )
    return 0 if run.error is None else 1


COMMANDS = {
    "datasets": datasets,
    "train": train,
    "models": models,
    "use-model": use_model,
    "load-clients": load_clients,
    "score-all": score_all,
    **cli_risk.COMMANDS,
}
