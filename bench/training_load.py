"""/predict latency while a big training runs, with the fit in a worker process and in the serving process.

    .venv/bin/python bench/training_load.py [--rows 200000] [--seconds 10] [--clients 4]

For each mode (CHURN_TRAINING_PROCESS=true, then false) it starts `main.py serve` on 127.0.0.1 with a
fresh CHURN_HOME (SQLite store, MLflow on SQLite), trains a small logistic regression to serve, uploads
a generated data set of `--rows` rows, then measures /predict from `--clients` threads of this
process (keep-alive connections): first `--seconds` with nothing else running ("idle"), then while a
logistic regression trains on the big data set ("during a training", until the job ends). Prints
p50 / p99 / max per phase and the during/idle p99 ratio (target: at most 1.5 with the worker
process). Compare figures within one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import Server  # noqa: E402
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv  # noqa: E402

BODY = json.dumps({"features": SUBSCRIPTION_FEATURES}).encode()


def measure(port: int, clients: int, until) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        while not until():
            started = time.perf_counter()
            connection.request("POST", "/predict", BODY, {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"n": len(ordered), "p50": statistics.median(ordered) * 1000, "p99": p(0.99), "max": ordered[-1] * 1000}


def run(mode: bool, big_csv: bytes, seconds: float, clients: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix="churn-trainload-"))
    server = Server(home, CHURN_TRAINING_PROCESS="true" if mode else "false", CHURN_LOAD_SAMPLE="false", CHURN_MAX_UPLOAD_MB="200").start()
    try:
        with server.client() as http_client:
            files = {"file": ("subs.csv", subscriptions_csv(), "text/csv")}
            http_client.post("/datasets", files=files, data={"name": "subs", "target": "left", "id_column": "account"}).raise_for_status()
            job = http_client.post("/train", json={"dataset": "subs", "model_type": "logistic_regression"}).json()
            while http_client.get(f"/jobs/{job['job_id']}").json()["status"] not in ("succeeded", "failed"):
                time.sleep(0.2)
            files = {"file": ("big.csv", big_csv, "text/csv")}
            http_client.post("/datasets", files=files, data={"name": "big", "target": "left", "id_column": "account"}).raise_for_status()
            end = time.monotonic() + seconds
            idle = measure(server.port, clients, lambda: time.monotonic() > end)
            big = http_client.post("/train", json={"dataset": "big", "model_type": "logistic_regression", "activate": False}).json()
            done = threading.Event()

            def watch() -> None:
                with server.client() as watcher:
                    while watcher.get(f"/jobs/{big['job_id']}").json()["status"] not in ("succeeded", "failed"):
                        time.sleep(0.25)
                done.set()

            threading.Thread(target=watch, daemon=True).start()
            started = time.monotonic()
            during = measure(server.port, clients, done.is_set)
            training_seconds = time.monotonic() - started
            final = http_client.get(f"/jobs/{big['job_id']}").json()
    finally:
        server.stop()
    return {"idle": summary(idle), "during": summary(during), "training_s": training_seconds, "status": final["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    report(args.rows, args.seconds, args.clients)


def report(rows: int, seconds: float, clients: int) -> None:
    big_csv = subscriptions_csv(rows=rows, seed=11)
    print(f"data set: {rows:,} rows, {len(big_csv) / 1e6:.1f} MB; load average {os.getloadavg()[0]:.2f}")
    for mode in (True, False):
        result = run(mode, big_csv, seconds, clients)
        label = "fit in a worker process" if mode else "fit in the serving process"
        print(f"\n{label} (training {result['training_s']:.1f} s, {result['status']}):")
        for phase in ("idle", "during"):
            s = result[phase]
            print(f"  {phase:<7} n={s['n']:>6}  p50 {s['p50']:7.2f} ms  p99 {s['p99']:7.2f} ms  max {s['max']:8.2f} ms")
        print(f"  p99 during / idle: {result['during']['p99'] / result['idle']['p99']:.2f}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
