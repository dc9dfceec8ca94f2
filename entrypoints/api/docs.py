"""/docs (Swagger UI) and /redoc served with the service's own copies of their scripts and styles,
so they render with no internet access. The assets come from the `fastapi-offline` package, which
ships swagger-ui-dist and ReDoc's standalone bundle (only its files are used, not its app class)."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = "/docs/assets"
_STATIC = files("fastapi_offline") / "static"
_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="churn API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="churn API",
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


# ReDoc's sidebar shows a logo fetched from its vendor's CDN (and hides it when that fails): pointed at
# an empty data URL instead, so the page asks nothing of the internet.
_REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
CACHE = {"cache-control": "public, max-age=86400"}


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    return (_STATIC / "redoc.standalone.js").read_bytes().replace(_REDOC_LOGO, b"data:,")


@router.get(ASSETS + "/{name}")
def asset(name: str) -> Response:
    if name not in _FILES:
        raise HTTPException(404, f"no documentation asset named {name!r}")
    if name == "redoc.standalone.js":
        return Response(_redoc_bundle(), media_type=_FILES[name], headers=CACHE)
    return FileResponse(str(_STATIC / name), media_type=_FILES[name], headers=CACHE)
