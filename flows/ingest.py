"""The ingest flows: read, route, archive, record and publish received documents.

    ingest_received(triggered_by=None, chunk_size=100, max_batch=None, max_rounds=10,
                    settle_s=0.0, lease_s=None, siblings=None, publish_every=4)
        -> {"rounds", "documents", "published", "by_state", "failed": {id: why},
            "repaired": {"missing_pages": [id], "index_problems": [why], "stale_pages": [id]}}

The pipeline every front door runs: `gongkai ingest`, `gongkai watch --process`, the `ingest`
deployment of `gongkai serve` and a work-pool worker. A sweep: it claims a batch of documents
received and never routed (up to `max_batch`, for `lease_s`: Catalog.claim_pending; by default
the settings GONGKAI_SWEEP_BATCH and GONGKAI_CLAIM_LEASE_S), processes it in task runs of its
own ("round 3: process documents 1-25 of 25", `ingest_in_chunks`: no flow run a round), and
repeats until nothing unclaimed is left, up to `max_rounds`; sweeps running at once so take
disjoint batches. Run as a deployment, a sweep that finds more waiting than its batch asks for
sibling runs of its deployment (`siblings`, GONGKAI_SWEEP_SIBLINGS), so that the workers of a
work pool share a burst. What the rounds route to publication is published by the sweep's
publish task runs (flows/publish.py publish_in_chunks) when nothing more waits, and during a
burst once per `publish_every` rounds; with serve's sweeper's worker pool the next round's
batch is claimed and read while a round records, and a round records what was read within
PATIENCE_S, leaving a document still being read (a long OCR) to a later round, still claimed by
the sweep; what the last round leaves is the next sweep's (serve's sweeper starts one at once),
whose claim takes the pool's reading. Documents routed to publication but left unpublished by
an earlier failure are published at the end, and the public store is repaired (pages and index
an earlier run left unwritten).

    ingest_documents(document_ids: list[int], chunk_size: int = 100, publish: bool = True)
        -> {"documents", "processed", "skipped", "by_state", "to_publish", "to_publish_ids",
            "published", "failed": {id: why}, "refused": {id: why}}

One flow run per batch ("ingest 250 documents"), one task run per chunk of documents
("process documents 1-100 of 250"): a thousand documents are one flow run and ten task runs,
while every document still gets its own state, audit rows and `gongkai.document.<state>`
event (from the service layer). Documents routed to publication are then published by the
publish flow, as a subflow; with publish=False they are left `to_publish` and their ids
returned (`to_publish_ids`) for the caller to publish. Idempotent: documents not in
`received` are left alone.

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
from prefect.runtime import deployment as this_deployment
from prefect.runtime import flow_run

from gongkai.flows import runtime, service
from gongkai.flows.publish import publish_documents, publish_in_chunks
from gongkai.storage.catalog import Catalog

DEFAULT_CHUNK = 100
DEFAULT_MAX_ROUNDS = 10
# With more to do (the next round claimed, or documents an earlier round left), a round of
# serve's sweeper records what its workers read within this many seconds and leaves a document
# still being read (OCR of a scan: tens of seconds) to a later round, still claimed, instead of
# keeping the backlog waiting for it.
PATIENCE_S = 2.0
DEFAULT_PUBLISH_EVERY = 4  # rounds of a burst between two publications (benchmarks/service.py)


def _ingest_run_name() -> str:
    ids = flow_run.parameters.get("document_ids") or []
    return f"ingest {len(ids)} document{'s' if len(ids) != 1 else ''}"


@task(name="process documents", cache_policy=NO_CACHE,
      task_run_name="{round_label}process documents {first}-{last} of {total}")  # fmt: skip
def process_chunk(
    document_ids: list[int], first: int, last: int, total: int,
    patience_s: float | None = None, round_label: str = "",
) -> list[dict[str, Any]]:
    with runtime.flow_context() as ctx, runtime.flow_workers(len(document_ids)) as pool:
        outcomes = service.process(ctx, document_ids, pool=pool, patience_s=patience_s)
    return [
        {"id": o.document_id, "state": o.state, "rule": o.rule, "reason": o.reason,
         "to_publish": o.to_publish, "skipped": o.skipped, "failed": o.failed,
         "deferred": o.deferred}
        for o in outcomes
    ]  # fmt: skip


@flow(name="ingest", flow_run_name=_ingest_run_name, validate_parameters=False)
def ingest_documents(
    document_ids: list[int], chunk_size: int = DEFAULT_CHUNK, publish: bool = True,
    patience_s: float | None = None,
) -> dict[str, Any]:
    return ingest_in_chunks(document_ids, chunk_size, publish, patience_s)


def ingest_in_chunks(
    document_ids: list[int], chunk_size: int = DEFAULT_CHUNK, publish: bool = True,
    patience_s: float | None = None, round_label: str = "",
) -> dict[str, Any]:
    """The ingest tasks for these documents inside the calling flow run (the `ingest` flow, or
    a sweep for each of its rounds, named by `round_label`): one task run per chunk, then the
    publish subflow unless `publish` is False. The result is ingest_documents'."""
    ids = list(dict.fromkeys(int(i) for i in document_ids))
    chunk_size = max(1, int(chunk_size))
    results: list[dict[str, Any]] = []
    # One worker pool for the whole run, shared by its chunks and the publish subflow.
    with runtime.flow_workers(len(ids)), runtime.flow_context():
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            results.extend(process_chunk(chunk, start + 1, start + len(chunk), len(ids),
                                         patience_s, round_label))  # fmt: skip
        to_publish = [r["id"] for r in results if r["to_publish"]]
        published: dict[str, Any] = {}
        if publish and to_publish:
            published = publish_documents(to_publish, chunk_size=chunk_size)
    done = [r for r in results if not r["deferred"]]
    by_state = Counter(r["state"] for r in done if not r["skipped"])
    return {
        "documents": len(ids),
        "processed": sum(1 for r in done if not r["skipped"]),
        "skipped": sum(1 for r in done if r["skipped"]),
        # Still being read when patience_s ran out (in `received`, the pool reads on).
        "deferred": [r["id"] for r in results if r["deferred"]],
        "by_state": dict(by_state),
        "to_publish": len(to_publish),
        "to_publish_ids": [] if publish else to_publish,  # left to the caller to publish
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
    siblings: int | None = None,
    publish_every: int = DEFAULT_PUBLISH_EVERY,
) -> dict[str, Any]:
    """Ingest (and publish) every document still waiting in `received`. `settle_s`: look for
    newly received documents until that many seconds after the start have passed (the event
    trigger's window: it starts a sweep on a burst's first event and ignores the rest of the
    window, whose documents this run takes). Each round claims its batch for `lease_s`
    (Catalog.claim_pending), so sweeps running at once share the documents; while another
    sweep holds claims on waiting documents, this one waits for them (up to the lease after
    its last round), so a killed sweep's batch is finished when its claim expires.
    `siblings` (default: the setting GONGKAI_SWEEP_SIBLINGS): run as a deployment and finding
    more waiting than its batch, the sweep asks for up to that many more runs of its own
    deployment (themselves asking for none), which workers elsewhere pick up.
    While one round records, the next round's batch is claimed and read (up to two batches
    claimed at once). The documents the rounds route to publication are published (publish task
    runs, one public index update) when nothing more waits to be claimed, and
    during a burst after every `publish_every` rounds; meanwhile they are `to_publish`."""
    logger = get_run_logger()
    by_state: Counter[str] = Counter()
    documents = published = rounds = asked = 0
    failed: dict[str, str] = {}
    worker = _worker()
    settled_at = time.monotonic() + max(0.0, float(settle_s))
    with runtime.flow_context() as ctx:
        batch = max(1, int(max_batch or ctx.settings.sweep_batch))
        lease = timedelta(seconds=max(1.0, float(lease_s or ctx.settings.claim_lease_s)))
        budget = max(0, int(ctx.settings.sweep_siblings if siblings is None else siblings))
        sibling = {"triggered_by": f"{triggered_by or 'a sweep'} (sibling)",
                   "chunk_size": chunk_size,
                   "max_batch": batch, "max_rounds": max_rounds, "lease_s": lease_s,
                   "siblings": 0}  # fmt: skip
        if released := release_claims_of_dead_sweeps(ctx.catalog):
            logger.info("released %d document(s) claimed by sweeps that were killed", released)
        idle_until = time.monotonic() + lease.total_seconds()
        reading_ahead = runtime.reads_ahead()  # serve's sweeper: its pool reads claims now
        ahead: list[int] = []  # claimed for the next round, its reading started already
        deferred: list[int] = []  # claimed, still read by serve's pool after their round
        unpublished: list[int] = []  # routed to publication by this sweep, not published yet
        try:
            while rounds < max(1, max_rounds):
                # A document this run claimed and could not route stays claimed by it until
                # the end, so a failure cannot keep the sweep spinning; the next sweep tries
                # it again.
                new = ahead + claim(ctx, worker, batch - len(ahead), lease)
                ahead = []
                # A document still read (a long OCR) joins a round once read; while only such
                # documents are left, the sweep waits here, not in a round.
                reading = runtime.still_reading(deferred)
                ids = [i for i in deferred if i not in reading] + new
                deferred = reading
                now = time.monotonic()
                if not ids and (deferred or now < settled_at or (
                        now < idle_until and ctx.catalog.claim_counts(worker)[1])):
                    published += publish_routed(unpublished, chunk_size)
                    time.sleep(0.5)  # more may arrive, or another sweep's claim may lapse
                    continue
                if not ids:
                    break
                rounds += 1
                logger.info("round %d: %d received document(s)", rounds, len(ids))
                if reading_ahead and rounds < max_rounds:
                    # The next round's documents are read while this one records and
                    # Prefect books its runs: the workers never wait for the round's end.
                    ahead = claim(ctx, worker, batch, lease)
                if asked < budget and len(ids) == batch:
                    asked += ask_for_siblings(ctx.catalog, worker, batch, budget - asked,
                                              sibling)  # fmt: skip
                # With serve's pool a round does not wait for a slow document (a scan's OCR):
                # documents arriving meanwhile would wait behind it, unclaimed and unread.
                # The last round does not wait either: a burst's documents would queue behind
                # the scans of the OCR lane, read at a low priority, one after another.
                patience = PATIENCE_S if reading_ahead else None
                # The round's task runs in this flow run: a subflow a round cost the sweep
                # 0.3-2 s of Prefect's bookkeeping, while the burst queued (RESULTS.md).
                result = ingest_in_chunks(ids, chunk_size, publish=False, patience_s=patience,
                                          round_label=f"round {rounds}: ")  # fmt: skip
                deferred += result.get("deferred", [])
                documents += int(result.get("processed", 0))
                unpublished += result.get("to_publish_ids", [])
                by_state.update(result.get("by_state", {}))
                failed.update(result.get("failed", {}))
                more = bool(ahead) if reading_ahead else ctx.catalog.claim_counts(worker)[0] > 0
                if not more or rounds % max(1, publish_every) == 0:
                    published += publish_routed(unpublished, chunk_size)
                idle_until = time.monotonic() + lease.total_seconds()
        finally:
            ctx.catalog.release_claims(worker)
        if deferred:
            logger.info("%d document(s) still being read (OCR) are left to the next sweep",
                        len(deferred))
        published += publish_routed(unpublished, chunk_size)
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


def claim(ctx: service.Context, worker: str, size: int, lease: timedelta) -> list[int]:
    """Up to `size` waiting documents claimed for `worker`, handed to serve's sweeper's worker
    pool to start reading now (runtime.read_ahead)."""
    if size <= 0:
        return []
    ids = [r.id for r in ctx.catalog.claim_pending(worker, size, lease)]
    runtime.read_ahead(ctx.settings, ids)
    return ids


def publish_routed(ids: list[int], chunk_size: int = DEFAULT_CHUNK) -> int:
    """Publish these documents routed to publication (the publish task runs, in the sweep's
    flow run, which check the policy again for each); empties `ids`. How many were
    published."""
    if not ids:
        return 0
    get_run_logger().info("publishing %d document(s) routed by this sweep", len(ids))
    published = int(publish_in_chunks(list(ids), chunk_size)["published"])
    ids.clear()
    return published


def ask_for_siblings(
    catalog: Catalog, worker: str, batch: int, budget: int, parameters: dict[str, Any]
) -> int:
    """Ask for up to `budget` more runs of this flow run's deployment, one per `batch` of
    documents still free to claim (none when not run as a deployment); how many were asked.
    timeout=0: the runs are scheduled on the work pool, not waited for."""
    deployment = this_deployment.id
    if not deployment or budget <= 0:
        return 0
    free, _held = catalog.claim_counts(worker)
    wanted = min(budget, -(-free // batch))
    if wanted:
        from prefect.deployments import run_deployment

        for _ in range(wanted):
            run_deployment(deployment, parameters=parameters, timeout=0, as_subflow=False)
        get_run_logger().info("asked for %d sibling sweep(s): %d document(s) still free",
                              wanted, free)  # fmt: skip
    return wanted


@task(name="repair public store", cache_policy=NO_CACHE)
def repair_public_store() -> dict[str, Any]:
    """What the catalog says is published is on the public store, and nothing else: pages
    and index a killed or failed earlier run left unwritten (or left up) are mended now, for
    the documents whose state changed since the last check (service.repair_public_changes)."""
    with runtime.flow_context() as ctx:
        return service.repair_public_changes(ctx).to_json()
