from __future__ import annotations

from churn.errors import DatasetExistsError, DatasetNotFoundError
from churn.model import Dataset, check_dataset_name
from churn.ports import Clock, DatasetStore
from churn.tables import DatasetLimits, profile_dataset


class RegisterDataset:
    """Check an uploaded CSV and keep it under a unique name for training."""

    def __init__(self, datasets: DatasetStore, clock: Clock, limits: DatasetLimits = DatasetLimits()) -> None:
        self._datasets = datasets
        self._clock = clock
        self._limits = limits

    def execute(self, name: str, content: bytes, target: str, id_column: str | None = None) -> Dataset:
        """DatasetExistsError for a taken name; InvalidDatasetError for a file that cannot be trained on."""
        check_dataset_name(name)
        try:
            self._datasets.get(name)
        except DatasetNotFoundError:
            pass
        else:
            raise DatasetExistsError(f"data set {name!r} already exists; choose another name")
        dataset = profile_dataset(name, content, target, id_column or None, self._clock.now(), self._limits)
        self._datasets.add(dataset, content)
        return dataset
