"""Data sets: uploaded files registered for training."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping

from churn.columns import Reading, TableFacts
from churn.errors import InvalidDatasetError, InvalidRequestError
from churn.profiles import DatasetProfile, profile_table

DATASET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_dataset_name(name: str) -> str:
    if not isinstance(name, str) or not DATASET_NAME.match(name):
        raise InvalidRequestError(
            f"invalid data set name {name!r}: 1-64 characters of a-z, 0-9, '_' or '-', starting with a letter or digit"
        )
    return name


@dataclass(frozen=True, slots=True)
class Dataset:
    """An uploaded CSV registered for training. The content itself lives in the DatasetStore."""

    name: str
    rows: int
    columns: tuple[str, ...]
    target: str
    positive_label: str
    positive_rate: float
    content_hash: str
    created_at: datetime
    id_column: str | None = None
    reading: Reading | None = None
    profile: DatasetProfile | None = None
    """How the file was read and what each column means (None for data sets stored before profiles)."""

    def __post_init__(self) -> None:
        check_dataset_name(self.name)

    @property
    def feature_columns(self) -> tuple[str, ...]:
        if self.profile is not None:
            return self.profile.features
        return tuple(c for c in self.columns if c not in (self.target, self.id_column))


@dataclass(frozen=True, slots=True)
class DatasetLimits:
    max_rows: int = 1_000_000
    max_columns: int = 500


def describe_dataset(
    name: str,
    content: bytes,
    facts: TableFacts,
    target: str,
    id_column: str | None,
    now: datetime,
    limits: DatasetLimits = DatasetLimits(),
    column_types: Mapping[str, str] | None = None,
    positive_label: str | None = None,
) -> Dataset:
    """A data set out of a read file: InvalidDatasetError says what to fix. Trainable means: within
    the limits, the target among the columns with two values, the churn one known (a churn word or
    `positive_label`), at least MIN_ROWS_PER_CLASS rows of each, and at least one feature column."""
    check_dataset_name(name)
    if len(facts.columns) > limits.max_columns:
        raise InvalidDatasetError(f"too many columns ({len(facts.columns)}); the limit is {limits.max_columns}")
    if facts.rows > limits.max_rows:
        raise InvalidDatasetError(f"too many rows ({facts.rows}); the limit is {limits.max_rows}")
    profile, choice = profile_table(facts, target, id_column, column_types, positive_label)
    return Dataset(
        name=name,
        rows=facts.rows,
        columns=facts.names,
        target=target,
        positive_label=choice.positive_label,
        positive_rate=choice.positive_rate,
        content_hash=facts.content_hash or hashlib.sha256(content).hexdigest(),
        created_at=now,
        id_column=id_column,
        reading=facts.reading,
        profile=profile,
    )
