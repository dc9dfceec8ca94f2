"""Request body limits, enforced while the body streams in (Content-Length or chunked)."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException


class BodyLimitMiddleware:
    """413 for a body over the limit of its path prefix; the route never sees it, nothing is stored.
    A body sent without a content type is taken as JSON."""

    def __init__(self, app, limits: dict[str, int], default: int) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda kv: -len(kv[0]))
        self.default = default

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path == prefix:
                return limit
        return self.default

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = None
        typed = False
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
            elif key == b"content-type":
                typed = True
        if not typed:
            # Every body without a type is read as JSON, on /predict (which parses bytes) and on the
            # routes FastAPI parses alike; uploads always carry their multipart type.
            # (in place: the outer middleware reads the matched route from this same scope)
            scope["headers"] = [*scope.get("headers", ()), (b"content-type", b"application/json")]
        if declared is not None:
            if declared > limit:
                return await _too_large(send, limit)
            if declared >= 0:
                # The HTTP server never delivers more than the declared length: nothing to count.
                return await self.app(scope, receive, send)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


class _TooLarge(HTTPException):
    """An HTTPException so FastAPI re-raises it from body parsing and the error handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the {limit:,} byte limit for this endpoint")


async def _too_large(send, limit: int) -> None:
    body = json.dumps(
        {"error": "too_large", "message": f"the request body is larger than the {limit:,} byte limit for this endpoint"}
    ).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
