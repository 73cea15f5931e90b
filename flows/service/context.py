"""The context every lifecycle step runs in, its errors, and where a transition is recorded.

A transition is one audit row in the catalog, and that row is its event: the service sends
nothing itself; the outbox relay (flows/service/outbox.py, flows/relay.py) makes the events of
the rows and sends them to Prefect where a Prefect API listens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

from gongkai.config import Settings, load_settings
from gongkai.flows import deadlines, lifecycle
from gongkai.storage.archive import Archive
from gongkai.storage.catalog import (
    Catalog,
    DocumentRecord,
)
from gongkai.storage.objects import ObjectStore

CONTENT_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "doc": "application/msword",
    # WPS Office's .wps is a Word 97 binary; application/vnd.ms-works is the type registered
    # for the .wps extension (shared-mime-info, LibreOffice's type list).
    "wps": "application/vnd.ms-works",
    "ofd": "application/ofd",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "txt": "text/plain",
}
UNKNOWN_CONTENT_TYPE = "application/octet-stream"


class IntakeRejected(ValueError):
    """A submission refused before anything was stored (too large). `reason` is a code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class LifecycleError(RuntimeError):
    """A request that does not fit the document's state (e.g. redacting a published document)."""


# --------------------------------------------------------------------------------------------
# context


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Everything a lifecycle step needs. Build with `Context.open(...)` or by hand in tests."""

    settings: Settings
    catalog: Catalog
    archive: Archive
    public: ObjectStore
    calendar: deadlines.WorkCalendar
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def open(cls, settings: Settings | None = None) -> Context:
        from gongkai.storage.stores import open_stores

        settings = settings or load_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        catalog = Catalog.open(settings.database_url)
        try:
            stores = open_stores(settings)
            # A holiday file that cannot be used is reported (status), not fatal.
            calendar = deadlines.WorkCalendar.load(settings.holidays_dir, strict=False)
        except BaseException:
            catalog.close()
            raise
        return cls(settings, catalog, Archive(stores.archive), stores.public, calendar)

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the office's time zone (GONGKAI_TIMEZONE)."""
        return self.clock().astimezone(self.settings.zone).date()


# --------------------------------------------------------------------------------------------
# events and transitions


def _transition(
    ctx: Context,
    record: DocumentRecord,
    to_state: str,
    *,
    actor: str,
    detail: Mapping[str, Any] | None = None,
    **changes: Any,
) -> DocumentRecord:
    """The only way a document changes state: allowed by the state machine, audited in the
    catalog (one transaction, refused if someone else moved it first; the row is the
    event the relay sends)."""
    lifecycle.check_transition(record.state, to_state)
    moved = ctx.catalog.transition(
        record.id, to_state, actor=actor, expected_from=record.state,
        detail=dict(detail or {}), **changes,
    )  # fmt: skip
    return moved


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
