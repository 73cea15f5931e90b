"""Dates as official documents write them, to ISO `YYYY-MM-DD`.

2020年9月15日, 2020年09月15日, full-width digits, 二〇二〇年九月十五日 (zero written 〇, ○, 零 or an
O-like letter), 2020-09-15, 2020.9.15, 2020/9/15. Impossible calendar dates are not dates.
"""

from __future__ import annotations

import datetime as dt
import re

from gongkai.extractors.numbers import fold

_SP = "[ \\t]*"
_ZERO_LIKE = "〇○◯零Oo0ОоΟο"
_CN_DIGIT = {c: 0 for c in _ZERO_LIKE} | {
    c: i for i, c in enumerate("一二三四五六七八九", start=1)
}
_CN_YEAR_CHARS = _ZERO_LIKE + "一二三四五六七八九"

_ARABIC = re.compile(
    f"(?<![0-9])(?P<y>[0-9]{{4}}){_SP}年{_SP}(?P<m>[0-9]{{1,2}}){_SP}月{_SP}"
    f"(?P<d>[0-9]{{1,2}}){_SP}日"
)
_DELIMITED = re.compile(
    r"(?<![0-9A-Za-z./\-])(?P<y>[0-9]{4})(?P<sep>[-./])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})"
    r"(?![0-9./\-])"
)
_CHINESE = re.compile(
    f"(?P<y>[{_CN_YEAR_CHARS}]{{4}}){_SP}年{_SP}(?P<m>十[一二]?|[一二三四五六七八九]){_SP}月{_SP}"
    f"(?P<d>[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九]){_SP}日"
)


def _cn_small(text: str) -> int:
    """一..三十九 written with 十 (十, 十五, 二十, 三十一)."""
    if "十" not in text:
        return _CN_DIGIT[text]
    tens, _, units = text.partition("十")
    return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[units] if units else 0)


def _iso(year: int, month: int, day: int) -> str | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _from_match(m: re.Match[str]) -> str | None:
    if m.re is _CHINESE:
        year = int("".join(str(_CN_DIGIT[c]) for c in m.group("y")))
        return _iso(year, _cn_small(m.group("m")), _cn_small(m.group("d")))
    return _iso(int(m.group("y")), int(m.group("m")), int(m.group("d")))


_PATTERNS = (_ARABIC, _CHINESE, _DELIMITED)


def find_dates(text: str) -> list[tuple[str | None, int, int]]:
    """Every date-shaped span in `text`, in order: (ISO or None if impossible, start, end)."""
    folded = fold(text)
    spans: list[tuple[str | None, int, int]] = []
    for pattern in _PATTERNS:
        for m in pattern.finditer(folded):
            if any(s < m.end() and m.start() < e for _, s, e in spans):
                continue
            spans.append((_from_match(m), m.start(), m.end()))
    spans.sort(key=lambda span: span[1])
    return spans


def date_only(text: str) -> str | None:
    """ISO date if `text` is nothing but one date (spaces allowed), else None."""
    folded = fold(text).strip()
    for pattern in _PATTERNS:
        m = pattern.fullmatch(folded)
        if m is not None:
            return _from_match(m)
    return None


def is_date_shaped(text: str) -> bool:
    """True if `text` is one date-shaped span, valid or not (an impossible date is still a date
    line in the layout)."""
    folded = fold(text).strip()
    if "日" not in folded and "-" not in folded and "." not in folded and "/" not in folded:
        return False  # every pattern ends in 日 or holds its separator: most lines are not dates
    return any(p.fullmatch(folded) for p in _PATTERNS)


def parse_date(text: str) -> str | None:
    """ISO `YYYY-MM-DD` of the date `text` is (or of the first date in it); None if there is
    none or it is not a real calendar date."""
    whole = date_only(text)
    if whole is not None or is_date_shaped(text):
        return whole
    spans = find_dates(text)
    return spans[0][0] if spans else None
