"""Scoring the stored base: a scoring run (with reasons) vs what a data scientist writes by hand.

    .venv/bin/python bench/rescoring.py [--sizes 100000 1000000] [--types logistic_regression ...]

In one temporary CHURN_HOME (SQLite store, MLflow registry on SQLite): trains each model type on the
project's sample (Telco schema), then for each size generates that many synthetic customers
(data/make_sample.py's generator) and imports them into CLIENTES through the service's own importer,
and writes the same rows as a flat table `baseline_customers` in the same SQLite file. Then, each in a
fresh subprocess (so peak memory is its own):

  - run:      a scoring run (ScoreCustomerBase: batches of CHURN_SCORING_BATCH, 10,000 by default, score_many + explain_many + top-3
              reasons, predictions stored with the latest risk per customer kept by the trigger);
  - baseline: pandas.read_sql of the flat table, mlflow.pyfunc.load_model(models:/name/version).predict
              (predict_proba, as the service logs it), DataFrame.to_sql of (customer_id, probability).
              No reasons: the baseline has none.

Models are loaded before the clock starts in both. Reports customers/s, customers per CPU-second (the
process's CPU time, every thread: the figure to compare on a busy machine) and peak RSS for both, and after the largest size the p50 / p99 of a latest-risk
band page (GET /clients?band=75-100 through the use case: first page and pages deep in by cursor).
Stops by itself; the machine is shared and noisy, so compare figures within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_TYPES = ("logistic_regression", "gradient_boosting", "random_forest", "decision_tree")
CHUNK = 100_000


def container_for(home: str):
    from entrypoints.container import build_container
    from entrypoints.settings import Settings

    settings = Settings.from_env(env={}, home=home, store="sqlite", registry="mlflow", job_runner="inline", load_sample=False)
    return build_container(settings)


def peak_mib() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: a child started by subprocess
    inherits the parent's high-water mark in it on Linux, so every step would show the parent's."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- subprocess steps


def step_run(home: str, model: str) -> dict:
    from churn.versions import ModelFilter

    container = container_for(home)
    from entrypoints.heap import freeze_long_lived

    container.model_versions().get(ModelFilter.parse(model))  # loaded before timing, as the baseline's load_model is
    freeze_long_lived()  # as `main.py serve` (after start-up) and `main.py score-all` (after loading the model) do
    started, cpu = time.perf_counter(), time.process_time()
    run = container.start_scoring_run().execute(ModelFilter.parse(model), None, background=False)
    run = container.score_customer_base().execute(run.run_id)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu,
        "loop_rate": run.rate,
        "scored": run.scored,
        "skipped": run.skipped,
        "status": run.status.value,
        "error": run.error,
        "peak_mib": peak_mib(),
    }


def step_baseline(home: str, model: str, tracking_uri: str) -> dict:
    import sqlite3

    import mlflow
    import pandas as pd

    name, _, version = model.partition(":")
    mlflow.set_tracking_uri(tracking_uri)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")  # loaded before timing
    started, cpu = time.perf_counter(), time.process_time()
    connection = sqlite3.connect(Path(home) / "churn.db")
    frame = pd.read_sql("SELECT * FROM baseline_customers", connection)
    features = frame.drop(columns=["customerID", "Churn"], errors="ignore")
    # the logged signature takes booleans as 0/1 numbers (issue 9's boolean kind): the mapping a data
    # scientist writes once they read the model's input schema
    for column in pyfunc.metadata.get_input_schema().inputs:
        if "double" in str(column.type).lower():
            values = features[column.name]
            if not pd.api.types.is_numeric_dtype(values):
                values = values.map({"Yes": 1.0, "No": 0.0})
            features[column.name] = values.astype("float64")
    probabilities = pyfunc.predict(features)
    probabilities = probabilities[:, 1] if getattr(probabilities, "ndim", 1) == 2 else probabilities
    pd.DataFrame({"customer_id": frame["customerID"], "churn_probability": probabilities}).to_sql(
        "baseline_scores", connection, if_exists="replace", index=False
    )
    connection.commit()
    connection.close()
    return {"seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu, "scored": len(frame), "peak_mib": peak_mib()}


def step_pages(home: str) -> dict:
    from churn.bands import Band
    from churn.paging import PageRequest
    from churn.predictions import PredictionCursor

    container = container_for(home)
    use_case = container.list_customers_by_risk()
    timings = {"first page": [], "deep page (cursor)": []}
    band = Band.VERY_HIGH.range
    first = use_case.execute(band, None, PageRequest(50))
    cursors = []
    page = first
    for _ in range(200):  # walk 10,000 customers in to collect cursors at depth
        if page.next is None:
            break
        cursors.append(page.next)
        page = use_case.execute(band, None, PageRequest(50, 0, PredictionCursor.decode(page.next)))
    for _ in range(300):
        started = time.perf_counter()
        use_case.execute(band, None, PageRequest(50))
        timings["first page"].append(time.perf_counter() - started)
    for token in (cursors * 2)[:300]:
        cursor = PredictionCursor.decode(token)
        started = time.perf_counter()
        use_case.execute(band, None, PageRequest(50, 0, cursor))
        timings["deep page (cursor)"].append(time.perf_counter() - started)
    counts = container.count_customers_by_band().execute(None)
    out = {"customers_in_band": counts[Band.VERY_HIGH], "customers_listed": sum(counts.values())}
    for name, values in timings.items():
        if values:
            values.sort()
            out[name] = {"p50_ms": statistics.median(values) * 1000, "p99_ms": values[int(len(values) * 0.99) - 1] * 1000}
    return out


# ---------------------------------------------------------------- the parent


def in_subprocess(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--step", *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise RuntimeError(f"step {args[0]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def train_all(container, types: list[str]) -> dict[str, str]:
    sample = (ROOT / "data" / "sample_customers.csv").read_bytes()
    container.register_dataset().execute("sample", sample, "Churn", "customerID")
    refs = {}
    for model_type in types:
        job = container.start_training().execute("sample", model_type, {}, None, False)
        job = container.job_store().get(job.job_id)
        if job.model is None:
            raise RuntimeError(f"training {model_type} failed: {job.error}")
        refs[model_type] = str(job.model)
        print(f"  trained {model_type} -> {job.model}", file=sys.stderr)
    return refs


def fill(container, home: str, size: int, have: int) -> None:
    """Bring CLIENTES and baseline_customers to `size` customers (ids shared), CHUNK at a time."""
    import sqlite3

    import pandas as pd

    sys.path.insert(0, str(ROOT / "data"))
    from make_sample import generate_rows, to_csv_text

    importer = container.import_customers()
    connection = sqlite3.connect(Path(home) / "churn.db")
    seed = 1000 + have // CHUNK
    for start in range(have, size, CHUNK):
        rows = generate_rows(min(CHUNK, size - start), seed=seed)
        seed += 1
        for i, row in enumerate(rows):
            row["customerID"] = f"B{start + i:08d}"
            row.pop("Churn", None)
        text = to_csv_text(rows)
        report = importer.execute(text.encode(), "customerID")
        frame = pd.read_csv(pd.io.common.StringIO(text))
        for column in ("TotalCharges",):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
        frame.to_sql("baseline_customers", connection, if_exists="append", index=False)
        print(f"  {start + len(rows):,} customers stored (+{report.inserted:,})", file=sys.stderr)
    connection.commit()
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--types", nargs="+", default=list(DEFAULT_TYPES))
    parser.add_argument("--large-types", nargs="+", default=["logistic_regression"], help="types also run at sizes above 100,000")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        kind, *rest = args.step
        result = {"run": step_run, "baseline": step_baseline, "pages": step_pages}[kind](*rest)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="churn-rescoring-") as home:
        container = container_for(home)
        tracking_uri = f"sqlite:///{home}/mlflow.db"
        print("training on data/sample_customers.csv ...", file=sys.stderr)
        refs = train_all(container, args.types)
        rows = []
        have = 0
        for size in sorted(args.sizes):
            fill(container, home, size, have)
            have = size
            types = args.types if size <= 100_000 else [t for t in args.types if t in args.large_types]
            for model_type in types:
                model = refs[model_type]
                ours = in_subprocess("run", home, model)
                theirs = in_subprocess("baseline", home, model, tracking_uri)
                rows.append((size, model_type, ours, theirs))
                ours_rate, theirs_rate = ours["scored"] / ours["seconds"], theirs["scored"] / theirs["seconds"]
                print(
                    f"  {size:,} {model_type}: run {ours_rate:,.0f}/s ({ours['scored'] / ours['cpu_seconds']:,.0f} per CPU-s), "
                    f"baseline {theirs_rate:,.0f}/s ({theirs['scored'] / theirs['cpu_seconds']:,.0f} per CPU-s), load {os.getloadavg()[0]:.1f}",
                    file=sys.stderr,
                )
        pages = in_subprocess("pages", home)

    print("\nscoring the stored base on SQLite (this machine: 2 shared cores; one run, figures comparable within it)")
    print("per CPU-s: customers per second of CPU the process used (every thread), comparable when the machine is busy\n")
    header = (
        f"{'customers':>10} {'model type':<20} {'run /s (reasons)':>17} {'run per CPU-s':>14} {'run peak MiB':>13} {'baseline /s':>12} "
        f"{'baseline per CPU-s':>19} {'baseline peak MiB':>18} {'run / baseline':>15} {'per CPU-s':>10}"
    )
    print(header)
    print("-" * len(header))
    for size, model_type, ours, theirs in rows:
        a, b = ours["scored"] / ours["seconds"], theirs["scored"] / theirs["seconds"]
        a_cpu, b_cpu = ours["scored"] / ours["cpu_seconds"], theirs["scored"] / theirs["cpu_seconds"]
        print(
            f"{size:>10,} {model_type:<20} {a:>17,.0f} {a_cpu:>14,.0f} {ours['peak_mib']:>13,.0f} {b:>12,.0f} "
            f"{b_cpu:>19,.0f} {theirs['peak_mib']:>18,.0f} {a / b:>14.2f}x {a_cpu / b_cpu:>9.2f}x"
        )
    print(f"\nlatest-risk band page (75-100, 50 customers) at {have:,} customers, {pages['customers_in_band']:,} of them in the band:")
    for name in ("first page", "deep page (cursor)"):
        if name in pages:
            print(f"  {name:<20} p50 {pages[name]['p50_ms']:.2f} ms   p99 {pages[name]['p99_ms']:.2f} ms")


if __name__ == "__main__":
    main()
