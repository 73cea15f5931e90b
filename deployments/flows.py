"""The flow the `ingest` deployment runs: a sweep of every document waiting in `received`.

The event trigger (deployments/triggers.py) fires once per burst of `gongkai.document.received`
events and passes only the id of the document whose event fired it (`triggered_by`, for the
run's name). The sweep therefore does not rely on the event's id: it takes every document
that was received and never routed, hands them to the ingest flow (gongkai.flows.ingest, one
flow run, one task run per chunk, publication chained as its subflow), and repeats while new
documents arrived during the run, up to `max_rounds`. Documents routed to publication but left
unpublished by an earlier failure are published at the end.

Idempotent like the flows it calls: a sweep with nothing waiting does nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from gongkai.flows import runtime
from gongkai.flows.ingest import ingest_documents
from gongkai.flows.publish import publish_documents
from gongkai.flows.service import Context, publishable_ids

DEFAULT_MAX_ROUNDS = 10
DEFAULT_MAX_BATCH = 2000


def never_routed_ids(ctx: Context) -> list[int]:
    """Documents in `received` that ingest has not processed yet (oldest first)."""
    return sorted(r.id for r in ctx.catalog.by_state("received") if r.routed_at is None)


def _sweep_run_name() -> str:
    triggered_by = flow_run.parameters.get("triggered_by")
    return f"sweep after {triggered_by}" if triggered_by else "sweep received documents"


@runtime.json_native_parameters
@flow(name="ingest-received", flow_run_name=_sweep_run_name, validate_parameters=False)
def ingest_received(
    triggered_by: str | None = None,
    chunk_size: int = 100,
    max_batch: int = DEFAULT_MAX_BATCH,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> dict[str, Any]:
    """Ingest (and publish) every document still waiting in `received`."""
    logger = get_run_logger()
    by_state: Counter[str] = Counter()
    documents = published = rounds = 0
    attempted: set[int] = set()
    with runtime.flow_context() as ctx:
        while rounds < max(1, max_rounds):
            # A document this run already handed to ingest and still unrouted (its processing
            # failed) is not retried here, so a failure cannot keep the sweep spinning; the
            # next sweep tries it again.
            ids = [i for i in never_routed_ids(ctx) if i not in attempted][: max(1, max_batch)]
            if not ids:
                break
            attempted.update(ids)
            rounds += 1
            logger.info("round %d: %d received document(s)", rounds, len(ids))
            result = ingest_documents(ids, chunk_size=chunk_size, publish=True)
            documents += int(result.get("processed", 0))
            published += int(result.get("published", 0))
            by_state.update(result.get("by_state", {}))
        left = [i for i in never_routed_ids(ctx) if i in attempted]
        if left:
            logger.warning("%d document(s) are still unrouted after ingest: %s", len(left),
                           left[:20])  # fmt: skip
        stragglers = publishable_ids(ctx)
    if stragglers:
        logger.info("publishing %d document(s) routed earlier", len(stragglers))
        published += int(publish_documents(stragglers, chunk_size=chunk_size)["published"])
    return {"rounds": rounds, "documents": documents, "published": published,
            "by_state": dict(by_state)}  # fmt: skip
