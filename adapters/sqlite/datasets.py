"""`DatasetStore` on SQLite: metadata in `datasets`, the CSV bytes in a file beside the database
named by their SHA-256 (`content_files.py`), which `dataset_files` points at. Data sets stored before
that keep their bytes as a BLOB in `dataset_contents`: still read and removed, never written."""

from __future__ import annotations

import json
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from adapters.documents import dataset_document, dataset_of
from adapters.sqlite.content_files import ContentFiles
from adapters.sqlite.database import SqliteDatabase, to_micros
from churn.errors import DatasetExistsError, DatasetNotFoundError, StoreUnavailableError
from churn.datasets import Dataset
from churn.ports import DatasetStore


def default_directory(database_path: str) -> Path:
    """`<database file>-datasets`, so two databases in one folder never share (and delete) files."""
    if database_path == ":memory:" or database_path.startswith("file:"):
        raise ValueError("a SQLite database named by a URI or ':memory:' needs a directory for its data set files")
    return Path(database_path + "-datasets")


class SqliteDatasetStore(DatasetStore):
    def __init__(self, database: SqliteDatabase, directory: str | Path | None = None) -> None:
        self._db = database
        self._files = ContentFiles(directory or default_directory(database.path))
        self._local = threading.local()

    def staging(self, content: bytes) -> AbstractContextManager[None]:
        """The file is written and fsync'd on another thread while the upload is read (a 50 MB file:
        ~15 ms of CPU, then up to ~150 ms waiting for the disk, which the reading no longer waits
        for); `add` on this thread takes it, or it is deleted at exit."""
        return self._staging(content)

    @contextmanager
    def _staging(self, content: bytes) -> Iterator[None]:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="churn-staging") as writer:
            pending = _Staging(content, writer.submit(self._files.stage, content))
            outer = getattr(self._local, "staging", None)
            self._local.staging = pending
            try:
                yield
            finally:
                self._local.staging = outer
                if not pending.taken:
                    with _best_effort(), _file_errors():
                        self._files.discard(pending.file.result())

    def add(self, dataset: Dataset, content: bytes) -> None:
        """The file is written and fsync'd first, outside any lock (or was, by `staging`); then, in
        one transaction, the metadata, the pointer and the file's rename into place (kept, checked
        byte for byte, when a data set with the same content has it already). DatasetExistsError
        when the name is taken; on any failure nothing stays: no row, no file that no data set uses."""
        digest = dataset.content_hash
        self._files.path(digest)  # ValueError before anything is written
        pending = getattr(self._local, "staging", None)
        with _file_errors():
            if pending is not None and pending.content is content and not pending.taken:
                pending.taken = True
                staged = pending.file.result()
            else:
                staged = self._files.stage(content)
        published = False
        try:
            with self._db.transaction() as tx, _file_errors():
                try:
                    tx.execute("INSERT INTO datasets (name, created_at, document) VALUES (?, ?, ?)", _to_row(dataset))
                except sqlite3.IntegrityError:
                    raise DatasetExistsError(f"data set {dataset.name!r} already exists; choose another name") from None
                tx.execute("INSERT INTO dataset_files (name, digest, size) VALUES (?, ?, ?)", (dataset.name, digest, len(content)))
                published = self._files.publish(staged, digest, content)
        except BaseException:
            if published:  # renamed, but the rows were not committed
                self._let_go_if_unused(digest)
            raise
        finally:
            with _best_effort():
                self._files.discard(staged)

    def get(self, name: str) -> Dataset:
        with self._db.snapshot() as db:
            row = db.execute("SELECT name, created_at, document FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise _not_found(name)
        return _from_row(row)

    def content(self, name: str) -> bytes:
        """From its file; StoreUnavailableError when the file is missing or shorter than stored."""
        with self._db.snapshot() as db:
            pointer = db.execute("SELECT digest, size FROM dataset_files WHERE name = ?", (name,)).fetchone()
            if pointer is None:
                row = db.execute("SELECT content FROM dataset_contents WHERE name = ?", (name,)).fetchone()
                if row is None:
                    raise _not_found(name)
                return bytes(row[0])
        digest, size = pointer
        try:
            content = self._files.read(digest)
        except FileNotFoundError:
            self.get(name)  # removed meanwhile: DatasetNotFoundError
            raise StoreUnavailableError(f"store unavailable: the content file of data set {name!r} is missing ({self._files.path(digest)})") from None
        except OSError as exc:
            raise StoreUnavailableError(f"store unavailable: {exc}") from exc
        if len(content) != size:
            raise StoreUnavailableError(f"store unavailable: the content file of data set {name!r} is incomplete ({self._files.path(digest)})")
        return content

    def list(self) -> list[Dataset]:
        """Oldest first (created_at, then name)."""
        with self._db.snapshot() as db:
            rows = db.execute("SELECT name, created_at, document FROM datasets ORDER BY created_at, name").fetchall()
        return [_from_row(row) for row in rows]

    def remove(self, name: str) -> None:
        """Metadata and pointer in one transaction, the file with them when no other data set uses it
        (moved aside inside the transaction, deleted after the commit, put back if it fails)."""
        withdrawn = None
        digest = ""
        try:
            with self._db.transaction() as tx, _file_errors():
                pointer = tx.execute("SELECT digest FROM dataset_files WHERE name = ?", (name,)).fetchone()
                tx.execute("DELETE FROM dataset_files WHERE name = ?", (name,))
                tx.execute("DELETE FROM dataset_contents WHERE name = ?", (name,))
                deleted = tx.execute("DELETE FROM datasets WHERE name = ?", (name,)).rowcount
                if pointer is not None and not _in_use(tx, pointer[0]):
                    digest = pointer[0]
                    withdrawn = self._files.withdraw(digest)
        except BaseException:
            if withdrawn is not None:
                with _best_effort():
                    self._files.restore(withdrawn, digest)
            raise
        with _best_effort():
            self._files.discard(withdrawn)
        if not deleted:
            raise _not_found(name)

    def _let_go_if_unused(self, digest: str) -> None:
        with _best_effort(), self._db.transaction() as tx:
            if not _in_use(tx, digest):
                self._files.discard(self._files.path(digest))


@dataclass
class _Staging:
    """A content file being written by `staging`, and whether `add` has taken it over."""

    content: bytes
    file: Future[Path]
    taken: bool = False


def _in_use(tx: sqlite3.Connection, digest: str) -> bool:
    return tx.execute("SELECT 1 FROM dataset_files WHERE digest = ? LIMIT 1", (digest,)).fetchone() is not None


@contextmanager
def _file_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StoreUnavailableError(f"store unavailable: {exc}") from exc


@contextmanager
def _best_effort() -> Iterator[None]:
    """For clean-ups after a failure already being raised: a file left behind wastes space, no more."""
    try:
        yield
    except (OSError, StoreUnavailableError):
        pass


def _not_found(name: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(f"data set {name!r} not found; upload it with POST /datasets")


def _to_row(dataset: Dataset) -> tuple[str, int, str]:
    return dataset.name, to_micros(dataset.created_at), json.dumps(dataset_document(dataset))


def _from_row(row: tuple[str, int, str]) -> Dataset:
    name, created_at, raw = row
    return dataset_of({"name": name, "created_at": created_at, **json.loads(raw)})  # older documents: columns only
