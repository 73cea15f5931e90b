"""The public record: the portal-like HTML page, JSON, and the index as JSON, Atom and HTML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from gongkai.flows import render
from gongkai.flows.render import PublicRecord, format_index_number

ATOM = "{http://www.w3.org/2005/Atom}"
VOID = {"meta", "link", "br", "hr", "img", "input"}

HONGSHAN_TEXT = """各村委会,镇机关各办(中心、站、所):

  为全面推进我镇政务公开工作标准化规范化,结合我镇实际制定《鸿山镇政务公开标准化规范化工作方案》,现印发给你们,请认真贯彻执行。

石狮市鸿山镇人民政府
2020年9月15日
   (此件主动公开)
"""


def hongshan(**changes: object) -> PublicRecord:
    record = PublicRecord(
        id=10,
        index_number="QZ05908-3000-2020-00010",
        publisher="石狮市鸿山镇人民政府",
        issuer="石狮市鸿山镇人民政府",
        date=date(2020, 9, 15),
        title="石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        file_number="鸿政〔2020〕53号",
        published_at=datetime(2020, 9, 15, 1, 57, tzinfo=UTC),  # 09:57 in China
        text=HONGSHAN_TEXT,
        attachments=("鸿山镇政务公开标准化规范化工作方案",),
        source="鸿山镇人民政府",
    )
    from dataclasses import replace

    return replace(record, **changes)


class Page(HTMLParser):
    """Collects the structure of a page and checks that every element is closed in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self.text_by_tag: dict[str, list[str]] = {}
        self.doctype: str | None = None
        self.feed(html)
        self.close()
        assert self.stack == [], f"unclosed elements: {self.stack}"

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.setdefault(tag, []).append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and data.strip():
            self.text_by_tag.setdefault(self.stack[-1], []).append(data.strip())


def test_index_number_format() -> None:
    assert format_index_number("QZ05908", "3000", 2020, 10) == "QZ05908-3000-2020-00010"
    assert format_index_number("QZ05908", "3000", 2026, 99999) == "QZ05908-3000-2026-99999"
    for bad in [
        ("QZ-1", "3000", 2020, 1),
        ("", "3000", 2020, 1),
        ("QZ", "30 0", 2020, 1),
        ("QZ", "3000", 20, 1),
        ("QZ", "3000", 2020, 0),
        ("QZ", "3000", 2020, 100000),
    ]:
        with pytest.raises(ValueError):
            format_index_number(*bad)  # type: ignore[arg-type]


def test_the_record_page_follows_the_portal() -> None:
    html = render.render_record_html(hongshan())
    page = Page(html)
    assert page.doctype is not None and page.doctype.lower() == "doctype html"
    assert page.attrs["html"] == [{"lang": "zh-CN"}]
    assert page.attrs["meta"][0] == {"charset": "utf-8"}
    assert page.text_by_tag["th"] == ["索引号", "发布机构", "公文生成日期", "标题", "备注/文号",
                                      "发布日期"]  # fmt: skip
    assert page.text_by_tag["td"] == [
        "QZ05908-3000-2020-00010", "石狮市鸿山镇人民政府", "2020-09-15",
        "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        "鸿政〔2020〕53号", "2020-09-15",
    ]  # fmt: skip
    assert page.text_by_tag["h1"] == [hongshan().title]
    # The metadata table comes first, then the title, then the text.
    assert page.tags.index("table") < page.tags.index("h1") < page.tags.index("div")
    paragraphs = page.text_by_tag["p"]
    assert paragraphs[0] == "来源：鸿山镇人民政府 时间：2020-09-15 09:57"
    assert paragraphs[1:] == [
        "各村委会,镇机关各办(中心、站、所):",
        "为全面推进我镇政务公开工作标准化规范化,结合我镇实际制定《鸿山镇政务公开标准化规范化工作方案》,"
        "现印发给你们,请认真贯彻执行。",
        "石狮市鸿山镇人民政府", "2020年9月15日", "(此件主动公开)",
    ]  # fmt: skip
    assert page.text_by_tag["li"] == ["鸿山镇政务公开标准化规范化工作方案"]
    assert page.text_by_tag["h2"] == ["附件"]


def test_everything_is_escaped() -> None:
    nasty = '<script>alert("标题")</script> & \'quoted\' "double"'
    record = hongshan(
        title=nasty,
        text=f"第一段 {nasty}\n<img src=x onerror=alert(1)>",
        publisher='"><script>x</script>',
        file_number="<b>鸿政〔2020〕53号</b>",
        index_number='Q"Z',
        attachments=("<iframe src=//evil>",),
        source="</p><script>",
    )
    html = render.render_record_html(record)
    assert "<script" not in html.lower()
    assert "<img" not in html and "<iframe" not in html and "<b>" not in html
    page = Page(html)
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "nav", "a",
                              "table", "tbody", "tr", "th", "td", "article", "h1", "p", "div",
                              "section", "h2", "ol", "li"}  # fmt: skip
    # The text survives exactly, as text.
    assert page.text_by_tag["h1"] == [nasty]
    assert page.text_by_tag["title"] == [nasty]
    assert f"第一段 {nasty}" in page.text_by_tag["p"]
    assert page.text_by_tag["li"] == ["<iframe src=//evil>"]
    assert "&lt;script&gt;alert(&quot;标题&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in html
    # No script may run even if something slipped through.
    assert "default-src 'none'" in html


def test_control_characters_do_not_reach_the_page() -> None:
    html = render.render_record_html(hongshan(title="标题\x00\x08尾"))
    assert "\x00" not in html and "\x08" not in html
    assert "标题\ufffd\ufffd尾" in html


def test_record_json() -> None:
    data = json.loads(render.render_record_json(hongshan()))
    assert data == {
        "id": 10,
        "index_number": "QZ05908-3000-2020-00010",
        "publisher": "石狮市鸿山镇人民政府",
        "issuer": "石狮市鸿山镇人民政府",
        "date": "2020-09-15",
        "title": hongshan().title,
        "file_number": "鸿政〔2020〕53号",
        "published_at": "2020-09-15T09:57:00+08:00",
        "published": "2020-09-15",
        "source": "鸿山镇人民政府",
        "attachments": ["鸿山镇政务公开标准化规范化工作方案"],
        "url": "documents/10.html",
        "text": HONGSHAN_TEXT,
    }
    assert "鸿政〔2020〕53号" in render.render_record_json(hongshan())  # readable, not \\u escapes
    bare = render.record_to_dict(hongshan(date=None, file_number=None, source=None, publisher=None))
    assert (bare["date"], bare["file_number"], bare["source"]) == (
        None,
        None,
        "石狮市鸿山镇人民政府",
    )


def test_a_late_evening_in_utc_is_the_next_day_in_china() -> None:
    record = hongshan(published_at=datetime(2020, 9, 15, 17, 30, tzinfo=UTC))
    assert render.record_to_dict(record)["published"] == "2020-09-16"
    naive = hongshan(published_at=datetime(2020, 9, 15, 17, 30))  # taken as China time
    assert render.record_to_dict(naive)["published_at"] == "2020-09-15T17:30:00+08:00"


def _records() -> list[PublicRecord]:
    return [
        hongshan(),
        hongshan(id=11, index_number="QZ05908-3000-2020-00011", title='<a href="x">&amp;</a>',
                 file_number=None, publisher=None, issuer=None, text="",
                 published_at=datetime(2020, 10, 9, 2, 0, tzinfo=UTC)),
    ]  # fmt: skip


def test_index_json() -> None:
    years = [render.IndexYear(2020, 2), render.IndexYear(2019, 5)]
    data = json.loads(render.render_index_json(_records(), years))
    assert data["count"] == 7
    assert data["years"] == [
        {"year": 2020, "count": 2, "json": "index-2020.json", "html": "index-2020.html"},
        {"year": 2019, "count": 5, "json": "index-2019.json", "html": "index-2019.html"},
    ]
    assert [d["url"] for d in data["latest"]] == ["documents/10.html", "documents/11.html"]
    assert all("text" not in d for d in data["latest"])
    assert json.loads(render.render_index_json([], [])) == {"count": 0, "years": [], "latest": []}


def test_year_json() -> None:
    data = json.loads(render.render_year_json(2020, _records()))
    assert (data["year"], data["count"]) == (2020, 2)
    assert [d["id"] for d in data["documents"]] == [10, 11]
    assert all("text" not in d for d in data["documents"])


def test_publication_year_is_the_year_in_china() -> None:
    assert render.publication_year(datetime(2020, 12, 31, 16, 30, tzinfo=UTC)) == 2021
    assert render.publication_year(datetime(2020, 12, 31, 15, 59, tzinfo=UTC)) == 2020
    start, end = render.year_bounds(2021)
    assert start.astimezone(UTC) == datetime(2020, 12, 31, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2021, 12, 31, 16, 0, tzinfo=UTC)


def test_index_atom_is_valid_atom() -> None:
    updated = datetime(2020, 10, 9, 3, 0, tzinfo=UTC)
    feed_xml = render.render_index_atom(
        _records(), updated=updated, feed_id="https://gov.example/gongkai/", title="鸿山镇 & 公开"
    )
    root = ET.fromstring(feed_xml.encode("utf-8"))
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}id") == "https://gov.example/gongkai/"
    assert root.findtext(f"{ATOM}title") == "鸿山镇 & 公开"
    assert root.findtext(f"{ATOM}updated") == "2020-10-09T11:00:00+08:00"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert ids == ["https://gov.example/gongkai/documents/10",
                   "https://gov.example/gongkai/documents/11"]  # fmt: skip
    assert entries[1].findtext(f"{ATOM}title") == '<a href="x">&amp;</a>'
    for entry in entries:  # RFC 4287 4.1.2: id, title, updated; author as the feed has none
        for child in ("id", "title", "updated", "author/" + ATOM + "name"):
            assert entry.findtext(f"{ATOM}{child}"), child
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("rel") == "alternate"
    assert entries[0].find(f"{ATOM}link").get("href") == "documents/10.html"  # type: ignore[union-attr]
    assert entries[1].findtext(f"{ATOM}author/{ATOM}name") == "鸿山镇 & 公开"  # no publisher
    assert "鸿政〔2020〕53号" in (entries[0].findtext(f"{ATOM}summary") or "")


def test_atom_with_a_base_url_and_a_default_urn() -> None:
    feed_xml = render.render_index_atom(_records(), updated=datetime(2020, 10, 9, tzinfo=UTC),
                                        base_url="https://gov.example/public/")  # fmt: skip
    root = ET.fromstring(feed_xml)
    assert root.findtext(f"{ATOM}id") == "urn:gongkai:public-index"
    entry = root.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}id") == "urn:gongkai:public-index:document:10"
    assert entry.find(f"{ATOM}link").get("href") == "https://gov.example/public/documents/10.html"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="absolute IRI"):
        render.render_index_atom([], updated=datetime.now(UTC), feed_id="not an iri")


def test_atom_survives_control_characters() -> None:
    feed_xml = render.render_index_atom([hongshan(title="a\x0bb")], updated=datetime.now(UTC))
    root = ET.fromstring(feed_xml)
    assert root.find(f"{ATOM}entry/{ATOM}title").text == "a\ufffdb"  # type: ignore[union-attr]


def test_index_html() -> None:
    html = render.render_index_html(_records(), [render.IndexYear(2020, 2),
                                                 render.IndexYear(2019, 5)])  # fmt: skip
    page = Page(html)
    assert page.attrs["html"] == [{"lang": "zh-CN"}]
    hrefs = [a.get("href") for a in page.attrs["a"]]
    assert hrefs == ["feed.atom", "index.json", "index-2020.html", "index-2019.html",
                     "documents/10.html", "documents/11.html"]  # fmt: skip
    assert "共 7 件" in html and "2019 年（5 件）" in html
    assert page.text_by_tag["a"][-1] == '<a href="x">&amp;</a>'
    assert page.text_by_tag["th"] == [
        "索引号",
        "标题",
        "文号",
        "发布机构",
        "公文生成日期",
        "发布日期",
    ]
    assert "QZ05908-3000-2020-00011" in page.text_by_tag["td"]
    assert "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;" in html


def test_year_html() -> None:
    html = render.render_year_html(2020, _records())
    page = Page(html)
    hrefs = [a.get("href") for a in page.attrs["a"]]
    assert hrefs == ["index.html", "index-2020.json", "documents/10.html", "documents/11.html"]
    assert "共 2 件" in html
    assert "QZ05908-3000-2020-00011" in page.text_by_tag["td"]


def test_times_are_shown_in_the_zone_given() -> None:
    from zoneinfo import ZoneInfo

    urumqi = ZoneInfo("Asia/Urumqi")  # UTC+6: 07:57 where China Standard Time says 09:57
    data = render.record_to_dict(hongshan(), zone=urumqi)
    assert data["published_at"] == "2020-09-15T07:57:00+06:00"
    assert "时间：2020-09-15 07:57" in render.render_record_html(hongshan(), zone=urumqi)
    feed = ET.fromstring(render.render_index_atom(
        _records(), updated=datetime(2020, 10, 9, 3, 0, tzinfo=UTC), zone=urumqi))  # fmt: skip
    assert feed.findtext(f"{ATOM}updated") == "2020-10-09T09:00:00+06:00"
    assert render.publication_year(datetime(2020, 12, 31, 17, 0, tzinfo=UTC), urumqi) == 2020
    assert render.year_bounds(2021, urumqi)[0].astimezone(UTC) == datetime(
        2020, 12, 31, 18, 0, tzinfo=UTC)
