from __future__ import annotations

from churn.predictions import Prediction
from churn.versions import ModelFilter
from churn.ports import CustomerRepository
from churn.services.active_model import ActiveModel
from churn.use_cases.predict_churn import PredictChurn


class PredictStoredCustomer:
    """Score a customer of `CLIENTES` with the active model, from its stored attributes."""

    def __init__(self, customers: CustomerRepository, active: ActiveModel, predict: PredictChurn) -> None:
        self._customers = customers
        self._active = active
        self._predict = predict

    def execute(self, customer_id: str) -> Prediction:
        """CustomerNotFoundError; InvalidFeaturesError when the record lacks what the model needs.
        The active model is read once: the version whose schema picks the features scores them, even
        if another version becomes active meanwhile."""
        customer = self._customers.get(customer_id)
        ref, model = self._active.current()
        return self._predict.execute(
            customer.customer_id, model.schema.pick(customer.attributes), version=ModelFilter(ref.name, ref.version)
        )
