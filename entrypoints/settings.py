"""Configuration from `CHURN_*` environment variables: the one place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from churn.promotion import HIGHER_IS_BETTER

STORES = ("sqlite", "mongo", "memory")
REGISTRIES = ("mlflow", "memory")
ACCESS_LOGS = ("all", "errors", "off")
JOB_RUNNERS = ("thread", "inline", "rq")

MINIMUMS = {
    "model_cache_size": 1,
    "training_workers": 1,
    "active_refresh_seconds": 0,
    "job_lease_seconds": 1,  # shorter, and a busy process could miss its own heartbeats
    "max_upload_mb": 0.001,
    "max_dataset_rows": 2,
    "max_dataset_columns": 2,
    "max_request_kb": 1,
    "max_batch_request_mb": 0.001,
    "port": 0,
    "workers": 1,
    "drift_refresh_seconds": 0,
    "training_niceness": 0,
    "scoring_chunk_size": 1,
    "scoring_batch": 1,
}


MLFLOW_DEFAULTS = {
    "MLFLOW_DISABLE_TELEMETRY": "true",  # a service should not phone home unasked
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",  # a down tracking server fails a training in seconds, not minutes
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}


def apply_library_defaults() -> None:
    """Environment defaults for libraries that read only the environment; explicit values win."""
    for name, value in MLFLOW_DEFAULTS.items():
        os.environ.setdefault(name, value)


class SettingsError(ValueError):
    """A CHURN_* variable with a value the service cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    home: str = "./var"
    store: str = "sqlite"
    sqlite_path: str = ""
    dataset_dir: str = ""  # data set files; empty: beside the SQLite file (adapters/sqlite/datasets.py)
    mongodb_uri: str = "mongodb://localhost:27017"
    mongodb_db: str = "churn"
    registry: str = "mlflow"
    mlflow_tracking_uri: str = ""
    mlflow_artifacts: str = ""
    model_download_cache: str = ""
    model_cache_size: int = 4
    training_workers: int = 1
    job_lease_seconds: float = 60.0
    job_runner: str = "thread"
    training_process: bool = True
    training_niceness: int = 10
    broker_url: str = "redis://localhost:6379/0"
    active_refresh_seconds: float = 2.0
    max_upload_mb: float = 50.0
    max_dataset_rows: int = 1_000_000
    max_dataset_columns: int = 500
    max_request_kb: float = 64.0
    max_batch_request_mb: float = 16.0
    load_sample: bool = True
    api_keys: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    access_log: str = "errors"
    json_logs: bool = True
    opentelemetry: bool = False
    min_roc_auc: float = 0.6
    promotion_metric: str = "roc_auc"
    cv_max_rows: int = 200_000
    drift_refresh_seconds: float = 300.0
    scoring_chunk_size: int = 50_000  # customers per task of a scoring run, with CHURN_JOB_RUNNER=rq
    scoring_batch: int = 10_000  # customers scored and stored together by a scoring run (one SQLite transaction)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, f in cls.__dataclass_fields__.items():
            if name == "extra":
                continue
            raw = env.get(f"CHURN_{name.upper()}")
            if raw is None or raw == "":
                continue
            values[name] = _parse(name, raw, f.default)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).resolved()

    def resolved(self) -> "Settings":
        """Fill paths derived from `home` and check choices."""
        if self.access_log not in ACCESS_LOGS:
            raise SettingsError(f"CHURN_ACCESS_LOG={self.access_log!r}: choose one of {', '.join(ACCESS_LOGS)}")
        if self.store not in STORES:
            raise SettingsError(f"CHURN_STORE={self.store!r}: choose one of {', '.join(STORES)}")
        if self.job_runner not in JOB_RUNNERS:
            raise SettingsError(f"CHURN_JOB_RUNNER={self.job_runner!r}: choose one of {', '.join(JOB_RUNNERS)}")
        if self.registry not in REGISTRIES:
            raise SettingsError(f"CHURN_REGISTRY={self.registry!r}: choose one of {', '.join(REGISTRIES)}")
        for name, minimum in MINIMUMS.items():
            if getattr(self, name) < minimum:
                raise SettingsError(f"CHURN_{name.upper()}={getattr(self, name)!r}: the smallest value that works is {minimum}")
        if not 0.0 <= self.min_roc_auc <= 1.0:
            raise SettingsError(f"CHURN_MIN_ROC_AUC={self.min_roc_auc!r}: a ROC AUC is between 0 and 1")
        if self.promotion_metric not in HIGHER_IS_BETTER:
            raise SettingsError(f"CHURN_PROMOTION_METRIC={self.promotion_metric!r}: choose one of {', '.join(HIGHER_IS_BETTER)}")
        if self.training_niceness > 19:
            raise SettingsError(f"CHURN_TRAINING_NICENESS={self.training_niceness!r}: a niceness is 0 (the server's own priority) to 19")
        if self.port > 65535:
            raise SettingsError(f"CHURN_PORT={self.port!r}: a port is 0 to 65535")
        home = Path(self.home).expanduser().resolve()
        changes: dict[str, Any] = {"home": str(home)}
        if not self.sqlite_path:
            changes["sqlite_path"] = str(home / "churn.db")
        if self.dataset_dir:
            changes["dataset_dir"] = str(Path(self.dataset_dir).expanduser().resolve())
        if not self.mlflow_tracking_uri:
            changes["mlflow_tracking_uri"] = f"sqlite:///{home / 'mlflow.db'}"
        served = (self.mlflow_tracking_uri or "").startswith(("http://", "https://"))
        if not self.mlflow_artifacts and not served:  # a tracking server keeps (and serves) the artifacts itself
            changes["mlflow_artifacts"] = str(home / "mlartifacts")
        if not self.model_download_cache and served:
            changes["model_download_cache"] = str(home / "model-cache")
        data = asdict(self)
        data.update(changes)
        return Settings(**data)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _parse(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if raw.strip().lower() in ("1", "true", "yes", "on"):
                return True
            if raw.strip().lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise SettingsError(f"CHURN_{name.upper()}={raw!r} is not a valid {type(default).__name__}") from None
    return raw
