"""`PredictionRepository` (`PREVISOES`) on SQLite.

Band listings page by keyset on (churn_probability, created_at, prediction_id), each in an index of
that order (one per model filter shape), so a cursor at any depth costs one index seek. created_at is
stored as integer microseconds UTC. A trigger keeps `prediction_counts` (per band and model version)
in the inserting transaction, so band counts, and the totals of ranges aligned on band edges, read
a handful of rows instead of counting the table.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from adapters.sqlite.database import SqliteDatabase, from_micros, to_micros
from churn.model import Band, ModelFilter, ModelRef, Page, PageRequest, Prediction, PredictionCursor, ProbabilityRange
from churn.ports import PredictionRepository

_COLUMNS = "prediction_id, customer_id, churn_probability, model_name, model_version, created_at, features"
_INSERT = (
    "INSERT OR IGNORE INTO predictions (prediction_id, customer_id, churn_probability, band, model_name, model_version, "
    "created_at, features) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_BAND_ORDER = "churn_probability DESC, created_at DESC, prediction_id DESC"
_INDEX_FOR_FILTER = {0: "predictions_by_probability", 1: "predictions_by_model", 2: "predictions_by_model_version"}


class SqlitePredictionRepository(PredictionRepository):
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def add(self, prediction: Prediction) -> None:
        """Stored once: a prediction_id already present is ignored."""
        with self._db.transaction() as tx:
            tx.execute(_INSERT, _to_row(prediction))

    def add_many(self, predictions: Sequence[Prediction]) -> None:
        """All or nothing, in one transaction."""
        with self._db.transaction() as tx:
            tx.executemany(_INSERT, (_to_row(p) for p in predictions))

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
        model_sql, model_args = _model_condition(model)
        conditions = ["churn_probability >= ?", *model_sql]
        args: list[Any] = [probabilities.minimum, *model_args]
        if not probabilities.contains(probabilities.maximum):
            conditions.append("churn_probability < ?")
            args.append(probabilities.maximum)
        where = " AND ".join(conditions)
        index = _INDEX_FOR_FILTER[len(model_args)]
        with self._db.snapshot() as db:
            total = self._total(db, probabilities, model, where, args)
            if page.after is not None:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM predictions INDEXED BY {index} WHERE {where} "
                    f"AND (churn_probability, created_at, prediction_id) < (?, ?, ?) ORDER BY {_BAND_ORDER} LIMIT ?",
                    (*args, *_cursor_key(page.after), page.limit + 1),
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM predictions INDEXED BY {index} WHERE {where} ORDER BY {_BAND_ORDER} LIMIT ? OFFSET ?",
                    (*args, page.limit + 1, page.offset),
                ).fetchall()
        items = [_from_row(row) for row in rows[: page.limit]]
        more = len(rows) > page.limit
        return Page(items, total, page.limit, page.offset, PredictionCursor.after(items[-1]).encode() if more else None)

    def count_by_band(self, model: ModelFilter | None) -> dict[Band, int]:
        """Every band present, zero when empty; read from the counters kept by the insert trigger."""
        model_sql, model_args = _model_condition(model)
        where = f"WHERE {' AND '.join(model_sql)}" if model_sql else ""
        counts = {band: 0 for band in Band}
        with self._db.snapshot() as db:
            for band, n in db.execute(f"SELECT band, sum(n) FROM prediction_counts {where} GROUP BY band", model_args):
                counts[Band(band)] = n
        return counts

    @staticmethod
    def _total(db, probabilities: ProbabilityRange, model: ModelFilter | None, where: str, args: Sequence[Any]) -> int:
        bands = _bands_covering(probabilities)
        if bands is None:
            return db.execute(f"SELECT count(*) FROM predictions WHERE {where}", args).fetchone()[0]
        model_sql, model_args = _model_condition(model)
        marks = ", ".join("?" for _ in bands)
        conditions = " AND ".join([f"band IN ({marks})", *model_sql])
        row = db.execute(f"SELECT coalesce(sum(n), 0) FROM prediction_counts WHERE {conditions}", (*bands, *model_args)).fetchone()
        return row[0]


def _bands_covering(probabilities: ProbabilityRange) -> list[str] | None:
    """The bands whose union is exactly `probabilities`, or None when it does not fall on band edges."""
    inside = [b for b in Band if probabilities.minimum <= b.range.minimum and b.range.maximum <= probabilities.maximum]
    if not inside:
        return None
    if min(b.range.minimum for b in inside) != probabilities.minimum or max(b.range.maximum for b in inside) != probabilities.maximum:
        return None
    return [b.value for b in inside]


def _model_condition(model: ModelFilter | None) -> tuple[list[str], list[Any]]:
    if model is None:
        return [], []
    if model.version is None:
        return ["model_name = ?"], [model.name]
    return ["model_name = ?", "model_version = ?"], [model.name, model.version]


def _cursor_key(cursor: PredictionCursor) -> tuple[float, int, str]:
    return cursor.churn_probability, to_micros(cursor.created_at), cursor.prediction_id


def _to_row(prediction: Prediction) -> tuple[Any, ...]:
    return (
        prediction.prediction_id,
        prediction.customer_id,
        float(prediction.churn_probability),
        prediction.band.value,
        prediction.model.name,
        prediction.model.version,
        to_micros(prediction.created_at),
        json.dumps(dict(prediction.features)),
    )


def _from_row(row: tuple[Any, ...]) -> Prediction:
    prediction_id, customer_id, probability, model_name, model_version, created_at, features = row
    return Prediction(prediction_id, customer_id, json.loads(features), probability, ModelRef(model_name, model_version), from_micros(created_at))
