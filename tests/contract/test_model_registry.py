"""The ModelRegistry contract, held by the in-memory fake and by MLflow (SQLite store in tmp_path)."""

from __future__ import annotations

import json
import skops.io
import shutil
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from adapters.memory_registry import InMemoryModelRegistry
from adapters.mlflow_registry import MlflowModelRegistry
from churn.errors import InvalidRequestError, ModelArtifactError, ModelNotFoundError, RegistryUnavailableError
from churn.features import FeatureKind, FeatureSchema, FeatureSpec
from churn.versions import ModelRef, TrainingSummary
from churn.reasons import DEFAULT_TOP, Reasons
from churn.feature_batches import FeatureColumns
from churn.prediction_batches import BatchScores
from churn.ports import ChurnModel, ModelArtifact, ModelCodec, ModelRegistry

SCHEMA = FeatureSchema(
    (
        FeatureSpec("tenure_months", FeatureKind.NUMBER, 12.0),
        FeatureSpec("monthly_charges", FeatureKind.NUMBER, 70.0),
        FeatureSpec("contract", FeatureKind.CATEGORY, "month-to-month", ("month-to-month", "one-year", "two-year")),
    )
)
CUSTOMERS = [
    {"tenure_months": 2.0, "monthly_charges": 95.0, "contract": "month-to-month"},
    {"tenure_months": 60.0, "monthly_charges": 20.0, "contract": "two-year"},
    {"tenure_months": 24.0, "monthly_charges": 55.5, "contract": "one-year"},
    {"tenure_months": 7.0, "monthly_charges": 80.0, "contract": "a-contract-never-seen"},
]


class PipelineModel(ChurnModel):
    """Stand-in for the real model: scores with scikit-learn directly."""

    def __init__(
        self, pipeline: Pipeline, schema: FeatureSchema, probe_rows: list[dict], threshold: float = 0.5, parity: float | None = None
    ) -> None:
        self._parity = parity
        self.pipeline = pipeline
        self.probe_rows = probe_rows
        self._schema = schema
        self._threshold = threshold

    @property
    def schema(self) -> FeatureSchema:
        return self._schema

    @property
    def serving_path(self) -> str:
        return "sklearn"

    @property
    def parity(self) -> float | None:
        return self._parity

    @property
    def threshold(self) -> float:
        return self._threshold

    def score(self, features: Mapping[str, Any]) -> float:
        return self.score_many([features])[0]

    def score_many(self, rows: Sequence[Mapping[str, Any]]) -> list[float]:
        frame = pd.DataFrame([dict(row) for row in rows], columns=list(self._schema.names))
        return [float(p) for p in self.pipeline.predict_proba(frame)[:, 1]]

    @property
    def explanation_method(self) -> str:
        return "none"

    def explain(self, features: Mapping[str, Any]) -> dict[str, float]:
        return dict.fromkeys(self._schema.names, 0.0)

    def explain_many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        return [self.explain(row) for row in rows]

    def reasons_many(self, rows: Sequence[Mapping[str, Any]], labels: Sequence[Mapping[str, Any]], top: int = DEFAULT_TOP) -> list[Reasons]:
        return [Reasons.rank(c, label, top) for c, label in zip(self.explain_many(rows), labels, strict=True)]

    def assess_many(self, columns: FeatureColumns, top: int = DEFAULT_TOP) -> BatchScores:
        rows = columns.encoded_rows()
        return BatchScores(self.score_many(rows), [None] * len(rows))  # explain gives 0 everywhere: no reasons


class PipelineCodec(ModelCodec):
    """The codec of PipelineModel, given to every registry under test: what it stores and builds."""

    def dump(self, model: ChurnModel) -> ModelArtifact:
        if type(model) is not PipelineModel:
            raise ModelArtifactError(f"{type(model).__name__} is not a PipelineModel")
        return ModelArtifact(model.pipeline, tuple(model.probe_rows))

    def load(self, artifact: ModelArtifact, schema: FeatureSchema, threshold: float) -> ChurnModel:
        return PipelineModel(artifact.estimator, schema, [dict(row) for row in artifact.probe_rows], threshold)


class NotAPipeline(PipelineModel):
    """A model some other codec would build: registries must refuse it, not read its attributes."""

    def __init__(self, model: PipelineModel) -> None:
        super().__init__(model.pipeline, model.schema, model.probe_rows)


def fit_model(c: float, seed: int) -> PipelineModel:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "tenure_months": rng.uniform(0, 72, 60).round(),
            "monthly_charges": rng.uniform(18, 120, 60).round(2),
            "contract": rng.choice(["month-to-month", "one-year", "two-year"], 60),
        }
    )
    risk = 1.5 - frame.tenure_months / 20 + frame.monthly_charges / 60 - (frame.contract != "month-to-month") * 1.5
    churned = (risk + rng.normal(0, 0.5, 60) > 0).astype(int)
    pipeline = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), ["tenure_months", "monthly_charges"]),
                        ("categories", OneHotEncoder(handle_unknown="ignore"), ["contract"]),
                    ]
                ),
            ),
            ("classify", LogisticRegression(C=c)),
        ]
    ).fit(frame, churned)
    return PipelineModel(pipeline, SCHEMA, frame.head(3).to_dict(orient="records"))


STARTED = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def summary_of(model: PipelineModel, c: float, minute: int) -> TrainingSummary:
    return TrainingSummary(
        model_type="logistic_regression",
        hyperparameters={"C": c, "max_iter": 200, "class_weight": None, "solver": "lbfgs"},
        metrics={"roc_auc": 0.8125, "accuracy": 0.75, "f1": 2 / 3, "log_loss": 0.4812},
        dataset="telco-2026",
        dataset_hash="sha256:" + "ab" * 32,
        rows=60,
        schema=model.schema,
        training_seconds=0.042,
        started_at=STARTED + timedelta(minutes=minute),
        finished_at=STARTED + timedelta(minutes=minute, seconds=3),
    )


@pytest.fixture(scope="module")
def gentle() -> PipelineModel:
    return fit_model(c=1.0, seed=7)


@pytest.fixture(scope="module")
def strict() -> PipelineModel:
    return fit_model(c=0.05, seed=8)


# ---------------------------------------------------------------------- the adapters under test


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store, migrated once: a fresh store costs seconds of migrations."""
    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@dataclass
class MlflowStore:
    tracking_uri: str
    artifacts: Path

    def registry(self) -> MlflowModelRegistry:
        return MlflowModelRegistry(self.tracking_uri, codec=PipelineCodec(), artifact_location=str(self.artifacts))

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def model_dir(self, ref: ModelRef) -> Path:
        return Path(urllib.parse.urlparse(self.client().get_model_version_download_uri(ref.name, str(ref.version))).path)


@pytest.fixture
def mlflow_store(tmp_path: Path, migrated_sqlite: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copy(migrated_sqlite, tmp_path / "mlflow.db")
    # Work from an empty directory: anything MLflow writes there came from process-global defaults.
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield MlflowStore(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts")
    assert sorted(p.name for p in cwd.iterdir()) == [], "MLflow wrote outside the configured store"


@dataclass
class Subject:
    registry: ModelRegistry
    restart: Callable[[], ModelRegistry] | None
    """A new registry on the same storage; None for one that promises nothing beyond its process."""
    tamper: Callable[[ModelRef], None]


@pytest.fixture(params=["memory", "mlflow"])
def subject(request: pytest.FixtureRequest, strict: PipelineModel) -> Subject:
    if request.param == "memory":
        memory = InMemoryModelRegistry(PipelineCodec())
        return Subject(memory, restart=None, tamper=memory.break_artifact)
    store: MlflowStore = request.getfixturevalue("mlflow_store")

    def overwrite_pickle(ref: ModelRef) -> None:
        # A valid skops file of another model: only the digest check can tell.
        (store.model_dir(ref) / "model.skops").write_bytes(skops.io.dumps(strict.pipeline))

    return Subject(store.registry(), restart=store.registry, tamper=overwrite_pickle)


# ---------------------------------------------------------------------- the contract


def test_versions_count_from_one_per_name(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = subject.registry

    first = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    second = registry.register("churn-lr", strict, summary_of(strict, 0.05, 1))
    other = registry.register("churn-lr-strict", strict, summary_of(strict, 0.05, 2))

    assert [first.ref, second.ref, other.ref] == [ModelRef("churn-lr", 1), ModelRef("churn-lr", 2), ModelRef("churn-lr-strict", 1)]
    assert first.run_id and first.run_id != second.run_id


def test_records_come_newest_first_with_the_summary_intact(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = subject.registry
    registered = [
        registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0)),
        registry.register("churn-lr-strict", strict, summary_of(strict, 0.05, 1)),
        registry.register("churn-lr", strict, summary_of(strict, 0.05, 2)),
    ]

    records = registry.records()

    assert records == registered[::-1]
    assert records[0].summary.schema == SCHEMA
    assert records[0].summary.hyperparameters == {"C": 0.05, "max_iter": 200, "class_weight": None, "solver": "lbfgs"}
    assert records[0].created_at == STARTED + timedelta(minutes=2, seconds=3)


def test_loaded_model_scores_like_the_registered_one(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = subject.registry
    first = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    second = registry.register("churn-lr", strict, summary_of(strict, 0.05, 1))

    loaded_first, loaded_second = registry.load(first.ref), registry.load(second.ref)

    assert loaded_first.score_many(CUSTOMERS) == pytest.approx(gentle.score_many(CUSTOMERS), abs=1e-12)
    assert loaded_second.score_many(CUSTOMERS) == pytest.approx(strict.score_many(CUSTOMERS), abs=1e-12)
    assert loaded_first.score(CUSTOMERS[0]) != pytest.approx(loaded_second.score(CUSTOMERS[0]))
    assert loaded_first.schema == SCHEMA


def test_unknown_version_or_name_is_not_found(subject: Subject, gentle: PipelineModel) -> None:
    registry = subject.registry
    registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))

    for unknown in (ModelRef("churn-lr", 2), ModelRef("never-trained", 1)):
        with pytest.raises(ModelNotFoundError):
            registry.load(unknown)
        with pytest.raises(ModelNotFoundError):
            registry.set_active(unknown)
    assert registry.active() is None


def test_invalid_model_name_is_refused_before_anything_is_stored(subject: Subject, gentle: PipelineModel) -> None:
    with pytest.raises(InvalidRequestError):
        subject.registry.register("no spaces allowed", gentle, summary_of(gentle, 1.0, 0))
    assert subject.registry.records() == []


def test_no_model_is_active_until_one_is_chosen(subject: Subject, gentle: PipelineModel) -> None:
    registry = subject.registry
    assert registry.active() is None

    record = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    assert registry.active() is None

    registry.set_active(record.ref)
    assert registry.active() == record.ref


def test_switching_between_names_leaves_exactly_one_active(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = subject.registry
    lr = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    lr_two = registry.register("churn-lr", strict, summary_of(strict, 0.05, 1))
    other = registry.register("churn-lr-strict", strict, summary_of(strict, 0.05, 2))

    registry.set_active(lr.ref)
    registry.set_active(other.ref)
    assert registry.active() == other.ref

    registry.set_active(lr_two.ref)
    assert registry.active() == lr_two.ref


def test_what_is_stored_and_loaded_is_the_codecs_to_say(subject: Subject, gentle: PipelineModel) -> None:
    registry = subject.registry
    with pytest.raises(ModelArtifactError, match="not a PipelineModel"):
        registry.register("churn-lr", NotAPipeline(gentle), summary_of(gentle, 1.0, 0))
    assert registry.records() == []
    ref = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0)).ref
    loaded = registry.load(ref)
    assert type(loaded) is PipelineModel and loaded is not gentle  # built by the codec from what it stored
    assert loaded.probe_rows == gentle.probe_rows
    assert loaded.score_many(CUSTOMERS) == pytest.approx(gentle.score_many(CUSTOMERS), abs=1e-12)


@pytest.mark.parametrize("subject", ["mlflow"], indirect=True)  # the memory registry lives as long as its process
def test_active_model_survives_a_restart(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    assert subject.restart is not None
    registry = subject.registry
    registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    chosen = registry.register("churn-lr-strict", strict, summary_of(strict, 0.05, 1))
    registry.set_active(chosen.ref)

    restarted = subject.restart()

    assert restarted.active() == chosen.ref
    assert restarted.records() == registry.records()
    assert restarted.load(chosen.ref).score_many(CUSTOMERS) == pytest.approx(strict.score_many(CUSTOMERS), abs=1e-12)


def test_tampered_artifact_is_refused_and_other_versions_still_load(subject: Subject, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = subject.registry
    tampered = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    intact = registry.register("churn-lr", strict, summary_of(strict, 0.05, 1))

    subject.tamper(tampered.ref)

    with pytest.raises(ModelArtifactError) as refused:
        registry.load(tampered.ref)
    assert "churn-lr:1" in refused.value.message
    assert registry.load(intact.ref).score_many(CUSTOMERS) == pytest.approx(strict.score_many(CUSTOMERS), abs=1e-12)


# ---------------------------------------------------------------------- MLflow only


def test_mlflow_version_is_a_servable_mlflow_model(
    mlflow_store: MlflowStore, gentle: PipelineModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    global_uri_before = mlflow.get_tracking_uri()
    summary = summary_of(gentle, 1.0, 0)
    measured = PipelineModel(gentle.pipeline, gentle.schema, gentle.probe_rows, parity=1e-9)
    record = mlflow_store.registry().register("churn-lr", measured, summary)

    client = mlflow_store.client()
    version = client.get_model_version("churn-lr", "1")
    assert version.status == "READY" and version.run_id == record.run_id
    assert {"churn.registered_by": "churn", "churn.dataset": "telco-2026"}.items() <= version.tags.items()
    assert len(version.tags["churn.model_digest"]) == 64

    run = client.get_run(record.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {
        "C": "1.0", "max_iter": "200", "class_weight": "None", "solver": "lbfgs",
        "model_type": "logistic_regression", "dataset": "telco-2026", "threshold": "0.5",
    }  # fmt: skip
    assert run.data.metrics["roc_auc"] == 0.8125
    assert run.data.metrics["training_seconds"] == 0.042 and run.data.metrics["parity"] == 1e-9
    assert {
        "churn.dataset": "telco-2026",
        "churn.dataset_hash": summary.dataset_hash,
        "churn.model_type": "logistic_regression",
        "churn.registered_by": "churn",
    }.items() <= run.data.tags.items()

    model_dir = mlflow_store.model_dir(record.ref)
    mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
    assert json.loads(mlmodel["signature"]["inputs"]) == [
        {"type": "double", "name": "tenure_months", "required": True},
        {"type": "double", "name": "monthly_charges", "required": True},
        {"type": "string", "name": "contract", "required": True},
    ]
    assert mlmodel["flavors"]["python_function"]["predict_fn"] == "predict_proba"
    assert (model_dir / mlmodel["saved_input_example_info"]["artifact_path"]).is_file()
    assert json.loads((model_dir / "summary.json").read_text())["dataset_hash"] == summary.dataset_hash
    assert json.loads((model_dir / "probe_rows.json").read_text()) == gentle.probe_rows

    # What `mlflow models serve -m models:/churn-lr/1` would do (MLflow 3 gates unpickling behind this flag).
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    served = mlflow.pyfunc.load_model(str(model_dir))
    probabilities = served.predict(pd.DataFrame(CUSTOMERS))
    assert np.asarray(probabilities)[:, 1] == pytest.approx(gentle.score_many(CUSTOMERS), abs=1e-12)
    assert mlflow.get_tracking_uri() == global_uri_before


def test_mlflow_alias_active_sits_on_one_registered_model(mlflow_store: MlflowStore, gentle: PipelineModel, strict: PipelineModel) -> None:
    registry = mlflow_store.registry()
    lr = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    other = registry.register("churn-lr-strict", strict, summary_of(strict, 0.05, 1))

    registry.set_active(lr.ref)
    registry.set_active(other.ref)

    aliases = {model.name: dict(model.aliases) for model in mlflow_store.client().search_registered_models()}
    assert aliases == {"churn-lr": {}, "churn-lr-strict": {"active": 1}}
    experiment = mlflow_store.client().get_experiment_by_name("churn")
    assert experiment.tags["churn.active_model"] == "churn-lr-strict:1"


def test_mlflow_version_registered_outside_churn_is_never_loaded(mlflow_store: MlflowStore, gentle: PipelineModel) -> None:
    registry = mlflow_store.registry()
    ours = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    client = mlflow_store.client()
    foreign = client.create_model_version("churn-lr", source=str(mlflow_store.model_dir(ours.ref)), await_creation_for=0)

    foreign_ref = ModelRef("churn-lr", int(foreign.version))
    with pytest.raises(ModelArtifactError) as refused:
        registry.load(foreign_ref)
    assert "not registered by the churn service" in refused.value.message
    with pytest.raises(ModelArtifactError):
        registry.set_active(foreign_ref)
    assert registry.records() == [ours]


def test_mlflow_missing_artifact_is_an_artifact_error(mlflow_store: MlflowStore, gentle: PipelineModel) -> None:
    registry = mlflow_store.registry()
    record = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    (mlflow_store.model_dir(record.ref) / "model.skops").unlink()

    with pytest.raises(ModelArtifactError) as refused:
        registry.load(record.ref)
    assert "missing or unreadable" in refused.value.message


def test_mlflow_unreachable_tracking_server_is_registry_unavailable(gentle: PipelineModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    registry = MlflowModelRegistry("http://127.0.0.1:9", codec=PipelineCodec())
    calls: list[Callable[[], object]] = [
        registry.active,
        registry.records,
        lambda: registry.load(ModelRef("churn-lr", 1)),
        lambda: registry.set_active(ModelRef("churn-lr", 1)),
        lambda: registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0)),
    ]
    for call in calls:
        with pytest.raises(RegistryUnavailableError) as unavailable:
            call()
        assert unavailable.value.message.startswith("model registry unreachable: ")
