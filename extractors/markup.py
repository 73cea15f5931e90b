"""Web exports whose text still carries markup: a markdown or HTML header block above the
document (`**文号：**鸿政〔2020〕53号`, `| 索引号 | QZ05908-… |`, `<td>发文字号：</td>`, `# 标题`).

The markup is not the document's text: it is removed from every line when the first lines
show it, so the labels and the title read as they do on the page. A document without such
lines is left exactly as it is (and costs one scan of its first lines). Pure.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

from gongkai.extractors.model import Line

_SIGNALS = re.compile(
    r"^\s*(?:#{1,6}\s|\|.*\||```|---+\s*$)|</?(?:p|div|span|td|th|tr|table|br|h[1-6]|li|b|strong"
    r"|font)\b[^<>]*>|\*\*[^*]+\*\*|&(?:nbsp|lt|gt|amp|emsp|ensp);",
    re.IGNORECASE,
)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^<>]{0,300}>|<!--.*?-->")
_HEADING = re.compile(r"^\s*(?:#{1,6}|>+)\s+")
_EMPHASIS = re.compile(r"\*\*|__|`+")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|\-]*-{3,}[\s:|\-]*\|?\s*$")
_FENCE = re.compile(r"^\s*```")
_LOOK_AT = 60


def has_markup(lines: list[Line]) -> bool:
    return any(_SIGNALS.search(line.text) for line in lines[:_LOOK_AT])


def _plain(text: str) -> str:
    if _TABLE_RULE.match(text) or _FENCE.match(text):
        return ""
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _HEADING.sub("", text)
    text = _EMPHASIS.sub("", text)
    if "|" in text:  # a markdown table row: its cells, separated as a printed table's
        text = "  ".join(cell.strip() for cell in text.strip().strip("|").split("|"))
    return text.strip()


def without_markup(lines: list[Line]) -> list[Line]:
    """The lines with markdown / HTML markup removed, if the document carries any."""
    if not has_markup(lines):
        return lines
    out: list[Line] = []
    for line in lines:
        text = _plain(line.text)
        if text:
            out.append(replace(line, text=text) if text != line.text else line)
    return out
