"""How fast the command line answers and `main.py serve` starts answering.

    .venv/bin/python bench/startup.py [--rounds 3]

Each figure is the median of `--rounds` runs in fresh processes, on 127.0.0.1, with a CHURN_HOME
made for the run (the first `serve` on it creates MLflow's database; that is the "fresh" figure):
`--help`, `datasets list`, `models`, an unknown model type, `serve` on a busy port (until it exits),
and `serve` until `/health` answers 200 and until `/ready` no longer says "startup: in progress".
The machine's load average is printed: on a shared machine, compare figures within one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(args: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run: CPU time barely moves with the load
    of a shared machine, wall time does."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, timeout=300)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def serve_times(env: dict) -> tuple[float, float]:
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "main.py", "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    health = ready = None
    try:
        while time.perf_counter() - started < 120:
            try:
                if health is None and httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    health = time.perf_counter() - started
                if health is not None and "startup" not in httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).json()["checks"]:
                    ready = time.perf_counter() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(30)
    return health or float("nan"), ready or float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="churn-startup-")
    env = {**os.environ, "CHURN_HOME": home, "CHURN_JSON_LOGS": "true"}
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    fresh_health, fresh_ready = serve_times(env)
    rows = [("serve, fresh CHURN_HOME: /health 200", fresh_health, None), ("serve, fresh CHURN_HOME: start-up done", fresh_ready, None)]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        commands = {
            "--help": ["--help"],
            "datasets list": ["datasets", "list"],
            "models": ["models"],
            "train --model-type nope": ["train", "--model-type", "nope"],
            "serve on a busy port": ["serve", "--port", str(busy.getsockname()[1])],
        }
        for label, command in commands.items():
            runs = [timed(command, env) for _ in range(args.rounds)]
            rows.append((label, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)))
    health, ready = zip(*(serve_times(env) for _ in range(args.rounds)), strict=True)
    rows += [("serve: /health 200", statistics.median(health), None), ("serve: start-up done", statistics.median(ready), None)]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    width = max(len(label) for label, *_ in rows)
    print(f"{'':<{width}}  {'wall':>8}  {'CPU':>8}")
    for label, seconds, cpu in rows:
        print(f"{label:<{width}}  {seconds:6.2f} s  {'' if cpu is None else f'{cpu:6.2f} s'}")


if __name__ == "__main__":
    main()
