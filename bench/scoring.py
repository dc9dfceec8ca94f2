"""Fast path vs scikit-learn, per model type: one-row latency, parity and batch throughput.

    .venv/bin/python bench/scoring.py [--csv PATH] [--target Churn] [--id-column customerID] [--types random_forest ...]

Trains every catalogue type with default hyperparameters on the CSV, then times, in this process:
`score` on one feature dict vs `pipeline.predict_proba` on a pre-built one-row DataFrame (the
DataFrame's construction is not counted, in scikit-learn's favour), and `score_many` on every row
as feature dicts vs `predict_proba` on a pre-built DataFrame of every row. Then the reasons
(issue 13): the added cost per prediction of `explain` plus `Reasons.rank` on one row, and the
rows/s of `explain_many` plus ranking on every row, with the explanation method of each type.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.fast_scoring import to_frame  # noqa: E402
from adapters.sklearn_trainer import SklearnTrainer, probe_rows, read_csv, typed_features  # noqa: E402
from churn.model_types import CATALOG  # noqa: E402
from churn.ports import ChurnModel  # noqa: E402
from tests.support.profiling import profile_dataset  # noqa: E402
from churn.reasons import Reasons  # noqa: E402

TELCO = ROOT.parent / "shared" / "data" / "telco_customer_churn.csv"
SAMPLE = ROOT / "data" / "sample_customers.csv"


def per_call_us(call: Callable[[Any], Any], inputs: list[Any], budget_s: float = 0.4) -> float:
    """Best of 5 rounds of the mean µs per call, cycling through `inputs` (the minimum resists a busy machine)."""
    call(inputs[0])
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < budget_s / 10:
        call(inputs[n % len(inputs)])
        n += 1
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(n):
            call(inputs[i % len(inputs)])
        rounds.append((time.perf_counter() - started) / n * 1e6)
    return min(rounds)


def best_seconds(call: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def rank_one(model: ChurnModel, row: dict[str, Any]) -> Reasons:
    return Reasons.rank(model.explain(row), row)


def rank_all(model: ChurnModel, rows: list[dict[str, Any]]) -> list[Reasons]:
    return [Reasons.rank(c, r) for c, r in zip(model.explain_many(rows), rows, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=TELCO if TELCO.exists() else SAMPLE)
    parser.add_argument("--target", default="Churn")
    parser.add_argument("--id-column", default="customerID")
    parser.add_argument("--types", nargs="+", choices=[m.name for m in CATALOG], help="only these model types (default: every one)")
    args = parser.parse_args()
    content = args.csv.read_bytes()
    raw = read_csv(content)
    id_column = args.id_column if args.id_column in raw.columns else None
    dataset = profile_dataset("bench", content, args.target, id_column, datetime.now(timezone.utc))
    frame, kinds = typed_features(raw, dataset.feature_columns)
    rows = probe_rows(frame, kinds)
    print(f"{args.csv.name}: {len(rows)} rows, {len(kinds)} features; best of 5 rounds, this process, 1 thread\n")
    header = (
        f"{'model type':<20} {'serving path':<16} {'parity':>9} {'fast µs/row':>12} {'sklearn µs/row':>15} {'speed-up':>9} "
        f"{'fast rows/s':>12} {'sklearn rows/s':>15}"
    )
    print(header)
    print("-" * len(header))
    trainer = SklearnTrainer()
    reasons_lines = []
    clean_rows = rows
    for model_type in CATALOG:
        if args.types and model_type.name not in args.types:
            continue
        model = trainer.train(dataset, content, model_type, {}).model
        pipeline = model.pipeline
        rows = [dict(model.schema.encode(row)) for row in clean_rows]  # as the model takes them (booleans 0/1, dates as ages)
        one_row_frames = [to_frame([row], model.schema) for row in rows[:50]]
        fast_us = per_call_us(model.score, rows[:200])
        sklearn_us = per_call_us(pipeline.predict_proba, one_row_frames, budget_s=0.6)
        all_rows = to_frame(rows, model.schema)
        fast_batch = best_seconds(partial(model.score_many, rows))
        sklearn_batch = best_seconds(partial(pipeline.predict_proba, all_rows))
        parity = "n/a" if model.parity is None else f"{model.parity:.1e}"
        print(
            f"{model_type.name:<20} {model.serving_path:<16} {parity:>9} {fast_us:>12.1f} {sklearn_us:>15.1f} "
            f"{sklearn_us / fast_us:>8.1f}x {len(rows) / fast_batch:>12,.0f} {len(rows) / sklearn_batch:>15,.0f}"
        )
        reasons_us = per_call_us(partial(rank_one, model), rows[:200])  # labels from encoded values here
        reasons_batch = best_seconds(partial(rank_all, model, rows), repeat=1)
        reasons_lines.append(
            f"{model_type.name:<20} {model.explanation_method:<22} {reasons_us:>14.1f} {fast_us + reasons_us:>16.1f} {len(rows) / reasons_batch:>16,.0f}"
        )
    header = f"{'model type':<20} {'reasons method':<22} {'+µs/prediction':>14} {'score+reasons µs':>16} {'reasons rows/s':>16}"
    print("\nreasons (top 3 each way): added cost of explain + rank on one row; explain_many + rank on every row")
    print(header)
    print("-" * len(header))
    for line in reasons_lines:
        print(line)


if __name__ == "__main__":
    main()
