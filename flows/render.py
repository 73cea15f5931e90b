"""The public record of a published document, rendered like the portal page of a 政府信息公开
专栏 (see shared/domain/hongshan-2020-53-work-plan.txt): 索引号, 发布机构, 公文生成日期, 标题,
备注/文号, 发布日期, then the title, 来源/时间, the text and the attachments.

Pure: records in, text out. Every value from a document is escaped (HTML and XML); the pages
carry a Content-Security-Policy that allows no script at all, as a second wall.

Site layout the links assume, all at the root of the public site: `index.html` and `index.json`
(the total, the years with their counts, the latest FEED_SIZE documents), `feed.atom` (the
latest FEED_SIZE documents), one `index-<year>.html` and `index-<year>.json` per year of
publication (every document published that year, in the office's time zone), and each
document at
`documents/<id>.html` and `documents/<id>.json`. A publication rewrites the root files and the
pages of its own year only, so its cost does not grow with the archive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from html import escape as _html_escape
from typing import Any
from urllib.parse import quote, urljoin
from xml.sax.saxutils import escape as xml_escape
from zoneinfo import ZoneInfo

from gongkai.config import DEFAULT_TIMEZONE

# Times are shown, and years of publication counted, in the office's time zone (`zone`, the
# setting GONGKAI_TIMEZONE: Settings.zone); the renderers' default is the setting's default.
DEFAULT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
ATOM_NS = "http://www.w3.org/2005/Atom"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721 deleted entries
DEFAULT_FEED_ID = "urn:gongkai:public-index"
DEFAULT_FEED_TITLE = "政府信息公开 主动公开目录"
FEED_SIZE = 50  # documents in feed.atom and in the "latest" list of index.html / index.json

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"
_STYLE = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;max-width:60em;"
    "margin:2em auto;padding:0 1em;line-height:1.8}"
    "table.meta{border-collapse:collapse;width:100%;margin-bottom:1.5em}"
    "table.meta th,table.meta td{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    "table.meta th{background:#f4f4f4;white-space:nowrap;width:8em}"
    "h1{text-align:center;font-size:1.4em}.source{text-align:center;color:#666}"
    ".text p{text-indent:2em;margin:.4em 0}"
)
# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def escape(text: str) -> str:
    """HTML-escaped text (quotes too), with characters HTML forbids replaced by U+FFFD."""
    return _html_escape(_XML_INVALID.sub("\ufffd", text), quote=True)


# THE public view of a document: every field the public is ever given about it, the same in
# every public output (the anonymous API, documents/<id>.json, index.json, the HTML pages and
# the Atom feed, which show a subset of them). Nothing else about a document is public: no
# sha256, size, file name, page count, cited numbers, state or attribute (those describe the
# original, which a redacted publication keeps non-public). `text` is on the record only (the
# document's own page and GET /documents/{id}), not in the index.
PUBLIC_FIELDS: tuple[str, ...] = (
    "id", "index_number", "publisher", "issuer", "date", "title", "file_number",
    "published_at", "published", "source", "attachments", "url",
)  # fmt: skip
PUBLIC_RECORD_FIELDS: tuple[str, ...] = (*PUBLIC_FIELDS, "text")


@dataclass(frozen=True, slots=True)
class PublicRecord:
    """What the public sees of one published document (see PUBLIC_FIELDS). For a document
    published through a redacted version, every value here comes from that version."""

    id: int | str  # the catalog id: documents/<id>.html
    index_number: str  # 索引号
    publisher: str | None  # 发布机构
    title: str  # 标题
    file_number: str | None  # 备注/文号
    date: date | None  # 公文生成日期 (成文日期)
    published_at: datetime  # 发布日期 and the 时间 of the source line
    text: str = ""  # the public text (the redacted version where there is one)
    attachments: tuple[str, ...] = field(default_factory=tuple)  # 附件 names
    issuer: str | None = None  # 发文机关
    source: str | None = None  # 来源; the publisher (or issuer) when not given

    @property
    def source_name(self) -> str:
        return self.source or self.publisher or self.issuer or ""


def format_index_number(org_code: str, info_class: str, year: int, serial: int) -> str:
    """A 索引号 in the local form `{org}-{class}-{year}-{serial:05d}`: QZ05908-3000-2020-00010."""
    for name, value in (("org code", org_code), ("information class", info_class)):
        if not value or not re.fullmatch(r"[0-9A-Za-z]+", value):
            raise ValueError(f"the {name} of a 索引号 must be letters and digits, not {value!r}")
    if not 1000 <= year <= 9999:
        raise ValueError(f"the year of a 索引号 must have four digits, not {year}")
    if not 1 <= serial <= 99999:
        raise ValueError(f"the serial of a 索引号 must be 1..99999, not {serial}")
    return f"{org_code}-{info_class}-{year}-{serial:05d}"


# --------------------------------------------------------------------------------------------
# shared formatting


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """A moment in the office's time zone (a naive datetime is taken as already local)."""
    return moment.astimezone(zone) if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _published_day(record: PublicRecord, zone: tzinfo) -> str:
    return _local(record.published_at, zone).date().isoformat()


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _page_path(record: PublicRecord) -> str:
    return f"documents/{quote(str(record.id), safe='')}.html"


def _metadata_rows(record: PublicRecord, zone: tzinfo) -> list[tuple[str, str]]:
    # The portal's order.
    return [
        ("索引号", record.index_number),
        ("发布机构", record.publisher or ""),
        ("公文生成日期", _day(record.date)),
        ("标题", record.title),
        ("备注/文号", record.file_number or ""),
        ("发布日期", _published_day(record, zone)),
    ]


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


# --------------------------------------------------------------------------------------------
# one document


def render_record_html(record: PublicRecord, *, zone: tzinfo = DEFAULT_ZONE) -> str:
    """The public page of one document, like the portal's: metadata table, title, source line,
    text as paragraphs, attachments."""
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th><td>{escape(value)}</td></tr>\n'
        for label, value in _metadata_rows(record, zone)
    )
    time = _local(record.published_at, zone).strftime("%Y-%m-%d %H:%M")
    paragraphs = "".join(f"<p>{escape(p)}</p>\n" for p in _paragraphs(record.text))
    attachments = ""
    if record.attachments:
        items = "".join(f"<li>{escape(a)}</li>\n" for a in record.attachments)
        attachments = (
            f'<section class="attachments">\n<h2>附件</h2>\n<ol>\n{items}</ol>\n</section>\n'
        )
    body = (
        '<nav><a href="../index.html">返回目录</a></nav>\n'
        f'<table class="meta">\n<tbody>\n{rows}</tbody>\n</table>\n'
        f"<article>\n<h1>{escape(record.title)}</h1>\n"
        f'<p class="source">来源：{escape(record.source_name)} 时间：{escape(time)}</p>\n'
        f'<div class="text">\n{paragraphs}</div>\n{attachments}</article>\n'
    )
    return _page(record.title, body)


def record_to_dict(
    record: PublicRecord, *, with_text: bool = True, zone: tzinfo = DEFAULT_ZONE
) -> dict[str, Any]:
    """The public record as plain JSON values (dates ISO, published_at with the offset of
    `zone`, e.g. +08:00 for Asia/Shanghai): the
    keys of PUBLIC_RECORD_FIELDS, in that order (PUBLIC_FIELDS without the text)."""
    data: dict[str, Any] = {
        "id": record.id,
        "index_number": record.index_number,
        "publisher": record.publisher,
        "issuer": record.issuer,
        "date": _day(record.date) or None,
        "title": record.title,
        "file_number": record.file_number,
        "published_at": _local(record.published_at, zone).isoformat(timespec="seconds"),
        "published": _published_day(record, zone),
        "source": record.source_name or None,
        "attachments": list(record.attachments),
        "url": _page_path(record),
    }
    if with_text:
        data["text"] = record.text
    return data


def render_record_json(record: PublicRecord, *, zone: tzinfo = DEFAULT_ZONE) -> str:
    """`record_to_dict` as UTF-8-ready JSON text (Chinese kept readable)."""
    return json.dumps(record_to_dict(record, zone=zone), ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# the index


@dataclass(frozen=True, slots=True)
class IndexYear:
    """One year of publication in the root index: its number of documents."""

    year: int
    count: int


def year_index_path(year: int, extension: str) -> str:
    """`index-2020.html`, `index-2020.json`: the list of one year of publication."""
    return f"index-{year}.{extension}"


def publication_year(moment: datetime, zone: tzinfo = DEFAULT_ZONE) -> int:
    """The year of publication of a document published at `moment` (in `zone`)."""
    return _local(moment, zone).year


def year_bounds(year: int, zone: tzinfo = DEFAULT_ZONE) -> tuple[datetime, datetime]:
    """The moments [start, end) of a year of publication, in `zone`."""
    return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)


def _entries(records: Iterable[PublicRecord], zone: tzinfo) -> list[dict[str, Any]]:
    return [record_to_dict(r, with_text=False, zone=zone) for r in records]


def render_index_json(
    recent: Sequence[PublicRecord], years: Sequence[IndexYear], *, zone: tzinfo = DEFAULT_ZONE
) -> str:
    """The root index: the total, each year with its count and lists, the latest documents."""
    data = {
        "count": sum(y.count for y in years),
        "years": [{"year": y.year, "count": y.count, "json": year_index_path(y.year, "json"),
                   "html": year_index_path(y.year, "html")} for y in years],
        "latest": _entries(recent, zone),
    }  # fmt: skip
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render_year_json(
    year: int, records: Sequence[PublicRecord], *, zone: tzinfo = DEFAULT_ZONE
) -> str:
    """Every document published in `year` (without its text), in the order given."""
    data = {"year": year, "count": len(records), "documents": _entries(records, zone)}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _index_table(records: Sequence[PublicRecord], zone: tzinfo) -> str:
    rows = "".join(
        "<tr>"
        f"<td>{escape(r.index_number)}</td>"
        f'<td><a href="{escape(_page_path(r))}">{escape(r.title)}</a></td>'
        f"<td>{escape(r.file_number or '')}</td>"
        f"<td>{escape(r.publisher or '')}</td>"
        f"<td>{escape(_day(r.date))}</td>"
        f"<td>{escape(_published_day(r, zone))}</td>"
        "</tr>\n"
        for r in records
    )
    return (
        '<table class="meta">\n<thead><tr><th>索引号</th><th>标题</th><th>文号</th>'
        "<th>发布机构</th><th>公文生成日期</th><th>发布日期</th></tr></thead>\n"
        f"<tbody>\n{rows}</tbody>\n</table>\n"
    )


def render_index_html(
    recent: Sequence[PublicRecord], years: Sequence[IndexYear], *,
    title: str = DEFAULT_FEED_TITLE, zone: tzinfo = DEFAULT_ZONE,
) -> str:  # fmt: skip
    """The public list's front page: the total, one link per year, the latest documents
    (索引号, 标题 linked, 文号, 发布机构, 公文生成日期, 发布日期)."""
    links = " · ".join(
        f'<a href="{year_index_path(y.year, "html")}">{y.year} 年（{y.count} 件）</a>'
        for y in years
    )
    body = (
        f"<h1>{escape(title)}</h1>\n"
        f'<p>共 {sum(y.count for y in years)} 件 · <a href="feed.atom">Atom</a> · '
        '<a href="index.json">JSON</a></p>\n'
        f'<nav class="years">{links}</nav>\n'
        f"<h2>最新发布</h2>\n{_index_table(recent, zone)}"
    )
    return _page(title, body)


def render_year_html(
    year: int, records: Sequence[PublicRecord], *, title: str = DEFAULT_FEED_TITLE,
    zone: tzinfo = DEFAULT_ZONE,
) -> str:
    """Every document published in `year`, as the front page lists the latest."""
    heading = f"{title} {year} 年"
    body = (
        '<nav><a href="index.html">返回目录</a></nav>\n'
        f"<h1>{escape(heading)}</h1>\n"
        f'<p>共 {len(records)} 件 · <a href="{year_index_path(year, "json")}">JSON</a></p>\n'
        f"{_index_table(records, zone)}"
    )
    return _page(heading, body)


def _xml(text: str) -> str:
    return xml_escape(_XML_INVALID.sub("\ufffd", text), {'"': "&quot;"})


def _entry_id(feed_id: str, doc_id: int) -> str:
    token = quote(str(doc_id), safe="")
    if feed_id.startswith(("http://", "https://")):
        return f"{feed_id.rstrip('/')}/documents/{token}"
    return f"{feed_id}:document:{token}"


def render_index_atom(
    records: Sequence[PublicRecord],
    *,
    updated: datetime,
    feed_id: str = DEFAULT_FEED_ID,
    title: str = DEFAULT_FEED_TITLE,
    base_url: str = "",
    deleted: Sequence[tuple[int, datetime]] = (),
    zone: tzinfo = DEFAULT_ZONE,
) -> str:
    """An Atom 1.0 feed (RFC 4287) of the published documents. `feed_id` is the feed's
    permanent IRI; entry ids derive from it and the document id. Links are relative to the
    site root unless `base_url` is given. `deleted`: (document id, when) of withdrawn
    documents, each an RFC 6721 `at:deleted-entry` whose `ref` is the entry's id. Times in
    `zone`, the office's."""
    if not feed_id or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", feed_id):
        raise ValueError(f"an Atom feed id must be an absolute IRI, not {feed_id!r}")

    def stamp(moment: datetime) -> str:
        return _local(moment, zone).isoformat(timespec="seconds")

    def href(path: str) -> str:
        return urljoin(base_url, path) if base_url else path

    entries = []
    for r in records:
        summary = " ".join(
            part
            for part in (
                f"索引号：{r.index_number}" if r.index_number else "",
                f"文号：{r.file_number}" if r.file_number else "",
                f"公文生成日期：{_day(r.date)}" if r.date else "",
            )
            if part
        )
        author = r.publisher or r.issuer or title
        entries.append(
            "<entry>\n"
            f"<id>{_xml(_entry_id(feed_id, r.id))}</id>\n"
            f"<title>{_xml(r.title)}</title>\n"
            f"<updated>{stamp(r.published_at)}</updated>\n"
            f"<published>{stamp(r.published_at)}</published>\n"
            f"<author><name>{_xml(author)}</name></author>\n"
            f'<link rel="alternate" type="text/html" href="{_xml(href(_page_path(r)))}"/>\n'
            f"<summary>{_xml(summary)}</summary>\n"
            "</entry>\n"
        )
    for doc_id, when in deleted:
        entries.append(
            f'<at:deleted-entry ref="{_xml(_entry_id(feed_id, doc_id))}" '
            f'when="{stamp(when)}"><at:comment>此件已撤回</at:comment></at:deleted-entry>\n'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="{ATOM_NS}" xmlns:at="{TOMBSTONES_NS}" xml:lang="zh-CN">\n'
        f"<id>{_xml(feed_id)}</id>\n"
        f"<title>{_xml(title)}</title>\n"
        f"<updated>{stamp(updated)}</updated>\n"
        f'<link rel="self" type="application/atom+xml" href="{_xml(href("feed.atom"))}"/>\n'
        f'<link rel="alternate" type="text/html" href="{_xml(href("index.html"))}"/>\n'
        f"{''.join(entries)}</feed>\n"
    )
