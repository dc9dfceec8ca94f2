"""churn command line: serve the API, train, list and switch models, load and score customers, export the risk, import outcomes.

    python main.py serve [--host 127.0.0.1] [--port 8000] [--workers 1]
    python main.py worker [--burst]          (with CHURN_JOB_RUNNER=rq and CHURN_BROKER_URL)
    python main.py datasets add FILE --name NAME --target COLUMN [--id-column COLUMN] [--positive-label VALUE]
                               [--column-type COLUMN=KIND ...] [--delimiter ;] [--encoding cp1252] [--decimal ,]
    python main.py datasets list | show NAME | remove NAME
    python main.py train --dataset NAME --model-type TYPE [--param key=value ...] [--name NAME] [--no-activate]
    python main.py models
    python main.py use-model NAME VERSION
    python main.py load-clients FILE.csv [--id-column customerID]
    python main.py score-all [--model NAME:VERSION] [--resume RUN_ID]
    python main.py export [--band 75-100 | --min-probability P --max-probability P] [--model NAME[:VERSION]] [-o FILE.csv]
    python main.py outcomes import FILE.csv
    python main.py performance NAME:VERSION [--horizon-days 90]
    python main.py drift NAME:VERSION [--days 30]

Configuration comes from CHURN_* environment variables (see README.md).
"""

from __future__ import annotations

import argparse
import json
import sys

from entrypoints.cli import run
from entrypoints.cli_risk import add_commands


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="main.py",
        description="churn: churn-prediction service",
        epilog="Log lines are text for people; --log-format json (or CHURN_CLI_LOG_FORMAT=json) writes one JSON object "
        "per line like the server, whose format follows CHURN_JSON_LOGS.",
    )
    p.add_argument("--log-format", choices=["text", "json"], default=None, help="format of the command's log lines (default text)")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None, help="interface to bind (default CHURN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default CHURN_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=None, help="server processes (default CHURN_WORKERS or 1)")

    worker = sub.add_parser("worker", help="run queued trainings from the broker (CHURN_JOB_RUNNER=rq)")
    worker.add_argument("--burst", action="store_true", help="stop once the queue is empty")

    datasets = sub.add_parser("datasets", help="register or list training data sets")
    dsub = datasets.add_subparsers(dest="action", required=True)
    add = dsub.add_parser("add", help="register a CSV file")
    add.add_argument("file")
    add.add_argument("--name", required=True)
    add.add_argument("--target", required=True)
    add.add_argument("--id-column", default=None)
    add.add_argument("--positive-label", default=None, help="the target value that means churn (default: a known churn word)")
    add.add_argument("--column-type", action="append", default=[], metavar="COLUMN=KIND",
                     help="override a column's kind: numeric, categorical, boolean, date, identifier, ignored")
    _reading_options(add)
    dsub.add_parser("list", help="list data sets")
    show = dsub.add_parser("show", help="print a data set's profile")
    show.add_argument("name")
    remove = dsub.add_parser("remove", help="delete a data set (models trained on it keep their metadata)")
    remove.add_argument("name")

    train = sub.add_parser("train", help="train a model now and register it in MLflow")
    train.add_argument("--dataset", default="sample", help="registered data set name (default: sample)")
    train.add_argument("--model-type", required=True, help="see GET /model-types")
    train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="hyperparameter (JSON value)")
    train.add_argument("--name", default=None, help="registered model name (default churn-<model_type>)")
    train.add_argument("--no-activate", action="store_true", help="do not make the new version active")
    train.add_argument("--features", nargs="+", default=None, metavar="COLUMN", help="train on these columns only")
    train.add_argument("--exclude", nargs="+", default=[], metavar="COLUMN", help="leave these columns out")

    sub.add_parser("models", help="list trained model versions")

    use = sub.add_parser("use-model", help="make a version the active model")
    use.add_argument("name")
    use.add_argument("version", type=int)

    load = sub.add_parser("load-clients", help="upsert customers from a CSV into CLIENTES")
    load.add_argument("file")
    load.add_argument("--id-column", default="customerID")
    _reading_options(load)

    score = sub.add_parser("score-all", help="score every stored customer (a scoring run), with a progress bar")
    score.add_argument("--model", default=None, help="NAME:VERSION or NAME (default: the active version)")
    score.add_argument("--resume", default=None, metavar="RUN_ID", help="go on with a failed or interrupted run")
    add_commands(sub)
    return p


def _reading_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--delimiter", default=None, help="',', ';', '|' or tab (default: detected)")
    command.add_argument("--encoding", default=None, help="e.g. utf-8, cp1252, utf-16 (default: detected)")
    command.add_argument("--decimal", default=None, help="'.' or ',' (default: detected)")


def parse_params(pairs: list[str]) -> dict:
    params = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param {pair!r}: use KEY=VALUE")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return run(args, parse_params(getattr(args, "param", []) or []))


if __name__ == "__main__":
    sys.exit(main())
