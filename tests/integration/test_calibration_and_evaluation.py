"""Calibration, cross-validation and the threshold on the real trainer; compiled parity of calibrated
models; and the skops trusted-types list covering every pipeline the trainer builds."""

from __future__ import annotations

import numpy as np
import pytest
import skops.io
from sklearn.frozen import FrozenEstimator

from adapters.fast_scoring import PARITY_TOLERANCE, to_frame
from adapters.mlflow_registry import TRUSTED_TYPES
from adapters.sklearn_trainer import SklearnTrainer, expected_calibration_error
from churn.decision import ThresholdRule
from churn.errors import TrainingFailedError
from churn.model_types import CATALOG, model_type
from churn.training_options import Calibration, TrainingOptions
from tests.integration.test_trainer import CONTENT, DATASET, customers_csv, dataset, rows_of

SMALL = {"n_estimators": 10}
PAIRS = [(m.name, c) for m in CATALOG for c in Calibration if not (m.name == "svc" and c is Calibration.NONE)]


def small(name: str) -> dict:
    return SMALL if "n_estimators" in model_type(name).resolve({}) else {}


@pytest.mark.parametrize("name, calibration", PAIRS)
def test_every_type_and_calibration_is_served_compiled_within_parity_and_stored_with_trusted_types(name, calibration):
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type(name), small(name), options=TrainingOptions(calibration=calibration, cv_folds=0))
    model = trained.model
    assert trained.evaluation.calibration == calibration.value
    assert model.serving_path != "sklearn" and model.parity <= PARITY_TOLERANCE
    if calibration is not Calibration.NONE and name != "svc":
        assert model.serving_path.endswith(f"+{calibration.value}")
    rows = rows_of(model)
    reference = model.pipeline.predict_proba(to_frame(rows, model.schema))[:, 1]
    assert np.max(np.abs(np.array([model.score(r) for r in rows]) - reference)) <= PARITY_TOLERANCE
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(model.pipeline))) <= set(TRUSTED_TYPES)


@pytest.mark.parametrize("name, calibration", [(n, c) for n, c in PAIRS if c is not Calibration.NONE])
def test_with_cross_validation_one_model_is_calibrated_on_the_folds_out_of_fold_scores(name, calibration):
    """ensemble=False calibration: the version is one model fitted on the whole training split (SVC
    included), its calibrator fitted on the k fold models' scores of those rows, served compiled."""
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type(name), small(name), options=TrainingOptions(calibration=calibration, cv_folds=3))
    model = trained.model
    calibrated = model.pipeline.named_steps["model"]
    assert isinstance(calibrated.estimator, FrozenEstimator) and len(calibrated.calibrated_classifiers_) == 1
    calibrator = calibrated.calibrated_classifiers_[0].calibrators[0]
    if calibration is Calibration.ISOTONIC:  # fitted on the 240 training rows' scores, not on the few that shaped it
        assert len(calibrator.X_thresholds_) > 10
    assert trained.evaluation.cross_validation.folds == 3 and trained.evaluation.calibration == calibration.value
    assert model.serving_path != "sklearn" and model.parity <= PARITY_TOLERANCE
    rows = rows_of(model)
    reference = model.pipeline.predict_proba(to_frame(rows, model.schema))[:, 1]
    assert np.max(np.abs(np.asarray(model.score_many(rows)) - reference)) <= PARITY_TOLERANCE
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(model.pipeline))) <= set(TRUSTED_TYPES)


def test_knn_on_a_larger_set_keeps_a_search_tree_that_is_trusted_too():
    content = customers_csv(rows=1500, seed=11)
    trained = SklearnTrainer().train(dataset(content), content, model_type("knn"), {}, options=TrainingOptions(cv_folds=0))
    assert set(skops.io.get_untrusted_types(data=skops.io.dumps(trained.model.pipeline))) <= set(TRUSTED_TYPES)


def test_cross_validation_reports_mean_and_spread_of_four_metrics():
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=TrainingOptions(cv_folds=3))
    cv = trained.evaluation.cross_validation
    assert cv.folds == 3 and cv.skipped is None
    assert set(cv.mean) == set(cv.std) == {"roc_auc", "pr_auc", "log_loss", "brier"}
    assert 0.5 < cv.mean["roc_auc"] <= 1 and cv.std["roc_auc"] > 0


def test_cross_validation_is_skipped_above_the_row_limit_and_says_so():
    trained = SklearnTrainer(cv_max_rows=100).train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=TrainingOptions())
    cv = trained.evaluation.cross_validation
    assert cv.folds == 0 and "CHURN_CV_MAX_ROWS" in cv.skipped


def test_a_data_driven_threshold_is_chosen_on_out_of_fold_predictions_and_used_by_the_metrics():
    options = TrainingOptions(threshold=ThresholdRule.parse({"cost_false_negative": 20, "cost_false_positive": 1}), cv_folds=3)
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=options)
    assert trained.model.threshold < 0.5  # missing a churner costs 20 offers: flag more customers
    assert "cross-validation" in trained.evaluation.threshold_source
    default = SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=TrainingOptions(cv_folds=0))
    assert trained.metrics["recall"] > default.metrics["recall"]
    assert trained.metrics["roc_auc"] == default.metrics["roc_auc"]  # the probabilities are the same model's
    confusion = trained.evaluation.confusion
    assert confusion["true_positive"] / (confusion["true_positive"] + confusion["false_negative"]) == pytest.approx(trained.metrics["recall"], abs=1e-6)


def test_evaluation_curves_are_thinned_and_the_reliability_bins_cover_the_hold_out():
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type("random_forest"), {"n_estimators": 50}, options=TrainingOptions(cv_folds=0))
    e = trained.evaluation
    assert len(e.reliability) == 10 and sum(b.count for b in e.reliability) == e.holdout_rows
    assert 2 <= len(e.roc) <= 200 and (e.roc[0].x, e.roc[-1].x, e.roc[-1].y) == (0.0, 1.0, 1.0)
    assert 2 <= len(e.pr) <= 200
    assert {name for name, _ in e.importances} == set(trained.model.schema.names)
    assert "native" in e.importance_kind


def test_ece_of_perfectly_calibrated_bins_is_zero_and_of_a_constant_is_its_gap():
    y = np.array([0, 0, 0, 1] * 25)
    assert expected_calibration_error(y, np.full(100, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.65)) == pytest.approx(0.40)


def test_permutation_importances_for_a_model_without_native_ones():
    trained = SklearnTrainer().train(DATASET, CONTENT, model_type("knn"), {}, options=TrainingOptions(cv_folds=0))
    assert "permutation" in trained.evaluation.importance_kind
    assert {name for name, _ in trained.evaluation.importances} == set(trained.model.schema.names)


def test_the_trainer_refuses_a_hold_out_with_fewer_than_ten_of_a_class():
    content = customers_csv(rows=60, seed=3)
    with pytest.raises(TrainingFailedError, match="at least 10"):
        SklearnTrainer().train(dataset(content), content, model_type("logistic_regression"), {}, options=TrainingOptions(cv_folds=0))


def test_charts_are_drawn_only_for_a_registry_that_keeps_them():
    """Drawing is a second of CPU: the trainer draws when the container says a registry keeps charts."""
    options = TrainingOptions(cv_folds=0)
    assert SklearnTrainer().train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=options).reports == {}
    drawn = SklearnTrainer(draw_reports=True).train(DATASET, CONTENT, model_type("logistic_regression"), {}, options=options).reports
    assert sorted(drawn) == [
        "confusion_matrix.png", "feature_importances.csv", "feature_importances.png", "pr_curve.png", "reliability_diagram.png", "roc_curve.png",
    ]
    assert all(content.startswith(b"\x89PNG") for name, content in drawn.items() if name.endswith(".png"))
