"""Events: the catalog label they carry, and a small port for events that are not a document's.

The lifecycle's events are the catalog's audit rows (an outbox): the service layer writes the
rows and sends nothing; flows/service/outbox.py makes each row's event (one place for what an
event says) and flows/relay.py sends them to Prefect, at least once, with deterministic ids.
Deployment triggers (deployments/) match on these event names.

The port (`EventSink.emit`) remains for what has no audit row (`gongkai.ingest.completed`):
- `PrefectEventSink` sends with `prefect.events.emit_event` (queued to Prefect's events worker).
- `MemoryEventSink` keeps them in a list (tests also fill one from the outbox mapping,
  tests/service_run.py `outbox()`).
- `AuditOnlyEventSink`: no Prefect API listens; logged only.

Every event sent to Prefect names the catalog it comes from in its resource (`gongkai.catalog`,
catalog_id()), and the deployments' triggers match only their own catalog's: two catalogs whose
services share one Prefect server do not wake each other.

Event names: `gongkai.document.<state>` for every state change (lifecycle.event_name),
`gongkai.document.duplicate_submission`, `gongkai.document.fixity_failed`, `gongkai.review.due`,
`gongkai.review.kept`. Resource id: `gongkai.document.<id>` (lifecycle.resource_id).
`gongkai ingest` closes its run with `gongkai.ingest.completed` (resource
`gongkai.ingest.<uuid>`), sent directly through the port where a Prefect API listens.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("gongkai.events")

CATALOG_LABEL = "gongkai.catalog"


def catalog_id(database_url: str) -> str:
    """A short stable name of the catalog at `database_url` (its password left out), for the
    events' resources and the triggers that match them."""
    parts = urllib.parse.urlsplit(database_url)
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:  # user:password@host -> user@host
        netloc[0] = netloc[0].split(":", 1)[0]
    plain = urllib.parse.urlunsplit(parts._replace(netloc="@".join(netloc)))
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Emitted:
    event: str
    resource_id: str
    payload: Mapping[str, Any]
    resource_name: str | None = None

    def emit_to(self, sink: EventSink) -> None:
        """Send this event, as it was emitted, through `sink`."""
        sink.emit(self.event, resource_id=self.resource_id, payload=self.payload,
                  resource_name=self.resource_name)  # fmt: skip


class EventSink(Protocol):
    def emit(
        self,
        event: str,
        *,
        resource_id: str,
        payload: Mapping[str, Any],
        resource_name: str | None = None,
    ) -> None:
        """Send one event. Must not raise for a delivery problem: the catalog's audit row is
        the record of truth; the event is the signal."""
        ...


@dataclass
class MemoryEventSink:
    """Keeps every event in order; `names()` and `for_resource()` help tests read them."""

    events: list[Emitted] = field(default_factory=list)

    def emit(
        self,
        event: str,
        *,
        resource_id: str,
        payload: Mapping[str, Any],
        resource_name: str | None = None,
    ) -> None:
        self.events.append(Emitted(event, resource_id, dict(payload), resource_name))

    def names(self) -> list[str]:
        return [e.event for e in self.events]

    def for_resource(self, resource_id: str) -> list[Emitted]:
        return [e for e in self.events if e.resource_id == resource_id]

    def clear(self) -> None:
        self.events.clear()


class PrefectEventSink:
    """Emits through Prefect's events client (local temporary server or PREFECT_API_URL);
    `catalog`: the catalog_id() the events are labelled with (their resource's
    `gongkai.catalog`)."""

    def __init__(self, catalog: str | None = None) -> None:
        # Imported here so that the service layer and its unit tests never load Prefect.
        from prefect.events import emit_event

        self._emit_event = emit_event
        self._catalog = catalog

    def emit(
        self,
        event: str,
        *,
        resource_id: str,
        payload: Mapping[str, Any],
        resource_name: str | None = None,
    ) -> None:
        resource = {"prefect.resource.id": resource_id}
        if resource_name:
            resource["prefect.resource.name"] = resource_name
        if self._catalog:
            resource[CATALOG_LABEL] = self._catalog
        self._emit_event(event=event, resource=resource, payload=dict(payload))

    def flush(self, timeout: float = 30) -> None:
        """Deliver the events still queued in this process's Prefect events client. The
        long-running front doors (HTTP API, inbox watcher) call it at shutdown: uvicorn ends
        its process with the SIGTERM it caught, and exit handlers (Prefect's own drain among
        them) never run, so an event emitted just before would be lost."""
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=timeout)


class AuditOnlyEventSink:
    """No Prefect to send to: the event is logged; the catalog's audit row is the record."""

    def __init__(self) -> None:
        self.count = 0

    def emit(
        self,
        event: str,
        *,
        resource_id: str,
        payload: Mapping[str, Any],
        resource_name: str | None = None,
    ) -> None:
        self.count += 1
        log.debug("event %s for %s (no Prefect API: not sent)", event, resource_id)
