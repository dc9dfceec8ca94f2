"""Reasons of a prediction: the features that raise the churn risk most and those that lower it most.

A model explains a row as one contribution per original feature (one-hot columns summed back to their
feature), in the units of its raw output (log-odds for linear models and gradient boosting, probability
for forests and the model-agnostic method): positive raises the risk, negative lowers it. The ranking is
the domain's: the `top` largest positive contributions, largest first, and the `top` most negative,
most negative first; a zero contribution is neither; ties by feature name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

DEFAULT_TOP = 3


def value_label(value: Any) -> str:
    """How a feature's value reads to a person: the category itself, a number without a trailing .0,
    'unknown' for a missing value."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else "unknown"
    return str(value)


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    value: str
    contribution: float

    def to_list(self) -> list[Any]:
        return [self.feature, self.value, self.contribution]

    @classmethod
    def from_list(cls, item: Sequence[Any]) -> "Reason":
        return cls(str(item[0]), str(item[1]), float(item[2]))

    def __str__(self) -> str:
        return f"{self.feature}={self.value} ({self.contribution:+.3f})"


@dataclass(frozen=True, slots=True)
class Reasons:
    """`raising` largest first, `lowering` most negative first."""

    raising: tuple[Reason, ...] = ()
    lowering: tuple[Reason, ...] = ()

    @classmethod
    def rank(cls, contributions: Mapping[str, float], features: Mapping[str, Any], top: int = DEFAULT_TOP) -> "Reasons":
        positive = sorted(((-c, f) for f, c in contributions.items() if c > 0.0))[:top]
        negative = sorted(((c, f) for f, c in contributions.items() if c < 0.0))[:top]
        return cls.of_ranked([(f, -c) for c, f in positive], [(f, c) for c, f in negative], features)

    @classmethod
    def of_ranked(
        cls, raising: Sequence[tuple[str, float]], lowering: Sequence[tuple[str, float]], features: Mapping[str, Any]
    ) -> "Reasons":
        """Reasons from (feature, contribution) pairs already in `rank`'s order, each value named from `features`."""
        return cls(  # lists, not generators, into the tuples: this runs six times per customer in a scoring run
            tuple([Reason(f, value_label(features.get(f)), c) for f, c in raising]),
            tuple([Reason(f, value_label(features.get(f)), c) for f, c in lowering]),
        )

    def __bool__(self) -> bool:
        return bool(self.raising or self.lowering)

    def to_dict(self) -> dict[str, list[list[Any]]]:
        """Compact and JSON-ready: [[feature, value, contribution], ...] per side."""
        return {"raising": [r.to_list() for r in self.raising], "lowering": [r.to_list() for r in self.lowering]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Reasons":
        if not data:
            return NO_REASONS
        return cls(tuple(Reason.from_list(r) for r in data.get("raising", ())), tuple(Reason.from_list(r) for r in data.get("lowering", ())))

    def summary(self) -> str:
        """One line for a spreadsheet cell: 'up: a=x (+0.41); b=y (+0.20) | down: c=z (-0.30)'."""
        up = "; ".join(str(r) for r in self.raising)
        down = "; ".join(str(r) for r in self.lowering)
        return f"up: {up} | down: {down}" if self else ""


NO_REASONS = Reasons()

ReasonLists = dict[str, list[list[Any]]]
"""Reasons.to_dict()'s form: what a batch of predictions holds per row instead of Reason objects."""


class ExplanationMethod:
    """Names of the methods, as recorded in a version's metadata."""

    LINEAR = "linear-exact"  # coefficient x (encoded value - training mean), summed per feature; log-odds
    TREE_SHAP = "tree-shap"  # path-dependent TreeSHAP (shap.TreeExplainer), summed per feature
    TREE_PATH = "tree-path"  # decision-path attribution (Saabas), for forests too deep for TreeSHAP per row
    BASELINE_SUBSTITUTION = "baseline-substitution"  # p(x) - p(x with the feature at its training median/mode)
    NONE = "none"
