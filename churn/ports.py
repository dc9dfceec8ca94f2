"""Ports: what the domain needs from the outside world. Adapters subclass these explicitly.

Every adapter turns its driver's failures into churn.errors: an unreachable backend into
StoreUnavailableError / RegistryUnavailableError, an absent thing into the matching *NotFoundError.
"""

from __future__ import annotations

import builtins
from abc import abstractmethod
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping, Protocol, Sequence

from churn.cache_stats import CacheStats
from churn.columns import ReadOptions, TableFacts
from churn.bands import Band, ProbabilityRange
from churn.customers import Customer, ImportReport
from churn.datasets import Dataset
from churn.feature_batches import FeatureColumns
from churn.features import FeatureSchema
from churn.paging import Page, PageRequest
from churn.prediction_batches import BatchScores, PredictionBatch
from churn.predictions import Prediction
from churn.training_jobs import TrainingJob
from churn.versions import ModelFilter, ModelRecord, ModelRef, TrainingSummary
from churn.drift import DriftReference, ScoredInput
from churn.evaluation import Evaluation, HoldoutSet
from churn.model_types import ModelType
from churn.outcomes import Outcome, OutcomeReport, Score
from churn.reasons import DEFAULT_TOP, Reasons
from churn.scoring_runs import ScoringRun
from churn.training_options import TrainingOptions


class ChurnModel(Protocol):
    """A trained model, opaque to the core: it scores features already checked against `schema`."""

    @property
    @abstractmethod
    def schema(self) -> FeatureSchema: ...

    @property
    @abstractmethod
    def serving_path(self) -> str:
        """How it scores: e.g. 'numpy-linear', 'numpy-trees', 'sklearn'."""

    @property
    @abstractmethod
    def parity(self) -> float | None:
        """Max |fast path - scikit-learn| on the hold-out set, when measured."""

    @property
    @abstractmethod
    def threshold(self) -> float:
        """This version's decision threshold: `churn` when the probability reaches it."""

    @abstractmethod
    def score(self, features: Mapping[str, Any]) -> float:
        """Churn probability in [0, 1] for one row of checked features."""

    @abstractmethod
    def score_many(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        """Churn probabilities for many rows, in order; vectorised."""

    @property
    @abstractmethod
    def explanation_method(self) -> str:
        """How `explain` works: one of churn.reasons.ExplanationMethod's names."""

    @abstractmethod
    def explain(self, features: Mapping[str, Any]) -> dict[str, float]:
        """Each feature's contribution to this row's risk (positive raises it), one per schema
        feature, for churn.reasons.Reasons.rank."""

    @abstractmethod
    def explain_many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        """`explain` for many rows, in order; vectorised."""

    @abstractmethod
    def reasons_many(self, rows: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]], top: int = DEFAULT_TOP) -> list[Reasons]:
        """`Reasons.rank(contributions, label, top)` of each row's `explain_many` contributions, the
        values named from `labels` (the rows as checked, before encoding), ranked for all rows at once."""

    @abstractmethod
    def assess_many(self, columns: FeatureColumns, top: int = DEFAULT_TOP) -> BatchScores:
        """What `score_many` and `reasons_many` give for the rows of `columns` (scored from
        `columns.encoded`, values named from `columns.clean`), from one pass over the batch: the same
        probabilities and the same reasons, as columns, without a Reasons object per row."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    model: ChurnModel
    metrics: Mapping[str, float]
    training_seconds: float
    evaluation: Evaluation | None = None
    drift_reference: DriftReference | None = None
    reports: Mapping[str, bytes] = field(default_factory=dict)
    """Files describing the training (charts, tables) by name, made where the model was fitted so
    the serving process draws nothing; the registry keeps them with the version."""


class Trainer(Protocol):
    @abstractmethod
    def train(
        self,
        dataset: Dataset,
        content: bytes,
        model_type: ModelType,
        hyperparameters: Mapping[str, Any],
        columns: Sequence[str] | None = None,
        options: TrainingOptions = TrainingOptions(),
    ) -> TrainedModel:
        """Fit the pipeline on `columns` (default: the data set's feature columns, each typed by its
        profile), on the training side of a stratified hold-out split with a fixed seed (calibrated and
        cross-validated there, never on the hold-out), choose the threshold, and compute hold-out
        metrics (roc_auc, pr_auc, ece, log_loss, brier; accuracy, precision, recall, f1 at the
        threshold). `model.threshold` is the chosen one. TrainingFailedError with a reason."""

    @abstractmethod
    def holdout(self, dataset: Dataset, content: bytes) -> HoldoutSet:
        """The rows `train` keeps out for this data set (same split), every feature column, encoded."""

    @abstractmethod
    def evaluate(self, model: ChurnModel, holdout: HoldoutSet) -> dict[str, float]:
        """The hold-out metrics of `model` on those rows (its schema's columns), at its threshold."""


@dataclass(frozen=True, slots=True)
class ModelArtifact:
    """What a registry stores of a trained model besides its metadata: the fitted estimator (opaque
    to the core and to the registry, which only serialises it) and the rows the model checks its
    scoring against when it is loaded again."""

    estimator: Any
    probe_rows: tuple[Mapping[str, Any], ...]


class ModelCodec(Protocol):
    """Between a ChurnModel and its ModelArtifact. Owned by the adapter that builds models (the
    scoring adapter) and injected into every registry, so that no registry reads a model's insides."""

    @abstractmethod
    def dump(self, model: ChurnModel) -> ModelArtifact:
        """ModelArtifactError when `model` is not one this codec builds."""

    @abstractmethod
    def load(self, artifact: ModelArtifact, schema: FeatureSchema, threshold: float) -> ChurnModel:
        """A model scoring as the dumped one did (within the adapter's parity tolerance)."""


class ModelRegistry(Protocol):
    """Versioned storage of trained models (MLflow) and the pointer to the active version."""

    @abstractmethod
    def register(self, name: str, model: ChurnModel, summary: TrainingSummary, reports: Mapping[str, bytes] = {}) -> ModelRecord:
        """Track a run (params, metrics, tags, model with signature and input example, the training's
        `reports` as files) and register it as the next version of `name`."""

    @abstractmethod
    def load(self, ref: ModelRef) -> ChurnModel:
        """ModelNotFoundError for an unknown version; ModelArtifactError when it cannot be loaded."""

    @abstractmethod
    def records(self) -> list[ModelRecord]:
        """Every version registered by this service, newest first."""

    @abstractmethod
    def set_active(self, ref: ModelRef) -> None:
        """Make `ref` the active version for every process sharing the registry."""

    @abstractmethod
    def active(self) -> ModelRef | None:
        """The active version, or None when none was chosen."""


class ModelCache(Protocol):
    """Loaded models kept in memory: LRU with a capacity; the pinned (active) one is never evicted."""

    @abstractmethod
    def get_or_load(self, ref: ModelRef, loader: Callable[[ModelRef], ChurnModel]) -> ChurnModel:
        """The cached model, or the loader's result cached. Thread-safe; one load per ref at a time."""

    @abstractmethod
    def put(self, ref: ModelRef, model: ChurnModel) -> None: ...

    @abstractmethod
    def loaded(self, ref: ModelRef) -> ChurnModel | None:
        """The model when this process holds it, else None; never loads, counts neither hit nor miss."""

    @abstractmethod
    def pin(self, ref: ModelRef) -> None:
        """Keep `ref` whatever the LRU says; unpins the previous one."""

    @abstractmethod
    def cached(self) -> list[ModelRef]:
        """Refs in memory, most recently used first."""

    @abstractmethod
    def stats(self) -> CacheStats:
        """Hits, misses, loads and load time so far, and the number of versions in memory."""


class DatasetStore(Protocol):
    @abstractmethod
    def staging(self, content: bytes) -> AbstractContextManager[None]:
        """Entered while an upload is read, before its `add`: a store that writes the bytes away may
        start now, beside the reading, so that `add(dataset, content)` of these same bytes only
        finishes it; at exit whatever was not added is let go. Storing nothing before `add` is fine."""

    @abstractmethod
    def add(self, dataset: Dataset, content: bytes) -> None:
        """`dataset.content_hash` is the SHA-256 (hex) of `content` (a store may name the bytes by it);
        DatasetExistsError when the name is taken; nothing is stored half-way."""

    @abstractmethod
    def get(self, name: str) -> Dataset:
        """DatasetNotFoundError when unknown."""

    @abstractmethod
    def content(self, name: str) -> bytes:
        """The CSV bytes as uploaded; DatasetNotFoundError when unknown."""

    @abstractmethod
    def list(self) -> list[Dataset]:
        """Every data set, oldest first."""

    @abstractmethod
    def remove(self, name: str) -> None:
        """Delete the data set and its content together; DatasetNotFoundError when unknown."""


class JobStore(Protocol):
    @abstractmethod
    def save(self, job: TrainingJob) -> None:
        """Insert or replace by job_id."""

    @abstractmethod
    def get(self, job_id: str) -> TrainingJob:
        """JobNotFoundError when unknown."""

    @abstractmethod
    def unfinished(self) -> list[TrainingJob]:
        """Jobs queued or running, oldest first."""

    @abstractmethod
    def heartbeat(self, owner: str, now: datetime) -> int:
        """Set heartbeat_at = now on every unfinished job of `owner`; how many there were."""

    @abstractmethod
    def interrupt_stale(self, before: datetime, now: datetime) -> list[str]:
        """Fail (error INTERRUPTED, finished_at = now) every unfinished job whose last sign of life
        is before `before`; their ids. Each job is changed only if it is still unfinished and still
        stale at that moment, so a job finishing or beating meanwhile keeps its own state."""


class ModelRecordRepository(Protocol):
    """`MODELOS`: one record per registered model version."""

    @abstractmethod
    def save(self, record: ModelRecord) -> None:
        """Insert or replace by (name, version)."""

    @abstractmethod
    def get(self, ref: ModelRef) -> ModelRecord:
        """ModelNotFoundError when unknown."""

    @abstractmethod
    def list(self) -> list[ModelRecord]:
        """Newest first (finished_at desc, then name, version desc)."""

    @abstractmethod
    def mark_active(self, ref: ModelRef) -> None:
        """Keep `ref` as the version last seen active. The registry holds the pointer; this copy lets a
        reader that must not load the registry (a quick CLI listing) say which version that was."""

    @abstractmethod
    def last_active(self) -> ModelRef | None:
        """What `mark_active` kept last; None before any."""


class CustomerRepository(Protocol):
    """`CLIENTES`."""

    @abstractmethod
    def upsert_many(self, customers: Sequence[Customer]) -> ImportReport:
        """Insert new ids, replace changed ones, count identical ones as unchanged. Idempotent."""

    @abstractmethod
    def get(self, customer_id: str) -> Customer:
        """CustomerNotFoundError when unknown."""

    @abstractmethod
    def exists(self, customer_id: str) -> bool: ...

    @abstractmethod
    def list(self, page: PageRequest) -> Page[Customer]:
        """Ordered by customer_id ascending."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def batch_after(self, customer_id: str | None, limit: int) -> builtins.list[Customer]:  # `list` is a method here
        """Up to `limit` customers with an id greater than `customer_id` (from the first when None),
        by id ascending: a scan of the whole base in constant time per batch."""

    @abstractmethod
    def batch_of(self, customer_ids: Sequence[str]) -> builtins.list[Customer]:
        """The stored customers among `customer_ids` (absent ones left out), by id ascending: one
        lookup of the ids, whatever the size of the base."""

    @abstractmethod
    def ids_every(self, step: int) -> builtins.list[str]:
        """The ids at places step, 2·step, ... (1-based) of the id order, ascending: the bounds that cut
        the base into pages of `step` customers (a scoring run's chunks). Reads ids only."""


class PredictionSubmitter(Protocol):
    """A prediction store that commits several callers' predictions together (SQLite's writer
    thread): `submit` returns at once, the future completes when the prediction is stored or fails
    with the store's error. Lets a caller on an event loop go on serving while the commit happens."""

    @abstractmethod
    def submit(self, prediction: Prediction) -> Future[None]: ...


class PredictionRepository(Protocol):
    """`PREVISOES`: every prediction, stored once."""

    @abstractmethod
    def add(self, prediction: Prediction) -> None: ...

    @abstractmethod
    def add_many(self, predictions: Sequence[Prediction]) -> None:
        """All or nothing."""

    @abstractmethod
    def submit_many(self, predictions: Sequence[Prediction]) -> Future[None]:
        """add_many, possibly in the background: the future completes once the batch is stored, all
        or nothing, or fails with the store's error. A store may write it while the caller prepares
        its next batch (SQLite: a thread of its own); a caller that waits for each batch before
        submitting the next keeps them in order, and never has a later batch stored after a failed one."""

    @abstractmethod
    def add_batch(self, batch: PredictionBatch) -> None:
        """add_many(batch.predictions()), from the columns: all or nothing, stored exactly as those
        predictions would be (a store need not build them)."""

    @abstractmethod
    def submit_batch(self, batch: PredictionBatch, after: Future[None] | None = None) -> Future[None]:
        """add_batch as submit_many does add_many: possibly in the background, written in the order
        submitted. With `after` (the future of a batch submitted earlier to this store) the batch is
        written only if that one was stored, else fails with its error, unwritten: a caller can keep
        several batches in flight and still never have a later one stored after a failed one. A store
        may write batches queued together in one transaction (SQLite: fewer commits of the same index pages)."""

    @abstractmethod
    def for_customer(self, customer_id: str, page: PageRequest) -> Page[Prediction]:
        """Newest first (created_at desc, prediction_id desc); total counts all of the customer's."""

    @abstractmethod
    def in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Highest probability first, then newest, then prediction_id desc. `page.after` continues after
        a cursor in constant time; `next` is the cursor of the last item when more remain, else None."""

    @abstractmethod
    def count_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        """Every band present as a key, zero when empty."""

    @abstractmethod
    def count_by_day(self, since: datetime) -> dict[date, int]:
        """Predictions stored per UTC day, for those created at or after `since`; days with none are absent."""

    @abstractmethod
    def latest_in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Each customer's latest prediction (Prediction.is_newer_than), kept as predictions naming a
        customer are stored, in the same write: those in `probabilities` (and by `model`, when given),
        in band order as `in_range`, with the same cursor paging, constant time per page at any depth."""

    @abstractmethod
    def count_latest_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        """Customers (not predictions) per band of their latest prediction; every band a key."""

    @abstractmethod
    def last_customer_of_run(self, run_id: str) -> str | None:
        """The greatest customer_id among the predictions tagged with `run_id`, None when none:
        where an interrupted scoring run resumes (runs score customers in id order, a batch at a time)."""

    @abstractmethod
    def count_of_run(self, run_id: str) -> int:
        """How many predictions carry `run_id`."""

    @abstractmethod
    def run_rows_between(self, run_id: str, after: str | None, upto: str | None) -> tuple[int, str | None]:
        """How many predictions carry `run_id` for a customer id in (`after`, `upto`] (None: open at
        that end), and the greatest such id (None when none): where a chunk of a run resumes."""

    @abstractmethod
    def scores_of(self, model: ModelRef) -> list[Score]:
        """Every prediction of that version naming a customer, reduced to (customer, probability, time);
        any order. For realised performance against outcomes."""

    @abstractmethod
    def inputs_of(self, model: ModelRef, since: datetime, limit: int) -> list[ScoredInput]:
        """The newest `limit` predictions of that version created at or after `since` (with or without
        a customer), newest first (created_at desc), reduced to their stored features and probability. For drift."""


class OutcomeRepository(Protocol):
    """Observed outcomes, one per customer and UTC day of observation."""

    @abstractmethod
    def add_many(self, outcomes: Sequence[Outcome]) -> OutcomeReport:
        """Insert new (customer, day) keys, replace changed ones, count identical ones unchanged; idempotent.
        A repeated key in the batch: the last one wins."""

    @abstractmethod
    def list_all(self) -> list[Outcome]:
        """Every outcome, any order."""

    @abstractmethod
    def count(self) -> int: ...


class ScoringRunStore(Protocol):
    """Scoring runs and their progress."""

    @abstractmethod
    def save(self, run: ScoringRun) -> None:
        """Insert or replace by run_id."""

    @abstractmethod
    def get(self, run_id: str) -> ScoringRun:
        """ScoringRunNotFoundError when unknown."""

    @abstractmethod
    def list(self, limit: int) -> list[ScoringRun]:
        """The newest `limit` runs, newest first (created_at desc, run_id desc)."""

    @abstractmethod
    def claim(self, run: ScoringRun, expected: ScoringRun) -> bool:
        """Compare-and-set: store `run` only if the stored run still has `expected`'s status,
        heartbeat_at and revision (nobody saved it since `expected` was read), atomically; True when
        stored. Of several processes claiming the same run from the same reading, exactly one wins:
        the workers of a chunked run record each chunk's claim and progress this way."""


class JobRunner(Protocol):
    """Runs training work off the request path, a bounded number at a time; the rest wait in order."""

    @abstractmethod
    def submit(self, job_id: str, work: Callable[[], object]) -> None:
        """`work`'s result is not kept."""

    @abstractmethod
    def position(self, job_id: str) -> int | None:
        """1-based place in the waiting queue, None when this runner does not hold it. A job taken by a
        worker may still answer 1 until its work ends: callers report it only while the job is queued."""

    @abstractmethod
    def shutdown(self, timeout: float = 1.0) -> None:
        """Stop taking work and give running work up to `timeout` seconds; queued work is left to
        whatever recovers interrupted jobs."""


class Clock(Protocol):
    @abstractmethod
    def now(self) -> datetime:
        """Timezone-aware UTC."""

    @abstractmethod
    def monotonic(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RecordTable:
    """A file's rows for loading customers: `rows` are (record number, physical line it starts on,
    column -> value), numbers as floats where the whole column is numeric (the domain's number rule),
    text stripped and NFC, blank cells None."""

    facts: TableFacts
    rows: Sequence[tuple[int, int, Mapping[str, float | str | None]]]
    malformed: Sequence[tuple[int, int, int]] = ()
    """Records with more or fewer fields than the header, left out of `rows`: (record number, line, fields)."""


class TableReader(Protocol):
    """Reads the CSV/TSV files companies export: encoding, separator and decimal mark detected
    unless given; quoted separators and newlines kept inside their field."""

    @abstractmethod
    def read(self, content: bytes, options: ReadOptions, target: str | None = None) -> TableFacts:
        """Every column's facts over every row (and, with a two-valued `target`, how well each
        column alone separates it). InvalidDatasetError naming the record number and physical line
        of a malformed record, or what to set when the encoding or separator cannot be found."""

    @abstractmethod
    def records(self, content: bytes, options: ReadOptions) -> RecordTable:
        """The rows, typed as described on RecordTable; errors as `read`."""
