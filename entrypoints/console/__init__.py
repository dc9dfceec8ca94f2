"""The web console at /ui: server-rendered pages and fragments (Jinja2 + htmx), every asset served here."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install_console(app: FastAPI) -> None:
    """Mounts the console's routes and its static files on `app` (the root `/` redirects to /ui)."""
    from entrypoints.console.routes import router

    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="console-static")
