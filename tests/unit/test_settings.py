"""CHURN_* variables: parsed by type, checked at start, every refusal naming the variable."""

import pytest

from entrypoints.settings import Settings, SettingsError


def settings(**env):
    return Settings.from_env(env={f"CHURN_{k.upper()}": v for k, v in env.items()})


def test_defaults_need_no_variable(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = settings()
    assert (s.store, s.registry, s.job_lease_seconds, s.opentelemetry) == ("sqlite", "mlflow", 60.0, False)
    assert s.sqlite_path == str(tmp_path / "var" / "churn.db")


def test_the_data_set_directory_is_beside_the_database_unless_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert settings().dataset_dir == ""  # the SQLite store puts the files at <CHURN_SQLITE_PATH>-datasets
    assert settings(dataset_dir="files").dataset_dir == str(tmp_path / "files")


def test_values_are_parsed_by_the_type_of_their_default():
    s = settings(training_workers="3", job_lease_seconds="2.5", opentelemetry="yes", store="memory")
    assert (s.training_workers, s.job_lease_seconds, s.opentelemetry, s.store) == (3, 2.5, True, "memory")


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("store", "postgres", "CHURN_STORE='postgres': choose one of sqlite, mongo, memory"),
        ("training_workers", "many", "CHURN_TRAINING_WORKERS='many' is not a valid int"),
        ("training_workers", "0", "CHURN_TRAINING_WORKERS=0: the smallest value that works is 1"),
        ("job_lease_seconds", "0.2", "CHURN_JOB_LEASE_SECONDS=0.2: the smallest value that works is 1"),
        ("model_cache_size", "-1", "CHURN_MODEL_CACHE_SIZE=-1"),
        ("port", "70000", "CHURN_PORT=70000: a port is 0 to 65535"),
        ("json_logs", "maybe", "CHURN_JSON_LOGS='maybe' is not a valid bool"),
    ],
)
def test_an_unusable_value_is_refused_naming_the_variable(name, value, message):
    with pytest.raises(SettingsError) as refused:
        settings(**{name: value})
    assert message in str(refused.value)
