"""SQLite specifics of the latest risk: kept by the group-committed write itself, and filled in for a
file written before the latest-risk table existed."""

from __future__ import annotations

import json
from dataclasses import replace
import sqlite3
from datetime import timedelta

from adapters.sqlite.database import SqliteDatabase, to_micros
from adapters.sqlite.predictions import SqlitePredictionRepository
from churn.bands import Band, ProbabilityRange
from churn.paging import PageRequest
from tests.contract.test_prediction_repository import GB1, T0, prediction


def test_predictions_submitted_together_keep_the_latest_in_the_same_statement(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db")
    repository = SqlitePredictionRepository(database)
    futures = [repository.submit(prediction(f"p{i}", i / 10, "c-1", created_at=T0 + timedelta(seconds=i))) for i in range(10)]
    for future in futures:
        future.result(timeout=10)
    [latest] = repository.latest_in_range(ProbabilityRange(0.0, 1.0), None, PageRequest()).items
    assert latest.prediction_id == "p9"
    assert repository.count_latest_by_band(None) == {Band.LOW: 0, Band.MEDIUM: 0, Band.HIGH: 0, Band.VERY_HIGH: 1}
    database.close()


def test_a_file_from_before_the_latest_risk_table_is_filled_from_its_history(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE predictions (seq INTEGER PRIMARY KEY, prediction_id TEXT NOT NULL, customer_id TEXT, churn_probability REAL NOT NULL, "
        "band TEXT NOT NULL, model_name TEXT NOT NULL, model_version INTEGER NOT NULL, created_at INTEGER NOT NULL, features TEXT NOT NULL)"
    )
    for pid, p, seconds in (("old", 0.9, 0), ("new", 0.2, 5)):
        old.execute(
            "INSERT INTO predictions (prediction_id, customer_id, churn_probability, band, model_name, model_version, created_at, features) "
            "VALUES (?, 'c-1', ?, ?, ?, ?, ?, ?)",
            (pid, p, Band.of(p).value, GB1.name, GB1.version, to_micros(T0 + timedelta(seconds=seconds)), json.dumps({})),
        )
    old.commit()
    old.close()
    repository = SqlitePredictionRepository(SqliteDatabase(path))
    [latest] = repository.latest_in_range(ProbabilityRange(0.0, 1.0), None, PageRequest()).items
    assert latest.prediction_id == "new"
    assert repository.count_latest_by_band(None)[Band.LOW] == 1


def test_a_file_whose_triggers_counted_run_rows_gets_the_new_ones_and_counts_a_run_once(tmp_path):
    path = tmp_path / "old.db"
    SqliteDatabase(path).close()
    old = sqlite3.connect(path)
    old.executescript(
        """
        DROP TRIGGER predictions_counted;
        CREATE TRIGGER predictions_counted AFTER INSERT ON predictions
        BEGIN
            INSERT INTO prediction_counts (band, model_name, model_version, n) VALUES (NEW.band, NEW.model_name, NEW.model_version, 1)
            ON CONFLICT (band, model_name, model_version) DO UPDATE SET n = n + 1;
        END;
        """
    )
    old.close()
    database = SqliteDatabase(path)
    triggers = dict(database.connection().execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall())
    assert "run_id IS NULL" in triggers["predictions_counted"] and "run_id IS NULL" in triggers["predictions_latest"]
    repository = SqlitePredictionRepository(database)
    run = [replace(prediction(f"p{i}", 0.8, f"c-{i}"), run_id="run-1") for i in range(5)]
    repository.add_many(run)
    assert repository.count_by_band(None)[Band.VERY_HIGH] == 5 and repository.count_latest_by_band(None)[Band.VERY_HIGH] == 5
    database.close()


def test_a_run_prediction_submitted_alone_is_counted_and_made_latest_once(tmp_path):
    database = SqliteDatabase(tmp_path / "churn.db")
    repository = SqlitePredictionRepository(database)
    repository.submit(replace(prediction("p1", 0.8, "c-1"), run_id="run-1")).result(timeout=10)
    repository.add(replace(prediction("p2", 0.3, "c-2"), run_id="run-1"))
    assert repository.count_by_band(None)[Band.VERY_HIGH] == 1 and repository.count_by_band(None)[Band.MEDIUM] == 1
    assert repository.count_latest_by_band(None)[Band.VERY_HIGH] == 1 and repository.count_latest_by_band(None)[Band.MEDIUM] == 1
    database.close()
