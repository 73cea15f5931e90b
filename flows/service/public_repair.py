"""What the catalog says is published is on the public store: checked, and repaired.

Publication changes the state first, then writes the pages, then the index (a page is never
public before the catalog says so). A run killed, or a store that failed, between those steps
leaves published documents without their page, or an index that does not list them; a store
that lost objects does the same. The pipeline repairs that at the end of every run (and
`gongkai ingest` when it has nothing else to do), `gongkai verify` and `gongkai status`
report it, `gongkai public repair` does it on demand.

    public_gaps(ctx) -> PublicGaps          # what is missing or stale, read only
    repair_public(ctx, actor=...) -> PublicGaps   # the gaps found, each mended
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from gongkai.flows import render
from gongkai.flows.service.context import Context
from gongkai.flows.service.publication import (
    _published_years,
    _write_public_pages_many,
    rebuild_public_index,
)
from gongkai.storage.objects import StorageError

ROOT_FILES = ("index.json", "feed.atom", "index.html")


@dataclass(frozen=True)
class PublicGaps:
    missing_pages: tuple[int, ...] = ()  # published documents whose page is not there
    index_problems: tuple[str, ...] = ()  # how the public index differs from the catalog

    def __bool__(self) -> bool:
        return bool(self.missing_pages or self.index_problems)

    def to_json(self) -> dict[str, list[int] | list[str]]:
        return {"missing_pages": list(self.missing_pages),
                "index_problems": list(self.index_problems)}  # fmt: skip


def public_gaps(ctx: Context) -> PublicGaps:
    """Each published document's page (JSON and HTML) is in the public store, and the index
    (root files, the lists of each year) counts and lists what the catalog has published.
    One listing of the pages' keys, and a read of the few index files."""
    published = ctx.catalog.published_ids()
    keys = set(ctx.public.list_keys("documents/"))
    missing = tuple(i for i in published
                    if f"documents/{i}.json" not in keys or f"documents/{i}.html" not in keys)
    # The index lists the published documents that have a moment of publication.
    return PublicGaps(missing, tuple(_index_problems(ctx, ctx.catalog.count_published())))


def _read_json(ctx: Context, key: str) -> dict[str, object] | str:
    """The index file's content, or why it cannot be read."""
    try:
        data = json.loads(ctx.public.get_bytes(key))
    except StorageError as exc:
        return f"{key} 无法读取（{exc}）"
    except ValueError:
        return f"{key} 不是有效的 JSON"
    return data if isinstance(data, dict) else f"{key} 不是 JSON 对象"


def _index_problems(ctx: Context, published: int) -> list[str]:
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
    would; audited per document as `public_page_restored`), and rebuild the whole index if
    anything was missing or stale. Returns what was found (and is now mended)."""
    gaps = public_gaps(ctx)
    if gaps.missing_pages:
        _write_public_pages_many(ctx, ctx.catalog.get_many(list(gaps.missing_pages)))
        for doc_id in gaps.missing_pages:
            ctx.catalog.record_event(doc_id, "public_page_restored", actor=actor, detail={})
    if gaps:
        rebuild_public_index(ctx)
    return gaps
