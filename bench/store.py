"""Store benchmark: fill a fresh store with N predictions over M customers, then time the reads and
writes the API depends on. One command; stops by itself and prints a table.

    .venv/bin/python bench/store.py [--backend sqlite|mongo] [--predictions 1000000] [--customers 100000]

`mongo` needs CHURN_MONGODB_URI (a throwaway database is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from churn.bands import Band, ProbabilityRange
from churn.paging import PageRequest
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter, ModelRef
from churn.ports import PredictionRepository

MODELS = [ModelRef("churn-lr", 1), ModelRef("churn-gb", 1), ModelRef("churn-gb", 2), ModelRef("churn-rf", 1)]
MODEL_WEIGHTS = [0.15, 0.25, 0.45, 0.15]
CONTRACTS = ["month-to-month", "one year", "two year"]
INTERNET = ["dsl", "fiber optic", "no"]
PAYMENT = ["electronic check", "mailed check", "bank transfer", "credit card"]
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
SINGLE_INSERTS = 20_000
CALLERS = 8  # concurrent /predict requests, as in bench/serving.py
FILL_BATCH = 10_000
PAGE = 50


class Generator:
    """Predictions as the service makes them: a skewed probability (mean about 0.3, like a churn
    model on a base with ~26 % churners), a few model versions, timestamps over the last 90 days."""

    def __init__(self, customers: int, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.customers = [f"C{n:07d}" for n in range(customers)]

    def prediction(self, created_at: datetime | None = None) -> Prediction:
        rng = self.rng
        tenure = float(rng.randint(0, 72))
        monthly = round(rng.uniform(18.0, 120.0), 2)
        features = {
            "tenure": tenure,
            "monthly_charges": monthly,
            "total_charges": round(tenure * monthly, 2),
            "contract": rng.choice(CONTRACTS),
            "internet_service": rng.choice(INTERNET),
            "payment_method": rng.choice(PAYMENT),
        }
        customer = rng.choice(self.customers) if rng.random() < 0.97 else None
        when = created_at or NOW - timedelta(microseconds=rng.randrange(90 * 86_400 * 1_000_000))
        model = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        return Prediction(uuid.UUID(int=rng.getrandbits(128), version=4).hex, customer, features, rng.betavariate(1.2, 2.8), model, when)


def open_store(backend: str, workdir: Path, background_checkpoints: bool = True) -> tuple[PredictionRepository, Callable[[], None], str]:
    if backend == "sqlite":
        from adapters.sqlite.database import SqliteDatabase
        from adapters.sqlite.predictions import SqlitePredictionRepository

        database = SqliteDatabase(workdir / "bench.db", background_checkpoints=background_checkpoints)
        repository = SqlitePredictionRepository(database)
        repository.settle = lambda: database.connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
        return repository, database.close, f"SQLite file {workdir / 'bench.db'}"
    from adapters.mongo.database import MongoDatabase
    from adapters.mongo.predictions import MongoPredictionRepository

    database = MongoDatabase(os.environ["CHURN_MONGODB_URI"], db_name=f"churn_bench_{uuid.uuid4().hex[:8]}")

    def close() -> None:
        database.drop()
        database.close()

    return MongoPredictionRepository(database), close, f"MongoDB database {database.name}"


def timed(repeat: int, call: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def submit_from_a_loop(repository: PredictionRepository, predictions: list[Prediction], callers: int) -> float:
    """Seconds to store `predictions` the way /predict does: `callers` concurrent requests on one
    event loop, each awaiting its own prediction's commit before sending the next."""
    queue = list(reversed(predictions))

    async def caller() -> None:
        while queue:
            await asyncio.wrap_future(repository.submit(queue.pop()))

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=300, help="repetitions of each read")
    parser.add_argument("--depth", type=int, default=500_000, help="cursor depth for the deep page")
    parser.add_argument(
        "--inline-checkpoints",
        action="store_true",
        help="SQLite: checkpoint on the committing thread (the CLI's old default) instead of in the background like the server",
    )
    args = parser.parse_args()
    if args.backend == "mongo" and not os.environ.get("CHURN_MONGODB_URI"):
        print("bench/store.py --backend mongo needs CHURN_MONGODB_URI (e.g. mongodb://localhost:27017); nothing to do.")
        return 0

    with tempfile.TemporaryDirectory(prefix="churn-bench-") as tmp:
        repository, close, where = open_store(args.backend, Path(tmp), background_checkpoints=not args.inline_checkpoints)
        try:
            return run(repository, where, args)
        finally:
            close()


def run(repository: PredictionRepository, where: str, args: argparse.Namespace) -> int:
    gen = Generator(args.customers)
    rows: list[tuple[str, str, float, float, str, str]] = []

    def row(name: str, samples: list[float], target_ms: float | None, note: str = "") -> None:
        p50, p95 = p(samples, 0.5), p(samples, 0.95)
        verdict = "" if target_ms is None else ("ok" if p50 < target_ms else "MISSED")
        target = "" if target_ms is None else f"p50 < {target_ms:g} ms"
        rows.append((name, str(len(samples)), p50, p95, target, f"{verdict} {note}".strip()))

    print(f"filling {where} with {args.predictions:,} predictions over {args.customers:,} customers ...", flush=True)
    start = time.perf_counter()
    left = args.predictions
    while left:
        batch = [gen.prediction() for _ in range(min(FILL_BATCH, left))]
        repository.add_many(batch)
        left -= len(batch)
    fill_seconds = time.perf_counter() - start
    print(f"filled in {fill_seconds:.1f} s", flush=True)
    settle = getattr(repository, "settle", None)
    if settle is not None:
        # Fold the fill's write-ahead log into the database first, so the timings below measure the
        # store in its steady state rather than the fill's leftover checkpoint work.
        start = time.perf_counter()
        settle()
        print(f"checkpointed the fill's WAL in {time.perf_counter() - start:.1f} s", flush=True)

    everything = ProbabilityRange(0.0, 1.0)
    top = Band.VERY_HIGH.range
    counts = repository.count_by_band(None)
    top_total = counts[Band.VERY_HIGH]
    rng = random.Random(7)

    row("customer history page (limit 50)", timed(args.repeat, lambda i: repository.for_customer(rng.choice(gen.customers), PageRequest(limit=PAGE))), 2)
    row("75-100 band page, offset 0", timed(args.repeat, lambda i: repository.in_range(top, None, PageRequest(limit=PAGE))), 10)
    row(
        "75-100 band page, model churn-gb:2",
        timed(args.repeat, lambda i: repository.in_range(top, ModelFilter("churn-gb", 2), PageRequest(limit=PAGE))),
        10,
    )

    depth_all = min(args.depth, args.predictions - PAGE)
    pivot = repository.in_range(everything, None, PageRequest(limit=1, offset=depth_all - 1)).items[0]
    after_all = PredictionCursor.decode(PredictionCursor.after(pivot).encode())
    row(
        f"0-100 page via cursor at depth {depth_all:,}",
        timed(args.repeat, lambda i: repository.in_range(everything, None, PageRequest(limit=PAGE, after=after_all))),
        10,
    )
    depth_top = max(1, min(args.depth, top_total - PAGE))
    pivot = repository.in_range(top, None, PageRequest(limit=1, offset=depth_top - 1)).items[0]
    after_top = PredictionCursor.after(pivot)
    row(
        f"75-100 page via cursor at depth {depth_top:,}",
        timed(args.repeat, lambda i: repository.in_range(top, None, PageRequest(limit=PAGE, after=after_top))),
        10,
        "(deepest in band)",
    )
    row(
        f"0-100 page via offset {depth_all:,} (for contrast)",
        timed(max(5, args.repeat // 30), lambda i: repository.in_range(everything, None, PageRequest(limit=PAGE, offset=depth_all))),
        None,
    )
    row("band counts, all models", timed(args.repeat, lambda i: repository.count_by_band(None)), 50)
    row("band counts, model churn-gb", timed(args.repeat, lambda i: repository.count_by_band(ModelFilter("churn-gb"))), 50)
    row(
        "range 0.3-0.8 page (total by count)",
        timed(max(5, args.repeat // 10), lambda i: repository.in_range(ProbabilityRange(0.3, 0.8), None, PageRequest(limit=PAGE))),
        None,
    )

    single = [gen.prediction(NOW + timedelta(microseconds=n)) for n in range(SINGLE_INSERTS)]
    start = time.perf_counter()
    for prediction in single:
        repository.add(prediction)
    add_rate = len(single) / (time.perf_counter() - start)
    submitted = [gen.prediction(NOW + timedelta(seconds=1, microseconds=n)) for n in range(SINGLE_INSERTS)]
    submit_rate = len(submitted) / asyncio.run(submit_from_a_loop(repository, submitted, CALLERS))
    batches = [[gen.prediction() for _ in range(1000)] for _ in range(20)]
    start = time.perf_counter()
    for batch in batches:
        repository.add_many(batch)
    many_rate = 20_000 / (time.perf_counter() - start)

    print()
    print(f"store: {where}; {args.predictions:,} predictions, {args.customers:,} customers; bands {', '.join(f'{b.value}: {n:,}' for b, n in counts.items())}")
    print()
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'operation':<{width}}{'runs':>6}{'p50 ms':>10}{'p95 ms':>10}   {'target':<16}result")
    print("-" * (width + 60))
    for name, n, p50, p95, target, verdict in rows:
        print(f"{name:<{width}}{n:>6}{p50:>10.3f}{p95:>10.3f}   {target:<16}{verdict}")
    print("-" * (width + 60))
    print(f"{'insert via add, one at a time':<{width}}{len(single):>6}{add_rate:>14,.0f} /s     > 5,000 /s       {'ok' if add_rate > 5000 else 'MISSED'}")
    print(
        f"{f'insert via submit, {CALLERS} callers on an event loop':<{width}}{len(submitted):>6}{submit_rate:>14,.0f} /s"
        f"     > 5,000 /s       {'ok' if submit_rate > 5000 else 'MISSED'}   (what /predict does)"
    )
    print(f"{'insert via add_many, 1,000 a batch':<{width}}{20_000:>6}{many_rate:>14,.0f} /s")
    print(f"{'initial fill via add_many, 10,000 a batch':<{width}}{args.predictions:>6}{args.predictions / fill_seconds:>14,.0f} /s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
