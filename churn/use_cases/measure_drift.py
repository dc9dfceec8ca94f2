from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from churn.drift import DEFAULT_DAYS, SAMPLE_LIMIT, DriftReport, check_days, drift_report
from churn.errors import DriftReferenceMissingError
from churn.features import FeatureSchema
from churn.versions import ModelRef
from churn.ports import Clock, ModelRecordRepository, PredictionRepository


class MeasureDrift:
    """How far a version's recent predictions have moved from its training data (churn.drift): the
    PSI of each feature and of the predicted probability, over the newest `sample_limit` predictions
    the version made in the last `days` days."""

    def __init__(
        self, records: ModelRecordRepository, predictions: PredictionRepository, clock: Clock, sample_limit: int = SAMPLE_LIMIT
    ) -> None:
        self._records = records
        self._predictions = predictions
        self._clock = clock
        self._sample_limit = sample_limit

    def execute(self, ref: ModelRef, days: int = DEFAULT_DAYS) -> DriftReport:
        """ModelNotFoundError for an unknown version; InvalidRequestError for a bad `days`;
        DriftReferenceMissingError for a version trained before drift references were kept."""
        check_days(days)
        summary = self._records.get(ref).summary
        if summary.drift_reference is None:
            raise DriftReferenceMissingError(
                f"{ref} was trained before drift references were kept with each version, so it has no training "
                "distribution to compare with: train it again to measure its drift"
            )
        until = self._clock.now()
        since = until - timedelta(days=days)
        inputs = self._predictions.inputs_of(ref, since, self._sample_limit + 1)
        sampled = len(inputs) > self._sample_limit
        inputs = inputs[: self._sample_limit]
        rows = [_encoded(summary.schema, i.features) for i in inputs]
        return drift_report(summary.drift_reference, rows, [i.probability for i in inputs], days, since, until, sampled)


def _encoded(schema: FeatureSchema, features: Mapping[str, Any]) -> Mapping[str, Any]:
    """Stored features as the model takes them (a date as its age in days); a value that cannot be
    encoded (not a stored date, say) counts as missing."""
    try:
        return schema.encode(features)
    except (ValueError, TypeError):
        encoded: dict[str, Any] = {}
        for spec in schema.features:
            try:
                encoded[spec.name] = spec.encode(features.get(spec.name))
            except (ValueError, TypeError):
                encoded[spec.name] = None
        return encoded
