"""Value objects and entities of the churn domain."""

from __future__ import annotations

import base64
import json
import math
import os
import random
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Generic, Mapping, Sequence, TypeVar

from churn.reasons import NO_REASONS, Reasons
from churn.decision import DEFAULT_THRESHOLD, is_churn
from churn.evaluation import Evaluation
from churn.promotion import Activation, PromotionDecision
from churn.training_options import TrainingOptions
from churn.errors import (
    FeatureProblem,
    InvalidBandError,
    InvalidFeaturesError,
    InvalidPageError,
    InvalidRequestError,
)
from churn import columns as _columns
from churn.columns import Reading
from churn.profiles import DatasetProfile

FeatureValue = float | str | None
Features = Mapping[str, Any]

_ids = random.Random()  # seeded from the OS at import, re-seeded in a forked child
os.register_at_fork(after_in_child=_ids.seed)


def fresh_id() -> str:
    """A random 128-bit id in UUID version 4 layout, as hex. Drawn from a generator seeded by the OS
    rather than from os.urandom per call: a system call on every prediction cost more than scoring
    it. Ids must be unique, not secret (nothing is authorised by knowing one)."""
    return uuid.UUID(int=_ids.getrandbits(128), version=4).hex


# ---------------------------------------------------------------- bands and ranges


@dataclass(frozen=True, slots=True)
class ProbabilityRange:
    """[minimum, maximum) on churn probability; closed at the top when maximum is 1."""

    minimum: float
    maximum: float

    def __post_init__(self) -> None:
        for value in (self.minimum, self.maximum):
            if not isinstance(value, (int, float)) or math.isnan(value) or not 0.0 <= value <= 1.0:
                raise InvalidBandError("min_probability and max_probability must be numbers between 0 and 1")
        if self.minimum >= self.maximum:
            raise InvalidBandError("min_probability must be lower than max_probability")

    def contains(self, probability: float) -> bool:
        if self.maximum >= 1.0:
            return self.minimum <= probability <= 1.0
        return self.minimum <= probability < self.maximum


class Band(StrEnum):
    """The four churn-risk bands, in percent. Half-open intervals; the last one includes 100 %."""

    LOW = "0-25"
    MEDIUM = "25-50"
    HIGH = "50-75"
    VERY_HIGH = "75-100"

    @property
    def range(self) -> ProbabilityRange:
        return _BAND_RANGES[self]

    @classmethod
    def of(cls, probability: float) -> "Band":
        """On the scoring hot path: plain comparisons against the band edges."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability {probability} is outside [0, 1]")
        if probability < 0.5:
            return cls.LOW if probability < 0.25 else cls.MEDIUM
        return cls.HIGH if probability < 0.75 else cls.VERY_HIGH

    @classmethod
    def covering(cls, probabilities: ProbabilityRange) -> tuple["Band", ...] | None:
        """The bands whose union is exactly `probabilities` (lowest first), or None when the range does
        not start and end on band edges. Lets a store total such a range from per-band counts."""
        inside = tuple(b for b in cls if probabilities.minimum <= b.range.minimum and b.range.maximum <= probabilities.maximum)
        if not inside or inside[0].range.minimum != probabilities.minimum or inside[-1].range.maximum != probabilities.maximum:
            return None
        return inside

    @classmethod
    def parse(cls, label: str) -> "Band":
        try:
            return cls(label.strip())
        except ValueError:
            allowed = ", ".join(b.value for b in cls)
            raise InvalidBandError(f"unknown band {label!r}; allowed values: {allowed}", allowed=[b.value for b in cls]) from None


_BAND_RANGES = {band: ProbabilityRange(int(band.value.split("-")[0]) / 100, int(band.value.split("-")[1]) / 100) for band in Band}


# ---------------------------------------------------------------- models

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


# ---------------------------------------------------------------- feature schema


class FeatureKind(StrEnum):
    NUMBER = "number"
    CATEGORY = "category"
    BOOLEAN = "boolean"
    DATE = "date"

    @property
    def encoded_as_number(self) -> bool:
        """The model receives a float for it (booleans as 0/1, dates as their age in days)."""
        return self is not FeatureKind.CATEGORY


_NUMBER, _CATEGORY = FeatureKind.NUMBER, FeatureKind.CATEGORY  # read per feature per request: no enum lookups


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One input column of a model: its kind, the categories seen in training, an example value.
    A boolean lists its (false, true) values as written in the file in `categories`; a date has the
    file's `date_format` and the `reference` moment its age in days is measured at."""

    name: str
    kind: FeatureKind
    example: FeatureValue = None
    categories: tuple[str, ...] = ()
    date_format: str | None = None
    reference: str | None = None

    def problem_with(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this feature, or None. Null means 'unknown' and is imputed."""
        if value is None:
            return None
        kind = self.kind
        if kind is _NUMBER:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"expected a number, got {_json_type(value)}"
            if not math.isfinite(value):
                return "expected a finite number"
            return None
        if kind is _CATEGORY:
            return None if isinstance(value, str) else f"expected a string (one of the categories), got {_json_type(value)}"
        if self.kind is FeatureKind.BOOLEAN:
            return None if _columns.boolean_value(value, self.categories) is not None else (
                f"expected true or false (or {' / '.join(repr(c) for c in reversed(self.categories))}), got {_json_type(value)}"
            )
        if self.kind is FeatureKind.DATE:
            if isinstance(value, str) and _columns.parse_date(value, self.date_format or "%Y-%m-%d") is not None:
                return None
            return f"expected a date as a string like {self.example!r}, got {_json_type(value)}"
        if not isinstance(value, str):
            return f"expected a string (one of the categories), got {_json_type(value)}"
        return None

    def clean(self, value: Any) -> Any:
        """A value `problem_with` accepted, as stored: booleans as true/false, dates in ISO form, text NFC."""
        if value is None:
            return None
        if self.kind is FeatureKind.BOOLEAN:
            return _columns.boolean_value(value, self.categories)
        if self.kind is FeatureKind.DATE:
            return _columns.parse_date(value, self.date_format or "%Y-%m-%d").isoformat()  # type: ignore[union-attr]
        return _columns.nfc(value) if isinstance(value, str) else value

    def encode(self, value: Any) -> Any:
        """A cleaned value as the model takes it: booleans 0/1, dates their age in days at `reference`."""
        if value is None:
            return None
        if self.kind is FeatureKind.BOOLEAN:
            return 1.0 if value else 0.0
        if self.kind is FeatureKind.DATE:
            return _columns.days_before(datetime.fromisoformat(self.reference or value), datetime.fromisoformat(value))
        return value

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "kind": self.kind.value, "example": self.example, "categories": list(self.categories)}
        if self.kind is FeatureKind.DATE:
            data.update(date_format=self.date_format, reference=self.reference)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSpec":
        return cls(
            data["name"], FeatureKind(data["kind"]), data.get("example"), tuple(data.get("categories") or ()),
            data.get("date_format"), data.get("reference"),
        )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The features a model expects, in training order. Checks a request and builds an example body."""

    features: tuple[FeatureSpec, ...]
    _known: frozenset[str] = field(init=False, repr=False, compare=False)
    _derived: tuple[FeatureSpec, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.features:
            raise ValueError("a schema needs at least one feature")
        object.__setattr__(self, "_known", frozenset(f.name for f in self.features))  # once, not per request
        derived = tuple(f for f in self.features if f.kind in (FeatureKind.BOOLEAN, FeatureKind.DATE))
        object.__setattr__(self, "_derived", derived)

    def encode(self, clean: Mapping[str, Any]) -> Mapping[str, Any]:
        """What `check` returned, as the model scores it (booleans and dates become numbers); the
        same mapping when the schema has neither."""
        if not self._derived:
            return clean
        encoded = dict(clean)
        for spec in self._derived:
            encoded[spec.name] = spec.encode(clean.get(spec.name))
        return encoded

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def example(self) -> dict[str, FeatureValue]:
        return {f.name: f.example for f in self.features}

    def check(self, values: Any) -> dict[str, FeatureValue]:
        """Return the features in schema order (ints as floats); InvalidFeaturesError listing every problem.

        Never echoes submitted values: problems name the feature and what is wrong.
        """
        if not isinstance(values, Mapping):
            raise InvalidFeaturesError([FeatureProblem("features", "expected an object of feature name to value")], self.example())
        problems: list[FeatureProblem] = []
        clean: dict[str, FeatureValue] = {}
        for spec in self.features:
            if spec.name not in values:
                problems.append(FeatureProblem(spec.name, "missing"))
                continue
            value = values[spec.name]
            problem = spec.problem_with(value)
            if problem:
                problems.append(FeatureProblem(spec.name, problem))
            elif spec.kind is _NUMBER and value is not None:
                clean[spec.name] = float(value)
            elif spec.kind is _CATEGORY and value.__class__ is str and value.isascii():
                clean[spec.name] = value  # ASCII is already NFC: the common case costs nothing more
            else:
                clean[spec.name] = spec.clean(value)
        for name in values:
            if name not in self._known:
                problems.append(FeatureProblem(str(name), "unknown feature for this model"))
        if problems:
            raise InvalidFeaturesError(problems, self.example())
        return clean

    def pick(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The schema's features out of a wider record (a stored customer); absent ones stay absent."""
        return {name: record[name] for name in self.names if name in record}

    def to_dict(self) -> dict[str, Any]:
        return {"features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSchema":
        return cls(tuple(FeatureSpec.from_dict(f) for f in data["features"]))


# ---------------------------------------------------------------- data sets

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not DATASET_NAME.match(name):
        raise InvalidRequestError(
            f"invalid data set name {name!r}: 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class Dataset:
    """An uploaded CSV registered for training. The content itself lives in the DatasetStore."""

    name: str
    rows: int
    columns: tuple[str, ...]
    target: str
    positive_label: str
    positive_rate: float
    content_hash: str
    created_at: datetime
    id_column: str | None = None
    reading: Reading | None = None
    profile: DatasetProfile | None = None
    """How the file was read and what each column means (None for data sets stored before profiles)."""

    def __post_init__(self) -> None:
        check_dataset_name(self.name)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        if self.profile is not None:
            return self.profile.features
        return tuple(c for c in self.columns if c not in (self.target, self.id_column))


# ---------------------------------------------------------------- training


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


INTERRUPTED = "interrupted"
"""The error of a job whose process stopped before it finished."""


@dataclass(frozen=True, slots=True)
class TrainingJob:
    """One asked-for training, from queued to succeeded or failed. Transitions return new jobs."""

    job_id: str
    dataset: str
    model_type: str
    hyperparameters: Mapping[str, Any]
    model_name: str
    activate: Activation
    created_at: datetime
    status: JobStatus = JobStatus.QUEUED
    started_at: datetime | None = None
    finished_at: datetime | None = None
    model: ModelRef | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    owner: str | None = None
    heartbeat_at: datetime | None = None
    columns: tuple[str, ...] = ()
    """The data set columns to train on (from /train's features / exclude); empty: every feature column."""
    options: TrainingOptions = field(default_factory=TrainingOptions)
    promotion: PromotionDecision | None = None

    def __post_init__(self) -> None:
        # `activate` is the options' policy; a bool (jobs stored before "if_better") is read as one.
        if not isinstance(self.activate, Activation):
            object.__setattr__(self, "activate", Activation.parse(self.activate))
        if self.options.activate is not self.activate:
            object.__setattr__(self, "options", replace(self.options, activate=self.activate))

    @classmethod
    def new(
        cls,
        dataset: str,
        model_type: str,
        hyperparameters: Mapping[str, Any],
        model_name: str,
        activate: Activation | bool,
        now: datetime,
        owner: str | None = None,
        columns: tuple[str, ...] = (),
        options: TrainingOptions | None = None,
    ) -> "TrainingJob":
        """`owner` names the process that will run the job; it keeps the job's heartbeat fresh."""
        policy = Activation.parse(activate)
        options = replace(options or TrainingOptions(), activate=policy)
        return cls(
            fresh_id(), dataset, model_type, dict(hyperparameters), model_name, policy, now,
            owner=owner, heartbeat_at=now, columns=tuple(columns), options=options,
        )

    @property
    def last_sign_of_life(self) -> datetime:
        """When the owning process last showed it was alive: an unfinished job older than a lease
        is one whose process is gone."""
        return self.heartbeat_at or self.started_at or self.created_at

    def started(self, now: datetime) -> "TrainingJob":
        return replace(self, status=JobStatus.RUNNING, started_at=now, heartbeat_at=now)

    def succeeded(
        self, model: ModelRef, metrics: Mapping[str, float], now: datetime, promotion: PromotionDecision | None = None
    ) -> "TrainingJob":
        return replace(self, status=JobStatus.SUCCEEDED, finished_at=now, model=model, metrics=dict(metrics), promotion=promotion)

    def failed(self, reason: str, now: datetime) -> "TrainingJob":
        return replace(self, status=JobStatus.FAILED, finished_at=now, error=reason)


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
    serving_path: str = "sklearn"
    parity: float | None = None
    explanation_method: str = "none"
    """How the reasons of this version's predictions are computed (churn.reasons.ExplanationMethod)."""
    threshold: float = DEFAULT_THRESHOLD
    evaluation: Evaluation | None = None

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
            "serving_path": self.serving_path,
            "parity": self.parity,
            "explanation_method": self.explanation_method,
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
            serving_path=data.get("serving_path", "sklearn"),
            parity=data.get("parity"),
            explanation_method=data.get("explanation_method", "none"),
            threshold=float(data.get("threshold", DEFAULT_THRESHOLD)),  # versions trained before thresholds: 0.5
            evaluation=None if data.get("evaluation") is None else Evaluation.from_dict(data["evaluation"]),
        )


def utc_text(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC to the microsecond (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


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
    """A model record as listed to users: with whether it is the active one."""

    record: ModelRecord
    active: bool


# ---------------------------------------------------------------- customers and predictions


def check_customer_id(customer_id: Any) -> str:
    if not isinstance(customer_id, str) or not customer_id.strip() or len(customer_id) > 128:
        raise InvalidRequestError("customer_id must be a non-empty string of at most 128 characters")
    return customer_id.strip()


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer of the base (`CLIENTES`): its id and its attributes as read from the source."""

    customer_id: str
    attributes: Mapping[str, FeatureValue]

    def __post_init__(self) -> None:
        check_customer_id(self.customer_id)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of an idempotent customer import."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple["RejectedRow", ...] = ()


@dataclass(frozen=True, slots=True)
class UpsertPlan:
    """What an idempotent import writes: `inserts` are new ids, `replaces` changed ones (both in
    batch order, last version of a repeated id wins); `report` counts them and the unchanged ones."""

    inserts: dict[str, Customer]
    replaces: dict[str, Customer]
    report: "ImportReport"

    @classmethod
    def of(cls, stored: Mapping[str, Mapping[str, FeatureValue]], customers: Sequence[Customer]) -> "UpsertPlan":
        """`stored`: the attributes already kept for (at least) the batch's ids. A repeated id in the
        batch counts against the attributes written just before it."""
        current = {k: dict(v) for k, v in stored.items()}
        inserts: dict[str, Customer] = {}
        replaces: dict[str, Customer] = {}
        inserted = updated = unchanged = 0
        for customer in customers:
            attributes = dict(customer.attributes)
            old = current.get(customer.customer_id)
            if old is None:
                inserted += 1
            elif old == attributes:
                unchanged += 1
                continue
            else:
                updated += 1
            current[customer.customer_id] = attributes
            target = replaces if customer.customer_id in stored else inserts
            target[customer.customer_id] = Customer(customer.customer_id, attributes)
        return cls(inserts, replaces, ImportReport(inserted, updated, unchanged))


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str


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


# ---------------------------------------------------------------- paging

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class PageRequest:
    """limit 1..1000, offset >= 0, or an opaque `after` cursor from a previous page."""

    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    after: "PredictionCursor | None" = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise InvalidPageError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise InvalidPageError("offset must be a whole number from 0")
        if self.after is not None and self.offset:
            raise InvalidPageError("use either offset or after, not both")


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


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
    next: str | None = None
