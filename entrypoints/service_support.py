"""What the long-running front doors (HTTP API, inbox watcher) share: the choice of event sink
and the in-process lifecycle run for the embedded default.

- With a Prefect API (PREFECT_API_URL, or a `gongkai serve` running on this GONGKAI_HOME, found
  by gongkai.flows.runtime), events go to Prefect: the service's deployment triggers act on
  `gongkai.document.received`.
- Without one there is nobody to hear an event: they are logged (DEBUG) and the catalog's audit
  rows remain the record; documents wait in `received` for `gongkai ingest`, `gongkai watch
  --process` or a service started later (its ingest sweep takes every waiting document).
"""

from __future__ import annotations

import logging

from gongkai.config import Settings, load_settings
from gongkai.flows.events import AuditOnlyEventSink, EventSink

log = logging.getLogger("gongkai.service")


def event_sink(settings: Settings | None = None) -> EventSink:
    """Prefect's events if a Prefect API listens for this home, else audit-only."""
    from gongkai.flows import runtime

    settings = settings or load_settings()
    runtime.configure(settings)
    sink = runtime.event_sink(settings)
    if isinstance(sink, AuditOnlyEventSink):
        log.info("no Prefect API for %s: events are recorded in the catalog only", settings.home)
    return sink


def run_lifecycle(settings: Settings | None = None) -> dict[str, int]:
    """The pipeline's sweep (gongkai.flows.ingest.ingest_received) in this process: every
    document waiting, read, routed, archived, recorded and published. The caller has entered
    gongkai.flows.runtime.prefect_session(). Returns counts by state."""
    from gongkai.flows.ingest import ingest_received

    result = ingest_received()
    return {str(k): int(v) for k, v in result["by_state"].items()}
