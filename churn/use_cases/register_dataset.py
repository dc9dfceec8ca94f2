from __future__ import annotations

from typing import Mapping

from churn.columns import ReadOptions
from churn.errors import DatasetExistsError, DatasetNotFoundError
from churn.datasets import Dataset, check_dataset_name
from churn.ports import Clock, DatasetStore, TableReader
from churn.datasets import DatasetLimits, describe_dataset


class RegisterDataset:
    """Read an uploaded file, decide what each column means, refuse what could not be trained on,
    and keep it under a unique name with its profile."""

    def __init__(self, datasets: DatasetStore, reader: TableReader, clock: Clock, limits: DatasetLimits = DatasetLimits()) -> None:
        self._datasets = datasets
        self._reader = reader
        self._clock = clock
        self._limits = limits

    def execute(
        self,
        name: str,
        content: bytes,
        target: str,
        id_column: str | None = None,
        options: ReadOptions = ReadOptions(),
        column_types: Mapping[str, str] | None = None,
        positive_label: str | None = None,
    ) -> Dataset:
        """DatasetExistsError for a taken name; InvalidDatasetError for a file that cannot be trained
        on (nothing is stored then)."""
        check_dataset_name(name)
        try:
            self._datasets.get(name)
        except DatasetNotFoundError:
            pass
        else:
            raise DatasetExistsError(f"data set {name!r} already exists; choose another name or remove it first")
        with self._datasets.staging(content):  # the store may write the bytes while they are read
            facts = self._reader.read(content, options, target)
            dataset = describe_dataset(
                name, content, facts, target, id_column or None, self._clock.now(), self._limits, column_types, positive_label
            )
            self._datasets.add(dataset, content)
        return dataset
