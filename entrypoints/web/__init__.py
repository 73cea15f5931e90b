"""The web app: the public portal at `/`, the staff app under `/staff/`, the HTTP API beside
them (gongkai.entrypoints.api), one process. Server-rendered Chinese pages (Jinja2), plain
forms, no JavaScript build step."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gongkai.config import Settings, load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.entrypoints.web import portal, staff
from gongkai.entrypoints.web.pages import STATIC_DIR
from gongkai.entrypoints.web.session import Sessions, web_secret
from gongkai.flows.events import EventSink


def create_web_app(
    settings: Settings | None = None,
    *,
    tokens: Tokens | None = None,
    events: Callable[[], EventSink] | None = None,
    secret: str | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The API app with the portal and the staff pages added (same lifespan, same context).
    `secret` signs the session cookies (default: GONGKAI_WEB_SECRET or the home's own)."""
    settings = settings or load_settings()
    app = create_app(settings, tokens=tokens, events=events)
    app.state.sessions = Sessions(secret or web_secret(settings.home), secure=secure_cookies)
    app.include_router(portal.router)
    app.include_router(staff.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    staff.install_handlers(app)
    return app
