"""Many records checked against a schema at once, a column at a time: what a scoring run does with a
batch of stored customers. The rules are FeatureSchema.check's, applied to each record's schema
features (FeatureSchema.pick); a kind's distinct values are checked and cleaned once per batch, which
is where a row at a time spent its time (boolean words, NFC, dates)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Mapping, Sequence

from churn.errors import FeatureProblem
from churn.features import FeatureKind, FeatureSchema, FeatureSpec

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class CheckedRecords:
    kept: list[int]
    """Indices of the records that passed, in order."""
    rows: list[dict[str, Any]]
    """Their features as FeatureSchema.check returns them."""
    encoded: list[Mapping[str, Any]]
    """The same, as the model takes them (FeatureSchema.encode)."""
    problems: list[tuple[int, FeatureProblem]]
    """(index, first problem in schema order) of every record refused."""


def check_records(schema: FeatureSchema, records: Sequence[Mapping[str, Any]]) -> CheckedRecords:
    """For each record, what `schema.check(schema.pick(record))` returns or the first problem it
    raises with; features outside the schema are ignored, as `pick` leaves them out."""
    n = len(records)
    first: list[FeatureProblem | None] = [None] * n
    clean_columns: list[Sequence[Any]] = []
    encoded_columns: list[Sequence[Any]] = []
    derived = False
    for spec, values in zip(schema.features, _columns(schema.names, records), strict=True):
        if spec.kind is FeatureKind.NUMBER:
            clean = _numbers(spec, values, first)
            encoded = clean
        else:
            clean, encoded = _memoised(spec, values, first)
            derived = derived or encoded is not clean
        clean_columns.append(clean)
        encoded_columns.append(encoded)
    names = schema.names
    kept = [i for i in range(n) if first[i] is None]
    all_rows = [dict(zip(names, values, strict=True)) for values in zip(*clean_columns, strict=True)]
    rows = [all_rows[i] for i in kept]
    if derived:
        every = [dict(zip(names, values, strict=True)) for values in zip(*encoded_columns, strict=True)]
        encoded_rows: list[Mapping[str, Any]] = [every[i] for i in kept]
    else:
        encoded_rows = list(rows)  # FeatureSchema.encode returns the mapping itself
    problems = [(i, p) for i, p in enumerate(first) if p is not None]
    return CheckedRecords(kept, rows, encoded_rows, problems)


def _columns(names: Sequence[str], records: Sequence[Mapping[str, Any]]) -> list[Sequence[Any]]:
    """The records' values a feature at a time, _ABSENT where a record lacks one: all of a record's
    values in one itemgetter call, when every record has every feature (the usual case)."""
    if len(names) > 1 and records:
        row_of = itemgetter(*names)
        try:
            return list(zip(*[row_of(record) for record in records], strict=True))
        except KeyError:
            pass
    return [[record.get(name, _ABSENT) for record in records] for name in names]


def _numbers(spec: FeatureSpec, values: Sequence[Any], first: list[FeatureProblem | None]) -> list[Any]:
    out: list[Any] = [None] * len(values)
    for i, value in enumerate(values):
        kind = value.__class__
        if kind is float and math.isfinite(value):
            out[i] = value
        elif kind is int:
            out[i] = float(value)
        elif value is None:
            continue
        elif first[i] is None:
            if value is _ABSENT:
                first[i] = FeatureProblem(spec.name, "missing")
            else:
                problem = spec.problem_with(value)
                if problem:
                    first[i] = FeatureProblem(spec.name, problem)
                else:
                    out[i] = float(value)  # an int or float subclass the checks accept
    return out


def _memoised(spec: FeatureSpec, values: Sequence[Any], first: list[FeatureProblem | None]) -> tuple[list[Any], list[Any]]:
    """Categories, booleans and dates: each distinct value checked, cleaned and encoded once."""
    encodes = spec.kind is not FeatureKind.CATEGORY
    seen: dict[tuple[type, Any], tuple[str | None, Any, Any]] = {}
    clean: list[Any] = [None] * len(values)
    encoded: list[Any] = [None] * len(values) if encodes else clean
    for i, value in enumerate(values):
        if value is _ABSENT:
            if first[i] is None:
                first[i] = FeatureProblem(spec.name, "missing")
            continue
        try:
            key = (value.__class__, value)
            verdict = seen.get(key)
        except TypeError:  # a list or an object: never valid, not hashable
            key, verdict = None, None
        if verdict is None:
            problem = spec.problem_with(value)
            if problem:
                verdict = (problem, None, None)
            else:
                cleaned = spec.clean(value)
                verdict = (None, cleaned, spec.encode(cleaned) if encodes else cleaned)
            if key is not None:
                seen[key] = verdict
        problem, cleaned, as_encoded = verdict
        if problem:
            if first[i] is None:
                first[i] = FeatureProblem(spec.name, problem)
            continue
        clean[i] = cleaned
        if encodes:
            encoded[i] = as_encoded
    return clean, encoded
