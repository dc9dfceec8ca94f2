"""MLflow as the model registry: one tracked run and one MLflow 3 logged model per training, a
registered version per model, the `active` alias, and the global active pointer as an
experiment tag.

Only `MlflowClient(tracking_uri=...)` is used: the fluent API keeps its tracking URI and active
run in process-global state, which would leak between registries and threads.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlparse

import cloudpickle
import mlflow.sklearn
import numpy
import pandas
import requests
import skops
import skops.io
import sklearn
import sqlalchemy.exc
from mlflow import MlflowClient
from mlflow.entities import Dataset as MlflowDataset
from mlflow.entities import DatasetInput, InputTag, LoggedModelOutput, LoggedModelStatus, Metric, Param
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import Model, infer_signature
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.tracking._tracking_service.utils import _use_tracking_uri

from churn.errors import ChurnError, ModelArtifactError, ModelNotFoundError, RegistryUnavailableError
from churn.features import FeatureKind, FeatureSchema
from churn.versions import ModelRecord, ModelRef, TrainingSummary
from churn.ports import ChurnModel, ModelArtifact, ModelCodec, ModelRegistry

log = logging.getLogger(__name__)

ACTIVE_ALIAS = "active"
ACTIVE_TAG = "churn.active_model"
REGISTERED_BY_TAG = "churn.registered_by"
REGISTERED_BY = "churn"
DIGEST_TAG = "churn.model_digest"
SUMMARY_TAG = "churn.summary"
DATASET_TAG = "churn.dataset"
DATASET_HASH_TAG = "churn.dataset_hash"
MODEL_TYPE_TAG = "churn.model_type"

FORMAT_TAG = "churn.model_format"
SKOPS = "skops"

MODEL_ARTIFACT = "model"
MODEL_FILE = "model.skops"
PICKLE_FILE = "model.pkl"
"""Versions registered before skops: still loaded, after the same digest check."""
TRUSTED_TYPES = [
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
]
"""Types skops may build beyond its default safe set (scikit-learn's public estimators, NumPy
arrays): what churn's pipelines hold (k-NN keeps a KD or ball tree depending on the data), checked by
a test over every model type and calibration."""
PLOTS_DIR = "plots"
MODEL_VERSIONS_TAG = "mlflow.modelVersions"  # mlflow.utils.mlflow_tags.MLFLOW_MODEL_VERSIONS
SOURCE_NAME = "churn training service"
NOTE_TAG = "mlflow.note.content"  # the UI's description of a run or a logged model
MAX_DIGEST = 36  # mlflow.utils.validation.MAX_DATASET_DIGEST_SIZE
SCHEMA_FILE = "schema.json"
PROBE_ROWS_FILE = "probe_rows.json"
SUMMARY_FILE = "summary.json"
INPUT_EXAMPLE_ROWS = 5
REGISTRATION_TIMEOUT_SECONDS = 300.0
MAX_REGISTRY_TAG_VALUE = 100_000  # mlflow.utils.validation.MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH

NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})
ALREADY_EXISTS_CODES = frozenset({"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"})


class MlflowModelRegistry(ModelRegistry):
    """Models as MLflow registered versions, tracked by runs in `experiment`.

    `register` logs a servable sklearn-flavour model (signature, input example, skops format) and
    tags the version with the sha256 of its file; `load` refuses versions without that tag or
    whose file no longer matches it (ModelArtifactError) before deserialising anything, and then
    lets skops build only scikit-learn's types and TRUSTED_TYPES. Each run logs the data set as its
    input (name, digest, source, schema, profile: never the customers), its metrics also on the
    logged model, and the evaluation charts; it is named "<name> v<version>". The version is
    registered from "models:/<logged model id>" and listed on that logged model, so MLflow's UI links
    each to the other.
    The active pointer is the experiment tag `churn.active_model` ("name:version"), mirrored by
    the `active` alias on that version. An unreachable store raises RegistryUnavailableError.
    """

    def __init__(
        self,
        tracking_uri: str,
        codec: ModelCodec,
        experiment: str = "churn",
        artifact_location: str | None = None,
        download_cache: str | None = None,
    ) -> None:
        self._tracking_uri = tracking_uri
        self._download_cache = Path(download_cache) if download_cache else None
        self._codec = codec
        self._experiment = experiment
        self._artifact_location = artifact_location or None
        self._client_instance: MlflowClient | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ port

    def register(self, name: str, model: ChurnModel, summary: TrainingSummary, reports: Mapping[str, bytes] = {}) -> ModelRecord:
        """A new run and logged model, registered as the next version of `name` once READY."""
        ModelRef(name, 1)  # InvalidRequestError for a bad name, before anything is written
        artifact = self._codec.dump(model)
        pipeline, probe_rows = artifact.estimator, [dict(row) for row in artifact.probe_rows]
        with self._translated():
            experiment_id = self._experiment_id()
            run_id = self._start_run(experiment_id, name, summary)
            try:
                version = self._log_and_register(experiment_id, run_id, name, pipeline, probe_rows, summary, model.parity, reports)
            except BaseException:
                self._end_run_quietly(run_id, "FAILED")
                raise
            self._client.set_terminated(run_id, "FINISHED", end_time=_millis(summary.finished_at))
        return ModelRecord(ModelRef(name, version), summary, run_id)

    def load(self, ref: ModelRef) -> ChurnModel:
        """ModelNotFoundError for an unknown version; ModelArtifactError for a version churn did not
        register, whose pickle does not match the recorded digest, or that is missing or unreadable."""
        with self._translated():
            version = self._version(ref)
            digest = _checked_tags(ref, version)
            if version.status != "READY":
                raise ModelArtifactError(
                    f"model {ref} is {version.status} in MLflow, not READY; wait for the registration to finish or train a new version"
                )
            model_file = MODEL_FILE if version.tags.get(FORMAT_TAG) == SKOPS else PICKLE_FILE
            threshold = self._record_of(version).summary.threshold
            with self._local_copy(ref) as folder:
                files = self._download(ref, folder, (model_file, SCHEMA_FILE, PROBE_ROWS_FILE))
                if _sha256(files[model_file]) != digest:
                    self._forget_local_copy(ref)
                    raise ModelArtifactError(
                        f"the artifact of model {ref} does not match the digest churn recorded when registering it "
                        f"({model_file} was changed afterwards), so it is not loaded; train a new version or restore the original file"
                    )
                pipeline = _skops_load(ref, files[model_file]) if model_file == MODEL_FILE else _unpickle(ref, files[model_file])
                schema = FeatureSchema.from_dict(_read_json(ref, files[SCHEMA_FILE]))
                probe_rows = _read_json(ref, files[PROBE_ROWS_FILE])
        try:
            return self._codec.load(ModelArtifact(pipeline, tuple(probe_rows)), schema, threshold)
        except ChurnError:
            raise
        except Exception as exc:
            raise ModelArtifactError(f"model {ref} was read but could not be prepared for scoring: {exc}") from exc

    def records(self) -> list[ModelRecord]:
        """Every version carrying the churn tag, newest registered first; one whose summary cannot be
        read is logged and left out rather than failing start-up."""
        with self._translated():
            versions = self._our_versions()
            versions.sort(key=lambda v: (v.creation_timestamp or 0, int(v.version)), reverse=True)
            records = []
            for version in versions:
                try:
                    records.append(self._record_of(version))
                except (ValueError, KeyError, TypeError, ModelArtifactError) as exc:
                    log.warning("skipping %s:%s, its churn summary is unreadable: %s", version.name, version.version, exc)
            return records

    def set_active(self, ref: ModelRef) -> None:
        """ModelNotFoundError for an unknown version, ModelArtifactError for one churn did not register.
        Moves the `active` alias to `ref` and the experiment's pointer with it."""
        with self._translated():
            _checked_tags(ref, self._version(ref))
            experiment_id = self._experiment_id()
            self._client.set_registered_model_alias(ref.name, ACTIVE_ALIAS, str(ref.version))
            self._client.set_experiment_tag(experiment_id, ACTIVE_TAG, str(ref))
            self._drop_other_active_aliases(ref.name)

    def active(self) -> ModelRef | None:
        """One read of the experiment's tags; None when no version was ever activated."""
        with self._translated():
            experiment = self._client.get_experiment_by_name(self._experiment)
        if experiment is None or ACTIVE_TAG not in experiment.tags:
            return None
        name, _, version = experiment.tags[ACTIVE_TAG].rpartition(":")
        try:
            return ModelRef(name, int(version))
        except (ValueError, ChurnError):
            log.warning("ignoring malformed %s tag %r on experiment %r", ACTIVE_TAG, experiment.tags[ACTIVE_TAG], self._experiment)
            return None

    # ------------------------------------------------------------------ MLflow

    @property
    def _client(self) -> MlflowClient:
        # Created on first use: a SQLite store runs its migrations when the client is built.
        with self._lock:
            if self._client_instance is None:
                self._client_instance = MlflowClient(tracking_uri=self._tracking_uri, registry_uri=self._tracking_uri)
            return self._client_instance

    def _experiment_id(self) -> str:
        """The experiment's id, created (with `artifact_location`) on first need."""
        experiment = self._client.get_experiment_by_name(self._experiment)
        if experiment is None:
            try:
                return self._client.create_experiment(self._experiment, artifact_location=self._artifact_location)
            except MlflowException as exc:
                if exc.error_code not in ALREADY_EXISTS_CODES:
                    raise
                experiment = self._client.get_experiment_by_name(self._experiment)
                assert experiment is not None
        if experiment.lifecycle_stage == "deleted":
            raise RegistryUnavailableError(
                f"the MLflow experiment {self._experiment!r} is deleted; restore it "
                f"(mlflow experiments restore --experiment-id {experiment.experiment_id}) or configure another experiment name"
            )
        return experiment.experiment_id

    def _start_run(self, experiment_id: str, name: str, summary: TrainingSummary) -> str:
        """Named "<name> (registering)" until the version is known."""
        run = self._client.create_run(
            experiment_id,
            start_time=_millis(summary.started_at),
            tags={**_run_tags(summary), **_origin_tags(), "mlflow.runName": f"{name} (registering)", NOTE_TAG: _description(summary)},
        )
        run_id = run.info.run_id
        params = {
            **{k: _param_value(v) for k, v in summary.hyperparameters.items()},
            "model_type": summary.model_type,
            "dataset": summary.dataset,
            "threshold": str(summary.threshold),
        }
        if summary.evaluation is not None:
            params["calibration"] = summary.evaluation.calibration
            params["threshold_rule"] = _param_value(summary.evaluation.threshold_rule)
            params["cv_folds"] = str(summary.evaluation.cross_validation.folds)
        self._client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()])
        self._client.log_inputs(run_id, datasets=[DatasetInput(_dataset_entity(summary), tags=[InputTag("mlflow.data.context", "training")])])
        return run_id

    def _log_and_register(
        self, experiment_id: str, run_id: str, name: str, pipeline: Any, probe_rows: list[dict], summary: TrainingSummary,
        parity: float | None, reports: Mapping[str, bytes],
    ) -> int:
        logged = self._client.create_logged_model(
            experiment_id,
            name=_logged_model_name(name),
            source_run_id=run_id,
            tags={**_run_tags(summary), **_origin_tags(), NOTE_TAG: _description(summary)},
            params={k: _param_value(v) for k, v in summary.hyperparameters.items()},
            model_type=summary.model_type,
        )
        self._client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
        now = _millis(summary.finished_at)
        digest_of_data = summary.dataset_hash[:MAX_DIGEST]
        self._client.log_batch(
            run_id,
            metrics=[
                Metric(k, float(v), now, 0, model_id=logged.model_id, dataset_name=summary.dataset, dataset_digest=digest_of_data)
                for k, v in _metrics_of(summary, parity).items()
            ],
        )
        if reports:
            with tempfile.TemporaryDirectory(prefix="churn-plots-") as tmp:
                for file_name, content in reports.items():
                    (Path(tmp) / Path(file_name).name).write_bytes(content)
                self._client.log_artifacts(run_id, tmp, PLOTS_DIR)
        with tempfile.TemporaryDirectory(prefix="churn-register-") as tmp:
            model_dir = Path(tmp) / MODEL_ARTIFACT
            _save_mlflow_model(model_dir, pipeline, probe_rows, summary, Model(
                artifact_path=logged.artifact_location, model_uuid=logged.model_id, run_id=run_id, model_id=logged.model_id
            ))
            digest = _sha256(model_dir / MODEL_FILE)
            self._client.log_model_artifacts(logged.model_id, str(model_dir))
        self._client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)

        try:
            self._client.create_registered_model(name, description="Churn model registered by the churn service")
        except MlflowException as exc:
            if exc.error_code not in ALREADY_EXISTS_CODES:
                raise
        summary_json = _summary_json(summary)
        tags = {**_run_tags(summary), DIGEST_TAG: digest, FORMAT_TAG: SKOPS}
        if len(summary_json) <= MAX_REGISTRY_TAG_VALUE:
            tags[SUMMARY_TAG] = summary_json
        # Registered from "models:/<model_id>", as mlflow.register_model does: the UI links a version to
        # its logged model ("Source model") only for that form of source.
        with _tracking_uri_for_model_sources(self._tracking_uri):
            version = self._client.create_model_version(
                name, source=f"models:/{logged.model_id}", run_id=run_id, tags=tags, model_id=logged.model_id,
                description=_description(summary), await_creation_for=0,
            )
        self._await_ready(name, version)
        # What mlflow.register_model does (an MLflow server does it too): the logged model lists the
        # versions made from it, so the UI shows it as registered, not "Not registered".
        listed = self._client.get_logged_model(logged.model_id).tags.get(MODEL_VERSIONS_TAG)
        self._client.set_logged_model_tags(logged.model_id, {MODEL_VERSIONS_TAG: _with_version(listed, name, version.version)})
        self._client.update_run(run_id, name=f"{name} v{version.version}")
        return int(version.version)

    def _await_ready(self, name: str, version: ModelVersion) -> None:
        deadline = time.monotonic() + REGISTRATION_TIMEOUT_SECONDS
        while version.status == "PENDING_REGISTRATION" and time.monotonic() < deadline:
            time.sleep(0.5)
            version = self._client.get_model_version(name, version.version)
        if version.status != "READY":
            raise RegistryUnavailableError(
                f"MLflow did not finish registering {name}:{version.version} (status {version.status}: "
                f"{version.status_message or 'no message'}); try the training again"
            )

    def _end_run_quietly(self, run_id: str, status: str) -> None:
        try:
            self._client.set_terminated(run_id, status)
        except Exception:  # the original failure is the one worth reporting
            log.warning("could not mark MLflow run %s as %s", run_id, status, exc_info=True)

    def _version(self, ref: ModelRef) -> ModelVersion:
        try:
            return self._client.get_model_version(ref.name, str(ref.version))
        except MlflowException as exc:
            if exc.error_code in NOT_FOUND_CODES:
                raise ModelNotFoundError(f"model {ref} is not in the registry") from None
            raise

    def _our_versions(self) -> list[ModelVersion]:
        versions: list[ModelVersion] = []
        token = None
        while True:
            page = self._client.search_model_versions(
                f"tags.`{REGISTERED_BY_TAG}` = '{REGISTERED_BY}'", max_results=1000, page_token=token
            )
            versions.extend(v for v in page if v.tags.get(REGISTERED_BY_TAG) == REGISTERED_BY)
            token = page.token
            if not token:
                return versions

    def _record_of(self, version: ModelVersion) -> ModelRecord:
        ref = ModelRef(version.name, int(version.version))
        if SUMMARY_TAG in version.tags:
            data = json.loads(version.tags[SUMMARY_TAG])
        else:
            with tempfile.TemporaryDirectory(prefix="churn-summary-") as tmp:
                data = _read_json(ref, self._download(ref, Path(tmp), (SUMMARY_FILE,))[SUMMARY_FILE])
        return ModelRecord(ref, TrainingSummary.from_dict(data), version.run_id or "")

    @contextmanager
    def _local_copy(self, ref: ModelRef) -> Iterator[Path]:
        """Where `load` reads a version's files: the per-version download cache when configured (files
        already there are not downloaded again; the digest is still checked on every load), else a
        temporary folder removed afterwards."""
        if self._download_cache is None:
            with tempfile.TemporaryDirectory(prefix="churn-model-") as tmp:
                yield Path(tmp)
            return
        folder = self._download_cache / ref.name / str(ref.version)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder

    def _forget_local_copy(self, ref: ModelRef) -> None:
        """A cached copy that fails its digest is dropped, so the next load downloads it again."""
        if self._download_cache is not None:
            shutil.rmtree(self._download_cache / ref.name / str(ref.version), ignore_errors=True)

    def _download(self, ref: ModelRef, into: Path, names: Sequence[str]) -> dict[str, Path]:
        files: dict[str, Path] = {}
        if self._download_cache is not None and into.is_relative_to(self._download_cache):
            files = {name: into / name for name in names if (into / name).is_file()}
            names = [name for name in names if name not in files]
            if not names:
                return files
        uri = self._client.get_model_version_download_uri(ref.name, str(ref.version))
        repository = get_artifact_repository(uri, tracking_uri=self._tracking_uri, registry_uri=self._tracking_uri)
        for name in names:
            try:
                with tempfile.TemporaryDirectory(prefix=".download-", dir=into) as partial:
                    # into a sibling first, then renamed: a reader never sees half a file
                    downloaded = Path(repository.download_artifacts(name, partial))
                    files[name] = Path(shutil.move(str(downloaded), str(into / name)))
            except Exception as exc:
                if _unreachable(exc):
                    raise
                raise ModelArtifactError(
                    f"the artifact of model {ref} is missing or unreadable ({name}: {_first_line(exc)}); train a new version"
                ) from exc
        return files

    def _drop_other_active_aliases(self, keep: str) -> None:
        """Remove `active` from other registered models, but only where it names a churn version."""
        token = None
        while True:
            page = self._client.search_registered_models(max_results=1000, page_token=token)
            for model in page:
                version = (model.aliases or {}).get(ACTIVE_ALIAS)
                if model.name == keep or version is None:
                    continue
                if self._client.get_model_version(model.name, str(version)).tags.get(REGISTERED_BY_TAG) == REGISTERED_BY:
                    self._client.delete_registered_model_alias(model.name, ACTIVE_ALIAS)
            token = page.token
            if not token:
                return

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except ChurnError:
            raise
        except MlflowException as exc:
            if exc.error_code in NOT_FOUND_CODES:
                raise ModelNotFoundError(f"not found in the model registry: {_first_line(exc)}") from exc
            if _unreachable(exc):
                raise RegistryUnavailableError(f"model registry unreachable: {_first_line(exc)}") from exc
            raise RegistryUnavailableError(f"model registry refused the request: {_first_line(exc)}") from exc
        except (requests.RequestException, sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
            raise RegistryUnavailableError(f"model registry unreachable: {_first_line(exc)}") from exc


# ---------------------------------------------------------------------- helpers


def _save_mlflow_model(path: Path, pipeline: Any, probe_rows: list[dict], summary: TrainingSummary, mlflow_model: Model) -> None:
    """An MLflow model directory (`mlflow models serve` can serve it) plus churn's own JSON files."""
    example = _frame(summary.schema, probe_rows[:INPUT_EXAMPLE_ROWS])
    try:
        signature = infer_signature(example, pipeline.predict_proba(example))
    except Exception:  # an example the pipeline cannot score still describes the inputs
        signature = infer_signature(example)
    mlflow.sklearn.save_model(
        pipeline,
        str(path),
        mlflow_model=mlflow_model,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
        skops_trusted_types=TRUSTED_TYPES,
        signature=signature,
        input_example=example if len(example) else None,
        pyfunc_predict_fn="predict_proba",
        # Explicit requirements: inferring them starts a subprocess that imports the model.
        pip_requirements=[
            f"scikit-learn=={sklearn.__version__}",
            f"skops=={skops.__version__}",
            f"pandas=={pandas.__version__}",
            f"numpy=={numpy.__version__}",
        ],
    )
    (path / SCHEMA_FILE).write_text(json.dumps(summary.schema.to_dict(), indent=2))
    (path / PROBE_ROWS_FILE).write_text(json.dumps(probe_rows, indent=2, default=_plain))
    (path / SUMMARY_FILE).write_text(_summary_json(summary, indent=2))


def _frame(schema: FeatureSchema, rows: Sequence[Mapping[str, Any]]) -> pandas.DataFrame:
    frame = pandas.DataFrame([{name: row.get(name) for name in schema.names} for row in rows], columns=list(schema.names))
    for spec in schema.features:
        if spec.kind.encoded_as_number:
            frame[spec.name] = pandas.to_numeric(frame[spec.name], errors="coerce").astype("float64")
    return frame


def _run_tags(summary: TrainingSummary) -> dict[str, str]:
    return {
        DATASET_TAG: summary.dataset,
        DATASET_HASH_TAG: summary.dataset_hash,
        MODEL_TYPE_TAG: summary.model_type,
        REGISTERED_BY_TAG: REGISTERED_BY,
    }


def _summary_json(summary: TrainingSummary, indent: int | None = None) -> str:
    return json.dumps(summary.to_dict(), indent=indent, default=_plain)


def _checked_tags(ref: ModelRef, version: ModelVersion) -> str:
    """The recorded pickle digest of a version churn registered; ModelArtifactError otherwise."""
    if version.tags.get(REGISTERED_BY_TAG) != REGISTERED_BY:
        raise ModelArtifactError(
            f"model {ref} was not registered by the churn service (no {REGISTERED_BY_TAG} tag), so it is never loaded; "
            "train a version through churn instead"
        )
    digest = version.tags.get(DIGEST_TAG)
    if not digest:
        raise ModelArtifactError(f"model {ref} has no {DIGEST_TAG} tag to check its artifact against; train a new version")
    return digest


def _skops_load(ref: ModelRef, path: Path) -> Any:
    try:
        return skops.io.load(path, trusted=TRUSTED_TYPES)
    except Exception as exc:
        raise ModelArtifactError(f"the artifact of model {ref} could not be read ({_first_line(exc)}); train a new version") from exc


def _metrics_of(summary: TrainingSummary, parity: float | None = None) -> dict[str, float]:
    """Hold-out metrics, cross-validation mean and std (`cv_<metric>_mean` / `_std`), threshold, timings,
    and the registered model's parity (fast path vs scikit-learn) as measured when it was built."""
    metrics = {**summary.metrics, "training_seconds": summary.training_seconds, "threshold": summary.threshold}
    if parity is not None:
        metrics["parity"] = parity
    if summary.evaluation is not None:
        cv = summary.evaluation.cross_validation
        for key, value in cv.mean.items():
            metrics[f"cv_{key}_mean"] = value
        for key, value in cv.std.items():
            metrics[f"cv_{key}_std"] = value
        metrics["cv_seconds"] = summary.evaluation.cv_seconds
    return {k: float(v) for k, v in metrics.items()}


def _dataset_entity(summary: TrainingSummary) -> MlflowDataset:
    """The uploaded table as MLflow sees a data set: its columns' schema and a profile (rows,
    hold-out size), digest = the start of its content hash (MLflow keeps 36 characters); the
    customers themselves are never sent to the tracking server."""
    kinds = {FeatureKind.NUMBER: "double", FeatureKind.CATEGORY: "string", FeatureKind.BOOLEAN: "boolean", FeatureKind.DATE: "datetime"}
    columns = [{"name": f.name, "type": kinds.get(f.kind, "string")} for f in summary.schema.features]
    profile = {"num_rows": summary.rows, "content_hash": summary.dataset_hash, "features": len(columns)}
    if summary.evaluation is not None:
        profile["holdout_rows"] = summary.evaluation.holdout_rows
    return MlflowDataset(
        name=summary.dataset,
        digest=summary.dataset_hash[:MAX_DIGEST],
        source_type="churn",
        source=json.dumps({"uri": f"churn://datasets/{summary.dataset}", "content_hash": summary.dataset_hash}),
        schema=json.dumps({"mlflow_colspec": columns}),
        profile=json.dumps(profile),
    )


def _logged_model_name(name: str) -> str:
    """The registered model's name, in the characters MLflow allows a logged model's name."""
    return "".join("_" if c in "/:.%\"'" else c for c in name)


def _origin_tags() -> dict[str, str]:
    """Who and what trained it: the UI's "Created by" and "Source" on the run and the logged model."""
    return {"mlflow.user": _user(), "mlflow.source.name": SOURCE_NAME, "mlflow.source.type": "JOB"}


def _description(summary: TrainingSummary) -> str:
    """One line: the description of the run, the logged model and the version in the MLflow UI."""
    metrics = ", ".join(f"{key} {summary.metrics[key]:.3f}" for key in ("roc_auc", "pr_auc", "ece") if key in summary.metrics)
    return (
        f"{summary.model_type} trained by the churn service on data set {summary.dataset!r} ({summary.rows} rows); "
        f"hold-out {metrics}; churn threshold {summary.threshold:g}"
    )


def _with_version(listed: str | None, name: str, version: str | int) -> str:
    """The `mlflow.modelVersions` value of a logged model with one more version (MLflow's own format,
    kept when a server already added it)."""
    try:
        entries = json.loads(listed) if listed else []
    except ValueError:
        entries = []
    entries = [e for e in entries if isinstance(e, dict) and (e.get("name"), str(e.get("version"))) != (name, str(version))]
    return json.dumps([*entries, {"name": name, "version": str(version)}])


_GLOBAL_URI_LOCK = threading.Lock()


@contextmanager
def _tracking_uri_for_model_sources(tracking_uri: str) -> Iterator[None]:
    """While a version is created from a "models:/<id>" source: MLflow's SQL (and file) registry store
    looks the logged model up with a default MlflowClient(), i.e. with the process-global tracking URI
    (mlflow/store/model_registry/sqlalchemy_store.py, create_model_version), which churn otherwise never
    sets. So it is this registry's URI for that call alone, under a lock, and the environment variable
    MLflow writes is put back. An MLflow server resolves the source itself: nothing to set."""
    if urlparse(tracking_uri).scheme in ("http", "https"):
        yield
        return
    with _GLOBAL_URI_LOCK:
        saved = os.environ.get("MLFLOW_TRACKING_URI")
        try:
            with _use_tracking_uri(tracking_uri):
                yield
        finally:
            if saved is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = saved


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container without a passwd entry
        return "churn"


def _unpickle(ref: ModelRef, path: Path) -> Any:
    try:
        with path.open("rb") as file:
            return cloudpickle.load(file)
    except Exception as exc:
        raise ModelArtifactError(f"the artifact of model {ref} could not be unpickled ({exc}); train a new version") from exc


def _read_json(ref: ModelRef, path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelArtifactError(f"{path.name} of model {ref} is unreadable ({exc}); train a new version") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON-ready Python values."""
    if isinstance(value, (numpy.generic, numpy.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _param_value(value: Any) -> str:
    return json.dumps(value, default=_plain) if isinstance(value, (dict, list, tuple)) else str(value)


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, sqlalchemy.exc.OperationalError)):
        return True
    if isinstance(exc, MlflowException):
        text = str(exc)
        return exc.error_code in ("TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED") or any(
            marker in text for marker in ("failed with exception", "Max retries exceeded", "Connection", "timed out")
        )
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."
