"""churn command line: serve the API, train, list and switch models, load customers.

    python main.py serve [--host 127.0.0.1] [--port 8000] [--workers 1]
    python main.py datasets add FILE --name NAME --target COLUMN [--id-column COLUMN]
    python main.py datasets list
    python main.py train --dataset NAME --model-type TYPE [--param key=value ...] [--name NAME] [--no-activate]
    python main.py models
    python main.py use-model NAME VERSION
    python main.py load-clients FILE.csv [--id-column customerID]

Configuration comes from CHURN_* environment variables (see README.md).
"""

from __future__ import annotations

import argparse
import json
import sys

from entrypoints.cli import run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="churn: churn-prediction service")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default=None, help="interface to bind (default CHURN_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default CHURN_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=None, help="server processes (default CHURN_WORKERS or 1)")

    datasets = sub.add_parser("datasets", help="register or list training data sets")
    dsub = datasets.add_subparsers(dest="action", required=True)
    add = dsub.add_parser("add", help="register a CSV file")
    add.add_argument("file")
    add.add_argument("--name", required=True)
    add.add_argument("--target", required=True)
    add.add_argument("--id-column", default=None)
    dsub.add_parser("list", help="list data sets")

    train = sub.add_parser("train", help="train a model now and register it in MLflow")
    train.add_argument("--dataset", default="sample", help="registered data set name (default: sample)")
    train.add_argument("--model-type", required=True, help="see GET /model-types")
    train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="hyperparameter (JSON value)")
    train.add_argument("--name", default=None, help="registered model name (default churn-<model_type>)")
    train.add_argument("--no-activate", action="store_true", help="do not make the new version active")

    sub.add_parser("models", help="list trained model versions")

    use = sub.add_parser("use-model", help="make a version the active model")
    use.add_argument("name")
    use.add_argument("version", type=int)

    load = sub.add_parser("load-clients", help="upsert customers from a CSV into CLIENTES")
    load.add_argument("file")
    load.add_argument("--id-column", default="customerID")
    return p


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
