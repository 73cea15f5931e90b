"""The grammar of a 公文 title (标题, GB/T 9704-2012 7.3.1): where it ends.

A title is 发文机关 + 关于 + 事由 + 的 + 文种, printed over one to three (rarely four) centred
lines. It ends with its 文种 (通知, 意见, 方案, 年度报告 …), perhaps followed by a short parenthesis
(`（试行）`, `（第九版）`, `（征求意见稿）`); it never ends inside an open bracket pair 《…》（…）
“…” 〈…〉. Lines that carry on a title that already looks complete start with its tail:
`的通知`, `（第九版）的通知`, `（试行第十版）`, `》的通知`. Pure string functions.
"""

from __future__ import annotations

import re

from gongkai.extractors.dates import find_dates
from gongkai.extractors.numbers import fold, iter_file_numbers

# 文种: the 15 kinds of GB/T 9704 / 《党政机关公文处理工作条例》 and what offices also print as
# titles (plans, rules, lists, reports of a year).
TYPE_WORDS = (
    "通知|决定|意见|方案|报告|请示|批复|复函|函|纪要|通报|公告|通告|办法|规定|规划|决议|命令|令|议案"
    "|公报|细则|规则|要点|计划|总结|答复|说明|指引|指南|预案|标准|条例|章程|制度|清单|目录|名录"
    "|名单|安排|公示|决算|预算|白皮书|纲要|准则|守则|须知|问答|解读|协议|备忘录|讲话|建议|提案"
)
TITLE_END = re.compile(f"(?:{TYPE_WORDS})(?:\\([^()]{{1,16}}\\))?$")

_OPEN_CLOSE = (("《", "》"), ("(", ")"), ("〈", "〉"), ("“", "”"), ("【", "】"), ("[", "]"))
_TAIL_START = ("的", "》", "〉", ")", "”", "之", "及", "和", "与")
_VERSION = re.compile(r"^\((?P<inner>[^()]{1,16})\)(?P<rest>.*)$")
# A version / status note that belongs to a title: （试行）（第九版）（2021年修订）（征求意见稿）.
_VERSION_WORDS = re.compile(
    r"试行|暂行|修订|修正|第[0-9一二三四五六七八九十百]+版|版|稿|草案|送审|节选|全文|摘要|[0-9]{4}年"
)
_ATTACHMENT_LABEL = re.compile(
    r"^附\s*件\s*[0-9一二三四五六七八九十]{0,3}(?:\s*[-—－]\s*[0-9]{1,2})?\s*[:：]?$"
)


def tight(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))


def open_brackets(text: str) -> bool:
    """True while a bracket pair opened in `text` is not closed (《…, （…, “…)."""
    folded = fold(text)
    return any(folded.count(a) > folded.count(b) for a, b in _OPEN_CLOSE)


def is_complete(text: str) -> bool:
    """A title that could end here: it ends with a 文种 (and perhaps a version note) and no
    bracket is left open."""
    t = tight(text)
    return TITLE_END.search(t) is not None and not open_brackets(t)


def is_version_note(text: str) -> bool:
    """`（试行第十版）`, `（第九版）的通知`: a parenthesis that belongs to the title above it, not a
    附注 (`（此件主动公开）`), a 题注 with a date, or a cited number."""
    t = tight(text)
    m = _VERSION.match(t)
    if m is None or "此件" in t or ":" in t or iter_file_numbers(t) or find_dates(t):
        return False
    rest = m.group("rest")
    return (not rest and _VERSION_WORDS.search(m.group("inner")) is not None) or (
        bool(rest) and is_complete(rest)
    )


def is_tail(joined: str, nxt: str) -> bool:
    """True if line `nxt` carries on the title `joined` (which may already look complete)."""
    t = tight(nxt)
    if not t:
        return False
    if open_brackets(joined):
        return True
    if is_version_note(t):
        return True
    return t.startswith(_TAIL_START) and is_complete(joined + t)


def is_attachment_label(text: str) -> bool:
    """`附件2`, `附件 1-3`, `附件：`: the label over an attachment's own heading."""
    return _ATTACHMENT_LABEL.match(fold(text).strip()) is not None
