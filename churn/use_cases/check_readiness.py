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
        # With the active-model follower running, its last read answers for the registry and what it
        # loaded for the model: a registry that is down takes seconds of retries to fail (MLflow's),
        # longer than a probe waits. Without a recent read, both are asked now.
        recent = self._active.recent_registry_read()
        registry_error = recent.error if recent is not None else self._registry_error()
        if registry_error is None:
            checks["registry"] = "ok"
        else:
            checks["registry"], ok = registry_error, False
        try:
            ref = self._active.serving_ref() if recent is not None else self._active.current_ref()
        except ChurnError:
            ref = None
        if ref is None:
            ok = False
            checks["active_model"] = "none loaded: train a model (POST /train) or pick one (POST /use-model)"
        else:
            checks["active_model"] = str(ref)
        return Readiness(ok, checks)

    def _registry_error(self) -> str | None:
        try:
            self._registry.active()
        except ChurnError as exc:
            return exc.message
        return None
