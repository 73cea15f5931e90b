"""The ingest flows: read, route, archive, record and publish received documents.

    ingest_received(triggered_by=None, chunk_size=100, max_batch=None, max_rounds=10,
                    settle_s=0.0, lease_s=None)
        -> {"rounds", "documents", "published", "by_state", "failed": {id: why},
            "repaired": {"missing_pages": [id], "index_problems": [why]}}

The pipeline every front door runs: `gongkai ingest`, `gongkai watch --process`, the `ingest`
deployment of `gongkai serve` and a work-pool worker. A sweep: it claims a batch of documents
received and never routed (up to `max_batch`, for `lease_s`: Catalog.claim_pending; by
default the settings GONGKAI_SWEEP_BATCH and GONGKAI_CLAIM_LEASE_S), hands it
to `ingest_documents` (one flow run per round), and repeats until nothing unclaimed is left,
up to `max_rounds`; sweeps running at once so take disjoint batches. Documents routed to
publication but left unpublished by an earlier failure are published at the end, and the
public store is repaired (pages and index an earlier run left unwritten).

    ingest_documents(document_ids: list[int], chunk_size: int = 100, publish: bool = True)
        -> {"documents", "processed", "skipped", "by_state", "to_publish", "published",
            "failed": {id: why}, "refused": {id: why}}

One flow run per batch ("ingest 250 documents"), one task run per chunk of documents
("process documents 1-100 of 250"): a thousand documents are one flow run and ten task runs,
while every document still gets its own state, audit rows and `gongkai.document.<state>`
event (from the service layer). Documents routed to publication are then published by the
publish flow, as a subflow. Idempotent: documents not in `received` are left alone.

Deployment triggers (deployments/) run it on `gongkai.document.received` events with the
document id taken from the event's resource id.
"""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from gongkai.flows import runtime, service
from gongkai.flows.publish import publish_documents
from gongkai.storage.catalog import Catalog

DEFAULT_CHUNK = 100
DEFAULT_MAX_ROUNDS = 10


def _ingest_run_name() -> str:
    ids = flow_run.parameters.get("document_ids") or []
    return f"ingest {len(ids)} document{'s' if len(ids) != 1 else ''}"


@task(name="process documents", cache_policy=NO_CACHE,
      task_run_name="process documents {first}-{last} of {total}")  # fmt: skip
def process_chunk(
    document_ids: list[int], first: int, last: int, total: int
) -> list[dict[str, Any]]:
    with runtime.flow_context() as ctx, runtime.flow_workers(len(document_ids)) as pool:
        outcomes = service.process(ctx, document_ids, pool=pool)
    return [
        {"id": o.document_id, "state": o.state, "rule": o.rule, "reason": o.reason,
         "to_publish": o.to_publish, "skipped": o.skipped, "failed": o.failed}
        for o in outcomes
    ]  # fmt: skip


@flow(name="ingest", flow_run_name=_ingest_run_name, validate_parameters=False)
def ingest_documents(
    document_ids: list[int], chunk_size: int = DEFAULT_CHUNK, publish: bool = True
) -> dict[str, Any]:
    ids = list(dict.fromkeys(int(i) for i in document_ids))
    chunk_size = max(1, int(chunk_size))
    results: list[dict[str, Any]] = []
    # One worker pool for the whole run, shared by its chunks and the publish subflow.
    with runtime.flow_workers(len(ids)), runtime.flow_context():
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            results.extend(process_chunk(chunk, start + 1, start + len(chunk), len(ids)))
        to_publish = [r["id"] for r in results if r["to_publish"]]
        published: dict[str, Any] = {}
        if publish and to_publish:
            published = publish_documents(to_publish, chunk_size=chunk_size)
    by_state = Counter(r["state"] for r in results if not r["skipped"])
    return {
        "documents": len(ids),
        "processed": sum(1 for r in results if not r["skipped"]),
        "skipped": sum(1 for r in results if r["skipped"]),
        "by_state": dict(by_state),
        "to_publish": len(to_publish),
        "published": published.get("published", 0),
        # Left in `received` for a later run, with the reason (storage trouble, a bug).
        "failed": {str(r["id"]): r["reason"] for r in results if r["failed"]},
        "refused": published.get("refused", {}),
    }


CLAIMANT = re.compile(r" host (?P<host>\S+) pid (?P<pid>\d{1,10})$")


def _worker() -> str:
    """This sweep's name on its claims: the flow run (or a fresh id), its host and process."""
    return f"sweep {flow_run.id or uuid.uuid4()} host {socket.gethostname()} pid {os.getpid()}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def release_claims_of_dead_sweeps(catalog: Catalog) -> int:
    """Release the claims of sweeps on this host whose process is gone (kill -9, the OOM
    killer), so that a rerun here takes their documents at once instead of after the lease;
    a sweep on another host is left to its lease. How many documents were released."""
    here = socket.gethostname()
    released = 0
    for name in catalog.claimants():
        found = CLAIMANT.search(name)
        if found and found["host"] == here and not _process_alive(int(found["pid"])):
            released += catalog.release_claims(name)
    return released


def _sweep_run_name() -> str:
    triggered_by = flow_run.parameters.get("triggered_by")
    return f"sweep after {triggered_by}" if triggered_by else "sweep received documents"


@flow(name="ingest-received", flow_run_name=_sweep_run_name, validate_parameters=False)
def ingest_received(
    triggered_by: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    max_batch: int | None = None,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    settle_s: float = 0.0,
    lease_s: float | None = None,
) -> dict[str, Any]:
    """Ingest (and publish) every document still waiting in `received`. `settle_s`: look for
    newly received documents until that many seconds after the start have passed (the event
    trigger's window: it starts a sweep on a burst's first event and ignores the rest of the
    window, whose documents this run takes). Each round claims its batch for `lease_s`
    (Catalog.claim_pending), so sweeps running at once share the documents."""
    logger = get_run_logger()
    by_state: Counter[str] = Counter()
    documents = published = rounds = 0
    failed: dict[str, str] = {}
    worker = _worker()
    settled_at = time.monotonic() + max(0.0, float(settle_s))
    with runtime.flow_context() as ctx:
        batch = max(1, int(max_batch or ctx.settings.sweep_batch))
        lease = timedelta(seconds=max(1.0, float(lease_s or ctx.settings.claim_lease_s)))
        if released := release_claims_of_dead_sweeps(ctx.catalog):
            logger.info("released %d document(s) claimed by sweeps that were killed", released)
        try:
            while rounds < max(1, max_rounds):
                # A document this run claimed and could not route stays claimed by it until
                # the end, so a failure cannot keep the sweep spinning; the next sweep tries
                # it again.
                ids = [r.id for r in ctx.catalog.claim_pending(worker, batch, lease)]
                if not ids and time.monotonic() < settled_at:
                    time.sleep(min(0.5, settled_at - time.monotonic()))
                    continue
                if not ids:
                    break
                rounds += 1
                logger.info("round %d: %d received document(s)", rounds, len(ids))
                result = ingest_documents(ids, chunk_size=chunk_size, publish=True)
                documents += int(result.get("processed", 0))
                published += int(result.get("published", 0))
                by_state.update(result.get("by_state", {}))
                failed.update(result.get("failed", {}))
        finally:
            ctx.catalog.release_claims(worker)
        if failed:
            logger.warning("%d document(s) are still unrouted after ingest: %s", len(failed),
                           list(failed)[:20])  # fmt: skip
        stragglers = service.publishable_ids(ctx)
    if stragglers:
        logger.info("publishing %d document(s) routed earlier", len(stragglers))
        published += int(publish_documents(stragglers, chunk_size=chunk_size)["published"])
    repaired = repair_public_store()
    return {"rounds": rounds, "documents": documents, "published": published,
            "by_state": dict(by_state), "failed": failed, "repaired": repaired}  # fmt: skip


@task(name="repair public store", cache_policy=NO_CACHE)
def repair_public_store() -> dict[str, Any]:
    """What the catalog says is published is on the public store: pages and index a killed
    or failed earlier run left unwritten are written now (service.repair_public)."""
    with runtime.flow_context() as ctx:
        return service.repair_public(ctx).to_json()
