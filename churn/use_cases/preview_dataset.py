from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from churn.columns import ColumnKind, ReadOptions, TableFacts
from churn.errors import InvalidDatasetError
from churn.datasets import Dataset
from churn.ports import Clock, TableReader
from churn.datasets import DatasetLimits, describe_dataset

TARGET_NAMES = ("churn", "churned", "exited", "left", "target", "label", "attrition", "cancelled", "canceled")


@dataclass(frozen=True, slots=True)
class DatasetPreview:
    """What an upload would become, before anything is stored: the file as read, the target and id
    (given or guessed), and either the data set with its profile that RegisterDataset would keep or
    the reason it would refuse the file."""

    facts: TableFacts
    target: str
    id_column: str | None
    dataset: Dataset | None
    problem: str | None
    column_types: Mapping[str, str] = field(default_factory=dict)
    positive_label: str | None = None


class PreviewDataset:
    """Read an uploaded file and describe it exactly as RegisterDataset would, storing nothing.
    InvalidDatasetError only when the file cannot be read at all (not a table, unknown encoding)."""

    def __init__(self, reader: TableReader, clock: Clock, limits: DatasetLimits = DatasetLimits()) -> None:
        self._reader = reader
        self._clock = clock
        self._limits = limits

    def execute(
        self,
        name: str,
        content: bytes,
        target: str | None = None,
        id_column: str | None = None,
        column_types: Mapping[str, str] | None = None,
        positive_label: str | None = None,
    ) -> DatasetPreview:
        """`column_types` and `positive_label` as RegisterDataset takes them (a choice about another
        target's values is dropped when the target changes)."""
        options = ReadOptions()
        facts = self._reader.read(content, options, target)
        chosen = target if target in facts.names else guess_target(facts)
        if chosen != target:
            facts = self._reader.read(content, options, chosen)  # again with the target: each column's separation of it
        id_column = id_column if id_column in facts.names and id_column != chosen else None
        column_types = {k: v for k, v in (column_types or {}).items() if k in facts.names and k not in (chosen, id_column)}
        target_values = {value for value, _ in next(c.top for c in facts.columns if c.name == chosen)}
        positive_label = positive_label if positive_label in target_values else None
        kinds = column_types or None
        dataset, problem = None, None
        try:
            dataset = describe_dataset(
                name or "preview", content, facts, chosen, id_column, self._clock.now(), self._limits, kinds, positive_label
            )
        except InvalidDatasetError as exc:
            problem = exc.message
        if dataset is not None and id_column is None and dataset.profile is not None:
            ids = [c.name for c in dataset.profile.columns if c.kind is ColumnKind.IDENTIFIER]
            if ids:  # the column the profile took for an identifier: the customer id, most likely
                id_column = ids[0]
                dataset = describe_dataset(
                    name or "preview", content, facts, chosen, id_column, self._clock.now(), self._limits, kinds, positive_label
                )
        return DatasetPreview(facts, chosen, id_column, dataset, problem, column_types, positive_label)


def guess_target(facts: TableFacts) -> str:
    """A column named like a churn flag, else the last two-valued column, else the last column."""
    for column in facts.columns:
        if column.name.strip().lower() in TARGET_NAMES:
            return column.name
    two_valued = [c.name for c in facts.columns if c.distinct == 2]
    return two_valued[-1] if two_valued else facts.names[-1]
