import pytest

from adapters.memory_registry import InMemoryModelRegistry
from churn.errors import (
    CustomerNotFoundError,
    InvalidFeaturesError,
    InvalidRequestError,
    ModelArtifactError,
    ModelNotFoundError,
    NoActiveModelError,
    RegistryUnavailableError,
)
from churn.bands import Band
from churn.customers import Customer
from churn.paging import PageRequest
from churn.versions import ModelFilter, ModelRef
from churn.services.active_model import ActiveModel
from tests.unit.conftest import make_service

FEATURES = {"tenure": 5, "plan": "basic"}


def test_without_an_active_model_prediction_says_how_to_get_one(service):
    with pytest.raises(NoActiveModelError, match="POST /train"):
        service.predict.execute("c1", FEATURES)


def test_prediction_is_stored_with_its_band_and_model(service):
    service.trained(base=0.8)
    prediction = service.predict.execute("c1", FEATURES)
    assert (prediction.churn_probability, prediction.band, prediction.churn) == (0.8, Band.VERY_HIGH, True)
    assert prediction.model == ModelRef("churn-logistic_regression", 1)
    stored = service.customer_history.execute("c1", PageRequest()).items
    assert stored == [prediction]


def test_wrong_features_store_nothing_and_carry_an_example(service):
    service.trained()
    with pytest.raises(InvalidFeaturesError) as info:
        service.predict.execute("c1", {"tenure": "five"})
    assert info.value.expected_example.keys() == {"tenure", "plan"}
    assert service.band_counts.execute() == dict.fromkeys(Band, 0)


def test_switching_model_changes_next_prediction(service):
    low = service.trained(model_type="knn", base=0.1)
    high = service.trained(model_type="svc", base=0.9)
    assert service.predict.execute(None, FEATURES).model == high.model
    service.use_model.execute(low.model.name, low.model.version)
    prediction = service.predict.execute(None, FEATURES)
    assert (prediction.model, prediction.churn_probability) == (low.model, 0.1)


def test_using_an_unknown_version_is_not_found_and_changes_nothing(service):
    job = service.trained()
    with pytest.raises(ModelNotFoundError):
        service.use_model.execute(job.model.name, 7)
    assert service.active.current_ref() == job.model


def test_a_broken_artifact_keeps_the_previous_model_active():
    registry = InMemoryModelRegistry()
    service = make_service(registry=registry)
    good = service.trained(model_type="knn")
    bad = service.trained(model_type="svc", activate=False)
    registry.break_artifact(bad.model)
    with pytest.raises(ModelArtifactError):
        service.use_model.execute(bad.model.name, bad.model.version)
    assert service.predict.execute(None, FEATURES).model == good.model


def test_another_process_switch_is_followed_after_the_refresh_interval(service):
    first = service.trained(model_type="knn", base=0.1)
    second = service.trained(model_type="svc", base=0.9, activate=False)
    other_process = ActiveModel(service.registry, service.cache, service.clock, refresh_seconds=5.0)
    assert other_process.current()[0] == first.model
    service.use_model.execute(second.model.name, second.model.version)
    assert other_process.current()[0] == first.model
    service.clock.advance(5.0)
    assert other_process.current()[0] == second.model


def test_a_background_refresh_follows_a_switch_before_any_request_would(service):
    """What the serving process's follower thread calls: no request then waits for the registry."""
    first = service.trained(model_type="knn", base=0.1)
    second = service.trained(model_type="svc", base=0.9, activate=False)
    other_process = ActiveModel(service.registry, service.cache, service.clock, refresh_seconds=5.0)
    assert other_process.current()[0] == first.model
    service.use_model.execute(second.model.name, second.model.version)
    other_process.refresh()
    assert other_process.current()[0] == second.model


def test_a_background_refresh_with_the_registry_away_keeps_the_current_version(service, monkeypatch):
    job = service.trained()
    monkeypatch.setattr(service.registry, "active", lambda: (_ for _ in ()).throw(RegistryUnavailableError("model registry unreachable")))
    service.active.refresh()
    assert service.active.current()[0] == job.model


def test_predictions_keep_working_when_the_registry_goes_away(service, monkeypatch):
    job = service.trained()

    def down():
        raise RegistryUnavailableError("model registry unreachable")

    monkeypatch.setattr(service.registry, "active", down)
    service.clock.advance(60)
    assert service.predict.execute(None, FEATURES).model == job.model


def test_batch_scores_every_row_or_stores_none(service):
    service.trained(base=0.3)
    with pytest.raises(InvalidFeaturesError) as info:
        service.predict_batch.execute([("a", FEATURES), ("b", {"tenure": 1})])
    assert [p.feature for p in info.value.problems] == ["items[1].plan"]
    assert sum(service.band_counts.execute().values()) == 0
    predictions = service.predict_batch.execute([("a", FEATURES), ("b", FEATURES)])
    assert [p.customer_id for p in predictions] == ["a", "b"]
    assert service.band_counts.execute()[Band.MEDIUM] == 2


def test_empty_batch_is_refused(service):
    service.trained()
    with pytest.raises(InvalidRequestError):
        service.predict_batch.execute([])


def test_stored_customer_is_scored_from_its_record(service):
    service.trained(base=0.6)
    service.customers.upsert_many([Customer("c9", {"tenure": 4.0, "plan": "basic", "Churn": "No"})])
    prediction = service.predict_customer.execute("c9")
    assert (prediction.customer_id, prediction.features) == ("c9", {"tenure": 4.0, "plan": "basic"})


def test_stored_customer_missing_a_feature_gets_the_example(service):
    service.trained()
    service.customers.upsert_many([Customer("c9", {"tenure": 4.0})])
    with pytest.raises(InvalidFeaturesError) as info:
        service.predict_customer.execute("c9")
    assert [p.feature for p in info.value.problems] == ["plan"]


def test_history_of_an_unknown_customer_is_not_found(service):
    with pytest.raises(CustomerNotFoundError):
        service.customer_history.execute("nobody", PageRequest())
    service.customers.upsert_many([Customer("known", {"tenure": 1.0})])
    assert service.customer_history.execute("known", PageRequest()).total == 0


# ---------------------------------------------------------------- scoring with a named version


def test_a_named_version_scores_instead_of_the_active_one_and_is_stored_with_it(service):
    low = service.trained(model_type="knn", base=0.1)
    high = service.trained(model_type="svc", base=0.9)
    prediction = service.predict.execute("c1", FEATURES, version=ModelFilter(low.model.name, low.model.version))
    assert (prediction.model, prediction.churn_probability) == (low.model, 0.1)
    assert service.active.current_ref() == high.model
    assert service.customer_history.execute("c1", PageRequest()).items == [prediction]


def test_a_name_alone_means_its_newest_version(service):
    service.trained(base=0.2, name="churn-x", activate=False)
    newest = service.trained(base=0.7, name="churn-x", activate=False)
    service.trained(base=0.4)
    prediction = service.predict.execute(None, FEATURES, version=ModelFilter("churn-x"))
    assert (prediction.model, prediction.churn_probability) == (newest.model, 0.7)


@pytest.mark.parametrize("wanted", [ModelFilter("churn-nothing"), ModelFilter("churn-logistic_regression", 9)])
def test_an_unknown_version_is_not_found_and_stores_nothing(service, wanted):
    service.trained()
    with pytest.raises(ModelNotFoundError):
        service.predict.execute("c1", FEATURES, version=wanted)
    assert service.band_counts.execute() == dict.fromkeys(Band, 0)


def test_a_batch_can_name_its_version_too(service):
    low = service.trained(model_type="knn", base=0.1)
    service.trained(model_type="svc", base=0.9)
    batch = service.predict_batch.execute([("a", FEATURES), ("b", FEATURES)], ModelFilter(low.model.name))
    assert {(p.model, p.churn_probability) for p in batch} == {(low.model, 0.1)}


def test_a_stored_customer_is_scored_by_the_version_read_even_if_a_switch_comes_between(service):
    low = service.trained(model_type="knn", base=0.1)
    high = service.trained(model_type="svc", base=0.9)
    service.use_model.execute(low.model.name, low.model.version)
    service.customers.upsert_many([Customer("c9", {"tenure": 4.0, "plan": "basic"})])
    real_current = service.active.current

    def current_then_switch():  # another request switches right after this one read the active model
        serving = real_current()
        service.active.current = real_current
        service.use_model.execute(high.model.name, high.model.version)
        return serving

    service.active.current = current_then_switch
    prediction = service.predict_customer.execute("c9")
    assert (prediction.model, prediction.churn_probability) == (low.model, 0.1)
    assert service.active.current_ref() == high.model


def test_the_store_keeps_a_copy_of_the_active_version_for_listings_without_the_registry(service):
    """A switch here and a switch followed from another process both leave their version in the
    store, where ListRecordedModels (the CLI's quick listing) reads it."""
    from churn.use_cases.list_models import ListRecordedModels

    first = service.trained(model_type="knn", base=0.1)
    second = service.trained(model_type="svc", base=0.9, activate=False)
    recorded = ListRecordedModels(service.records)
    here = ActiveModel(service.registry, service.cache, service.clock, refresh_seconds=5.0, records=service.records)
    here.switch(first.model, service.registry.load(first.model))
    assert [e.record.ref for e in recorded.execute() if e.active] == [first.model]
    service.use_model.execute(second.model.name, second.model.version)  # another process's switch
    here.refresh()
    assert [e.record.ref for e in recorded.execute() if e.active] == [second.model]
