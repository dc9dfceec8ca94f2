"""Outcomes (who actually left) and the realised performance of a model version against them.

An outcome is kept once per customer and calendar day (UTC) of observation: importing the same file
again changes nothing, a corrected value for that day replaces the old one. A version's prediction is
matched with an outcome when it was made before the outcome and at most `horizon` earlier; each outcome
is matched with the version's latest such prediction of that customer. Everything here is stdlib.
"""

from __future__ import annotations

import bisect
import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from churn.errors import InvalidRequestError
from churn.decision import DEFAULT_THRESHOLD
from churn.bands import Band
from churn.customers import RejectedRow, check_customer_id

MAX_HORIZON_DAYS = 3650
RELIABILITY_BINS = 10
_TRUE = frozenset({"1", "true", "yes", "y", "sim", "churn", "churned", "left", "exited"})
_FALSE = frozenset({"0", "false", "no", "n", "nao", "não", "stayed", "retained"})


def parse_churned(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidRequestError("churned must be true or false (or 1/0, yes/no)")


def parse_moment(value: Any) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (naive = UTC)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRequestError(f"observed_at {value[:40]!r} is not an ISO 8601 date or date-time, e.g. 2026-03-31") from None
    else:
        raise InvalidRequestError("observed_at must be an ISO 8601 date or date-time, e.g. 2026-03-31")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Outcome:
    customer_id: str
    churned: bool
    observed_at: datetime

    def __post_init__(self) -> None:
        check_customer_id(self.customer_id)
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware")

    @classmethod
    def of(cls, customer_id: Any, churned: Any, observed_at: Any) -> "Outcome":
        """InvalidRequestError naming what is wrong."""
        return cls(check_customer_id(customer_id), parse_churned(churned), parse_moment(observed_at))

    @property
    def day(self) -> str:
        """The key of idempotence with the customer id: the UTC calendar day."""
        return self.observed_at.astimezone(timezone.utc).date().isoformat()


@dataclass(frozen=True, slots=True)
class OutcomeReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[RejectedRow, ...] = ()


def read_outcomes(content: bytes) -> tuple[list[Outcome], list[RejectedRow]]:
    """A CSV with a header naming customer_id, churned and observed_at (other columns ignored); a bad
    row is reported by line and the good ones still load."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequestError("the outcomes file is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in ("customer_id", "churned", "observed_at") if c not in header]
    if missing:
        raise InvalidRequestError(f"the outcomes file needs the columns customer_id, churned, observed_at; missing: {', '.join(missing)}")
    where = {name: header.index(name) for name in ("customer_id", "churned", "observed_at")}
    outcomes: list[Outcome] = []
    rejected: list[RejectedRow] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            rejected.append(RejectedRow(line, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        try:
            outcomes.append(Outcome.of(cells[where["customer_id"]], cells[where["churned"]], cells[where["observed_at"]]))
        except InvalidRequestError as exc:
            rejected.append(RejectedRow(line, exc.message))
    return outcomes, rejected


# ---------------------------------------------------------------- realised performance


@dataclass(frozen=True, slots=True)
class Score:
    """One prediction of a version, reduced to what performance needs."""

    customer_id: str
    probability: float
    scored_at: datetime


@dataclass(frozen=True, slots=True)
class BandOutcome:
    band: Band
    predictions: int
    churned: int

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.predictions if self.predictions else None


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@dataclass(frozen=True, slots=True)
class RealisedPerformance:
    horizon_days: int
    threshold: float
    matched: int
    """Outcomes matched with a prediction of the version."""
    predictions_with_outcome: int
    predictions_without_outcome: int
    roc_auc: float | None
    precision: float | None
    recall: float | None
    churn_rate: float | None
    bands: tuple[BandOutcome, ...]
    reliability: tuple[ReliabilityBin, ...]


def check_horizon(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_HORIZON_DAYS:
        raise InvalidRequestError(f"horizon_days must be a whole number from 1 to {MAX_HORIZON_DAYS}")
    return days


def realised_performance(
    scores: Iterable[Score], outcomes: Sequence[Outcome], horizon_days: int, threshold: float = DEFAULT_THRESHOLD
) -> RealisedPerformance:
    """Pairs each outcome with the version's latest prediction of that customer in
    [observed_at - horizon, observed_at), then measures on the pairs."""
    horizon = timedelta(days=check_horizon(horizon_days))
    by_customer: dict[str, list[Score]] = {}
    for score in scores:
        by_customer.setdefault(score.customer_id, []).append(score)
    for history in by_customer.values():
        history.sort(key=lambda s: s.scored_at)
    outcomes_by_customer: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        outcomes_by_customer.setdefault(outcome.customer_id, []).append(outcome)
    pairs: list[tuple[float, bool]] = []
    with_outcome = 0
    total = 0
    for customer_id, history in by_customer.items():
        total += len(history)
        observed = sorted(outcomes_by_customer.get(customer_id, ()), key=lambda o: o.observed_at)
        times = [s.scored_at for s in history]
        covered: set[int] = set()
        for outcome in observed:
            end = bisect.bisect_left(times, outcome.observed_at)  # predictions strictly before the outcome
            start = bisect.bisect_left(times, outcome.observed_at - horizon)
            if end > start:
                pairs.append((history[end - 1].probability, outcome.churned))
                covered.update(range(start, end))
        with_outcome += len(covered)
    return _measure(pairs, horizon_days, threshold, with_outcome, total - with_outcome)


def _measure(pairs: list[tuple[float, bool]], horizon_days: int, threshold: float, with_outcome: int, without: int) -> RealisedPerformance:
    positives = sum(1 for _, y in pairs if y)
    predicted = [(p >= threshold, y) for p, y in pairs]
    tp = sum(1 for d, y in predicted if d and y)
    flagged = sum(1 for d, _ in predicted if d)
    bands = []
    for band in Band:
        churned = [y for p, y in pairs if Band.of(p) is band]
        bands.append(BandOutcome(band, len(churned), sum(churned)))
    bins = []
    for i in range(RELIABILITY_BINS):
        low, high = i / RELIABILITY_BINS, (i + 1) / RELIABILITY_BINS
        inside = [(p, y) for p, y in pairs if low <= p < high or (i == RELIABILITY_BINS - 1 and p == 1.0)]
        bins.append(
            ReliabilityBin(
                low,
                high,
                len(inside),
                sum(p for p, _ in inside) / len(inside) if inside else None,
                sum(1 for _, y in inside if y) / len(inside) if inside else None,
            )
        )
    return RealisedPerformance(
        horizon_days=horizon_days,
        threshold=threshold,
        matched=len(pairs),
        predictions_with_outcome=with_outcome,
        predictions_without_outcome=without,
        roc_auc=roc_auc(pairs),
        precision=tp / flagged if flagged else None,
        recall=tp / positives if positives else None,
        churn_rate=positives / len(pairs) if pairs else None,
        bands=tuple(bands),
        reliability=tuple(bins),
    )


def roc_auc(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """The Mann-Whitney statistic with ties counted half; None without both classes."""
    positives = sum(1 for _, y in pairs if y)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    ranked = sorted(pairs, key=lambda pair: pair[0])
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average = (i + 1 + j) / 2  # ranks i+1 .. j share their mean
        rank_sum += average * sum(1 for _, y in ranked[i:j] if y)
        i = j
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
