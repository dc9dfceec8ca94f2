"""Safe promotion: when a newly trained version may replace the one every CRM call is scored with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Mapping

from churn.errors import InvalidRequestError

if TYPE_CHECKING:
    from churn.versions import ModelRef

DEFAULT_MIN_ROC_AUC = 0.6

HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "f1": True, "accuracy": True, "log_loss": False, "brier": False, "ece": False}
"""The hold-out metrics a promotion may compare on, and in which direction they improve."""


class Activation(StrEnum):
    """`activate` on /train: "if_better" (the default), true or false."""

    IF_BETTER = "if_better"
    ALWAYS = "true"
    NEVER = "false"

    @classmethod
    def parse(cls, value: Any) -> "Activation":
        if value is True:
            return cls.ALWAYS
        if value is False:
            return cls.NEVER
        if value is None:
            return cls.IF_BETTER
        if isinstance(value, str) and value.strip().lower() in {"if_better", "true", "false"}:
            return cls(value.strip().lower())
        raise InvalidRequestError('activate must be "if_better", true or false')

    def to_json(self) -> Any:
        return {Activation.ALWAYS: True, Activation.NEVER: False}.get(self, self.value)


def check_promotion_metric(metric: str) -> str:
    if metric not in HIGHER_IS_BETTER:
        raise InvalidRequestError(f"unknown promotion metric {metric!r}; allowed: {', '.join(HIGHER_IS_BETTER)}")
    return metric


@dataclass(frozen=True, slots=True)
class PromotionDecision:
    """Whether the new version became active, and why (or why not), for the job's answer."""

    activated: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"activated": self.activated, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PromotionDecision":
        return cls(bool(data["activated"]), str(data["reason"]))


@dataclass(frozen=True, slots=True)
class Incumbent:
    """The active version, and how it scores on the candidate's hold-out (None when its features
    differ from the candidate's, so the two cannot be compared on the same rows)."""

    ref: ModelRef
    metrics_on_candidate_holdout: Mapping[str, float] | None


@dataclass(frozen=True, slots=True)
class PromotionRule:
    """With "if_better", a candidate becomes active when it reaches `min_roc_auc` on its hold-out and
    either nothing is active or it is strictly better than the active version on `metric`, both
    measured on the candidate's own hold-out rows. true and false decide without looking."""

    metric: str = "roc_auc"
    min_roc_auc: float = DEFAULT_MIN_ROC_AUC

    def __post_init__(self) -> None:
        check_promotion_metric(self.metric)
        if not 0.0 <= self.min_roc_auc <= 1.0:
            raise ValueError("min_roc_auc must be between 0 and 1")

    def decide(self, policy: Activation, candidate: Mapping[str, float], incumbent: Incumbent | None) -> PromotionDecision:
        if policy is Activation.ALWAYS:
            return PromotionDecision(True, "activate was true")
        if policy is Activation.NEVER:
            return PromotionDecision(False, "activate was false")
        auc = candidate.get("roc_auc")
        if auc is None or math.isnan(auc) or auc < self.min_roc_auc:
            return PromotionDecision(
                False,
                f"hold-out roc_auc {_fmt(auc)} is below the floor {self.min_roc_auc} (CHURN_MIN_ROC_AUC); "
                "activate it with POST /use-model if you still want it",
            )
        if incumbent is None:
            return PromotionDecision(True, f"no model was active; hold-out roc_auc {_fmt(auc)} passes the floor {self.min_roc_auc}")
        if incumbent.metrics_on_candidate_holdout is None:
            return PromotionDecision(
                False,
                f"the active model {incumbent.ref} uses other features, so the two cannot be compared on the same rows; "
                "activate it with POST /use-model or train with activate=true",
            )
        new, old = candidate.get(self.metric), incumbent.metrics_on_candidate_holdout.get(self.metric)
        if new is None or math.isnan(new):
            return PromotionDecision(False, f"the new version has no hold-out {self.metric}")
        better = old is None or math.isnan(old) or (new > old if HIGHER_IS_BETTER[self.metric] else new < old)
        if better:
            return PromotionDecision(True, f"{self.metric} {_fmt(new)} beats the active {incumbent.ref}'s {_fmt(old)} on this hold-out")
        return PromotionDecision(
            False,
            f"{self.metric} {_fmt(new)} does not beat the active {incumbent.ref}'s {_fmt(old)} on this version's hold-out; "
            f"{incumbent.ref} stays active (POST /use-model switches anyway)",
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"
