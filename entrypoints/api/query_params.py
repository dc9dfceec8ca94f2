"""Unknown query parameters are refused (400 naming the allowed ones), as the README promises."""

from __future__ import annotations

from fastapi import Request

from churn.errors import InvalidRequestError

_allowed_by_route: dict[int, frozenset[str]] = {}


def refuse_unknown_query(request: Request) -> None:
    """An app-wide dependency: a query parameter no parameter of the route declares is a 400."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    allowed = _allowed_by_route.get(id(route))
    if allowed is None:
        allowed = _allowed_by_route[id(route)] = frozenset(_query_names(getattr(route, "dependant", None)))
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidRequestError(unknown_query_message(unknown, allowed))


def unknown_query_message(unknown, allowed) -> str:
    takes = ", ".join(sorted(allowed)) if allowed else "no query parameters"
    return f"unknown query parameter(s): {', '.join(unknown)}; this endpoint takes {takes}"


def _query_names(dependant) -> set[str]:
    if dependant is None:
        return set()
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names
