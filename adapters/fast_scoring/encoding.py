"""The fitted ColumnTransformer compiled into plain lookups: imputation, scaling and one-hot
encoding (infrequent categories grouped as scikit-learn groups them) straight from a feature dict,
with the same float64 arithmetic as scikit-learn."""

from __future__ import annotations

from array import array
from operator import itemgetter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


class NotCompilable(Exception):
    """The pipeline has a shape the fast path does not reproduce; scikit-learn serves it."""


@dataclass(frozen=True, slots=True)
class NumericSlot:
    """Output column `position` = ((value, or `fill` when None) - mean) / scale."""

    name: str
    position: int
    fill: float
    mean: float
    scale: float


@dataclass(frozen=True, slots=True)
class CategorySlot:
    """`positions` maps each learnt category, and None (imputed as the fill value), to its one-hot
    column: its own, or the feature's infrequent column when scikit-learn grouped it there.
    `unknown` is where a category never seen in training goes: the infrequent column under
    handle_unknown="infrequent_if_exist", else None (every column of the feature stays 0)."""

    name: str
    positions: Mapping[str | None, int]
    unknown: int | None = None


class RowEncoder:
    """Reproduces `ColumnTransformer.transform` for rows of checked features (float / str / None)."""

    def __init__(self, numeric: Sequence[NumericSlot], categorical: Sequence[CategorySlot], width: int) -> None:
        self.numeric = tuple(numeric)
        self.categorical = tuple(categorical)
        self.width = width
        self._zeros = [0.0] * width
        self._num = tuple((s.name, s.position, s.fill, s.mean, s.scale) for s in self.numeric)
        self._cat: tuple[tuple[str, Mapping[str | None, int | None], int | None], ...] = tuple((s.name, s.positions, s.unknown) for s in self.categorical)
        self._cat_matrix = tuple((s.name, s.positions, width if s.unknown is None else s.unknown) for s in self.categorical)
        self._num_positions = np.array([s.position for s in self.numeric], dtype=np.intp)
        self._num_getter = _getter([s.name for s in self.numeric])
        self._fill = np.array([s.fill for s in self.numeric], dtype=np.float64)
        self._mean = np.array([s.mean for s in self.numeric], dtype=np.float64)
        self._scale = np.array([s.scale for s in self.numeric], dtype=np.float64)

    @classmethod
    def compile(cls, transformer: Any) -> "RowEncoder":
        """NotCompilable unless every part is SimpleImputer + StandardScaler or SimpleImputer + OneHotEncoder."""
        if not isinstance(transformer, ColumnTransformer) or not hasattr(transformer, "transformers_"):
            raise NotCompilable("the first step is not a fitted ColumnTransformer")
        if getattr(transformer, "sparse_output_", False):
            raise NotCompilable("the ColumnTransformer produces a sparse matrix")
        numeric: list[NumericSlot] = []
        categorical: list[CategorySlot] = []
        position = 0
        for _, part, columns in transformer.transformers_:
            if isinstance(part, str) and part == "drop":
                continue
            if not isinstance(part, Pipeline) or len(part.steps) != 2 or not isinstance(part.steps[0][1], SimpleImputer):
                raise NotCompilable(f"unsupported transformer {part!r}")
            imputer, last = part.steps[0][1], part.steps[1][1]
            fills = list(imputer.statistics_)
            if len(fills) != len(columns) or getattr(last, "n_features_in_", len(columns)) != len(columns):
                raise NotCompilable("the imputer dropped an empty column")  # its statistics_ keep every column; the next step sees fewer
            if isinstance(last, StandardScaler):
                means, scales = _per_column(last.mean_, 0.0, len(columns)), _per_column(last.scale_, 1.0, len(columns))
                for column, fill, mean, scale in zip(columns, fills, means, scales, strict=True):
                    numeric.append(NumericSlot(column, position, float(fill), mean, scale))
                    position += 1
            elif isinstance(last, OneHotEncoder):
                slots, position = _one_hot_slots(last, columns, fills, position)
                categorical.extend(slots)
            else:
                raise NotCompilable(f"unsupported transformer step {last!r}")
        return cls(numeric, categorical, position)

    def row(self, features: Mapping[str, Any]) -> list[float]:
        x = self._zeros[:]
        for name, position, fill, mean, scale in self._num:
            value = features[name]
            x[position] = ((fill if value is None else value) - mean) / scale
        for name, positions, unknown in self._cat:
            hot = positions.get(features[name], unknown)
            if hot is not None:
                x[hot] = 1.0
        return x

    def row32(self, features: Mapping[str, Any]) -> list[float]:
        """`row` rounded through float32, as scikit-learn's trees see their input."""
        return array("f", self.row(features)).tolist()

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        n = len(rows)
        x = np.zeros((n, self.width + 1), dtype=np.float64)
        if self._num:
            values = np.array([self._num_getter(row) for row in rows], dtype=np.float64).reshape(n, len(self._num))
            values = np.where(np.isnan(values), self._fill, values)
            values -= self._mean
            values /= self._scale
            x[:, self._num_positions] = values
        if self._cat:
            lookups = self._cat_matrix  # unknown categories without a column of their own land in the scratch column `width`
            flat = [positions.get(row[name], unknown) for row in rows for name, positions, unknown in lookups]
            x[np.arange(n)[:, None], np.fromiter(flat, dtype=np.intp, count=len(flat)).reshape(n, len(lookups))] = 1.0
        return x[:, : self.width]

    def matrix_of_columns(self, names: Sequence[str], columns: Sequence[Sequence[Any]], n: int) -> np.ndarray:
        """`matrix` of the rows whose values are given a feature at a time (`columns[i]` holds
        feature `names[i]`), without the rows: the same numbers."""
        at = {name: i for i, name in enumerate(names)}
        x = np.zeros((n, self.width + 1), dtype=np.float64)
        if self._num:
            values = np.array([columns[at[s.name]] for s in self.numeric], dtype=np.float64).reshape(len(self._num), n).T
            values = np.where(np.isnan(values), self._fill, values)
            values -= self._mean
            values /= self._scale
            x[:, self._num_positions] = values
        rows = np.arange(n)
        for name, positions, unknown in self._cat_matrix:  # unknown categories without a column land in the scratch column
            get = positions.get
            x[rows, np.fromiter([get(v, unknown) for v in columns[at[name]]], dtype=np.intp, count=n)] = 1.0
        return x[:, : self.width]


def _getter(names: Sequence[str]) -> Any:
    """row → tuple of the named values, also for a single name."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)


def _per_column(values: Any, default: float, n: int) -> list[float]:
    if values is None:
        return [default] * n
    return [float(v) for v in values]


def _one_hot_slots(encoder: OneHotEncoder, columns: Sequence[str], fills: Sequence[Any], start: int) -> tuple[list[CategorySlot], int]:
    """One slot per encoded feature, and the position after the last, laid out as scikit-learn lays
    out its output: per feature, the frequent categories in `categories_` order, then one infrequent
    column when some were grouped. NotCompilable if that width is not the encoder's own."""
    _check_plain_one_hot(encoder)
    infrequent = getattr(encoder, "infrequent_categories_", None) or [None] * len(encoder.categories_)
    slots: list[CategorySlot] = []
    position = start
    for column, fill, categories, grouped in zip(columns, fills, encoder.categories_, infrequent, strict=True):
        rare = set() if grouped is None else {str(c) for c in grouped}
        frequent = [str(c) for c in categories if str(c) not in rare]
        positions: dict[str | None, int] = {c: position + i for i, c in enumerate(frequent)}
        bucket = position + len(frequent) if rare else None
        if bucket is not None:
            positions.update(dict.fromkeys(rare, bucket))
        if str(fill) in positions:
            positions[None] = positions[str(fill)]
        unknown = bucket if encoder.handle_unknown == "infrequent_if_exist" else None
        slots.append(CategorySlot(column, positions, unknown))
        position += len(frequent) + (bucket is not None)
    if position - start != len(encoder.get_feature_names_out()):
        raise NotCompilable("the one-hot encoder's output is not laid out as expected")
    return slots, position


def _check_plain_one_hot(encoder: OneHotEncoder) -> None:
    """Grouping infrequent categories is reproduced; dropping a column, or erroring or warning on
    unknown categories, is not."""
    if encoder.drop is not None or encoder.handle_unknown not in ("ignore", "infrequent_if_exist"):
        raise NotCompilable("one-hot encoder drops columns or rejects unknown categories")
