"""The use cases only the console calls (predictions per day, running jobs) and the chart geometry
its templates draw. The upload preview is tested through the console in tests/api/test_console.py."""

from datetime import date, datetime, timedelta, timezone

from adapters.memory import InMemoryJobStore, InMemoryPredictionRepository
from churn.predictions import Prediction
from churn.training_jobs import TrainingJob
from churn.versions import ModelRef
from churn.use_cases.count_predictions_per_day import CountPredictionsPerDay
from churn.use_cases.list_running_jobs import ListRunningJobs
from entrypoints.console.charts import bars, nice_max, probability_line


class FixedClock:
    def now(self):
        return datetime(2026, 12, 1, tzinfo=timezone.utc)

    def monotonic(self):
        return 0.0


def test_chart_scales_round_up_and_bars_stay_inside_the_plot():
    assert [nice_max(v) for v in (0, 1, 3, 7, 13, 240, 1001)] == [1, 1, 5, 10, 20, 250, 2000]
    chart = bars([("a", 3, "3", ""), ("b", 5, "5", "")])
    assert all(b.y >= 16 and b.y + b.height <= chart["base"] + 1e-9 for b in chart["bars"])
    assert chart["bars"][1].height > chart["bars"][0].height


def test_a_probability_line_runs_oldest_to_newest():
    t0, t1 = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)
    line = probability_line([(t1, 0.9, "b"), (t0, 0.2, "a")])
    first, last = line["points"]
    assert first.label == "a" and first.x < last.x and first.y > last.y


def test_predictions_per_day_lists_every_day_oldest_first_with_zeros():
    repository = InMemoryPredictionRepository()
    now = FixedClock().now()
    for i, age in enumerate((0, 0, 2, 20)):
        repository.add(Prediction(f"p{i}", "c", {}, 0.5, ModelRef("m", 1), now - timedelta(days=age, hours=-1)))
    days = CountPredictionsPerDay(repository, FixedClock()).execute(3)
    assert days == [(date(2026, 11, 29), 1), (date(2026, 11, 30), 0), (date(2026, 12, 1), 2)]


def test_running_jobs_are_the_unfinished_ones_newest_first():
    jobs = InMemoryJobStore()
    now = FixedClock().now()
    older = TrainingJob.new("d", "logistic_regression", {}, "m", True, now)
    newer = TrainingJob.new("d", "logistic_regression", {}, "m", True, now + timedelta(minutes=1))
    done = TrainingJob.new("d", "logistic_regression", {}, "m", True, now).started(now).failed("boom", now)
    for job in (older, newer, done):
        jobs.save(job)
    assert [j.job_id for j in ListRunningJobs(jobs).execute()] == [newer.job_id, older.job_id]
