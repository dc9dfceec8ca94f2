"""Customers of the base (`CLIENTES`) and what an import of them does."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from churn.columns import nfc
from churn.errors import InvalidCustomerFileError, InvalidRequestError
from churn.features import FeatureValue

if TYPE_CHECKING:
    from churn.ports import RecordTable

MAX_ID_LENGTH = 128


def check_customer_id(customer_id: Any) -> str:
    if not isinstance(customer_id, str) or not customer_id.strip() or len(customer_id) > MAX_ID_LENGTH:
        raise InvalidRequestError(f"customer_id must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    return customer_id.strip()


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer of the base (`CLIENTES`): its id and its attributes as read from the source."""

    customer_id: str
    attributes: Mapping[str, FeatureValue]

    def __post_init__(self) -> None:
        check_customer_id(self.customer_id)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of an idempotent customer import."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple["RejectedRow", ...] = ()


@dataclass(frozen=True, slots=True)
class UpsertPlan:
    """What an idempotent import writes: `inserts` are new ids, `replaces` changed ones (both in
    batch order, last version of a repeated id wins); `report` counts them and the unchanged ones."""

    inserts: dict[str, Customer]
    replaces: dict[str, Customer]
    report: "ImportReport"

    @classmethod
    def of(cls, stored: Mapping[str, Mapping[str, FeatureValue]], customers: Sequence[Customer]) -> "UpsertPlan":
        """`stored`: the attributes already kept for (at least) the batch's ids. A repeated id in the
        batch counts against the attributes written just before it."""
        current = {k: dict(v) for k, v in stored.items()}
        inserts: dict[str, Customer] = {}
        replaces: dict[str, Customer] = {}
        inserted = updated = unchanged = 0
        for customer in customers:
            attributes = dict(customer.attributes)
            old = current.get(customer.customer_id)
            if old is None:
                inserted += 1
            elif old == attributes:
                unchanged += 1
                continue
            else:
                updated += 1
            current[customer.customer_id] = attributes
            target = replaces if customer.customer_id in stored else inserts
            target[customer.customer_id] = Customer(customer.customer_id, attributes)
        return cls(inserts, replaces, ImportReport(inserted, updated, unchanged))


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str


def parse_value(cell: str) -> FeatureValue:
    """Blank → None (imputed), a number → float, anything else stays a string."""
    text = cell.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
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
        if not customer_id or len(customer_id) > MAX_ID_LENGTH:
            rejected.append(RejectedRow(line, f"{id_column} is blank or longer than {MAX_ID_LENGTH} characters (record {record})"))
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
