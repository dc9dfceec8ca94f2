"""Contributions of the scikit-learn models (adapters/fast_scoring/explain.py): exact for linear
models, TreeSHAP for trees (checked against `shap` itself and by additivity), baseline substitution
for the rest."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from adapters.fast_scoring import to_frame
from adapters.fast_scoring import explain, tree_shap
from adapters.fast_scoring.encoding import RowEncoder
from adapters.fast_scoring.explain import TRAINING_MEANS
from adapters.sklearn_trainer import SklearnTrainer
from churn.model_types import CATALOG, model_type
from churn.reasons import ExplanationMethod, Reasons
from churn.training_options import Calibration, TrainingOptions
from tests.integration.test_trainer import CONTENT, DATASET, rows_of, sklearn_p

METHODS = {
    "logistic_regression": ExplanationMethod.LINEAR,
    "random_forest": ExplanationMethod.TREE_SHAP,
    "gradient_boosting": ExplanationMethod.TREE_SHAP,
    "decision_tree": ExplanationMethod.TREE_SHAP,
    "svc": ExplanationMethod.BASELINE_SUBSTITUTION,
    "knn": ExplanationMethod.BASELINE_SUBSTITUTION,
}


@pytest.fixture(scope="module", params=[m.name for m in CATALOG])
def model(request: pytest.FixtureRequest):
    # Uncalibrated where the type allows it, so the checks below compare with the model itself
    # (calibrated models, explained through the model inside the calibrator, are tested further down).
    options = TrainingOptions(calibration=Calibration.NONE if request.param not in ("svc",) else None, cv_folds=0)
    hyper = {"n_estimators": 20} if request.param in ("random_forest", "gradient_boosting") else {}
    trained = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(request.param), hyper, options=options)
    return request.param, trained.model


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def test_each_type_names_its_method_and_explains_every_feature(model) -> None:
    name, m = model
    assert m.explanation_method == METHODS[name]
    rows = rows_of(m)
    many = m.explain_many(rows)
    assert all(set(c) == set(m.schema.names) for c in many)
    for row, contributions in zip(rows[:20], many[:20], strict=True):
        one = m.explain(row)
        assert one.keys() == contributions.keys()
        assert all(math.isclose(one[k], contributions[k], rel_tol=1e-9, abs_tol=1e-9) for k in one)
    reasons = Reasons.rank(many[0], rows[0])
    assert all(r.contribution > 0 for r in reasons.raising) and all(r.contribution < 0 for r in reasons.lowering)


def test_reasons_of_many_rows_are_each_rows_ranking(model) -> None:
    _, m = model
    rows = rows_of(m)
    labels = [{k: (f"label-{v}" if isinstance(v, float) else v) for k, v in row.items()} for row in rows]
    expected = [Reasons.rank(c, label) for c, label in zip(m.explain_many(rows), labels, strict=True)]
    assert m.reasons_many(rows, labels) == expected
    assert m.reasons_many(rows, labels, top=1) == [Reasons.rank(c, label, 1) for c, label in zip(m.explain_many(rows), labels, strict=True)]
    assert m.reasons_many([], []) == []


def test_linear_contributions_add_up_to_the_log_odds_from_the_training_means(model) -> None:
    name, m = model
    if name != "logistic_regression":
        pytest.skip("linear models only")
    estimator = m.pipeline.steps[-1][1]
    means = getattr(m.pipeline, TRAINING_MEANS)
    baseline = float(estimator.intercept_[0] + estimator.coef_[0] @ means)
    rows = rows_of(m)
    totals = np.array([sum(c.values()) for c in m.explain_many(rows)])
    assert np.allclose(totals + baseline, logit(sklearn_p(m, rows)), atol=1e-9)


def test_tree_contributions_are_shap_values_summed_per_feature(model) -> None:
    name, m = model
    if METHODS[name] != ExplanationMethod.TREE_SHAP:
        pytest.skip("tree models only")
    import shap

    rows = rows_of(m)
    encoded = m.pipeline[:-1].transform(to_frame(rows, m.schema))
    explainer = shap.TreeExplainer(m.pipeline.steps[-1][1], feature_perturbation="tree_path_dependent")
    values = explainer.shap_values(encoded)
    values = np.asarray(values[1] if isinstance(values, list) else values)
    if values.ndim == 3:
        values = values[:, :, 1]
    expected_value = float(np.atleast_1d(explainer.expected_value)[-1])
    totals = np.array([sum(c.values()) for c in m.explain_many(rows)])
    assert np.allclose(totals, values.sum(axis=1), atol=1e-9)
    raw = logit(sklearn_p(m, rows)) if name == "gradient_boosting" else sklearn_p(m, rows)
    assert np.allclose(totals + expected_value, raw, atol=1e-6)  # additivity: what shap promises


def shap_per_feature(m, rows: list[dict]) -> np.ndarray:
    """shap's own path-dependent TreeSHAP of the model's estimator, summed per feature."""
    import shap

    encoded = m.pipeline[:-1].transform(to_frame(rows, m.schema)).astype(np.float32)
    values = shap.TreeExplainer(m.pipeline.steps[-1][1], feature_perturbation="tree_path_dependent").shap_values(encoded, check_additivity=False)
    values = np.asarray(values[1] if isinstance(values, list) else values)
    if values.ndim == 3:
        values = values[:, :, 1]
    return values @ explain.aggregation(RowEncoder.compile(m.pipeline.steps[0][1]), m.schema.names)


@pytest.mark.parametrize(
    "name, hyper",
    [
        ("random_forest", {"n_estimators": 10, "max_depth": 3}),  # at most 7 splits a tree: one table per tree
        ("gradient_boosting", {"n_estimators": 20, "max_depth": 5}),  # more: one table per leaf, columns repeated on paths
        ("decision_tree", {"max_depth": 8}),
    ],
)
def test_tree_shap_tables_give_shaps_values_and_shap_serves_trees_too_deep_for_them(monkeypatch, name, hyper) -> None:
    m = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(name), hyper, options=TrainingOptions(calibration=Calibration.NONE, cv_folds=0)).model
    encoder, estimator = RowEncoder.compile(m.pipeline.steps[0][1]), m.pipeline.steps[-1][1]
    rows = rows_of(m)
    expected = shap_per_feature(m, rows)
    tables = explain.TreeShapExplainer(encoder, estimator, m.schema.names)
    assert tables.engine == "tables"
    assert np.allclose(tables.matrix(rows), expected, rtol=0, atol=1e-12)
    assert np.array_equal(tables.matrix(rows[:1]), tables.matrix(rows)[:1])  # a row's values do not depend on its batch
    monkeypatch.setattr(tree_shap, "MAX_BITS", 2)
    through_shap = explain.TreeShapExplainer(encoder, estimator, m.schema.names)
    assert through_shap.engine == "shap"
    assert np.allclose(through_shap.matrix(rows), expected, rtol=0, atol=1e-12)


def test_baseline_substitution_gives_zero_to_a_feature_at_its_baseline(model) -> None:
    name, m = model
    if METHODS[name] != ExplanationMethod.BASELINE_SUBSTITUTION:
        pytest.skip("model-agnostic method only")
    baseline = m.schema.example()
    row = {**m.probe_rows[0], "tenure": baseline["tenure"]}
    assert m.explain(row)["tenure"] == 0.0
    everything_at_baseline = m.explain(baseline)
    assert all(value == 0.0 for value in everything_at_baseline.values())


@pytest.mark.parametrize("name", ["random_forest", "gradient_boosting", "decision_tree"])
def test_forests_too_deep_for_tree_shap_are_explained_by_paths_that_add_up(monkeypatch, name) -> None:
    monkeypatch.setattr(explain, "TREE_SHAP_BUDGET", 0)
    hyper = {"n_estimators": 15} if name != "decision_tree" else {}
    m = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(name), hyper, options=TrainingOptions(calibration=Calibration.NONE, cv_folds=0)).model
    assert m.explanation_method == ExplanationMethod.TREE_PATH
    rows = rows_of(m)
    many = m.explain_many(rows)
    for row, contributions in zip(rows[:10], many[:10], strict=True):
        one = m.explain(row)
        assert all(math.isclose(one[k], contributions[k], abs_tol=1e-9) for k in one)
    trees, scale, node_values = explain.tree_parts(m.pipeline.steps[-1][1])
    root = sum(scale * float(node_values(t.tree_.value)[0]) for t in trees)
    if name == "gradient_boosting":
        from adapters.fast_scoring.trees import _boosting_init

        raw, root = logit(sklearn_p(m, rows)), root + _boosting_init(m.pipeline.steps[-1][1])
    else:
        raw = sklearn_p(m, rows)
    totals = np.array([sum(c.values()) for c in many])
    assert np.allclose(totals + root, raw, atol=1e-9)
    paths = explain.tree_explainer(RowEncoder.compile(m.pipeline.steps[0][1]), m.pipeline.steps[-1][1], m.schema.names)
    x = m.pipeline[:-1].transform(to_frame(rows, m.schema))
    assert paths.averaged == (name != "gradient_boosting")
    if paths.averaged:  # a forest's probability from the same walk of its trees: scikit-learn's to the bit
        p, contributions = paths.scored(x)
        assert np.array_equal(p, m.pipeline.steps[-1][1].predict_proba(x)[:, 1])
        assert np.array_equal(contributions, paths.of_encoded(x, lambda: rows))


@pytest.mark.parametrize(
    "name, calibration, method",
    [
        ("random_forest", Calibration.ISOTONIC, ExplanationMethod.TREE_SHAP),
        ("gradient_boosting", Calibration.SIGMOID, ExplanationMethod.TREE_SHAP),
        ("logistic_regression", Calibration.SIGMOID, ExplanationMethod.LINEAR),
    ],
)
def test_a_calibrated_model_is_explained_exactly_through_the_model_inside_its_calibrator(name, calibration, method) -> None:
    hyper = {"n_estimators": 20} if name != "logistic_regression" else {}
    options = TrainingOptions(calibration=calibration, cv_folds=0)
    m = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type(name), hyper, options=options).model
    assert m.serving_path.endswith(f"+{calibration.value}") and m.explanation_method == method
    inner = m.pipeline.steps[-1][1].estimator.estimator  # CalibratedClassifierCV(FrozenEstimator(model))
    rows = rows_of(m)
    encoded = m.pipeline[:-1].transform(to_frame(rows, m.schema))
    p_inner = inner.predict_proba(encoded)[:, 1]
    totals = np.array([sum(c.values()) for c in m.explain_many(rows)])
    if name == "random_forest":
        import shap

        expected = float(np.atleast_1d(shap.TreeExplainer(inner, feature_perturbation="tree_path_dependent").expected_value)[-1])
        assert np.allclose(totals + expected, p_inner, atol=1e-6)  # the forest's own probability, not the calibrated one
        assert not np.allclose(p_inner, sklearn_p(m, rows), atol=1e-3)
    elif name == "gradient_boosting":
        import shap

        expected = float(np.atleast_1d(shap.TreeExplainer(inner, feature_perturbation="tree_path_dependent").expected_value)[-1])
        assert np.allclose(totals + expected, logit(p_inner), atol=1e-6)
    else:
        baseline = float(inner.intercept_[0] + inner.coef_[0] @ getattr(m.pipeline, TRAINING_MEANS))
        assert np.allclose(totals + baseline, logit(p_inner), atol=1e-9)


def test_a_deep_calibrated_forest_is_explained_by_its_paths_one_row_as_in_batches(monkeypatch) -> None:
    monkeypatch.setattr(explain, "TREE_SHAP_BUDGET", 0)
    options = TrainingOptions(calibration=Calibration.ISOTONIC, cv_folds=0)
    m = SklearnTrainer(seed=42).train(DATASET, CONTENT, model_type("random_forest"), {"n_estimators": 15}, options=options).model
    assert m.explanation_method == ExplanationMethod.TREE_PATH
    inner = m.pipeline.steps[-1][1].estimator.estimator
    rows = rows_of(m)
    # the credits of a row's path add up to its leaf's value minus the root's, tree by tree
    x = m.pipeline[:-1].transform(to_frame(rows, m.schema)).astype(np.float32)
    by_hand = np.zeros(len(rows))
    for tree in inner.estimators_:
        t = tree.tree_
        p = t.value[:, 0, 1] / t.value[:, 0].sum(axis=1)
        leaves = t.apply(x)
        by_hand += (p[leaves] - p[0]) / len(inner.estimators_)
    many = m.explain_many(rows)
    assert np.allclose([sum(c.values()) for c in many], by_hand, atol=1e-9)
    owner = explain.aggregation(RowEncoder.compile(m.pipeline.steps[0][1]), m.schema.names).argmax(axis=1)
    for i in range(5):  # per feature: every split on the path credits its feature with the change it causes
        credits = np.zeros(len(m.schema.names))
        for tree in inner.estimators_:
            t = tree.tree_
            p = t.value[:, 0, 1] / t.value[:, 0].sum(axis=1)
            path = t.decision_path(x[i : i + 1]).indices  # node ids rise along a path
            for parent, child in itertools.pairwise(path):
                credits[owner[t.feature[parent]]] += (p[child] - p[parent]) / len(inner.estimators_)
        assert np.allclose([many[i][name] for name in m.schema.names], credits, atol=1e-9)
    for row, contributions in zip(rows[:10], many[:10], strict=True):
        one = m.explain(row)
        assert all(math.isclose(one[k], contributions[k], abs_tol=1e-9) for k in one)


def test_the_vectorised_ranking_breaks_ties_by_feature_name_like_the_domain() -> None:
    names = ["tenure", "Contract", "age", "Zone", "plan"]
    rows = np.array([[0.5, 0.5, -0.2, -0.2, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [-1.0, 2.0, 2.0, -1.0, 2.0]])
    for row, (up, down) in zip(rows, explain.ranked(names, rows, 3), strict=True):
        expected = Reasons.rank(dict(zip(names, row.tolist(), strict=True)), {})
        assert Reasons.of_ranked(up, down, {}) == expected
