"""The public site shows times in the office's time zone (GONGKAI_TIMEZONE), not always
+08:00: the document's page and JSON, the year lists and the Atom feed, and the year a document
is listed under is its year of publication there. A real catalog and local public store."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lifecycle_docs import make_docx
from service_run import Clock

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.service import Context

ATOM = "{http://www.w3.org/2005/Atom}"
# 23:00 on New Year's Eve in Urumqi (UTC+6); already 01:00 on 1 January 2021 in Shanghai.
PUBLISHED = datetime(2020, 12, 31, 17, 0, tzinfo=UTC)


@pytest.fixture
def urumqi(gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("GONGKAI_TIMEZONE", "Asia/Urumqi")
    with Context.open(load_settings()) as context:
        context.clock = Clock(PUBLISHED)
        yield context


def read(ctx: Context, key: str) -> str:
    return ctx.public.get_bytes(key).decode("utf-8")


def test_public_files_show_the_office_time_zone(urumqi: Context) -> None:
    ctx = urumqi
    data, truth = make_docx(3, year=2020)
    doc = service.intake(ctx, data, truth.filename, source="test", actor="t").record.id
    assert [o.to_publish for o in service.process(ctx, [doc])] == [True]
    assert [r.id for r in service.publish(ctx, [doc]).published] == [doc]

    record = json.loads(read(ctx, f"documents/{doc}.json"))
    assert record["published_at"] == "2020-12-31T23:00:00+06:00"
    assert record["published"] == "2020-12-31"
    assert "时间：2020-12-31 23:00" in read(ctx, f"documents/{doc}.html")
    # Listed under 2020, its year of publication in Urumqi (2021 in Shanghai).
    year = json.loads(read(ctx, "index-2020.json"))
    assert [d["id"] for d in year["documents"]] == [doc]
    assert year["documents"][0]["published_at"] == "2020-12-31T23:00:00+06:00"
    assert not ctx.public.exists("index-2021.json")
    assert json.loads(read(ctx, "index.json"))["years"][0]["year"] == 2020
    feed = ET.fromstring(read(ctx, "feed.atom").encode("utf-8"))
    assert feed.findtext(f"{ATOM}updated") == "2020-12-31T23:00:00+06:00"
    assert feed.findtext(f"{ATOM}entry/{ATOM}published") == "2020-12-31T23:00:00+06:00"
    assert "+08:00" not in read(ctx, "feed.atom")
    assert "<td>2020-12-31</td>" in read(ctx, "index.html")
