"""API keys and roles. `admin` manages data, training and models; `predict` scores and reads.

With no keys configured the service is open, and `main.py serve` then refuses any interface other
than loopback."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

ROLES = ("admin", "predict")
IMPLIES = {"admin": {"admin", "predict"}, "predict": {"predict"}}

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="a key from CHURN_API_KEYS")


class ApiKeyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ApiKeys:
    keys: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> "ApiKeys":
        """`key:role,key:role`; roles are admin or predict; keys at least 16 characters."""
        pairs = []
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            key, sep, role = item.rpartition(":")
            if not sep or role not in ROLES:
                raise ApiKeyConfigError(f"CHURN_API_KEYS: each entry is key:role with role one of {', '.join(ROLES)}")
            if len(key) < 16:
                raise ApiKeyConfigError("CHURN_API_KEYS: keys must be at least 16 characters long")
            pairs.append((key, role))
        return cls(tuple(pairs))

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def role_of(self, presented: str | None) -> str | None:
        if not presented:
            return None
        found = None
        for key, role in self.keys:  # compare every key in constant time
            if hmac.compare_digest(key.encode(), presented.encode()):
                found = role
        return found


def authorize(request: Request, role: str, presented: str | None) -> None:
    """401 without a valid key, 403 when the key's role does not allow `role`; nothing when the
    service runs without keys."""
    keys: ApiKeys = request.app.state.api_keys
    if not keys.enabled:
        return
    granted = keys.role_of(presented)
    if granted is None:
        raise HTTPException(401, "missing or unknown API key: send it in the X-API-Key header", headers={"WWW-Authenticate": "ApiKey"})
    if role not in IMPLIES[granted]:
        raise HTTPException(403, f"this API key has the role {granted!r}; this operation needs {role!r}")


def require(role: str):
    """A route dependency enforcing `authorize`; it also puts the X-API-Key header in OpenAPI."""

    async def check(request: Request, presented: str | None = Depends(api_key_header)) -> None:
        authorize(request, role, presented)

    return Depends(check)


ADMIN = require("admin")
PREDICT = require("predict")
