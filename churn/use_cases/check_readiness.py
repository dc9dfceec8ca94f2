from __future__ import annotations

from dataclasses import dataclass

from churn.errors import ChurnError
from churn.ports import CustomerRepository, ModelRegistry
from churn.services.active_model import ActiveModel


PROBE_ID = "churn-readiness-probe"


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]


class CheckReadiness:
    """Can this process score and store? Store, registry and active model are each checked; a
    failing part is named with its reason."""

    def __init__(self, customers: CustomerRepository, registry: ModelRegistry, active: ActiveModel) -> None:
        self._customers = customers
        self._registry = registry
        self._active = active

    def execute(self) -> Readiness:
        checks: dict[str, str] = {}
        ok = True
        try:
            self._customers.exists(PROBE_ID)  # an indexed lookup: a probe must stay cheap on a large base
            checks["store"] = "ok"
        except ChurnError as exc:
            checks["store"], ok = exc.message, False
        try:
            self._registry.active()
            checks["registry"] = "ok"
        except ChurnError as exc:
            checks["registry"], ok = exc.message, False
        try:
            ref = self._active.current_ref()
        except ChurnError:
            ref = None
        if ref is None:
            ok = False
            checks["active_model"] = "none loaded: train a model (POST /train) or pick one (POST /use-model)"
        else:
            checks["active_model"] = str(ref)
        return Readiness(ok, checks)
