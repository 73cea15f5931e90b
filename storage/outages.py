"""What an exception says about the machine's state: an outage of something gongkai depends on
(a full disk, the catalog's database, the object store, Prefect's server), as opposed to a bug
or a bad document. An outage is worth retrying a little and then telling the person at the
terminal what to do; everything gongkai writes is a batch recorded whole or not at all, so the
same command, run again once the part is back, goes on from where it stopped.

    outage_of(exc) -> Outage | None          # the first outage in exc's cause/context chain
    catalog_retry_worthy(exc) -> bool        # a lost or refused database connection, a
                                             # serialization failure: worth one more try
    retry_delays(attempts, base) -> [s, ...] # exponential backoff with jitter
    retried(fn, ...) / retry_public_methods(...)  # bounded retries of transient failures

Pure: no driver is imported here; a driver's exception types are looked at only when that
driver is loaded already (then it is the one that raised).
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FunctionType
from typing import Literal, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C")
log = logging.getLogger(__name__)

OutageKind = Literal[
    "disk_full", "catalog_unreachable", "catalog_missing", "store_unreachable",
    "prefect_unavailable",
]  # fmt: skip

_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})
# PostgreSQL's SQLSTATEs that a new attempt can get past: serialization failure, deadlock,
# the server shutting down or starting up, too many connections.
_PG_RETRY_STATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03", "53300"})
# The server ended the session: shut down (by an administrator, a crash, a restart).
_PG_GONE_STATES = frozenset({"57P01", "57P02", "57P03"})
# Connection failures that no retry mends: the database is not there, or refuses us.
_PG_FOR_GOOD = ("does not exist", "authentication failed", "no pg_hba.conf entry")


@dataclass(frozen=True)
class Outage:
    kind: OutageKind
    detail: str  # what the system said, on one line

    @property
    def code(self) -> str:
        """The stable code for --json and the API."""
        return self.kind


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _module_type(module: str, name: str) -> type | None:
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None) if loaded is not None else None
    return found if isinstance(found, type) else None


def _disk_full(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        what = exc.strerror or os.strerror(exc.errno or 0)
        return f"{what}: {exc.filename}" if exc.filename else what
    if "database or disk is full" in str(exc):  # SQLite, however it is wrapped
        return "database or disk is full"
    return None


def _pg_connection_error(exc: BaseException) -> bool:
    """psycopg could not connect, or lost the connection (not a refused statement)."""
    psycopg_error = _module_type("psycopg", "OperationalError")
    if psycopg_error is None or not isinstance(exc, psycopg_error):
        return False
    state = getattr(exc, "sqlstate", None)  # None: failed before the server said anything
    return state is None or state.startswith("08") or state in _PG_GONE_STATES


def _store_unreachable(exc: BaseException) -> bool:
    http_error = _module_type("urllib3.exceptions", "HTTPError")
    if http_error is not None and isinstance(exc, http_error):
        return True  # urllib3 is the S3 store's transport only
    s3_error = _module_type("minio.error", "S3Error")
    if s3_error is not None and isinstance(exc, s3_error):
        from gongkai.storage.s3 import is_transient

        return is_transient(exc)
    server_error = _module_type("minio.error", "ServerError")
    return server_error is not None and isinstance(exc, server_error)


def _transport_detail(exc: BaseException) -> str:
    """What went wrong on the wire, without urllib3's pool and URL around it."""
    reason = getattr(exc, "reason", None)  # MaxRetryError: the last attempt's error
    text = str(reason if isinstance(reason, BaseException) else exc)
    if text.startswith("HTTPConnectionPool(") or text.startswith("HTTPSConnectionPool("):
        text = text.split("): ", 1)[-1]
    return one_line(text)


def outage_of(exc: BaseException) -> Outage | None:
    """The outage `exc` (or an exception it came from) reports, if any."""
    for current in _chain(exc):
        if (full := _disk_full(current)) is not None:
            return Outage("disk_full", full)
        if _pg_connection_error(current):
            missing = "does not exist" in str(current)
            return Outage("catalog_missing" if missing else "catalog_unreachable",
                          one_line(current))  # fmt: skip
        if _store_unreachable(current):
            return Outage("store_unreachable", _transport_detail(current))
        if type(current).__name__ == "PrefectUnavailable":
            return Outage("prefect_unavailable", one_line(current))
    return None


def catalog_retry_worthy(exc: BaseException) -> bool:
    """A database error that a new attempt on a new connection can get past: the connection
    was lost or refused (the server restarting, a network blip, a backend terminated), or the
    server asked for a retry (serialization failure, deadlock)."""
    for current in _chain(exc):
        if getattr(current, "connection_invalidated", False):
            return True  # SQLAlchemy saw the connection drop
        if getattr(current, "sqlstate", None) in _PG_RETRY_STATES:
            return True
        if _pg_connection_error(current):
            return not any(phrase in str(current) for phrase in _PG_FOR_GOOD)
    return False


def retry_delays(attempts: int, base: float) -> list[float]:
    """Seconds to wait before each retry: base, 2 base, 4 base ..., each with jitter (half
    to all of it) so that processes that failed together do not retry together."""
    return [base * (2**n) * (0.5 + random.random() / 2) for n in range(attempts)]


_retrying: ContextVar[bool] = ContextVar("gongkai_retrying", default=False)


def retried(
    method: Callable[P, T],
    *,
    transient: Callable[[BaseException], bool],
    attempts: int,
    base: float,
    what: str,
) -> Callable[P, T]:
    """`method`, retried `attempts` times with backoff when it fails with a `transient` error.
    Only the outermost retried call retries: one that calls another retries the whole."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        if _retrying.get():
            return method(*args, **kwargs)
        token = _retrying.set(True)
        try:
            for attempt, delay in enumerate([*retry_delays(attempts, base), None], start=1):
                try:
                    return method(*args, **kwargs)
                except Exception as exc:
                    if delay is None or not transient(exc):
                        raise
                    log.warning("%s，%.1f 秒后重试（%d/%d）", what, delay, attempt, attempts)
                    time.sleep(delay)
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            _retrying.reset(token)

    return call


def retry_public_methods(
    *, transient: Callable[[BaseException], bool], attempts: int, base: float, what: str,
    skip: frozenset[str] = frozenset(),
) -> Callable[[type[C]], type[C]]:
    """A class decorator: every public method of the class (those defined on it, not in
    `skip`) is `retried`. Methods added later are covered without a list to keep up."""

    def decorate(cls: type[C]) -> type[C]:
        for name, value in list(vars(cls).items()):
            if name.startswith("_") or name in skip or not isinstance(value, FunctionType):
                continue
            setattr(cls, name, retried(value, transient=transient, attempts=attempts,
                                       base=base, what=what))  # fmt: skip
        return cls

    return decorate
