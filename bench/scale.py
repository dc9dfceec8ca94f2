"""Beyond one machine, measured on this one: how long after `/use-model` on replica A replica B serves
the new version, and a scoring run over the stored base with one and with two workers.

    .venv/bin/python bench/scale.py [--switches 20] [--customers 1000000] [--chunk-size 50000]

Real processes on 127.0.0.1, as in tests/e2e/test_scale_out.py: redis-server, a throwaway PostgreSQL
cluster, `mlflow server` on it serving the artifacts, two `main.py serve` replicas with their own
CHURN_HOME on one SQLite store, and `main.py worker` processes. Each switch alternates between two
trained versions: POST /use-model on A, then /predict on B every 20 ms until its answer names the new
version; the figure is that wait (p50 and max). The follower's interval is CHURN_ACTIVE_REFRESH_SECONDS
(default 2 s, re-read twice per interval).

Scoring runs: `--customers` synthetic subscription customers (the trained versions' schema) are
stored in CLIENTES through the store's own adapter, then POST /scoring-runs on A (the logistic
regression version, chunks of CHURN_SCORING_CHUNK_SIZE) with one worker running, then again with
two (the first worker loads the version on an untimed one-customer run before; the second joins
cold, so its one load of the version, a few seconds, is inside the two-worker figure); the figure
is customers / wall-clock seconds from the POST to the run read `succeeded` on B, and the ratio
of the two. Both workers and the replicas share one SQLite file (one writer at a time), as in the
e2e test; compose.yaml's MongoDB takes writes from both at once. The load average is printed
before and after each run. Everything is stopped at the end. The machine is shared and
noisy: compare figures within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import Server, wait_for_job  # noqa: E402
from tests.e2e.test_scale_out import Worker  # noqa: E402
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv  # noqa: E402
from tests.support.servers import MlflowOnPostgres, RedisServer  # noqa: E402


def switch_wait(a: httpx.Client, b: httpx.Client, ref: dict, timeout: float = 60.0) -> float:
    assert a.post("/use-model", json=ref).status_code == 200
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        answer = b.post("/predict", json={"features": SUBSCRIPTION_FEATURES})
        if answer.status_code == 200 and answer.json()["model"] == ref:
            return time.perf_counter() - started
        time.sleep(0.02)
    raise RuntimeError(f"replica B did not serve {ref} within {timeout}s")


def store_customers(path: Path, count: int) -> None:
    """`count` subscription customers into CLIENTES, through the store's adapter, 100,000 at a time."""
    from adapters.sqlite.customers import SqliteCustomerRepository
    from adapters.sqlite.database import SqliteDatabase
    from churn.customers import Customer

    database = SqliteDatabase(str(path))
    customers = SqliteCustomerRepository(database)
    rng = random.Random(7)
    for start in range(0, count, 100_000):
        batch = []
        for i in range(start, min(count, start + 100_000)):
            plan = rng.choice(["basic", "standard", "premium"])
            batch.append(Customer(f"S{i:08d}", {
                "age": rng.randint(18, 80), "plan": plan, "monthly_fee": round(8.0 + rng.random() * 14, 2),
                "support_calls": rng.randint(0, 9), "autopay": rng.choice(["yes", "no"]),
            }))
        customers.upsert_many(batch)
    database.close()


def scoring_rate(a: httpx.Client, b: httpx.Client, model: dict, timeout: float = 7200.0) -> tuple[float, dict]:
    """Customers per wall-clock second of one run over the whole base, and the run as it ended."""
    started = time.perf_counter()
    response = a.post("/scoring-runs", json={"model": f"{model['name']}:{model['version']}"})
    assert response.status_code == 202, response.text
    location = response.headers["Location"]
    deadline = started + timeout
    while time.perf_counter() < deadline:
        run = b.get(location).json()
        if run["status"] in ("succeeded", "failed"):
            elapsed = time.perf_counter() - started
            assert run["status"] == "succeeded", run
            return run["done"] / elapsed, run
        time.sleep(0.5)
    raise RuntimeError(f"scoring run {location} did not end within {timeout}s")


def wait_for_run(client: httpx.Client, location: str, timeout: float = 600.0) -> dict:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        run = client.get(location).json()
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(0.2)
    raise RuntimeError(f"scoring run {location} did not end within {timeout}s")


def load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--customers", type=int, default=1_000_000, help="stored customers the scoring runs go through (0: skip that part)")
    parser.add_argument("--chunk-size", default="50000", help="CHURN_SCORING_CHUNK_SIZE")
    parser.add_argument("--refresh-seconds", default="2", help="CHURN_ACTIVE_REFRESH_SECONDS of the replicas")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="churn-bench-scale-"))
    redis = RedisServer(root / "redis").start()
    mlflow = MlflowOnPostgres(root / "mlflow")
    mlflow.start_in_background()
    env = {
        "CHURN_JOB_RUNNER": "rq",
        "CHURN_BROKER_URL": redis.url,
        "CHURN_MLFLOW_TRACKING_URI": mlflow.url,
        "CHURN_SQLITE_PATH": str(root / "churn.db"),
        "CHURN_ACTIVE_REFRESH_SECONDS": args.refresh_seconds,
        "CHURN_ACCESS_LOG": "off",
        "CHURN_SCORING_CHUNK_SIZE": args.chunk_size,
    }
    a, b = Server(root / "a", **env), Server(root / "b", **env, CHURN_LOAD_SAMPLE="false")
    workers = [Worker(root / "w1", env), Worker(root / "w2", env)]
    try:
        a.start(timeout=180)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: p.start(), [b, workers[0]]))  # the second worker joins for the second run
        mlflow.ready()
        with a.client() as ha, b.client() as hb:
            files = {"file": ("subs.csv", subscriptions_csv(), "text/csv")}
            assert ha.post("/datasets", files=files, data={"name": "subs", "target": "left", "id_column": "account"}).status_code == 201
            refs = []
            for model_type in ("logistic_regression", "decision_tree"):
                job = ha.post("/train", json={"dataset": "subs", "model_type": model_type, "activate": False})
                done = wait_for_job(ha, job.headers["Location"], timeout=600)
                assert done["status"] == "succeeded", done
                refs.append(done["model"])
            switch_wait(ha, hb, refs[0])  # both replicas have loaded the first version once
            switch_wait(ha, hb, refs[1])
            waits = [switch_wait(ha, hb, refs[i % 2]) for i in range(args.switches)]
            print(f"/use-model on A -> B serving the new version, {args.switches} switches "
                  f"(CHURN_ACTIVE_REFRESH_SECONDS={args.refresh_seconds}, mlflow server on PostgreSQL):")
            print(f"  p50 {statistics.median(waits) * 1000:.0f} ms, max {max(waits) * 1000:.0f} ms, "
                  f"min {min(waits) * 1000:.0f} ms")
            if args.customers:
                print(f"storing {args.customers:,} customers ...", file=sys.stderr, flush=True)
                store_customers(root / "churn.db", args.customers)
                total = hb.get("/clients").json()["total"]
                print(f"scoring runs over the {total:,} stored customers (the 2,000 of the sample are skipped: another schema), "
                      f"the second worker's version load inside its run, logistic regression {refs[0]['name']}:{refs[0]['version']}, "
                      f"chunks of {args.chunk_size}:")
                rates = []
                for count in (1, 2):
                    if count == 1:  # the first worker loads the version on a one-customer run, untimed
                        warm = ha.post("/scoring-runs", json={"model": f"{refs[0]['name']}:{refs[0]['version']}", "customers": {"ids": ["S00000000"]}})
                        wait_for_run(hb, warm.headers["Location"])
                    else:  # the second joins cold: its version load is in the timed run. Not warmed alone, since a
                        workers[1].start()  # worker stopped (SIGSTOP) while idle still takes the next task from Redis
                    before = load()
                    rate, run = scoring_rate(ha, hb, refs[0])
                    rates.append(rate)
                    chunks_by = {w: sum(1 for c in run["chunks"] if c["worker"] == w) for w in run["workers"]}
                    print(f"  {count} worker{'s' if count > 1 else ''}: {rate:,.0f} customers/s "
                          f"({run['scored']:,} scored, {run['skipped']:,} skipped, {len(run['chunks'])} chunks, "
                          f"chunks per worker {sorted(chunks_by.values())}; {before} before, {load()} after)", flush=True)
                print(f"  ratio 2 workers / 1 worker: {rates[1] / rates[0]:.2f}x")
    finally:
        for process in (a, b, *workers):
            process.stop()
        mlflow.stop()
        redis.stop()


if __name__ == "__main__":
    main()
