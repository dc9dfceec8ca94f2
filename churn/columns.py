"""What a column of an uploaded file is made of: the facts a reader measured (vectorised, in an
adapter), the kinds the domain gives columns, and the value rules shared by training and scoring
(boolean words, number conventions, date formats, Unicode normalisation)."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Mapping

from churn.errors import InvalidDatasetError


class ColumnKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATE = "date"
    IDENTIFIER = "identifier"
    IGNORED = "ignored"

    @property
    def is_feature(self) -> bool:
        return self in (ColumnKind.NUMERIC, ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN, ColumnKind.DATE)


DELIMITERS = (",", ";", "\t", "|")
DECIMALS = (".", ",")


def nfc(text: str) -> str:
    """Unicode NFC: the same category or id typed on a Mac (NFD) and on Windows (NFC) is one value."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def nfc_key(text: str) -> str:
    """The form used to compare words: stripped, NFC, case-folded."""
    return nfc(text.strip()).casefold()


# ---------------------------------------------------------------- reading options


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What the uploader said about the file; None means 'detect'."""

    delimiter: str | None = None
    encoding: str | None = None
    decimal: str | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None and self.delimiter not in DELIMITERS:
            raise InvalidDatasetError(
                f"delimiter {self.delimiter!r} is not supported; use one of ',', ';', '|' or a tab ('\\t')"
            )
        if self.decimal is not None and self.decimal not in DECIMALS:
            raise InvalidDatasetError(f"decimal {self.decimal!r} is not supported; use '.' or ','")
        if self.encoding is not None and (not self.encoding or len(self.encoding) > 40):
            raise InvalidDatasetError("encoding must name a character set, e.g. utf-8, cp1252, latin-1, utf-16")


    @classmethod
    def parse(cls, delimiter: str | None, encoding: str | None, decimal: str | None) -> "ReadOptions":
        """From form fields or CLI options: blank means 'detect'; a tab may be written tab, \\t or a real tab."""
        d = delimiter if delimiter in ("\t",) else (delimiter or "").strip()
        if d.lower() in ("tab", "\\t"):
            d = "\t"
        return cls(d or None, (encoding or "").strip() or None, (decimal or "").strip() or None)


def parse_column_types(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """column_types as JSON text ({"column": "kind"}) or a mapping; InvalidDatasetError when malformed."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return {}
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except ValueError:
            raise InvalidDatasetError(
                'column_types must be a JSON object such as {"signup": "date", "zip": "categorical"}'
            ) from None
    if not isinstance(text, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in text.items()):
        raise InvalidDatasetError('column_types must be a JSON object of column name to kind, e.g. {"zip": "categorical"}')
    return dict(text)


@dataclass(frozen=True, slots=True)
class Reading:
    """How a file was actually read (detected or given): kept with the data set so training reads it the same way."""

    encoding: str
    delimiter: str
    decimal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "delimiter": self.delimiter, "decimal": self.decimal}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "Reading":
        if not data:
            return cls("utf-8", ",")
        return cls(data["encoding"], data["delimiter"], data.get("decimal"))


# ---------------------------------------------------------------- numbers


class NumberFormat(StrEnum):
    """How a column writes its numbers. The reader tries each on a whole column; one that reads every
    non-blank cell is a candidate."""

    PLAIN = "plain"  # 1234.56, 1e3 (what pandas reads natively)
    DOT_DECIMAL = "1,234.56"  # thousands ',' optional, decimal '.'
    COMMA_DECIMAL = "1.234,56"  # thousands '.' optional, decimal ','

    @property
    def decimal(self) -> str:
        return "," if self is NumberFormat.COMMA_DECIMAL else "."

    @property
    def thousands(self) -> str:
        return {NumberFormat.PLAIN: "", NumberFormat.DOT_DECIMAL: ",", NumberFormat.COMMA_DECIMAL: "."}[self]


@dataclass(frozen=True, slots=True)
class NumberFacts:
    """A whole column read under one number format: how many cells it read, and what came out."""

    format: NumberFormat
    parsed: int
    minimum: float
    maximum: float
    total: float
    integral: bool
    row_number: bool
    """Integers rising by exactly 1 from row to row (RowNumber, an export's index)."""


# ---------------------------------------------------------------- dates

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
)
"""The date forms recognised, in order of preference: ISO first, then day-first before month-first
(a column that reads both ways, every day <= 12, is taken day-first and says so)."""


@dataclass(frozen=True, slots=True)
class DateFacts:
    format: str
    parsed: int
    earliest: datetime
    latest: datetime


def parse_date(text: str, date_format: str) -> datetime | None:
    """A cell or a request value under the column's format (ISO accepted too); None when it is not a date."""
    text = text.strip()
    try:
        return datetime.strptime(text, date_format)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=None) if moment.tzinfo is None else None


def days_before(reference: datetime, moment: datetime) -> float:
    """The feature a date becomes: its age in days at the reference date fixed at training (fractional for times)."""
    return (reference - moment).total_seconds() / 86400.0


# ---------------------------------------------------------------- booleans and the target

TRUE_WORDS = frozenset(
    {"yes", "y", "true", "t", "1", "1.0", "sim", "s", "sí", "si", "ja", "j", "oui", "o", "vrai", "verdadeiro", "verdadero", "wahr", "on"}
)
FALSE_WORDS = frozenset(
    {"no", "n", "false", "f", "0", "0.0", "não", "nao", "nein", "non", "faux", "falso", "off"}
)
CHURN_WORDS = frozenset(
    {
        "yes", "y", "true", "1", "1.0", "sim", "s", "sí", "si", "ja", "oui",
        "churn", "churned", "cancelled", "canceled", "cancelou", "cancelado", "cancelada",
        "exited", "left", "gekündigt", "resilié", "résilié", "baja",
    }
)
"""Target values that mean 'this customer churned', compared stripped and case-folded."""


def boolean_pair(values: tuple[str, ...]) -> tuple[str, str] | None:
    """(false value, true value) when two distinct cells are a known yes/no pair in one language family, else None."""
    if len(values) != 2:
        return None
    a, b = values
    ka, kb = nfc_key(a), nfc_key(b)
    if ka in TRUE_WORDS and kb in FALSE_WORDS:
        return b, a
    if kb in TRUE_WORDS and ka in FALSE_WORDS:
        return a, b
    return None


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What the reader measured about one column, over every row. `top` holds the most frequent
    values (NFC, stripped) with their counts, most frequent first; `numbers` / `dates` the formats
    that read at least a sample of the column; `separation` how well the column alone tells the two
    target values apart (ROC AUC or balanced accuracy, 0.5..1), None when not measured."""

    name: str
    present: int
    distinct: int
    top: tuple[tuple[str, int], ...] = ()
    numbers: tuple[NumberFacts, ...] = ()
    dates: tuple[DateFacts, ...] = ()
    separation: float | None = None
    first_blank_record: int | None = None

    def number_candidates(self) -> tuple[NumberFacts, ...]:
        return tuple(n for n in self.numbers if n.parsed == self.present)

    def date_candidates(self) -> tuple[DateFacts, ...]:
        return tuple(d for d in self.dates if d.parsed == self.present)


@dataclass(frozen=True, slots=True)
class TableFacts:
    """A whole file as read: how it was read, its rows and its columns' facts, in file order."""

    reading: Reading
    rows: int
    columns: tuple[ColumnFacts, ...]
    notes: tuple[str, ...] = field(default=())
    content_hash: str | None = None
    """The SHA-256 (hex) of the file's bytes when the reader computed it while parsing, else None."""

    def column(self, name: str) -> ColumnFacts:
        for facts in self.columns:
            if facts.name == name:
                return facts
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def choose_number_format(facts: ColumnFacts, decimal_hint: str | None) -> NumberFacts | None:
    """The number format of a column, or None when no format reads every cell. Plain wins; between the
    two locale formats (cells such as '1.234' read both ways) the file's decimal decides."""
    candidates = facts.number_candidates()
    if not candidates:
        return None
    by_format = {c.format: c for c in candidates}
    if NumberFormat.PLAIN in by_format and (decimal_hint != "," or NumberFormat.COMMA_DECIMAL not in by_format):
        return by_format[NumberFormat.PLAIN]
    if len(by_format) == 1:
        return candidates[0]
    if decimal_hint == ",":
        return by_format.get(NumberFormat.COMMA_DECIMAL, candidates[0])
    return by_format.get(NumberFormat.DOT_DECIMAL, by_format.get(NumberFormat.PLAIN, candidates[0]))


def choose_date_format(facts: ColumnFacts) -> DateFacts | None:
    candidates = {d.format: d for d in facts.date_candidates()}
    for date_format in DATE_FORMATS:
        if date_format in candidates:
            return candidates[date_format]
    return None


def boolean_value(value: Any, pair: tuple[str, ...]) -> bool | None:
    """A request's or a cell's boolean: JSON true/false, 0/1, the file's own two values or a known
    yes/no word (any case); None when it is none of these."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else None
    if not isinstance(value, str):
        return None
    key = nfc_key(value)
    if len(pair) == 2:
        if key == nfc_key(pair[1]):
            return True
        if key == nfc_key(pair[0]):
            return False
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    return None
