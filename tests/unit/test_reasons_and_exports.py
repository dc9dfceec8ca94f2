"""Domain rules of issue 13: reasons ranking, value labels, the latest-risk order, CSV neutralisation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from churn.exports import neutralised, risk_row
from churn.predictions import Prediction
from churn.versions import ModelRef
from churn.reasons import NO_REASONS, Reason, Reasons, value_label

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def test_reasons_rank_three_raising_largest_first_and_three_lowering_most_negative_first():
    contributions = {"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.2, "e": -0.4, "f": -0.1, "g": -0.6, "h": -0.2, "z": 0.0}
    features = {"a": 1.0, "b": "Month-to-month", "c": None, "d": 2.5, "e": "Yes", "f": 0.0, "g": 12.0, "h": "No", "z": 1.0}
    reasons = Reasons.rank(contributions, features)
    assert [r.feature for r in reasons.raising] == ["b", "c", "d"]
    assert [r.feature for r in reasons.lowering] == ["g", "e", "h"]
    assert reasons.raising[0] == Reason("b", "Month-to-month", 0.5)
    assert reasons.raising[1].value == "unknown"
    assert Reasons.rank(contributions, features, top=1).lowering == (Reason("g", "12", -0.6),)


def test_a_zero_contribution_is_no_reason_and_reasons_round_trip():
    assert not Reasons.rank({"a": 0.0}, {"a": 1.0})
    reasons = Reasons.rank({"a": 0.25, "b": -1.5}, {"a": "x", "b": 3.0})
    assert Reasons.from_dict(reasons.to_dict()) == reasons
    assert Reasons.from_dict(None) == NO_REASONS


def test_values_read_as_a_person_would_say_them():
    assert [value_label(v) for v in (2.0, 85.7, None, "Fiber optic", float("nan"))] == ["2", "85.7", "unknown", "Fiber optic", "unknown"]


def test_the_latest_prediction_is_the_later_one_then_the_greater_id():
    a = Prediction("a", "c", {}, 0.5, ModelRef("m", 1), T0)
    b = Prediction("b", "c", {}, 0.5, ModelRef("m", 1), T0)
    later = Prediction("0", "c", {}, 0.5, ModelRef("m", 1), T0 + timedelta(microseconds=1))
    assert b.is_newer_than(a) and not a.is_newer_than(b)
    assert later.is_newer_than(b)


def test_cells_a_spreadsheet_would_run_are_neutralised():
    assert [neutralised(c) for c in ("=1+1", "+33", "-2", "@SUM(A1)", "\tx", "plain", "")] == ["'=1+1", "'+33", "'-2", "'@SUM(A1)", "'\tx", "plain", ""]
    reasons = Reasons((Reason("tenure", "2", 0.41),), (Reason("=cmd|' /C calc'!A0", "x", -0.2),))
    row = risk_row(Prediction("p", "@evil", {}, 0.8, ModelRef("churn-lr", 3), T0, reasons))
    assert row[0] == "'@evil" and row[1] == "0.800000" and row[2] == "75-100" and row[3] == "churn-lr:3"
    assert row[5] == "tenure=2 (+0.410)" and row[6].startswith("'=cmd")
