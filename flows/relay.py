"""The outbox relay on Prefect: audit rows of the catalog sent as Prefect events (the mapping and
the cursor are flows/service/outbox.py's; this module only sends and schedules).

    send_to_prefect(events)                       # one batch through Prefect's events client
    Relay(settings, on_relayed=None).run_once()   # one pass (gongkai relay)
    relay_in_background(settings, on_relayed=None) -> context manager (serve, api, watch)

Sending: `prefect.events.clients.get_events_client()` (PREFECT_API_URL), each event with its
own id and occurred time; a batch counts as delivered once the client has sent it and closed
its connection cleanly (the server has read every frame before it answers the close). Then,
and only then, the cursor moves: a relay killed before that sends the batch again, as the same
events.

`on_relayed(events)`: called in the relay's thread after each delivered batch (OutboxEvent
list, in order). A sweeper can be woken by it the moment a `gongkai.document.received` row
has gone out; it must return quickly (a failure is logged, the relay goes on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

from gongkai.config import Settings, load_settings
from gongkai.flows.events import catalog_id
from gongkai.flows.service.outbox import (
    RELAY_NAME,
    OutboxEvent,
    RelayReport,
    holder_name,
    relay_once,
)
from gongkai.storage.catalog import Catalog

log = logging.getLogger("gongkai.relay")

OnRelayed = Callable[[Sequence[OutboxEvent]], None]
RELAY_POLL_S = float(os.environ.get("GONGKAI_RELAY_POLL_S", "0.25"))
RELAY_START = "end"  # see outbox.start_position; GONGKAI_RELAY_START
# How long a relay's hold on the cursor lasts without renewal (each pass renews it): a killed
# relay's is taken over after this.
RELAY_LEASE_S = float(os.environ.get("GONGKAI_RELAY_LEASE_S", "30"))


def send_to_prefect(events: Sequence[OutboxEvent]) -> None:
    """Deliver `events` to the Prefect API (raises if it could not)."""
    asyncio.run(_send(events))


async def _send(events: Sequence[OutboxEvent]) -> None:
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    async with get_events_client() as client:
        for e in events:
            await client.emit(Event(id=e.id, event=e.event, resource=dict(e.resource),
                                    payload=dict(e.payload), occurred=e.occurred))  # fmt: skip


class Relay:
    """A relay of one catalog's audit rows to the Prefect API, with its own catalog
    connection (a thread of its own may run it)."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        on_relayed: OnRelayed | None = None,
        send: Callable[[Sequence[OutboxEvent]], None] = send_to_prefect,
        start: str | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.catalog = Catalog.open(self.settings.database_url)
        self.label = catalog_id(self.settings.database_url)
        self.holder = holder_name()
        self.on_relayed = on_relayed
        self.send = send
        self.start = start or os.environ.get("GONGKAI_RELAY_START") or RELAY_START

    def run_once(self) -> RelayReport:
        return relay_once(self.catalog, self.send, catalog_label=self.label,
                          holder=self.holder, start=self.start,
                          lease=timedelta(seconds=RELAY_LEASE_S),
                          on_relayed=self.on_relayed)  # fmt: skip

    def follow(self, stop: threading.Event, poll_s: float = RELAY_POLL_S) -> None:
        """Pass after pass until `stop` is set, then a last pass (what was written just
        before the stop goes out too) and the lease given up."""
        failures = 0
        while not stop.is_set():
            try:
                self.run_once()
                failures = 0
            except Exception as exc:  # Prefect or the catalog away: the rows wait
                failures += 1
                log.warning("relay: events not delivered yet (%s); retrying", exc)
            stop.wait(poll_s if not failures else min(30.0, poll_s * 2 ** failures))
        with contextlib.suppress(Exception):
            self.run_once()
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.catalog.release_relay(RELAY_NAME, self.holder)
        self.catalog.close()


@contextlib.contextmanager
def relay_in_background(
    settings: Settings | None = None, *, on_relayed: OnRelayed | None = None
) -> Iterator[Relay]:
    """A relay following the catalog in a daemon thread for the duration of the block."""
    relay = Relay(settings, on_relayed=on_relayed)
    stop = threading.Event()
    thread = threading.Thread(target=relay.follow, args=(stop,), name="gongkai-relay",
                              daemon=True)  # fmt: skip
    thread.start()
    try:
        yield relay
    finally:
        stop.set()
        thread.join(timeout=60)
