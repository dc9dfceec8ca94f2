"""The fold models read the training split coded as numbers (adapters.sklearn_trainer._coded): their
preprocessing must encode rows exactly as the version's text pipeline does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adapters.sklearn_trainer import MAX_CATEGORIES_PER_COLUMN, _coded, _preprocessor
from churn.features import FeatureKind


def test_coded_rows_are_encoded_like_the_text_with_ties_missing_rare_and_unseen_categories():
    rng = np.random.default_rng(3)
    n = 600
    surnames = np.array([f"name{i:03d}" for i in range(120)], dtype=object)  # wider than the one-hot limit
    frame = pd.DataFrame(
        {
            "tenure": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 72, n).astype(float)),
            "senior": rng.integers(0, 2, n).astype(float),
            "contract": np.array(["Two year", "Month-to-month", "One year", np.nan], dtype=object)[np.arange(n) % 4],  # a four-way tie
            "surname": surnames[rng.integers(0, len(surnames), n)],
        }
    )
    kinds = {"tenure": FeatureKind.NUMBER, "senior": FeatureKind.BOOLEAN, "contract": FeatureKind.CATEGORY, "surname": FeatureKind.CATEGORY}
    fit_rows, other_rows = np.arange(0, 400), np.arange(400, n)  # the other rows hold surnames the fit rows lack
    assert set(frame["surname"].iloc[other_rows]) - set(frame["surname"].iloc[fit_rows])
    text = _preprocessor(kinds).fit(frame.iloc[fit_rows])
    coded_rows = _coded(frame, kinds)
    coded = _preprocessor(kinds, coded=True).fit(coded_rows[fit_rows])
    assert text.transform(frame.iloc[fit_rows]).shape[1] > MAX_CATEGORIES_PER_COLUMN
    np.testing.assert_array_equal(coded.transform(coded_rows[other_rows]), text.transform(frame.iloc[other_rows]))
    np.testing.assert_array_equal(coded.transform(coded_rows[fit_rows]), text.transform(frame.iloc[fit_rows]))
