"""What each column of an uploaded data set means for a churn model, decided once at upload from
the reader's facts, and shown to the user: the profile. Everything that would make a training fail
is refused here, with the column and what to do."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from churn.columns import (
    CHURN_WORDS,
    ColumnFacts,
    ColumnKind,
    NumberFormat,
    TableFacts,
    boolean_pair,
    choose_date_format,
    choose_number_format,
    nfc_key,
)
from churn.errors import InvalidDatasetError

MIN_ROWS_PER_CLASS = 2
"""Rows of each target value needed for a stratified hold-out with both values on both sides."""
MIN_ROWS_FOR_TEXT_ID = 20
MIN_ROWS_FOR_NUMBER_ID = 50
LEAK_SEPARATION = 0.99
"""A column that alone reaches this ROC AUC / balanced accuracy on the target is flagged as a likely leak."""
MAX_CATEGORIES_PER_COLUMN = 50
MAX_DISTINCT_CATEGORIES = 50_000
MAX_ENCODED_COLUMNS = 5000
TOP_VALUES = 5


class Role:
    FEATURE = "feature"
    TARGET = "target"
    ID = "id"
    LEFT_OUT = "left out"


@dataclass(frozen=True, slots=True)
class ColumnProfile:
    """One column as the service understood it. `minimum`/`maximum` are numbers, or ISO dates for a
    date column; `top` the most frequent values (categories and booleans); `reference` (dates) is the
    latest date in the file: a date feature is its age in days at that moment."""

    name: str
    kind: ColumnKind
    role: str
    missing: float
    distinct: int
    minimum: float | str | None = None
    maximum: float | str | None = None
    top: tuple[tuple[str, int], ...] = ()
    number_format: NumberFormat | None = None
    date_format: str | None = None
    boolean_values: tuple[str, str] | None = None
    """(false value, true value) as written in the file."""
    reference: str | None = None
    leak: bool = False
    warnings: tuple[str, ...] = ()

    @property
    def is_feature(self) -> bool:
        return self.role == Role.FEATURE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "role": self.role,
            "missing": self.missing,
            "distinct": self.distinct,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "top": [{"value": v, "count": c} for v, c in self.top],
            "number_format": self.number_format.value if self.number_format else None,
            "date_format": self.date_format,
            "boolean_values": list(self.boolean_values) if self.boolean_values else None,
            "reference": self.reference,
            "leak": self.leak,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ColumnProfile":
        return cls(
            name=data["name"],
            kind=ColumnKind(data["kind"]),
            role=data["role"],
            missing=data["missing"],
            distinct=data["distinct"],
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            top=tuple((t["value"], t["count"]) for t in data.get("top") or ()),
            number_format=NumberFormat(data["number_format"]) if data.get("number_format") else None,
            date_format=data.get("date_format"),
            boolean_values=(data["boolean_values"][0], data["boolean_values"][1]) if data.get("boolean_values") else None,
            reference=data.get("reference"),
            leak=bool(data.get("leak")),
            warnings=tuple(data.get("warnings") or ()),
        )


@dataclass(frozen=True, slots=True)
class DatasetProfile:
    columns: tuple[ColumnProfile, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.is_feature)

    def column(self, name: str) -> ColumnProfile:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def choose(self, features: tuple[str, ...] | None, exclude: tuple[str, ...]) -> tuple[str, ...]:
        """The columns a model is trained on: `features` (else every feature column) minus `exclude`.
        InvalidDatasetError naming a column that is not a feature of this data set."""
        known = {c.name: c for c in self.columns}
        for name in (*(features or ()), *exclude):
            if name not in known:
                raise InvalidDatasetError(f"column {name!r} is not in the data set; its columns: {', '.join(known)}")
        for name in features or ():
            column = known[name]
            if not column.is_feature:
                raise InvalidDatasetError(
                    f"column {name!r} is the {column.role if column.role != Role.LEFT_OUT else 'a left-out (' + column.kind.value + ')'} "
                    "column and cannot be a feature; upload the data set again with column_types to change its kind"
                )
        chosen = tuple(n for n in (features or self.features) if n not in set(exclude))
        if not chosen:
            raise InvalidDatasetError("no feature column is left after 'features' and 'exclude'; keep at least one")
        return chosen

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns], "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "DatasetProfile | None":
        if not data:
            return None
        return cls(tuple(ColumnProfile.from_dict(c) for c in data["columns"]), tuple(data.get("warnings") or ()))


@dataclass(frozen=True, slots=True)
class TargetChoice:
    positive_label: str
    positive_rate: float


def _fmt(value: float) -> float:
    return float(round(value, 6))


BLANK_COLUMN_NOTE = "blank in every row: left out"


def _refuse_blank_columns(facts: TableFacts, declared: Mapping[str, ColumnKind]) -> None:
    """InvalidDatasetError naming the columns blank in every row that column_types does not declare:
    an empty column is most often a broken export, so it is said at upload rather than dropped."""
    blank = [c.name for c in facts.columns if c.present == 0 and c.name not in declared]
    if not blank:
        return
    names = ", ".join(repr(n) for n in blank)
    which = f"column {names} is" if len(blank) == 1 else f"columns {names} are"
    them = "it" if len(blank) == 1 else "them"
    example = json.dumps(dict.fromkeys(blank, ColumnKind.IGNORED.value), ensure_ascii=False)
    raise InvalidDatasetError(
        f"{which} blank in every row; remove {them} from the file, or declare {them} with column_types {example} "
        f"to upload the file unchanged ({them} will be left out)"
    )


def _infer_kind(facts: ColumnFacts, rows: int, decimal_hint: str | None) -> tuple[ColumnKind, str | None]:
    """The kind a column gets without an override, and the reason it is left out (if it is)."""
    if facts.present == 0:
        return ColumnKind.IGNORED, "blank in every row: left out"
    if facts.distinct == 1:
        return ColumnKind.IGNORED, "the same value in every row: left out"
    if boolean_pair(tuple(v for v, _ in facts.top)) is not None and facts.distinct == 2:
        return ColumnKind.BOOLEAN, None
    number = choose_number_format(facts, decimal_hint)
    all_distinct = facts.distinct == facts.present == rows
    if number is not None:
        if number.integral and all_distinct and rows >= (MIN_ROWS_FOR_TEXT_ID if number.row_number else MIN_ROWS_FOR_NUMBER_ID):
            why = "a row number" if number.row_number else "a different whole number in every row"
            return ColumnKind.IDENTIFIER, f"{why}, like an identifier: left out (set column_types to use it)"
        return ColumnKind.NUMERIC, None
    if choose_date_format(facts) is not None:
        return ColumnKind.DATE, None
    if all_distinct and rows >= MIN_ROWS_FOR_TEXT_ID:
        return ColumnKind.IDENTIFIER, "a different value in every row, like an identifier: left out (set column_types to use it)"
    return ColumnKind.CATEGORICAL, None


def is_identifier(facts: ColumnFacts, rows: int, decimal_hint: str | None) -> bool:
    """Whether a column would be an identifier (kept as written, e.g. 00123, when customers are loaded)."""
    return _infer_kind(facts, rows, decimal_hint)[0] is ColumnKind.IDENTIFIER


def _forced(facts: ColumnFacts, kind: ColumnKind, decimal_hint: str | None) -> None:
    """InvalidDatasetError when a column_types override cannot hold for this column."""
    if kind is ColumnKind.NUMERIC and choose_number_format(facts, decimal_hint) is None:
        raise InvalidDatasetError(
            f"column_types says {facts.name!r} is numeric, but some of its cells are not numbers in one convention "
            "(1234.56, 1,234.56 or 1.234,56); fix those cells or declare it categorical"
        )
    if kind is ColumnKind.DATE and choose_date_format(facts) is None:
        raise InvalidDatasetError(
            f"column_types says {facts.name!r} is a date, but not every cell is a date in one of the recognised forms "
            "(2024-07-01, 2024-07-01 10:30:00, 01/07/2024, 07/01/2024, 01.07.2024); fix those cells or declare it categorical"
        )
    if kind is ColumnKind.BOOLEAN and facts.distinct > 2:
        raise InvalidDatasetError(
            f"column_types says {facts.name!r} is boolean, but it has {facts.distinct} distinct values; a boolean has two"
        )
    if kind.is_feature and facts.present == 0:
        raise InvalidDatasetError(f"column {facts.name!r} is blank in every row and cannot be a feature; drop it or fill it in")


def _describe(facts: ColumnFacts, kind: ColumnKind, role: str, rows: int, decimal_hint: str | None, note: str | None) -> ColumnProfile:
    warnings: list[str] = [note] if note else []
    missing = _fmt((rows - facts.present) / rows) if rows else 0.0
    base: dict[str, Any] = {"name": facts.name, "kind": kind, "role": role, "missing": missing, "distinct": facts.distinct}
    if kind is ColumnKind.NUMERIC:
        number = choose_number_format(facts, decimal_hint)
        if number is not None:
            base.update(minimum=number.minimum, maximum=number.maximum, number_format=number.format)
            others = [c for c in facts.number_candidates() if c.format is not number.format and c.total != number.total]
            if others:
                warnings.append(
                    f"its cells read as numbers both as {number.format.value} and as {others[0].format.value}; "
                    f"read as {number.format.value} (set decimal to change)"
                )
    elif kind is ColumnKind.DATE:
        date = choose_date_format(facts)
        if date is not None:
            base.update(
                minimum=date.earliest.isoformat(), maximum=date.latest.isoformat(), date_format=date.format,
                reference=date.latest.isoformat(),
            )
            if date.format.startswith("%d") and any(d.format.startswith("%m") for d in facts.date_candidates()):
                warnings.append("every day is 12 or less, so the dates read day-first and month-first; read day-first (dd/mm)")
    elif kind is ColumnKind.BOOLEAN:
        values = tuple(v for v, _ in facts.top)
        pair = boolean_pair(values) or (tuple(sorted(values)) + ("",) * (2 - len(values)))[:2]
        base.update(boolean_values=pair, top=facts.top[:TOP_VALUES])
    elif kind in (ColumnKind.CATEGORICAL, ColumnKind.IGNORED) and facts.distinct <= 1000:
        base.update(top=facts.top[:TOP_VALUES])
    if role == Role.FEATURE and facts.separation is not None and facts.separation >= LEAK_SEPARATION:
        base["leak"] = True
        warnings.append(
            f"alone it separates the target almost perfectly ({facts.separation:.3f}): likely a leak (known only after "
            "the customer left?); exclude it on /train unless it is known before"
        )
    if role == Role.FEATURE and kind is ColumnKind.CATEGORICAL and facts.distinct > MAX_CATEGORIES_PER_COLUMN:
        warnings.append(
            f"{facts.distinct} categories: the {MAX_CATEGORIES_PER_COLUMN - 1} most frequent keep their own column, the rest share one"
        )
    return ColumnProfile(**base, warnings=tuple(warnings))


def choose_target(facts: ColumnFacts, rows: int, positive_label: str | None) -> TargetChoice:
    """The churn value of the target. InvalidDatasetError when the target is not binary, blank
    somewhere, has too few rows of a value, or when neither value is a known churn word and
    `positive_label` does not say."""
    name = facts.name
    if facts.present < rows:
        where = f" (first on data record {facts.first_blank_record})" if facts.first_blank_record else ""
        raise InvalidDatasetError(f"the target {name!r} is blank on {rows - facts.present} row(s){where}; fill it in or drop those rows")
    if facts.distinct != 2:
        raise InvalidDatasetError(
            f"the target {name!r} must have exactly two values (churned or not); it has {facts.distinct}"
        )
    (a, count_a), (b, count_b) = facts.top[:2]
    if positive_label is not None and positive_label.strip():
        wanted = nfc_key(positive_label)
        matches = [v for v in (a, b) if nfc_key(v) == wanted]
        if not matches:
            raise InvalidDatasetError(
                f"positive_label {positive_label.strip()!r} is not a value of the target {name!r}; its values are {a!r} and {b!r}"
            )
        positive = matches[0]
    else:
        known = [v for v in (a, b) if nfc_key(v) in CHURN_WORDS]
        if len(known) != 1:
            neither = "neither" if not known else "both"
            raise InvalidDatasetError(
                f"the target {name!r} has the values {a!r} and {b!r}, and {neither} is a known churn word; "
                "set positive_label to the value that means the customer churned"
            )
        positive = known[0]
    counts = {a: count_a, b: count_b}
    for value, count in counts.items():
        if count < MIN_ROWS_PER_CLASS:
            raise InvalidDatasetError(
                f"the target {name!r} has only {count} row(s) of {value!r}; each value needs at least {MIN_ROWS_PER_CLASS} "
                "for a training set and a hold-out set"
            )
    return TargetChoice(positive, _fmt(counts[positive] / rows))


def profile_table(
    facts: TableFacts,
    target: str,
    id_column: str | None,
    column_types: Mapping[str, str] | None = None,
    positive_label: str | None = None,
) -> tuple[DatasetProfile, TargetChoice]:
    """Decide every column's kind (the overrides in `column_types` win) and check that a model can be
    trained: InvalidDatasetError naming the column and what to do otherwise."""
    names = facts.names
    if target not in names:
        raise InvalidDatasetError(f"target column {target!r} is not in the file; columns: {', '.join(names)}")
    if id_column is not None and id_column not in names:
        raise InvalidDatasetError(f"id column {id_column!r} is not in the file; columns: {', '.join(names)}")
    if id_column == target:
        raise InvalidDatasetError("the id column cannot be the target")
    overrides: dict[str, ColumnKind] = {}
    for declared, kind in (column_types or {}).items():
        if declared not in names:
            raise InvalidDatasetError(f"column_types names {declared!r}, which is not in the file; columns: {', '.join(names)}")
        try:
            overrides[declared] = ColumnKind(str(kind).strip().lower())
        except ValueError:
            raise InvalidDatasetError(
                f"column_types gives {declared!r} the kind {kind!r}; kinds are {', '.join(k.value for k in ColumnKind)}"
            ) from None
    if facts.rows == 0:
        raise InvalidDatasetError("the file has a header but no data rows")
    choice = choose_target(facts.column(target), facts.rows, positive_label)
    _refuse_blank_columns(facts, {**overrides, **({id_column: ColumnKind.IDENTIFIER} if id_column else {})})
    hint = facts.reading.decimal
    columns: list[ColumnProfile] = []
    for column in facts.columns:
        note = None
        if column.name == target:
            kind, role = _infer_kind(column, facts.rows, hint)[0], Role.TARGET
            kind = ColumnKind.BOOLEAN if kind is ColumnKind.BOOLEAN else ColumnKind.CATEGORICAL
        elif column.name == id_column:
            kind, role = ColumnKind.IDENTIFIER, Role.ID
        elif column.name in overrides:
            kind = overrides[column.name]
            _forced(column, kind, hint)
            role = Role.FEATURE if kind.is_feature else Role.LEFT_OUT
            note = BLANK_COLUMN_NOTE if column.present == 0 and kind is ColumnKind.IGNORED else None
        else:
            kind, note = _infer_kind(column, facts.rows, hint)
            role = Role.FEATURE if kind.is_feature else Role.LEFT_OUT
        columns.append(_describe(column, kind, role, facts.rows, hint, note))
    profile = DatasetProfile(tuple(columns), facts.notes)
    if not profile.features:
        left = ", ".join(f"{c.name} ({c.kind.value})" for c in columns if c.role == Role.LEFT_OUT) or "none"
        raise InvalidDatasetError(
            "no feature column is left besides the target and the id; left out: "
            f"{left}; set column_types to keep one"
        )
    _check_width(profile, facts)
    return profile, choice


def _check_width(profile: DatasetProfile, facts: TableFacts) -> None:
    text = [c for c in profile.columns if c.is_feature and c.kind is ColumnKind.CATEGORICAL]
    distinct = sum(c.distinct for c in text)
    width = sum(min(c.distinct, MAX_CATEGORIES_PER_COLUMN) for c in text)
    if distinct > MAX_DISTINCT_CATEGORIES:
        widest = max(text, key=lambda c: c.distinct).name
        raise InvalidDatasetError(
            f"the categorical columns have {distinct} distinct values in all (the most: {widest!r}); the limit is "
            f"{MAX_DISTINCT_CATEGORIES}: set column_types {json.dumps({widest: ColumnKind.IGNORED.value}, ensure_ascii=False)} "
            "or bucket it before uploading"
        )
    if width > MAX_ENCODED_COLUMNS:
        raise InvalidDatasetError(
            f"the categorical columns would be encoded into {width} columns; the limit is {MAX_ENCODED_COLUMNS}: "
            "set column_types to ignore some of them"
        )


def reference_moment(column: ColumnProfile) -> datetime:
    """The reference date of a date column (its latest date in the training file)."""
    if column.reference is None:
        raise ValueError(f"column {column.name!r} has no reference date")
    return datetime.fromisoformat(column.reference)
