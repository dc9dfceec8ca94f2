import os
import uuid
from datetime import datetime, timezone

import pytest

from churn.errors import InvalidBandError, InvalidFeaturesError, InvalidPageError, InvalidRequestError
from churn.bands import Band, ProbabilityRange
from churn.features import FeatureKind, FeatureSchema, FeatureSpec
from churn.ids import fresh_id
from churn.paging import PageRequest
from churn.predictions import Prediction, PredictionCursor
from churn.versions import ModelFilter, ModelRef

SCHEMA = FeatureSchema(
    (
        FeatureSpec("tenure", FeatureKind.NUMBER, 12.0),
        FeatureSpec("Contract", FeatureKind.CATEGORY, "Month-to-month", ("Month-to-month", "One year", "Two year")),
    )
)


@pytest.mark.parametrize(
    "probability, band",
    [(0.0, Band.LOW), (0.2499, Band.LOW), (0.25, Band.MEDIUM), (0.5, Band.HIGH), (0.75, Band.VERY_HIGH), (1.0, Band.VERY_HIGH)],
)
def test_band_edges_are_half_open_and_the_last_band_includes_one(probability, band):
    assert Band.of(probability) is band


def test_unknown_band_label_lists_the_allowed_values():
    with pytest.raises(InvalidBandError) as info:
        Band.parse("80-100")
    assert "0-25, 25-50, 50-75, 75-100" in info.value.message


@pytest.mark.parametrize("low, high", [(0.5, 0.5), (0.7, 0.2), (-0.1, 0.5), (0.2, 1.5), (float("nan"), 0.5)])
def test_probability_range_rejects_empty_or_out_of_bounds_intervals(low, high):
    with pytest.raises(InvalidBandError):
        ProbabilityRange(low, high)


def test_schema_check_returns_features_in_order_with_numbers_as_floats():
    assert SCHEMA.check({"Contract": "One year", "tenure": 3}) == {"tenure": 3.0, "Contract": "One year"}


def test_schema_check_accepts_null_as_unknown_and_unseen_categories():
    assert SCHEMA.check({"tenure": None, "Contract": "Weekly"}) == {"tenure": None, "Contract": "Weekly"}


def test_schema_check_lists_every_problem_and_carries_a_complete_example():
    with pytest.raises(InvalidFeaturesError) as info:
        SCHEMA.check({"tenure": "twelve", "Colour": "red"})
    problems = {p.feature: p.problem for p in info.value.problems}
    assert problems == {
        "tenure": "expected a number, got a string",
        "Contract": "missing",
        "Colour": "unknown feature for this model",
    }
    assert info.value.expected_example == {"tenure": 12.0, "Contract": "Month-to-month"}


def test_schema_problems_never_echo_the_submitted_value():
    with pytest.raises(InvalidFeaturesError) as info:
        SCHEMA.check({"tenure": "secret-value-123", "Contract": 7})
    text = info.value.message + " ".join(p.problem for p in info.value.problems)
    assert "secret-value-123" not in text and "7" not in text


@pytest.mark.parametrize("value", [True, [1], {"a": 1}, float("inf")])
def test_booleans_lists_objects_and_infinity_are_not_numbers(value):
    with pytest.raises(InvalidFeaturesError):
        SCHEMA.check({"tenure": value, "Contract": "One year"})


def test_a_category_must_be_a_string():
    with pytest.raises(InvalidFeaturesError) as info:
        SCHEMA.check({"tenure": 1, "Contract": 2})
    assert info.value.problems[0].problem.startswith("expected a string")


def test_schema_round_trips_through_dict():
    assert FeatureSchema.from_dict(SCHEMA.to_dict()) == SCHEMA


@pytest.mark.parametrize("name, version", [("", 1), ("a b", 1), ("ok", 0), ("ok", True)])
def test_model_ref_rejects_bad_names_and_versions(name, version):
    with pytest.raises(InvalidRequestError):
        ModelRef(name, version)


def test_model_filter_matches_by_name_or_exact_version():
    assert ModelFilter.parse("churn-lr").matches(ModelRef("churn-lr", 3))
    assert not ModelFilter.parse("churn-lr:2").matches(ModelRef("churn-lr", 3))
    with pytest.raises(InvalidRequestError):
        ModelFilter.parse("churn-lr:x")


def test_model_ref_parses_what_str_writes_and_needs_the_version():
    assert ModelRef.parse(str(ModelRef("churn-lr", 12))) == ModelRef("churn-lr", 12)
    for text in ("churn-lr", "churn-lr:0", "bad name:1"):
        with pytest.raises(InvalidRequestError):
            ModelRef.parse(text)


@pytest.mark.parametrize("limit, offset", [(0, 0), (1001, 0), (10, -1)])
def test_page_request_bounds(limit, offset):
    with pytest.raises(InvalidPageError):
        PageRequest(limit, offset)


def test_cursor_round_trips_and_rejects_garbage():
    p = Prediction.new("c1", {}, 0.8, ModelRef("m", 1), datetime(2026, 1, 1, tzinfo=timezone.utc))
    cursor = PredictionCursor.after(p)
    assert PredictionCursor.decode(cursor.encode()) == cursor
    with pytest.raises(InvalidPageError):
        PredictionCursor.decode("not-a-cursor")


def test_prediction_decision_and_band_follow_the_probability():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert Prediction.new(None, {}, 0.5, ModelRef("m", 1), now).churn is True
    assert Prediction.new(None, {}, 0.49, ModelRef("m", 1), now).churn is False
    assert Prediction.new(None, {}, 0.49, ModelRef("m", 1), now).band is Band.MEDIUM


@pytest.mark.parametrize(
    "minimum, maximum, expected",
    [
        (0.0, 0.25, (Band.LOW,)),
        (0.75, 1.0, (Band.VERY_HIGH,)),
        (0.25, 0.75, (Band.MEDIUM, Band.HIGH)),
        (0.0, 1.0, (Band.LOW, Band.MEDIUM, Band.HIGH, Band.VERY_HIGH)),
        (0.3, 0.8, None),
        (0.25, 0.8, None),
        (0.2, 0.75, None),
        (0.1, 0.2, None),
        (0.25, 0.5000000000000001, None),
    ],
)
def test_band_covering_gives_the_bands_exactly_making_up_a_range(minimum, maximum, expected):
    assert Band.covering(ProbabilityRange(minimum, maximum)) == expected


def test_upsert_plan_counts_new_changed_and_unchanged_and_repeats_against_the_last_write():
    from churn.customers import Customer, UpsertPlan

    stored = {"A": {"tenure": 1.0}, "B": {"tenure": 2.0}}
    batch = [Customer("A", {"tenure": 1.0}), Customer("B", {"tenure": 3.0}), Customer("C", {"tenure": 4.0}), Customer("C", {"tenure": 4.0})]
    plan = UpsertPlan.of(stored, batch)
    assert (plan.report.inserted, plan.report.updated, plan.report.unchanged) == (1, 1, 2)
    assert list(plan.inserts) == ["C"] and list(plan.replaces) == ["B"]


def test_fresh_ids_are_uuid4_hex_and_do_not_repeat():
    ids = [fresh_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(hex=i).version == 4 and uuid.UUID(hex=i).variant == uuid.RFC_4122 and len(i) == 32 for i in ids[:100])


def test_a_forked_child_draws_other_ids_than_its_parent():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: send one id and leave without running the rest of the test session
        os.write(write, fresh_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child_id = os.read(read, 64).decode()
    assert child_id != fresh_id() and len(child_id) == 32
