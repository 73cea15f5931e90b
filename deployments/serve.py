"""`gongkai serve`: one process that serves every gongkai deployment.

    ingest-received/gongkai-ingest  event: gongkai.document.received (one sweep per burst)
                                    -> ingest flow -> publish flow (subflow)
    publish/gongkai-publish         interval (default hourly): publishes whatever was routed to
                                    publication and is still waiting (a public store that was
                                    down, a crash between ingest and publish); on demand too
    review/gongkai-review           cron, daily 06:00 Asia/Shanghai: due withheld documents
    fixity/gongkai-fixity           cron, weekly Sunday 03:00 Asia/Shanghai: archive checksums

At start, serve asks for one sweep if documents wait (sweep_what_waits).

Reviewers' releases, redactions and resolved exceptions publish at once in the service layer
(gongkai review decide / redact / resolve), so they need no trigger.

The Prefect server: PREFECT_API_URL if set; otherwise gongkai.flows.runtime starts a local one
under GONGKAI_HOME with triggers on, and records its address so that `gongkai submit` on the
same home sends its events there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from gongkai.config import Settings, load_settings
from gongkai.deployments.triggers import (
    DEFAULT_BATCH_WINDOW,
    DEFAULT_FIXITY_CRON,
    DEFAULT_REVIEW_CRON,
    DEFAULT_TIMEZONE,
    cron_schedule,
    received_trigger,
)

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

INGEST_DEPLOYMENT = "gongkai-ingest"
PUBLISH_DEPLOYMENT = "gongkai-publish"
REVIEW_DEPLOYMENT = "gongkai-review"
FIXITY_DEPLOYMENT = "gongkai-fixity"
TAGS = ["gongkai"]
DEFAULT_PUBLISH_INTERVAL = timedelta(hours=1)
RUNNER_POLL_S = 1


class InvalidServeOption(ValueError):
    """A cron expression, time zone or window that Prefect would not accept."""


@dataclass(frozen=True)
class ServeOptions:
    batch_window: timedelta = DEFAULT_BATCH_WINDOW
    review_cron: str = DEFAULT_REVIEW_CRON
    fixity_cron: str = DEFAULT_FIXITY_CRON
    timezone: str = DEFAULT_TIMEZONE
    publish_interval: timedelta | None = DEFAULT_PUBLISH_INTERVAL  # None: no schedule
    limit: int | None = 4  # flow runs at once in this process
    chunk_size: int = 100
    web: tuple[str, int] | None = None  # (host, port) of the web app served beside, or none


def build_deployments(
    options: ServeOptions, catalog: str | None = None
) -> list[RunnerDeployment]:
    """The four deployments, ready for prefect.serve (imports Prefect and the flows).
    `catalog` (events.catalog_id): the ingest trigger hears only that catalog's events."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Interval
    from prefect.types.entrypoint import EntrypointType

    from gongkai.flows.fixity import fixity_check
    from gongkai.flows.ingest import ingest_received
    from gongkai.flows.publish import publish_documents
    from gongkai.flows.review import review_due

    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
    )
    module = EntrypointType.MODULE_PATH
    ingest = ingest_received.to_deployment(
        name=INGEST_DEPLOYMENT,
        description="Ingest and publish received documents, one sweep per burst of "
                    "gongkai.document.received events.",
        triggers=[received_trigger(options.batch_window, catalog)],
        parameters={"chunk_size": options.chunk_size,
                    "settle_s": options.batch_window.total_seconds()},
        concurrency_limit=one_at_a_time,
        tags=TAGS,
        entrypoint_type=module,
    )  # fmt: skip
    publish = publish_documents.to_deployment(
        name=PUBLISH_DEPLOYMENT,
        description="Publish every document routed to publication and still waiting.",
        schedules=[Interval(options.publish_interval, timezone=options.timezone)]
        if options.publish_interval else None,
        parameters={"chunk_size": options.chunk_size},
        concurrency_limit=one_at_a_time,
        tags=TAGS,
        entrypoint_type=module,
    )  # fmt: skip
    review = review_due.to_deployment(
        name=REVIEW_DEPLOYMENT,
        description="Withheld documents due for review (gongkai.review.due events).",
        schedules=[cron_schedule(options.review_cron, options.timezone)],
        concurrency_limit=one_at_a_time,
        tags=TAGS,
        entrypoint_type=module,
    )  # fmt: skip
    fixity = fixity_check.to_deployment(
        name=FIXITY_DEPLOYMENT,
        description="Verify every archival package against its manifest.",
        schedules=[cron_schedule(options.fixity_cron, options.timezone)],
        concurrency_limit=one_at_a_time,
        tags=TAGS,
        entrypoint_type=module,
    )  # fmt: skip
    return [ingest, publish, review, fixity]


def check_options(options: ServeOptions) -> None:
    """InvalidServeOption for anything Prefect would refuse (imports Prefect)."""
    for what, expression in (("review", options.review_cron), ("fixity", options.fixity_cron)):
        try:
            cron_schedule(expression, options.timezone)
        except ValueError as exc:
            raise InvalidServeOption(f"--{what}-cron {expression!r} / --timezone "
                                     f"{options.timezone!r}: {exc}") from exc  # fmt: skip
    if options.batch_window.total_seconds() < 0:
        raise InvalidServeOption("--batch-window cannot be negative")


def serve(options: ServeOptions, settings: Settings | None = None) -> None:
    """Serve the deployments until interrupted (SIGINT/SIGTERM)."""
    from gongkai.flows import runtime

    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    with runtime.prefect_session(settings, purpose="service", console_level="INFO"):
        from prefect import serve as prefect_serve

        check_options(options)
        from gongkai.flows.events import catalog_id

        deployments = build_deployments(options, catalog_id(settings.database_url))
        sweep_what_waits(deployments[0], settings)
        with contextlib.ExitStack() as beside:
            if options.web is not None:
                from gongkai.entrypoints.web import serving_in_thread

                # Started inside the session: its events go to this service's Prefect API.
                beside.enter_context(serving_in_thread(settings, *options.web))
            # The runner asks for scheduled runs every second (Prefect: every 10 s), so that
            # a triggered sweep starts about at once.
            prefect_serve(*deployments, limit=options.limit, print_starting_message=True,
                          query_seconds=RUNNER_POLL_S)


def sweep_what_waits(ingest: RunnerDeployment, settings: Settings) -> None:
    """Ask for one sweep now if documents wait (received, or routed to publication): those an
    interrupted run left, or that arrived while no service listened. Registers the ingest
    deployment first, so that the run is there for the runner once it starts serving."""
    from prefect.deployments import run_deployment

    from gongkai.flows.events import MemoryEventSink
    from gongkai.flows.service import Context

    with Context.open(settings, events=MemoryEventSink()) as ctx:
        counts = ctx.catalog.counts_by_state()
    waiting = counts.get("received", 0) + counts.get("to_publish", 0)
    if not waiting:
        return
    deployment_id = ingest.apply()
    run_deployment(deployment_id, timeout=0, parameters={"triggered_by": "gongkai serve"})


def deployment_names(deployments: Sequence[RunnerDeployment]) -> list[str]:
    return [f"{d.flow_name}/{d.name}" for d in deployments]
