"""What the catalog says is published is on the public store, and nothing else is: checked,
and repaired.

Publication changes the state first, then writes the pages, then the index (a page is never
public before the catalog says so). A run killed, or a store that failed, between those steps
leaves published documents without their page, or an index that does not list them; a store
that lost objects does the same. A withdrawal, or a version superseding another, changes the
state first and then takes the pages down: killed in between, it leaves the page of a document
that is no longer published on the public site. The pipeline repairs both at the end of every
run (and `gongkai ingest` when it has nothing else to do), `gongkai verify` and `gongkai
status` report them, `gongkai public repair` does it on demand.

    public_gaps(ctx) -> PublicGaps          # what is missing, stale or left over, read only
    repair_public(ctx, actor=...) -> PublicGaps   # the gaps found, each mended
    repair_public_changes(ctx, holder=None, actor=...) -> PublicGaps
        # the same for the documents whose state changed since the last such check

The end of a pipeline run checks only what changed (repair_public_changes): the documents with
a state change in the audit trail since the `public-check` cursor, the index files of their
years and the root. A full check lists every page and reads every year's list, which grows
with the archive (on S3 one request per thousand pages, every run); it is for `gongkai verify`,
`status`, `public repair`, the scheduled publication, and the first check of a catalog.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from gongkai.flows import render
from gongkai.flows.service.context import Context
from gongkai.flows.service.outbox import holder_name
from gongkai.flows.service.publication import (
    _published_years,
    _write_public_pages_many,
    public_keys_of,
    rebuild_public_index_locked,
)
from gongkai.storage.catalog import RelayPosition
from gongkai.storage.objects import StorageError

ROOT_FILES = ("index.json", "feed.atom", "index.html")
CHECK_CURSOR = "public-check"  # in the catalog's relay cursors: the audit row checked up to
CHECK_LEASE = timedelta(minutes=5)
CHECK_BATCH = 5_000  # audit rows read at a time
# A listing page (a thousand keys) costs about as much as this many HEAD requests: the
# changed documents' pages are looked up one by one while that is cheaper than a listing.
HEADS_PER_LISTING_PAGE = 5


@dataclass(frozen=True)
class PublicGaps:
    missing_pages: tuple[int, ...] = ()  # published documents whose page is not there
    index_problems: tuple[str, ...] = ()  # how the public index differs from the catalog
    # Pages on the public store of documents the catalog does not say are published
    # (withdrawn, superseded, or unknown to it): a take-down cut short.
    stale_pages: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.missing_pages or self.index_problems or self.stale_pages)

    def to_json(self) -> dict[str, list[int] | list[str]]:
        return {"missing_pages": list(self.missing_pages),
                "index_problems": list(self.index_problems),
                "stale_pages": list(self.stale_pages)}  # fmt: skip

    def __add__(self, other: PublicGaps) -> PublicGaps:
        return PublicGaps(self.missing_pages + other.missing_pages,
                          self.index_problems + other.index_problems,
                          self.stale_pages + other.stale_pages)  # fmt: skip


def public_gaps(ctx: Context) -> PublicGaps:
    """Each published document's page (JSON and HTML) is in the public store, and the index
    (root files, the lists of each year) counts and lists what the catalog has published.
    One listing of the pages' keys, and a read of the few index files."""
    published = ctx.catalog.published_ids()
    keys = set(ctx.public.list_keys("documents/"))
    # The index lists the published documents that have a moment of publication.
    problems = tuple(_index_problems(ctx, ctx.catalog.count_published()))
    # A publication running now writes its pages after its state change: looked for again
    # after the listing, a page it has written since is not a gap.
    missing = tuple(i for i in _missing(published, keys)
                    if not all(ctx.public.exists(k) for k in _page_keys(i)))  # fmt: skip
    return PublicGaps(missing, problems, _unpublished(ctx, _page_ids(keys) - set(published)))


def changed_gaps(ctx: Context, ids: Iterable[int]) -> PublicGaps:
    """public_gaps for these documents alone (their pages, the lists of their years of
    publication, the root files)."""
    states = ctx.catalog.states_of(sorted(set(ids)), missing_ok=True)
    moments = ctx.catalog.published_at_of(list(states))
    # Only a document published now or once (withdrawn, superseded) can have pages.
    ids = [i for i in states if states[i] == "published" or moments.get(i) is not None]
    published = [i for i in ids if states[i] == "published"]
    count = ctx.catalog.count_published()
    listing_pages = math.ceil(2 * count / 1000)
    if 2 * len(ids) <= HEADS_PER_LISTING_PAGE * listing_pages:
        keys = {key for i in ids for key in _page_keys(i) if ctx.public.exists(key)}
    else:
        keys = set(ctx.public.list_keys("documents/"))
    years = {render.publication_year(m, ctx.settings.zone) for m in moments.values() if m}
    problems = tuple(_index_problems(ctx, count, years))
    return PublicGaps(_missing(published, keys), problems,
                      _unpublished(ctx, (_page_ids(keys) & set(ids)) - set(published)))


def _page_keys(doc_id: int) -> tuple[str, str]:
    return f"documents/{doc_id}.json", f"documents/{doc_id}.html"


def _missing(published: Iterable[int], keys: set[str]) -> tuple[int, ...]:
    return tuple(i for i in published if not all(k in keys for k in _page_keys(i)))


def _page_ids(keys: set[str]) -> set[int]:
    """The document ids that have objects under documents/ (documents/<id>.json, .html)."""
    stems = (key.removeprefix("documents/").partition(".")[0] for key in keys)
    return {int(stem) for stem in stems if stem.isdigit()}


def _unpublished(ctx: Context, ids: set[int]) -> tuple[int, ...]:
    """Those of `ids` the catalog does not say are published now: read after the listing, so a
    document published (and its page written) while the store was listed is not one."""
    states = ctx.catalog.states_of(sorted(ids), missing_ok=True)
    return tuple(i for i in sorted(ids) if states.get(i) != "published")


def _read_json(ctx: Context, key: str) -> dict[str, object] | str:
    """The index file's content, or why it cannot be read."""
    try:
        data = json.loads(ctx.public.get_bytes(key))
    except StorageError as exc:
        return f"{key} 无法读取（{exc}）"
    except ValueError:
        return f"{key} 不是有效的 JSON"
    return data if isinstance(data, dict) else f"{key} 不是 JSON 对象"


def _index_problems(ctx: Context, published: int, years_to_read: set[int] | None = None,
                    ) -> list[str]:  # fmt: skip
    """How the index differs from the catalog: the root files, and the lists of every year (or
    of `years_to_read`)."""
    present = {key: ctx.public.exists(key) for key in ROOT_FILES}
    if published == 0 and not any(present.values()):
        return []  # nothing published yet: no index yet
    problems = [f"{key} 缺失" for key, there in present.items() if not there]
    root = _read_json(ctx, "index.json") if present["index.json"] else {}
    if isinstance(root, str):
        return [*problems, root]
    if present["index.json"] and root.get("count") != published:
        problems.append(f"index.json 计 {root.get('count')} 件，目录中已发布 {published} 件")
    years = {y.year: y.count for y in _published_years(ctx)}
    listed = root.get("years") or []
    if present["index.json"] and {int(y["year"]): int(y["count"]) for y in listed} != years:  # type: ignore[union-attr, index]
        problems.append("index.json 的年度列表与目录不符")
    for year, count in years.items():
        if years_to_read is None or year in years_to_read:
            problems += _year_problems(ctx, year, count)
    newest = ctx.catalog.published_between(limit=1)
    page = f"documents/{newest[0].id}.html" if newest else None
    for key in ("feed.atom", "index.html"):
        if page is not None and present[key] and page not in ctx.public.get_bytes(key).decode():
            problems.append(f"{key} 未列出最新发布的文件（{newest[0].id}）")
    return problems


def _year_problems(ctx: Context, year: int, count: int) -> list[str]:
    key = render.year_index_path(year, "json")
    if not ctx.public.exists(key) or not ctx.public.exists(render.year_index_path(year, "html")):
        return [f"{year} 年的列表缺失"]
    data = _read_json(ctx, key)
    if isinstance(data, str):
        return [data]
    if data.get("count") != count:
        return [f"{key} 计 {data.get('count')} 件，目录中 {year} 年发布 {count} 件"]
    return []


def repair_public(ctx: Context, *, actor: str = "repair") -> PublicGaps:
    """Write every missing page again (from the catalog and the archive, as publication
    would; audited per document as `public_page_restored`), take down the pages of documents
    no longer published (audited as `public_page_removed`), and rebuild the whole index if it
    is missing or stale. Returns what was found (and is now mended).

    The gaps are looked for without a lock (one listing of every page); they are mended
    under the public index lock (publication.py), where a page goes back only for a document
    the catalog still says is published (a withdrawal waits to take its pages down until the
    repair is done), and the index is rebuilt only if it is still stale then (a publication
    that was writing it when the gaps were looked for has finished)."""
    gaps = public_gaps(ctx)
    _mend(ctx, gaps, actor)
    return gaps


def repair_public_changes(ctx: Context, *, holder: str | None = None,
                          actor: str = "repair") -> PublicGaps:  # fmt: skip
    """repair_public for the documents whose state changed since the last check (audit rows
    after the `public-check` cursor, which moves past them), and the index files of their
    years: what a run killed between a state change and its pages left. The first check of a
    catalog (no cursor yet) is a full one. While another run holds the cursor this one checks
    nothing: what that run does not reach, the next does. Returns what was found (mended).
    `holder`: who holds the cursor meanwhile (default: this process, outbox.holder_name)."""
    holder = holder or holder_name()
    if ctx.catalog.relay_cursor(CHECK_CURSOR) is None:
        start = ctx.catalog.audit_end()  # before the full check: nothing after it is skipped
        gaps = repair_public(ctx, actor=actor)
        if ctx.catalog.take_relay(CHECK_CURSOR, holder, lease=CHECK_LEASE, start=start):
            ctx.catalog.release_relay(CHECK_CURSOR, holder)
        return gaps
    position = ctx.catalog.take_relay(CHECK_CURSOR, holder, lease=CHECK_LEASE,
                                      start=RelayPosition(0, 0))  # fmt: skip
    found = PublicGaps()
    try:
        while position is not None:
            batch = ctx.catalog.audit_after(position, CHECK_BATCH)
            changed = {e.document_id for e in batch.rows if e.kind == "state"}
            gaps = changed_gaps(ctx, changed) if changed else PublicGaps()
            _mend(ctx, gaps, actor)
            found += gaps
            if not ctx.catalog.advance_relay(CHECK_CURSOR, holder, batch.end,
                                             lease=CHECK_LEASE):  # fmt: skip
                break  # the lease ran out and another run took the cursor over
            position = batch.end if len(batch.rows) == CHECK_BATCH else None
    finally:
        ctx.catalog.release_relay(CHECK_CURSOR, holder)
    return found


def _mend(ctx: Context, gaps: PublicGaps, actor: str) -> None:
    """Under the public index lock: the missing pages written, the stale ones taken down, the
    index rebuilt if it is still stale (each as the catalog says now)."""
    if not gaps:
        return
    with ctx.catalog.public_index_lock():
        if gaps.missing_pages:
            records = ctx.catalog.get_many(list(gaps.missing_pages))
            restored = [r for r in records if r.state == "published"]
            _write_public_pages_many(ctx, restored)
            for record in restored:
                ctx.catalog.record_event(record.id, "public_page_restored", actor=actor,
                                         detail={})  # fmt: skip
        if gaps.stale_pages:
            _take_down_stale(ctx, gaps.stale_pages, actor)
        if gaps.index_problems and _index_problems(ctx, ctx.catalog.count_published()):
            rebuild_public_index_locked(ctx)


def _take_down_stale(ctx: Context, ids: tuple[int, ...], actor: str) -> None:
    """Under the public index lock: the public objects of those documents the catalog still
    does not say are published (a release since may have published one again)."""
    states = ctx.catalog.states_of(list(ids), missing_ok=True)
    for doc_id in ids:
        state = states.get(doc_id)
        if state == "published":
            continue
        for key in public_keys_of(ctx, doc_id):
            ctx.public.delete(key)
        if state is not None:  # a page of a document the catalog does not know has no history
            ctx.catalog.record_event(doc_id, "public_page_removed", actor=actor,
                                     detail={"state": state})  # fmt: skip
