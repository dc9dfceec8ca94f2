"""A stored prediction, and the position after one in a band listing."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from churn.bands import Band
from churn.decision import DEFAULT_THRESHOLD, is_churn
from churn.errors import InvalidPageError
from churn.features import Features, FeatureValue
from churn.ids import fresh_id
from churn.reasons import NO_REASONS, Reasons
from churn.versions import ModelRef

from typing import Mapping


@dataclass(frozen=True, slots=True)
class Prediction:
    """One stored score of one customer by one model version."""

    prediction_id: str
    customer_id: str | None
    features: Mapping[str, FeatureValue]
    churn_probability: float
    model: ModelRef
    created_at: datetime
    reasons: Reasons = NO_REASONS
    run_id: str | None = None
    """The scoring run that made it, None for a request."""
    threshold: float = DEFAULT_THRESHOLD
    """The decision threshold of the version that scored it."""

    def __post_init__(self) -> None:
        p = self.churn_probability
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"churn probability must be in [0, 1], got {p!r}")

    @classmethod
    def new(
        cls,
        customer_id: str | None,
        features: Features,
        probability: float,
        model: ModelRef,
        now: datetime,
        reasons: Reasons = NO_REASONS,
        run_id: str | None = None,
        prediction_id: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> "Prediction":
        return cls(
            prediction_id or fresh_id(), customer_id, dict(features), min(1.0, max(0.0, float(probability))), model, now, reasons, run_id,
            threshold,
        )

    def is_newer_than(self, other: "Prediction") -> bool:
        """Which of a customer's predictions is its latest risk: the later created_at, then the
        greater prediction_id (two predictions of one instant still have one latest)."""
        return (self.created_at, self.prediction_id) > (other.created_at, other.prediction_id)

    @property
    def band(self) -> Band:
        return Band.of(self.churn_probability)

    @property
    def churn(self) -> bool:
        return is_churn(self.churn_probability, self.threshold)



@dataclass(frozen=True, slots=True)
class PredictionCursor:
    """Position after a prediction in (probability desc, created_at desc, id desc) order."""

    churn_probability: float
    created_at: datetime
    prediction_id: str

    @classmethod
    def after(cls, prediction: Prediction) -> "PredictionCursor":
        return cls(prediction.churn_probability, prediction.created_at, prediction.prediction_id)

    def encode(self) -> str:
        raw = json.dumps([self.churn_probability, self.created_at.isoformat(), self.prediction_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "PredictionCursor":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            p, created, pid = json.loads(raw)
            return cls(float(p), datetime.fromisoformat(created), str(pid))
        except Exception:
            raise InvalidPageError("invalid 'after' cursor: pass the 'next' value of a previous page unchanged") from None

    def comes_before(self, prediction: Prediction) -> bool:
        """True when `prediction` sorts after this cursor in band order."""
        return (prediction.churn_probability, prediction.created_at, prediction.prediction_id) < (
            self.churn_probability,
            self.created_at,
            self.prediction_id,
        )
