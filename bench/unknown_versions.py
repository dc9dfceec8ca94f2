"""Memory held after many /predict requests naming versions that do not exist.

    .venv/bin/python bench/unknown_versions.py [--requests 10000]

In one process, through FastAPI's TestClient on the memory store and registry: trains one model on a
generated data set, then sends `--requests` /predict bodies each naming another unknown version
(`"model": "churn-logistic_regression:<n>"`), and prints the process's resident memory before and
after, the entries the model cache holds (models and load locks) and its counters.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from entrypoints.api.app import create_app  # noqa: E402
from tests.api.conftest import make_container, train, upload  # noqa: E402


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    container = make_container(tempfile.mkdtemp(prefix="churn-bench-"))
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        upload(client)
        train(client)
        cache = container.model_cache()
        features = {"age": 40, "plan": "basic", "monthly_fee": 9.5, "support_calls": 2, "autopay": "yes"}
        for n in range(200):  # warm up allocator and caches
            client.post("/predict", json={"features": features, "model": f"churn-logistic_regression:{10**6 + n}"})
        gc.collect()
        before = rss_kib()
        statuses: dict[int, int] = {}
        for n in range(args.requests):
            r = client.post("/predict", json={"features": features, "model": f"churn-logistic_regression:{n + 2}"})
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        gc.collect()
        after = rss_kib()
        pending = cache.pending_loads() if hasattr(cache, "pending_loads") else len(getattr(cache, "_loading", {}))
        stats = cache.stats() if hasattr(cache, "stats") else cache  # before issue 11: plain attributes
        print(f"requests: {args.requests}  statuses: {statuses}")
        print(f"RSS before: {before / 1024:.1f} MiB  after: {after / 1024:.1f} MiB  growth: {(after - before) / 1024:.2f} MiB")
        print(f"cache: {len(cache.cached())} model(s) in memory, {pending} load lock(s) left")
        print(f"counters: hits {stats.hits}, misses {stats.misses}, failed loads {getattr(stats, 'load_failures', '-')}")


if __name__ == "__main__":
    main()
