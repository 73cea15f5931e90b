"""Intake: sniff, size limit, sha256, store the original, register it `received`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import (
    ThreadPoolExecutor,
)
from dataclasses import dataclass
from pathlib import Path, PurePath

from gongkai.extractors.model import DISCLOSURE_VALUES, ExtractionError
from gongkai.flows.service.context import (
    CONTENT_TYPES,
    UNKNOWN_CONTENT_TYPE,
    Context,
    IntakeRejected,
)
from gongkai.storage.catalog import (
    DocumentRecord,
    Registration,
)

# --------------------------------------------------------------------------------------------
# intake


@dataclass(frozen=True)
class IntakeResult:
    record: DocumentRecord
    new: bool  # False: these bytes were already known (duplicate submission, recorded)


def sniff_format(data: bytes, filename: str = "") -> str | None:
    """The format from the bytes themselves (the readers' own sniffing: docx, pdf, doc, wps,
    ofd, png, jpeg, tiff; the name only tells a .wps from a .doc), else None: the file is
    still stored and registered, and process() records why it cannot be read."""
    from gongkai.extractors.sniff import sniff

    try:
        return sniff(data, filename=filename)
    except ExtractionError:
        return None


def clean_filename(filename: str) -> str:
    """The last path segment only (a browser or a folder walk may give a path), as readable
    text: a name that was not UTF-8 on disk (GBK from Windows) is decoded, not stored as
    escapes that no database or terminal takes (extractors/text.py)."""
    from gongkai.extractors.text import readable_name

    name = PurePath(readable_name(filename).replace("\\", "/")).name.strip()
    # Kept as given, controls and all (they are shown escaped), except NUL, which no database
    # column takes (PostgreSQL refuses it): written as the escape it is shown as.
    return name.replace("\x00", "\\x00") or "unnamed"


def _check_declared(declared_disclosure: str | None) -> None:
    if declared_disclosure is not None and declared_disclosure not in DISCLOSURE_VALUES:
        raise ValueError(
            f"declared disclosure {declared_disclosure!r} is not one of "
            f"{', '.join(DISCLOSURE_VALUES)}"
        )


def _content_type(data: bytes, filename: str) -> str:
    """The stored type: from the bytes; plain text named .txt; anything else unknown."""
    kind = sniff_format(data, filename)
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
    return IntakeResult(record, new)  # its audit row is the event (received or duplicate)


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
    _restore_lost_originals(ctx, described, known, actor=actor, source=source)
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
        items[position] = IntakeItem(described[position][0], IntakeResult(record, new))
    return [items[i] for i in range(len(described))]


def _restore_lost_originals(
    ctx: Context,
    described: Sequence[tuple[Path, bytes, str, str, str]],
    known: Mapping[str, DocumentRecord],
    *,
    actor: str,
    source: str,
) -> None:
    """Documents handed over again whose original the archive lost (a store restored from an
    older backup, a bucket emptied) while they still wait to be processed: their original is
    stored again from the bytes in hand (the same sha256, checked by the store), audited as
    `original_restored`. Otherwise they would wait for ever, failing to read what is gone.
    Only waiting documents are looked at: one HEAD each, not one for every known document
    (fixity finds a lost original of the others)."""
    restored: set[str] = set()
    for _path, data, filename, _content_type, sha256 in described:
        record = known.get(sha256)
        if record is None or record.state != "received" or sha256 in restored:
            continue
        if ctx.archive.store.exists(record.original_key):
            continue
        ctx.archive.store.put(record.original_key, data, content_type=record.content_type,
                              sha256=sha256)  # fmt: skip
        ctx.catalog.record_event(record.id, "original_restored", actor=actor,
                                 detail={"key": record.original_key, "filename": filename,
                                         "source": source})  # fmt: skip
        restored.add(sha256)


def pending_ids(ctx: Context) -> list[int]:
    """Documents still waiting in `received` (new, interrupted, or routed but not published)."""
    return ctx.catalog.ids_in_state("received")


def remove_leftovers(ctx: Context) -> int:
    """Before a run: the temporary files an earlier run killed mid-write left in the archive
    and the public store (never one a live process is writing). How many were removed."""
    return ctx.archive.store.remove_stale_temporaries() + ctx.public.remove_stale_temporaries()
