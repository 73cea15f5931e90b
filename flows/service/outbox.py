"""Events from an outbox: the catalog's audit rows are the record of truth, and each row that
announces something becomes one event, made here (a pure mapping) and sent by a relay.

    event_of(row, catalog) -> OutboxEvent | None     # the one place an event is made
    relay_once(catalog, send, ...) -> RelayReport     # one pass: rows after the cursor -> send

The rows and the events they make:

    received                  gongkai.document.received
    duplicate_submission      gongkai.document.duplicate_submission
    state (detail.to = S)     gongkai.document.<S>
    fixity (not ok)           gongkai.document.fixity_failed
    review_due                gongkai.review.due
    review_kept               gongkai.review.kept

The resource is `gongkai.document.<id>` with the `gongkai.catalog` label (events.catalog_id);
its name is the 文号 once published, else `document <id>`. The payload is
lifecycle.event_payload of the document's facts as the row noted them (detail.document). The
event's id is uuid5 over (catalog, audit row id) and it occurred when the row was written: a
row sent twice is the same event, and Prefect's triggers do not act on an event id they have
seen (tests/test_outbox_prefect.py shows it against a real server).

At least once: the cursor moves only after `send` returned. Two relays on one catalog: the
cursor is leased (Catalog.take_relay), so one sends and the other waits to take over; should
both ever send the same rows, the ids make them one event each.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gongkai.flows import lifecycle
from gongkai.flows.events import CATALOG_LABEL
from gongkai.storage.catalog import Catalog, EventRecord, RelayPosition

log = logging.getLogger("gongkai.outbox")

# uuid5 namespace of gongkai's events (a fixed, random uuid: never change it, or every row
# relayed again would be a new event).
EVENT_NAMESPACE = uuid.UUID("6f1d4c52-3c1e-4d8a-9a55-1f0e5b7c2a9d")
RELAY_NAME = "prefect"
RELAY_BATCH = 500
RELAY_LEASE = timedelta(seconds=30)

_NAMES: dict[str, str] = {
    "received": lifecycle.event_name("received"),
    "duplicate_submission": f"{lifecycle.EVENT_PREFIX}.duplicate_submission",
    "review_due": "gongkai.review.due",
    "review_kept": "gongkai.review.kept",
}
FIXITY_FAILED = f"{lifecycle.EVENT_PREFIX}.fixity_failed"
# What an event carries of its row's detail, besides the document's facts.
_EXTRAS: dict[str, tuple[str, ...]] = {
    "received": ("source",),
    "duplicate_submission": ("source",),
    "fixity": ("problems",),
    "review_due": ("next_review_at",),
    "review_kept": ("reviewer",),
}


def holder_name() -> str:
    """A holder of a leased cursor in the catalog (the relay's, the public check's): this
    host and process, and a token of its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event as it goes to Prefect (prefect.events.Event's fields)."""

    id: uuid.UUID
    event: str
    resource: Mapping[str, str]
    payload: Mapping[str, Any]
    occurred: datetime

    @property
    def resource_id(self) -> str:
        return self.resource["prefect.resource.id"]


def event_id(catalog: str, audit_id: int) -> uuid.UUID:
    """The event id of audit row `audit_id` of catalog `catalog` (events.catalog_id)."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{catalog}/{audit_id}")


def event_name(row: EventRecord) -> str | None:
    """The event audit row `row` announces, or None (extracted, fixity ok, …: nothing)."""
    if row.kind == "state":
        return lifecycle.event_name(str(row.detail["to"]))
    if row.kind == "fixity":
        return None if row.detail.get("ok", True) else FIXITY_FAILED
    return _NAMES.get(row.kind)


def event_of(row: EventRecord, catalog: str) -> OutboxEvent | None:
    """The event of audit row `row` of catalog `catalog`, or None if it announces nothing."""
    name = event_name(row)
    if name is None:
        return None
    facts: Mapping[str, Any] = row.detail.get("document") or {}
    state = str(row.detail["to"]) if row.kind == "state" else str(facts.get("state")
                                                                    or "received")
    extra: dict[str, Any] = {k: row.detail.get(k) for k in _EXTRAS.get(row.kind, ())}
    if row.kind == "state":
        extra.update(previous_state=row.detail.get("from"), rule=row.detail.get("rule"))
        if "by" in row.detail:
            extra["by"] = row.detail["by"]
    if row.kind == "review_kept":
        extra["reviewer"] = row.detail.get("reviewer") or row.actor
    payload = lifecycle.event_payload(
        file_number=facts.get("file_number"), issuer=facts.get("issuer"),
        disclosure=facts.get("disclosure"), state=state, title=facts.get("title"),
        document_id=row.document_id, **extra,
    )  # fmt: skip
    published = state == lifecycle.State.PUBLISHED.value and facts.get("file_number")
    resource = {
        "prefect.resource.id": lifecycle.resource_id(row.document_id),
        "prefect.resource.name": str(facts["file_number"]) if published
        else f"document {row.document_id}",
        CATALOG_LABEL: catalog,
    }  # fmt: skip
    return OutboxEvent(event_id(catalog, row.id), name, resource, payload, row.at)


def events_of(rows: Sequence[EventRecord], catalog: str) -> list[OutboxEvent]:
    return [e for e in (event_of(row, catalog) for row in rows) if e is not None]


BEGINNING = RelayPosition(0, 0)


def catalog_events(catalog: Catalog, catalog_label: str,
                   after: RelayPosition = BEGINNING) -> list[OutboxEvent]:  # fmt: skip
    """Every event of the catalog's audit trail after `after`, in order (tests, `gongkai relay
    --dry-run`)."""
    found: list[OutboxEvent] = []
    while True:
        batch = catalog.audit_after(after, RELAY_BATCH)
        found += events_of(batch.rows, catalog_label)
        if len(batch.rows) < RELAY_BATCH:
            return found
        after = batch.end


# --------------------------------------------------------------------------------------------
# the relay


Send = Callable[[Sequence[OutboxEvent]], None]


@dataclass
class RelayReport:
    rows: int = 0
    sent: int = 0
    held_elsewhere: bool = False


def start_position(catalog: Catalog, start: str) -> RelayPosition:
    """Where a relay without a cursor starts: `end` (the default: what happened before the
    first relay is history, not replayed; but no later than the `received` row of the oldest
    document still waiting in `received`, so that a work pool's trigger hears of every
    document handed over before any relay ran), `beginning`, or after the audit row of that
    id."""
    if start == "end":
        end = catalog.audit_end()
        waiting = catalog.oldest_waiting_position()
        return end if waiting is None else min(end, waiting)
    if start == "beginning":
        return BEGINNING
    return catalog.audit_position(int(start))


def relay_once(
    catalog: Catalog,
    send: Send,
    *,
    catalog_label: str,
    holder: str,
    start: str = "end",
    batch: int = RELAY_BATCH,
    lease: timedelta = RELAY_LEASE,
    on_relayed: Callable[[Sequence[OutboxEvent]], None] | None = None,
) -> RelayReport:
    """Send every audit row after the cursor, a batch at a time, then release nothing (the
    lease runs on: the next pass of this holder continues). Stops at the end of the trail;
    `held_elsewhere` if another relay holds the cursor. `send` raises if it could not
    deliver: the cursor stays where it was and the batch goes again on the next pass.
    `on_relayed(events)` is called after each delivered batch (e.g. serve's sweeper, woken
    by a `gongkai.document.received`)."""
    report = RelayReport()
    # Only a relay without a cursor needs its start (a pass of a running relay asks nothing).
    first = (BEGINNING if catalog.relay_cursor(RELAY_NAME) is not None
             else start_position(catalog, start))
    position = catalog.take_relay(RELAY_NAME, holder, lease=lease, start=first)
    if position is None:
        report.held_elsewhere = True
        return report
    while True:
        rows = catalog.audit_after(position, batch)
        if not rows.rows:
            return report  # nothing new (take_relay renewed the lease)
        events = events_of(rows.rows, catalog_label)
        if events:
            send(events)
        if not catalog.advance_relay(RELAY_NAME, holder, rows.end, lease=lease):
            report.held_elsewhere = True  # taken over meanwhile: the taker sends the rest
            return report
        report.rows += len(rows.rows)
        report.sent += len(events)
        if events and on_relayed is not None:
            try:
                on_relayed(events)
            except Exception:  # a hook's failure is not the relay's
                log.exception("on_relayed hook failed")
        position = rows.end
        if len(rows.rows) < batch:
            return report
