"""Describe a CSV as an upload would, for tests that need a Dataset without the API."""

from __future__ import annotations

from datetime import datetime

from adapters.pandas_reader import PandasTableReader
from churn.columns import ReadOptions
from churn.datasets import Dataset
from churn.datasets import DatasetLimits, describe_dataset


def profile_dataset(
    name: str, content: bytes, target: str, id_column: str | None, now: datetime, limits: DatasetLimits = DatasetLimits(), **options
) -> Dataset:
    facts = PandasTableReader().read(content, ReadOptions(), target)
    return describe_dataset(name, content, facts, target, id_column, now, limits, **options)
