"""`PredictionRepository` (`PREVISOES`) on SQLite.

Band listings page by keyset on (churn_probability, created_at, prediction_id) in an index of that
order: one over every prediction, one per (model_name, model_version), so a cursor at any depth costs
one index seek. A filter on the model name alone merges its versions' ranges (one seek per version,
the versions read from the counters) rather than keeping a third index of that order: every index is
a random page written per insert. created_at is stored as integer microseconds UTC. A trigger keeps
`prediction_counts` (per band and model version) in the inserting transaction, so band counts, and
the totals of ranges aligned on band edges, read a handful of rows instead of counting the table.

"Stored once" is enforced by the unique band index (churn_probability, created_at, prediction_id):
a prediction stored again (a retry) is ignored without a separate index on prediction_id, which
would cost one more random page per insert. prediction_ids are fresh UUIDs, so an id only comes
back with its own probability and time.
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import Future
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Sequence

import orjson

from adapters.sqlite.batch_writer import BatchWriter, Rows
from adapters.sqlite.database import SqliteDatabase, from_micros, to_micros, translated_errors
from churn.bands import Band, ProbabilityRange
from churn.paging import Page, PageRequest
from churn.decision import DEFAULT_THRESHOLD
from churn.prediction_batches import PredictionBatch
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter, ModelRef
from churn.drift import ScoredInput
from churn.outcomes import Score
from churn.ports import PredictionRepository, PredictionSubmitter
from churn.reasons import NO_REASONS, Reasons

_COLUMNS = "prediction_id, customer_id, churn_probability, model_name, model_version, created_at, features, reasons, run_id, threshold"
_LATEST_COLUMNS = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))
_INSERT = (
    "INSERT OR IGNORE INTO predictions (prediction_id, customer_id, churn_probability, band, model_name, model_version, "
    "created_at, features, reasons, run_id, threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COUNT_RUN_ROWS = (
    "INSERT INTO prediction_counts (band, model_name, model_version, n) "
    "SELECT band, model_name, model_version, count(*) FROM predictions WHERE seq > ? AND run_id IS NOT NULL GROUP BY 1, 2, 3 "
    "ON CONFLICT (band, model_name, model_version) DO UPDATE SET n = n + excluded.n"
)
_LATEST_RUN_ROWS = """
INSERT INTO latest_predictions (customer_id, seq, churn_probability, band, model_name, model_version, created_at, prediction_id)
SELECT customer_id, seq, churn_probability, band, model_name, model_version, created_at, prediction_id
FROM predictions WHERE seq > ? AND run_id IS NOT NULL AND customer_id IS NOT NULL ORDER BY seq
ON CONFLICT (customer_id) DO UPDATE SET
    seq = excluded.seq, churn_probability = excluded.churn_probability, band = excluded.band,
    model_name = excluded.model_name, model_version = excluded.model_version,
    created_at = excluded.created_at, prediction_id = excluded.prediction_id
WHERE (excluded.created_at, excluded.prediction_id) > (latest_predictions.created_at, latest_predictions.prediction_id)
"""
"""The predictions_latest trigger's upsert, for a batch's run rows at once (the same rule: the later
created_at, then the greater prediction_id)."""
EPOCH = date(1970, 1, 1)
_BAND_ORDER = "churn_probability DESC, created_at DESC, prediction_id DESC"
_BY_PROBABILITY = "predictions_by_probability"
_BY_VERSION = "predictions_by_model_version"
_LATEST_ORDER = "l.churn_probability DESC, l.created_at DESC, l.prediction_id DESC"


class SqlitePredictionRepository(PredictionRepository, PredictionSubmitter):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database
        self._batches = BatchWriter(self._write_joined)
        self._checkpointing = threading.Event()  # set once the batch thread's connection checkpoints on commit
        self._rows_per_statement: int | None = None

    def add(self, prediction: Prediction) -> None:
        """Stored once: a prediction_id already present is ignored. One autocommit statement (the
        insert and its counter trigger are atomic): no BEGIN/COMMIT round trips on the scoring path."""
        if prediction.run_id is not None:
            return self.add_many([prediction])  # a run's rows are counted and made latest by add_many
        row = _to_row(prediction)
        with translated_errors():
            self._db.connection().execute(_INSERT, row)

    def submit(self, prediction: Prediction) -> Future[None]:
        """Through the database's group-commit writer: concurrent requests share one commit, and the
        row (features as JSON) is built in the writer thread."""
        if prediction.run_id is not None:  # a run's rows go through add_many (see there), at once
            future: Future[None] = Future()
            try:
                self.add_many([prediction])
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)
            return future
        return self._db.submit(_INSERT, lambda: _to_row(prediction))

    def add_many(self, predictions: Sequence[Prediction]) -> None:
        """All or nothing, in one transaction. The rows of a scoring run (run_id set) are left out by
        the per-row counter and latest-risk triggers: one statement each counts them per band and
        version and upserts them into `latest_predictions`, for the whole batch (a trigger program
        per row cost more than the inserts themselves)."""
        self._write([_batch_rows(predictions)])

    def submit_many(self, predictions: Sequence[Prediction]) -> Future[None]:
        """add_many in this repository's batch thread (batch_writer.py), on that thread's connection:
        the rows are built here (Python, under the GIL), the statements run there, where SQLite steps
        with the GIL released, so the caller prepares its next batch meanwhile. Batches are written
        in the order submitted (one thread); those queued together share a transaction."""
        return self._submit(_batch_rows, predictions, None)

    def add_batch(self, batch: PredictionBatch) -> None:
        """add_many's statements, the parameters laid out a column at a time (_column_rows)."""
        self._write([_column_rows(batch)])

    def submit_batch(self, batch: PredictionBatch, after: Future[None] | None = None) -> Future[None]:
        """add_batch in the batch thread, as submit_many; not written if `after` failed."""
        return self._submit(_column_rows, batch, after)

    def _submit(self, rows_of: Callable[[Any], Rows], batch: Any, after: Future[None] | None) -> Future[None]:
        try:
            rows = rows_of(batch)
        except Exception as exc:  # a batch that cannot be read: failed, like a write, and nothing stored
            unread: Future[None] = Future()
            unread.set_exception(exc)
            return unread
        return self._batches.submit(rows, after)

    def _write_joined(self, batches: Sequence[Rows]) -> None:
        """The batch thread's transactions: they let the serving process's own writers go first (see
        SqliteDatabase.transaction), as back-to-back batches would otherwise keep the lock from them."""
        if not self._checkpointing.is_set():
            self._db.checkpoint_on_commit()
            self._checkpointing.set()
        self._write(batches, background=True)

    def _write(self, batches: Sequence[Rows], background: bool = False) -> None:
        """Each batch's `count` rows of `values` (flat, _ROW_WIDTH each), all in one transaction. A
        multi-row INSERT per chunk of rows rather than executemany: one step per statement is one
        release of the GIL, where executemany takes it back for every row (and waits for it while
        another thread runs). A run's rows are counted and made latest once for the transaction."""
        if not any(count for _, count, _ in batches):
            return
        per = self._rows_per_statement or self._statement_rows()
        with self._db.transaction(background=background) as tx:
            last = tx.execute("SELECT coalesce(max(seq), 0) FROM predictions").fetchone()[0]
            for values, count, _ in batches:
                for start in range(0, count, per):
                    rows = min(per, count - start)
                    tx.execute(_insert_rows(rows), values[start * _ROW_WIDTH : (start + rows) * _ROW_WIDTH])
            if any(of_a_run for _, count, of_a_run in batches if count):
                tx.execute(_COUNT_RUN_ROWS, (last,))
                tx.execute(_LATEST_RUN_ROWS, (last,))

    def _statement_rows(self) -> int:
        with translated_errors():
            limit = self._db.connection().getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._rows_per_statement = max(1, min(limit, MAX_STATEMENT_VARIABLES) // _ROW_WIDTH)
        return self._rows_per_statement

    def for_customer(self, customer_id: str, page: PageRequest) -> Page[Prediction]:
        """Newest first (created_at desc, prediction_id desc), offset paging; `next` stays None."""
        with self._db.snapshot() as db:
            total = db.execute("SELECT count(*) FROM predictions WHERE customer_id = ?", (customer_id,)).fetchone()[0]
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM predictions WHERE customer_id = ? "
                "ORDER BY created_at DESC, prediction_id DESC LIMIT ? OFFSET ?",
                (customer_id, page.limit, page.offset),
            ).fetchall()
        return Page([_from_row(row) for row in rows], total, page.limit, page.offset)

    def in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """Band order; `after` resumes by keyset in constant time. `next` is the last item's cursor when more remain."""
        conditions = ["churn_probability >= ?"]
        args: list[Any] = [probabilities.minimum]
        if not probabilities.contains(probabilities.maximum):
            conditions.append("churn_probability < ?")
            args.append(probabilities.maximum)
        if page.after is not None:
            conditions.append("(churn_probability, created_at, prediction_id) < (?, ?, ?)")
            args.extend(_cursor_key(page.after))
        where = " AND ".join(conditions)
        with self._db.snapshot() as db:
            arms = _arms(db, model)
            total = self._total(db, probabilities, model, arms)
            if not arms:
                rows = []
            elif len(arms) == 1:
                index, model_sql, model_args = arms[0]
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM predictions INDEXED BY {index} WHERE {' AND '.join([*model_sql, where])} "
                    f"ORDER BY {_BAND_ORDER} LIMIT ? OFFSET ?",
                    (*model_args, *args, page.limit + 1, page.offset),
                ).fetchall()
            else:
                # one version at a time, each in band order and cut at what the page can need, merged
                each = (
                    f"SELECT * FROM (SELECT {_COLUMNS} FROM predictions INDEXED BY {_BY_VERSION} "
                    f"WHERE model_name = ? AND model_version = ? AND {where} ORDER BY {_BAND_ORDER} LIMIT ?)"
                )
                values: list[Any] = []
                for _, _, model_args in arms:
                    values.extend((*model_args, *args, page.offset + page.limit + 1))
                rows = db.execute(
                    f"{' UNION ALL '.join(each for _ in arms)} ORDER BY {_BAND_ORDER} LIMIT ? OFFSET ?",
                    (*values, page.limit + 1, page.offset),
                ).fetchall()
        items = [_from_row(row) for row in rows[: page.limit]]
        more = len(rows) > page.limit
        return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if more else None)

    def count_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        """Every band present, zero when empty; read from the counters kept by the insert trigger."""
        model_sql, model_args = _model_condition(model)
        where = f"WHERE {' AND '.join(model_sql)}" if model_sql else ""
        counts = dict.fromkeys(Band, 0)
        with self._db.snapshot() as db:
            for band, n in db.execute(f"SELECT band, sum(n) FROM prediction_counts {where} GROUP BY band", model_args):
                counts[Band(band)] = n
        return counts

    def count_by_day(self, since: datetime) -> dict[date, int]:
        """A scan of created_at from `since` on (no index of its own: every index costs each insert)."""
        with self._db.snapshot() as db:
            rows = db.execute(
                "SELECT created_at / 86400000000, count(*) FROM predictions WHERE created_at >= ? GROUP BY 1", (to_micros(since),)
            ).fetchall()
        return {EPOCH + timedelta(days=day): n for day, n in rows}

    def latest_in_range(self, probabilities: ProbabilityRange, model: ModelFilter | None, page: PageRequest) -> Page[Prediction]:
        """From `latest_predictions`, kept by a trigger on every insert naming a customer (so in the same
        statement as the prediction, group commit included); keyset paging on its band-order indexes."""
        conditions = ["l.churn_probability >= ?"]
        args: list[Any] = [probabilities.minimum]
        if not probabilities.contains(probabilities.maximum):
            conditions.append("l.churn_probability < ?")
            args.append(probabilities.maximum)
        if page.after is not None:
            conditions.append("(l.churn_probability, l.created_at, l.prediction_id) < (?, ?, ?)")
            args.extend(_cursor_key(page.after))
        where = " AND ".join(conditions)
        select = f"SELECT {_LATEST_COLUMNS}, l.churn_probability AS lp, l.created_at AS lc, l.prediction_id AS li FROM latest_predictions l"
        with self._db.snapshot() as db:
            versions = _latest_versions(db, model)
            total = _latest_total(db, probabilities, model, versions)
            if versions is None:
                rows = db.execute(
                    f"{select} INDEXED BY latest_by_probability JOIN predictions p ON p.seq = l.seq WHERE {where} "
                    f"ORDER BY {_LATEST_ORDER} LIMIT ? OFFSET ?",
                    (*args, page.limit + 1, page.offset),
                ).fetchall()
            elif not versions:
                rows = []
            else:
                each = (
                    f"SELECT * FROM ({select} INDEXED BY latest_by_model_version JOIN predictions p ON p.seq = l.seq "
                    f"WHERE l.model_name = ? AND l.model_version = ? AND {where} ORDER BY {_LATEST_ORDER} LIMIT ?)"
                )
                values: list[Any] = []
                assert model is not None  # versions are those of a model filter
                for version in versions:
                    values.extend((model.name, version, *args, page.offset + page.limit + 1))
                rows = db.execute(
                    f"{' UNION ALL '.join(each for _ in versions)} ORDER BY lp DESC, lc DESC, li DESC LIMIT ? OFFSET ?",
                    (*values, page.limit + 1, page.offset),
                ).fetchall()
        items = [_from_row(row[:-3]) for row in rows[: page.limit]]
        more = len(rows) > page.limit
        return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if more else None)

    def count_latest_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        model_sql, model_args = _model_condition(model)
        where = f"WHERE {' AND '.join(model_sql)}" if model_sql else ""
        counts = dict.fromkeys(Band, 0)
        with self._db.snapshot() as db:
            for band, n in db.execute(f"SELECT band, sum(n) FROM latest_counts {where} GROUP BY band", model_args):
                counts[Band(band)] = n
        return counts

    def last_customer_of_run(self, run_id: str) -> str | None:
        with translated_errors():
            row = self._db.connection().execute(
                "SELECT max(customer_id) FROM predictions INDEXED BY predictions_by_run WHERE run_id = ?", (run_id,)
            ).fetchone()
        return row[0]

    def count_of_run(self, run_id: str) -> int:
        with translated_errors():
            return self._db.connection().execute(
                "SELECT count(*) FROM predictions INDEXED BY predictions_by_run WHERE run_id = ?", (run_id,)
            ).fetchone()[0]

    def run_rows_between(self, run_id: str, after: str | None, upto: str | None) -> tuple[int, str | None]:
        """One range of the (run_id, customer_id) index."""
        with translated_errors():
            count, last = self._db.connection().execute(
                "SELECT count(*), max(customer_id) FROM predictions INDEXED BY predictions_by_run "
                "WHERE run_id = ? AND customer_id > ? AND (? IS NULL OR customer_id <= ?)",
                (run_id, after or "", upto, upto),
            ).fetchone()
        return count, last

    def scores_of(self, model: ModelRef) -> list[Score]:
        """One range of the (model_name, model_version, ...) index, reading three columns per row."""
        with self._db.snapshot() as db:
            rows = db.execute(
                f"SELECT customer_id, churn_probability, created_at FROM predictions INDEXED BY {_BY_VERSION} "
                "WHERE model_name = ? AND model_version = ? AND customer_id IS NOT NULL",
                (model.name, model.version),
            ).fetchall()
        return [Score(customer_id, probability, from_micros(created_at)) for customer_id, probability, created_at in rows]

    def inputs_of(self, model: ModelRef, since: datetime, limit: int) -> list[ScoredInput]:
        """The version's range of the (model_name, model_version, ...) index, filtered on created_at, the
        newest `limit` kept: no index of its own, since every index costs each insert."""
        with self._db.snapshot() as db:
            rows = db.execute(
                f"SELECT features, churn_probability FROM predictions INDEXED BY {_BY_VERSION} "
                "WHERE model_name = ? AND model_version = ? AND created_at >= ? ORDER BY created_at DESC, prediction_id DESC LIMIT ?",
                (model.name, model.version, to_micros(since), limit),
            ).fetchall()
        return [ScoredInput(orjson.loads(features), probability) for features, probability in rows]

    @staticmethod
    def _total(db, probabilities: ProbabilityRange, model: ModelFilter | None, arms: list[tuple[str, list[str], list[Any]]]) -> int:
        if not arms:
            return 0
        model_sql, model_args = _model_condition(model)
        bands = Band.covering(probabilities)
        if bands is not None:
            return _count_by_band(db, "prediction_counts", bands, model_sql, model_args)
        conditions, args = _probability_conditions(probabilities)
        if model is not None and model.version is None:
            # each version's range of the (model_name, model_version, churn_probability, ...) index
            versions = [model_args[-1] for _, _, model_args in arms]
            model_sql = ["model_name = ?", f"model_version IN ({', '.join('?' for _ in versions)})"]
            model_args = [model.name, *versions]
        return db.execute(f"SELECT count(*) FROM predictions WHERE {' AND '.join([*model_sql, *conditions])}", (*model_args, *args)).fetchone()[0]


def _count_by_band(db, counts_table: str, bands, model_sql: list[str], model_args: list[Any]) -> int:
    """A whole-band range is counted from the counter table the triggers keep, not by scanning rows."""
    marks = ", ".join("?" for _ in bands)
    conditions = " AND ".join([f"band IN ({marks})", *model_sql])
    return db.execute(f"SELECT coalesce(sum(n), 0) FROM {counts_table} WHERE {conditions}", (*(b.value for b in bands), *model_args)).fetchone()[0]


def _probability_conditions(probabilities: ProbabilityRange) -> tuple[list[str], list[Any]]:
    """The half-open range [minimum, maximum), closed at 1 when it reaches the top."""
    conditions = ["churn_probability >= ?"]
    args: list[Any] = [probabilities.minimum]
    if not probabilities.contains(probabilities.maximum):
        conditions.append("churn_probability < ?")
        args.append(probabilities.maximum)
    return conditions, args


def _arms(db, model: ModelFilter | None) -> list[tuple[str, list[str], list[Any]]]:
    """The index, conditions and arguments of each ordered range making up the model filter: one for
    every prediction or one model version; one per stored version of a model name, none if it has none."""
    if model is None:
        return [(_BY_PROBABILITY, [], [])]
    if model.version is not None:
        return [(_BY_VERSION, ["model_name = ?", "model_version = ?"], [model.name, model.version])]
    versions = db.execute("SELECT DISTINCT model_version FROM prediction_counts WHERE model_name = ? ORDER BY model_version", (model.name,))
    return [(_BY_VERSION, ["model_name = ?", "model_version = ?"], [model.name, version]) for (version,) in versions]


def _latest_versions(db, model: ModelFilter | None) -> list[int] | None:
    """None for every customer; else the versions whose ranges of latest_by_model_version make up the filter."""
    if model is None:
        return None
    if model.version is not None:
        return [model.version]
    rows = db.execute("SELECT DISTINCT model_version FROM latest_counts WHERE model_name = ? ORDER BY model_version", (model.name,))
    return [version for (version,) in rows]


def _latest_total(db, probabilities: ProbabilityRange, model: ModelFilter | None, versions: list[int] | None) -> int:
    if versions is not None and not versions:
        return 0
    model_sql, model_args = _model_condition(model)
    bands = Band.covering(probabilities)
    if bands is not None:
        return _count_by_band(db, "latest_counts", bands, model_sql, model_args)
    conditions, args = _probability_conditions(probabilities)
    if versions is not None:
        assert model is not None  # versions are those of a model filter
        model_sql = ["model_name = ?", f"model_version IN ({', '.join('?' for _ in versions)})"]
        model_args = [model.name, *versions]
    return db.execute(f"SELECT count(*) FROM latest_predictions WHERE {' AND '.join([*model_sql, *conditions])}", (*model_args, *args)).fetchone()[0]


def _model_condition(model: ModelFilter | None) -> tuple[list[str], list[Any]]:
    if model is None:
        return [], []
    if model.version is None:
        return ["model_name = ?"], [model.name]
    return ["model_name = ?", "model_version = ?"], [model.name, model.version]


def _cursor_key(cursor: PredictionCursor) -> tuple[float, int, str]:
    return cursor.churn_probability, to_micros(cursor.created_at), cursor.prediction_id


def _to_row(prediction: Prediction, created_at: int | None = None) -> tuple[Any, ...]:
    """The INSERT's parameters (_ROW_WIDTH of them); `created_at` in micros when the caller has it."""
    features = prediction.features
    return (
        prediction.prediction_id,
        prediction.customer_id,
        float(prediction.churn_probability),
        Band.of(prediction.churn_probability).value,
        prediction.model.name,
        prediction.model.version,
        to_micros(prediction.created_at) if created_at is None else created_at,
        orjson.dumps(features if type(features) is dict else dict(features)).decode(),
        orjson.dumps(prediction.reasons.to_dict()).decode() if prediction.reasons else None,
        prediction.run_id,
        prediction.threshold,
    )


_ROW_WIDTH = 11
MAX_STATEMENT_VARIABLES = 32_766
"""Host parameters per multi-row INSERT at most (SQLite's default limit since 3.32; a build with a
lower one is read from the connection)."""


@lru_cache(maxsize=16)
def _insert_rows(rows: int) -> str:
    return _INSERT.replace("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows))


def _batch_rows(predictions: Sequence[Prediction]) -> tuple[list[Any], int, bool]:
    """_to_row of every prediction, flat; the time a batch shares converted once."""
    values: list[Any] = []
    extend = values.extend
    micros: dict[datetime, int] = {}
    of_a_run = False
    for p in predictions:
        created = micros.get(p.created_at)
        if created is None:
            created = micros[p.created_at] = to_micros(p.created_at)
        extend(_to_row(p, created))
        of_a_run = of_a_run or p.run_id is not None
    return values, len(predictions), of_a_run


def _column_rows(batch: PredictionBatch) -> tuple[list[Any], int, bool]:
    """_batch_rows of batch.predictions(), the same parameters, each column laid into its places
    of the flat list at once (the features and reasons as the same JSON text)."""
    n = len(batch)
    values: list[Any] = [None] * (n * _ROW_WIDTH)
    dumps = orjson.dumps
    probabilities = [float(p) for p in batch.probabilities]
    columns: tuple[Sequence[Any], ...] = (
        batch.prediction_ids,
        batch.customer_ids,
        probabilities,
        [Band.of(p).value for p in probabilities],
        [batch.model.name] * n,
        [batch.model.version] * n,
        [to_micros(batch.created_at)] * n,
        [dumps(f if type(f) is dict else dict(f)).decode() for f in batch.features],
        [None if r is None else dumps(r).decode() for r in batch.reasons],
        [batch.run_id] * n,
        [batch.threshold] * n,
    )
    for place, column in enumerate(columns):
        values[place::_ROW_WIDTH] = column
    return values, n, batch.run_id is not None


def _from_row(row: tuple[Any, ...]) -> Prediction:
    prediction_id, customer_id, probability, model_name, model_version, created_at, features, reasons, run_id, threshold = row
    return Prediction(
        prediction_id,
        customer_id,
        orjson.loads(features),
        probability,
        ModelRef(model_name, model_version),
        from_micros(created_at),
        Reasons.from_dict(orjson.loads(reasons)) if reasons else NO_REASONS,
        run_id,
        DEFAULT_THRESHOLD if threshold is None else threshold,  # rows stored before thresholds were kept: 0.5
    )
