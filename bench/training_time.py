"""Training time of every model type's defaults, this checkout against an older one, same data,
same minutes: the honest way to read issue 10's "at most 2x today's" on a shared machine.

    git worktree add --detach /tmp/before 95c70ff^     # main before issue 10's trainer
    .venv/bin/python bench/training_time.py --before /tmp/before [--data telco] [--rounds 3]

For each type, one child process per checkout imports that checkout's trainer and trains once to warm
up; then the two children take turns, one training each, --rounds times (POST /train's defaults: this
checkout cross-validates and calibrates), so every "before" training has a "now" training beside it
in time and both see the same load; the medians are printed. Wall and CPU seconds are both given: CPU
is what the machine spent, wall what the user waited with the folds on two cores. On a shared machine
read the rounds' pairs, not one training.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = {
    "telco": ("telco_customer_churn.csv", "Churn", "customerID", ()),
    "bank": ("bank_customer_churn.csv", "Exited", "CustomerId", ("RowNumber",)),
}
TYPES = ("logistic_regression", "random_forest", "gradient_boosting", "svc", "decision_tree", "knn")


def child(tree: str, key: str, name: str) -> None:
    """Warm up, then time one training for every line read from stdin, printing its seconds."""
    sys.path.insert(0, tree)
    from adapters.sklearn_trainer import SklearnTrainer
    from churn.model_types import model_type
    from tests.support.profiling import profile_dataset

    file, target, id_column, drop = SETS[key]
    content = (DATA / file).read_bytes()
    if drop:  # row numbers are identifiers too
        lines = content.decode("utf-8-sig").splitlines()
        keep = [i for i, c in enumerate(lines[0].split(",")) if c not in drop]
        content = ("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n").encode()
    dataset = profile_dataset(key, content, target, id_column, datetime(2026, 1, 1, tzinfo=timezone.utc))
    trainer, kind = SklearnTrainer(), model_type(name)
    trainer.train(dataset, content, kind, {})
    print("ready", flush=True)
    for _ in sys.stdin:
        wall, cpu = time.perf_counter(), time.process_time()
        trainer.train(dataset, content, kind, {})
        print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}), flush=True)


def measure(trees: dict[str, Path], key: str, name: str, rounds: int) -> dict[str, dict[str, float]]:
    """The median wall and CPU seconds per checkout, the checkouts taking turns training by training."""
    children = {
        label: subprocess.Popen(
            [sys.executable, __file__, "--child", str(tree), "--data", key, "--types", name],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        for label, tree in trees.items()
    }
    try:
        for child_process in children.values():
            assert child_process.stdout is not None and child_process.stdout.readline().strip() == "ready", "a child failed to start"
        times: dict[str, list[dict[str, float]]] = {label: [] for label in children}
        for i in range(rounds):
            for label in (list(children) if i % 2 == 0 else list(children)[::-1]):
                child_process = children[label]
                assert child_process.stdin is not None and child_process.stdout is not None
                child_process.stdin.write("train\n")
                child_process.stdin.flush()
                times[label].append(json.loads(child_process.stdout.readline()))
    finally:
        for child_process in children.values():
            if child_process.stdin is not None:
                child_process.stdin.close()
            child_process.wait(timeout=60)
    return {label: {m: statistics.median(t[m] for t in got) for m in ("wall", "cpu")} for label, got in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path)
    parser.add_argument("--child")
    parser.add_argument("--data", default="telco")
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.types)
        return
    if args.before is None:
        parser.error("--before PATH (an older checkout of this repository) is needed")
    print(f"load average at start: {os.getloadavg()[0]:.1f}; medians of {args.rounds} warm trainings per cell, the two checkouts taking turns")
    print("| data | type | before wall s | now wall s | ratio | before CPU s | now CPU s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for key in args.data.split(","):
        if not (DATA / SETS[key][0]).exists():
            print(f"| {key} | skipped: {SETS[key][0]} not in {DATA} |")
            continue
        for name in args.types.split(","):
            got = measure({"before": args.before, "now": ROOT}, key, name, args.rounds)
            b, n = got["before"], got["now"]
            print(
                f"| {key} | {name} | {b['wall']:.2f} | {n['wall']:.2f} | {n['wall'] / b['wall']:.2f}x "
                f"| {b['cpu']:.2f} | {n['cpu']:.2f} | {n['cpu'] / b['cpu']:.2f}x |",
                flush=True,
            )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
