"""`CustomerRepository` on MongoDB: `CLIENTES`, `{_id: customer_id, attributes: {...}}`."""

from __future__ import annotations

import builtins
from typing import Any, Sequence

from pymongo.errors import BulkWriteError

from adapters.mongo.database import CUSTOMERS, MongoDatabase, translated_errors
from churn.errors import CustomerNotFoundError
from churn.customers import Customer, ImportReport, UpsertPlan
from churn.features import FeatureValue
from churn.paging import Page, PageRequest
from churn.ports import CustomerRepository

_LOOKUP_BATCH = 1000
_DUPLICATE_KEY = 11000


class MongoCustomerRepository(CustomerRepository):
    def __init__(self, database: MongoDatabase) -> None:
        self._customers = database.collection(CUSTOMERS)

    def upsert_many(self, customers: Sequence[Customer]) -> ImportReport:
        """New ids inserted, changed ones replaced, identical ones counted unchanged; re-running a
        batch that failed half-way completes it. A repeated id counts against the attributes just before it."""
        with translated_errors():
            plan = UpsertPlan.of(self._attributes({c.customer_id for c in customers}), customers)
            self._insert([_to_document(c) for c in plan.inserts.values()])
            for customer_id, customer in plan.replaces.items():
                self._customers.replace_one({"_id": customer_id}, _to_document(customer), upsert=True)
        return plan.report

    def _insert(self, documents: list[dict[str, Any]]) -> None:
        """Bulk insert; an id inserted meanwhile by another import is replaced instead."""
        if not documents:
            return
        try:
            self._customers.insert_many(documents, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            for error in errors:
                document = documents[error["index"]]
                self._customers.replace_one({"_id": document["_id"]}, document, upsert=True)

    def get(self, customer_id: str) -> Customer:
        with translated_errors():
            document = self._customers.find_one({"_id": customer_id})
        if document is None:
            raise CustomerNotFoundError(f"customer {customer_id!r} not found")
        return _from_document(document)

    def exists(self, customer_id: str) -> bool:
        with translated_errors():
            return self._customers.find_one({"_id": customer_id}, {"_id": 1}) is not None

    def list(self, page: PageRequest) -> Page[Customer]:
        """By customer_id ascending; offset paging (`after` does not apply to customers)."""
        with translated_errors():
            total = self._customers.count_documents({})
            cursor = self._customers.find().sort("_id", 1).skip(page.offset).limit(page.limit)
            items = [_from_document(d) for d in cursor]
        return Page(items, total, page.limit, page.offset)

    def count(self) -> int:
        with translated_errors():
            return self._customers.count_documents({})

    def batch_after(self, customer_id: str | None, limit: int) -> builtins.list[Customer]:  # `list` is a method here
        query = {} if customer_id is None else {"_id": {"$gt": customer_id}}
        with translated_errors():
            return [_from_document(d) for d in self._customers.find(query).sort("_id", 1).limit(limit)]

    def ids_every(self, step: int) -> builtins.list[str]:
        """One seek on `_id` per bound, skipping `step` - 1 keys each time, reading ids only."""
        bounds: list[str] = []
        with translated_errors():
            while True:
                query = {"_id": {"$gt": bounds[-1]}} if bounds else {}
                found = list(self._customers.find(query, {"_id": 1}).sort("_id", 1).skip(step - 1).limit(1))
                if not found:
                    return bounds
                bounds.append(found[0]["_id"])

    def batch_of(self, customer_ids: Sequence[str]) -> builtins.list[Customer]:
        """`_id` lookups, _LOOKUP_BATCH ids per $in."""
        ordered = sorted(set(customer_ids))
        customers: list[Customer] = []
        with translated_errors():
            for start in range(0, len(ordered), _LOOKUP_BATCH):
                found = self._customers.find({"_id": {"$in": ordered[start : start + _LOOKUP_BATCH]}}).sort("_id", 1)
                customers.extend(_from_document(d) for d in found)
        return customers

    def _attributes(self, ids: set[str]) -> dict[str, dict[str, FeatureValue]]:
        found: dict[str, dict[str, FeatureValue]] = {}
        ordered = sorted(ids)
        for start in range(0, len(ordered), _LOOKUP_BATCH):
            for document in self._customers.find({"_id": {"$in": ordered[start : start + _LOOKUP_BATCH]}}):
                found[document["_id"]] = dict(document["attributes"])
        return found


def _to_document(customer: Customer) -> dict[str, Any]:
    return {"_id": customer.customer_id, "attributes": dict(customer.attributes)}


def _from_document(document: dict[str, Any]) -> Customer:
    return Customer(document["_id"], dict(document["attributes"]))
