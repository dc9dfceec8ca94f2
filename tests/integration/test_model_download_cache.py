"""MLflow registry with a per-version download cache (what each replica keeps under CHURN_HOME when
the artifacts come from an `mlflow server`): loads after the first read the local copy, and the
digest recorded at registration is still checked on it before anything is deserialised."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from adapters.mlflow_registry import MODEL_FILE, MlflowModelRegistry
from churn.errors import ModelArtifactError
from tests.contract.test_model_registry import CUSTOMERS, MlflowStore, PipelineCodec, PipelineModel, summary_of


def cached_registry(store: MlflowStore, cache: Path) -> MlflowModelRegistry:
    return MlflowModelRegistry(store.tracking_uri, codec=PipelineCodec(), artifact_location=str(store.artifacts), download_cache=str(cache))


def test_a_loaded_version_is_kept_on_local_disk_and_read_from_there_afterwards(mlflow_store: MlflowStore, gentle: PipelineModel, tmp_path: Path) -> None:
    registry = cached_registry(mlflow_store, tmp_path / "cache")
    record = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    registry.load(record.ref)
    assert (tmp_path / "cache" / "churn-lr" / "1" / MODEL_FILE).is_file()

    shutil.rmtree(mlflow_store.model_dir(record.ref))  # the server's copy gone: only the local one remains
    assert registry.load(record.ref).score_many(CUSTOMERS) == pytest.approx(gentle.score_many(CUSTOMERS), abs=1e-12)


def test_an_altered_local_copy_is_refused_dropped_and_downloaded_again(
    mlflow_store: MlflowStore, gentle: PipelineModel, strict: PipelineModel, tmp_path: Path
) -> None:
    registry = cached_registry(mlflow_store, tmp_path / "cache")
    record = registry.register("churn-lr", gentle, summary_of(gentle, 1.0, 0))
    registry.load(record.ref)
    (tmp_path / "cache" / "churn-lr" / "1" / MODEL_FILE).write_bytes(pickle.dumps(strict.pipeline))  # any other bytes: only the digest can tell

    with pytest.raises(ModelArtifactError):
        registry.load(record.ref)
    assert not (tmp_path / "cache" / "churn-lr" / "1").exists()
    assert registry.load(record.ref).score_many(CUSTOMERS) == pytest.approx(gentle.score_many(CUSTOMERS), abs=1e-12)
