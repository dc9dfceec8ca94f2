"""What a training measured about its model, beyond the hold-out metrics: cross-validation spread,
the reliability diagram, ROC and PR curves, the confusion matrix at the threshold, feature importances."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

MAX_CURVE_POINTS = 200
RELIABILITY_BINS = 10
CV_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """Stratified k-fold on the training split: mean and sample standard deviation per metric, or
    why it was skipped (`folds` 0)."""

    folds: int
    mean: Mapping[str, float] = field(default_factory=dict)
    std: Mapping[str, float] = field(default_factory=dict)
    skipped: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"folds": self.folds, "mean": dict(self.mean), "std": dict(self.std), "skipped": self.skipped}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CrossValidation":
        return cls(int(data["folds"]), dict(data.get("mean") or {}), dict(data.get("std") or {}), data.get("skipped"))


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Hold-out rows whose probability fell in [lower, upper): how many, their mean probability and
    the share of them that churned (None when the bin is empty)."""

    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"lower": self.lower, "upper": self.upper, "count": self.count, "mean_predicted": self.mean_predicted, "observed_rate": self.observed_rate}


@dataclass(frozen=True, slots=True)
class CurvePoint:
    x: float
    y: float
    threshold: float | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything on the version's page about how trustworthy it is. Curves hold at most
    MAX_CURVE_POINTS points: ROC as (false positive rate, true positive rate), PR as (recall, precision)."""

    threshold_rule: Any
    threshold_source: str
    calibration: str
    cross_validation: CrossValidation
    reliability: tuple[ReliabilityBin, ...] = ()
    roc: tuple[CurvePoint, ...] = ()
    pr: tuple[CurvePoint, ...] = ()
    confusion: Mapping[str, int] = field(default_factory=dict)
    importances: tuple[tuple[str, float], ...] = ()
    importance_kind: str = ""
    holdout_rows: int = 0
    cv_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold_rule": self.threshold_rule,
            "threshold_source": self.threshold_source,
            "calibration": self.calibration,
            "cross_validation": self.cross_validation.to_dict(),
            "reliability": [b.to_dict() for b in self.reliability],
            "roc": [[p.x, p.y, p.threshold] for p in self.roc],
            "pr": [[p.x, p.y, p.threshold] for p in self.pr],
            "confusion": dict(self.confusion),
            "importances": [[name, value] for name, value in self.importances],
            "importance_kind": self.importance_kind,
            "holdout_rows": self.holdout_rows,
            "cv_seconds": self.cv_seconds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Evaluation":
        return cls(
            threshold_rule=data.get("threshold_rule"),
            threshold_source=data.get("threshold_source", ""),
            calibration=data.get("calibration", "none"),
            cross_validation=CrossValidation.from_dict(data.get("cross_validation") or {"folds": 0}),
            reliability=tuple(ReliabilityBin(**b) for b in data.get("reliability") or ()),
            roc=_points(data.get("roc")),
            pr=_points(data.get("pr")),
            confusion=dict(data.get("confusion") or {}),
            importances=tuple((str(n), float(v)) for n, v in data.get("importances") or ()),
            importance_kind=data.get("importance_kind", ""),
            holdout_rows=int(data.get("holdout_rows", 0)),
            cv_seconds=float(data.get("cv_seconds", 0.0)),
        )


def _points(rows: Sequence[Sequence[Any]] | None) -> tuple[CurvePoint, ...]:
    return tuple(CurvePoint(float(x), float(y), None if t is None else float(t)) for x, y, t in rows or ())


@dataclass(frozen=True, slots=True)
class HoldoutSet:
    """A data set's hold-out rows, encoded as models score them (`FeatureSchema.encode`'s output),
    with their labels (1 = churned). The same rows every time for the same data set."""

    columns: tuple[str, ...]
    rows: Sequence[Mapping[str, Any]]
    labels: Sequence[int]
    kinds: Mapping[str, str] = field(default_factory=dict)
    """Each column's feature kind (number, category, boolean, date): a model can score a column only as the kind it was trained on."""
