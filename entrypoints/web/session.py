"""Signed session cookies (itsdangerous) and CSRF tokens for the web app.

The cookie holds the user's name, a CSRF token and when it was made, signed with the web
secret; it is HttpOnly and SameSite=Lax. Every POST form carries the session's CSRF token in
a hidden field, compared in constant time. The user's role is read from the catalog on each
request (a disabled user is logged out at once), never from the cookie.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "gongkai_session"
MAX_AGE = 8 * 3600  # a working day
SECRET_FILE = "web-secret"


@dataclass(frozen=True)
class Session:
    user: str | None
    csrf: str


def web_secret(home: Path, env: dict[str, str] | None = None) -> str:
    """GONGKAI_WEB_SECRET, else a secret made once and kept in GONGKAI_HOME (mode 600), so
    that sessions outlive a restart."""
    given = (env if env is not None else os.environ).get("GONGKAI_WEB_SECRET")
    if given:
        return given
    path = home / SECRET_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


class Sessions:
    def __init__(self, secret: str, *, secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="gongkai-web-session")
        self._secure = secure

    def read(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        user = data.get("user")
        return Session(user if isinstance(user, str) else None, data["csrf"])

    def write(self, response: Response, session: Session) -> None:
        value = self._serializer.dumps({"user": session.user, "csrf": session.csrf})
        response.set_cookie(COOKIE, value, max_age=MAX_AGE, httponly=True, samesite="lax",
                            secure=self._secure, path="/")  # fmt: skip

    @staticmethod
    def new(user: str | None = None) -> Session:
        return Session(user, secrets.token_urlsafe(24))

    @staticmethod
    def clear(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")


def csrf_ok(session: Session | None, given: object) -> bool:
    return (session is not None and isinstance(given, str)
            and hmac.compare_digest(given.encode(), session.csrf.encode()))  # fmt: skip
