"""Fixtures the MLflow integration tests share with the registry contract suite: the two fitted
stand-in models, the MLflow store migrated once per session and a fresh store per test. Re-exported
here (pytest finds fixtures in a conftest) so that no test module imports fixtures by name."""

from tests.contract.test_model_registry import gentle, migrated_sqlite, mlflow_store, strict

__all__ = ["gentle", "migrated_sqlite", "mlflow_store", "strict"]
