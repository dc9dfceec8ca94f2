"""Drift: how far the customers a version scores have moved from the data it was trained on.

A version keeps a DriftReference of its training data: per feature the bins and each bin's share of
the training rows (numbers and dates: the training deciles as edges; categories and booleans: one bin
per value, the rarer ones past MAX_CATEGORIES pooled as OTHER; every feature a MISSING bin too), and
the same for its predicted probability on the hold-out rows (rows the model never saw, so an
over-confident fit is not read as drift). A period's predictions are put in the same bins, and each
feature's population stability index is PSI = sum over bins of (actual - expected) * ln(actual /
expected), shares floored at PSI_FLOOR so an empty bin counts as rare, not infinite. Reading:
below 0.1 stable, 0.1 to 0.25 watch, above 0.25 shifted.

Values arrive encoded as the model takes them (numbers and dates as floats, a date as its age in
days; booleans 1.0/0.0; categories as text; None or NaN for unknown). Standard library only.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Iterable, Mapping, Sequence

from churn.errors import InvalidRequestError

NUMBER_BINS = 10
MAX_CATEGORIES = 20
PSI_FLOOR = 1e-4
STABLE_BELOW = 0.1
SHIFTED_ABOVE = 0.25
DEFAULT_DAYS = 30
MAX_DAYS = 3650
SAMPLE_LIMIT = 50_000
"""A period's newest predictions measured at most: PSI's bias under no drift is about bins / n, 0.0002 here."""
MISSING = "(missing)"
OTHER = "(other)"
_NUMERIC_KINDS = frozenset({"number", "date"})


class Reading(StrEnum):
    STABLE = "stable"
    WATCH = "watch"
    SHIFTED = "shifted"

    @classmethod
    def of(cls, psi: float) -> "Reading":
        """< 0.1 stable, 0.1 to 0.25 (both included) watch, > 0.25 shifted."""
        if psi < STABLE_BELOW:
            return cls.STABLE
        return cls.WATCH if psi <= SHIFTED_ABOVE else cls.SHIFTED


def check_days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidRequestError(f"days must be a whole number from 1 to {MAX_DAYS}")
    return days


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> float | None:
    """A number bin's value: None (the MISSING bin) for anything not a finite number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class FeatureReference:
    """One feature's training bins. Numbers: bin i holds edges[i-1] <= v < edges[i] (open at both
    ends, so values beyond the training range land in the first or last bin). Categories: one bin per
    listed value, then OTHER (rarer and unseen values). MISSING is always the last bin."""

    name: str
    kind: str
    """The schema's feature kind: number, date, category or boolean."""
    shares: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.shares) != self.bins:
            raise ValueError(f"{self.name}: {len(self.shares)} shares for {self.bins} bins")

    @property
    def numeric(self) -> bool:
        return self.kind in _NUMERIC_KINDS

    @property
    def bins(self) -> int:
        return (len(self.edges) + 1 if self.numeric else len(self.categories) + 1) + 1

    def labels(self) -> tuple[str, ...]:
        if self.numeric:
            bounds = [f"{edge:g}" for edge in self.edges]
            if not bounds:
                inner = ["any value"]
            else:
                inner = [f"< {bounds[0]}"] + [f"{low} to < {high}" for low, high in itertools.pairwise(bounds)] + [f">= {bounds[-1]}"]
        else:
            inner = [*self.categories, OTHER]
        return (*inner, MISSING)

    def bin_of(self, value: Any) -> int:
        if self.numeric:
            number = _number(value)
            return self.bins - 1 if number is None else bisect.bisect_right(self.edges, number)
        if _missing(value):
            return self.bins - 1
        label = _category_label(self.kind, value)
        try:
            return self.categories.index(label)
        except ValueError:
            return len(self.categories)

    def shares_of(self, values: Iterable[Any]) -> tuple[tuple[float, ...], int]:
        """The share of `values` in each bin, and how many values there were."""
        counts = [0] * self.bins
        n = 0
        for value in values:
            counts[self.bin_of(value)] += 1
            n += 1
        return tuple(c / n if n else 0.0 for c in counts), n

    @classmethod
    def of(cls, name: str, kind: str, values: Sequence[Any]) -> "FeatureReference":
        """The bins of `values` (a training column): deciles for numbers, top values for categories.
        Each bin's count comes from the sorted numbers or the value counts already made for the
        edges: one pass over the column, not a bin lookup per value (a training's hundreds of
        thousands of cells)."""
        n = len(values)
        if kind in _NUMERIC_KINDS:
            present = sorted(n for n in map(_number, values) if n is not None)
            edges: list[float] = []
            for q in range(1, NUMBER_BINS):
                if present:
                    edge = present[min(len(present) - 1, q * len(present) // NUMBER_BINS)]
                    if not edges or edge > edges[-1]:
                        edges.append(edge)
            if edges and present and edges[0] <= present[0]:
                edges = edges[1:]  # nothing would fall below the first edge: not a bin of its own
            below = [bisect.bisect_left(present, edge) for edge in edges]  # bin i: edges[i-1] <= v < edges[i]
            counts = [high - low for low, high in itertools.pairwise([0, *below, len(present)])] + [n - len(present)]
            return cls(name, kind, _shares(counts, n), tuple(edges))
        tally: Counter[str] = Counter()
        for value, count in Counter(values).items():  # labels per distinct value, not per cell
            if not _missing(value):
                tally[_category_label(kind, value)] += count
        top = sorted(tally.items(), key=lambda item: (-item[1], item[0]))[:MAX_CATEGORIES]
        listed = sum(count for _, count in top)
        counts = [count for _, count in top] + [sum(tally.values()) - listed, n - sum(tally.values())]
        return cls(name, kind, _shares(counts, n), (), tuple(label for label, _ in top))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind, "shares": list(self.shares)}
        if self.numeric:
            data["edges"] = list(self.edges)
        else:
            data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureReference":
        return cls(
            data["name"], data["kind"], tuple(float(s) for s in data["shares"]),
            tuple(float(e) for e in data.get("edges", ())), tuple(str(c) for c in data.get("categories", ())),
        )


def _shares(counts: Sequence[int], n: int) -> tuple[float, ...]:
    return tuple(c / n if n else 0.0 for c in counts)


def _category_label(kind: str, value: Any) -> str:
    if kind == "boolean":
        return "true" if value in (True, 1, 1.0) else "false"
    return str(value)


PROBABILITY = "churn_probability"


@dataclass(frozen=True, slots=True)
class DriftReference:
    """A version's training distribution: each feature's bins, and its predicted probability's."""

    features: tuple[FeatureReference, ...]
    probability: FeatureReference
    rows: int
    """Training rows the feature bins were measured on."""

    @classmethod
    def build(
        cls, kinds: Mapping[str, str], columns: Mapping[str, Sequence[Any]], probabilities: Sequence[float]
    ) -> "DriftReference":
        """`columns`: each feature's encoded training values, in `kinds`' order; `probabilities`: the
        version's probabilities on its hold-out rows."""
        features = tuple(FeatureReference.of(name, kind, columns[name]) for name, kind in kinds.items())
        rows = len(next(iter(columns.values()), ()))
        return cls(features, FeatureReference.of(PROBABILITY, "number", probabilities), rows)

    def to_dict(self) -> dict[str, Any]:
        return {"features": [f.to_dict() for f in self.features], "probability": self.probability.to_dict(), "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DriftReference":
        return cls(
            tuple(FeatureReference.from_dict(f) for f in data["features"]),
            FeatureReference.from_dict(data["probability"]),
            int(data["rows"]),
        )


# ---------------------------------------------------------------- a period against the reference


@dataclass(frozen=True, slots=True)
class ScoredInput:
    """One stored prediction reduced to what drift needs: its features (as stored) and probability."""

    features: Mapping[str, Any]
    probability: float


@dataclass(frozen=True, slots=True)
class DriftBin:
    label: str
    expected: float
    """Share of the training rows (hold-out rows for the probability)."""
    actual: float
    """Share of the period's predictions."""


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    name: str
    kind: str
    psi: float | None
    """None when the period has no prediction."""
    bins: tuple[DriftBin, ...]

    @property
    def reading(self) -> Reading | None:
        return None if self.psi is None else Reading.of(self.psi)


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """Population stability index of two share vectors over the same bins (shares floored at PSI_FLOOR)."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        if e == 0.0 and a == 0.0:
            continue
        e, a = max(e, PSI_FLOOR), max(a, PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def feature_drift(reference: FeatureReference, values: Iterable[Any]) -> FeatureDrift:
    actual, n = reference.shares_of(values)
    bins = tuple(DriftBin(label, e, a) for label, e, a in zip(reference.labels(), reference.shares, actual, strict=True))
    return FeatureDrift(reference.name, reference.kind, round(psi(reference.shares, actual), 6) if n else None, bins)


@dataclass(frozen=True, slots=True)
class DriftReport:
    days: int
    since: datetime
    until: datetime
    predictions: int
    """Predictions measured: the period's newest, at most SAMPLE_LIMIT."""
    sampled: bool
    """True when the period held more predictions than were measured."""
    reference_rows: int
    probability: FeatureDrift
    features: tuple[FeatureDrift, ...]

    @property
    def reading(self) -> Reading | None:
        """The worst reading of the probability and every feature; None without predictions."""
        readings = [d.reading for d in (self.probability, *self.features) if d.reading is not None]
        order = list(Reading)
        return max(readings, key=order.index) if readings else None


def drift_report(
    reference: DriftReference, encoded_rows: Sequence[Mapping[str, Any]], probabilities: Sequence[float],
    days: int, since: datetime, until: datetime, sampled: bool,
) -> DriftReport:
    """The period's predictions (features encoded as the model takes them) against the reference."""
    features = tuple(feature_drift(f, (row.get(f.name) for row in encoded_rows)) for f in reference.features)
    return DriftReport(
        days, since, until, len(probabilities), sampled, reference.rows,
        feature_drift(reference.probability, probabilities), features,
    )
