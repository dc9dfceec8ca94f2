"""What a training leaves in MLflow, read back through MlflowClient: the data set as the run's input,
the version linked to its logged model, metrics on both, evaluation charts, a run named after the
version with user and source tags, and a skops artifact that loads with the trusted types only."""

from __future__ import annotations

import json
import logging
import os
import shutil
import warnings
from datetime import datetime, timezone

import mlflow
import pytest
from mlflow import MlflowClient

from adapters.fast_scoring import SklearnModelCodec
from adapters.mlflow_registry import MlflowModelRegistry
from adapters.sklearn_trainer import SklearnTrainer
from churn.decision import ThresholdRule
from churn.versions import TrainingSummary
from churn.model_types import model_type
from churn.training_options import TrainingOptions
from tests.integration.test_trainer import CONTENT, DATASET

NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def record(tmp_path_factory, migrated_sqlite):  # migrated_sqlite: tests/integration/conftest.py
    tmp_path = tmp_path_factory.mktemp("mlflow-record")
    shutil.copy(migrated_sqlite, tmp_path / "mlflow.db")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    trained = SklearnTrainer(draw_reports=True).train(
        DATASET, CONTENT, model_type("random_forest"), {"n_estimators": 10},
        options=TrainingOptions(cv_folds=2, threshold=ThresholdRule.parse("max_f1")),
    )
    summary = TrainingSummary(
        model_type="random_forest", hyperparameters={"n_estimators": 10}, metrics=trained.metrics, dataset=DATASET.name,
        dataset_hash=DATASET.content_hash, rows=DATASET.rows, schema=trained.model.schema, training_seconds=trained.training_seconds,
        started_at=NOW, finished_at=NOW,
        threshold=trained.model.threshold, evaluation=trained.evaluation,
    )
    registry = MlflowModelRegistry(uri, codec=SklearnModelCodec(), artifact_location=str(tmp_path / "artifacts"))
    process_wide = (mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI"))
    logged_warnings = _Records(logging.WARNING)
    loggers = [logging.getLogger(), logging.getLogger("mlflow")]  # MLflow's own logger does not propagate
    for logger in loggers:
        logger.addHandler(logged_warnings)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            registered = registry.register("churn-rf", trained.model, summary, trained.reports)
    finally:
        for logger in loggers:
            logger.removeHandler(logged_warnings)
    caught = [str(w.message) for w in caught] + [r.getMessage() for r in logged_warnings.records]
    assert (mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")) == process_wide  # nothing global is left changed
    return registry, MlflowClient(tracking_uri=uri, registry_uri=uri), registered, trained, caught


class _Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_run_shows_its_dataset_with_the_content_digest_and_no_customers(record):
    _, client, registered, _, _ = record
    run = client.get_run(registered.run_id)
    (dataset_input,) = run.inputs.dataset_inputs
    dataset = dataset_input.dataset
    assert dataset.name == DATASET.name and DATASET.content_hash.startswith(dataset.digest)
    assert "tenure" in dataset.schema and '"num_rows": %d' % DATASET.rows in dataset.profile
    assert "C0001" not in dataset.profile + dataset.schema + dataset.source  # no customer is sent
    assert {t.key: t.value for t in dataset_input.tags}["mlflow.data.context"] == "training"


def test_the_version_is_linked_to_its_logged_model_which_carries_the_metrics(record):
    _, client, registered, trained, _ = record
    version = client.get_model_version("churn-rf", "1")
    # The UI links a version to its logged model ("Source Model") from a "models:/<model_id>" source;
    # MLflow 3.17's SQL registry does not keep the version's model_id field.
    assert version.source.startswith("models:/") and version.model_id in (None, version.source.removeprefix("models:/"))
    logged = client.get_logged_model(version.source.removeprefix("models:/"))
    assert logged.source_run_id == registered.run_id and logged.name == "churn-rf"
    assert client.get_model_version_download_uri("churn-rf", "1") == logged.artifact_location
    # Listed as registered (the UI shows no "Not registered"), with who and what made it.
    assert json.loads(logged.tags["mlflow.modelVersions"]) == [{"name": "churn-rf", "version": "1"}]
    assert logged.tags["mlflow.user"] and logged.tags["mlflow.source.name"] == "churn training service"
    assert logged.tags["mlflow.note.content"] == version.description and "random_forest" in version.description
    on_model = {m.key: m.value for m in logged.metrics}
    assert on_model["roc_auc"] == trained.metrics["roc_auc"] and "cv_roc_auc_mean" in on_model and "ece" in on_model
    assert [str(v.version) for v in client.search_model_versions(f"run_id = '{registered.run_id}'")] == ["1"]


def test_the_run_is_named_after_the_version_with_user_source_metrics_and_charts(record):
    _, client, registered, trained, _ = record
    run = client.get_run(registered.run_id)
    assert run.info.run_name == "churn-rf v1"
    assert run.data.tags["mlflow.user"] and run.data.tags["mlflow.source.name"] == "churn training service"
    assert "random_forest" in run.data.tags["mlflow.note.content"]  # the run's description
    assert client.get_model_version("churn-rf", "1").description == run.data.tags["mlflow.note.content"]
    assert run.data.metrics["cv_roc_auc_std"] >= 0 and run.data.metrics["threshold"] == trained.model.threshold
    assert run.data.params["calibration"] == "isotonic" and run.data.params["threshold_rule"] == "max_f1"
    plots = {f.path for f in client.list_artifacts(registered.run_id, "plots")}
    assert plots == {
        f"plots/{name}"
        for name in ("roc_curve.png", "pr_curve.png", "reliability_diagram.png", "confusion_matrix.png",
                     "feature_importances.png", "feature_importances.csv")
    }


def test_the_artifact_is_skops_without_the_pickle_warning_and_loads_back_with_its_threshold(record):
    registry, _, registered, trained, caught = record
    assert not [w for w in caught if "pickle" in w.lower()]  # neither a Python warning nor a logged one
    loaded = registry.load(registered.ref)
    assert loaded.threshold == trained.model.threshold
    row = trained.model.probe_rows[0]
    assert loaded.score(row) == pytest.approx(trained.model.score(row), abs=1e-12)
