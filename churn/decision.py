"""The decision threshold: when a churn probability means "this customer will churn".

Defined once here: the trainer measures threshold metrics with it, and every prediction's `churn`
uses the threshold of the version that scored it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Mapping, Protocol, Sequence, TypeVar

from churn.errors import InvalidRequestError

DEFAULT_THRESHOLD = 0.5
"""The threshold of versions trained before thresholds were chosen, and of `threshold: 0.5`."""


_Decision = TypeVar("_Decision", covariant=True)
_D = TypeVar("_D")


class ComparableToThreshold(Protocol[_Decision]):
    """A probability (→ bool), or an array of them compared element-wise (→ an array of bools)."""

    def __ge__(self, threshold: float, /) -> _Decision: ...


def is_churn(probability: ComparableToThreshold[_D], threshold: float) -> _D:
    """The one decision rule: churn when the probability reaches the threshold (element-wise on the
    trainer's arrays of hold-out probabilities)."""
    return probability >= threshold


class ThresholdKind(StrEnum):
    FIXED = "fixed"
    MAX_F1 = "max_f1"
    COST = "cost"


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """How a version's threshold is chosen: a fixed number in (0, 1), the one maximising F1, or the
    one minimising cost_false_negative x missed churners + cost_false_positive x wasted offers.
    Data-driven rules are applied to predictions the model did not train on (cross-validation)."""

    kind: ThresholdKind = ThresholdKind.FIXED
    value: float = DEFAULT_THRESHOLD
    cost_false_negative: float = 0.0
    cost_false_positive: float = 0.0

    def __post_init__(self) -> None:
        if self.kind is ThresholdKind.FIXED and not (_number(self.value) and 0.0 < self.value < 1.0):
            raise InvalidRequestError("threshold must be a number strictly between 0 and 1, \"max_f1\" or a cost object")
        if self.kind is ThresholdKind.COST:
            costs = (self.cost_false_negative, self.cost_false_positive)
            if not all(_number(c) and c >= 0 for c in costs) or sum(costs) <= 0:
                raise InvalidRequestError("cost_false_negative and cost_false_positive must be non-negative numbers, not both 0")

    @classmethod
    def parse(cls, value: Any) -> "ThresholdRule":
        """A number, "max_f1", or {"cost_false_negative": a, "cost_false_positive": b}; None is 0.5."""
        if value is None:
            return cls()
        if isinstance(value, str):
            if value.strip() == ThresholdKind.MAX_F1.value:
                return cls(ThresholdKind.MAX_F1)
            raise InvalidRequestError(f"unknown threshold {value!r}: use a number between 0 and 1, \"max_f1\" or a cost object")
        if isinstance(value, Mapping):
            keys = {"cost_false_negative", "cost_false_positive"}
            if set(value) != keys:
                raise InvalidRequestError("a cost threshold needs exactly cost_false_negative and cost_false_positive")
            return cls(ThresholdKind.COST, cost_false_negative=value["cost_false_negative"], cost_false_positive=value["cost_false_positive"])
        if _number(value):
            return cls(ThresholdKind.FIXED, float(value))
        raise InvalidRequestError("threshold must be a number strictly between 0 and 1, \"max_f1\" or a cost object")

    def to_json(self) -> Any:
        if self.kind is ThresholdKind.FIXED:
            return self.value
        if self.kind is ThresholdKind.MAX_F1:
            return self.kind.value
        return {"cost_false_negative": self.cost_false_negative, "cost_false_positive": self.cost_false_positive}

    @property
    def needs_data(self) -> bool:
        return self.kind is not ThresholdKind.FIXED

    def choose(self, labels: Sequence[int], probabilities: Sequence[float]) -> float:
        """The threshold for these (label, probability) pairs; the fixed value needs none. Candidates
        are the observed probabilities: each is the lowest threshold of the decisions it separates.
        Ties in the objective go to the higher threshold (fewer offers)."""
        if self.kind is ThresholdKind.FIXED:
            return self.value
        pairs = sorted(zip(probabilities, labels, strict=True), reverse=True)
        positives = sum(1 for _, label in pairs if label)
        if not pairs or positives == 0 or positives == len(pairs):
            return DEFAULT_THRESHOLD
        tp = fp = 0
        best_score, best = self._score(0, 0, positives), 1.0  # flag nobody (but certainties)
        i = 0
        while i < len(pairs):
            p = pairs[i][0]
            while i < len(pairs) and pairs[i][0] == p:  # every row at or above p is flagged
                if pairs[i][1]:
                    tp += 1
                else:
                    fp += 1
                i += 1
            score = self._score(tp, fp, positives)
            if score > best_score:
                best_score, best = score, p
        return min(max(float(best), 1e-6), 1.0)

    def _score(self, tp: int, fp: int, positives: int) -> float:
        fn = positives - tp
        if self.kind is ThresholdKind.MAX_F1:
            return 2 * tp / (2 * tp + fp + fn)
        return -(self.cost_false_negative * fn + self.cost_false_positive * fp)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
