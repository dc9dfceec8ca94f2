"""How console responses are made: one Jinja environment (autoescape on for every template), the
language of a request, the caller's role, the security headers, and one place turning errors into
an error fragment instead of the API's JSON."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException as StarletteHTTPException

from churn.errors import ChurnError
from entrypoints.api.errors import status_for
from entrypoints.api.security import ApiKeys
from entrypoints.console import charts
from entrypoints.console.domain_messages import domain_translator
from entrypoints.console.messages import LANGUAGES, translator

HERE = Path(__file__).parent
LANG_COOKIE = "churn_lang"

# Only the service's own scripts and styles; no inline script, no style attributes, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie, X-API-Key",
}

ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every template, whatever its name: values from uploads and customers are text
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.globals["charts"] = charts


def language_of(request: Request) -> str:
    """The `lang` query parameter, else the switch's cookie, else the best of Accept-Language."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if chosen in LANGUAGES:
            return chosen
    best, best_q = "en", -1.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        tag = tag.strip().lower()
        lang = "pt-BR" if tag.startswith("pt") else "en" if tag.startswith("en") or tag == "*" else None
        if lang and q > best_q:
            best, best_q = lang, q
    return best


def role_of(request: Request) -> str:
    """`admin` or `predict` for the X-API-Key presented; `admin` when the service runs without keys.
    401 for a missing or unknown key (the console then asks for one)."""
    keys: ApiKeys = request.app.state.api_keys
    if not keys.enabled:
        return "admin"
    role = keys.role_of(request.headers.get("x-api-key"))
    if role is None:
        raise HTTPException(401, "missing or unknown API key")
    return role


def require_admin(request: Request) -> str:
    role = role_of(request)
    if role != "admin":
        raise HTTPException(403, "this needs an admin key")
    return role


def render(request: Request, template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    _ = translator(lang)
    html = ENV.get_template(template).render(
        _=_, said=domain_translator(lang), lang=lang, languages=LANGUAGES, request=request, path=request.url.path, fmt=Formats(lang), **context
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    if "role" in context:  # the console's script hides admin-only navigation for a predict key
        response.headers["X-Console-Role"] = context["role"]
    return response


class Formats:
    """Numbers and times as the reader's language writes them."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def num(self, value: Any, digits: int = 3) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value)
        text = f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,d}"
        return self._localise(text)

    def value(self, value: Any) -> str:
        """A feature's value as a person writes it: floats without binary noise (70.135, not 70.13499999999999)."""
        if isinstance(value, float) and math.isfinite(value):
            return self._localise(f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}")
        return "–" if value is None else str(value)

    def pct(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return self._localise(f"{value * 100:.{digits}f}") + " %"

    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return "–"
        return moment.strftime("%d/%m/%Y %H:%M" if self.lang == "pt-BR" else "%Y-%m-%d %H:%M") + " UTC"

    def day(self, moment: datetime) -> str:
        return moment.strftime("%d/%m" if self.lang == "pt-BR" else "%m-%d")

    def _localise(self, text: str) -> str:
        if self.lang == "pt-BR":
            return text.replace(",", "\u2009").replace(".", ",")
        return text


class ConsoleRoute(APIRoute):
    """Every console response carries the security headers; a domain error, a refused key or a bad
    query becomes an error fragment (status kept) that htmx swaps in, instead of the API's JSON."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except ChurnError as exc:
                response = _error(request, status_for(exc)[0], exc.message)
            except (HTTPException, StarletteHTTPException) as exc:
                response = _error(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in err["loc"][1:]) for err in exc.errors())
                response = _error(request, 400, f"invalid value for {fields or 'the request'}")
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handle


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "parts/error.html", status_code=status, status=status, message=message)
