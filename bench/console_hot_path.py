"""Does the console cost /predict anything? One process, the memory store: the app as served and the
same app with the console's routes taken out, each answering the same /predict requests through the
ASGI interface (no sockets, so only the application's own work is timed), in interleaved rounds.

    .venv/bin/python bench/console_hot_path.py [--requests 3000] [--rounds 5]

Prints each round and the medians; the machine is shared and noisy, so compare the two columns of one
run, not figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from entrypoints.api.app import create_app  # noqa: E402
from entrypoints.container import build_container  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402
from tests.support.datasets import SUBSCRIPTION_FEATURES, subscriptions_csv  # noqa: E402


def console_removed(app):
    app.router.routes = [r for r in app.router.routes if not (getattr(r, "path", "").startswith("/ui") or getattr(r, "path", "") == "/")]
    return app


async def rate(app, requests: int) -> float:
    body = {"customer_id": "bench-1", "features": SUBSCRIPTION_FEATURES}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(50):  # warm-up
            await client.post("/predict", json=body)
        started = time.perf_counter()
        for _ in range(requests):
            response = await client.post("/predict", json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
    return requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="churn-bench-console-")
    settings = Settings.from_env(env={}, home=home, store="memory", registry="memory", job_runner="inline", load_sample=False,
                                 access_log="off", json_logs=False)
    container = build_container(settings)
    with_console = create_app(container, run_bootstrap=False)
    without_console = console_removed(create_app(container, run_bootstrap=False))
    assert any(getattr(r, "path", "") == "/ui" for r in with_console.router.routes)
    assert not any(getattr(r, "path", "").startswith("/ui") for r in without_console.router.routes)
    from fastapi.testclient import TestClient

    with TestClient(with_console) as client:  # a model to score with
        client.post("/datasets", files={"file": ("s.csv", subscriptions_csv(), "text/csv")}, data={"name": "s", "target": "left", "id_column": "account"})
        assert client.post("/train", json={"dataset": "s", "model_type": "logistic_regression"}).status_code == 202
    rows = []
    for round_ in range(1, args.rounds + 1):
        a = asyncio.run(rate(with_console, args.requests))
        b = asyncio.run(rate(without_console, args.requests))
        rows.append((a, b))
        print(f"round {round_}: with the console {a:,.0f} req/s, without {b:,.0f} req/s, ratio {a / b:.3f}")
    ratios = [a / b for a, b in rows]
    print(f"median: with {median(a for a, _ in rows):,.0f} req/s, without {median(b for _, b in rows):,.0f} req/s, "
          f"ratio {median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f})")


if __name__ == "__main__":
    main()
