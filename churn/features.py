"""The input columns of a model version: kinds, the schema a request is checked against, and how a
checked value becomes what the model scores."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from churn import columns as _columns
from churn.errors import FeatureProblem, InvalidFeaturesError

FeatureValue = float | str | None
Features = Mapping[str, Any]


class FeatureKind(StrEnum):
    NUMBER = "number"
    CATEGORY = "category"
    BOOLEAN = "boolean"
    DATE = "date"

    @property
    def encoded_as_number(self) -> bool:
        """The model receives a float for it (booleans as 0/1, dates as their age in days)."""
        return self is not FeatureKind.CATEGORY


_NUMBER, _CATEGORY = FeatureKind.NUMBER, FeatureKind.CATEGORY  # read per feature per request: no enum lookups


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One input column of a model: its kind, the categories seen in training, an example value.
    A boolean lists its (false, true) values as written in the file in `categories`; a date has the
    file's `date_format` and the `reference` moment its age in days is measured at."""

    name: str
    kind: FeatureKind
    example: FeatureValue = None
    categories: tuple[str, ...] = ()
    date_format: str | None = None
    reference: str | None = None

    def problem_with(self, value: Any) -> str | None:
        """Why `value` is not acceptable for this feature, or None. Null means 'unknown' and is imputed."""
        if value is None:
            return None
        kind = self.kind
        if kind is _NUMBER:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"expected a number, got {_json_type(value)}"
            if not math.isfinite(value):
                return "expected a finite number"
            return None
        if kind is _CATEGORY:
            return None if isinstance(value, str) else f"expected a string (one of the categories), got {_json_type(value)}"
        if self.kind is FeatureKind.BOOLEAN:
            return None if _columns.boolean_value(value, self.categories) is not None else (
                f"expected true or false (or {' / '.join(repr(c) for c in reversed(self.categories))}), got {_json_type(value)}"
            )
        if self.kind is FeatureKind.DATE:
            if isinstance(value, str) and _columns.parse_date(value, self.date_format or "%Y-%m-%d") is not None:
                return None
            return f"expected a date as a string like {self.example!r}, got {_json_type(value)}"
        if not isinstance(value, str):
            return f"expected a string (one of the categories), got {_json_type(value)}"
        return None

    def clean(self, value: Any) -> Any:
        """A value `problem_with` accepted, as stored: booleans as true/false, dates in ISO form, text NFC."""
        if value is None:
            return None
        if self.kind is FeatureKind.BOOLEAN:
            return _columns.boolean_value(value, self.categories)
        if self.kind is FeatureKind.DATE:
            return _columns.parse_date(value, self.date_format or "%Y-%m-%d").isoformat()  # type: ignore[union-attr]
        return _columns.nfc(value) if isinstance(value, str) else value

    def encode(self, value: Any) -> Any:
        """A cleaned value as the model takes it: booleans 0/1, dates their age in days at `reference`."""
        if value is None:
            return None
        if self.kind is FeatureKind.BOOLEAN:
            return 1.0 if value else 0.0
        if self.kind is FeatureKind.DATE:
            return _columns.days_before(datetime.fromisoformat(self.reference or value), datetime.fromisoformat(value))
        return value

    def to_dict(self) -> dict[str, Any]:
        data = {"name": self.name, "kind": self.kind.value, "example": self.example, "categories": list(self.categories)}
        if self.kind is FeatureKind.DATE:
            data.update(date_format=self.date_format, reference=self.reference)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSpec":
        return cls(
            data["name"], FeatureKind(data["kind"]), data.get("example"), tuple(data.get("categories") or ()),
            data.get("date_format"), data.get("reference"),
        )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The features a model expects, in training order. Checks a request and builds an example body."""

    features: tuple[FeatureSpec, ...]
    _known: frozenset[str] = field(init=False, repr=False, compare=False)
    _derived: tuple[FeatureSpec, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.features:
            raise ValueError("a schema needs at least one feature")
        object.__setattr__(self, "_known", frozenset(f.name for f in self.features))  # once, not per request
        derived = tuple(f for f in self.features if f.kind in (FeatureKind.BOOLEAN, FeatureKind.DATE))
        object.__setattr__(self, "_derived", derived)

    def encode(self, clean: Mapping[str, Any]) -> Mapping[str, Any]:
        """What `check` returned, as the model scores it (booleans and dates become numbers); the
        same mapping when the schema has neither."""
        if not self._derived:
            return clean
        encoded = dict(clean)
        for spec in self._derived:
            encoded[spec.name] = spec.encode(clean.get(spec.name))
        return encoded

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def example(self) -> dict[str, FeatureValue]:
        return {f.name: f.example for f in self.features}

    def check(self, values: Any) -> dict[str, FeatureValue]:
        """Return the features in schema order (ints as floats); InvalidFeaturesError listing every problem.

        Never echoes submitted values: problems name the feature and what is wrong.
        """
        if not isinstance(values, Mapping):
            raise InvalidFeaturesError([FeatureProblem("features", "expected an object of feature name to value")], self.example())
        problems: list[FeatureProblem] = []
        clean: dict[str, FeatureValue] = {}
        for spec in self.features:
            if spec.name not in values:
                problems.append(FeatureProblem(spec.name, "missing"))
                continue
            value = values[spec.name]
            problem = spec.problem_with(value)
            if problem:
                problems.append(FeatureProblem(spec.name, problem))
            elif spec.kind is _NUMBER and value is not None:
                clean[spec.name] = float(value)
            elif spec.kind is _CATEGORY and value.__class__ is str and value.isascii():
                clean[spec.name] = value  # ASCII is already NFC: the common case costs nothing more
            else:
                clean[spec.name] = spec.clean(value)
        for name in values:
            if name not in self._known:
                problems.append(FeatureProblem(str(name), "unknown feature for this model"))
        if problems:
            raise InvalidFeaturesError(problems, self.example())
        return clean

    def pick(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The schema's features out of a wider record (a stored customer); absent ones stay absent."""
        return {name: record[name] for name in self.names if name in record}

    def to_dict(self) -> dict[str, Any]:
        return {"features": [f.to_dict() for f in self.features]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FeatureSchema":
        return cls(tuple(FeatureSpec.from_dict(f) for f in data["features"]))
