"""The retention commands behind main.py: the latest-risk CSV, outcomes, realised performance and
drift, each calling the use case the API calls (nothing here decides a figure), printed for people."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Sequence

from churn.bands import requested_range
from churn.drift import DriftReport, FeatureDrift
from churn.outcomes import RealisedPerformance
from churn.versions import ModelFilter, ModelRef


def add_commands(sub: argparse._SubParsersAction) -> None:
    """export, outcomes import, performance and drift, on main.py's subcommands."""
    export = sub.add_parser("export", help="the customers by their latest risk as CSV for a CRM (as GET /clients.csv)")
    export.add_argument("--band", default=None, help="0-25, 25-50, 50-75 or 75-100 (default: every customer)")
    export.add_argument("--min-probability", type=float, default=None, help="instead of --band: lower bound, inclusive")
    export.add_argument("--max-probability", type=float, default=None, help="instead of --band: upper bound, exclusive below 1")
    export.add_argument("--model", default=None, help="NAME or NAME:VERSION that made the latest prediction")
    export.add_argument("-o", "--output", default=None, metavar="FILE", help="write the CSV there (default: standard output)")

    outcomes = sub.add_parser("outcomes", help="record who left (or stayed)")
    osub = outcomes.add_subparsers(dest="action", required=True)
    imported = osub.add_parser("import", help="import a CSV with customer_id, churned, observed_at (idempotent per customer and day)")
    imported.add_argument("file")

    performance = sub.add_parser("performance", help="how a version did on the outcomes observed after its predictions")
    performance.add_argument("model", metavar="NAME:VERSION")
    performance.add_argument("--horizon-days", type=int, default=90, help="an outcome counts for predictions made at most this many days before it")

    drift = sub.add_parser("drift", help="population stability index of each feature and of the probability against the training data")
    drift.add_argument("model", metavar="NAME:VERSION")
    drift.add_argument("--days", type=int, default=30, help="the period: predictions made in the last this many days")


def check_arguments(args: argparse.Namespace) -> None:
    """The commands' argument errors, from the domain alone (before the store is opened)."""
    from churn.drift import check_days
    from churn.outcomes import check_horizon

    if args.command == "export":
        requested_range(args.band, args.min_probability, args.max_probability)
        if args.model:
            ModelFilter.parse(args.model)
    elif args.command == "performance":
        ModelRef.parse(args.model)
        check_horizon(args.horizon_days)
    elif args.command == "drift":
        ModelRef.parse(args.model)
        check_days(args.days)


def export(container, args, params) -> int:
    """Streamed a page at a time; to a file, written aside and renamed at the end, so a failed export
    leaves no half file."""
    _, probabilities = requested_range(args.band, args.min_probability, args.max_probability)
    rows = container.export_customers_by_risk().execute(probabilities, ModelFilter.parse(args.model) if args.model else None)
    header = next(rows)
    with _output(args.output) as out:
        writer = csv.writer(out, lineterminator="\r\n")  # as GET /clients.csv
        writer.writerow(header)
        count = 0
        for count, row in enumerate(rows, start=1):  # noqa: B007 (the count is read after the loop)
            writer.writerow(row)
    where = f" to {args.output}" if args.output else ""
    print(f"{count:,} customers written{where}", file=sys.stderr)
    return 0


@contextmanager
def _output(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    target = Path(path)
    handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent if str(target.parent) else ".")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def outcomes(container, args, params) -> int:
    report = container.record_outcomes().import_csv(Path(args.file).read_bytes())
    print(
        json.dumps(
            {
                "inserted": report.inserted,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": [{"line": r.line, "reason": r.reason} for r in report.rejected],
            },
            indent=2,
        )
    )
    return 0


def performance(container, args, params) -> int:
    ref = ModelRef.parse(args.model)
    print(performance_text(ref, container.measure_realised_performance().execute(ref, args.horizon_days)))
    return 0


def drift(container, args, params) -> int:
    ref = ModelRef.parse(args.model)
    print(drift_text(ref, container.measure_drift().execute(ref, args.days)))
    return 0


def performance_text(ref: ModelRef, p: RealisedPerformance) -> str:
    """The figures of GET /models/{name}/{version}/performance, as text tables."""
    lines = [
        f"{ref} on the outcomes observed within {p.horizon_days} days of its predictions, at its threshold {p.threshold:g}",
        f"matched outcomes: {p.matched:,}; predictions with an outcome: {p.predictions_with_outcome:,}, without: {p.predictions_without_outcome:,}",
        f"ROC AUC {_number(p.roc_auc)}  precision {_number(p.precision)}  recall {_number(p.recall)}  churn rate {_share(p.churn_rate)}",
        "",
        _table(
            [("band", "predictions", "churned", "churn rate")]
            + [(b.band.value, f"{b.predictions:,}", f"{b.churned:,}", _share(b.churn_rate)) for b in p.bands]
        ),
        "",
        _table(
            [("predicted", "count", "mean predicted", "observed rate")]
            + [(f"{r.low:.1f}-{r.high:.1f}", f"{r.count:,}", _number(r.mean_predicted), _number(r.observed_rate)) for r in p.reliability]
        ),
    ]
    return "\n".join(lines)


def drift_text(ref: ModelRef, r: DriftReport) -> str:
    """The figures of GET /models/{name}/{version}/drift: one row per feature, most shifted first,
    then the bins of each feature that is not stable."""
    sampled = f" (the newest {r.predictions:,} of the period)" if r.sampled else ""
    lines = [
        f"{ref}: predictions of the last {r.days} days ({r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC) against {r.reference_rows:,} training rows",
        f"predictions measured: {r.predictions:,}{sampled}; reading: {r.reading.value if r.reading else 'none (no predictions)'}",
        "",
    ]
    ranked = sorted(r.features, key=lambda d: -1.0 if d.psi is None else d.psi, reverse=True)
    rows = [("feature", "kind", "psi", "reading")] + [_drift_row(d) for d in (r.probability, *ranked)]
    lines.append(_table(rows))
    for d in (r.probability, *ranked):
        if d.reading is not None and d.reading.value != "stable":
            lines += ["", f"{d.name} ({d.reading.value}): share of training vs of the period per bin"]
            lines.append(_table([("bin", "training", "period")] + [(b.label, _share(b.expected), _share(b.actual)) for b in d.bins]))
    return "\n".join(lines)


def _drift_row(d: FeatureDrift) -> tuple[str, ...]:
    return (d.name, d.kind, _number(d.psi), d.reading.value if d.reading else "-")


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows)


COMMANDS = {"export": export, "outcomes": outcomes, "performance": performance, "drift": drift}
