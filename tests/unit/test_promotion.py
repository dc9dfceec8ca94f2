"""Safe promotion, the decision threshold and the hold-out floor: domain rules and the training use case on fakes."""

from __future__ import annotations

import pytest

from churn.decision import ThresholdRule, is_churn
from churn.errors import InvalidRequestError
from churn.versions import ModelRef
from churn.promotion import Activation, Incumbent, PromotionRule
from churn.training_options import Calibration, TrainingOptions, check_holdout

ACTIVE = ModelRef("churn-lr", 1)
GOOD = {"roc_auc": 0.84, "log_loss": 0.42}


def test_a_first_model_above_the_floor_becomes_active():
    decision = PromotionRule().decide(Activation.IF_BETTER, GOOD, None)
    assert decision.activated and "no model was active" in decision.reason


def test_a_model_below_the_floor_is_not_activated_even_when_none_is_active():
    decision = PromotionRule(min_roc_auc=0.6).decide(Activation.IF_BETTER, {"roc_auc": 0.0}, None)
    assert not decision.activated and "below the floor 0.6" in decision.reason


def test_a_worse_model_leaves_the_active_one_and_says_why():
    decision = PromotionRule().decide(Activation.IF_BETTER, {"roc_auc": 0.70}, Incumbent(ACTIVE, {"roc_auc": 0.84}))
    assert not decision.activated and "churn-lr:1" in decision.reason and "0.8400" in decision.reason


def test_a_better_model_replaces_the_active_one():
    assert PromotionRule().decide(Activation.IF_BETTER, {"roc_auc": 0.86}, Incumbent(ACTIVE, {"roc_auc": 0.84})).activated


def test_a_tie_is_not_better():
    assert not PromotionRule().decide(Activation.IF_BETTER, {"roc_auc": 0.84}, Incumbent(ACTIVE, {"roc_auc": 0.84})).activated


def test_a_lower_is_better_metric_is_compared_the_right_way():
    rule = PromotionRule(metric="log_loss")
    assert rule.decide(Activation.IF_BETTER, {"roc_auc": 0.8, "log_loss": 0.40}, Incumbent(ACTIVE, {"log_loss": 0.45})).activated
    assert not rule.decide(Activation.IF_BETTER, {"roc_auc": 0.8, "log_loss": 0.50}, Incumbent(ACTIVE, {"log_loss": 0.45})).activated


def test_other_features_cannot_be_compared_so_the_active_model_stays():
    decision = PromotionRule().decide(Activation.IF_BETTER, GOOD, Incumbent(ACTIVE, None))
    assert not decision.activated and "other features" in decision.reason


def test_true_and_false_decide_without_looking():
    assert PromotionRule().decide(Activation.ALWAYS, {"roc_auc": 0.1}, Incumbent(ACTIVE, {"roc_auc": 0.9})).activated
    assert not PromotionRule().decide(Activation.NEVER, GOOD, None).activated


def test_unknown_promotion_metric_is_refused():
    with pytest.raises(InvalidRequestError, match="unknown promotion metric"):
        PromotionRule(metric="lift")


@pytest.mark.parametrize(
    "value, expected", [(True, Activation.ALWAYS), (False, Activation.NEVER), ("if_better", Activation.IF_BETTER), (None, Activation.IF_BETTER)]
)
def test_activate_accepts_if_better_true_and_false(value, expected):
    assert Activation.parse(value) is expected


# ---------------------------------------------------------------- threshold


def test_max_f1_picks_the_threshold_that_separates_best():
    labels = [1, 1, 1, 0, 1, 0, 0, 0]
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
    assert ThresholdRule.parse("max_f1").choose(labels, probabilities) == 0.4  # tp 4, fp 1: F1 0.889


def test_costly_missed_churners_lower_the_threshold():
    labels = [1, 0, 1, 0, 0, 1, 0, 0]
    probabilities = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    cheap_offers = ThresholdRule.parse({"cost_false_negative": 10, "cost_false_positive": 1}).choose(labels, probabilities)
    dear_offers = ThresholdRule.parse({"cost_false_negative": 1, "cost_false_positive": 10}).choose(labels, probabilities)
    assert cheap_offers == 0.4 and dear_offers == 0.9  # only the surest churner is worth an offer


def test_a_fixed_threshold_is_kept_and_decides_churn():
    rule = ThresholdRule.parse(0.3)
    assert rule.choose([1, 0], [0.9, 0.1]) == 0.3
    assert is_churn(0.3, 0.3) and not is_churn(0.29, 0.3)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "best", {"cost_false_negative": 1}, {"cost_false_negative": 0, "cost_false_positive": 0}, True])
def test_bad_thresholds_are_refused(bad):
    with pytest.raises(InvalidRequestError):
        ThresholdRule.parse(bad)


# ---------------------------------------------------------------- options and the hold-out floor


def test_a_ten_row_data_set_is_refused_saying_how_many_rows_it_needs():
    with pytest.raises(InvalidRequestError) as refused:
        check_holdout(10, 4)
    assert refused.value.details["rows_needed"] == 125  # 50 churners at a 40 % churn rate
    assert "at least 10 of each" in refused.value.message and "50 customers of each class" in refused.value.message


def test_a_hold_out_with_ten_of_each_class_is_enough():
    check_holdout(100, 50)


def test_svc_needs_a_calibration():
    with pytest.raises(InvalidRequestError, match="svc"):
        TrainingOptions(calibration=Calibration.NONE).calibration_for("svc")
    assert TrainingOptions().calibration_for("logistic_regression") is Calibration.NONE


def test_cv_folds_are_zero_or_two_to_twenty():
    with pytest.raises(InvalidRequestError):
        TrainingOptions(cv_folds=1)
    assert TrainingOptions(cv_folds=0).cv_folds == 0


# ---------------------------------------------------------------- the use case on fakes


def test_a_weak_model_cannot_replace_a_good_active_model_by_default(service):
    service.trainer.roc_auc = 0.84
    good = service.trained(activate="if_better")
    assert good.promotion.activated
    service.trainer.roc_auc = 0.0
    weak = service.trained(activate="if_better")
    assert weak.status.value == "succeeded" and not weak.promotion.activated
    assert service.active.current_ref() == good.model
    assert "below the floor" in weak.promotion.reason


def test_a_better_model_on_the_same_data_replaces_the_active_one(service):
    service.trainer.roc_auc = 0.80
    first = service.trained(activate="if_better")
    service.trainer.roc_auc = 0.86
    better = service.trained(activate="if_better")
    assert better.promotion.activated and service.active.current_ref() == better.model
    service.trainer.roc_auc = 0.82
    worse = service.trained(activate="if_better")
    assert not worse.promotion.activated and service.active.current_ref() == better.model
    assert first.model != better.model


def test_the_predictions_of_a_version_use_its_threshold(service):
    service.trainer.threshold = 0.3
    job = service.trained(base=0.4)
    prediction = service.predict.execute("c1", {"tenure": 3, "plan": "basic"})
    assert prediction.model == job.model and prediction.threshold == 0.3 and prediction.churn
