"""Request and response bodies: the only pydantic in the service. `from_domain` maps core objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from churn.bands import Band, ProbabilityRange
from churn.customers import Customer
from churn.datasets import Dataset
from churn.paging import Page
from churn.predictions import Prediction
from churn.training_jobs import JobStatus, TrainingJob
from churn.versions import ModelEntry, ModelRef
from churn.decision import ThresholdRule
from churn.evaluation import CrossValidation
from churn.model_types import ModelType
from churn.reasons import Reasons
from churn.promotion import Activation
from churn.training_options import Calibration, TrainingOptions
from churn.use_cases.compare_models import ComparedVersion

TELCO_EXAMPLE: JsonDict = {
    "gender": "Female",
    "SeniorCitizen": 0,
    "Partner": "Yes",
    "Dependents": "No",
    "tenure": 2,
    "PhoneService": "Yes",
    "MultipleLines": "No",
    "InternetService": "Fiber optic",
    "OnlineSecurity": "No",
    "OnlineBackup": "No",
    "DeviceProtection": "No",
    "TechSupport": "No",
    "StreamingTV": "Yes",
    "StreamingMovies": "No",
    "Contract": "Month-to-month",
    "PaperlessBilling": "Yes",
    "PaymentMethod": "Electronic check",
    "MonthlyCharges": 85.7,
    "TotalCharges": 171.4,
}


class ProblemOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    feature: str | None = Field(default=None, description="the feature concerned (invalid features)")
    field: str | None = Field(default=None, description="the body field or query parameter concerned")
    problem: str = Field(description="what is wrong with it")


class ErrorOut(BaseModel):
    """Every error answer: a kind, a message saying what to do, and for invalid input each problem."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="machine-readable kind, e.g. invalid_features, not_found")
    message: str = Field(description="what went wrong and how to fix it")
    problems: list[ProblemOut] | None = Field(default=None, description="every problem found, by feature or field")
    expected_example: dict[str, Any] | None = Field(default=None, description="a valid body for this endpoint")


class FromDomain(BaseModel):
    """A response read straight off a domain object whose attributes have the fields' names
    (pydantic's from_attributes, nested models included): no field mapped by hand."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def from_domain(cls, value: Any) -> Self:
        return cls.model_validate(value)


class ModelRefOut(FromDomain):
    name: str
    version: int


# ---------------------------------------------------------------- data sets


class TopValueOut(BaseModel):
    value: str
    count: int


class ColumnProfileOut(BaseModel):
    name: str
    kind: str = Field(description="numeric | categorical | boolean | date | identifier | ignored")
    role: str = Field(description="feature | target | id | left out")
    missing: float = Field(description="share of blank cells, 0..1")
    distinct: int
    minimum: float | str | None = Field(None, description="numbers: the smallest; dates: the earliest (ISO)")
    maximum: float | str | None = Field(None, description="numbers: the largest; dates: the latest (ISO)")
    top: list[TopValueOut] = Field(default_factory=list, description="categories and booleans: the most frequent values")
    number_format: str | None = Field(None, description="plain, 1,234.56 or 1.234,56")
    date_format: str | None = None
    boolean_values: list[str] | None = Field(None, description="(false, true) as written in the file")
    reference: str | None = Field(None, description="dates: the moment a date's age in days is measured at")
    leak: bool = False
    warnings: list[str] = Field(default_factory=list)


class ReadingOut(BaseModel):
    encoding: str
    delimiter: str
    decimal: str | None


class DatasetProfileOut(BaseModel):
    columns: list[ColumnProfileOut]
    warnings: list[str]


class DatasetOut(BaseModel):
    name: str
    rows: int
    columns: list[str]
    target: str
    id_column: str | None
    positive_label: str
    positive_rate: float
    content_hash: str
    created_at: datetime
    features: list[str] = Field(default_factory=list, description="the columns a model is trained on by default")
    reading: ReadingOut | None = Field(None, description="how the file was read (detected or given)")
    profile: DatasetProfileOut | None = Field(None, description="what each column was understood to be")

    @classmethod
    def from_domain(cls, d: Dataset) -> "DatasetOut":
        return cls(
            name=d.name,
            rows=d.rows,
            columns=list(d.columns),
            target=d.target,
            id_column=d.id_column,
            positive_label=d.positive_label,
            positive_rate=d.positive_rate,
            content_hash=d.content_hash,
            created_at=d.created_at,
            features=list(d.feature_columns),
            reading=ReadingOut(**d.reading.to_dict()) if d.reading else None,
            profile=DatasetProfileOut(**d.profile.to_dict()) if d.profile else None,
        )


class DatasetListOut(BaseModel):
    items: list[DatasetOut]


# ---------------------------------------------------------------- training


class HyperparameterOut(BaseModel):
    name: str
    type: str
    default: Any
    description: str
    minimum: int | float | None = Field(default=None, description="inclusive; a whole number for type int")
    maximum: int | float | None = Field(default=None, description="inclusive; a whole number for type int")
    choices: list[str] | None = None
    nullable: bool = False


class ModelTypeOut(BaseModel):
    name: str
    description: str
    hyperparameters: list[HyperparameterOut]

    @classmethod
    def from_domain(cls, m: ModelType) -> "ModelTypeOut":
        return cls(name=m.name, description=m.description, hyperparameters=[HyperparameterOut(**h.to_dict()) for h in m.hyperparameters])


class ModelTypeListOut(BaseModel):
    items: list[ModelTypeOut]


class ThresholdCostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cost_false_negative: float = Field(ge=0, description="cost of a churner the model misses")
    cost_false_positive: float = Field(ge=0, description="cost of a retention offer to a customer who would have stayed")


class TrainIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"dataset": "sample", "model_type": "logistic_regression", "hyperparameters": {"C": 0.5}},
                {"dataset": "sample", "model_type": "random_forest", "calibration": "isotonic", "threshold": "max_f1", "activate": "if_better"},
                {"dataset": "sample", "model_type": "gradient_boosting", "threshold": {"cost_false_negative": 5, "cost_false_positive": 1}, "cv_folds": 10},
            ]
        },
    )

    dataset: str = Field(description="name of an uploaded data set (GET /datasets)")
    model_type: str = Field(description="one of GET /model-types")
    hyperparameters: dict[str, Any] = Field(default_factory=dict, description="overrides of the type's defaults")
    name: str | None = Field(default=None, description="registered model name; default churn-<model_type>")
    features: list[str] | None = Field(default=None, description="train on these columns only (default: the data set's features)")
    exclude: list[str] = Field(default_factory=list, description="columns to leave out, e.g. a flagged leak")
    activate: bool | Literal["if_better"] = Field(
        default="if_better",
        description='"if_better": activate only when nothing is active or it beats the active version on this version\'s '
        "hold-out (and passes CHURN_MIN_ROC_AUC); true: always; false: never",
    )
    calibration: Literal["none", "sigmoid", "isotonic"] | None = Field(
        default=None, description="probability calibration, fitted on part of the training split; default per model type (GET /model-types)"
    )
    threshold: float | Literal["max_f1"] | ThresholdCostIn | None = Field(
        default=None,
        description='decision threshold for `churn`: a number in (0, 1) (default 0.5), "max_f1", or the costs of a missed '
        "churner and of a wasted offer; data-driven ones are chosen on cross-validated predictions of the training split",
    )
    cv_folds: int = Field(default=5, ge=0, le=20, description="stratified folds of cross-validation on the training split; 0 turns it off")

    def options(self) -> TrainingOptions:
        threshold = self.threshold.model_dump() if isinstance(self.threshold, ThresholdCostIn) else self.threshold
        return TrainingOptions(
            activate=Activation.parse(self.activate),
            calibration=None if self.calibration is None else Calibration.parse(self.calibration),
            threshold=ThresholdRule.parse(threshold),
            cv_folds=self.cv_folds,
        )


class JobOut(BaseModel):
    job_id: str
    status: JobStatus
    dataset: str
    model_type: str
    hyperparameters: dict[str, Any]
    name: str
    activate: bool | str = Field(description='"if_better", true or false, as asked')
    calibration: str | None = Field(default=None, description="as asked; null = the model type's default")
    threshold: Any = Field(default=None, description="the threshold rule asked for")
    cv_folds: int = 5
    activated: bool | None = Field(default=None, description="whether the new version became active (once succeeded)")
    activation_reason: str | None = Field(default=None, description="why it was or was not activated")
    model: ModelRefOut | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    queue_position: int | None = Field(default=None, description="place in the training queue while queued")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def from_domain(cls, job: TrainingJob, position: int | None = None) -> "JobOut":
        return cls(
            job_id=job.job_id,
            status=job.status,
            dataset=job.dataset,
            model_type=job.model_type,
            hyperparameters=dict(job.hyperparameters),
            name=job.model_name,
            activate=job.activate.to_json(),
            calibration=None if job.options.calibration is None else job.options.calibration.value,
            threshold=job.options.threshold.to_json(),
            cv_folds=job.options.cv_folds,
            activated=None if job.promotion is None else job.promotion.activated,
            activation_reason=None if job.promotion is None else job.promotion.reason,
            model=ModelRefOut.from_domain(job.model) if job.model else None,
            metrics=dict(job.metrics),
            error=job.error,
            queue_position=position,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


# ---------------------------------------------------------------- models


class CrossValidationOut(BaseModel):
    folds: int = Field(description="0 when skipped")
    mean: dict[str, float] = Field(description="roc_auc, pr_auc, log_loss, brier averaged over the folds")
    std: dict[str, float] = Field(description="their sample standard deviation over the folds")
    skipped: str | None = Field(default=None, description="why cross-validation did not run")

    @classmethod
    def from_domain(cls, cv: CrossValidation) -> "CrossValidationOut":
        return cls(folds=cv.folds, mean=dict(cv.mean), std=dict(cv.std), skipped=cv.skipped)


class ModelOut(BaseModel):
    name: str
    version: int
    created_at: datetime
    model_type: str
    dataset: str
    dataset_hash: str
    rows: int
    metrics: dict[str, float]
    hyperparameters: dict[str, Any]
    training_seconds: float
    started_at: datetime
    finished_at: datetime
    features: list[dict[str, Any]] = Field(
        description="the feature schema: name, kind, example, categories (dates: date_format, reference); "
        "in GET /models only name and kind, the rest at GET /models/{name}/{version}"
    )
    serving_path: str | None = Field(
        description="how this process scores the version now: a compiled fast path (numpy-linear, numpy-trees, ...) or sklearn; "
        "null while it is not loaded here (POST /use-model or a /predict naming it loads it)"
    )
    parity: float | None = Field(description="max |fast path - scikit-learn| probability difference on the probe rows, measured at load; null while not loaded")
    run_id: str
    active: bool
    explanation_method: str = Field(
        "none", description="how reasons are computed: linear-exact, tree-shap or baseline-substitution (see the README)"
    )
    threshold: float = Field(description="`churn` is churn_probability >= this, for predictions by this version")
    calibration: str | None = Field(default=None, description="none, sigmoid or isotonic; null for versions trained before calibration")
    cross_validation: CrossValidationOut | None = Field(default=None, description="k-fold spread on the training split")

    @classmethod
    def from_domain(cls, entry: ModelEntry, full: bool = True) -> "ModelOut":
        """`full=False` (listings) keeps each feature's name and kind only, so a list stays small."""
        r, s = entry.record, entry.record.summary
        e = s.evaluation
        return cls(
            threshold=s.threshold,
            calibration=None if e is None else e.calibration,
            cross_validation=None if e is None else CrossValidationOut.from_domain(e.cross_validation),
            name=r.ref.name,
            version=r.ref.version,
            created_at=r.created_at,
            model_type=s.model_type,
            dataset=s.dataset,
            dataset_hash=s.dataset_hash,
            rows=s.rows,
            metrics=dict(s.metrics),
            hyperparameters=dict(s.hyperparameters),
            training_seconds=s.training_seconds,
            started_at=s.started_at,
            finished_at=s.finished_at,
            features=[f.to_dict() if full else {"name": f.name, "kind": f.kind.value} for f in s.schema.features],
            serving_path=entry.serving_path,
            parity=entry.parity,
            run_id=r.run_id,
            active=entry.active,
            explanation_method=s.explanation_method,
        )


class ModelListOut(BaseModel):
    items: list[ModelOut]


class UseModelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "churn-logistic_regression", "version": 1}]})

    name: str
    version: int = Field(ge=1)


# ---------------------------------------------------------------- predictions


class PredictItemIn(BaseModel):
    """One customer to score."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"customer_id": "7590-VHVEG", "features": TELCO_EXAMPLE}]})

    customer_id: str | None = Field(default=None, max_length=128, description="optional; stored with the prediction")
    features: dict[str, Any] = Field(description="feature name → value, as in the active model's schema (GET /models/active)")


class PredictIn(PredictItemIn):
    model: str | None = Field(
        default=None,
        max_length=200,
        description="optional: score with this version instead of the active one, 'name:version' or 'name' (its newest); "
        "the features then follow that version's schema",
        examples=["churn-gradient_boosting:2"],
    )


class PredictBatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"items": [{"customer_id": "7590-VHVEG", "features": TELCO_EXAMPLE}]}]},
    )

    items: list[PredictItemIn] = Field(min_length=1, max_length=1000)
    model: str | None = Field(
        default=None, max_length=200, description="optional: score every item with this version, 'name:version' or 'name' (its newest)"
    )


class ReasonOut(BaseModel):
    feature: str
    value: str = Field(description="the customer's value, as text ('unknown' when missing)")
    contribution: float = Field(description="how much it moves the risk: log-odds for linear and boosting, probability otherwise")


class ReasonsOut(BaseModel):
    raising: list[ReasonOut] = Field(description="the features raising the risk most, largest first")
    lowering: list[ReasonOut] = Field(description="the features lowering it most, most negative first")

    @classmethod
    def from_domain(cls, r: Reasons) -> "ReasonsOut":
        return cls.model_construct(
            raising=[ReasonOut.model_construct(feature=x.feature, value=x.value, contribution=x.contribution) for x in r.raising],
            lowering=[ReasonOut.model_construct(feature=x.feature, value=x.value, contribution=x.contribution) for x in r.lowering],
        )


class PredictionOut(BaseModel):
    prediction_id: str
    customer_id: str | None
    churn_probability: float
    churn: bool
    band: Band = Field(description="churn-risk band: [0, 0.25), [0.25, 0.5), [0.5, 0.75), [0.75, 1]")
    model: ModelRefOut
    created_at: datetime
    reasons: ReasonsOut
    run_id: str | None = Field(None, description="the scoring run that made it; null for a request")

    @classmethod
    def from_domain(cls, p: Prediction) -> "PredictionOut":
        return cls(
            prediction_id=p.prediction_id,
            customer_id=p.customer_id,
            churn_probability=p.churn_probability,
            churn=p.churn,
            band=p.band,
            model=ModelRefOut(name=p.model.name, version=p.model.version),
            created_at=p.created_at,
            reasons=ReasonsOut.from_domain(p.reasons),
            run_id=p.run_id,
        )


    @staticmethod
    def json_bytes(p: Prediction) -> bytes:
        """The serialised answer without re-validating what the domain already checked (hot path)."""
        return PredictionOut.model_construct(
            prediction_id=p.prediction_id,
            customer_id=p.customer_id,
            churn_probability=p.churn_probability,
            churn=p.churn,
            band=p.band,
            model=ModelRefOut.model_construct(name=p.model.name, version=p.model.version),
            created_at=p.created_at,
            reasons=ReasonsOut.from_domain(p.reasons),
            run_id=p.run_id,
        ).model_dump_json().encode()


class PredictionBatchOut(BaseModel):
    items: list[PredictionOut]


T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = Field(default=None, description="pass as `after` for the following page")


class BandOut(BaseModel):
    label: str
    min: float
    max: float

    @classmethod
    def from_range(cls, label: str, r: ProbabilityRange) -> "BandOut":
        return cls(label=label, min=r.minimum, max=r.maximum)


class PredictionPageOut(PageOut[PredictionOut]):
    @classmethod
    def from_domain(cls, page: Page[Prediction]) -> "PredictionPageOut":
        return cls(
            items=[PredictionOut.from_domain(p) for p in page.items],
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            next=page.next,
        )


class BandPageOut(PredictionPageOut):
    band: BandOut


class BandCountOut(BaseModel):
    label: Band
    min: float
    max: float
    count: int


class BandCountsOut(BaseModel):
    items: list[BandCountOut]
    total: int
    model: str | None = None

    @classmethod
    def from_domain(cls, counts: dict[Band, int], model: str | None) -> "BandCountsOut":
        items = [BandCountOut(label=b, min=b.range.minimum, max=b.range.maximum, count=counts.get(b, 0)) for b in Band]
        return cls(items=items, total=sum(i.count for i in items), model=model)


# ---------------------------------------------------------------- customers


class CustomerOut(FromDomain):
    customer_id: str
    attributes: dict[str, Any]


class CustomerPageOut(PageOut[CustomerOut]):
    @classmethod
    def from_domain(cls, page: Page[Customer]) -> "CustomerPageOut":
        return cls(
            items=[CustomerOut.from_domain(c) for c in page.items], total=page.total, limit=page.limit, offset=page.offset, next=page.next
        )


class RejectedRowOut(FromDomain):
    line: int
    reason: str


class ImportReportOut(FromDomain):
    inserted: int
    updated: int
    unchanged: int
    rejected: list[RejectedRowOut]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description="store, registry, active_model: 'ok' (or the active version) or the reason; "
        "startup: 'in progress' while the process is still starting"
    )


# ---------------------------------------------------------------- scoring runs


class CustomerFilterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(default_factory=list, description="score only these stored customers")
    attributes: dict[str, str | float | None] = Field(
        default_factory=dict, description="score only customers whose stored attributes equal these values"
    )


class ScoringRunIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{}, {"model": "churn-logistic_regression:2", "customers": {"attributes": {"Contract": "Month-to-month"}}}]},
    )

    model: str | None = Field(default=None, description="'name:version' or 'name' (its newest); default the active version")
    customers: CustomerFilterIn | None = Field(default=None, description="default every stored customer")


class ScoringChunkOut(BaseModel):
    index: int
    after: str | None = Field(description="the chunk holds the customer ids greater than this (null: from the first)")
    upto: str | None = Field(description="... up to this one included (null: to the last)")
    status: str
    worker: str | None = Field(description="the worker process that holds or held it last")
    done: int = Field(description="customers gone through: scored + skipped + excluded")
    scored: int


class ScoringRunOut(BaseModel):
    run_id: str
    status: str = Field(description="queued, running, succeeded, failed, or interrupted (its process stopped: POST .../resume)")
    model: ModelRefOut
    total: int = Field(description="stored customers to go through (a filter's leftovers count as excluded)")
    done: int = Field(description="customers gone through: scored + skipped + excluded")
    scored: int
    skipped: int = Field(description="customers whose record lacks what the model needs")
    excluded: int = Field(description="customers the filter left out")
    skip_reasons: dict[str, int] = Field(description="why customers were skipped, counted")
    rate: float | None = Field(description="customers per second")
    eta_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    chunks: list[ScoringChunkOut] = Field(
        default_factory=list, description="with a job engine (CHURN_JOB_RUNNER=rq) the run's pages, each a task of a worker; else empty"
    )
    workers: dict[str, int] = Field(default_factory=dict, description="customers gone through per worker process, for a run in chunks")

    @classmethod
    def from_domain(cls, run: Any, interrupted: bool = False) -> "ScoringRunOut":
        return cls(
            run_id=run.run_id,
            status="interrupted" if interrupted else run.status.value,
            model=ModelRefOut(name=run.model.name, version=run.model.version),
            total=run.total,
            done=run.done,
            scored=run.scored,
            skipped=run.skipped,
            excluded=run.excluded,
            skip_reasons=dict(run.skip_reasons),
            rate=None if run.rate is None else round(run.rate, 1),
            eta_seconds=None if interrupted or run.eta_seconds is None else round(run.eta_seconds, 1),
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            chunks=[
                ScoringChunkOut(
                    index=c.index, after=c.after, upto=c.upto, status=c.status.value, worker=c.owner,
                    done=c.scored + c.skipped + c.excluded, scored=c.scored,
                )
                for c in run.chunks
            ],
            workers=dict(run.workers),
        )


class ScoringRunListOut(BaseModel):
    items: list[ScoringRunOut]


# ---------------------------------------------------------------- outcomes and realised performance


class OutcomeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"customer_id": "7590-VHVEG", "churned": True, "observed_at": "2026-03-31"}]}
    )

    customer_id: str
    churned: bool | str | int = Field(description="true / false (also 1 / 0, yes / no)")
    observed_at: str = Field(description="ISO 8601 date or date-time (UTC when no offset)")


class OutcomesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[OutcomeIn] = Field(max_length=10_000)


class OutcomeReportOut(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    rejected: list[RejectedRowOut] = Field(default_factory=list)

    @classmethod
    def from_domain(cls, r: Any) -> "OutcomeReportOut":
        return cls(
            inserted=r.inserted, updated=r.updated, unchanged=r.unchanged,
            rejected=[RejectedRowOut(line=x.line, reason=x.reason) for x in r.rejected],
        )


class BandOutcomeOut(BaseModel):
    band: str
    predictions: int
    churned: int
    churn_rate: float | None


# ---------------------------------------------------------------- model quality (issue 10)


class ReliabilityBinOut(BaseModel):
    lower: float
    upper: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


class EvaluationOut(BaseModel):
    threshold_rule: Any = Field(description="the rule the threshold was chosen by")
    threshold_source: str = Field(description="the predictions it was chosen on")
    calibration: str
    holdout_rows: int
    reliability: list[ReliabilityBinOut] = Field(description="10 equal-width bins of the hold-out: mean predicted vs observed churn rate")
    roc: list[list[float | None]] = Field(description="[false positive rate, true positive rate, threshold], at most 200 points")
    pr: list[list[float | None]] = Field(description="[recall, precision, threshold], at most 200 points")
    confusion: dict[str, int] = Field(description="hold-out counts at the version's threshold")
    importances: list[list[Any]] = Field(description="[feature, importance], largest first")
    importance_kind: str
    cv_seconds: float


class ModelDetailOut(ModelOut):
    evaluation: EvaluationOut | None = Field(default=None, description="null for versions trained before evaluations were kept")

    @classmethod
    def from_domain(cls, entry: ModelEntry, full: bool = True) -> "ModelDetailOut":
        base = ModelOut.from_domain(entry, full).model_dump()
        e = entry.record.summary.evaluation
        if e is None:
            return cls(**base)
        data = e.to_dict()
        data.pop("cross_validation")
        return cls(**base, evaluation=EvaluationOut(**data))


class CompareIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"versions": ["churn-logistic_regression:1", "churn-random_forest:2"], "dataset": "telco"}]},
    )

    versions: list[str] = Field(min_length=1, max_length=10, description="'name:version', or 'name' for its newest")
    dataset: str = Field(description="the data set whose hold-out rows every version is scored on")


class ComparedVersionOut(BaseModel):
    model: ModelRefOut
    threshold: float
    metrics: dict[str, float] | None = Field(description="hold-out metrics at the version's own threshold; null when it could not be scored")
    problem: str | None = None
    missing_features: list[str] = Field(default_factory=list, description="the version's features the data set lacks")

    @classmethod
    def from_domain(cls, c: ComparedVersion) -> "ComparedVersionOut":
        return cls(
            model=ModelRefOut.from_domain(c.ref),
            threshold=c.threshold,
            metrics=None if c.metrics is None else dict(c.metrics),
            problem=c.problem,
            missing_features=list(c.missing_features),
        )


class CompareOut(BaseModel):
    dataset: str
    holdout_rows: int
    items: list[ComparedVersionOut]


class PerformanceOut(BaseModel):
    model: ModelRefOut
    horizon_days: int
    threshold: float
    matched: int = Field(description="outcomes matched with this version's latest prediction of the customer before them, within the horizon")
    predictions_with_outcome: int
    predictions_without_outcome: int
    roc_auc: float | None = Field(description="null without both churned and retained customers among the matched")
    precision: float | None
    recall: float | None
    churn_rate: float | None
    bands: list[BandOutcomeOut]
    reliability: list[ReliabilityBinOut] = Field(description="10 bins of predicted probability: mean predicted vs observed churn rate")

    @classmethod
    def from_domain(cls, ref: ModelRef, p: Any) -> "PerformanceOut":
        return cls(
            model=ModelRefOut(name=ref.name, version=ref.version),
            horizon_days=p.horizon_days,
            threshold=p.threshold,
            matched=p.matched,
            predictions_with_outcome=p.predictions_with_outcome,
            predictions_without_outcome=p.predictions_without_outcome,
            roc_auc=p.roc_auc,
            precision=p.precision,
            recall=p.recall,
            churn_rate=p.churn_rate,
            bands=[BandOutcomeOut(band=b.band.value, predictions=b.predictions, churned=b.churned, churn_rate=b.churn_rate) for b in p.bands],
            reliability=[
                ReliabilityBinOut(lower=r.low, upper=r.high, count=r.count, mean_predicted=r.mean_predicted, observed_rate=r.observed_rate)
                for r in p.reliability
            ],
        )


# ---------------------------------------------------------------- drift


class DriftBinOut(BaseModel):
    label: str
    expected: float = Field(description="share of the training rows (of the hold-out rows for the probability)")
    actual: float = Field(description="share of the period's predictions")


class FeatureDriftOut(BaseModel):
    feature: str
    kind: str
    psi: float | None = Field(description="population stability index; null when the period has no prediction")
    reading: str | None = Field(description="stable (< 0.1), watch (0.1 to 0.25), shifted (> 0.25); null without predictions")
    bins: list[DriftBinOut]

    @classmethod
    def from_domain(cls, d: Any) -> "FeatureDriftOut":
        return cls(
            feature=d.name, kind=d.kind, psi=d.psi, reading=None if d.reading is None else d.reading.value,
            bins=[DriftBinOut(label=b.label, expected=round(b.expected, 6), actual=round(b.actual, 6)) for b in d.bins],
        )


class DriftOut(BaseModel):
    model: ModelRefOut
    days: int
    since: datetime
    until: datetime
    predictions: int = Field(description="the period's predictions measured: its newest, at most 50,000")
    sampled: bool = Field(description="true when the period held more predictions than were measured")
    reference_rows: int = Field(description="training rows the feature bins were measured on")
    reading: str | None = Field(description="the worst reading of the probability and the features")
    probability: FeatureDriftOut = Field(description="the predicted probability against the version's hold-out probabilities")
    features: list[FeatureDriftOut]

    @classmethod
    def from_domain(cls, ref: ModelRef, r: Any) -> "DriftOut":
        return cls(
            model=ModelRefOut(name=ref.name, version=ref.version), days=r.days, since=r.since, until=r.until,
            predictions=r.predictions, sampled=r.sampled, reference_rows=r.reference_rows,
            reading=None if r.reading is None else r.reading.value,
            probability=FeatureDriftOut.from_domain(r.probability), features=[FeatureDriftOut.from_domain(f) for f in r.features],
        )
