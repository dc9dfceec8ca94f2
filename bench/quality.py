"""Model quality per type on Telco and the bank data (../shared/data): hold-out ROC AUC, CV ROC AUC
mean ± std, ECE without and with each calibration, training seconds against today's.

    .venv/bin/python bench/quality.py [--data telco,bank] [--types svc,knn] [--folds 5]

Each (type, calibration) is trained once without cross-validation (the ECE of each calibration on
its own); then the type's default as POST /train fits it, with --folds cross-validation: its hold-out
ROC AUC and ECE, CV mean ± std, and the whole training's seconds (folds, calibration on their
out-of-fold scores, evaluation, drift reference). "before" is the whole training's seconds measured
on main before issue 10 (bench/quality_baseline.json, same machine). Data sets that are absent are skipped. The machine is
shared: read the seconds as ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.sklearn_trainer import SklearnTrainer  # noqa: E402
from churn.model_types import CATALOG, model_type  # noqa: E402
from churn.training_options import DEFAULT_CALIBRATION, NEEDS_CALIBRATION, Calibration, TrainingOptions  # noqa: E402
from tests.support.profiling import profile_dataset  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SETS = {
    "telco": ("telco_customer_churn.csv", "Churn", "customerID", ()),
    "bank": ("bank_customer_churn.csv", "Exited", "CustomerId", ("RowNumber",)),
}
BASELINE = json.loads((ROOT / "bench" / "quality_baseline.json").read_text())


def load(key: str):
    file, target, id_column, drop = SETS[key]
    path = DATA / file
    if not path.exists():
        return None
    content = path.read_bytes()
    if drop:  # row numbers are identifiers too
        lines = content.decode("utf-8-sig").splitlines()
        header = lines[0].split(",")
        keep = [i for i, c in enumerate(header) if c not in drop]
        content = ("\n".join(",".join(line.split(",")[i] for i in keep) for line in lines) + "\n").encode()
    return profile_dataset(key, content, target, id_column, datetime(2026, 1, 1, tzinfo=timezone.utc)), content


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="telco,bank")
    parser.add_argument("--types", default=",".join(m.name for m in CATALOG))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    trainer = SklearnTrainer()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    print("| data | type | default cal. | hold-out ROC AUC | CV ROC AUC (mean ± std) | ECE | ECE none / sigmoid / isotonic "
          "without CV | training s: before → now (ratio) | fit s: before → now |")
    print("|---|---|---|---|---|---|---|---|---|")
    for key in args.data.split(","):
        loaded = load(key)
        if loaded is None:
            print(f"| {key} | skipped: {SETS[key][0]} not in {DATA} |")
            continue
        dataset, content = loaded
        for name in args.types.split(","):
            kind = model_type(name)
            default = DEFAULT_CALIBRATION[name]
            ece = {}
            for calibration in Calibration:
                if calibration is Calibration.NONE and name in NEEDS_CALIBRATION:
                    ece[calibration] = "n/a"
                    continue
                trained = trainer.train(dataset, content, kind, {}, options=TrainingOptions(calibration=calibration, cv_folds=0))
                ece[calibration] = f"{trained.metrics['ece']:.4f}"
            started = time.perf_counter()  # the default training, as POST /train runs it (cross-validation on)
            as_served = trainer.train(dataset, content, kind, {}, options=TrainingOptions(calibration=default, cv_folds=args.folds))
            total = time.perf_counter() - started
            cv = as_served.evaluation.cross_validation
            before = BASELINE.get(f"{key}/{name}", {})
            wall = before.get("wall_seconds")
            ratio = f" ({total / wall:.1f}x)" if wall else ""
            print(
                f"| {key} | {name} | {default.value} | {as_served.metrics['roc_auc']:.4f} | {cv.mean['roc_auc']:.4f} ± {cv.std['roc_auc']:.4f} "
                f"| {as_served.metrics['ece']:.4f} | {ece[Calibration.NONE]} / {ece[Calibration.SIGMOID]} / {ece[Calibration.ISOTONIC]} "
                f"| {wall if wall is not None else '?'} → {total:.2f}{ratio} | {before.get('fit_seconds', '?')} → {as_served.training_seconds:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
