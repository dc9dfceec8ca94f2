"""check_records (churn/feature_batches.py) says what FeatureSchema.check says, record by record."""

from __future__ import annotations

import random

import pytest

from churn.errors import InvalidFeaturesError
from churn import feature_batches
from churn.feature_batches import check_records
from churn.features import FeatureKind, FeatureSchema, FeatureSpec

SCHEMA = FeatureSchema((
    FeatureSpec("tenure", FeatureKind.NUMBER, 12.0),
    FeatureSpec("Contract", FeatureKind.CATEGORY, "Month-to-month", ("Month-to-month", "One year")),
    FeatureSpec("Partner", FeatureKind.BOOLEAN, True, ("Não", "Sim")),
    FeatureSpec("signed_on", FeatureKind.DATE, "01/02/2026", (), "%d/%m/%Y", "2026-03-01T00:00:00"),
))
CHOICES = {
    "tenure": [1, 2.5, 0, None, float("nan"), float("inf"), "3", True, [1]],
    "Contract": ["One year", "Month-to-month", "Sa\u0303o Paulo", None, 7, {"a": 1}],
    "Partner": [True, False, "Sim", "não", "yes", 1, 0, 2, None, "maybe"],
    "signed_on": ["01/02/2026", "2026-02-01", "2026-02-01T10:30:00", None, "31/02/2026", 5],
}


@pytest.mark.parametrize("slice_size", [None, 64], ids=["one slice", "slices of 64 joined"])
@pytest.mark.parametrize("missing", [0.05, 0.0], ids=["some features missing", "every feature present"])
def test_every_record_gets_what_check_gives_or_its_first_problem(monkeypatch, missing, slice_size):
    if slice_size is not None:
        monkeypatch.setattr(feature_batches, "CHECK_SLICE", slice_size)
    rng = random.Random(11)
    records = []
    for _ in range(600):
        record = {name: rng.choice(values) for name, values in CHOICES.items() if rng.random() >= missing}
        record["colour"] = "red"  # not a feature: left out, as pick leaves it
        records.append(record)
    checked = check_records(SCHEMA, records)
    kept = iter(zip(checked.kept, checked.rows, checked.encoded, strict=True))
    problems = dict(checked.problems)
    assert len(checked.kept) + len(problems) == len(records) and checked.kept and problems
    for i, record in enumerate(records):
        try:
            expected = SCHEMA.check(SCHEMA.pick(record))
        except InvalidFeaturesError as exc:
            assert problems[i] == exc.problems[0]
            continue
        index, row, encoded = next(kept)
        assert index == i and row == expected and list(row) == list(expected)
        assert encoded == SCHEMA.encode(expected)
    assert checked.columns.clean_rows() == checked.rows and len(checked.columns) == len(checked.kept)
