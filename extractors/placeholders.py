"""Template placeholders: what a blank 公文 template prints where the values belong.

`XX发〔20XX〕XX号`, `〔2020〕XX号`, `狮政〔2020〕　号`, `XXXX人民政府`, `20XX年X月X日`,
`年　月　日`, `{{份号}}`, `${标题}`, `«发文机关»`, `Xxxxxxx`, `×××`. None of them is a value: a
file holding them where a value belongs is a template, not an issued document. Pure string
functions.
"""

from __future__ import annotations

import re

from gongkai.extractors.numbers import fold

# One placeholder token. Letters X/x count only as a run (`XX`, `xxx`, `Xxxxxxx`) standing
# apart from Latin words; `20XX` / `202X` is a year; merge fields and prompts are bracketed.
TOKEN = re.compile(
    r"\{\{[^{}]{0,40}\}\}|\$\{[^{}]{0,40}\}|«[^«»]{1,40}»|<<[^<>]{1,40}>>"
    r"|[\[【(（〔][^\]】)）〕]{0,12}(?:请输入|请填写|在此输入|此处输入|输入标题|填写)[^\]】)）〕]{0,20}[\]】)）〕]"
    r"|(?<![A-Za-z0-9])(?:19|20)[0-9]?[Xx]{1,2}(?![A-Za-z])"
    r"|(?<![A-Za-z])(?:X[Xx]+|x{2,})(?![A-Za-z])"
    r"|×{2,}|＊{2,}|△{2,}"
)
_FILL = r"[Xx×＊*△]"
_SP = r"[ \t]*"
# A 文号 line whose code, year or serial is a placeholder or left blank.
NUMBER = re.compile(
    rf"^(?:(?:发文字号|文号){_SP}:?{_SP})?(?P<code>[^\s〔【\[(﹝]{{0,16}}){_SP}[〔【\[(﹝]{_SP}"
    rf"(?P<year>[0-9Xx×]{{0,4}}){_SP}[〕】\])﹞]{_SP}第?{_SP}(?P<serial>[0-9Xx×]{{0,5}}){_SP}号"
)
# A 成文日期 line with placeholder or blank parts: `20XX年X月X日`, `年　月　日`, `2020年 月 日`.
DATE = re.compile(
    rf"^(?P<y>[0-9Xx×〇○]{{0,4}}){_SP}年{_SP}(?P<m>[0-9Xx×]{{0,2}}){_SP}月{_SP}"
    rf"(?P<d>[0-9Xx×]{{0,2}}){_SP}日$"
)


_GAP_BY_ASCII = re.compile(r"(?<=[0-9A-Za-z])[ \t\u3000]+(?=[^\x00-\x7f])"
                           r"|(?<=[^\x00-\x7f])[ \t\u3000]+(?=[0-9A-Za-z])")
_GAP = re.compile(r"[ \t\u3000]+")


def shown(text: str) -> str:
    """A placeholder as a clerk should see it: without the gaps a PDF shows between Latin and
    Chinese (`XX 发〔20XX〕XX 号`), a blank left in it as one full-width space (`年　月　日`)."""
    return _GAP.sub("\u3000", _GAP_BY_ASCII.sub("", text.strip()))


def tokens(text: str) -> list[str]:
    """The placeholder tokens in `text`, in order."""
    return [m.group(0) for m in TOKEN.finditer(text)]


def _is_filler(part: str) -> bool:
    return not part or re.search(_FILL, part) is not None


def number_placeholder(text: str) -> str | None:
    """The placeholder 文号 at the start of a line (`XX发〔20XX〕XX号`, `〔2020〕XX号`), or None
    for a real number or no number at all."""
    text = shown(text)
    m = NUMBER.match(fold(text))
    if m is None:
        return None
    code, year, serial = m.group("code"), m.group("year"), m.group("serial")
    if len(year) == 4 and year.isdigit() and serial.isdigit() and code and not _is_filler(code):
        return None  # a real number
    if not (_is_filler(code) or len(year) < 4 or not year.isdigit() or _is_filler(serial)):
        return None
    return text[: m.end()]


def date_placeholder(text: str) -> bool:
    """A 成文日期 left as a placeholder: `20XX年X月X日`, `年　月　日`, `2020年 月 日`."""
    m = DATE.match(fold(shown(text)))
    if m is None:
        return False
    parts = (m.group("y"), m.group("m"), m.group("d"))
    return any(not p or re.search(_FILL, p) for p in parts)
