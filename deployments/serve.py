"""`gongkai serve`: one process that serves every gongkai deployment, and sweeps.

    ingest-received/gongkai-ingest  no trigger in serve: its sweeper (flows/sweeper.py) runs
                                    the same flow in this process when documents arrive; the
                                    deployment stays for manual runs (and carries the trigger
                                    for work-pool workers, deployments/prefect.yaml)
                                    -> its rounds and publication (task runs)
    publish/gongkai-publish         interval (default hourly): publishes whatever was routed to
                                    publication and is still waiting (a public store that was
                                    down, a crash between ingest and publish); on demand too
    review/gongkai-review           cron, daily 06:00 Asia/Shanghai: due withheld documents
    fixity/gongkai-fixity           cron, weekly Sunday 03:00 Asia/Shanghai: archive checksums

The sweeper sweeps what waits when serve starts, on every `gongkai.document.received` event
of this catalog (from `gongkai submit`, `gongkai api`, `gongkai watch`), at once on an intake
through serve's own web app, and on a periodic check of the catalog.

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
)
from gongkai.flows.sweeper import RECEIVED_EVENT, SweeperOptions

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

    from gongkai.flows.service.outbox import OutboxEvent
    from gongkai.flows.sweeper import Sweeper

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
    sweep_batch: int = SweeperOptions.batch  # documents per round of the sweeper's sweeps


def build_deployments(options: ServeOptions) -> list[RunnerDeployment]:
    """The four deployments, ready for prefect.serve (imports Prefect and the flows)."""
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
        description="Ingest and publish received documents (gongkai serve's sweeper runs "
                    "this flow itself; this deployment is for manual runs).",
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
        from gongkai.flows.sweeper import Sweeper

        deployments = build_deployments(options)
        sweeper = Sweeper(settings, SweeperOptions(batch=options.sweep_batch,
                                                   chunk_size=options.chunk_size))  # fmt: skip
        with contextlib.ExitStack() as beside:
            beside.enter_context(sweeper)
            from gongkai.flows.relay import relay_in_background

            # The catalog's audit rows go to this server as events; a relayed `received`
            # wakes the sweeper at once, in this process (wake_on_received).
            beside.enter_context(relay_in_background(
                settings, on_relayed=lambda events: wake_on_received(sweeper, events)))
            if options.web is not None:
                from gongkai.entrypoints.web import serving_in_thread

                # No relay of its own: the relay above sends its audit rows too (and its
                # intake's `received` wakes the sweeper).
                beside.enter_context(serving_in_thread(settings, *options.web, relay=False))
            # The runner asks for scheduled runs every second (Prefect: every 10 s), so that
            # a manual run starts about at once.
            prefect_serve(*deployments, limit=options.limit, print_starting_message=True,
                          query_seconds=RUNNER_POLL_S)


def wake_on_received(sweeper: Sweeper, events: Sequence[OutboxEvent]) -> None:
    """The relay's on_relayed hook: the sweeper woken by a relayed `received`."""
    for event in events:
        if event.event == RECEIVED_EVENT:
            sweeper.wake(event.resource_id)
            return


def deployment_names(deployments: Sequence[RunnerDeployment]) -> list[str]:
    return [f"{d.flow_name}/{d.name}" for d in deployments]
