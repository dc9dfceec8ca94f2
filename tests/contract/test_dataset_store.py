"""DatasetStore contract, for every adapter."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone

import pytest

from churn.errors import DatasetExistsError, DatasetNotFoundError
from churn.datasets import Dataset

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
CSV = b"customer_id,tenure,plan,churn\nc1,3,basic,yes\nc2,40,premium,no\n"


def dataset(name: str = "telco", created_at: datetime = T0, content: bytes = CSV, **changes) -> Dataset:
    fields = {
        "name": name,
        "rows": 2,
        "columns": ("customer_id", "tenure", "plan", "churn"),
        "target": "churn",
        "positive_label": "yes",
        "positive_rate": 0.1 + 0.2,
        "content_hash": hashlib.sha256(content).hexdigest(),
        "created_at": created_at,
        "id_column": "customer_id",
    }
    fields.update(changes)
    return Dataset(**fields)


@pytest.fixture
def store(backend):
    return backend.datasets()


def test_added_data_set_comes_back_equal(store):
    store.add(dataset(), CSV)
    got = store.get("telco")
    assert got == dataset()
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.positive_rate == 0.1 + 0.2


def test_data_set_without_id_column_round_trips(store):
    store.add(dataset("no-id", id_column=None), CSV)
    assert store.get("no-id").id_column is None


def test_content_comes_back_byte_for_byte(store):
    content = "nome,cidade\r\nJoão,São Paulo\r\n".encode("utf-8-sig") + bytes(range(256))
    store.add(dataset(content=content), content)
    assert store.content("telco") == content


def test_content_larger_than_one_chunk_comes_back_byte_for_byte(store):
    content = random.Random(7).randbytes(9 * 1024 * 1024 + 13)
    store.add(dataset("big", content=content), content)
    assert store.content("big") == content


def test_an_add_within_staging_stores_the_bytes_and_a_staging_left_without_add_stores_nothing(store):
    with store.staging(CSV):
        store.add(dataset(), CSV)
    other = b"customer_id,churn\nc9,no\n"
    with store.staging(other):
        pass
    with pytest.raises(RuntimeError), store.staging(other):
        raise RuntimeError("the upload was refused while it was read")
    assert store.content("telco") == CSV
    assert [d.name for d in store.list()] == ["telco"]


def test_an_add_within_the_staging_of_other_bytes_stores_its_own(store):
    other = b"customer_id,churn\nc9,no\n"
    with store.staging(CSV):
        store.add(dataset("other", content=other), other)
    assert store.content("other") == other


def test_empty_content_round_trips(store):
    store.add(dataset("empty", content=b""), b"")
    assert store.content("empty") == b""


def test_taken_name_is_refused_and_the_first_upload_is_kept(store):
    store.add(dataset(), CSV)
    with pytest.raises(DatasetExistsError):
        store.add(dataset(rows=99, content=b"other"), b"other")
    assert store.get("telco").rows == 2
    assert store.content("telco") == CSV
    assert len(store.list()) == 1


def test_unknown_name_is_not_found(store):
    with pytest.raises(DatasetNotFoundError):
        store.get("missing")
    with pytest.raises(DatasetNotFoundError):
        store.content("missing")


def test_list_is_empty_at_first(store):
    assert store.list() == []


def test_list_is_oldest_first_then_by_name(store):
    store.add(dataset("c-late", T0 + timedelta(hours=1)), CSV)
    store.add(dataset("b-same", T0), CSV)
    store.add(dataset("a-same", T0), CSV)
    store.add(dataset("d-early", T0 - timedelta(microseconds=1)), CSV)
    assert [d.name for d in store.list()] == ["d-early", "a-same", "b-same", "c-late"]


def test_datetimes_in_other_offsets_come_back_equal(store):
    moment = datetime(2026, 3, 1, 9, 0, 0, 654321, tzinfo=timezone(timedelta(hours=-3)))
    store.add(dataset(created_at=moment), CSV)
    got = store.get("telco").created_at
    assert got == moment
    assert got.utcoffset() is not None


def test_data_sets_survive_a_restart(backend):
    backend.datasets().add(dataset(), CSV)
    reopened = backend.restarted().datasets()
    assert reopened.get("telco") == dataset()
    assert reopened.content("telco") == CSV


def test_a_profiled_data_set_round_trips_with_its_reading_and_profile(store):
    from tests.support.awkward import dates_booleans_numeric_id
    from tests.support.profiling import profile_dataset

    content = dates_booleans_numeric_id(rows=60)
    profiled = profile_dataset("bank", content, "Exited", None, T0)
    store.add(profiled, content)
    got = store.get("bank")
    assert got == profiled
    assert got.profile.column("signup").date_format == "%Y-%m-%d" and got.reading.encoding == "utf-8-sig"


def test_a_removed_data_set_is_gone_with_its_content_and_its_name_is_free(store):
    store.add(dataset("old"), CSV)
    store.add(dataset("kept", created_at=T0 + timedelta(seconds=1)), CSV)
    store.remove("old")
    with pytest.raises(DatasetNotFoundError):
        store.get("old")
    with pytest.raises(DatasetNotFoundError):
        store.content("old")
    with pytest.raises(DatasetNotFoundError):
        store.remove("old")
    assert [d.name for d in store.list()] == ["kept"]
    store.add(dataset("old", content=b"a,b\n1,2\n"), b"a,b\n1,2\n")
    assert store.content("old") == b"a,b\n1,2\n"


def test_data_sets_with_the_same_content_keep_it_until_the_last_is_removed(store):
    store.add(dataset("first"), CSV)
    store.add(dataset("second", created_at=T0 + timedelta(seconds=1)), CSV)
    store.remove("first")
    assert store.content("second") == CSV
    store.remove("second")
    store.add(dataset("third"), CSV)
    assert store.content("third") == CSV


def test_a_refused_name_leaves_the_content_of_neither_upload_behind(backend):
    store = backend.datasets()
    store.add(dataset(), CSV)
    with pytest.raises(DatasetExistsError):
        store.add(dataset(content=b"other"), b"other")
    store.remove("telco")
    reopened = backend.restarted().datasets()
    assert reopened.list() == []
    with pytest.raises(DatasetNotFoundError):
        reopened.content("telco")
