"""What makes a read file a trainable data set, and how a read file's rows become customers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Mapping

from churn.columns import TableFacts, nfc
from churn.errors import InvalidCustomerFileError, InvalidDatasetError
from churn.model import Customer, Dataset, FeatureValue, RejectedRow, check_dataset_name
from churn.profiles import MIN_ROWS_PER_CLASS, profile_table  # noqa: F401  (MIN_ROWS_PER_CLASS: its home is profiles)

if TYPE_CHECKING:
    from churn.ports import RecordTable


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
        content_hash=hashlib.sha256(content).hexdigest(),
        created_at=now,
        id_column=id_column,
        reading=facts.reading,
        profile=profile,
    )


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


def customers_from_records(table: RecordTable, id_column: str) -> CustomerRows:
    """Customers out of a read file; ids stripped and NFC. A record with the wrong number of fields or
    a blank, too long or repeated id is reported by its physical line and record number; the rest still load."""
    names = table.facts.names
    if id_column not in names:
        raise InvalidCustomerFileError(f"id column {id_column!r} is not in the file; columns: {', '.join(names)}")
    seen: dict[str, int] = {}
    customers: list[Customer] = []
    rejected: list[RejectedRow] = [
        RejectedRow(line, f"{fields} fields, the header has {len(names)} (record {record})") for record, line, fields in table.malformed
    ]
    for record, line, values in table.rows:
        raw_id = values.get(id_column)
        customer_id = nfc(_id_text(raw_id))
        if not customer_id or len(customer_id) > 128:
            rejected.append(RejectedRow(line, f"{id_column} is blank or longer than 128 characters (record {record})"))
            continue
        if customer_id in seen:
            rejected.append(RejectedRow(line, f"duplicate {id_column}, first seen on record {seen[customer_id]} (record {record})"))
            continue
        seen[customer_id] = record
        customers.append(Customer(customer_id, {k: v for k, v in values.items() if k != id_column}))
    return CustomerRows(customers, rejected)


def _id_text(value: FeatureValue) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value.strip()
