"""Beyond one machine, measured on this one: how long after `/use-model` on replica A replica B serves
the new version, and (when this build queues scoring runs on the workers) a scoring run over the
stored base with one and with two workers.

    .venv/bin/python bench/scale.py [--switches 20] [--customers 1000000]

Real processes on 127.0.0.1, as in tests/e2e/test_scale_out.py: redis-server, a throwaway PostgreSQL
cluster, `mlflow server` on it serving the artifacts, two `main.py serve` replicas with their own
CHURN_HOME on one SQLite store, and `main.py worker` processes. Each switch alternates between two
trained versions: POST /use-model on A, then /predict on B every 20 ms until its answer names the new
version; the figure is that wait (p50 and max). The follower's interval is CHURN_ACTIVE_REFRESH_SECONDS
(default 2 s, re-read twice per interval). Everything is stopped at the end. The machine is shared and
noisy: compare figures within one run.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--customers", type=int, default=1_000_000, help="for the scoring-run part, once it exists")
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
    }
    a, b = Server(root / "a", **env), Server(root / "b", **env, CHURN_LOAD_SAMPLE="false")
    workers = [Worker(root / "w1", env)]
    try:
        a.start(timeout=180)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: p.start(), [b, *workers]))
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
            print(f"scoring run over {args.customers:,} customers with 1 and 2 workers: not measured, "
                  "scoring runs are not tasks of the job engine in this build")
    finally:
        for process in (a, b, *workers):
            process.stop()
        mlflow.stop()
        redis.stop()


if __name__ == "__main__":
    main()
