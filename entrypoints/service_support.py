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
import os
from collections.abc import Mapping, Sequence
from typing import Any

from gongkai.config import Settings, load_settings
from gongkai.flows.events import AuditOnlyEventSink, EventSink, PrefectEventSink

log = logging.getLogger("gongkai.service")


def event_sink(settings: Settings | None = None) -> EventSink:
    """Prefect's events if a Prefect API is reachable for this home, else audit-only."""
    from gongkai.flows.runtime import configure

    settings = settings or load_settings()
    mode = configure(settings)
    if mode.api_url or os.environ.get("PREFECT_API_URL"):
        return PrefectEventSink()
    log.info("no Prefect API for %s: events are recorded in the catalog only", settings.home)
    return AuditOnlyEventSink()


def run_lifecycle(document_ids: Sequence[int], settings: Settings | None = None) -> dict[str, int]:
    """Ingest (and so publish) the given documents in this process through the Prefect flows.
    The caller has entered gongkai.flows.runtime.prefect_session(). Returns counts by state."""
    from gongkai.flows.ingest import ingest_documents

    result = ingest_documents(list(document_ids))
    return _by_state(result)


def _by_state(result: Any) -> dict[str, int]:
    by_state = getattr(result, "by_state", None)
    if isinstance(by_state, Mapping):
        return {str(k): int(v) for k, v in by_state.items()}
    if isinstance(result, Mapping) and isinstance(result.get("by_state"), Mapping):
        return {str(k): int(v) for k, v in result["by_state"].items()}
    return {}
