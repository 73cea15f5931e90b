"""The service layer of the document lifecycle: plain functions over a `Context`. No Prefect here.

The Prefect flows (flows/ingest.py, publish.py, review.py, fixity.py), the CLI and the HTTP API
all call these functions; they hold every rule of *how* a document moves, while the pure policy
(flows/policy.py) says *where* it goes and flows/lifecycle.py which moves are allowed.

Public API (stable; F2's deployments, HTTP API and inbox build on it):

    Context.open(settings=None, *, events: EventSink) -> Context     # close() / with-block
    intake(ctx, data, filename, *, source, actor, declared_disclosure=None) -> IntakeResult
    intake_files(ctx, paths, *, source, actor, declared_disclosure=None, threads=8,
                 on_done=None) -> list[IntakeItem]           # many files, threads overlap I/O
        # sniff type & size, sha256, store the original, register; emits
        # gongkai.document.received (new) or gongkai.document.duplicate_submission (known bytes).
        # IntakeRejected for a file over Settings.max_file_bytes (nothing stored).
    process(ctx, document_ids, *, actor="ingest", pool=None, on_done=None)
        -> list[ProcessOutcome]
        # extract -> route -> archival package -> state + audit + event. Only documents in
        # `received` and not routed yet are touched (idempotent, also against a concurrent
        # run). Documents routed to publication stay `received` with their routing recorded
        # until publish() moves them (outcome.to_publish, also when a later run finds them).
        # In batches: prepare(ctx, records) -> list[Prepared] reads, routes and writes the
        # packages (durable together; in worker processes with a parallel WorkerPool), then
        # record_prepared(ctx, batch, actor=...) records the batch in one catalog transaction.
    publish(ctx, document_ids, *, actor="publish", rebuild_index=True) -> PublishReport
        # only what the policy allows, checked again here; assigns 索引号, transitions to
        # `published`, then renders HTML + JSON under documents/<id>.*, rebuilds the public
        # index. A batch: one transaction for the 索引号, one for the states, one barrier.
    rebuild_public_index(ctx) -> int
    review_due(ctx, *, actor="review") -> ReviewReport       # lapsed brought forward, events
    due_reviews(ctx, on=None) -> list[DocumentRecord]
    decide_review(ctx, doc_id, decision, *, reason, reviewer) -> DocumentRecord
    redact(ctx, doc_id, data, filename, *, actor) -> DocumentRecord
    resolve(ctx, doc_id, disclosure, *, reason, actor) -> DocumentRecord
    fixity(ctx, *, actor="fixity") -> FixityReport
    status(ctx) -> StatusReport
    export_public(ctx, dest: Path) -> int
    pending_ids(ctx) -> list[int]                            # documents still `received`
    publishable_ids(ctx) -> list[int]                        # received, routed to publication
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePath
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gongkai.config import PUBLIC_SITE_MARKER, Settings, load_settings
from gongkai.extractors.model import DISCLOSURE_VALUES, DocumentMetadata, ExtractionError
from gongkai.flows import deadlines, lifecycle, policy, render
from gongkai.flows.events import EventSink, MemoryEventSink
from gongkai.storage.archive import Archive, PackageRequest
from gongkai.storage.catalog import (
    Catalog,
    DocumentRecord,
    FindQuery,
    Outcome,
    Registration,
    StaleState,
    with_extraction,
)
from gongkai.storage.objects import ObjectStore

# Government dates (成文日期, review dates, deadlines) are China Standard Time dates.
CHINA = ZoneInfo("Asia/Shanghai")

CONTENT_TYPES: dict[str, str] = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "txt": "text/plain",
}
UNKNOWN_CONTENT_TYPE = "application/octet-stream"


class IntakeRejected(ValueError):
    """A submission refused before anything was stored (too large). `reason` is a code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class LifecycleError(RuntimeError):
    """A request that does not fit the document's state (e.g. redacting a published document)."""


# --------------------------------------------------------------------------------------------
# context


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """Everything a lifecycle step needs. Build with `Context.open(...)` or by hand in tests."""

    settings: Settings
    catalog: Catalog
    archive: Archive
    public: ObjectStore
    events: EventSink
    calendar: deadlines.WorkCalendar
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def open(cls, settings: Settings | None = None, *, events: EventSink) -> Context:
        from gongkai.storage.stores import open_stores

        settings = settings or load_settings()
        settings.home.mkdir(parents=True, exist_ok=True)
        catalog = Catalog.open(settings.database_url)
        try:
            stores = open_stores(settings)
            # A holiday file that cannot be used is reported (status), not fatal.
            calendar = deadlines.WorkCalendar.load(settings.holidays_dir, strict=False)
        except BaseException:
            catalog.close()
            raise
        return cls(settings, catalog, Archive(stores.archive), stores.public, events, calendar)

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(CHINA).date()


# --------------------------------------------------------------------------------------------
# events and transitions


def _payload(record: DocumentRecord, **extra: Any) -> dict[str, Any]:
    return lifecycle.event_payload(
        file_number=record.file_number, issuer=record.issuer, disclosure=record.disclosure,
        state=record.state, title=record.title, filename=record.filename, **extra,
    )  # fmt: skip


def _emit(ctx: Context, event: str, record: DocumentRecord, **extra: Any) -> None:
    ctx.events.emit(
        event,
        resource_id=lifecycle.resource_id(record.id),
        payload=_payload(record, **extra),
        resource_name=record.file_number or record.filename,
    )


def _transition(
    ctx: Context,
    record: DocumentRecord,
    to_state: str,
    *,
    actor: str,
    detail: Mapping[str, Any] | None = None,
    **changes: Any,
) -> DocumentRecord:
    """The only way a document changes state: allowed by the state machine, audited in the
    catalog (one transaction, refused if someone else moved it first), then announced."""
    lifecycle.check_transition(record.state, to_state)
    moved = ctx.catalog.transition(
        record.id, to_state, actor=actor, expected_from=record.state,
        detail=dict(detail or {}), **changes,
    )  # fmt: skip
    _emit(ctx, lifecycle.event_name(to_state), moved, previous_state=record.state,
          rule=(detail or {}).get("rule"))  # fmt: skip
    return moved


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------
# intake


@dataclass(frozen=True)
class IntakeResult:
    record: DocumentRecord
    new: bool  # False: these bytes were already known (duplicate submission, recorded)


def sniff_format(data: bytes) -> str | None:
    """"docx" or "pdf" from the bytes themselves (the readers' own sniffing), else None: the
    file is still stored and registered, and process() records why it cannot be read."""
    from gongkai.extractors.sniff import sniff

    try:
        return sniff(data)
    except ExtractionError:
        return None


def clean_filename(filename: str) -> str:
    """The last path segment only (a browser or a folder walk may give a path), as readable
    text: a name that was not UTF-8 on disk (GBK from Windows) is decoded, not stored as
    escapes that no database or terminal takes (extractors/text.py)."""
    from gongkai.extractors.text import readable_name

    name = PurePath(readable_name(filename).replace("\\", "/")).name.strip()
    return name or "unnamed"


def _check_declared(declared_disclosure: str | None) -> None:
    if declared_disclosure is not None and declared_disclosure not in DISCLOSURE_VALUES:
        raise ValueError(
            f"declared disclosure {declared_disclosure!r} is not one of "
            f"{', '.join(DISCLOSURE_VALUES)}"
        )


def _content_type(data: bytes, filename: str) -> str:
    """The stored type: from the bytes; plain text named .txt; anything else unknown."""
    kind = sniff_format(data)
    if kind is None and filename.lower().endswith(".txt"):
        return CONTENT_TYPES["txt"]
    return CONTENT_TYPES.get(kind or "", UNKNOWN_CONTENT_TYPE)


def intake(
    ctx: Context,
    data: bytes,
    filename: str,
    *,
    source: str,
    actor: str,
    declared_disclosure: str | None = None,
) -> IntakeResult:
    """Take in one submitted file. Every file that is not too large is stored and registered,
    whatever its type: one that cannot be read becomes an `exception` document in process()."""
    _check_declared(declared_disclosure)
    filename = clean_filename(filename)
    if len(data) > ctx.settings.max_file_bytes:
        raise _too_large(filename, len(data), ctx)
    content_type = _content_type(data, filename)
    sha256 = hashlib.sha256(data).hexdigest()
    known = ctx.catalog.get_by_sha256(sha256)
    if known is not None:
        key = known.original_key  # stored already: a resubmission writes nothing new
    else:
        key = ctx.archive.put_original(
            data, sha256=sha256, filename=filename, content_type=content_type
        )
    record, new = ctx.catalog.register(
        sha256=sha256, size=len(data), filename=filename, content_type=content_type,
        original_key=key, source=source, actor=actor, declared_disclosure=declared_disclosure,
    )  # fmt: skip
    if new:
        _emit(ctx, lifecycle.event_name("received"), record, source=source)
    else:
        _emit(
            ctx, "gongkai.document.duplicate_submission", record,
            source=source, submitted_filename=filename,
        )  # fmt: skip
    return IntakeResult(record, new)


@dataclass(frozen=True)
class IntakeItem:
    path: Path
    result: IntakeResult | None  # None: refused (see `refused`)
    refused: str | None = None


# Files per intake batch (one pair of durability barriers, one catalog transaction), and the
# most bytes a batch holds in memory.
INTAKE_BATCH_FILES = 100
INTAKE_BATCH_BYTES = 64 * 1024 * 1024


def intake_files(
    ctx: Context,
    paths: Sequence[Path],
    *,
    source: str,
    actor: str,
    declared_disclosure: str | None = None,
    threads: int = 8,
    on_done: Callable[[IntakeItem], None] | None = None,
) -> list[IntakeItem]:
    """intake() for many files, in batches: the files are read by `threads` threads, the
    originals of a batch are made durable together and registered in one transaction, and
    each file still gets its own catalog row (or duplicate-submission row) and event, exactly
    as intake() gives them. Results are in the order of `paths`."""
    _check_declared(declared_disclosure)
    items: list[IntakeItem] = []

    def read(path: Path) -> tuple[Path, bytes | None, str | None]:
        try:
            size = path.stat().st_size
            if size > ctx.settings.max_file_bytes:  # not even read
                return path, None, _too_large(clean_filename(path.name), size, ctx).message
            return path, path.read_bytes(), None
        except OSError as exc:
            return path, None, str(exc)

    def finish(item: IntakeItem) -> None:
        items.append(item)
        if on_done is not None:
            on_done(item)

    batch: list[tuple[Path, bytes]] = []
    held = 0
    with ThreadPoolExecutor(max(1, threads), thread_name_prefix="gongkai-intake") as readers:
        for start in range(0, len(paths), INTAKE_BATCH_FILES):
            for path, data, refused in readers.map(read, paths[start:start + INTAKE_BATCH_FILES]):
                if data is None:
                    finish(IntakeItem(path, None, refused or "unreadable"))
                    continue
                if len(data) > ctx.settings.max_file_bytes:  # grew since stat()
                    too_large = _too_large(clean_filename(path.name), len(data), ctx)
                    finish(IntakeItem(path, None, too_large.message))
                    continue
                batch.append((path, data))
                held += len(data)
                if len(batch) >= INTAKE_BATCH_FILES or held >= INTAKE_BATCH_BYTES:
                    for item in _intake_batch(ctx, batch, source=source, actor=actor,
                                              declared_disclosure=declared_disclosure):
                        finish(item)
                    batch, held = [], 0
        for item in _intake_batch(ctx, batch, source=source, actor=actor,
                                  declared_disclosure=declared_disclosure):
            finish(item)
    order = {path: position for position, path in enumerate(paths)}
    return sorted(items, key=lambda item: order[item.path])


def _too_large(filename: str, size: int, ctx: Context) -> IntakeRejected:
    limit = ctx.settings.max_file_bytes
    return IntakeRejected(
        "too_large", f"{filename}: {size} bytes is more than the limit of {limit} bytes"
    )


def _intake_batch(
    ctx: Context,
    batch: Sequence[tuple[Path, bytes]],
    *,
    source: str,
    actor: str,
    declared_disclosure: str | None,
) -> list[IntakeItem]:
    if not batch:
        return []
    shas = [hashlib.sha256(data).hexdigest() for _path, data in batch]
    known = ctx.catalog.records_by_sha256(shas)
    described: list[tuple[Path, bytes, str, str, str]] = []
    for (path, data), sha256 in zip(batch, shas, strict=True):
        filename = clean_filename(path.name)
        # Registered already: its type was settled then.
        content_type = (known[sha256].content_type if sha256 in known
                        else _content_type(data, filename))  # fmt: skip
        described.append((path, data, filename, content_type, sha256))
    keys: dict[int, str] = {}
    to_store = [i for i, d in enumerate(described) if d[4] not in known]
    stored = ctx.archive.put_originals(
        [(described[i][1], described[i][4], described[i][2], described[i][3]) for i in to_store]
    )
    items: dict[int, IntakeItem] = {}
    for position, key in zip(to_store, stored, strict=True):
        if isinstance(key, OSError):
            items[position] = IntakeItem(described[position][0], None, str(key))
        elif isinstance(key, Exception):
            raise key  # as intake() would: a storage failure is not a refusal
        else:
            keys[position] = key
    for position, d in enumerate(described):
        if d[4] in known:
            keys[position] = known[d[4]].original_key  # stored already: nothing new written
    registering = [i for i in range(len(described)) if i not in items]
    registered = ctx.catalog.register_many([
        Registration(sha256=described[i][4], size=len(described[i][1]),
                     filename=described[i][2], content_type=described[i][3],
                     original_key=keys[i], source=source, actor=actor,
                     declared_disclosure=declared_disclosure)
        for i in registering
    ])  # fmt: skip
    for position, (record, new) in zip(registering, registered, strict=True):
        if new:
            _emit(ctx, lifecycle.event_name("received"), record, source=source)
        else:
            _emit(ctx, "gongkai.document.duplicate_submission", record,
                  source=source, submitted_filename=described[position][2])  # fmt: skip
        items[position] = IntakeItem(described[position][0], IntakeResult(record, new))
    return [items[i] for i in range(len(described))]


def pending_ids(ctx: Context) -> list[int]:
    """Documents still waiting in `received` (new, interrupted, or routed but not published)."""
    return [r.id for r in ctx.catalog.by_state("received")]


# --------------------------------------------------------------------------------------------
# extraction (may run in worker processes)

ExtractResult = DocumentMetadata | ExtractionError


def extract_one(data: bytes, filename: str, max_bytes: int) -> ExtractResult:
    """Read one document; an unreadable one gives its ExtractionError back (never raises it),
    and so does any unexpected reader failure, so that one bad file cannot stop a batch."""
    from gongkai.extractors import extract

    try:
        return extract(data, filename, max_bytes=max_bytes)
    except ExtractionError as exc:
        return exc
    except Exception as exc:  # a reader bug must still leave the document on record
        return ExtractionError("corrupt", f"the file could not be read ({type(exc).__name__}: "
                                          f"{exc})")


class WorkerPool:
    """Where documents are processed: in this process (workers=1), or in a pool of worker
    processes that each run the whole step for a document (read the original, extract, route,
    archive, record) with their own catalog connection and stores. The events a worker's step
    produced come back with its outcome and are emitted here, in order, by the caller's sink.

    The pool is started once and reused (a worker's start costs the import of the readers),
    so callers keep one WorkerPool for a whole run and close() it at the end.
    """

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)
        self._pool: Executor | None = None
        self._pending: dict[int, Future[list[Prepared]]] = {}
        self._ready: dict[int, Prepared] = {}

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def _executor(self) -> Executor:
        if self._pool is None:
            from gongkai.flows import forkserver

            # The fork server imports the readers and this module once, before any worker
            # forks from it, so each worker starts with them loaded (flows/forkserver.py).
            mp = forkserver.context()
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=mp, initializer=_init_worker, initargs=(mp.Lock(),)
            )
        return self._pool

    def warm(self) -> None:
        """Start the worker processes now (e.g. while Prefect's server starts)."""
        if self.parallel:
            pool = self._executor()
            for future in [pool.submit(_warm_worker) for _ in range(self.workers)]:
                future.result()

    def _submit(self, settings: Settings, document_ids: Sequence[int]) -> None:
        pool = self._executor()
        ids = [i for i in dict.fromkeys(document_ids)
               if i not in self._pending and i not in self._ready]  # fmt: skip
        size = max(1, min(PREPARE_BATCH, -(-len(ids) // (self.workers * 2))))
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            future = pool.submit(_prepare_in_worker, settings, batch)
            for doc_id in batch:
                self._pending[doc_id] = future

    def prefetch(self, settings: Settings, document_ids: Sequence[int]) -> None:
        """Start preparing these documents now (read, extract, route, write the archival
        package), while the caller still waits for something else (Prefect's server). Nothing
        of it is in the catalog until a later process() records it, which checks again that
        each document still waits in `received` (a package is idempotent: written once)."""
        if self.parallel:
            self._submit(settings, document_ids)

    def prepare(
        self, settings: Settings, document_ids: Sequence[int]
    ) -> Iterator[list[Prepared]]:
        """The prepared documents, a batch at a time in the order the workers finish them."""
        wanted = set(document_ids)
        self._submit(settings, document_ids)
        ready = [self._ready.pop(i) for i in document_ids if i in self._ready]
        if ready:
            yield ready
        futures = {self._pending.pop(i) for i in document_ids if i in self._pending}
        for future in as_completed(futures):
            mine: list[Prepared] = []
            for prepared in future.result():
                if prepared.document_id in wanted:
                    mine.append(prepared)
                else:  # prepared with another chunk's batch: kept for that chunk
                    self._pending.pop(prepared.document_id, None)
                    self._ready[prepared.document_id] = prepared
            yield mine

    def close(self) -> None:
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        self._ready.clear()
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


def _init_worker(lock: Any) -> None:
    global _worker_write_lock
    _worker_write_lock = lock


def _warm_worker() -> None:
    """Nothing to do: submitting it makes the pool start its processes (the readers are
    loaded already, by the fork server they fork from)."""


def _worker(settings: Settings) -> tuple[Context, MemoryEventSink]:
    global _worker_context
    if _worker_context is None or _worker_context.settings != settings:
        _worker_context = Context.open(settings, events=MemoryEventSink())
        catalog = _worker_context.catalog
        if catalog.dialect == "sqlite" and _worker_write_lock is not None:
            _worker_context.catalog = _TurnTakingCatalog(catalog, _worker_write_lock)  # type: ignore[assignment]
    sink = _worker_context.events
    assert isinstance(sink, MemoryEventSink)
    sink.clear()
    return _worker_context, sink


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


def _prepare_in_worker(settings: Settings, document_ids: list[int]) -> list[Prepared]:
    """A batch of documents prepared in a worker process (no catalog writes)."""
    ctx, _sink = _worker(settings)
    return prepare(ctx, ctx.catalog.get_many(document_ids))


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
    )


# Documents per preparation batch: one pair of durability barriers per batch of packages, and
# one catalog transaction per batch.
PREPARE_BATCH = 40


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


def waits_for_processing(record: DocumentRecord) -> bool:
    """In `received` and not routed yet. A `received` document with its routing recorded
    waits for the publish step only: reading it again would only repeat the audit trail."""
    return record.state == "received" and record.routed_at is None


def _left_alone(record: DocumentRecord) -> ProcessOutcome:
    """A document process() did not touch; one routed to publication is still to publish."""
    routed = record.state == "received" and record.routed_at is not None
    return ProcessOutcome(record.id, record.state, skipped=True, to_publish=routed)


def _unreadable(error: ExtractionError) -> policy.RoutingDecision:
    return policy.RoutingDecision(
        state="exception", rule="unreadable", reason=error.message, disclosure=None,
        next_review_at=None, exception_reason=f"{error.reason}: {error.message}",
    )  # fmt: skip


def prepare(ctx: Context, records: Sequence[DocumentRecord]) -> list[Prepared]:
    """Read, extract, route and write the archival package of each `received` record (pure
    apart from the archive; runs in worker processes). Packages of the whole batch are made
    durable together before this returns, so the catalog may then say they are archived."""
    work: list[tuple[DocumentRecord, _Carried, policy.RoutingDecision]] = []
    requests: list[PackageRequest] = []
    done: list[Prepared] = []
    for record in records:
        if not waits_for_processing(record):
            done.append(Prepared(record.id, left_alone=True))  # not read, not written
            continue
        try:
            original = ctx.archive.read_original(record.original_key, sha256=record.sha256)
            result = extract_one(original, record.filename, ctx.settings.max_file_bytes)
            metadata: DocumentMetadata | None = None
            if isinstance(result, ExtractionError):
                decision = _unreadable(result)
                packaged = record
            else:
                metadata = result
                packaged = with_extraction(record, metadata)
                decision = policy.route(
                    metadata, declared_disclosure=record.declared_disclosure,
                    review_months=ctx.settings.review_months, today=ctx.today(),
                )  # fmt: skip
            requests.append(PackageRequest(
                packaged, original,
                _package_metadata(packaged, metadata, decision,
                                  result if isinstance(result, ExtractionError) else None),
                metadata.text if metadata is not None else "",
            ))  # fmt: skip
            work.append((record, _carry(result), decision))
        except Exception as exc:  # storage trouble, a bug: reported, the document waits
            done.append(Prepared(record.id, error=f"{type(exc).__name__}: {exc}"))
    for (record, carried, decision), written in zip(
        work, ctx.archive.write_packages(requests), strict=True
    ):
        if isinstance(written, Exception):
            done.append(Prepared(record.id, error=f"{type(written).__name__}: {written}"))
        else:
            done.append(Prepared(record.id, carried, decision, written))
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
        detail = {"rule": decision.rule, "reason": decision.reason}
        changes: dict[str, Any] = {
            "archive_key": item.prefix,
            "routed_at": ctx.now(),
            "disclosure": decision.disclosure,
            "next_review_at": decision.next_review_at,
            "exception_reason": decision.exception_reason,
        }
        if decision.state == "published":
            # Publication is the publish step's to do (it checks the policy again); here the
            # routing and the deadline it starts are recorded, the state stays `received`.
            if metadata is not None and metadata.date:
                changes.update(_deadline_for(ctx, date.fromisoformat(metadata.date)))
            requests.append(Outcome(item.document_id, actor, metadata, None, "routed",
                                    {**detail, "to": "published"}, changes))  # fmt: skip
        else:
            lifecycle.check_transition("received", decision.state)
            requests.append(Outcome(item.document_id, actor, metadata, decision.state,
                                    "state", detail, changes))  # fmt: skip
        pending.append((item, decision))
    results = ctx.catalog.record_outcomes(requests, unrouted=True) if requests else []
    for (item, decision), result in zip(pending, results, strict=True):
        if isinstance(result, StaleState):
            # Another run moved or routed it meanwhile: theirs stands.
            outcomes.append(_left_alone(ctx.catalog.get(item.document_id)))
        elif decision.state == "published":
            outcomes.append(ProcessOutcome(result.id, "received", decision.rule,
                                           decision.reason, True))  # fmt: skip
        else:
            _emit(ctx, lifecycle.event_name(result.state), result, previous_state="received",
                  rule=decision.rule)  # fmt: skip
            outcomes.append(ProcessOutcome(result.id, result.state, decision.rule,
                                           decision.reason))  # fmt: skip
    return outcomes


def process(
    ctx: Context,
    document_ids: Sequence[int],
    *,
    actor: str = "ingest",
    pool: WorkerPool | None = None,
    on_done: Callable[[ProcessOutcome], None] | None = None,
) -> list[ProcessOutcome]:
    """Extract, route, archive and record every listed document that is still `received` and
    not routed yet: prepared in batches (in the pool's worker processes when it has several),
    each batch recorded in the catalog in one transaction once its packages are durable. The
    others are left alone; those routed to publication come back `to_publish` (an earlier run
    routed them and stopped before publishing)."""
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
    if pool is not None and pool.parallel and len(waiting) > 1:
        batches = pool.prepare(ctx.settings, [r.id for r in waiting])
    else:
        batches = (prepare(ctx, waiting[start : start + PREPARE_BATCH])
                   for start in range(0, len(waiting), PREPARE_BATCH))  # fmt: skip
    for batch in batches:
        for outcome in record_prepared(ctx, batch, actor=actor):
            by_id[outcome.document_id] = outcome
            if on_done is not None:
                on_done(outcome)
    return [by_id[i] for i in ids]


# --------------------------------------------------------------------------------------------
# publish

PublicationBasis = Literal["read_active", "released", "redacted", "resolved"]


@dataclass(frozen=True)
class PublishReport:
    published: list[DocumentRecord] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # id -> why it was not published


def _latest_event(ctx: Context, doc_id: int, kinds: Iterable[str]) -> Any:
    wanted = set(kinds)
    for event in reversed(ctx.catalog.history(doc_id)):
        if event.kind in wanted:
            return event
    return None


def publication_basis(ctx: Context, record: DocumentRecord) -> tuple[PublicationBasis | None, str]:
    """Why this document may be published now, or (None, why not). Checked right before
    anything is written to the public store, from what the catalog holds."""
    if record.security_level:
        return None, f"it carries the security marking {record.security_level}"
    if record.state == "received":
        if not record.metadata:
            return None, "it has not been read yet"
        decision = route_record(ctx, record)
        if decision.state != "published":
            return None, f"the policy routes it to {decision.state} ({decision.reason})"
        return "read_active", decision.reason
    if record.state == "withheld":
        decisions = ctx.catalog.review_decisions(record.id)
        if decisions and decisions[-1]["decision"] == "release":
            return "released", f"released by {decisions[-1]['reviewer']}"
        return None, "it is withheld and no reviewer has released it"
    if record.state == "needs_redaction":
        if record.redacted_key:
            return "redacted", "a person supplied the redacted version"
        return None, "it needs redaction and no redacted version has been supplied"
    if record.state == "exception":
        resolved = _latest_event(ctx, record.id, {"resolved"})
        if resolved is not None and resolved.detail.get("to") == "published":
            return "resolved", f"resolved by {resolved.actor}: {resolved.detail.get('reason')}"
        return None, f"it is an exception ({record.exception_reason})"
    return None, f"it is {record.state}"


def _public_text(ctx: Context, record: DocumentRecord, basis: PublicationBasis) -> str:
    if basis == "redacted":
        assert record.redacted_key is not None and record.archive_key is not None
        return ctx.archive.store.get_bytes(f"{record.archive_key}/redacted.txt").decode("utf-8")
    return str(record.metadata.get("text") or "")


def public_record(
    record: DocumentRecord, text: str, published_at: datetime
) -> render.PublicRecord:
    attachments = record.metadata.get("attachments") or []
    return render.PublicRecord(
        id=record.id,
        index_number=record.index_number or "",
        publisher=record.metadata.get("publisher") or record.issuer,
        issuer=record.issuer,
        date=record.date,
        title=record.title or record.filename,
        file_number=record.file_number,
        published_at=published_at,
        text=text,
        attachments=tuple(str(a) for a in attachments),
    )


def _put_public(ctx: Context, key: str, data: str, content_type: str) -> None:
    body = data.encode("utf-8")
    ctx.public.put(key, body, content_type=content_type,
                   sha256=hashlib.sha256(body).hexdigest())  # fmt: skip


def publishable_ids(ctx: Context) -> list[int]:
    """Documents in `received` whose routing sent them to publication (routed, not published)."""
    return [r.id for r in ctx.catalog.by_state("received") if r.routed_at is not None]


def publish(
    ctx: Context,
    document_ids: Sequence[int],
    *,
    actor: str = "publish",
    rebuild_index: bool = True,
    on_done: Callable[[], None] | None = None,
    pool: WorkerPool | None = None,
) -> PublishReport:
    """Publish each listed document that the policy allows now; the others are reported in
    `refused` with the reason and left as they are. The documents are handled as a batch:
    their 索引号 are assigned in one transaction, their state changes to `published` in one
    transaction (each with its own audit row and event), and only then are their pages
    written to the public store (one durability barrier on the local store). `pool` is
    accepted for the flows' sake; publishing needs no worker processes."""
    del pool  # rendering a page costs less than sending it to a worker
    report = PublishReport()
    ids = list(dict.fromkeys(document_ids))
    allowed: list[tuple[DocumentRecord, PublicationBasis, str]] = []
    pages: list[tuple[DocumentRecord, PublicationBasis]] = []
    for record in ctx.catalog.get_many(ids):
        if record.state == "published":
            # Already published: only a page lost after the state change is written again.
            if not ctx.public.exists(f"documents/{record.id}.json"):
                pages.append((record, _basis_of_published(ctx, record)))
            if on_done is not None:
                on_done()
            continue
        basis, why = publication_basis(ctx, record)
        if basis is None:
            report.refused[record.id] = why
            if on_done is not None:
                on_done()
            continue
        lifecycle.check_transition(record.state, "published")
        allowed.append((record, basis, why))
    if allowed:
        settings = ctx.settings
        # Stored before the state changes, so that a retry after a failure reuses them.
        numbered = ctx.catalog.assign_index_numbers(
            [(r.id, (r.date or ctx.today()).year) for r, _, _ in allowed],
            org_code=settings.org_code, info_class=settings.info_class, actor=actor,
            number=lambda year, serial: render.format_index_number(
                settings.org_code, settings.info_class, year, serial),
        )  # fmt: skip
        now = ctx.now()
        by_state: dict[str, list[tuple[DocumentRecord, PublicationBasis, str]]] = {}
        for record, basis, why in allowed:
            by_state.setdefault(record.state, []).append((numbered[record.id], basis, why))
        for from_state, group in by_state.items():
            # The state changes first: nothing is in the public store before the catalog
            # says `published` (which needed the basis just checked).
            results = ctx.catalog.record_outcomes(
                [Outcome(r.id, actor, None, "published", detail={"basis": basis, "why": why},
                         changes={"published_at": now})
                 for r, basis, why in group],
                expected_from=from_state,
            )  # fmt: skip
            for (record, basis, _why), moved in zip(group, results, strict=True):
                if isinstance(moved, StaleState):
                    report.refused[record.id] = "its state changed while it was being published"
                else:
                    _emit(ctx, lifecycle.event_name("published"), moved,
                          previous_state=from_state, rule=None)  # fmt: skip
                    report.published.append(moved)
                    pages.append((moved, basis))
                if on_done is not None:
                    on_done()
    _write_public_pages_many(ctx, pages)
    if report.published and rebuild_index:
        rebuild_public_index(ctx)
    return report


def _write_public_pages_many(
    ctx: Context, pages: Sequence[tuple[DocumentRecord, PublicationBasis]]
) -> None:
    files: list[tuple[str, str, str]] = []
    for record, basis in pages:
        public = public_record(record, _public_text(ctx, record, basis),
                               record.published_at or ctx.now())  # fmt: skip
        files.append((f"documents/{record.id}.json", render.render_record_json(public),
                      "application/json"))  # fmt: skip
        files.append((f"documents/{record.id}.html", render.render_record_html(public),
                      "text/html; charset=utf-8"))  # fmt: skip
    put_many = getattr(ctx.public, "put_many", None)
    if put_many is None or len(files) < 2:
        for key, data, content_type in files:
            _put_public(ctx, key, data, content_type)
        return
    from gongkai.storage.local import PutRequest

    requests = []
    for key, data, content_type in files:
        body = data.encode("utf-8")
        requests.append(PutRequest(key, body, content_type, hashlib.sha256(body).hexdigest()))
    for result in put_many(requests):
        if isinstance(result, Exception):
            raise result


def _basis_of_published(ctx: Context, record: DocumentRecord) -> PublicationBasis:
    """How a published document got there, from its audit trail (decides which text is public)."""
    event = _latest_event(ctx, record.id, {"state"})
    basis = event.detail.get("basis") if event is not None else None
    return basis if basis in ("read_active", "released", "redacted", "resolved") else "redacted"


def rebuild_public_index(ctx: Context) -> int:
    """index.json, feed.atom and index.html from every published document, newest first."""
    records = ctx.catalog.by_state("published")
    public = [
        public_record(r, "", r.published_at or ctx.now())
        for r in sorted(records, key=lambda r: (r.published_at or ctx.now(), r.id), reverse=True)
    ]
    _put_public(ctx, "index.json", render.render_index_json(public), "application/json")
    _put_public(ctx, "feed.atom", render.render_index_atom(public, updated=ctx.now()),
                "application/atom+xml")  # fmt: skip
    _put_public(ctx, "index.html", render.render_index_html(public), "text/html; charset=utf-8")
    return len(public)


def export_public(ctx: Context, dest: Path) -> int:
    """Copy the whole public site (every object of the public store) into `dest`, marked as
    gongkai's export (config.PUBLIC_SITE_MARKER) for `gongkai ingest` to leave alone."""
    count = 0
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / PUBLIC_SITE_MARKER).write_text(
        "gongkai public export wrote this folder; gongkai ingest leaves it out.\n",
        encoding="utf-8",
    )
    for info in ctx.public.list(""):
        target = (dest / info.key).resolve()
        if dest not in target.parents:
            raise ValueError(f"public key {info.key!r} would leave {dest}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ctx.public.get_bytes(info.key))
        count += 1
    return count


# --------------------------------------------------------------------------------------------
# review


@dataclass(frozen=True)
class ReviewReport:
    due: list[DocumentRecord]
    brought_forward: list[int]


def due_reviews(ctx: Context, on: date | None = None) -> list[DocumentRecord]:
    return ctx.catalog.due_for_review(on or ctx.today())


def review_due(ctx: Context, *, actor: str = "review") -> ReviewReport:
    """Bring forward withheld documents whose 保密期限 or stated reason has lapsed, then announce
    every due one with `gongkai.review.due`."""
    today = ctx.today()
    brought: list[int] = []
    for record in ctx.catalog.by_state("withheld"):
        lapse = policy.lapsed_withholding(
            DocumentMetadata.from_dict(record.metadata), received=record.received_at.date(),
            today=today,
        ) if record.metadata else None  # fmt: skip
        if lapse and (record.next_review_at is None or record.next_review_at > today):
            ctx.catalog.update(record.id, actor=actor, kind="review_brought_forward",
                               detail={"why": lapse}, next_review_at=today)  # fmt: skip
            brought.append(record.id)
    due = ctx.catalog.due_for_review(today)
    for record in due:
        _emit(ctx, "gongkai.review.due", record,
              next_review_at=record.next_review_at.isoformat() if record.next_review_at else None)
    return ReviewReport(due, brought)


def decide_review(
    ctx: Context, doc_id: int, decision: str, *, reason: str, reviewer: str
) -> DocumentRecord:
    """release: published now; keep: a next review date; partial: to redaction. Audited."""
    record = ctx.catalog.get(doc_id)
    if record.state != "withheld":
        raise LifecycleError(f"document {doc_id} is {record.state}; only withheld documents "
                             "are reviewed")  # fmt: skip
    outcome = policy.decide_review(
        decision, reason=reason, disclosure_reason=record.disclosure_reason,
        review_months=ctx.settings.review_months, today=ctx.today(),
        metadata=DocumentMetadata.from_dict(record.metadata) if record.metadata else None,
        security_level=record.security_level, record_state=record.state,
    )  # fmt: skip
    ctx.catalog.add_review_decision(
        doc_id, decision=decision, reason=reason, reviewer=reviewer,
        next_review_at=outcome.next_review_at,
    )  # fmt: skip
    _archive_note(ctx, record, f"review-{decision}", {
        "decision": decision, "reason": reason, "reviewer": reviewer,
        "next_review_at": _jsonable(outcome.next_review_at),
    })  # fmt: skip
    if outcome.state == "published":
        report = publish(ctx, [doc_id], actor=reviewer)
        if doc_id in report.refused:
            raise LifecycleError(f"document {doc_id} was released but not published: "
                                 f"{report.refused[doc_id]}")  # fmt: skip
        return report.published[0]
    if outcome.state == "withheld":
        _emit(ctx, "gongkai.review.kept", ctx.catalog.get(doc_id), reviewer=reviewer)
        return ctx.catalog.get(doc_id)
    return _transition(ctx, record, outcome.state, actor=reviewer,
                       detail={"decision": decision, "reason": reason})  # fmt: skip


def _archive_note(ctx: Context, record: DocumentRecord, name: str, note: dict[str, Any]) -> None:
    """Decisions travel with the archival package too (a new manifest revision)."""
    if not record.archive_key:
        return
    import json

    stamp = ctx.now().strftime("%Y%m%dT%H%M%S%f")
    body = json.dumps(note, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.archive.add_members(record.archive_key, {f"{name}-{stamp}.json": body})


# --------------------------------------------------------------------------------------------
# redaction and exceptions


def redacted_text(data: bytes, filename: str, max_bytes: int) -> tuple[str, str]:
    """The text of a person's redacted version, and what it was read as: docx and pdf
    through the readers, plain text in UTF-8, UTF-16 or GBK (extractors/text.py)."""
    from gongkai.extractors.text import read_plain_text

    kind = sniff_format(data)
    if kind is None:
        plain = read_plain_text(data, filename)
        return plain.text, f"text ({plain.encoding})"
    result = extract_one(data, filename, max_bytes)
    if isinstance(result, ExtractionError):
        raise result
    return result.text, kind


def redact(
    ctx: Context, doc_id: int, data: bytes, filename: str, *, actor: str
) -> DocumentRecord:
    """Archive a person's redacted version beside the original and publish only it."""
    record = ctx.catalog.get(doc_id)
    if record.state != "needs_redaction":
        raise LifecycleError(f"document {doc_id} is {record.state}, not needs_redaction")
    if not record.archive_key:
        raise LifecycleError(f"document {doc_id} has no archival package yet")
    text, read_as = redacted_text(data, filename, ctx.settings.max_file_bytes)
    if not text.strip():
        raise LifecycleError(f"{filename}: the redacted version holds no text")
    filename = clean_filename(filename)
    suffix = PurePath(filename).suffix.lower() or ".bin"
    ctx.archive.add_members(record.archive_key, {
        f"redacted{suffix}": data,
        "redacted.txt": text.encode("utf-8"),
    })  # fmt: skip
    record = ctx.catalog.update(
        doc_id, actor=actor, kind="redacted", detail={"filename": filename, "read_as": read_as},
        redacted_key=f"{record.archive_key}/redacted{suffix}",
    )  # fmt: skip
    report = publish(ctx, [doc_id], actor=actor)
    if doc_id in report.refused:
        raise LifecycleError(f"document {doc_id} not published: {report.refused[doc_id]}")
    return report.published[0]


def resolve(
    ctx: Context, doc_id: int, disclosure: str, *, reason: str, actor: str
) -> DocumentRecord:
    """A person states the disclosure attribute of an exception document; it is re-routed."""
    record = ctx.catalog.get(doc_id)
    if record.state != "exception":
        raise LifecycleError(f"document {doc_id} is {record.state}, not an exception")
    if not reason.strip():
        raise ValueError("resolving an exception needs a reason")
    metadata = DocumentMetadata.from_dict(record.metadata) if record.metadata else None
    decision = policy.resolve_exception(
        metadata, disclosure=disclosure, review_months=ctx.settings.review_months,
        today=ctx.today(),
    )  # fmt: skip
    changes: dict[str, Any] = {
        "disclosure": decision.disclosure,
        "next_review_at": decision.next_review_at,
        "routed_at": ctx.now(),
    }
    _archive_note(ctx, record, "resolution", {
        "disclosure": disclosure, "reason": reason, "by": actor, "routing": _jsonable(decision),
    })  # fmt: skip
    if decision.state == "published":
        ctx.catalog.update(
            doc_id, actor=actor, kind="resolved",
            detail={"to": "published", "reason": reason, "disclosure": disclosure},
            **changes, **_deadline_changes(ctx, record),
        )  # fmt: skip
        report = publish(ctx, [doc_id], actor=actor)
        if doc_id in report.refused:
            raise LifecycleError(f"document {doc_id} not published: {report.refused[doc_id]}")
        return report.published[0]
    ctx.catalog.record_event(doc_id, "resolved", actor=actor, detail={
        "to": decision.state, "reason": reason, "disclosure": disclosure})  # fmt: skip
    return _transition(
        ctx, record, decision.state, actor=actor,
        detail={"reason": reason, "disclosure": disclosure, "rule": decision.rule},
        exception_reason=decision.exception_reason, **changes,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# fixity and status


@dataclass(frozen=True)
class FixityReport:
    checked: int
    failed: dict[int, list[str]]  # document id -> problems


def fixity(ctx: Context, *, actor: str = "fixity") -> FixityReport:
    """Verify every archival package (or the original, before one exists) against its
    checksums; record each result; failures are `gongkai.document.fixity_failed` events."""
    failed: dict[int, list[str]] = {}
    checked = 0
    for record in ctx.catalog.find(FindQuery()):
        checked += 1
        problems: list[str]
        if record.archive_key:
            report = ctx.archive.verify(record.archive_key)
            problems = list(report.problems)
        else:
            try:
                ctx.archive.read_original(record.original_key, sha256=record.sha256)
                problems = []
            except Exception as exc:  # any storage failure is a fixity failure to report
                problems = [f"original: {exc}"]
        ctx.catalog.record_event(record.id, "fixity", actor=actor,
                                 detail={"ok": not problems, "problems": problems})  # fmt: skip
        if problems:
            failed[record.id] = problems
            _emit(ctx, "gongkai.document.fixity_failed", record, problems=problems)
    return FixityReport(checked, failed)


@dataclass(frozen=True)
class DeadlineItem:
    document_id: int
    file_number: str | None
    title: str | None
    state: str
    due: date
    provisional: bool
    working_days_left: int


@dataclass(frozen=True)
class StatusReport:
    today: date
    by_state: dict[str, int]
    overdue: list[DeadlineItem]
    at_risk: list[DeadlineItem]
    due_reviews: list[DocumentRecord]
    fixity_failures: dict[int, list[str]]
    # Where the working-day calendar of each year comes from, and holiday files not used.
    calendar: dict[str, str] = field(default_factory=dict)
    calendar_problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "documents": sum(self.by_state.values()),
            "by_state": self.by_state,
            "overdue": [_jsonable(i) for i in self.overdue],
            "at_risk": [_jsonable(i) for i in self.at_risk],
            "due_reviews": [
                {"id": r.id, "file_number": r.file_number, "title": r.title,
                 "next_review_at": _jsonable(r.next_review_at)}
                for r in self.due_reviews
            ],
            "fixity_failures": {str(k): v for k, v in self.fixity_failures.items()},
            "calendar": self.calendar,
            "calendar_problems": self.calendar_problems,
        }


def status(ctx: Context) -> StatusReport:
    today = ctx.today()
    overdue: list[DeadlineItem] = []
    at_risk: list[DeadlineItem] = []
    # Documents to be published actively and not yet published: their Art. 26 clock runs.
    for record in ctx.catalog.find(FindQuery()):
        if record.state == "published" or record.publish_deadline is None:
            continue
        left = ctx.calendar.working_days_between(today, record.publish_deadline)
        item = DeadlineItem(record.id, record.file_number, record.title, record.state,
                            record.publish_deadline, record.deadline_provisional, left)  # fmt: skip
        verdict = deadlines.status(record.publish_deadline, today, calendar=ctx.calendar)
        if verdict == "overdue":
            overdue.append(item)
        elif verdict == "at_risk":
            at_risk.append(item)
    failures = {
        e.document_id: list(e.detail.get("problems", []))
        for e in ctx.catalog.latest_events("fixity")
        if not e.detail.get("ok", False)
    }
    return StatusReport(
        today=today,
        by_state=dict(sorted(ctx.catalog.counts_by_state().items())),
        overdue=overdue,
        at_risk=at_risk,
        due_reviews=ctx.catalog.due_for_review(today),
        fixity_failures=failures,
        calendar=ctx.calendar.sources(),
        calendar_problems=list(ctx.calendar.problems),
    )
