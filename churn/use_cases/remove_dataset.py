from __future__ import annotations

from churn.ports import DatasetStore


class RemoveDataset:
    """Delete a data set and its content. Models trained on it keep their metadata (data set name
    and content hash); a training queued on it fails with 'not found'."""

    def __init__(self, datasets: DatasetStore) -> None:
        self._datasets = datasets

    def execute(self, name: str) -> None:
        """DatasetNotFoundError when unknown."""
        self._datasets.remove(name)
