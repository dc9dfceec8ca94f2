"""Use cases on the customer base (`CLIENTES`)."""

from __future__ import annotations

from typing import Callable

from churn.columns import ReadOptions
from churn.errors import InvalidCustomerFileError, InvalidDatasetError
from churn.customers import Customer, ImportReport
from churn.paging import Page, PageRequest
from churn.offset_cursor import OffsetCursor
from churn.ports import CustomerRepository, TableReader
from churn.customers import customers_from_records

IMPORT_BATCH = 1000


class ImportCustomers:
    """Upsert customers from a CSV by id. Re-importing the same file changes nothing; unreadable
    rows are reported by line and the good ones still load."""

    def __init__(self, customers: CustomerRepository, reader: TableReader) -> None:
        self._customers = customers
        self._reader = reader

    def execute(
        self, content: bytes, id_column: str, progress: Callable[[int], None] | None = None, options: ReadOptions = ReadOptions()
    ) -> ImportReport:
        """InvalidCustomerFileError for a file that cannot be read or lacks the id column (nothing loaded)."""
        try:
            table = self._reader.records(content, options)
        except InvalidDatasetError as exc:
            raise InvalidCustomerFileError(exc.message) from None
        parsed = customers_from_records(table, id_column)
        inserted = updated = unchanged = 0
        for start in range(0, len(parsed.customers), IMPORT_BATCH):
            batch = parsed.customers[start : start + IMPORT_BATCH]
            report = self._customers.upsert_many(batch)
            inserted += report.inserted
            updated += report.updated
            unchanged += report.unchanged
            if progress is not None:
                progress(len(batch))
        return ImportReport(inserted, updated, unchanged, tuple(sorted(parsed.rejected, key=lambda r: r.line)))


class GetCustomer:
    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    def execute(self, customer_id: str) -> Customer:
        """CustomerNotFoundError when unknown."""
        return self._customers.get(customer_id)


class ListCustomers:
    def __init__(self, customers: CustomerRepository) -> None:
        self._customers = customers

    def execute(self, page: PageRequest) -> Page[Customer]:
        """By customer id, ascending; `next` is the following page's token when more remain."""
        return OffsetCursor.with_next(self._customers.list(page))
