"""The public index is updated incrementally after each publication (the root files and the
lists of the years published in), and equals a full rebuild from the catalog; on SQLite and
PostgreSQL, real extractors and a real local public store."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lifecycle_docs import make_docx
from service_run import Clock

from gongkai.config import load_settings
from gongkai.flows import render, service
from gongkai.flows.events import MemoryEventSink
from gongkai.flows.service import Context

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ctx(
    database_url: str, gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Context]:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", database_url)
    with Context.open(load_settings(), events=MemoryEventSink()) as context:
        context.clock = Clock(datetime(2020, 6, 1, tzinfo=UTC))
        yield context


def publish_new(ctx: Context, serials: range, at: datetime) -> list[int]:
    """Take in, read and publish one active document per serial, published at `at`."""
    ctx.clock = Clock(at)  # type: ignore[assignment]
    ids = []
    for serial in serials:
        data, truth = make_docx(serial, year=2020)
        ids.append(service.intake(ctx, data, truth.filename, source="test", actor="t").record.id)
    outcomes = service.process(ctx, ids)
    report = service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    assert sorted(r.id for r in report.published) == ids, report.refused
    return ids


def index_files(ctx: Context) -> dict[str, bytes]:
    keys = [i.key for i in ctx.public.list("") if not i.key.startswith("documents/")]
    return {key: ctx.public.get_bytes(key) for key in keys}


def test_incremental_index_equals_a_full_rebuild(ctx: Context) -> None:
    # 23:30 on 31 December in China: still 2020; an hour later it is 2021 there.
    first = publish_new(ctx, range(1, 4), datetime(2020, 12, 31, 15, 30, tzinfo=UTC))
    assert set(index_files(ctx)) == {"index.json", "index.html", "feed.atom",
                                     "index-2020.json", "index-2020.html"}  # fmt: skip
    written_2020 = ctx.public.head("index-2020.json").last_modified

    second = publish_new(ctx, range(4, 6), datetime(2020, 12, 31, 16, 30, tzinfo=UTC))
    # Publishing in 2021 left the list of 2020 alone.
    assert ctx.public.head("index-2020.json").last_modified == written_2020
    later = publish_new(ctx, range(6, 60), datetime(2021, 5, 6, 1, 0, tzinfo=UTC))
    assert ctx.public.head("index-2020.json").last_modified == written_2020

    incremental = index_files(ctx)
    assert service.rebuild_public_index(ctx) == 59
    assert index_files(ctx) == incremental

    root = json.loads(incremental["index.json"])
    assert root["count"] == 59
    assert [(y["year"], y["count"]) for y in root["years"]] == [(2021, 56), (2020, 3)]
    newest_first = (second + later)[::-1]
    assert [d["id"] for d in root["latest"]] == newest_first[: render.FEED_SIZE]
    year_2020 = json.loads(incremental["index-2020.json"])
    year_2021 = json.loads(incremental["index-2021.json"])
    assert [d["id"] for d in year_2020["documents"]] == first[::-1]
    assert [d["id"] for d in year_2021["documents"]] == newest_first
    assert all("text" not in d for d in year_2021["documents"])
    feed = ET.fromstring(incremental["feed.atom"])
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == render.FEED_SIZE
    assert feed.findtext(f"{ATOM}updated") == "2021-05-06T09:00:00+08:00"  # the newest entry
    assert "共 59 件" in incremental["index.html"].decode("utf-8")


def test_rebuild_repairs_a_lost_year_list(ctx: Context) -> None:
    publish_new(ctx, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    publish_new(ctx, range(3, 4), datetime(2021, 7, 1, tzinfo=UTC))
    before = index_files(ctx)
    # A stale list for a year nothing is published in (left by an older catalog) is emptied.
    ctx.public.put("index-2019.json", b"{}", content_type="application/json")
    ctx.public.put("index-2020.json", b"broken", content_type="application/json")
    assert service.rebuild_public_index(ctx) == 3
    after = index_files(ctx)
    assert after["index-2020.json"] == before["index-2020.json"]
    assert json.loads(after["index-2019.json"]) == {"year": 2019, "count": 0, "documents": []}
    assert {k: v for k, v in after.items() if not k.startswith("index-2019")} == before


def test_incremental_index_after_a_withdrawal_equals_a_full_rebuild(ctx: Context) -> None:
    old = publish_new(ctx, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    publish_new(ctx, range(3, 5), datetime(2021, 7, 1, tzinfo=UTC))
    ctx.clock = Clock(datetime(2021, 8, 1, tzinfo=UTC))  # type: ignore[assignment]
    service.withdraw(ctx, old[0], reason="内容有误", actor="reviewer")
    incremental = index_files(ctx)
    assert [d["id"] for d in json.loads(incremental["index-2020.json"])["documents"]] == [old[1]]
    assert b"deleted-entry" in incremental["feed.atom"]
    assert service.rebuild_public_index(ctx) == 3
    assert index_files(ctx) == incremental
