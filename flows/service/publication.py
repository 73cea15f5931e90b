"""Publication: 索引号, public record pages, the public index and the exported site.

Several sweeps publish on one catalog at once (serve's sweeper, work-pool workers, sibling
sweeps), and each rewrites the index files it touched from the catalog after committing its
state changes. Unguarded, the sweep that read the catalog first could write last and drop
the other's documents from the index (last writer wins, with stale data). So the catalog is
read for the index, and the index written, only while holding the catalog's public index
lock (Catalog.public_index_lock: a PostgreSQL advisory lock, a file lock beside a SQLite
catalog): the last writer of a file read the catalog after every change committed before it
took the lock, and every change is followed by a writer of its own. A withdrawal takes its
pages down, and the repair path restores pages (of documents still published then) and
rebuilds, under the same lock: neither puts back what another has just taken down.

A lock rather than an index generation compared after the write: nothing in the catalog
changes (no migration, no counter that every path changing what the index shows must bump),
and no writer renders the index again because another moved meanwhile. Index writers wait
for one another; the catalog's other writers never wait for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gongkai.config import PUBLIC_SITE_MARKER
from gongkai.flows import lifecycle, render
from gongkai.flows.service import versions
from gongkai.flows.service.context import Context, _transition
from gongkai.flows.service.processing import WorkerPool
from gongkai.flows.service.public_view import public_view
from gongkai.storage.catalog import (
    DocumentRecord,
    Outcome,
    StaleState,
)

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
        return None, "it has not been read and routed yet"
    if record.state == "to_publish":
        # Routed once, when it was read (its audit row holds the rule and the reason).
        return "read_active", "the policy routed it to publication when it was read"
    if record.state == "withheld":
        decisions = ctx.catalog.review_decisions(record.id)
        if decisions and decisions[-1]["decision"] == "release":
            return "released", f"released by {decisions[-1]['reviewer']}"
        return None, "it is withheld and no reviewer has released it"
    if record.state == "withdrawn":
        reviewer = released_after_withdrawal(ctx, record.id)
        if reviewer is None:
            return None, "it was withdrawn (撤回) and no reviewer has released it again"
        # A redacted document comes back as its redacted version, never the original.
        basis: PublicationBasis = "redacted" if record.redacted_key else "released"
        return basis, f"released again by {reviewer}"
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


def released_after_withdrawal(ctx: Context, doc_id: int) -> str | None:
    """The reviewer whose `release` came after the document's latest withdrawal, or None.
    Audit order decides (event ids), not clocks: an earlier release never counts again."""
    reviewer = None
    for event in ctx.catalog.history(doc_id):
        if event.kind == "state" and event.detail.get("to") == "withdrawn":
            reviewer = None
        elif event.kind == "review_decision" and event.detail.get("decision") == "release":
            reviewer = event.actor
    return reviewer


def _put_public(ctx: Context, key: str, data: str, content_type: str) -> None:
    body = data.encode("utf-8")
    ctx.public.put(key, body, content_type=content_type,
                   sha256=hashlib.sha256(body).hexdigest())  # fmt: skip


def publishable_ids(ctx: Context) -> list[int]:
    """Documents routed to publication and not published yet (`to_publish`), and published
    ones without a 索引号 (migration 0003 took a shared one off them)."""
    return (ctx.catalog.ids_in_state("to_publish")
            + ctx.catalog.ids_in_state("published", without_index_number=True))


def publish(
    ctx: Context,
    document_ids: Sequence[int],
    *,
    actor: str = "publish",
    update_index: bool = True,
    on_done: Callable[[], None] | None = None,
    pool: WorkerPool | None = None,
) -> PublishReport:
    """Publish each listed document that the policy allows now; the others are reported in
    `refused` with the reason and left as they are. The documents are handled as a batch:
    their 索引号 are assigned in one transaction, their state changes to `published` in one
    transaction (each with its own audit row and event), and only then are their pages
    written to the public store (one durability barrier on the local store). `pool` is
    accepted for the flows' sake; publishing needs no worker processes.

    A document with a version of its 文号 on the public site takes that one's place (the old
    one becomes `superseded`, its pages go, its 索引号 passes on); several versions of one
    文号 in the list are published one after the other, the newest last."""
    del pool  # rendering a page costs less than sending it to a worker
    report = PublishReport()
    for round_ids in _rounds(ctx, list(dict.fromkeys(document_ids))):
        done = _publish_round(ctx, round_ids, actor=actor, update_index=update_index,
                              on_done=on_done)  # fmt: skip
        report.published.extend(done.published)
        report.refused.update(done.refused)
    return report


def _rounds(ctx: Context, ids: list[int]) -> list[list[int]]:
    """The ids in rounds where no two share a 文号 and issuer (the k-th of each in round k)."""
    seen: dict[tuple[str, str | None], int] = {}
    rounds: list[list[int]] = []
    for doc_id, (number, issuer) in ctx.catalog.file_numbers_of(ids).items():
        k = 0
        if number:
            k = seen.get((number, issuer), 0)
            seen[(number, issuer)] = k + 1
        while len(rounds) <= k:
            rounds.append([])
        rounds[k].append(doc_id)
    return rounds


def _publish_round(
    ctx: Context,
    ids: Sequence[int],
    *,
    actor: str,
    update_index: bool,
    on_done: Callable[[], None] | None,
) -> PublishReport:
    report = PublishReport()
    allowed: list[tuple[DocumentRecord, PublicationBasis, str]] = []
    pages: list[DocumentRecord] = []
    unnumbered: list[DocumentRecord] = []
    for record in ctx.catalog.get_many(ids):
        if record.state == "published":
            # Already published: only a page lost after the state change is written again,
            # or one whose shared 索引号 was taken off it (it is numbered again below).
            if not record.index_number:
                unnumbered.append(record)
            elif not ctx.public.exists(f"documents/{record.id}.json"):
                pages.append(record)
            if on_done is not None:
                on_done()
            continue
        basis, why = publication_basis(ctx, record)
        # Routed when it was read; a version of its 文号 decided since (by a parallel worker)
        # may say otherwise. A person's decision (release, resolve, redaction) stands.
        conflict = (versions.conflict_at_publication(ctx, record)
                    if basis and record.state == "to_publish" else None)  # fmt: skip
        if conflict is not None:
            _transition(ctx, record, "exception", actor=actor,
                        detail={"rule": conflict.rule, "reason": conflict.reason},
                        exception_reason=conflict.exception_reason)  # fmt: skip
            basis, why = None, conflict.reason
        if basis is None:
            report.refused[record.id] = why
            if on_done is not None:
                on_done()
            continue
        lifecycle.check_transition(record.state, "published")
        allowed.append((record, basis, why))
    if unnumbered:
        renumbered = _assign_index_numbers(ctx, unnumbered, actor)
        pages += [renumbered[r.id] for r in unnumbered]
    replaced: list[int] = []
    if allowed:
        allowed = [(_take_place(ctx, r, actor, replaced), b, w) for r, b, w in allowed]
        # Stored before the state changes, so that a retry after a failure reuses them.
        numbered = _assign_index_numbers(ctx, [r for r, _, _ in allowed], actor)
        now = ctx.now()
        by_state: dict[str, list[tuple[DocumentRecord, PublicationBasis, str]]] = {}
        for record, basis, why in allowed:
            by_state.setdefault(record.state, []).append((numbered[record.id], basis, why))
        for from_state, group in by_state.items():
            # The state changes first: nothing is in the public store before the catalog
            # says `published` (which needed the basis just checked).
            results = ctx.catalog.record_outcomes(
                [Outcome(r.id, actor, None, "published", detail={"basis": basis, "why": why},
                         changes={"published_at": now,
                                  **({"withdrawn_at": None} if from_state == "withdrawn"
                                     else {})})
                 for r, basis, why in group],
                expected_from=from_state,
            )  # fmt: skip
            for (record, _basis, _why), moved in zip(group, results, strict=True):
                if isinstance(moved, StaleState):
                    report.refused[record.id] = "its state changed while it was being published"
                else:
                    report.published.append(moved)
                    pages.append(moved)
                if on_done is not None:
                    on_done()
    _write_public_pages_many(ctx, pages)
    for old_id in replaced:
        for key in public_keys_of(ctx, old_id):
            ctx.public.delete(key)
    if (report.published or unnumbered or replaced) and update_index:
        update_public_index(ctx, [r.id for r in [*report.published, *unnumbered]] + replaced)
    return report


def _take_place(ctx: Context, record: DocumentRecord, actor: str,
                replaced: list[int]) -> DocumentRecord:  # fmt: skip
    """The record, having taken the place of its 文号's version on the public site (if one
    is there): that one `superseded`, its 索引号 passed on (catalog.supersede)."""
    old = versions.published_predecessor(ctx, record)
    if old is None:
        return record
    try:
        moved = ctx.catalog.supersede(old.id, record.id, actor=actor)
    except StaleState:
        return record  # no longer published: nothing to replace
    replaced.append(old.id)
    return moved


def _assign_index_numbers(
    ctx: Context, records: Sequence[DocumentRecord], actor: str
) -> dict[int, DocumentRecord]:
    settings = ctx.settings
    return ctx.catalog.assign_index_numbers(
        [(r.id, (r.date or ctx.today()).year) for r in records],
        org_code=settings.org_code, info_class=settings.info_class, actor=actor,
        number=lambda year, serial: render.format_index_number(
            settings.org_code, settings.info_class, year, serial),
    )  # fmt: skip


def public_keys_of(ctx: Context, doc_id: int) -> list[str]:
    """The public store's objects of one document (its record page, JSON record, ...)."""
    return [info.key for info in ctx.public.list(f"documents/{doc_id}.")]


def _write_public_pages_many(ctx: Context, pages: Sequence[DocumentRecord]) -> None:
    files: list[tuple[str, str, str]] = []
    zone = ctx.settings.zone
    for record in pages:
        public = public_view(ctx, record)
        files.append((f"documents/{record.id}.json",
                      render.render_record_json(public, zone=zone), "application/json"))
        files.append((f"documents/{record.id}.html", render.render_record_html(public, zone=zone),
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


def update_public_index(ctx: Context, document_ids: Iterable[int]) -> int:
    """After these documents were published, withdrawn or superseded: the root index
    (index.json, index.html, feed.atom) and the lists of their years of publication, each
    rewritten from the catalog under the public index lock; the other years' lists stay as
    they are. Those of them no longer published lose their public objects there (a page
    written after a withdrawal had taken the pages down goes again). Returns the number of
    published documents."""
    ids = list(document_ids)
    with ctx.catalog.public_index_lock():
        for doc_id, state in ctx.catalog.states_of(ids).items():
            if state != "published":
                for key in public_keys_of(ctx, doc_id):
                    ctx.public.delete(key)
        moments = ctx.catalog.published_at_of(ids).values()
        return _write_public_index(ctx, {render.publication_year(m, ctx.settings.zone)
                                         for m in moments if m})  # fmt: skip


def rebuild_public_index(ctx: Context) -> int:
    """The whole public index from every published document: the repair path (the lists of
    every year, and an empty list for a year the store has one of but no document is
    published in any more), under the public index lock. Returns the number of published
    documents."""
    with ctx.catalog.public_index_lock():
        return rebuild_public_index_locked(ctx)


def rebuild_public_index_locked(ctx: Context) -> int:
    """rebuild_public_index for a caller that holds the public index lock already."""
    years = {y.year for y in _published_years(ctx)}
    for info in ctx.public.list("index-"):
        stem, _, extension = info.key.removeprefix("index-").partition(".")
        if extension in ("json", "html") and stem.isdigit():
            years.add(int(stem))
    return _write_public_index(ctx, years)


def _published_years(ctx: Context) -> list[render.IndexYear]:
    """Every year of publication that has published documents, newest first, with counts."""
    bounds = ctx.catalog.published_bounds()
    if bounds is None:
        return []
    zone = ctx.settings.zone
    first, last = (render.publication_year(m, zone) for m in bounds)
    years = []
    for year in range(last, first - 1, -1):
        count = ctx.catalog.count_published(*render.year_bounds(year, zone))
        if count:
            years.append(render.IndexYear(year, count))
    return years


def _index_entries(
    ctx: Context, records: Iterable[DocumentRecord]
) -> list[render.PublicRecord]:
    return [public_view(ctx, r, with_text=False) for r in records if r.published_at]


def _write_public_index(ctx: Context, years: Iterable[int]) -> int:
    zone = ctx.settings.zone
    for year in sorted(set(years)):
        entries = _index_entries(ctx, ctx.catalog.published_between(
            *render.year_bounds(year, zone)))  # fmt: skip
        _put_public(ctx, render.year_index_path(year, "json"),
                    render.render_year_json(year, entries, zone=zone), "application/json")
        _put_public(ctx, render.year_index_path(year, "html"),
                    render.render_year_html(year, entries, zone=zone),
                    "text/html; charset=utf-8")  # fmt: skip
    counts = _published_years(ctx)
    latest = _index_entries(ctx, ctx.catalog.published_between(limit=render.FEED_SIZE))
    deleted = ctx.catalog.withdrawn_latest(render.FEED_SIZE)
    # The feed changes when its entries do: its <updated> is the newest entry's or withdrawal's.
    moments = [latest[0].published_at] if latest else []
    moments += [when for _, when in deleted[:1]]
    updated = max(moments) if moments else ctx.now()
    _put_public(ctx, "index.json", render.render_index_json(latest, counts, zone=zone),
                "application/json")  # fmt: skip
    _put_public(ctx, "feed.atom", render.render_index_atom(latest, updated=updated,
                                                           deleted=deleted, zone=zone),
                "application/atom+xml")  # fmt: skip
    _put_public(ctx, "index.html", render.render_index_html(latest, counts, zone=zone),
                "text/html; charset=utf-8")  # fmt: skip
    return sum(y.count for y in counts)


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
