from __future__ import annotations

from churn.datasets import Dataset
from churn.ports import DatasetStore


class ListDatasets:
    def __init__(self, datasets: DatasetStore) -> None:
        self._datasets = datasets

    def execute(self) -> list[Dataset]:
        """Every registered data set, oldest first."""
        return self._datasets.list()
