"""`CustomerRepository` (`CLIENTES`) on SQLite: one row per customer id, attributes as JSON."""

from __future__ import annotations

import builtins
import json
from typing import Mapping, Sequence

import orjson

from adapters.sqlite.database import SqliteDatabase
from churn.errors import CustomerNotFoundError
from churn.customers import Customer, ImportReport, UpsertPlan
from churn.features import FeatureValue
from churn.paging import Page, PageRequest
from churn.ports import CustomerRepository

_LOOKUP_BATCH = 500


class SqliteCustomerRepository(CustomerRepository):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def upsert_many(self, customers: Sequence[Customer]) -> ImportReport:
        """One transaction: new ids inserted, changed ones replaced, identical ones counted unchanged.
        A repeated id in the batch counts against the attributes written just before it."""
        with self._db.transaction() as tx:
            plan = UpsertPlan.of(self._attributes(tx, {c.customer_id for c in customers}), customers)
            tx.executemany(
                "INSERT INTO customers (customer_id, attributes) VALUES (?, ?) "
                "ON CONFLICT (customer_id) DO UPDATE SET attributes = excluded.attributes",
                [(c.customer_id, json.dumps(dict(c.attributes))) for c in (*plan.inserts.values(), *plan.replaces.values())],
            )
        return plan.report

    def get(self, customer_id: str) -> Customer:
        with self._db.snapshot() as db:
            row = db.execute("SELECT customer_id, attributes FROM customers WHERE customer_id = ?", (customer_id,)).fetchone()
        if row is None:
            raise CustomerNotFoundError(f"customer {customer_id!r} not found")
        return _from_row(row)

    def exists(self, customer_id: str) -> bool:
        with self._db.snapshot() as db:
            return db.execute("SELECT 1 FROM customers WHERE customer_id = ?", (customer_id,)).fetchone() is not None

    def list(self, page: PageRequest) -> Page[Customer]:
        """By customer_id ascending; offset paging (`after` does not apply to customers)."""
        with self._db.snapshot() as db:
            total = db.execute("SELECT count(*) FROM customers").fetchone()[0]
            rows = db.execute(
                "SELECT customer_id, attributes FROM customers ORDER BY customer_id LIMIT ? OFFSET ?", (page.limit, page.offset)
            ).fetchall()
        return Page([_from_row(row) for row in rows], total, page.limit, page.offset)

    def count(self) -> int:
        with self._db.snapshot() as db:
            return db.execute("SELECT count(*) FROM customers").fetchone()[0]

    def batch_after(self, customer_id: str | None, limit: int) -> builtins.list[Customer]:  # `list` is a method here
        """One seek on the primary key, then `limit` rows in id order."""
        with self._db.snapshot() as db:
            if customer_id is None:
                rows = db.execute("SELECT customer_id, attributes FROM customers ORDER BY customer_id LIMIT ?", (limit,)).fetchall()
            else:
                rows = db.execute(
                    "SELECT customer_id, attributes FROM customers WHERE customer_id > ? ORDER BY customer_id LIMIT ?", (customer_id, limit)
                ).fetchall()
        return [_from_row(row) for row in rows]

    def ids_every(self, step: int) -> builtins.list[str]:
        """One seek on the primary key per bound, skipping `step` - 1 keys of the index each time."""
        bounds: list[str] = []
        with self._db.snapshot() as db:
            while True:
                row = db.execute(
                    "SELECT customer_id FROM customers WHERE customer_id > ? ORDER BY customer_id LIMIT 1 OFFSET ?",
                    (bounds[-1] if bounds else "", step - 1),
                ).fetchone()
                if row is None:
                    return bounds
                bounds.append(row[0])

    def batch_of(self, customer_ids: Sequence[str]) -> builtins.list[Customer]:
        """Primary-key lookups, _LOOKUP_BATCH ids per IN (...)."""
        ordered = sorted(set(customer_ids))
        customers: list[Customer] = []
        with self._db.snapshot() as db:
            for start in range(0, len(ordered), _LOOKUP_BATCH):
                chunk = ordered[start : start + _LOOKUP_BATCH]
                marks = ", ".join("?" for _ in chunk)
                rows = db.execute(f"SELECT customer_id, attributes FROM customers WHERE customer_id IN ({marks}) ORDER BY customer_id", chunk)
                customers.extend(_from_row(row) for row in rows)
        return customers

    @staticmethod
    def _attributes(db, ids: set[str]) -> dict[str, dict[str, FeatureValue]]:
        found: dict[str, dict[str, FeatureValue]] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), _LOOKUP_BATCH):
            chunk = ordered[start : start + _LOOKUP_BATCH]
            marks = ", ".join("?" for _ in chunk)
            for customer_id, raw in db.execute(f"SELECT customer_id, attributes FROM customers WHERE customer_id IN ({marks})", chunk):
                found[customer_id] = json.loads(raw)
        return found


def _from_row(row: tuple[str, str]) -> Customer:
    customer_id, raw = row
    attributes: Mapping[str, FeatureValue] = orjson.loads(raw)
    return Customer(customer_id, attributes)
