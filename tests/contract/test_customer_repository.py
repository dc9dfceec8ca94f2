"""CustomerRepository contract (`CLIENTES`), for every adapter."""

from __future__ import annotations

import pytest

from churn.errors import CustomerNotFoundError
from churn.customers import Customer, ImportReport
from churn.paging import PageRequest


def customer(customer_id: str, **attributes) -> Customer:
    base = {"tenure": 12.0, "monthly_charges": 70.35, "contract": "month-to-month", "partner": None}
    base.update(attributes)
    return Customer(customer_id, base)


@pytest.fixture
def repository(backend):
    return backend.customers()


def test_new_customers_are_inserted_and_come_back_equal(repository):
    report = repository.upsert_many([customer("c-1"), customer("c-2", tenure=0.1 + 0.2)])
    assert report == ImportReport(inserted=2, updated=0, unchanged=0)
    assert repository.get("c-1") == customer("c-1")
    assert repository.get("c-2").attributes["tenure"] == 0.1 + 0.2
    assert repository.get("c-2").attributes["partner"] is None


def test_importing_the_same_customers_again_changes_nothing(repository):
    batch = [customer("c-1"), customer("c-2")]
    repository.upsert_many(batch)
    assert repository.upsert_many(batch) == ImportReport(inserted=0, updated=0, unchanged=2)
    assert repository.count() == 2


def test_changed_customers_are_replaced(repository):
    repository.upsert_many([customer("c-1"), customer("c-2"), customer("c-3")])
    report = repository.upsert_many([customer("c-1"), customer("c-2", contract="two year"), customer("c-4")])
    assert report == ImportReport(inserted=1, updated=1, unchanged=1)
    assert repository.get("c-2").attributes["contract"] == "two year"
    assert repository.count() == 4


def test_a_replaced_customer_loses_attributes_it_no_longer_has(repository):
    repository.upsert_many([customer("c-1")])
    repository.upsert_many([Customer("c-1", {"tenure": 1.0})])
    assert repository.get("c-1") == Customer("c-1", {"tenure": 1.0})


def test_a_repeated_id_in_one_batch_counts_against_the_row_before_it(repository):
    report = repository.upsert_many([customer("c-1"), customer("c-1"), customer("c-1", tenure=2.0)])
    assert report == ImportReport(inserted=1, updated=1, unchanged=1)
    assert repository.get("c-1").attributes["tenure"] == 2.0
    assert repository.count() == 1


def test_empty_batch_changes_nothing(repository):
    assert repository.upsert_many([]) == ImportReport()


def test_unknown_customer_is_not_found_and_does_not_exist(repository):
    repository.upsert_many([customer("c-1")])
    assert repository.exists("c-1")
    assert not repository.exists("c-9")
    with pytest.raises(CustomerNotFoundError):
        repository.get("c-9")


def test_list_is_by_id_ascending_with_offset_paging(repository):
    ids = [f"c-{n:03d}" for n in range(23)]
    repository.upsert_many([customer(i) for i in reversed(ids)])
    walked = []
    for offset in range(0, 30, 5):
        page = repository.list(PageRequest(limit=5, offset=offset))
        assert page.total == 23
        assert (page.limit, page.offset) == (5, offset)
        walked.extend(c.customer_id for c in page.items)
    assert walked == ids
    assert repository.list(PageRequest(limit=5, offset=100)).items == []


def test_empty_base_lists_nothing(repository):
    page = repository.list(PageRequest())
    assert (list(page.items), page.total) == ([], 0)
    assert repository.count() == 0


def test_customers_survive_a_restart(backend):
    backend.customers().upsert_many([customer("c-1"), customer("c-2")])
    reopened = backend.restarted().customers()
    assert reopened.get("c-1") == customer("c-1")
    assert reopened.upsert_many([customer("c-1"), customer("c-2")]) == ImportReport(unchanged=2)
