from __future__ import annotations

from churn.datasets import Dataset
from churn.ports import DatasetStore


class GetDataset:
    def __init__(self, datasets: DatasetStore) -> None:
        self._datasets = datasets

    def execute(self, name: str) -> Dataset:
        """The data set with its profile; DatasetNotFoundError when unknown."""
        return self._datasets.get(name)
