"""What a training is asked for besides the model type: calibration, decision threshold,
cross-validation and activation; and what makes a data set large enough to be measured honestly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Mapping

from churn.decision import ThresholdRule
from churn.errors import InvalidRequestError
from churn.promotion import Activation

HOLDOUT_FRACTION = 0.2
"""The stratified share of a data set kept out of training to measure the model on."""
MIN_HOLDOUT_PER_CLASS = 10
"""Fewer churners (or stayers) than this in the hold-out and no metric on it means anything."""
DEFAULT_CV_FOLDS = 5
MAX_CV_FOLDS = 20


class Calibration(StrEnum):
    NONE = "none"
    SIGMOID = "sigmoid"
    ISOTONIC = "isotonic"

    @classmethod
    def parse(cls, value: Any) -> "Calibration":
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidRequestError(f"unknown calibration {value!r}; allowed: none, sigmoid, isotonic") from None


DEFAULT_CALIBRATION: Mapping[str, Calibration] = {
    "logistic_regression": Calibration.NONE,
    "gradient_boosting": Calibration.NONE,
    "random_forest": Calibration.ISOTONIC,
    "svc": Calibration.ISOTONIC,
    "decision_tree": Calibration.NONE,
    "knn": Calibration.ISOTONIC,
}
"""Chosen from bench/quality.py on Telco and bank (hold-out ECE, 10 bins): logistic regression and
gradient boosting fit log loss and are calibrated as they come (calibrating them cost hold-out data for
no ECE gain); forests and k-NN give coarse, pulled-in scores that isotonic regression fixes (k-NN over
four splits: ECE 0.026 against sigmoid's 0.034 on Telco, 0.019 against 0.023 on the bank data, ROC AUC
0.002 lower); an SVC has no probabilities without calibration, and isotonic gave it the lowest ECE."""
NEEDS_CALIBRATION = frozenset({"svc"})


@dataclass(frozen=True, slots=True)
class TrainingOptions:
    """`calibration` None means the model type's default; `cv_folds` 0 turns cross-validation off."""

    activate: Activation = Activation.IF_BETTER
    calibration: Calibration | None = None
    threshold: ThresholdRule = field(default_factory=ThresholdRule)
    cv_folds: int = DEFAULT_CV_FOLDS

    def __post_init__(self) -> None:
        folds = self.cv_folds
        if isinstance(folds, bool) or not isinstance(folds, int) or not (folds == 0 or 2 <= folds <= MAX_CV_FOLDS):
            raise InvalidRequestError(f"cv_folds must be 0 (off) or a whole number from 2 to {MAX_CV_FOLDS}")

    def calibration_for(self, model_type: str) -> Calibration:
        """The method to use; InvalidRequestError for "none" on a type whose scores are no probabilities."""
        method = self.calibration or DEFAULT_CALIBRATION.get(model_type, Calibration.NONE)
        if method is Calibration.NONE and model_type in NEEDS_CALIBRATION:
            raise InvalidRequestError(f"{model_type} gives no probabilities without calibration: use sigmoid or isotonic")
        return method

    def to_dict(self) -> dict[str, Any]:
        return {
            "activate": self.activate.value,
            "calibration": None if self.calibration is None else self.calibration.value,
            "threshold": self.threshold.to_json(),
            "cv_folds": self.cv_folds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, activate: Any = None) -> "TrainingOptions":
        """Jobs stored before options existed carry only a boolean `activate`."""
        data = data or {}
        return cls(
            activate=Activation.parse(data.get("activate", activate)),
            calibration=None if data.get("calibration") is None else Calibration.parse(data["calibration"]),
            threshold=ThresholdRule.parse(data.get("threshold")),
            cv_folds=int(data.get("cv_folds", DEFAULT_CV_FOLDS)),
        )


def holdout_counts(rows: int, positives: int, fraction: float = HOLDOUT_FRACTION) -> tuple[int, int]:
    """(churners, stayers) a stratified hold-out of `fraction` keeps, at least (rounding down)."""
    negatives = rows - positives
    return math.floor(positives * fraction), math.floor(negatives * fraction)


def check_holdout(rows: int, positives: int, fraction: float = HOLDOUT_FRACTION) -> None:
    """InvalidRequestError saying how many rows are needed when the hold-out would hold fewer than
    MIN_HOLDOUT_PER_CLASS customers of either class."""
    churners, stayers = holdout_counts(rows, positives, fraction)
    if min(churners, stayers) >= MIN_HOLDOUT_PER_CLASS:
        return
    per_class = math.ceil(MIN_HOLDOUT_PER_CLASS / fraction)
    minority = min(positives, rows - positives)
    rate = minority / rows if rows else 0.0
    needed = math.ceil(per_class / rate) if rate > 0 else None
    at_rate = f"at least {needed} rows at this data set's class balance" if needed else "rows of both classes"
    raise InvalidRequestError(
        f"the hold-out ({fraction:.0%} of {rows} rows) would hold {churners} churners and {stayers} other customers; "
        f"at least {MIN_HOLDOUT_PER_CLASS} of each are needed to measure the model: upload at least {per_class} "
        f"customers of each class ({at_rate})",
        rows=rows,
        rows_needed=needed,
        holdout_churners=churners,
        holdout_others=stayers,
    )
