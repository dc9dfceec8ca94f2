from __future__ import annotations

from typing import Any, Mapping, Sequence

from churn.errors import FeatureProblem, InvalidFeaturesError, InvalidRequestError
from churn.features import FeatureValue
from churn.customers import check_customer_id
from churn.predictions import Prediction
from churn.versions import ModelFilter
from churn.ports import Clock, PredictionRepository
from churn.reasons import Reasons
from churn.services.model_versions import ModelVersions

MAX_BATCH = 1000

class PredictChurn:
    """Score one customer with the active model (or a version the caller names), with its reasons
    (churn.reasons), and keep the prediction.

    The prediction is returned once the store's `add` has returned: if the store is down the caller
    gets StoreUnavailableError, never a score that was not kept. (An edge that defers the commit to
    keep an event loop serving awaits it before answering: entrypoints/api/predict_stages.py.)"""

    def __init__(self, models: ModelVersions, predictions: PredictionRepository, clock: Clock) -> None:
        self._models = models
        self._predictions = predictions
        self._clock = clock

    def execute(self, customer_id: str | None, features: Mapping[str, Any], version: ModelFilter | None = None) -> Prediction:
        """`version` scores with that version instead of the active one."""
        if customer_id is not None:
            customer_id = check_customer_id(customer_id)
        ref, model = self._models.get(version)
        clean = model.schema.check(features)
        encoded = model.schema.encode(clean)
        probability = model.score(encoded)
        reasons = Reasons.rank(model.explain(encoded), clean)
        prediction = Prediction.new(customer_id, clean, probability, ref, self._clock.now(), reasons, threshold=model.threshold)
        self._predictions.add(prediction)
        return prediction


class PredictBatch:
    """Score up to MAX_BATCH customers in one vectorised call; all are stored, or none."""

    def __init__(self, models: ModelVersions, predictions: PredictionRepository, clock: Clock) -> None:
        self._models = models
        self._predictions = predictions
        self._clock = clock

    def execute(self, rows: Sequence[tuple[str | None, Mapping[str, Any]]], version: ModelFilter | None = None) -> list[Prediction]:
        """`version` scores with that version instead of the active one."""
        if not 1 <= len(rows) <= MAX_BATCH:
            raise InvalidRequestError(f"a batch holds 1 to {MAX_BATCH} customers, got {len(rows)}")
        ref, model = self._models.get(version)
        cleaned: list[tuple[str | None, dict[str, FeatureValue]]] = []
        problems: list[FeatureProblem] = []
        for index, (customer_id, features) in enumerate(rows):
            try:
                if customer_id is not None:
                    customer_id = check_customer_id(customer_id)
            except InvalidRequestError as exc:
                problems.append(FeatureProblem(f"items[{index}].customer_id", exc.message))
            try:
                cleaned.append((customer_id, model.schema.check(features)))
            except InvalidFeaturesError as exc:
                problems.extend(FeatureProblem(f"items[{index}].{p.feature}", p.problem) for p in exc.problems)
        if problems:
            raise InvalidFeaturesError(problems, model.schema.example())
        now = self._clock.now()
        encoded = [model.schema.encode(features) for _, features in cleaned]
        scores = model.score_many(encoded)
        contributions = model.explain_many(encoded)
        predictions = [
            Prediction.new(cid, f, p, ref, now, Reasons.rank(c, f), threshold=model.threshold)
            for (cid, f), p, c in zip(cleaned, scores, contributions, strict=True)
        ]
        self._predictions.add_many(predictions)
        return predictions
