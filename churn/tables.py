"""Reading CSV files with the standard library: the rules for what makes a data set trainable
and how a customer row's values are typed."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from churn.errors import InvalidCustomerFileError, InvalidDatasetError
from churn.model import Customer, Dataset, FeatureValue, RejectedRow, check_dataset_name

POSITIVE_LABELS = ("yes", "y", "true", "t", "1", "1.0", "churn", "churned", "exited")
MIN_ROWS_PER_CLASS = 2


@dataclass(frozen=True, slots=True)
class DatasetLimits:
    max_rows: int = 1_000_000
    max_columns: int = 500


def _rows(content: bytes) -> tuple[list[str], Iterator[list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidDatasetError("the file is not UTF-8 text; save the CSV as UTF-8") from None
    if "\x00" in text:
        raise InvalidDatasetError("the file is not a CSV (it contains binary data)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidDatasetError("the file is empty; send a CSV with a header row") from None
    except csv.Error as exc:
        raise InvalidDatasetError(f"the file is not a parseable CSV: {exc}") from None
    header = [h.strip() for h in header]
    return header, reader


def profile_dataset(
    name: str,
    content: bytes,
    target: str,
    id_column: str | None,
    now: datetime,
    limits: DatasetLimits = DatasetLimits(),
) -> Dataset:
    """Check an uploaded CSV and describe it; InvalidDatasetError says what to fix.

    Trainable means: a header with unique names, the target among them, exactly two target
    values, at least MIN_ROWS_PER_CLASS rows of each, and at least one feature column.
    """
    check_dataset_name(name)
    header, reader = _rows(content)
    if len(header) < 2 or any(not h for h in header):
        raise InvalidDatasetError("the header row must name at least two columns, none of them blank")
    if len(set(header)) != len(header):
        duplicated = sorted({h for h in header if header.count(h) > 1})
        raise InvalidDatasetError(f"duplicate column names in the header: {', '.join(duplicated)}")
    if len(header) > limits.max_columns:
        raise InvalidDatasetError(f"too many columns ({len(header)}); the limit is {limits.max_columns}")
    if target not in header:
        raise InvalidDatasetError(f"target column {target!r} is not in the file; columns: {', '.join(header)}")
    if id_column is not None and id_column not in header:
        raise InvalidDatasetError(f"id column {id_column!r} is not in the file; columns: {', '.join(header)}")
    if id_column == target:
        raise InvalidDatasetError("the id column cannot be the target")
    if len(header) - 1 - (1 if id_column else 0) < 1:
        raise InvalidDatasetError("the file has no feature column besides the target and the id")
    t = header.index(target)
    counts: dict[str, int] = {}
    rows = 0
    try:
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise InvalidDatasetError(f"line {line_no} has {len(row)} fields, the header has {len(header)}")
            rows += 1
            if rows > limits.max_rows:
                raise InvalidDatasetError(f"too many rows; the limit is {limits.max_rows}")
            value = row[t].strip()
            if not value:
                raise InvalidDatasetError(f"line {line_no}: the target {target!r} is blank")
            counts[value] = counts.get(value, 0) + 1
            if len(counts) > 2:
                raise InvalidDatasetError(
                    f"target {target!r} is not binary: it has more than two values ({', '.join(sorted(counts)[:5])}...)"
                )
    except csv.Error as exc:
        raise InvalidDatasetError(f"the file is not a parseable CSV: {exc}") from None
    if len(counts) != 2:
        raise InvalidDatasetError(f"target {target!r} must have exactly two values, found {len(counts)}")
    positive = positive_label(list(counts))
    negative = next(v for v in counts if v != positive)
    if counts[positive] < MIN_ROWS_PER_CLASS or counts[negative] < MIN_ROWS_PER_CLASS:
        raise InvalidDatasetError(
            f"each target class needs at least {MIN_ROWS_PER_CLASS} rows; found {positive}: {counts[positive]}, {negative}: {counts[negative]}"
        )
    return Dataset(
        name=name,
        rows=rows,
        columns=tuple(header),
        target=target,
        positive_label=positive,
        positive_rate=round(counts[positive] / rows, 6),
        content_hash=hashlib.sha256(content).hexdigest(),
        created_at=now,
        id_column=id_column,
    )


def positive_label(values: list[str]) -> str:
    """The churn class among two target values: Yes/1/true/... when present, else the last in sort order."""
    for value in values:
        if value.strip().lower() in POSITIVE_LABELS:
            return value
    return sorted(values)[-1]


def parse_value(cell: str) -> FeatureValue:
    """Blank → None (imputed), a number → float, anything else stays a string."""
    text = cell.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return number


@dataclass(frozen=True, slots=True)
class CustomerRows:
    customers: list[Customer]
    rejected: list[RejectedRow]


def read_customers(content: bytes, id_column: str) -> CustomerRows:
    """Customers out of a CSV. Columns are typed as a whole: a column is numeric only when every
    non-blank cell is a number (so '0'/'1' codes stay numbers, 'Yes'/'No' stay strings). Bad rows
    are reported by line number; the rest still load."""
    try:
        header, reader = _rows(content)
    except InvalidDatasetError as exc:
        raise InvalidCustomerFileError(exc.message) from None
    if id_column not in header:
        raise InvalidCustomerFileError(f"id column {id_column!r} is not in the file; columns: {', '.join(header)}")
    raw: list[tuple[int, list[str]]] = []
    rejected: list[RejectedRow] = []
    try:
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                rejected.append(RejectedRow(line_no, f"{len(row)} fields, the header has {len(header)}"))
                continue
            raw.append((line_no, row))
    except csv.Error as exc:
        raise InvalidCustomerFileError(f"the file is not a parseable CSV: {exc}") from None
    parsed = [(line_no, row, [parse_value(cell) for cell in row]) for line_no, row in raw]
    numeric = [all(values[i] is None or isinstance(values[i], float) for _, _, values in parsed) for i in range(len(header))]
    id_index = header.index(id_column)
    seen: dict[str, int] = {}
    customers: list[Customer] = []
    for line_no, row, values in parsed:
        customer_id = row[id_index].strip()
        if not customer_id or len(customer_id) > 128:
            rejected.append(RejectedRow(line_no, f"{id_column} is blank or longer than 128 characters"))
            continue
        if customer_id in seen:
            rejected.append(RejectedRow(line_no, f"duplicate {id_column}, first seen on line {seen[customer_id]}"))
            continue
        seen[customer_id] = line_no
        attributes: dict[str, FeatureValue] = {}
        for i, column in enumerate(header):
            if i == id_index:
                continue
            attributes[column] = values[i] if numeric[i] else (row[i].strip() or None)
        customers.append(Customer(customer_id, attributes))
    return CustomerRows(customers, rejected)
