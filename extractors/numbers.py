"""发文字号 (file numbers): recognise every spelling drafters type and give the canonical form.

Canonical: 机关代字〔年份〕序号号 — hexagonal brackets, ASCII digits, no leading zeros, no 第, no
spaces (`鸿政〔2020〕53号`). Pure functions, regexes compiled once.
"""

from __future__ import annotations

import functools
import re

# Full-width ASCII (！..～) -> ASCII, and the ideographic / no-break spaces -> space. One character
# for one character, so offsets found in the folded text are valid in the original.
FOLD_TABLE: dict[int, int] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
FOLD_TABLE.update({0x3000: 0x20, 0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20})


_FOLD_CACHED_CHARS = 256  # longer texts (a body paragraph) are folded afresh, not kept


@functools.lru_cache(maxsize=4096)
def _fold_short(text: str) -> str:
    return text.translate(FOLD_TABLE)


def fold(text: str) -> str:
    """Full-width digits, letters and punctuation to ASCII; odd spaces to a plain space.
    The field rules fold the same short line several times (dates, numbers, labels): short
    texts are folded once and kept (str.translate with a table is a lookup per character)."""
    if len(text) > _FOLD_CACHED_CHARS:
        return text.translate(FOLD_TABLE)
    return _fold_short(text)


CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")

_OPEN = "〔【(\\[﹝〖〘"
_CLOSE = "〕】)\\]﹞〗〙"
_SP = "[ \\t]*"
# The part after the 机关代字: bracketed year, optional 第, serial, 号. Spaces anywhere.
_CORE = re.compile(
    f"{_SP}[{_OPEN}]{_SP}(?P<year>[0-9](?:{_SP}[0-9]){{3}}){_SP}[{_CLOSE}]{_SP}"
    f"(?:第{_SP})?(?P<serial>[0-9](?:{_SP}[0-9]){{0,7}}){_SP}号"
)
_MAX_CODE = 24  # longest 机关代字 run looked at, left of the bracket

# Words that end the running text in front of a cited number, never part of a 机关代字
# (根据鸿政〔2020〕53号 -> 鸿政). Longest first; checked as "the code starts after the last one".
_BREAK_WORDS = (
    "贯彻落实", "根据", "依据", "依照", "按照", "参照", "遵照", "对照", "贯彻", "落实", "执行",
    "印发", "转发", "下发", "发布", "关于", "通过", "详见", "参见", "文件", "以及", "同时",
    "废止", "撤销", "修改", "修订", "代替", "替代", "停止", "适用", "援引", "引用", "结合",
    "附件", "精神", "要求", "通知", "意见", "决定", "规定",
)
_BREAK_CHARS = frozenset("的及与或并即是在对将把了按据依见和为从由请")
_BREAK_RE = re.compile("|".join(_BREAK_WORDS))

YEAR_MIN, YEAR_MAX = 1949, 2100


def _trim_code(run: str) -> str:
    """The 机关代字 at the end of a run of CJK text (drop the sentence in front of it)."""
    start = 0
    for m in _BREAK_RE.finditer(run):
        start = max(start, m.end())
    for i in range(len(run) - 1, start - 1, -1):
        if run[i] in _BREAK_CHARS:
            start = i + 1
            break
    return run[start:]


def _canonical(code: str, year_text: str, serial_text: str) -> str | None:
    year = int(re.sub(r"\s", "", year_text))
    serial = int(re.sub(r"\s", "", serial_text))
    if not (YEAR_MIN <= year <= YEAR_MAX) or serial < 1 or not code:
        return None
    return f"{code}〔{year}〕{serial}号"


def iter_file_numbers(text: str) -> list[tuple[str, int, int]]:
    """Every file number in `text`: (canonical, start, end) with offsets into `text`."""
    folded = fold(text)
    found: list[tuple[str, int, int]] = []
    prev_end = 0
    for m in _CORE.finditer(folded):
        start = m.start()
        limit = max(prev_end, start - _MAX_CODE)
        j = start
        while j > limit and _CJK_CHAR.match(folded, j - 1):
            j -= 1
        code = _trim_code(folded[j:start])
        canonical = _canonical(code, m.group("year"), m.group("serial"))
        if canonical is None:
            continue
        found.append((canonical, start - len(code), m.end()))
        prev_end = m.end()
    return found


def find_file_numbers(text: str) -> list[str]:
    """Every file number in `text`, canonical, in order of appearance (repeats kept)."""
    return [number for number, _, _ in iter_file_numbers(text)]


_LABEL_PREFIX = re.compile(r"^(?:发文字号|文号|备注/文号|字号)[:：]")
_EDGE_PUNCT = "()（）《》<>「」『』“”\"'‘’.,，。;；:：、"
_WHOLE = re.compile(f"(?P<code>[{CJK_CLASS}]{{1,{_MAX_CODE}}})(?P<core>.+)")


def normalize_file_number(text: str) -> str | None:
    """The canonical form of `text` if `text` is one file number (as typed), else None.

    Accepts [ ] 【】 （） ( ) brackets, full-width digits, spaces anywhere, 第 and leading zeros,
    an optional 文号: label and surrounding punctuation. Running text is not a file number.
    """
    squeezed = re.sub(r"\s+", "", fold(text))
    squeezed = _LABEL_PREFIX.sub("", squeezed).strip(_EDGE_PUNCT)
    m = _WHOLE.fullmatch(squeezed)
    if m is None:
        return None
    core = _CORE.fullmatch(m.group("core"))
    if core is None:
        return None
    code = m.group("code")
    if _trim_code(code) != code:  # 根据鸿政〔2020〕53号 is a sentence, not a number
        return None
    return _canonical(code, core.group("year"), core.group("serial"))
