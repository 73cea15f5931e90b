"""What the long-running front doors (HTTP API, inbox watcher) share: the outbox relay while a
Prefect API listens, and the in-process lifecycle run for the embedded default.

- With a Prefect API (PREFECT_API_URL, or a `gongkai serve` running on this GONGKAI_HOME, found
  by gongkai.flows.runtime), the catalog's audit rows go to Prefect as events (a relay thread,
  flows/relay.py): the service's deployment triggers act on `gongkai.document.received`.
- Without one there is nobody to hear an event: the catalog's audit rows remain the record
  (a relay started later sends them); documents wait in `received` for `gongkai ingest`,
  `gongkai watch --process` or a service started later (it sweeps every waiting document).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from gongkai.config import Settings, load_settings

log = logging.getLogger("gongkai.service")


@contextlib.contextmanager
def relaying(settings: Settings | None = None) -> Iterator[None]:
    """The outbox relay in a background thread for the block, if a Prefect API listens for
    this home; at the end a last pass sends what was written just before."""
    from gongkai.flows import runtime

    settings = settings or load_settings()
    runtime.configure(settings)
    if not runtime.prefect_listens():
        log.info("no Prefect API for %s: events are recorded in the catalog only", settings.home)
        yield
        return
    from gongkai.flows.relay import relay_in_background

    with relay_in_background(settings):
        yield


def run_lifecycle(settings: Settings | None = None) -> dict[str, int]:
    """The pipeline's sweep (gongkai.flows.ingest.ingest_received) in this process: every
    document waiting, read, routed, archived, recorded and published. The caller has entered
    gongkai.flows.runtime.prefect_session(). Returns counts by state."""
    from gongkai.flows.ingest import ingest_received

    result = ingest_received()
    return {str(k): int(v) for k, v in result["by_state"].items()}
