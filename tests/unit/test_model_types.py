import pytest

from churn.errors import InvalidHyperparametersError, UnknownModelTypeError
from churn.model_types import CATALOG, model_type

REQUIRED = {"logistic_regression", "random_forest", "gradient_boosting", "svc", "decision_tree", "knn"}


def test_catalog_offers_every_required_type_with_valid_defaults():
    assert REQUIRED <= {m.name for m in CATALOG}
    for kind in CATALOG:
        assert kind.resolve({}) == {h.name: h.default for h in kind.hyperparameters}


def test_unknown_model_type_lists_the_valid_ones():
    with pytest.raises(UnknownModelTypeError) as info:
        model_type("xgboost")
    assert all(name in info.value.message for name in REQUIRED)


def test_unknown_hyperparameter_is_named_with_the_allowed_ones():
    with pytest.raises(InvalidHyperparametersError) as info:
        model_type("random_forest").resolve({"n_jobs": -1})
    assert "n_jobs" in info.value.message and "n_estimators" in info.value.message


@pytest.mark.parametrize("value", [100_000, 0, 2.5, "100", True])
def test_out_of_range_or_mistyped_tree_count_is_refused(value):
    with pytest.raises(InvalidHyperparametersError) as info:
        model_type("random_forest").resolve({"n_estimators": value})
    assert "n_estimators" in info.value.message and "1 to 1000" in info.value.message


def test_whole_floats_are_accepted_for_integers_and_null_only_where_nullable():
    assert model_type("random_forest").resolve({"n_estimators": 50.0, "max_depth": None})["n_estimators"] == 50
    with pytest.raises(InvalidHyperparametersError):
        model_type("gradient_boosting").resolve({"max_depth": None})


def test_choice_outside_the_list_is_refused():
    with pytest.raises(InvalidHyperparametersError) as info:
        model_type("svc").resolve({"kernel": "cubic"})
    assert "'rbf'" in info.value.message
