"""The web console at /ui: server-rendered pages and fragments (Jinja2 + htmx), every asset served here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install_console(app: FastAPI) -> None:
    """Mounts the console's routes and its static files on `app` (the root `/` redirects to /ui)."""
    from entrypoints.console.routes import router

    # Added as they are, not through include_router: the API's app-wide dependencies (such as refusing
    # unknown query parameters) are the API's contract, while a page shell passes its whole query on
    # to its fragment, and every console route checks the key itself.
    app.router.routes.extend(router.routes)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="console-static")
