"""Training time of every model type's defaults, this checkout against an older one, same data,
same minutes: the honest way to read issue 10's "at most 2x today's" on a shared machine.

    git worktree add --detach /tmp/before 95c70ff^     # main before issue 10's trainer
    .venv/bin/python bench/training_time.py --before /tmp/before [--data telco] [--rounds 3]

For each type, a child process per checkout imports that checkout's trainer, trains once to warm up,
then times --rounds trainings of the type's defaults (POST /train's: this checkout cross-validates
and calibrates) and prints their median; the two checkouts alternate, type by type, so both see the
same load. Wall and CPU seconds are both given: CPU is what the machine spent, wall what the user
waited with the folds on two cores.
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


def child(tree: str, key: str, name: str, rounds: int) -> None:
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
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        trainer.train(dataset, content, kind, {})
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(json.dumps({"wall": statistics.median(walls), "cpu": statistics.median(cpus)}))


def measure(tree: Path, key: str, name: str, rounds: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(tree), "--data", key, "--types", name, "--rounds", str(rounds)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path)
    parser.add_argument("--child")
    parser.add_argument("--data", default="telco")
    parser.add_argument("--types", default=",".join(TYPES))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.types, args.rounds)
        return
    if args.before is None:
        parser.error("--before PATH (an older checkout of this repository) is needed")
    print(f"load average at start: {os.getloadavg()[0]:.1f}; medians of {args.rounds} warm trainings per cell")
    print("| data | type | before wall s | now wall s | ratio | before CPU s | now CPU s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for key in args.data.split(","):
        if not (DATA / SETS[key][0]).exists():
            print(f"| {key} | skipped: {SETS[key][0]} not in {DATA} |")
            continue
        for i, name in enumerate(args.types.split(",")):
            order = [(args.before, "before"), (ROOT, "now")]
            got = {label: measure(tree, key, name, args.rounds) for tree, label in (order if i % 2 == 0 else order[::-1])}
            b, n = got["before"], got["now"]
            print(
                f"| {key} | {name} | {b['wall']:.2f} | {n['wall']:.2f} | {n['wall'] / b['wall']:.2f}x "
                f"| {b['cpu']:.2f} | {n['cpu']:.2f} | {n['cpu'] / b['cpu']:.2f}x |",
                flush=True,
            )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
