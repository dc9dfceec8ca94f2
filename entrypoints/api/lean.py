"""A route class for the one hot path, `/predict`.

FastAPI builds a `LeanRoute` like any other, so OpenAPI documents its body, responses and security
from the decorator. At request time, though, the endpoint is called with the bare `Request` and
returns its own `Response`: no dependency solving, no generic body handling, no response-model
validation. Those cost more than validating, scoring and storing a prediction together (see
bench/serving.py), so the endpoint does the little it needs itself: the API-key check, one
pydantic-core pass over the body, the use case. Errors raised inside still go through the app's
exception handlers."""

from __future__ import annotations

from typing import Any, Callable, Coroutine

from fastapi import Request, Response
from fastapi.routing import APIRoute


class LeanRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint
