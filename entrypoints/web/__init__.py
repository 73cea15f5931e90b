"""The web app: the public portal at `/`, the staff app under `/staff/`, the HTTP API beside
them (gongkai.entrypoints.api), one process. Server-rendered Chinese pages (Jinja2), plain
forms, no JavaScript build step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gongkai.config import Settings, load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.entrypoints.web import portal, staff
from gongkai.entrypoints.web.pages import STATIC_DIR
from gongkai.entrypoints.web.session import Sessions, web_secret
from gongkai.entrypoints.web.throttle import LoginThrottle


def create_web_app(
    settings: Settings | None = None,
    *,
    tokens: Tokens | None = None,
    relay: bool = True,
    secret: str | None = None,
    secure_cookies: bool = False,
) -> FastAPI:
    """The API app with the portal and the staff pages added (same lifespan, same context).
    `relay=False`: the process has its outbox relay already (api.create_app). `secret` signs
    the session cookies (default: GONGKAI_WEB_SECRET or the home's own)."""
    settings = settings or load_settings()
    app = create_app(settings, tokens=tokens, relay=relay)
    app.state.sessions = Sessions(secret or web_secret(settings.home), secure=secure_cookies)
    app.state.login_throttle = LoginThrottle()
    app.include_router(portal.router)
    app.include_router(staff.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    staff.install_handlers(app)
    return app


@contextmanager
def serving_in_thread(settings: Settings, host: str, port: int,
                      **app_options: object) -> Iterator[str]:  # fmt: skip
    """The web app served by uvicorn in a thread of this process (beside `gongkai serve`'s
    deployments), until the block ends; yields its base URL."""
    import uvicorn

    app = create_web_app(settings, **app_options)  # type: ignore[arg-type]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="gongkai-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web app did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
