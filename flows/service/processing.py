"""Processing: read -> route -> archival package -> record, in batches (optionally in worker
processes)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from gongkai.config import ExternalTools, Settings
from gongkai.extractors.model import DocumentMetadata, ExtractionError, OcrNeeded
from gongkai.flows import deadlines, lifecycle, policy
from gongkai.flows.service import versions
from gongkai.flows.service.context import Context, _jsonable
from gongkai.storage.archive import PackageRequest
from gongkai.storage.catalog import (
    Catalog,
    DocumentRecord,
    Outcome,
    StaleState,
    with_extraction,
)

log = logging.getLogger("gongkai.processing")

# --------------------------------------------------------------------------------------------
# extraction (may run in worker processes)

ExtractResult = DocumentMetadata | ExtractionError


def extract_one(
    data: bytes, filename: str, max_bytes: int, tools: ExternalTools | None = None,
    ocr: bool = True,
) -> ExtractResult:
    """Read one document; an unreadable one gives its ExtractionError back (never raises it),
    and so does any unexpected reader failure, so that one bad file cannot stop a batch.
    `tools`: the external programs scans (OCR) and .doc/.wps (LibreOffice) are read with;
    `ocr=False`: a scan raises OcrNeeded (read in the OCR lane instead)."""
    from gongkai.extractors import extract

    try:
        return extract(data, filename, max_bytes=max_bytes, tools=tools, ocr=ocr)
    except ExtractionError as exc:
        return exc
    except OcrNeeded:
        raise
    except Exception as exc:  # a reader bug must still leave the document on record
        return ExtractionError("corrupt", f"the file could not be read ({type(exc).__name__}: "
                                          f"{exc})")


class WorkerPool:
    """Where documents are processed: in this process (workers=1), or in a pool of worker
    processes that each run the whole step for a document (read the original, extract, route,
    archive, record) with their own catalog connection and stores (its audit rows are its
    events, relayed from the catalog).

    A parallel pool reads scans in an OCR lane of its own: a reader worker that finds a
    document only OCR can read hands it back (OcrNeeded), and the lane's worker processes
    (`ocr_workers`), at a lower CPU priority (OCR_NICENESS), read it there. Tesseract takes
    seconds a page; in a reader worker it held the documents of its batch and one of the cores
    while the others queued; in the lane it takes the CPU the readers leave, and the other
    documents go on.

    The pool is started once and reused (a worker's start costs the import of the readers),
    so callers keep one WorkerPool for a whole run and close() it at the end.
    """

    def __init__(self, workers: int = 1, ocr_workers: int | None = None) -> None:
        self.workers = max(1, workers)
        # As many as the readers by default: at a low priority they take only the CPU the
        # readers leave, and once the readers are done (a batch's end) all of it. A service
        # (serve's sweeper) keeps one, so arriving documents keep the rest.
        self.ocr_workers = max(1, ocr_workers or self.workers)
        self._pool: Executor | None = None
        self._ocr_pool: Executor | None = None
        self._pending: dict[int, Future[list[Prepared]]] = {}
        self._ready: dict[int, Prepared] = {}
        self._settings: Settings | None = None
        self._write_lock: Any = None  # one for both lanes' workers (their SQLite writes)

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def _executor(self, workers: int | None = None, niceness: int = 0) -> Executor:
        from gongkai.flows import forkserver

        # The fork server imports the readers and this module once, before any worker
        # forks from it, so each worker starts with them loaded (flows/forkserver.py).
        mp = forkserver.context()
        if self._write_lock is None:
            self._write_lock = mp.Lock()
        return ProcessPoolExecutor(
            workers or self.workers, mp_context=mp, initializer=_init_worker,
            initargs=(self._write_lock, os.getpid(), niceness),
        )

    def _readers(self) -> Executor:
        if self._pool is None:
            self._pool = self._executor()
        return self._pool

    def _ocr_lane(self) -> Executor:
        if self._ocr_pool is None:
            self._ocr_pool = self._executor(self.ocr_workers, OCR_NICENESS)
        return self._ocr_pool

    def warm(self) -> None:
        """Start the worker processes now (e.g. while Prefect's server starts)."""
        if self.parallel:
            futures = [self._readers().submit(_warm_worker) for _ in range(self.workers)]
            futures += [self._ocr_lane().submit(_warm_worker) for _ in range(self.ocr_workers)]
            for future in futures:
                future.result()

    def _submit(self, settings: Settings, document_ids: Sequence[int]) -> None:
        pool = self._readers()
        self._settings = settings
        ids = [i for i in dict.fromkeys(document_ids)
               if i not in self._pending and i not in self._ready]  # fmt: skip
        # Eight pieces per worker: a piece that holds several slow documents (.doc/.wps to
        # convert) keeps one worker busy while the others finish and wait for the round's end.
        size = max(1, min(PREPARE_BATCH, -(-len(ids) // (self.workers * PIECES_PER_WORKER))))
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            future = pool.submit(_prepare_in_worker, settings, batch, False)
            for doc_id in batch:
                self._pending[doc_id] = future

    def _read_by_ocr(self, document_id: int) -> Future[list[Prepared]]:
        assert self._settings is not None  # set by the _submit() that read it first
        future = self._ocr_lane().submit(_prepare_in_worker, self._settings, [document_id])
        self._pending[document_id] = future
        return future

    def read_ahead(self, settings: Settings, document_ids: Sequence[int]) -> None:
        """Start preparing these documents now; a later prepare() of them takes the results
        (a sweep that claimed them: the workers read while Prefect starts the round's run)."""
        if self.parallel and len(document_ids) > 1:
            self._submit(settings, document_ids)

    def reading(self, document_ids: Sequence[int]) -> list[int]:
        """Those of these documents the workers are still preparing."""
        self._collect()
        return [i for i in document_ids if i in self._pending and not self._pending[i].done()]

    def _collect(self) -> None:
        """Hand the scans a finished batch gave back to the OCR lane (the futures of batches
        nobody waits for yet are looked at here)."""
        for future in {f for f in self._pending.values() if f.done()}:
            if future.exception() is None and any(p.ocr_needed for p in future.result()):
                self._sort(future, set())

    def prepare(
        self, settings: Settings, document_ids: Sequence[int], patience_s: float | None = None
    ) -> Iterator[list[Prepared]]:
        """The prepared documents, a batch at a time in the order the workers finish them.
        `patience_s`: stop after that many seconds; the documents still being prepared stay
        with the pool (reading(); a later prepare() of them takes their results), and so do,
        at once, the scans handed to the OCR lane."""
        wanted = set(document_ids)
        self._submit(settings, document_ids)
        ready = [self._ready.pop(i) for i in document_ids if i in self._ready]
        if ready:
            yield ready
        left = {self._pending[i] for i in document_ids if i in self._pending}
        deadline = None if patience_s is None else time.monotonic() + patience_s
        while left:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = wait(left, timeout=timeout, return_when=FIRST_COMPLETED)
            if not done:
                return  # patience ran out: what is still read stays pending
            for future in done:
                left.discard(future)
                mine, to_ocr = self._sort(future, wanted)
                if patience_s is None:
                    left.update(to_ocr)
                # else a scan is left to a later call at once (it takes seconds a page in the
                # lane): waiting out the patience for it held the round's recording
                if mine:
                    yield mine

    def _sort(
        self, future: Future[list[Prepared]], wanted: set[int]
    ) -> tuple[list[Prepared], list[Future[list[Prepared]]]]:
        """A finished batch: the wanted documents it prepared, and the OCR lane's futures of
        those it gave back as scans; the others are kept for their own prepare()."""
        mine: list[Prepared] = []
        to_ocr: list[Future[list[Prepared]]] = []
        for prepared in future.result():
            doc_id = prepared.document_id
            if self._pending.get(doc_id) is future:
                del self._pending[doc_id]
            if prepared.ocr_needed:
                lane = self._read_by_ocr(doc_id)
                if doc_id in wanted:
                    to_ocr.append(lane)
            elif doc_id in wanted:
                mine.append(prepared)
            else:  # prepared with another chunk's batch: kept for that chunk
                self._ready[doc_id] = prepared
        return mine, to_ocr

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._ready.clear()
        for pool in (self._pool, self._ocr_pool):
            if pool is not None:
                pool.shutdown()
        self._pool = self._ocr_pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The OCR lane's priority (os.nice; Tesseract inherits it): it takes what the readers leave.
OCR_NICENESS = 10
AUTOGROUP_SWITCH = Path("/proc/sys/kernel/sched_autogroup_enabled")
AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority(niceness: int) -> None:
    """Run this process (and what it starts) at `niceness` against every other process.
    With the kernel's autogroups on (a desktop's or a login's default), a process's nice value
    counts only against its own session's processes: the scheduler first shares the CPU
    between sessions. The service's Prefect server and `gongkai api` run in sessions of their
    own, so a lane at nice 10 in serve's session still took a full share from them. The
    process starts a session of its own and sets that session's autogroup nice too."""
    os.nice(niceness)
    try:
        if AUTOGROUP_SWITCH.read_text().strip() != "1":
            return
    except OSError:  # a kernel without autogroups: nice values count against all processes
        return
    try:
        os.setsid()
        AUTOGROUP.write_text(str(niceness))
    except OSError as exc:
        log.warning("the OCR lane runs at its session's priority (%s)", exc)


_worker_context: Context | None = None
_worker_write_lock: Any = None

# Catalog methods that write. On SQLite the workers take turns through one lock for them:
# SQLite's own busy handler waits by sleeping (1, 2, 5, 10 ... ms), far longer than the
# write itself, when two processes write at once.
_CATALOG_WRITES = frozenset({
    "register", "save_extraction", "transition", "update", "record_event",
    "add_review_decision", "next_index_serial",
})  # fmt: skip


class _TurnTakingCatalog:
    """A Catalog whose writes hold one lock (shared by worker processes, or by threads)."""

    def __init__(self, catalog: Catalog, lock: Any) -> None:
        self._catalog = catalog
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._catalog, name)
        if name not in _CATALOG_WRITES:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return write


def _init_worker(lock: Any, main_pid: int, niceness: int = 0) -> None:
    global _worker_write_lock
    _worker_write_lock = lock
    if niceness:
        lower_priority(niceness)
    from gongkai.flows import forkserver

    forkserver.die_with(main_pid)  # a main process killed outright leaves no worker behind


def _warm_worker() -> None:
    """Nothing to do: submitting it makes the pool start its processes (the readers are
    loaded already, by the fork server they fork from)."""


def _worker(settings: Settings) -> Context:
    global _worker_context
    if _worker_context is None or _worker_context.settings != settings:
        _worker_context = Context.open(settings)
        catalog = _worker_context.catalog
        if catalog.dialect == "sqlite" and _worker_write_lock is not None:
            _worker_context.catalog = _TurnTakingCatalog(catalog, _worker_write_lock)  # type: ignore[assignment]
    return _worker_context


# An extraction result on its way between processes (ExtractionError does not pickle).
_Carried = tuple[Literal["ok"], DocumentMetadata] | tuple[Literal["error"], str, str]


def _carry(result: ExtractResult) -> _Carried:
    if isinstance(result, ExtractionError):
        return ("error", result.reason, result.message)
    return ("ok", result)


def _uncarry(carried: _Carried) -> ExtractResult:
    if carried[0] == "error":
        return ExtractionError(carried[1], carried[2])
    return carried[1]


def _prepare_in_worker(
    settings: Settings, document_ids: list[int], ocr: bool = True
) -> list[Prepared]:
    """A batch of documents prepared in a worker process (no catalog writes); `ocr=False`
    (a reader worker): scans come back `ocr_needed`, for the OCR lane."""
    ctx = _worker(settings)
    return prepare(ctx, ctx.catalog.get_many(document_ids), ocr=ocr)


# --------------------------------------------------------------------------------------------
# process: extract -> route -> archive -> state


@dataclass(frozen=True)
class ProcessOutcome:
    document_id: int
    state: str  # the state after processing (received = routed to publication, or skipped)
    rule: str | None = None
    reason: str | None = None
    to_publish: bool = False
    skipped: bool = False  # it did not wait to be processed (not in `received`, or routed)
    failed: bool = False  # the step failed (reason); the document waits in `received`
    deferred: bool = False  # still being read after `patience_s`: a later call records it


def _package_metadata(
    record: DocumentRecord,
    metadata: DocumentMetadata | None,
    decision: policy.RoutingDecision,
    error: ExtractionError | None,
) -> dict[str, Any]:
    document = None
    if metadata is not None:
        document = metadata.to_dict()
        document.pop("text", None)  # text.txt holds it
    return {
        "extraction": document,
        "extraction_error": (
            {"reason": error.reason, "message": error.message} if error is not None else None
        ),
        "routing": _jsonable(decision),
        "intake": {
            "filename": record.filename,
            "source": record.source,
            "declared_disclosure": record.declared_disclosure,
            "received_at": record.received_at.isoformat(),
        },
    }


def _deadline_changes(ctx: Context, record: DocumentRecord) -> dict[str, Any]:
    """Art. 26: active documents are published within 20 working days of their 成文日期."""
    return _deadline_for(ctx, record.date)


def _deadline_for(ctx: Context, written: date | None) -> dict[str, Any]:
    if written is None:
        return {}
    deadline = deadlines.publication_deadline(written, calendar=ctx.calendar)
    return {"publish_deadline": deadline.due, "deadline_provisional": deadline.provisional}


def route_record(ctx: Context, record: DocumentRecord) -> policy.RoutingDecision:
    """The policy's decision for what the catalog holds of the document (its metadata as read)."""
    metadata = DocumentMetadata.from_dict(record.metadata)
    return policy.route(
        metadata,
        declared_disclosure=record.declared_disclosure,
        review_months=ctx.settings.review_months,
        today=ctx.today(),
        precedent=versions.known_for(ctx, record, metadata).precedent,
    )


# Documents per preparation batch: one pair of durability barriers per batch of packages, and
# one catalog transaction per batch.
PREPARE_BATCH = 40
PIECES_PER_WORKER = 8  # a pool's share of a submission, in batches (benchmarks/service.py)


@dataclass(frozen=True)
class Prepared:
    """A document read, routed and archived, not yet recorded in the catalog."""

    document_id: int
    carried: _Carried | None = None  # what was read (or why it could not be read)
    decision: policy.RoutingDecision | None = None
    prefix: str | None = None  # its archival package, durable
    error: str | None = None  # the step failed (storage, a bug): it stays `received`
    # It no longer waited when it was read (another run moved or routed it): left alone.
    left_alone: bool = False
    # The 索引号 read from it is another document's: it is not stored on this one.
    index_number_taken: bool = False
    version_of: int | None = None  # a later version of this 文号's first document
    ocr_needed: bool = False  # a scan, not read (prepare(ocr=False)): for the OCR lane


def waits_for_processing(record: DocumentRecord) -> bool:
    """In `received`: taken in, not read and routed yet."""
    return record.state == "received"


def _left_alone(record: DocumentRecord) -> ProcessOutcome:
    """A document process() did not touch; one routed to publication is still to publish."""
    return ProcessOutcome(record.id, record.state, skipped=True,
                          to_publish=record.state == "to_publish")  # fmt: skip


def _unreadable(error: ExtractionError) -> policy.RoutingDecision:
    return policy.RoutingDecision(
        state="exception", rule="unreadable", reason=error.message, disclosure=None,
        next_review_at=None, exception_reason=f"{error.reason}: {error.message}",
    )  # fmt: skip


def prepare(
    ctx: Context, records: Sequence[DocumentRecord], *, ocr: bool = True
) -> list[Prepared]:
    """Read, extract, route and write the archival package of each `received` record (pure
    apart from the archive; runs in worker processes). Packages of the whole batch are made
    durable together before this returns, so the catalog may then say they are archived.
    `ocr=False`: a scan is not read here; it comes back `ocr_needed` (nothing written)."""
    work: list[tuple[DocumentRecord, _Carried, policy.RoutingDecision, versions.Known]] = []
    requests: list[PackageRequest] = []
    done: list[Prepared] = []
    batch = versions.BatchMemory()
    for record in records:
        if not waits_for_processing(record):
            done.append(Prepared(record.id, left_alone=True))  # not read, not written
            continue
        try:
            original = ctx.archive.read_original(record.original_key, sha256=record.sha256)
            try:
                result = extract_one(original, record.filename, ctx.settings.max_file_bytes,
                                     ctx.settings.tools, ocr)
            except OcrNeeded:
                done.append(Prepared(record.id, ocr_needed=True))
                continue
            metadata: DocumentMetadata | None = None
            known = versions.Known()
            if isinstance(result, ExtractionError):
                decision = _unreadable(result)
                packaged = record
            else:
                metadata = result
                packaged = with_extraction(record, metadata)
                known = versions.known_for(ctx, packaged, metadata, batch)
                decision = policy.route(
                    metadata, declared_disclosure=record.declared_disclosure,
                    review_months=ctx.settings.review_months, today=ctx.today(),
                    precedent=known.precedent,
                )  # fmt: skip
                batch.decided(packaged, decision.state)
            requests.append(PackageRequest(
                packaged, original,
                _package_metadata(packaged, metadata, decision,
                                  result if isinstance(result, ExtractionError) else None),
                metadata.text if metadata is not None else "",
            ))  # fmt: skip
            work.append((record, _carry(result), decision, known))
        except Exception as exc:  # storage trouble, a bug: reported, the document waits
            done.append(Prepared(record.id, error=f"{type(exc).__name__}: {exc}"))
    for (record, carried, decision, known), written in zip(
        work, ctx.archive.write_packages(requests), strict=True
    ):
        if isinstance(written, Exception):
            done.append(Prepared(record.id, error=f"{type(written).__name__}: {written}"))
        else:
            done.append(Prepared(record.id, carried, decision, written,
                                 index_number_taken=known.index_number_taken,
                                 version_of=known.version_of))  # fmt: skip
    return done


def record_prepared(
    ctx: Context, batch: Sequence[Prepared], *, actor: str
) -> list[ProcessOutcome]:
    """Record a prepared batch in the catalog in one transaction (each document its own
    extraction, state or routing, and audit rows), then announce each change of state."""
    outcomes: list[ProcessOutcome] = []
    pending: list[tuple[Prepared, policy.RoutingDecision]] = []
    requests: list[Outcome] = []
    for item in batch:
        if item.left_alone:
            outcomes.append(_left_alone(ctx.catalog.get(item.document_id)))
            continue
        if item.error is not None or item.decision is None or item.carried is None:
            reason = item.error or "not prepared"
            ctx.catalog.record_event(item.document_id, "processing_failed", actor=actor,
                                     detail={"error": reason})  # fmt: skip
            outcomes.append(ProcessOutcome(item.document_id, "received", rule="failed",
                                           reason=reason, failed=True))  # fmt: skip
            continue
        result = _uncarry(item.carried)
        metadata = None if isinstance(result, ExtractionError) else result
        decision = item.decision
        detail: dict[str, Any] = {"rule": decision.rule, "reason": decision.reason}
        if metadata is not None and metadata.conversion:
            # how the text was got, in the audit row: "LibreOffice 7.4.7.2: wps -> docx",
            # "Tesseract 5.3.0 (chi_sim, 200 dpi)"
            detail["conversion"] = metadata.conversion
        if metadata is not None and metadata.ocr:
            detail["ocr"] = metadata.ocr
        changes: dict[str, Any] = {
            "archive_key": item.prefix,
            "routed_at": ctx.now(),
            "disclosure": decision.disclosure,
            "next_review_at": decision.next_review_at,
            "exception_reason": decision.exception_reason,
        }
        if item.index_number_taken:
            changes["index_number"] = None  # one holder per 索引号; the file's stays in metadata
        if item.version_of is not None:
            changes["version_of"] = item.version_of
        if decision.state in ("published", "needs_redaction") and metadata is not None \
                and metadata.date:
            # Publication is the publish step's (to_publish, 待发布); 删减后公开 is published
            # too: the Art. 26 clock runs from now while either waits.
            changes.update(_deadline_for(ctx, date.fromisoformat(metadata.date)))
        to_state = lifecycle.recorded_state(decision.state)
        lifecycle.check_transition("received", to_state)
        requests.append(Outcome(item.document_id, actor, metadata, to_state.value, "state",
                                detail, changes))  # fmt: skip
        pending.append((item, decision))
    results = ctx.catalog.record_outcomes(requests, unrouted=True) if requests else []
    for (item, decision), result in zip(pending, results, strict=True):
        if isinstance(result, StaleState):
            # Another run moved or routed it meanwhile: theirs stands.
            outcomes.append(_left_alone(ctx.catalog.get(item.document_id)))
        else:
            if item.version_of is not None:
                versions.replace_predecessor(ctx, result, actor=actor)
            outcomes.append(ProcessOutcome(result.id, result.state, decision.rule,
                                           decision.reason,
                                           to_publish=result.state == "to_publish"))  # fmt: skip
    return outcomes


def process(
    ctx: Context,
    document_ids: Sequence[int],
    *,
    actor: str = "ingest",
    pool: WorkerPool | None = None,
    on_done: Callable[[ProcessOutcome], None] | None = None,
    patience_s: float | None = None,
) -> list[ProcessOutcome]:
    """Extract, route, archive and record every listed document that is still `received` and
    not routed yet: prepared in batches (in the pool's worker processes when it has several),
    each batch recorded in the catalog in one transaction once its packages are durable. The
    others are left alone; those routed to publication come back `to_publish` (an earlier run
    routed them and stopped before publishing). `patience_s` (a parallel pool that outlives
    the call): documents still being read after that many seconds come back `deferred`,
    still in `received`; the pool keeps reading them for a later call."""
    ids = list(dict.fromkeys(document_ids))
    by_id: dict[int, ProcessOutcome] = {}
    waiting: list[DocumentRecord] = []
    for record in ctx.catalog.get_many(ids):
        if waits_for_processing(record):
            waiting.append(record)
        else:
            by_id[record.id] = _left_alone(record)
            if on_done is not None:
                on_done(by_id[record.id])
    batches: Iterable[list[Prepared]]
    # A parallel pool takes even one document: it may hold it read already (read ahead, or
    # a scan from its OCR lane), and a scan read here would hold the caller (serve's
    # sweeper) for its whole OCR at full priority.
    if pool is not None and pool.parallel and waiting:
        batches = pool.prepare(ctx.settings, [r.id for r in waiting], patience_s)
    else:
        batches = (prepare(ctx, waiting[start : start + PREPARE_BATCH])
                   for start in range(0, len(waiting), PREPARE_BATCH))  # fmt: skip
    for batch in batches:
        for outcome in record_prepared(ctx, batch, actor=actor):
            by_id[outcome.document_id] = outcome
            if on_done is not None:
                on_done(outcome)
    for record in waiting:
        if record.id not in by_id:  # patience_s ran out: the pool still reads it
            by_id[record.id] = ProcessOutcome(record.id, record.state, deferred=True)
    return [by_id[i] for i in ids]
