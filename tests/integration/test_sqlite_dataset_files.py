"""SQLite keeps a data set's bytes in a file beside the database, named by their SHA-256: what is on
disk after uploads, refusals, failed commits and removals, and databases from before the files."""

from __future__ import annotations

import errno
import hashlib
import json
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

from adapters.documents import dataset_document
from adapters.sqlite.database import SqliteDatabase
from adapters.sqlite.datasets import SqliteDatasetStore
from churn.datasets import Dataset
from churn.errors import DatasetExistsError, DatasetNotFoundError, StoreUnavailableError
from tests.api.conftest import make_container, upload

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
CSV = b"customer_id,tenure,churn\nc1,3,yes\nc2,40,no\n"
OTHER = b"customer_id,tenure,churn\nc3,7,no\nc4,1,yes\n"


def dataset(name: str, content: bytes = CSV) -> Dataset:
    return Dataset(name, 2, ("customer_id", "tenure", "churn"), "churn", "yes", 0.5, hashlib.sha256(content).hexdigest(), T0)


def files(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.fixture
def database(tmp_path):
    return SqliteDatabase(tmp_path / "churn.db")


@pytest.fixture
def store(database):
    return SqliteDatasetStore(database)


def test_the_bytes_are_a_file_named_by_their_hash_beside_the_database_not_a_blob(tmp_path, database, store):
    store.add(dataset("telco"), CSV)
    directory = tmp_path / "churn.db-datasets"
    assert files(directory) == [hashlib.sha256(CSV).hexdigest()]
    assert (directory / hashlib.sha256(CSV).hexdigest()).read_bytes() == CSV
    assert database.connection().execute("SELECT count(*) FROM dataset_contents").fetchone() == (0,)


def test_a_configured_directory_holds_the_files_of_the_service(tmp_path):
    container = make_container(tmp_path, store="sqlite", dataset_dir=str(tmp_path / "elsewhere"))
    store = container.dataset_store()
    store.add(dataset("telco"), CSV)
    assert files(tmp_path / "elsewhere") == [hashlib.sha256(CSV).hexdigest()]
    assert not (tmp_path / "churn.db-datasets").exists()


def test_an_upload_through_the_api_leaves_one_file_and_a_refused_one_none(tmp_path):
    from fastapi.testclient import TestClient

    from entrypoints.api.app import create_app

    container = make_container(tmp_path, store="sqlite")
    with TestClient(create_app(container)) as client:
        assert upload(client, "subs").status_code == 201
        assert upload(client, "blank", content=b"account,tenure,left\na1,,yes\na2,,no\n").status_code == 400
        assert upload(client, "subs").status_code == 409
    assert len(files(tmp_path / "churn.db-datasets")) == 1


def test_staging_writes_the_file_while_the_upload_is_read_and_removes_it_unless_added(tmp_path, store):
    directory = tmp_path / "churn.db-datasets"
    with pytest.raises(RuntimeError), store.staging(OTHER):
        raise RuntimeError("the upload was refused while it was read")
    with store.staging(OTHER):
        pass
    assert files(directory) == []
    with store.staging(CSV):
        store.add(dataset("telco"), CSV)
    with store.staging(CSV), pytest.raises(DatasetExistsError):
        store.add(dataset("telco"), CSV)
    assert files(directory) == [hashlib.sha256(CSV).hexdigest()]


def test_a_staging_that_cannot_write_is_unavailable_at_add_and_leaves_nothing(tmp_path, database):
    (tmp_path / "not-a-directory").write_text("")
    store = SqliteDatasetStore(database, tmp_path / "not-a-directory")
    with store.staging(CSV), pytest.raises(StoreUnavailableError):
        store.add(dataset("telco"), CSV)
    with store.staging(CSV):
        pass
    assert store.list() == []


def test_two_data_sets_with_the_same_bytes_share_one_file_until_the_last_goes(tmp_path, store):
    directory = tmp_path / "churn.db-datasets"
    store.add(dataset("first"), CSV)
    store.add(dataset("second"), CSV)
    store.add(dataset("third", OTHER), OTHER)
    assert len(files(directory)) == 2
    store.remove("first")
    assert len(files(directory)) == 2 and store.content("second") == CSV
    store.remove("second")
    assert files(directory) == [hashlib.sha256(OTHER).hexdigest()]


def test_a_taken_name_leaves_no_file_of_the_refused_upload(tmp_path, store):
    store.add(dataset("telco"), CSV)
    with pytest.raises(DatasetExistsError):
        store.add(dataset("telco", OTHER), OTHER)
    assert files(tmp_path / "churn.db-datasets") == [hashlib.sha256(CSV).hexdigest()]


@contextmanager
def failing_commit(database):
    """The database's transactions run their statements, then fail instead of committing (rolled back)."""
    real = database.transaction

    @contextmanager
    def transaction():
        with pytest.raises(RuntimeError), real() as tx:
            yield tx
            raise RuntimeError("the commit fails")
        raise StoreUnavailableError("store unavailable: disk I/O error")

    database.transaction = transaction
    try:
        yield
    finally:
        database.transaction = real


def test_an_upload_whose_commit_fails_leaves_neither_row_nor_file(tmp_path, database, store):
    with failing_commit(database), pytest.raises(StoreUnavailableError):
        store.add(dataset("telco"), CSV)
    assert store.list() == []
    assert files(tmp_path / "churn.db-datasets") == []


def test_a_removal_whose_commit_fails_keeps_the_data_set_and_its_bytes(database, store):
    store.add(dataset("telco"), CSV)
    with failing_commit(database), pytest.raises(StoreUnavailableError):
        store.remove("telco")
    assert store.content("telco") == CSV


def test_a_store_that_cannot_write_its_directory_is_unavailable_and_stores_nothing(tmp_path, database):
    (tmp_path / "not-a-directory").write_text("")
    store = SqliteDatasetStore(database, tmp_path / "not-a-directory")
    with pytest.raises(StoreUnavailableError):
        store.add(dataset("telco"), CSV)
    assert store.list() == []


def test_a_missing_or_cut_file_is_unavailable_not_wrong_bytes(tmp_path, store):
    store.add(dataset("telco"), CSV)
    path = tmp_path / "churn.db-datasets" / hashlib.sha256(CSV).hexdigest()
    path.write_bytes(CSV[:10])
    with pytest.raises(StoreUnavailableError, match="incomplete"):
        store.content("telco")
    path.unlink()
    with pytest.raises(StoreUnavailableError, match="missing"):
        store.content("telco")


def test_a_hash_that_is_not_the_contents_is_refused_before_another_data_set_is_harmed(store):
    store.add(dataset("telco"), CSV)
    lying = Dataset("other", 2, ("customer_id", "tenure", "churn"), "churn", "yes", 0.5, hashlib.sha256(CSV).hexdigest(), T0)
    for other in (OTHER, CSV.replace(b"40", b"41")):  # another size; the same size
        with pytest.raises(ValueError, match="SHA-256"):
            store.add(lying, other)
    with pytest.raises(ValueError, match="SHA-256"):
        store.add(Dataset("escape", 2, ("a", "churn"), "churn", "yes", 0.5, "../../etc/passwd", T0), CSV)
    assert store.content("telco") == CSV
    assert [d.name for d in store.list()] == ["telco"]


def test_a_database_from_before_the_files_is_read_and_removed_as_it_was(tmp_path):
    path = tmp_path / "old.db"
    SqliteDatabase(path).close()
    old = sqlite3.connect(path)  # what the previous version wrote: the bytes as a BLOB
    old.execute("INSERT INTO datasets (name, created_at, document) VALUES ('legacy', 0, ?)", (json.dumps(dataset_document(dataset("legacy"))),))
    old.execute("INSERT INTO dataset_contents (name, content) VALUES ('legacy', ?)", (CSV,))
    old.commit()
    store = SqliteDatasetStore(SqliteDatabase(path))
    assert store.content("legacy") == CSV
    store.remove("legacy")
    with pytest.raises(DatasetNotFoundError):
        store.content("legacy")
    assert old.execute("SELECT count(*) FROM dataset_contents").fetchone() == (0,)


def test_bytes_of_any_length_are_staged_whole_directly_or_through_the_page_cache(tmp_path, monkeypatch):
    from adapters.sqlite import content_files
    from adapters.sqlite.content_files import ContentFiles

    files_ = ContentFiles(tmp_path / "files")
    lengths = [0, 1, 4095, 4096, 4097, (4 << 20) + 13]
    contents = [bytes((i * 7 + n) % 251 for i in range(n)) for n in lengths]
    for content in contents:
        assert files_.stage(content).read_bytes() == content

    def refused(descriptor, content):
        raise OSError(errno.EINVAL, "O_DIRECT not supported here")

    monkeypatch.setattr(content_files, "_write_direct", refused)
    for content in contents:
        assert files_.stage(content).read_bytes() == content
