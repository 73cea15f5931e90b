"""Fixity: everything `get` and the public site hand out, re-hashed against what was recorded,
in batches that a run resumes (the catalog's fixity cursor, the oldest-checked first).

Per document: the original (the object `gongkai get` serves) against its sha256 in the
catalog, the archival package against its manifest, and its public objects (record page and
JSON record) against the checksums the public store recorded: a published document must have
both, and any other document none (a withdrawn one's page left behind is a failure too).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.flows import lifecycle
from gongkai.flows.service.context import Context
from gongkai.flows.service.publication import public_keys_of
from gongkai.storage.catalog import DocumentRecord

FIXITY_BATCH = 100  # documents per catalog transaction (one audit row each, cursor moved)
PUBLIC_PAGES = ("json", "html")


@dataclass(frozen=True)
class FixityReport:
    checked: int  # documents verified by this call
    failed: dict[int, list[str]]  # document id -> problems, of this call
    resumed: bool = False  # it went on with a run an earlier call did not finish
    finished: bool = True  # the run covered every document (False: stopped at `limit`)
    run: dict[str, object] = field(default_factory=dict)  # the run's totals so far


def fixity(
    ctx: Context, *, actor: str = "fixity", limit: int | None = None,
    batch_size: int = FIXITY_BATCH,
) -> FixityReport:  # fmt: skip
    """Verify every document's original, package and public objects, `batch_size` at a time;
    record each result (audit row "fixity") and move its cursor in one transaction per batch,
    so that a run killed halfway is taken up where it stopped by the next call. `limit`:
    stop after that many documents (the run stays open for the next call). Every failure is
    a `gongkai.document.fixity_failed` event."""
    run_id, started_at, resumed = ctx.catalog.fixity_run()
    failed: dict[int, list[str]] = {}
    checked = 0
    while limit is None or checked < limit:
        size = batch_size if limit is None else min(batch_size, limit - checked)
        batch = ctx.catalog.claim_fixity(started_at, size)
        if not batch:
            totals = ctx.catalog.finish_fixity_run(run_id)
            return FixityReport(checked, failed, resumed, True, totals)
        results = [(record, problems_of(ctx, record)) for record in batch]
        ctx.catalog.record_fixity(run_id, [(r.id, p) for r, p in results], actor=actor)
        for record, problems in results:
            if problems:
                failed[record.id] = problems  # its audit row is the fixity_failed event
        checked += len(batch)
    return FixityReport(checked, failed, resumed, False, ctx.catalog.last_fixity_run() or {})


def problems_of(ctx: Context, record: DocumentRecord) -> list[str]:
    """What is wrong with the document's stored objects (empty: all sound)."""
    problems: list[str] = []
    try:
        ctx.archive.read_original(record.original_key, sha256=record.sha256)
    except Exception as exc:  # any storage failure is a fixity failure to report
        problems.append(f"original {record.original_key}: {exc}")
    if record.archive_key:
        report = ctx.archive.verify(record.archive_key)
        problems += [f"package {record.archive_key}: {p}" for p in report.problems]
    problems += _public_problems(ctx, record)
    return problems


def _public_problems(ctx: Context, record: DocumentRecord) -> list[str]:
    try:
        present = public_keys_of(ctx, record.id)
    except Exception as exc:
        return [f"public objects: cannot list them: {exc}"]
    if record.state != lifecycle.State.PUBLISHED:
        return [f"public {key}: present, but the document is {record.state}" for key in present]
    problems = [f"public documents/{record.id}.{ext}: missing" for ext in PUBLIC_PAGES
                if f"documents/{record.id}.{ext}" not in present]  # fmt: skip
    for key in present:
        try:
            ctx.public.get_bytes(key)  # read to the end: verified against its sha256
        except Exception as exc:
            problems.append(f"public {key}: {exc}")
    return problems
