"""Event triggers and schedules of the gongkai deployments.

Batching (why a burst of 500 `gongkai.document.received` events is one flow run, not 500):
the trigger is Reactive with threshold 1 and a window W (`within`). Prefect fires it on the
first event and then ignores further matching events until W has passed (the server's bucket
for the automation starts after the window). The run it starts begins at once (the first
document of a burst does not wait for the window), and the sweep keeps looking for newly
received documents until W after its start (`settle_s`), so the events the trigger ignored are
covered by the run it started: their documents were in the catalog before their events, and so
before the window ended. The next event after the window fires again. A burst therefore costs
one run per window.
Sweeps claim their batches (Catalog.claim_pending), so two at once never work on the same
documents. On a work pool (prefect.yaml) the ingest deployment has no concurrency limit:
sweeps overlap, and a sweep that finds more waiting than its batch asks for sibling runs that
other workers take. (`gongkai serve` sweeps in its own process: flows/sweeper.py.)

Publication is chained from ingest (a sweep publishes what its rounds routed there in task runs
of its own, the ingest flow in a publish subflow); a reviewer's release, a redaction and a
resolved exception publish at once in the service layer. So `publish` needs no event trigger of
its own: its deployment runs on an interval as a safety net (see deployments/serve.py).

Pure: builds Prefect schema objects, touches no server. Prefect is imported inside the
functions, so that importing this module (for its defaults) never loads Prefect before
gongkai.flows.runtime has configured it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.events import DeploymentEventTrigger
    from prefect.schedules import Schedule

RECEIVED_EVENT = "gongkai.document.received"
DOCUMENT_RESOURCE = "gongkai.document.*"

DEFAULT_BATCH_WINDOW = timedelta(seconds=10)
DEFAULT_REVIEW_CRON = "0 6 * * *"  # every day, 06:00
DEFAULT_FIXITY_CRON = "0 3 * * 0"  # every Sunday, 03:00
DEFAULT_TIMEZONE = "Asia/Shanghai"


def sweep_trigger(
    *,
    name: str,
    events: set[str] | frozenset[str],
    window: timedelta = DEFAULT_BATCH_WINDOW,
    description: str = "",
    catalog: str | None = None,
) -> DeploymentEventTrigger:
    """A trigger that starts one sweeping run for every burst of `events` within `window`;
    with `catalog` (events.catalog_id), only for events of that catalog.

    The run gets no document ids (the flow sweeps), only the id of the document whose event
    fired it, for the run's name and logs.
    """
    from prefect.events import DeploymentEventTrigger

    from gongkai.flows.events import CATALOG_LABEL

    if window < timedelta(seconds=0):
        raise ValueError("the batch window cannot be negative")
    return DeploymentEventTrigger(
        name=name,
        description=description,
        expect=set(events),
        match={"prefect.resource.id": DOCUMENT_RESOURCE,
               **({CATALOG_LABEL: catalog} if catalog else {})},
        posture="Reactive",
        threshold=1,
        within=window,
        parameters={"triggered_by": "{{ event.resource.id }}"},
    )


def received_trigger(
    window: timedelta = DEFAULT_BATCH_WINDOW, catalog: str | None = None
) -> DeploymentEventTrigger:
    return sweep_trigger(
        name="gongkai: ingest received documents",
        events={RECEIVED_EVENT},
        window=window,
        catalog=catalog,
        description=(
            "Runs the ingest sweep once per burst of gongkai.document.received events "
            f"(window {window.total_seconds():g} s)."
        ),
    )


def cron_schedule(expression: str, timezone: str = DEFAULT_TIMEZONE) -> Schedule:
    """A cron schedule; the expression is checked here so a typo fails at start-up."""
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.schedules import Cron

    CronSchedule(cron=expression, timezone=timezone)  # raises ValueError when invalid
    return Cron(expression, timezone=timezone)
