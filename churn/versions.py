"""Model versions: their names, references, and what a training recorded about each."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from churn.decision import DEFAULT_THRESHOLD
from churn.drift import DriftReference
from churn.errors import InvalidRequestError
from churn.evaluation import Evaluation
from churn.features import FeatureSchema
from churn.timestamps import utc_text

if TYPE_CHECKING:
    from churn.ports import ChurnModel

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True, slots=True, order=True)
class ModelRef:
    """A registered model version: name plus version number (1, 2, ...)."""

    name: str
    version: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not MODEL_NAME.match(self.name):
            raise InvalidRequestError(
                f"invalid model name {self.name!r}: use letters, digits, '_', '-', '.', starting with a letter or digit"
            )
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidRequestError(f"invalid model version {self.version!r}: a whole number from 1")

    def __str__(self) -> str:
        return f"{self.name}:{self.version}"

    @classmethod
    def parse(cls, text: str) -> "ModelRef":
        """`name:version`, as str() writes it; InvalidRequestError without a version."""
        found = ModelFilter.parse(text)
        if found.version is None:
            raise InvalidRequestError(f"invalid model version {text!r}: use 'name:version', e.g. churn-logistic_regression:1")
        return cls(found.name, found.version)


@dataclass(frozen=True, slots=True)
class ModelFilter:
    """`name` or `name:version`, to narrow prediction listings to one model."""

    name: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> "ModelFilter":
        name, _, version = text.strip().partition(":")
        if not name or not MODEL_NAME.match(name):
            raise InvalidRequestError(f"invalid model filter {text!r}: use 'name' or 'name:version'")
        if not version:
            return cls(name)
        if not version.isdigit() or int(version) < 1:
            raise InvalidRequestError(f"invalid model filter {text!r}: the version must be a whole number from 1")
        return cls(name, int(version))

    def matches(self, ref: ModelRef) -> bool:
        return ref.name == self.name and (self.version is None or ref.version == self.version)



@dataclass(frozen=True, slots=True)
class TrainingSummary:
    """What a training produced, before the registry gives it a version."""

    model_type: str
    hyperparameters: Mapping[str, Any]
    metrics: Mapping[str, float]
    dataset: str
    dataset_hash: str
    rows: int
    schema: FeatureSchema
    training_seconds: float
    started_at: datetime
    finished_at: datetime
    explanation_method: str = "none"
    """How the reasons of this version's predictions are computed (churn.reasons.ExplanationMethod)."""
    threshold: float = DEFAULT_THRESHOLD
    evaluation: Evaluation | None = None
    drift_reference: DriftReference | None = None
    """The training distribution drift is measured against; None for versions trained before it existed."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for every store and the registry; times as fixed-width ISO 8601 UTC (sortable as text)."""
        return {
            "threshold": self.threshold,
            "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
            "model_type": self.model_type,
            "hyperparameters": dict(self.hyperparameters),
            "metrics": dict(self.metrics),
            "dataset": self.dataset,
            "dataset_hash": self.dataset_hash,
            "rows": self.rows,
            "schema": self.schema.to_dict(),
            "training_seconds": self.training_seconds,
            "started_at": utc_text(self.started_at),
            "finished_at": utc_text(self.finished_at),
            "explanation_method": self.explanation_method,
            "drift_reference": None if self.drift_reference is None else self.drift_reference.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainingSummary":
        return cls(
            model_type=data["model_type"],
            hyperparameters=dict(data["hyperparameters"]),
            metrics=dict(data["metrics"]),
            dataset=data["dataset"],
            dataset_hash=data["dataset_hash"],
            rows=data["rows"],
            schema=FeatureSchema.from_dict(data["schema"]),
            training_seconds=data["training_seconds"],
            started_at=datetime.fromisoformat(data["started_at"]),
            finished_at=datetime.fromisoformat(data["finished_at"]),
            explanation_method=data.get("explanation_method", "none"),
            threshold=float(data.get("threshold", DEFAULT_THRESHOLD)),  # versions trained before thresholds: 0.5
            evaluation=None if data.get("evaluation") is None else Evaluation.from_dict(data["evaluation"]),
            drift_reference=None if data.get("drift_reference") is None else DriftReference.from_dict(data["drift_reference"]),
        )



@dataclass(frozen=True, slots=True)
class ModelRecord:
    """A registered model version with everything needed to compare and serve it."""

    ref: ModelRef
    summary: TrainingSummary
    run_id: str = ""

    @property
    def created_at(self) -> datetime:
        return self.summary.finished_at


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A model record as listed to users: whether it is the active one and, when this process holds
    it loaded, how it scores (`serving_path`, `parity`: facts of the loaded model, which a load may
    change, so never recorded at training time)."""

    record: ModelRecord
    active: bool
    serving_path: str | None = None
    parity: float | None = None

    @classmethod
    def of(cls, record: ModelRecord, active: bool, loaded: "ChurnModel | None") -> "ModelEntry":
        if loaded is None:
            return cls(record, active)
        return cls(record, active, loaded.serving_path, loaded.parity)
