"""Running documents through the service layer (no Prefect) in the tests: a context on the
settings of the `gongkai_env` fixture with a fixed clock, intake, and process then publish."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.events import Emitted, MemoryEventSink, catalog_id
from gongkai.flows.service import Context
from gongkai.flows.service.outbox import BEGINNING, catalog_events
from gongkai.storage.catalog import RelayPosition

NOW = datetime(2021, 3, 20, 2, 0, tzinfo=UTC)


class Clock:
    """A clock a test sets: `ctx.clock = Clock(start)`, later `ctx.clock.now = ...`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def fixed_clock_context() -> Iterator[Context]:
    """A context on the current settings, with events in memory and the clock stopped at NOW."""
    with Context.open(load_settings()) as context:
        context.clock = lambda: NOW
        yield context


def outbox(ctx: Context, after: RelayPosition = BEGINNING) -> MemoryEventSink:
    """The events the relay would send for the context's catalog (the outbox mapping of its
    audit rows after `after`, e.g. a `ctx.catalog.audit_end()` taken earlier), in order, to
    read with MemoryEventSink's helpers."""
    return MemoryEventSink([
        Emitted(e.event, e.resource_id, dict(e.payload), e.resource.get("prefect.resource.name"))
        for e in catalog_events(ctx.catalog, catalog_id(ctx.settings.database_url), after)
    ])  # fmt: skip


def take_in(ctx: Context, data: bytes, name: str, **kwargs: object) -> int:
    return service.intake(ctx, data, name, source="test", actor="tester", **kwargs).record.id


def ingest(ctx: Context, ids: list[int]) -> None:
    outcomes = service.process(ctx, ids)
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
