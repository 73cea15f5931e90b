"""The body of a public record page: the 正文 and 附件 of a document's text, without its 版头
(发文机关标志, 份号, 密级, 文号, 签发人, the title — the page shows those as fields) and its 版记
(抄送, 印发机关 and 印发日期, page numbers), without a disclosure note that is not 主动公开
(a released document still carries its old `（此件不予公开）`), and with the 主送机关, the
signature and the date marked, so that the page sets them flush left and right-aligned.
Pure: text in, blocks out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from gongkai.extractors.dates import date_only
from gongkai.extractors.numbers import normalize_file_number

BlockKind = Literal["salutation", "paragraph", "signature", "date", "note"]

_SPACES = re.compile(r"[\s\u3000]+")
_NOTE = re.compile(r"^[（(]此件.{1,12}[)）]$")
_PUBLIC_NOTE = re.compile(r"主动公开|公开发布")
_HEAD = re.compile(
    r"^(?:.{2,40}文件|\d{1,8}|[绝机]?密?(?:秘密|机密|绝密).{0,12}|特急|加急|签发人[:：].*|"
    r"份号[:：]?\d+)$"
)
_RECORD = re.compile(r"^(?:抄送[:：].*|主送[:：].*|.{2,40}\d{4}年\d{1,2}月\d{1,2}日印发|"
                     r"[—\-–]\s*\d+\s*[—\-–]|主题词[:：].*|[—\-_=]{6,})$")  # fmt: skip
# The 来源/时间 line of a page exported from a portal (the page shows its own).
_SOURCE_LINE = re.compile(r"^来源[:：].*时间[:：].*$")
_SIGNATURE_MAX = 40
_SENTENCE = re.compile(r"[，。；：！？、]")


@dataclass(frozen=True)
class Block:
    kind: BlockKind
    text: str


def _clean(line: str) -> str:
    return _SPACES.sub(" ", line).strip()


def _squash(text: str) -> str:
    return _SPACES.sub("", text)


def _body_start(lines: list[str], title: str | None, file_number: str | None) -> int:
    """Where the 正文 begins: after the title line when it is found near the top, else after
    the leading 版头 lines."""
    if title:
        wanted = _squash(title)
        for i, line in enumerate(lines[:15]):
            if _squash(line) == wanted:
                return i + 1
    start = 0
    while start < len(lines) and (
        _HEAD.match(lines[start])
        or (file_number and normalize_file_number(lines[start]) == file_number)
    ):
        start += 1
    return start


def public_body(text: str, *, title: str | None = None,
                file_number: str | None = None) -> list[Block]:  # fmt: skip
    lines = [c for c in (_clean(line) for line in text.splitlines()) if c]
    lines = lines[_body_start(lines, title, file_number):]
    if lines and _SOURCE_LINE.match(lines[0]):
        lines = lines[1:]
    while lines and _RECORD.match(lines[-1]):
        lines.pop()
    blocks: list[Block] = []
    for line in lines:
        if _NOTE.match(line):
            if _PUBLIC_NOTE.search(line):
                blocks.append(Block("note", line))
            continue
        if _RECORD.match(line) and line.startswith(("抄送", "主题词")):
            continue
        blocks.append(Block("paragraph", line))
    if blocks and len(blocks[0].text) <= 60 and blocks[0].text.endswith(("：", ":")):
        blocks[0] = Block("salutation", blocks[0].text)  # 主送机关, set flush left
    return _mark_signatures(blocks)


def _mark_signatures(blocks: list[Block]) -> list[Block]:
    """A short date-only line is the 成文日期; the short lines without sentence punctuation
    right above it are the signature (one per issuing body)."""
    out = list(blocks)
    for i, block in enumerate(out):
        if block.kind != "paragraph" or len(block.text) > 20 or date_only(block.text) is None:
            continue
        out[i] = Block("date", block.text)
        j = i - 1
        while j >= 0 and i - j <= 3 and out[j].kind == "paragraph" \
                and len(out[j].text) <= _SIGNATURE_MAX and not _SENTENCE.search(out[j].text):
            out[j] = Block("signature", out[j].text)
            j -= 1
    return out
