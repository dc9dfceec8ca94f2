"""Drift (churn/drift.py) and the MeasureDrift use case on the in-memory store."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from adapters.memory import FakeClock, InMemoryModelRecordRepository, InMemoryPredictionRepository
from churn.drift import MISSING, OTHER, DriftReference, FeatureReference, Reading, psi
from churn.errors import DriftReferenceMissingError, InvalidRequestError, ModelNotFoundError
from churn.features import FeatureKind, FeatureSchema, FeatureSpec
from churn.predictions import Prediction
from churn.versions import ModelRecord, ModelRef, TrainingSummary
from churn.use_cases.measure_drift import MeasureDrift

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
REF = ModelRef("churn-logistic_regression", 1)
SCHEMA = FeatureSchema((
    FeatureSpec("tenure", FeatureKind.NUMBER, 12.0),
    FeatureSpec("Contract", FeatureKind.CATEGORY, "Month-to-month", ("Month-to-month", "One year", "Two year")),
    FeatureSpec("Partner", FeatureKind.BOOLEAN, True, ("No", "Yes")),
    FeatureSpec("signed_on", FeatureKind.DATE, "2026-01-01", (), "%Y-%m-%d", "2026-02-01T00:00:00"),
))


def test_the_reading_follows_the_usual_thresholds():
    assert [Reading.of(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501)] == [
        Reading.STABLE, Reading.STABLE, Reading.WATCH, Reading.WATCH, Reading.SHIFTED,
    ]


def test_psi_is_the_textbook_sum_and_zero_for_equal_shares():
    expected, actual = [0.5, 0.3, 0.2], [0.3, 0.3, 0.4]
    assert psi(expected, expected) == 0.0
    assert psi(expected, actual) == pytest.approx((0.3 - 0.5) * math.log(0.3 / 0.5) + (0.4 - 0.2) * math.log(0.4 / 0.2))
    assert psi([1.0, 0.0], [0.5, 0.5]) == pytest.approx((0.5 - 1.0) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4))


def test_numbers_are_binned_at_training_deciles_with_open_ends_and_a_missing_bin():
    reference = FeatureReference.of("tenure", "number", [float(v) for v in range(100)] + [None] * 10)
    assert reference.edges == tuple(float(v) for v in range(10, 100, 10))
    assert len(reference.shares) == 11 and reference.labels()[0] == "< 10" and reference.labels()[-1] == MISSING
    assert reference.shares[-1] == pytest.approx(10 / 110) and sum(reference.shares) == pytest.approx(1.0)
    assert reference.bin_of(-5.0) == 0 and reference.bin_of(10.0) == 1 and reference.bin_of(1e9) == 9
    assert reference.bin_of(None) == reference.bin_of(float("nan")) == reference.bin_of("text") == 10


def test_a_number_with_few_values_gets_one_bin_per_value_and_none_empty_below():
    reference = FeatureReference.of("SeniorCitizen", "number", [0.0] * 84 + [1.0] * 16)
    assert reference.edges == (1.0,)
    assert reference.shares == (0.84, 0.16, 0.0)


def test_categories_keep_the_most_frequent_and_pool_the_rest_with_unseen_ones():
    values = ["a"] * 50 + [f"rare{i:02d}" for i in range(30)] + [None] * 20
    reference = FeatureReference.of("plan", "category", values)
    assert reference.categories[0] == "a" and len(reference.categories) == 20
    assert reference.labels()[-2:] == (OTHER, MISSING)
    assert reference.bin_of("never seen") == 20 and reference.bin_of("rare29") == 20 and reference.bin_of(None) == 21
    booleans = FeatureReference.of("Partner", "boolean", [1.0, 0.0, 0.0, None])
    assert booleans.categories == ("false", "true") and booleans.bin_of(True) == 1 and booleans.bin_of(0.0) == 0


@pytest.mark.parametrize("kind", ["number", "date", "category", "boolean"])
def test_the_training_shares_are_those_the_period_bins_would_give_the_same_values(kind):
    """`of` counts from its sorted numbers or value counts; `shares_of` (a period's values) bins each
    value: the two must agree, ties at the edges, missing, infinite and unseen values included."""
    rng = random.Random(7)
    pools = {
        "number": [float(rng.randint(0, 30)) for _ in range(50)] + [None, math.nan, math.inf, -math.inf],
        "date": [rng.uniform(0, 900) for _ in range(40)] + [None, math.nan],
        "category": [f"plan {i}" for i in range(30)] + [None, math.nan, ""],
        "boolean": [1.0, 0.0, True, None, math.nan],
    }
    values = [rng.choice(pools[kind]) for _ in range(3000)]
    reference = FeatureReference.of("x", kind, values)
    shares, n = reference.shares_of(values)
    assert n == len(values)
    assert reference.shares == pytest.approx(shares, abs=1e-12)
    assert sum(reference.shares) == pytest.approx(1.0)


def test_a_reference_survives_its_dictionary_form():
    reference = _reference()
    assert DriftReference.from_dict(reference.to_dict()) == reference


def _reference() -> DriftReference:
    rng = random.Random(7)
    rows = 2000
    columns = {
        "tenure": [rng.uniform(0, 72) for _ in range(rows)],
        "Contract": [rng.choice(["Month-to-month", "One year", "Two year"]) for _ in range(rows)],
        "Partner": [float(rng.random() < 0.5) for _ in range(rows)],
        "signed_on": [rng.uniform(0, 365) for _ in range(rows)],
    }
    kinds = {f.name: f.kind.value for f in SCHEMA.features}
    return DriftReference.build(kinds, columns, [rng.random() for _ in range(500)])


def _record(reference: DriftReference | None) -> ModelRecord:
    summary = TrainingSummary(
        "logistic_regression", {}, {"roc_auc": 0.8}, "telco", "h", 2000, SCHEMA, 1.0, T0, T0, drift_reference=reference
    )
    return ModelRecord(REF, summary)


def _measure(reference: DriftReference | None, predictions: list[Prediction], sample_limit: int = 50_000) -> MeasureDrift:
    records = InMemoryModelRecordRepository()
    records.save(_record(reference))
    store = InMemoryPredictionRepository()
    store.add_many(predictions)
    return MeasureDrift(records, store, FakeClock(T0 + timedelta(days=40)), sample_limit)


def _predictions(n: int, tenure, contract, days_ago: float = 1.0, ref: ModelRef = REF, seed: int = 1) -> list[Prediction]:
    rng = random.Random(seed)
    at = T0 + timedelta(days=40 - days_ago)
    return [
        Prediction(
            f"p{seed}-{i}", f"c{i}",
            {"tenure": tenure(rng), "Contract": contract(rng), "Partner": rng.random() < 0.5, "signed_on": "2025-09-01"},
            rng.random(), ref, at + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def test_customers_like_the_training_data_read_stable_and_a_moved_feature_reads_shifted():
    like = _predictions(3000, lambda r: r.uniform(0, 72), lambda r: r.choice(["Month-to-month", "One year", "Two year"]))
    report = _measure(_reference(), like).execute(REF, 30)
    drift = {d.name: d for d in report.features}
    assert report.predictions == 3000 and not report.sampled and report.reference_rows == 2000
    assert drift["tenure"].reading is Reading.STABLE and drift["Contract"].reading is Reading.STABLE
    assert drift["Partner"].reading is Reading.STABLE and report.probability.reading is Reading.STABLE
    # every stored date is 153 days before the reference: one decile bin holds them all
    assert drift["signed_on"].reading is Reading.SHIFTED and report.reading is Reading.SHIFTED

    moved = _predictions(3000, lambda r: r.uniform(60, 72), lambda r: "Month-to-month")
    drift = {d.name: d for d in _measure(_reference(), moved).execute(REF, 30).features}
    assert drift["tenure"].reading is Reading.SHIFTED and drift["Contract"].reading is Reading.SHIFTED
    assert [b.label for b in drift["Contract"].bins][-2:] == [OTHER, MISSING]
    assert sum(b.actual for b in drift["tenure"].bins) == pytest.approx(1.0)


def test_only_the_period_and_the_version_count_and_the_newest_are_kept_past_the_limit():
    inside = _predictions(30, lambda r: 5.0, lambda r: "One year", days_ago=2, seed=1)
    old = _predictions(30, lambda r: 5.0, lambda r: "One year", days_ago=45, seed=2)
    other = _predictions(30, lambda r: 5.0, lambda r: "One year", ref=ModelRef("churn-logistic_regression", 2), seed=3)
    report = _measure(_reference(), inside + old + other, sample_limit=20).execute(REF, 30)
    assert report.predictions == 20 and report.sampled
    assert report.until - report.since == timedelta(days=30)


def test_a_period_without_predictions_has_no_psi_and_no_reading():
    report = _measure(_reference(), []).execute(REF, 7)
    assert report.predictions == 0 and report.reading is None
    assert all(d.psi is None and d.reading is None for d in (report.probability, *report.features))


def test_a_version_trained_before_drift_references_says_so_and_bad_requests_are_refused():
    with pytest.raises(DriftReferenceMissingError, match="trained before drift references"):
        _measure(None, []).execute(REF, 30)
    with pytest.raises(ModelNotFoundError):
        _measure(_reference(), []).execute(ModelRef("churn-logistic_regression", 9), 30)
    for days in (0, 3651, True):
        with pytest.raises(InvalidRequestError):
            _measure(_reference(), []).execute(REF, days)


def test_a_summary_keeps_its_reference_and_an_older_one_reads_without():
    summary = _record(_reference()).summary
    assert TrainingSummary.from_dict(summary.to_dict()).drift_reference == summary.drift_reference
    older = summary.to_dict()
    del older["drift_reference"]
    assert TrainingSummary.from_dict(older).drift_reference is None
