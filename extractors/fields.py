"""Reading an official document's metadata from the lines a reader found (GB/T 9704-2012).

`read_fields(ParsedDocument) -> DocumentMetadata` is the brain of extraction. It knows three
shapes of file: a document (版头 / 主体 / 版记), a drafting cover sheet (发文稿纸: a table of labels
and values) possibly followed by the document, and a portal export (`• 索 引 号:…` lines, then the
document). Every value says where it was found (`provenance`); doubts go to `warnings`, and
contradictions that must stop publication go to `conflicts`.

Publishing is decided on these fields, so a value is only taken from the place the standard puts
it: the 文号 from the 版头 (never a number cited in the body), the 公开属性 from the 附注 / 版记 /
cover sheet / portal (never from body prose), the 密级 from the 版头 or cover sheet. Missing is
better than wrong. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gongkai.extractors import placeholders
from gongkai.extractors.dates import date_only, find_dates, is_date_shaped, parse_date
from gongkai.extractors.glyphs import printed_lines
from gongkai.extractors.issuers import (
    ORG_END,
    flag_organs,
    is_flag_text,
    is_organ,
    is_seal_note,
    organs_in_line,
    organs_of_title,
    title_organs,
    without_seal_note,
)
from gongkai.extractors.markup import without_markup
from gongkai.extractors.model import (
    DocumentMetadata,
    Line,
    ParsedDocument,
)
from gongkai.extractors.numbers import (
    find_file_numbers,
    fold,
    iter_file_numbers,
    normalize_file_number,
)
from gongkai.extractors.titles import TITLE_END, is_attachment_label, is_complete, is_tail

__all__ = [
    "disclosure_values",
    "find_file_numbers",
    "normalize_disclosure",
    "normalize_file_number",
    "note_reason",
    "parse_date",
    "read_fields",
]

# ---------------------------------------------------------------------------------------------
# 公开属性 phrases
# ---------------------------------------------------------------------------------------------

# Alternation order matters: at one position the longer, negated phrase wins (不予公开 before 公开).
_DISCLOSURE_RE = re.compile(
    r"不予主动公开|不主动公开|依[ \t]*申[ \t]*请[ \t]*公[ \t]*开|删[ \t]*减[ \t]*后[ \t]*公[ \t]*开"
    r"|部[ \t]*分[ \t]*公[ \t]*开|不[ \t]*予[ \t]*公[ \t]*开|免[ \t]*[予于][ \t]*公[ \t]*开"
    r"|非[ \t]*公[ \t]*开|不[ \t]*公[ \t]*开|主[ \t]*动[ \t]*公[ \t]*开|公[ \t]*开[ \t]*发[ \t]*布"
)
_AMBIGUOUS = "ambiguous"  # 不主动公开: not active, but is it on request or withheld? A person says.


def _phrase_value(phrase: str) -> str:
    p = re.sub(r"\s", "", phrase)
    if p in ("不予主动公开", "不主动公开"):
        return _AMBIGUOUS
    if p == "依申请公开":
        return "on_request"
    if p in ("删减后公开", "部分公开"):
        return "partial"
    if p in ("不予公开", "免予公开", "免于公开", "非公开", "不公开"):
        return "withheld"
    return "active"  # 主动公开, 公开发布


_CHECKED = "☑☒■√✓✔▣●◉"
_UNCHECKED = "□☐○◯"
_BOX_ITEM = re.compile(f"([{_CHECKED}{_UNCHECKED}])\\s*([^{_CHECKED}{_UNCHECKED}]*)")


def disclosure_values(text: str) -> list[str]:
    """Every distinct disclosure value stated in `text`, in order (may hold `ambiguous`).

    A cover sheet may print all three choices as check boxes (☑主动公开 □依申请公开 □不予公开):
    then only the checked ones count.
    """
    folded = fold(text)
    if any(c in folded for c in _CHECKED + _UNCHECKED):
        chosen = " ".join(item for mark, item in _BOX_ITEM.findall(folded) if mark in _CHECKED)
        folded = chosen
    values: list[str] = []
    for m in _DISCLOSURE_RE.finditer(folded):
        value = _phrase_value(m.group(0))
        if value not in values:
            values.append(value)
    return values


def normalize_disclosure(text: str) -> str | None:
    """active / on_request / withheld / partial for a 公开属性 phrase; None if `text` states none,
    states two different ones, or states one that does not say which (不主动公开)."""
    values = disclosure_values(text)
    if len(values) != 1 or values[0] == _AMBIGUOUS:
        return None
    return values[0]


# What a 附注 says after its phrase to give the reason: （此件不予公开，理由：过程性信息）,
# （此件不公开，属于过程性信息）, （此件不予公开，原因是涉及个人隐私）.
_NOTE_REASON_LEAD = re.compile(
    r"[\s,;:、。.]*(?:(?:不予?公开|不公开)?(?:理由|原因|依据)\s*(?:为|是)?\s*[:]?|属于|系|因为?)?\s*"
)
_NOTE_REASON_TAIL = re.compile(r"[\s)。.,;]+$")


def note_reason(note: str) -> str | None:
    """The reason a 附注 gives for its 公开属性 (`（此件不公开，属于过程性信息）` -> 过程性信息), or
    None when it gives none. Only what follows the disclosure phrase counts."""
    folded = fold(note)  # same length as `note`: the reason is cut from the note as written
    phrases = list(_DISCLOSURE_RE.finditer(folded))
    if not phrases:
        return None
    start = phrases[-1].end()
    lead = _NOTE_REASON_LEAD.match(folded, start)
    start = lead.end() if lead else start
    tail = _NOTE_REASON_TAIL.search(folded, start)
    end = tail.start() if tail else len(folded)
    return note[start:end].strip() or None


# Most restrictive first: when sources disagree the document is held back, never published.
_RESTRICTIVENESS = ("withheld", "on_request", "partial", "active")

# ---------------------------------------------------------------------------------------------
# Line shapes
# ---------------------------------------------------------------------------------------------

_WS = re.compile(r"\s+")
_TITLE_END = TITLE_END
_ORG_END = ORG_END
_RULE_LINE = re.compile(r"^[\-—–_=━─―‐·•.★☆*\s]+$")
_PAGE_NO = re.compile(
    r"^[\-—–]?\s*[0-9]{1,3}\s*[\-—–]?$|^第\s*[0-9]{1,3}\s*页(?:\s*共\s*[0-9]+\s*页)?$"
)
_MARKS = re.compile(
    r"^(?:份号:?)?(?P<copy>[0-9]{6})?"
    r"(?:(?P<level>绝密|机密|秘密)[★☆*]?"
    r"(?P<period>[0-9一二三四五六七八九十]+(?:年|个月)|启用前|长期|永久)?)?"
    r"(?P<urgency>特急|加急)?$"
)
_SIGNER = re.compile(r"签[ \t]*发[ \t]*人[ \t]*[:]?[ \t]*(?P<name>.*)$")
_CC = re.compile(r"^抄[ \t]*送(?:机关)?[ \t]*[:][ \t]*(?P<value>.*)$")
_ATTACH = re.compile(r"^附[ \t]*件[ \t]*[:][ \t]*(?P<value>.*)$")
_ITEM_NO = re.compile(r"^(?:[0-9]{1,2}[ \t]*[.、][ \t]*|\([0-9]{1,2}\)[ \t]*)")
# `公开方式：主动公开`, `公开属性：…`, and as provinces also print it `信息公开选项：不予公开`,
# `政府信息公开属性：…`, `公开类型：…`.
_BANJI_ATTR = re.compile(
    r"^(?:(?:政[ \t]*府[ \t]*)?信[ \t]*息[ \t]*)?公[ \t]*开[ \t]*"
    r"(?:方[ \t]*式|属[ \t]*性|选[ \t]*项|类[ \t]*型|形[ \t]*式)[ \t]*[:][ \t]*(?P<value>.+)$"
)
_INDEX = re.compile(r"(?:^|(?<=\s))索[ \t]*引[ \t]*号[ \t]*[:]?[ \t]*(?P<value>[^\s]+)")
_PAREN_LINE = re.compile(r"^\(.*\)$")
# A 附注 in round brackets, or in the lenticular or square ones some offices type:
# `（此件主动公开）`, `【此件依申请公开】`, `[此件不予公开]`.
_NOTE_LINE = re.compile(r"^(?:\(.*\)|【.*】|\[.*\])$")
# The 期数 of a 纪要 or 简报 and the 令号 of a 命令(令), alone on a 版头 line under the 标志
# (GB/T 9704 10.2, 10.3): `第12期`, `2020年第3期`, `〔2020〕第3期`, `第8号`, `（总第125期）`.
_ISSUE_NO = re.compile(
    r"^(?:[〔(\[【]?[0-9]{4}[〕)\]】]?年?)?总?第[0-9〇零一二三四五六七八九十百]{1,6}[期号]"
    r"(?:\(总第[0-9]{1,6}期\))?$|^\(总第[0-9]{1,6}期\)$"
)
_CJK_PUNCT = "\u3400-\u9fff《》〔〕（）、，：；。"
_CJK_SPACE = re.compile(f"(?<=[{_CJK_PUNCT}])\\s+|\\s+(?=[{_CJK_PUNCT}])")

_NO_VALUE = frozenset({"", "无", "/", "-", "—", "——", "空", "否", "暂无"})


def _tight(text: str) -> str:
    return _WS.sub("", text)


def _clean(text: str) -> str:
    """A value as written, with stray spaces between Chinese characters removed."""
    return _CJK_SPACE.sub("", text.strip()).strip()


def _names(text: str) -> str:
    """签发人 names: `张三 李四` stays two names; letter-spaced `王 明` is one."""
    tokens = text.split()
    if all(len(t) == 1 for t in tokens):
        return "".join(tokens)
    return " ".join(tokens)


def _strip_colon(text: str) -> str:
    return text.rstrip().rstrip(":：").rstrip()


@dataclass(slots=True)
class _Seg:
    """One logical line: a Line, or a table row whose cells each hold one paragraph."""

    raw: str  # stripped original text
    key: str  # fold(raw): same length, full-width ASCII folded
    tight: str  # key without whitespace
    line: Line
    first: int  # index of the first / last source Line
    last: int
    x1: float | None = None
    cells: list[str] | None = None  # a table row's cell texts, in column order

    @property
    def region(self) -> str:
        return self.line.region


def _seg(text: str, line: Line, first: int, last: int, cells: list[str] | None = None) -> _Seg:
    raw = text.strip()
    key = fold(raw)
    return _Seg(raw, key, _tight(key), line, first, last, line.x1, cells)


_FORM_CELL_LINES = 4


def _segments(lines: Sequence[Line], *, join_cells: bool) -> list[_Seg]:
    """Logical lines. A table row becomes one line (cells joined by a space) when `join_cells`
    or when every cell of the row holds one paragraph; else each paragraph stays a line."""
    segs: list[_Seg] = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if line.table is None:
            segs.append(_seg(line.text, line, i, i))
            i += 1
            continue
        j = i
        row = line.table[:2]
        while j < n and lines[j].table is not None and lines[j].table[:2] == row:  # type: ignore[index]
            j += 1
        cells: dict[int, list[str]] = {}
        for k in range(i, j):
            col = lines[k].table[2]  # type: ignore[index]
            cells.setdefault(col, []).append(lines[k].text.strip())
        # A cell of many paragraphs lays out a page (a saved web page in one cell), not a
        # form's value: its paragraphs stay lines.
        form_row = join_cells and max(len(paras) for paras in cells.values()) <= _FORM_CELL_LINES
        if form_row or all(len(paras) == 1 for paras in cells.values()):
            texts = ["".join(cells[c]) for c in sorted(cells)]
            text = " ".join(t for t in texts if t)
            segs.append(_seg(text, line, i, j - 1, [t for t in texts if t]))
        else:
            segs.extend(_seg(lines[k].text, lines[k], k, k) for k in range(i, j))
        i = j
    return [s for s in segs if s.raw]


def _where(base: str, seg: _Seg | None) -> str:
    if seg is None:
        return base
    parts = [base]
    if seg.line.region in ("table", "textbox", "header", "footer"):
        parts.append(seg.line.region)
    if seg.line.page is not None:
        parts.append(f"pdf:p{seg.line.page}")
    return "/".join(parts)


def _centered(seg: _Seg) -> bool | None:
    line = seg.line
    if line.align is not None:
        return line.align == "center"
    if line.x0 is not None and line.x1 is not None and line.page_width:
        middle = (line.x0 + line.x1) / 2
        return abs(middle - line.page_width / 2) < 0.06 * line.page_width
    return None


def _is_body_like(seg: _Seg) -> bool:
    """A sentence of the 正文 (a one-paragraph title may be long but ends in 通知, 方案 …)."""
    return "。" in seg.raw or (len(seg.tight) > 45 and not _TITLE_END.search(seg.tight))


def _is_recipients_like(seg: _Seg) -> bool:
    t = seg.tight
    if not t.endswith(":") or len(t) < 3 or "。" in t:
        return False
    return not re.match(r"^(?:签发人|附件|抄送|印发|索引号|联系人|电话|标题|文号)", t)


def _title_like(seg: _Seg) -> bool:
    return bool(_TITLE_END.search(seg.tight)) and (len(seg.tight) >= 6 or "关于" in seg.tight)


# ---------------------------------------------------------------------------------------------
# Label / value lines: cover sheets and portal exports
# ---------------------------------------------------------------------------------------------

# canonical label -> spellings
_LABELS: dict[str, tuple[str, ...]] = {
    "文号": ("备注/文号", "发文字号", "发文编号", "文号", "字号"),
    "标题": ("文件标题", "公文标题", "标题", "题目", "名称"),
    "公开属性": ("信息公开属性", "信息公开选项", "公开属性", "公开方式", "公开类型", "公开选项"),
    "不公开理由": ("不予公开理由", "免予公开理由", "不公开理由", "不公开原因"),
    "签发人": ("签发人", "签发"),
    "密级": ("密级和保密期限", "密级"),
    "保密期限": ("保密期限",),
    "紧急程度": ("紧急程度", "缓急程度", "缓急"),
    "主办单位": ("主办单位", "拟稿单位", "主办处室"),
    "发文机关": ("发文机关", "发文单位"),
    "成文日期": ("公文生成日期", "成文日期", "生成日期"),
    "主送": ("主送机关", "主送"),
    "抄送": ("抄送机关", "抄送"),
    "索引号": ("索引号",),
    "发布机构": ("发布机构",),
    "发布日期": ("发布日期",),
    "主题分类": ("主题分类",),
    "其他": ("拟稿人", "拟稿", "核稿人", "核稿", "会签", "印发日期", "印发", "份数", "打印", "校对",
             "附件", "主题词", "联系电话", "电话", "印数", "审核", "备注"),
}
_PORTAL_ONLY = frozenset({"索引号", "发布机构", "发布日期", "主题分类"})
_COVER_KEY = frozenset({"文号", "标题", "公开属性"})
_COVER_ONLY = frozenset({"公开属性", "不公开理由", "签发人", "密级", "紧急程度", "主办单位", "其他",
                         "主送", "抄送"})
_SPELLING_TO_LABEL = {s: canon for canon, spellings in _LABELS.items() for s in spellings}
_LABEL_ALT = "|".join(
    "[ \\t]*".join(re.escape(ch) for ch in s)
    for s in sorted(_SPELLING_TO_LABEL, key=len, reverse=True)
)
_BULLET = "•·●▪◆◇■□※>"
_LABEL_RE = re.compile(
    f"(?:^|(?<=[\\s|{_BULLET}]))(?P<label>{_LABEL_ALT})[ \\t]*(?P<colon>:)?"
)


@dataclass(slots=True)
class _Labelled:
    label: str  # canonical
    spelling: str
    value: str
    seg: _Seg
    lead: str = ""  # text before the first label of its line (a value set a line higher)


def _labelled_cells(seg: _Seg, cells: list[str]) -> list[_Labelled]:
    """(label, value) pairs of a table row: a cell that is a label (`文  号`, `公开属性：`) starts
    a value, the cells after it hold it; a cell `签发人：张三` is both."""
    pairs: list[_Labelled] = []
    for cell in cells:
        folded = fold(cell).strip()
        m = _LABEL_RE.match(folded)
        label_only = m is not None and not folded[m.end():].strip()
        if m is not None and (label_only or m.group("colon")):
            spelling = _tight(m.group("label"))
            value = cell.strip()[m.end():].strip() if not label_only else ""
            pairs.append(_Labelled(_SPELLING_TO_LABEL[spelling], spelling, value, seg))
        elif pairs:
            pairs[-1].value = (pairs[-1].value + " " + cell.strip()).strip()
    return pairs


def _labelled(seg: _Seg, *, glued_ok: bool) -> list[_Labelled]:
    """(label, value) pairs of a line such as `文  号 鸿政〔2020〕53号 签发人：张三` or
    `• 索 引 号:QZ05908-3000-2020-00010`."""
    if seg.cells is not None and len(seg.cells) > 1:
        return _labelled_cells(seg, seg.cells)
    key = seg.key.lstrip(_BULLET).lstrip()
    offset = len(seg.key) - len(key)  # seg.key is already stripped on the right
    hits: list[tuple[re.Match[str], str]] = []
    for m in _LABEL_RE.finditer(key):
        rest = key[m.end("label"):]
        glued = not m.group("colon") and rest and not rest[0].isspace()
        if glued and not (glued_ok and m.start() == 0):
            continue
        hits.append((m, _tight(m.group("label"))))
    pairs: list[_Labelled] = []
    for n, (m, spelling) in enumerate(hits):
        end = hits[n + 1][0].start() if n + 1 < len(hits) else len(key)
        value = seg.raw[offset + m.end(): offset + end]
        pairs.append(_Labelled(_SPELLING_TO_LABEL[spelling], spelling, value.strip(), seg))
    if pairs:
        pairs[0].lead = seg.raw[offset: offset + hits[0][0].start()].strip()
    return pairs


@dataclass(slots=True)
class _Block:
    fields: dict[str, _Labelled]
    end: int  # index of the last source Line in the block
    agency: str | None = None  # 石狮市人民政府 of a heading `石狮市人民政府发文稿纸`


def _first_values(pairs: Iterable[_Labelled]) -> dict[str, _Labelled]:
    out: dict[str, _Labelled] = {}
    for p in pairs:
        if p.label not in out or (not out[p.label].value and p.value):
            out[p.label] = p
    return out


_PORTAL_CARRIES_ON = frozenset({"标题", "发布机构", "发文机关", "主题分类"})


def _cut_short(pair: _Labelled, text: str) -> bool:
    """True if `pair`'s value stops where a printed cell or line wrapped and `text` is its
    rest: a title not finished, a date not finished, a 索引号 cut at - or /."""
    value = pair.value.strip()
    if not value:
        return False
    if pair.label == "标题":
        return not is_complete(value)
    if pair.label in ("成文日期", "发布日期"):
        return parse_date(value) is None and parse_date(value + text) is not None
    return value.endswith(("-", "/")) and text[:1].isalnum()


def _carry_on(line_pairs: list[_Labelled], earlier: list[_Labelled], seg: _Seg, *,
              at_end: bool) -> bool:
    """Give the unlabelled line `seg` to the value it carries on: an empty value of the label
    line right above it, or a value cut short on that line or the one before (cells of one
    printed row come as separate lines); else, inside the block, the last value that may run
    over lines."""
    text = seg.raw.strip()
    target = next((p for p in line_pairs if not p.value.strip()), None)
    if target is None:
        target = next((p for p in [*line_pairs, *earlier] if _cut_short(p, text)), None)
    if target is None and not at_end:
        target = next((p for p in reversed(line_pairs) if p.label in _PORTAL_CARRIES_ON), None)
    if target is None:
        return False
    target.value = (target.value + text) if target.value else text
    return True


def _read_portal(segs: list[_Seg]) -> _Block | None:
    """A portal export starts with label lines (索引号, 发布机构, 标题, 备注/文号, 发布日期 …).
    A line without a label inside the block carries on a value above it (a long 标题, or a
    table cell that wrapped when the page was printed to PDF)."""
    pairs: list[_Labelled] = []
    line_pairs: list[_Labelled] = []  # the pairs of the last label line
    earlier: list[_Labelled] = []  # and of the one before
    end = -1
    pending: list[_Seg] = []
    for i, seg in enumerate(segs[:40]):
        found = _labelled(seg, glued_ok=False)
        if not found:
            if not pairs:
                if i >= 5:
                    break
                continue
            if not pending and _carry_on(line_pairs, earlier, seg, at_end=True):
                end = seg.last  # the rest of a value cut short: part of the block
                continue
            pending.append(seg)
            if len(pending) > 2:
                break
            continue
        for waiting in pending:
            _carry_on(line_pairs, earlier, waiting, at_end=False)
        pending = []
        pairs.extend(found)
        line_pairs, earlier = found, line_pairs
        end = seg.last
    labels = {p.label for p in pairs}
    if not labels & {"标题", "文号"}:
        return None
    if len(labels & _PORTAL_ONLY) < 2 and not _record_header(labels):
        return None
    return _Block(_first_values(pairs), end)


# What a saved web page prints around the document: breadcrumbs, font-size and print links.
_WEB_CHROME = re.compile(
    r"^(?:首页|当前位置|您的位置|您现在的位置)|^.{0,30}[>＞»›].{0,30}[>＞»›]|^字号[:]?[大中小]"
    r"|打印本页|关闭窗口|【打印】|【关闭】|浏览次数|^分享到|^扫一扫"
)
# What a browser prints on every page of a saved web page: the date and time it printed at the
# top (`2020/9/16 上午10:05  石狮市人民政府…`), the page's address at the foot
# (`http://www.shishi.gov.cn/….htm  1/2`). Neither is the document's.
_BROWSER_MARGIN = re.compile(
    r"^(?:(?:19|20)[0-9]{2}[/.-][0-9]{1,2}[/.-][0-9]{1,2}\s*(?:上午|下午|AM|PM|am|pm)?\s*"
    r"[0-9]{1,2}:[0-9]{2}|(?:https?://|www\.)[\x21-\x7e]+(?:\s+[0-9]{1,3}/[0-9]{1,3})?\s*$)"
)
_RECORD_LABELS = frozenset({"标题", "文号", "发文机关", "成文日期", "发布日期", "索引号",
                            "发布机构", "主题分类", "公开属性"})


def _record_header(labels: set[str]) -> bool:
    """A web record's header block without a portal's own labels (标题 / 文号 / 发文机关 /
    成文日期 …): at least three of them, and none a drafting cover sheet has alone."""
    return len(labels & _RECORD_LABELS) >= 3 and not labels & (_COVER_ONLY - {"公开属性"})


_COVER_HEADING = re.compile(r"稿纸|发文笺|发文单|处理笺|发文审批|拟文稿")
_COVER_AGENCY = re.compile(r"^(.+?)(?:发文稿纸|发文处理笺|发文笺|发文审批单|发文单|拟文稿纸|稿纸)$")


def _read_cover(segs: list[_Seg]) -> _Block | None:
    """A drafting cover sheet (发文稿纸) at the start of the file: rows of labels and values."""
    start = None
    agency = None
    for i, seg in enumerate(segs[:8]):
        if _labelled(seg, glued_ok=True):
            start = i
            break
        heading = _COVER_HEADING.search(seg.tight)
        named = _COVER_AGENCY.match(_clean(seg.raw)) if heading else None
        if named and agency is None:
            agency = named.group(1)
        if not (heading or seg.region == "header" or len(seg.tight) < 30):
            return None
    if start is None:
        return None
    rows: list[tuple[_Seg, list[_Labelled]]] = []
    gap = 0
    table = segs[start].line.table[0] if segs[start].line.table else None
    last_labelled = start
    for i in range(start, len(segs)):
        seg = segs[i]
        same_table = table is not None and seg.line.table is not None and seg.line.table[0] == table
        if table is not None and not same_table:
            break
        if table is None and (seg.line.page != segs[start].line.page or seg.line.is_red
                              or seg.tight.endswith("文件")):
            break  # the document itself begins (its 版头 also has a 签发人)
        found = _labelled(seg, glued_ok=True)
        if found:
            gap = 0
            last_labelled = i
        else:
            gap += 1
            if gap > 3 and table is None:
                break
        rows.append((seg, found))
    rows = rows[: last_labelled - start + 1] if table is None else rows
    # Lines with no label carry on a value set over several lines (a long 标题).
    pairs: list[_Labelled] = []
    carries_on = ("标题", "主送", "抄送", "不公开理由")
    for n, (seg, found) in enumerate(rows):
        if found:
            # In a PDF a cell's value may sit a line above or below its label (a label that
            # wraps, `签　发` / `人`, is centred on its row): a value with no label before it on
            # its line belongs to the label above if that one is still empty.
            if found[0].lead and pairs and (pairs[-1].value == "" or pairs[-1].label in
                                            carries_on):
                pairs[-1].value += found[0].lead
            pairs.extend(found)
            continue
        text = seg.raw
        nxt = next((f for _, f in rows[n + 1:] if f), None)
        if pairs and (pairs[-1].value == "" or pairs[-1].label in carries_on):
            pairs[-1].value += text
        elif nxt and nxt[0].value == "":
            nxt[0].value = text + nxt[0].value
        elif pairs:
            pairs[-1].value += text
    labels = {p.label for p in pairs}
    if len(labels) < 3 or not labels & _COVER_KEY or not labels & _COVER_ONLY:
        return None
    if len(labels & _PORTAL_ONLY) >= 2:
        return None
    return _Block(_first_values(pairs), rows[-1][0].last, agency)


# ---------------------------------------------------------------------------------------------
# The document itself
# ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Body:
    own_number: str | None = None
    own_seg: _Seg | None = None
    flags: list[_Seg] = field(default_factory=list)  # 发文机关标志 lines (several: 联合行文)
    copy_number: tuple[str, _Seg] | None = None
    security: tuple[str, str | None, _Seg] | None = None
    urgency: tuple[str, _Seg] | None = None
    signer: tuple[str, _Seg] | None = None
    title: tuple[str, _Seg] | None = None
    title_raw: str = ""  # the title lines joined as printed (spaces between organs kept)
    title_end: int = 0
    recipients: tuple[str, _Seg] | None = None
    attachments: tuple[list[str], _Seg] | None = None
    signature: tuple[list[str], _Seg] | None = None  # the organs of the 署名, in order
    weak_signature: tuple[str, _Seg] | None = None  # a 署名 that does not read as an organ
    date: tuple[str | None, _Seg] | None = None
    notes: list[tuple[str, _Seg]] = field(default_factory=list)  # 附注 disclosure values
    banji_attr: list[tuple[str, _Seg]] = field(default_factory=list)
    cc: tuple[str, _Seg] | None = None
    printed: tuple[str, str | None, _Seg] | None = None
    index_number: tuple[str, _Seg] | None = None
    cited: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # `field: as written`
    # A 纪要 or 简报 版头 line of who issues it and when: `石狮市人民政府办公室  2020年9月10日`
    head_issue: tuple[list[str], str | None, _Seg] | None = None
    attachment_only: bool = False  # begins with `附件2`: an attachment without its cover

    @property
    def flag(self) -> _Seg | None:
        return self.flags[0] if self.flags else None


# Names of people alone (the 签发人 of a 上行文 carried onto the 发文字号 line): `黄志强`, `王　明`.
_PERSON_NAMES = re.compile(r"[\u4e00-\u9fff·]{1,4}(?:[ \t]+[\u4e00-\u9fff·]{1,4})*")


def _only_names(text: str) -> bool:
    t = text.strip()
    return bool(_PERSON_NAMES.fullmatch(t)) and not organs_in_line(t) and len(_tight(t)) >= 2


def _same_row(a: _Seg, b: _Seg) -> bool:
    """Two PDF lines side by side on one printed line."""
    x, y = a.line, b.line
    return (x.page is not None and x.page == y.page and x.top is not None and y.top is not None
            and abs(x.top - y.top) <= 2.0)


def _standalone_number(seg: _Seg, *, names_ok: bool = False) -> tuple[str, str | None] | None:
    """(number, signer) if the line holds nothing but one file number, a 文号 label and perhaps
    签发人 — the shape of the 版头's 发文字号 line. A number in parentheses is a citation.
    `names_ok`: a 签发人 line is above, so names after the number are its last 签发人 (with
    several, the number shares the line of the last name: GB/T 9704-2012 7.2.5)."""
    found = iter_file_numbers(seg.key)
    if len(found) != 1:
        return None
    number, start, end = found[0]
    rest = seg.key[:start] + " " + seg.key[end:]
    signer = None
    m = _SIGNER.search(rest)
    if m:
        signer = _names(m.group("name")) or None
        rest = rest[: m.start()]
    rest = re.sub(r"^\s*(?:发文字号|文号)\s*:?", "", rest)
    if _tight(rest).strip("|"):
        if names_ok and signer is None and end < len(seg.key) and seg.key[end].isspace() \
                and not _tight(seg.key[:start]) and _only_names(seg.key[end:]):
            return number, _names(seg.key[end:])
        return None
    return number, signer


def _head_issue(segs: list[_Seg], i: int) -> tuple[list[str], str | None, int] | None:
    """A 版头 line of organs and a date (`石狮市人民政府办公室    2020年9月10日`, in one line, two
    cells of a row or, in a PDF, two pieces of one printed line): who issues a 纪要 or 简报 and
    when. Returns the organs, the ISO date and how many lines it takes."""
    seg = segs[i]
    spans = find_dates(seg.key)
    if len(spans) == 1 and spans[0][2] == len(seg.key) and spans[0][1] > 0:
        organs = organs_in_line(_clean(seg.raw[: spans[0][1]]))
        return (organs, spans[0][0], 1) if organs else None
    nxt = segs[i + 1] if i + 1 < len(segs) else None
    if nxt is not None and _same_row(seg, nxt) and is_date_shaped(nxt.raw):
        organs = organs_in_line(seg.raw)
        return (organs, date_only(nxt.raw), 2) if organs else None
    return None


def _marks(seg: _Seg) -> re.Match[str] | None:
    m = _MARKS.fullmatch(seg.tight)
    if m is None or not (m.group("copy") or m.group("level") or m.group("urgency")):
        return None
    return m


_PARAGRAPH_END = re.compile(r"[。:!?！？]$")
_NUMBER_TAIL = re.compile(r"^(?:[〔【(\[﹝〖][0-9]{4}|[0-9]{1,5}号|号|第[0-9])")


def _pdf_wraps(prev: _Seg, nxt: _Seg, right_edge: dict[int, float]) -> bool:
    """True if the PDF line `nxt` carries on the paragraph of `prev` (a wrapped line).

    `prev` must not end a sentence and `nxt` must start no further right (no first-line
    indent) with no gap above. Then: `prev` reaches the right margin; or `nxt` starts with the
    tail of a file number (`〔2008〕36号`), which never begins a line of its own; or `prev` stops
    a few characters short (Chinese line breaking keeps `〔2008〕36号` together) and `nxt` does
    not start with a whole file number."""
    page = prev.line.page
    if page is None or prev.x1 is None or nxt.line.page is None:
        return False
    if nxt.line.blank_before and nxt.line.page == page:  # over a page break the gap says nothing
        return False
    if prev.line.x0 is None or nxt.line.x0 is None or _PARAGRAPH_END.search(prev.tight):
        return False
    size = prev.line.font_size or 12.0
    if nxt.line.x0 > prev.line.x0 + 0.75 * size:
        return False
    edge = right_edge.get(page, 0.0)
    if prev.x1 >= edge - 1.5 * size or _NUMBER_TAIL.match(nxt.tight):
        return True
    if prev.x1 < edge - 8 * size:
        return False
    numbers = iter_file_numbers(nxt.key)
    return not (numbers and numbers[0][1] == 0)


def _paragraph_start(segs: list[_Seg], j: int, right_edge: dict[int, float]) -> bool:
    """True if PDF line j begins a paragraph of the 正文, not a title: it runs to the right
    margin and on into the next line, which starts a first-line indent (two characters)
    further left (a 令 has no title: `《…办法》已经…市人民政` / `府第72次常务会议通过，…`).
    A title's lines are centred: the next one never starts that much further left."""
    seg = segs[j]
    if seg.line.page is None or j + 1 >= len(segs):
        return False
    nxt = segs[j + 1]
    size = seg.line.font_size or 12.0
    return (seg.line.x0 is not None and nxt.line.x0 is not None and seg.x1 is not None
            and seg.x1 >= right_edge.get(seg.line.page, 0.0) - 1.5 * size
            and nxt.line.x0 <= seg.line.x0 - 1.5 * size and _pdf_wraps(seg, nxt, right_edge))


def _right_edges(segs: list[_Seg]) -> dict[int, float]:
    """Right margin of each PDF page: the furthest right a line of body text (the commonest
    font size) reaches. Titles, flags and page headers do not count."""
    sizes = Counter(round(s.line.font_size) for s in segs if s.line.font_size)
    body_size = sizes.most_common(1)[0][0] if sizes else None
    edges: dict[int, float] = {}
    for s in segs:
        page = s.line.page
        if page is None or s.x1 is None:
            continue
        if body_size is not None and s.line.font_size and round(s.line.font_size) != body_size:
            continue
        edges[page] = max(edges.get(page, 0.0), s.x1)
    return edges


_HEAD_LABEL = re.compile(r"^(?:份号|密级|紧急程度|缓急|签发人|发文字号|文号)")


def _head_placeholder(body: _Body, seg: _Seg) -> bool:
    """A 版头 line holding a template's placeholder instead of a value (`XX发〔20XX〕XX号`,
    `{{份号}}`, `签发人：XXX`): recorded, and not read as a value."""
    number = placeholders.number_placeholder(seg.raw)
    if number is not None:
        body.placeholders.append(f"file_number: {number}")
        m = _SIGNER.search(seg.key)
        if m and placeholders.tokens(m.group("name")):
            body.placeholders.append(f"signer: {placeholders.shown(m.group('name'))}")
        return True
    found = placeholders.tokens(seg.raw)
    if not found:
        return False
    rest = seg.key
    for token in found:
        rest = rest.replace(fold(token), "")
    rest = _HEAD_LABEL.sub("", _tight(rest)).strip(":|")
    if rest:
        return False  # a line with more than a placeholder: a flag or a title, read on
    label = "signer" if _SIGNER.match(seg.tight) else "版头"
    body.placeholders.append(f"{label}: {placeholders.shown(seg.raw)}")
    return True


def _read_head(body: _Body, segs: list[_Seg], head_limit: int) -> int:
    """The 版头 lines up to the title: fills `body` and returns the index of the title line."""
    i = 0
    while i < min(head_limit, 20):
        seg = segs[i]
        marks = _marks(seg)
        if marks is not None and body.title is None:
            if marks.group("copy") and body.copy_number is None:
                body.copy_number = (marks.group("copy"), seg)
            if marks.group("level") and body.security is None:
                period = (marks.group("period") or "").strip() or None
                body.security = (marks.group("level"), period, seg)
            if marks.group("urgency") and body.urgency is None:
                body.urgency = (marks.group("urgency"), seg)
            i += 1
            continue
        if _RULE_LINE.match(seg.raw) or _PAGE_NO.match(seg.tight):
            i += 1
            continue
        if not body.flags and body.own_number is None and is_attachment_label(seg.raw):
            # `附件2` over a heading: an attachment without its cover. It has no 版头, so no
            # number of its own; the heading under the label is its title.
            body.attachment_only = True
            i += 1
            continue
        if _head_placeholder(body, seg):
            i += 1
            continue
        if body.flags and _ISSUE_NO.match(seg.tight):
            i += 1  # the 期数 of a 纪要, the 令号 of a 令: the 版头's, not the title
            continue
        issued = _head_issue(segs, i) if body.flags and body.head_issue is None else None
        if issued is not None:
            body.head_issue = (issued[0], issued[1], seg)
            i += issued[2]
            continue
        if not _PAREN_LINE.match(seg.tight):
            standalone = _standalone_number(seg, names_ok=body.signer is not None)
            if standalone is not None and body.attachment_only:
                i += 1  # the number of the document it is attached to: not its own
                continue
            if standalone is not None and body.own_number is not None:
                if standalone[0] == body.own_number:  # the page header said it already
                    i += 1
                    continue
                standalone = None
            if standalone is not None:
                body.own_number, body.own_seg = standalone[0], seg
                if standalone[1] and body.signer is not None:  # the last of several 签发人
                    body.signer = (f"{body.signer[0]} {standalone[1]}", body.signer[1])
                elif standalone[1]:
                    body.signer = (standalone[1], seg)
                nxt = segs[i + 1] if i + 1 < len(segs) else None
                if body.signer is not None and nxt is not None and _same_row(seg, nxt) \
                        and _only_names(nxt.raw):
                    # In a PDF the last 签发人 is a piece of its own beside the number.
                    body.signer = (f"{body.signer[0]} {_names(nxt.raw)}", body.signer[1])
                    i += 1
                i += 1
                continue
        m = _SIGNER.match(seg.tight)
        if m and body.signer is None:
            name = _SIGNER.match(seg.key.strip()).group("name")  # type: ignore[union-attr]
            for number, s, e in reversed(iter_file_numbers(name)):
                name = name[:s] + name[e:]
                if body.own_number is None:
                    body.own_number, body.own_seg = number, seg
            name = _names(name)
            body.signer = (name, seg) if name else None
            i += 1
            continue
        if _joins_flags(body.flags, segs, i):
            body.flags.append(seg)  # the next organ of a joint 发文机关标志
            i += 1
            continue
        if not body.attachment_only and _looks_like_flag(segs, i, head_limit):
            # A red / `…文件` / large line is a surer 标志 than one that merely stands over
            # the number; the first of the surest wins.
            if body.flag is None or (
                _strong_flag(segs, i) and not _strong_flag(segs, segs.index(body.flag))
            ):
                body.flags = [seg]
            i += 1
            continue
        if seg.region == "header":  # a running page header is not the title
            i += 1
            continue
        break
    return i


def _title_text(parts: list[_Seg]) -> str:
    """The title lines joined as printed; a line that is only organs (the first lines of a
    joint document's title) is kept apart from the next by a space."""
    out = ""
    for k, part in enumerate(parts):
        text = part.raw.replace("\n", "")
        out += text
        if k + 1 < len(parts) and organs_in_line(text) == [_clean(text)]:
            out += " "
    return out


def _read_body(segs: list[_Seg], fmt: str) -> _Body:
    body = _Body()
    n = len(segs)
    if n == 0:
        return body
    right_edge = _right_edges(segs)

    # --- 版头: 份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人 ---
    head_limit = next(
        (i for i, s in enumerate(segs) if _is_recipients_like(s) or _is_body_like(s)), n
    )
    i = _read_head(body, segs, head_limit)
    title_start = i
    if body.own_seg is not None:
        # A page header repeats the 发文字号 on every page of a PDF: not a citation, and not
        # text to join with the paragraph it interrupts.
        segs = segs[:title_start] + [
            s for s in segs[title_start:] if s.tight != body.own_seg.tight
        ]
        n = len(segs)

    # --- 标题 ---
    j = title_start
    if j < n and not _is_recipients_like(segs[j]) and not _is_body_like(segs[j]) \
            and not is_date_shaped(segs[j].raw) and not _paragraph_start(segs, j, right_edge):
        parts = [segs[j]]
        while len(parts) < _MAX_TITLE_LINES and j + 1 < n \
                and _title_continues(parts, segs[j + 1]):
            j += 1
            parts.append(segs[j])
        body.title_raw = _title_text(parts)
        organs, rest = title_organs(body.title_raw)
        # Joint organs keep the one space between them (`中共中央 国务院关于…`); every other
        # space or line break inside a title (typed, wrapped, letter-spaced) is not part of it.
        title = " ".join(organs) + _clean(rest) if len(organs) > 1 else _clean(body.title_raw)
        body.title = (title, parts[0])
        body.title_end = j + 1
        if body.own_number is None and not body.attachment_only and j + 1 < n:
            under = _standalone_number(segs[j + 1])
            if under is not None and not _PAREN_LINE.match(segs[j + 1].tight):
                # A web page prints the 发文字号 right under the title (国务院's portal).
                body.own_number, body.own_seg = under[0], segs[j + 1]
                body.title_end = j + 2
        if not _TITLE_END.search(_tight(fold(title))):
            centred = _centered(parts[0])
            body.warnings.append(
                "title does not end with a document type word (通知, 决定, …)"
                + ("" if centred else "; it is not set apart by layout either")
            )
    else:
        body.title_end = title_start

    # --- 主送机关 ---
    k_end = min(n, body.title_end + 5)
    for k in range(body.title_end, k_end):
        seg = segs[k]
        wrapped_tail = (fmt == "pdf" and k > body.title_end and seg.tight.endswith(":")
                        and "。" not in seg.raw and _pdf_wraps(segs[k - 1], seg, right_edge))
        if _is_recipients_like(seg) or wrapped_tail:
            parts = [seg]
            b = k - 1
            while b >= body.title_end and not _is_body_like(segs[b]) and (
                re.search(r"[,、]$", segs[b].tight)
                or (fmt == "pdf" and _pdf_wraps(segs[b], segs[b + 1], right_edge))
            ):
                parts.insert(0, segs[b])
                b -= 1
            body.recipients = (_strip_colon(_clean("".join(p.raw for p in parts))), parts[0])
            break
        if _is_body_like(seg):
            break
    after_head = body.title_end

    # --- 成文日期 and 署名 ---
    date_idx = _find_date_line(segs, after_head)
    if date_idx is not None:
        seg = segs[date_idx]
        body.date = (date_only(seg.raw), seg)
        if body.date[0] is None:
            body.warnings.append(f"成文日期 {seg.raw!r} is not a real calendar date")
        _read_signature(body, segs, date_idx, after_head)
    else:
        # 署名 and date on one line (`石狮市人民政府 2020年9月15日`), not the 版记's 印发 line.
        for k in range(after_head, n):
            seg = segs[k]
            spans = find_dates(seg.key)
            if len(spans) == 1 and spans[0][2] == len(seg.key) and spans[0][1] > 0 \
                    and "印发" not in seg.tight and not _is_body_like(seg):
                organs = organs_in_line(_clean(seg.raw[: spans[0][1]]))
                if organs:
                    date_idx = k
                    body.date = (spans[0][0], seg)
                    body.signature = (organs, seg)
                    break

    if date_idx is None and body.title is not None and after_head < n:
        # No 成文日期 at the end: a 题注 under the title gives it (`（2023年1月2日）`, as a
        # 决议 or a 一号文件 prints it).
        note = segs[after_head]
        if _PAREN_LINE.match(note.tight) and is_date_shaped(note.tight[1:-1]):
            body.date = (date_only(note.tight[1:-1]), note)
    if date_idx is None:
        found = next((s for s in segs[after_head:] if placeholders.date_placeholder(s.raw)), None)
        if found is not None:
            body.placeholders.append(f"date: {placeholders.shown(found.raw)}")

    # --- 附件说明 (between the 正文 and the 署名) ---
    att_stop = date_idx if date_idx is not None else n
    for k in range(after_head, att_stop):
        m = _ATTACH.match(segs[k].key)
        if m is None:
            continue
        items = [_without_item_no(segs[k].raw[m.start("value"):])]
        q = k + 1
        while q < att_stop:
            nxt = segs[q]
            if _ITEM_NO.match(nxt.key) and "。" not in nxt.raw:
                items.append(_without_item_no(nxt.raw))
            elif fmt == "pdf" and _pdf_wraps(segs[q - 1], nxt, right_edge) and q + 1 < att_stop:
                items[-1] += nxt.raw
            else:
                break
            q += 1
        # As written (a cited number keeps its spelling), without closing punctuation.
        items = [it.strip().rstrip("。；;，,").strip() for it in items if it.strip()]
        if fmt == "pdf":
            items = [_without_pdf_gaps(it) for it in items]
        if items:
            body.attachments = (items, segs[k])
        break

    # --- 附注 (directly after the 成文日期) ---
    if date_idx is not None:
        for k in range(date_idx + 1, min(n, date_idx + 4)):
            seg = segs[k]
            if _NOTE_LINE.match(seg.tight) or seg.tight.startswith("此件"):
                for value in disclosure_values(seg.key):
                    body.notes.append((value, seg))
                continue
            break
    if date_idx is None:
        # No 成文日期 found: a parenthesised line stating 此件…公开 after the title is still the
        # 附注, but say so. (With a 成文日期, only what is right under it counts: a forwarded
        # document further down carries its own 附注.)
        for seg in segs[after_head:]:
            if _NOTE_LINE.match(seg.tight) and "此件" in seg.tight:
                values = disclosure_values(seg.key)
                if values:
                    body.notes.extend((v, seg) for v in values)
                    body.warnings.append(f"附注 {seg.raw!r} is not directly under the 成文日期")
                    break

    # --- 版记: 公开方式, 抄送, 印发机关和日期 ---
    for k in range(date_idx if date_idx is not None else after_head, n):
        seg = segs[k]
        key = seg.key.strip()
        m = _BANJI_ATTR.match(key)
        if m:
            for value in disclosure_values(m.group("value")):
                body.banji_attr.append((value, seg))
            if not disclosure_values(m.group("value")):
                body.warnings.append(f"版记 {seg.raw!r} states no known 公开属性")
            continue
        m = _CC.match(key)
        if m and body.cc is None:
            value = seg.raw[m.start("value"):]
            q = k + 1
            while q < n and _issue_line(segs[q]) is None and (
                    re.search(r"[,、]$", _tight(fold(value)))
                    or (fmt == "pdf" and _pdf_wraps(segs[q - 1], segs[q], right_edge))):
                value += segs[q].raw
                q += 1
            body.cc = (_strip_colon(_clean(value)).rstrip("。."), seg)
            continue
        printed = _issue_line(seg)
        if printed is None and fmt == "pdf" and k + 1 < n and _pdf_wraps(seg, segs[k + 1],
                                                                          right_edge):
            printed = _issue_line(_seg(seg.raw + segs[k + 1].raw, seg.line, seg.first,
                                       segs[k + 1].last))
        if printed is not None and body.printed is None:
            body.printed = (printed[0], printed[1], seg)

    # --- 索引号 anywhere (some templates print it at the top) ---
    for seg in segs:
        m = _INDEX.search(seg.key)
        if m:
            body.index_number = (seg.raw[m.start("value"): m.end("value")], seg)
            break

    body.cited = _cited_numbers(segs, body.own_seg, fmt, right_edge)
    return body


_PRINTED_SUFFIX = re.compile(r"[ \t]*印[ \t]*发[ \t]*$")


def _issue_line(seg: _Seg) -> tuple[str, str | None] | None:
    """(印发机关, 印发日期) from the 版记 line `石狮市人民政府办公室 2020年9月17日印发`."""
    m = _PRINTED_SUFFIX.search(seg.key)
    if m is None:
        return None
    spans = find_dates(seg.key[: m.start()])
    if not spans or seg.key[spans[-1][2]: m.start()].strip():
        return None
    when, start, _ = spans[-1]
    return _clean(seg.raw[:start]), when


_DIGIT_CJK_GAP = re.compile(
    r"(?<=[0-9])[ \t]+(?=[\u3400-\u9fff])|(?<=[\u3400-\u9fff])[ \t]+(?=[0-9])"
)
_SPACED_BRACKET = re.compile(r"\s[〔【(\[（［﹝〖]|[〕】)\]）］﹞〗]\s")


def _without_pdf_gaps(text: str) -> str:
    """PDF text shows a gap where the font changes between digits and Chinese (`2022 年度`,
    `88 号`): not the drafter's. A file number typed with spaces (`闽财 〔2006〕 88 号`) keeps
    them; one typed without loses the gaps."""
    out: list[str] = []
    pos = 0
    for _, start, end in iter_file_numbers(text):
        out.append(_DIGIT_CJK_GAP.sub("", text[pos:start]))
        number = text[start:end]
        out.append(number if _SPACED_BRACKET.search(number) else _WS.sub("", number))
        pos = end
    out.append(_DIGIT_CJK_GAP.sub("", text[pos:]))
    return "".join(out)


def _without_item_no(raw: str) -> str:
    m = _ITEM_NO.match(fold(raw))
    return raw[m.end():].strip() if m else raw.strip()


def _strong_flag(segs: list[_Seg], i: int) -> bool:
    seg = segs[i]
    if seg.line.is_red or is_flag_text(seg.raw):
        return True
    nxt = segs[i + 1] if i + 1 < len(segs) else None
    size, next_size = seg.line.font_size, nxt.line.font_size if nxt else None
    return bool(size and next_size and next_size >= 18 and size >= 1.25 * next_size)


def _flag_member(seg: _Seg) -> bool:
    """A line that can be part of a (joint) 发文机关标志: organs, `…文件`, or `文件` alone."""
    if seg.tight == "文件":
        return True
    return not _title_like(seg) and "关于" not in seg.tight and bool(flag_organs(seg.raw))


def _near_below(upper: _Seg, lower: _Seg) -> bool:
    """PDF lines of one block: the lower starts within 1.6 line heights of the upper."""
    a, b = upper.line, lower.line
    if a.top is None or b.top is None or a.page != b.page:
        return False
    size = max(a.font_size or 0.0, b.font_size or 0.0) or 12.0
    return -0.5 <= b.top - a.top <= 1.6 * size


def _joins_flags(flags: list[_Seg], segs: list[_Seg], i: int) -> bool:
    """True if line i is the next part of the joint 发文机关标志 `flags` ends right above it
    (organs one per line or side by side, `文件` beside or under them; GB/T 9704 7.2.4)."""
    if not flags or i == 0 or segs[i - 1] is not flags[-1]:
        return False
    seg, last = segs[i], flags[-1]
    if not _flag_member(seg) or not _flag_member(last) or seg.line.blank_before:
        return False
    if not any(is_flag_text(f.raw) or f.tight == "文件" for f in flags):
        return True  # the organs before the line that ends in 文件
    # After `…文件`, only what visibly belongs to the same block: the same table, red like
    # the flag, or set tightly under it on the page.
    same_table = (seg.line.table is not None and last.line.table is not None
                  and seg.line.table[0] == last.line.table[0])
    return same_table or bool(seg.line.is_red and last.line.is_red) or _near_below(last, seg)


def _looks_like_flag(segs: list[_Seg], i: int, head_limit: int) -> bool:
    """The 发文机关标志: red, or `…文件` after organs, or a short non-title line over the
    发文字号, or printed much larger than the title under it, or the first organ of a joint
    标志 whose last line says 文件, or organs and their 纪要 / 令 / 公告 over a `第12期`."""
    seg = segs[i]
    if len(seg.tight) > 40:
        return False
    if _strong_flag(segs, i) and (seg.line.is_red or not _title_like(seg)):
        return True
    if i + 1 < len(segs) and _ISSUE_NO.match(segs[i + 1].tight) and "关于" not in seg.tight \
            and flag_organs(seg.raw):
        return True  # the 标志 of a 纪要, 令 or 公告 stands over its 期数 or 令号
    if _title_like(seg) or "关于" in seg.tight:
        return False
    if _flag_member(seg):
        k = i + 1
        while k < min(head_limit, i + 6) and _flag_member(segs[k]):
            if is_flag_text(segs[k].raw) or segs[k].tight == "文件":
                return True
            k += 1
    for k in range(i + 1, min(head_limit, i + 4)):
        if _title_like(segs[k]) or "关于" in segs[k].tight:
            return False  # a number under the title (a web page's) stands under no 标志
        if _standalone_number(segs[k]) is not None and not _PAREN_LINE.match(segs[k].tight):
            return True
    return False


_MAX_TITLE_LINES = 4
_TITLE_START = re.compile(r"^(?:.{0,40}?关于|\()")


def _wraps_on(cur: _Seg, nxt: _Seg) -> bool:
    """A title line that ends like a whole title (`…财政预算`, `…工作方案`) still goes on when
    the next line is set as part of the same title block (centred, same size, no gap), ends
    with a 文种 itself and does not start a title of its own."""
    if nxt.line.blank_before or _TITLE_START.match(nxt.tight) or not is_complete(nxt.tight):
        return False
    if (_centered(cur), _centered(nxt)) != (True, True):
        return False
    sizes = (cur.line.font_size, nxt.line.font_size)
    return not (sizes[0] and sizes[1] and abs(sizes[0] - sizes[1]) > 1)


def _title_continues(parts: list[_Seg], nxt: _Seg) -> bool:
    """True if `nxt` is the next line of the title `parts` (titles.py: a title ends with its
    文种 and never inside an open bracket; `（第九版）的通知` carries one on)."""
    cur = parts[-1]
    joined = "".join(p.tight for p in parts)
    tail = is_tail(joined, nxt.tight)
    if is_complete(joined) and not tail and not _wraps_on(cur, nxt):
        return False
    if _is_recipients_like(nxt) or _is_body_like(nxt) or is_date_shaped(nxt.raw):
        return False
    if tail:
        return True  # the grammar says so; layout may differ (a wrapped bracket, a version)
    if _PAREN_LINE.match(nxt.tight) or nxt.tight.startswith("附件") or iter_file_numbers(nxt.key):
        return False
    if nxt.line.blank_before:
        return False
    centred = (_centered(cur), _centered(nxt))
    if centred == (True, True):  # both centred: a size read off one odd glyph does not matter
        return True
    sizes = (cur.line.font_size, nxt.line.font_size)
    if sizes[0] and sizes[1] and abs(sizes[0] - sizes[1]) > 1:
        return False
    if sizes[0] and sizes[1] and nxt.line.page == cur.line.page and not is_complete(joined):
        # An unfinished title goes on in a line of its own size even when that line is off
        # centre (a drafter centred it with typed spaces: `　　学期开学工作的通知`).
        return True
    return centred != (True, False)


def _is_signature(seg: _Seg) -> bool:
    t = seg.tight
    return (
        0 < len(t) <= 40
        and "。" not in t
        and not t.endswith(":")
        and not iter_file_numbers(seg.key)
        and not _PAREN_LINE.match(t)
        and not _ITEM_NO.match(seg.key.strip())
        and not t.startswith("附件")
        and not is_date_shaped(seg.raw)
    )


def _read_signature(body: _Body, segs: list[_Seg], date_idx: int, after_head: int) -> None:
    """The 署名 over the 成文日期: one organ, or the organs of a joint document one per line or
    side by side (a `（XX委代章）` line names whose seal stands in; the organ is the one above).
    A line that does not read as an organ is kept as a weak 署名."""
    organs: list[str] = []
    first: _Seg | None = None
    k = date_idx - 1
    while k >= after_head and len(organs) < 8:
        seg = segs[k]
        if is_seal_note(seg.raw):
            k -= 1
            continue
        names = organs_in_line(seg.raw)
        if not names or _is_recipients_like(seg) or not _is_signature(seg):
            break
        above = segs[k - 1] if k - 1 >= after_head else None
        pieces = above.raw.split() if above is not None else []
        if len(names) == 1 and above is not None and not seg.line.blank_before \
                and len(pieces) > 1 and all(is_organ(p) for p in pieces[:-1]) \
                and _wraps_into_organ(_seg(pieces[-1], above.line, above.first, above.last),
                                      names[0]):
            # Organs side by side whose last name wrapped in its cell: `石狮市财政局  石狮市
            # 教育局  石狮市人力资源和` / `社会保障局`.
            names = [*pieces[:-1], pieces[-1] + names[0]]
            k -= 1
            seg = above
        elif len(names) == 1 and above is not None and not seg.line.blank_before \
                and _wraps_into_organ(above, names[0]):
            # A long name right-aligned over two lines: `国务院应对新型冠状病毒感染疫情` /
            # `联防联控机制综合组`.
            names = [_clean(above.raw) + names[0]]
            k -= 1
            seg = above
        organs[:0] = names
        first = seg
        k -= 1
    if organs and first is not None:
        body.signature = (organs, first)
        return
    prev = segs[date_idx - 1] if date_idx - 1 >= after_head else None
    if prev is not None and _is_signature(prev):
        body.weak_signature = (_clean(without_seal_note(prev.raw)), prev)


def _wraps_into_organ(above: _Seg, organ: str) -> bool:
    """True if `above` is the first part of a 署名 whose rest is `organ`: not an organ itself,
    no sentence, and the two read as one organ's name."""
    text = _clean(above.raw)
    return (_is_signature(above) and not organs_in_line(text) and not _is_body_like(above)
            and not re.search(r"[,，、;；:：()（）〔〕]", fold(text)) and is_organ(text + organ))


def _find_date_line(segs: list[_Seg], start: int) -> int | None:
    """The 成文日期: a line that is only a date, after the title; the one closing the 正文 (under
    a 署名, above a 附注 or the 版记) is preferred, and table cells only if nothing else."""
    candidates = [k for k in range(start, len(segs)) if is_date_shaped(segs[k].raw)]
    if not candidates:
        return None
    plain = [k for k in candidates if segs[k].line.table is None] or candidates
    for k in plain:
        prev = segs[k - 1] if k - 1 >= start else None
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        closes = (
            nxt is None
            or _NOTE_LINE.match(nxt.tight)
            or nxt.tight.startswith(("此件", "抄送"))
            or _issue_line(nxt) is not None
            or _BANJI_ATTR.match(nxt.key.strip())
        )
        signed = prev is not None and _is_signature(prev) and _ORG_END.search(prev.tight)
        if closes or signed:
            return k
    return plain[0]


def _cited_numbers(
    segs: list[_Seg], own_seg: _Seg | None, fmt: str, right_edge: dict[int, float]
) -> list[str]:
    """Numbers the text cites, canonical, first appearance order. PDF lines that run to the
    margin are joined first, so a number broken over two lines is still found."""
    chunks: list[str] = []
    current = ""
    own_line = own_seg.tight if own_seg is not None else None
    for k, seg in enumerate(segs):
        if seg.tight == own_line:  # the 版头 line, or the page header repeating it
            if current:
                chunks.append(current)
            current = ""
            continue
        current += seg.raw
        nxt = segs[k + 1] if k + 1 < len(segs) else None
        if not (fmt == "pdf" and nxt is not None and nxt.tight != own_line
                and _pdf_wraps(seg, nxt, right_edge)):
            chunks.append(current)
            current = ""
    if current:
        chunks.append(current)
    cited: list[str] = []
    for chunk in chunks:
        for number, _, _ in iter_file_numbers(chunk):
            if number not in cited:
                cited.append(number)
    return cited


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


def _security_from_text(text: str) -> tuple[str | None, str | None] | None:
    """(level, period) from a cover sheet's 密级 value; (None, None) for an explicit 无/非密;
    None when it says something else."""
    t = _tight(fold(text))
    if t in _NO_VALUE or t in ("非密", "普通", "公开", "内部", "一般"):
        return (None, None)
    m = _MARKS.fullmatch(t)
    if m and m.group("level"):
        return m.group("level"), (m.group("period") or "").strip() or None
    return None


def _same_title(one: str, other: str) -> bool:
    """Two spellings of one title: the same but for quotes, brackets and spaces, or one
    without the organs the other begins with (a portal's 标题 often drops them)."""
    a, b = _comparable(one), _comparable(other)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return bool(short) and long.endswith(short) and is_organ(long[: len(long) - len(short)])


def _comparable(text: str) -> str:
    return re.sub(r"[\s\"“”《》〈〉<>()（）,，、.。:：]", "", fold(text))


_PLACEHOLDER_FIELDS = ("title", "issuer", "signer", "recipients", "copy_number", "file_number",
                       "cc", "print_issuer")


def _drop_placeholders(meta: DocumentMetadata, found: list[str]) -> None:
    """A value that is a template's placeholder is no value: it is named in `placeholders`
    (the policy sends such a file to a person as a template) and the field stays empty."""
    out = list(found)
    for name in _PLACEHOLDER_FIELDS:
        value = getattr(meta, name)
        if value and placeholders.tokens(value):
            out.append(f"{name}: {placeholders.shown(value)}")
            setattr(meta, name, None)
            meta.provenance.pop(name, None)
            if name == "issuer":
                meta.issuers = []
    meta.placeholders = list(dict.fromkeys(out))


def read_fields(doc: ParsedDocument) -> DocumentMetadata:
    """All metadata fields of a parsed document, with provenance, warnings and conflicts."""
    all_lines = printed_lines(doc.lines)
    meta = DocumentMetadata(
        format=doc.format,
        page_count=doc.page_count,
        text_layer=doc.text_layer,
        text="\n".join(line.text for line in all_lines),
        warnings=list(doc.warnings),  # the reader's doubts come first
    )
    if not doc.text_layer:
        meta.warnings.append("no text layer (scanned image?): nothing can be read without OCR")
        return meta
    lines = without_markup([ln for ln in all_lines if ln.region != "footer"])
    if doc.format == "pdf":
        lines = [ln for ln in lines if not _BROWSER_MARGIN.match(fold(ln.text).strip())]
    if not any(ln.text.strip() for ln in lines):
        meta.warnings.append("the document has no text")
        return meta

    cover_view = _segments(lines, join_cells=True)
    portal = _read_portal([s for s in cover_view if not _WEB_CHROME.search(s.tight)])
    cover = None if portal else _read_cover(cover_view)
    block = portal or cover
    body_lines = lines[block.end + 1:] if block else lines
    if portal:
        meta.source_kind = "portal_export"
    elif cover:
        meta.source_kind = "cover_sheet"
    segs = [s for s in _segments(body_lines, join_cells=False) if not _PAGE_NO.match(s.tight)]
    # A saved web page's breadcrumbs and links above the document are not the document.
    segs = [s for k, s in enumerate(segs) if k >= 20 or not _WEB_CHROME.search(s.tight)]
    body = _read_body(segs, doc.format)
    meta.warnings.extend(body.warnings)

    prefix = "portal" if portal else "cover_sheet"
    labelled = block.fields if block else {}

    def from_block(label: str) -> tuple[str, str] | None:
        item = labelled.get(label)
        if item is None or _tight(item.value) in _NO_VALUE:
            return None
        return item.value.strip(), f"{prefix}:{item.spelling}"

    def put(name: str, value: object, where: str) -> None:
        setattr(meta, name, value)
        meta.provenance[name] = where

    def reconcile(name: str, found: list[tuple[str, str]], label: str,
                  normalize: Callable[[str], str | None], kind: str) -> None:
        """The document's own value first, then the labelled block's (cover sheet, portal);
        a block value that disagrees is a conflict, one that does not parse a warning."""
        given = from_block(label)
        if given:
            value = normalize(given[0])
            if value:
                found.append((value, given[1]))
            else:
                meta.warnings.append(f"{given[1]} {given[0]!r} is not a {kind}")
        if not found:
            return
        put(name, found[0][0], found[0][1])
        for value, where in found[1:]:
            if value != found[0][0]:
                meta.conflicts.append(
                    f"{name}: {found[0][1]} says {found[0][0]}, {where} says {value}")

    # 发文字号 ---------------------------------------------------------------------------------
    own = [(body.own_number, _where("版头", body.own_seg))] if body.own_number else []
    reconcile("file_number", own, "文号", normalize_file_number, "file number")
    meta.cited_file_numbers = body.cited

    # 公开属性 ---------------------------------------------------------------------------------
    stated: list[tuple[str, str]] = []
    stated += [(v, _where("附注", s)) for v, s in body.notes]
    stated += [(v, _where("版记", s)) for v, s in body.banji_attr]
    attr = from_block("公开属性")
    if attr:
        values = disclosure_values(attr[0])
        stated += [(v, attr[1]) for v in values]
        if not values:
            meta.warnings.append(f"{attr[1]} {attr[0]!r} states no known 公开属性")
    decided = [(v, w) for v, w in stated if v != _AMBIGUOUS]
    for v, w in stated:
        if v == _AMBIGUOUS:
            meta.warnings.append(f"{w}: 不主动公开 does not say 依申请公开 or 不予公开")
    distinct = sorted({v for v, _ in decided}, key=_RESTRICTIVENESS.index)
    if distinct:
        chosen = distinct[0]
        put("disclosure", chosen, next(w for v, w in decided if v == chosen))
        if len(distinct) > 1:
            said = "; ".join(f"{w} says {v}" for v, w in decided)
            meta.conflicts.append(f"disclosure: sources disagree ({said})")
    elif any(v == _AMBIGUOUS for v, _ in stated):
        meta.conflicts.append("disclosure: stated only as 不主动公开, which is not an attribute")
    else:
        meta.warnings.append("no 公开属性 stated (附注, 版记, cover sheet or portal)")
    reason = from_block("不公开理由")
    if reason:
        put("disclosure_reason", reason[0], reason[1])
    else:
        given = [(r, seg) for _, seg in body.notes if (r := note_reason(seg.raw))]
        if given:
            put("disclosure_reason", given[0][0], _where("附注", given[0][1]))

    # 标题 -------------------------------------------------------------------------------------
    titles: list[tuple[str, str]] = []
    given_title = from_block("标题")
    if given_title:
        titles.append((_clean(given_title[0]), given_title[1]))
    if body.title:
        titles.append((body.title[0], _where("标题", body.title[1])))
    if titles:
        # The fullest spelling of one title: a portal's 标题 may drop the organs it begins with.
        same = [t for t in titles if _same_title(t[0], titles[0][0])]
        fullest = max(same, key=lambda t: len(_comparable(t[0])))
        put("title", fullest[0], fullest[1])
        for title, where in titles[1:]:
            if not _same_title(title, titles[0][0]):
                meta.conflicts.append(
                    f"title: {titles[0][1]} says {titles[0][0]!r}, {where} says {title!r}"
                )

    # 发文机关 ---------------------------------------------------------------------------------
    # The 署名 first, then the 标志, the labelled blocks, the title's first words, and a 署名
    # that does not read as an organ last. A joint document names several organs.
    candidates: list[tuple[list[str], str]] = []
    if body.signature:
        candidates.append((body.signature[0], _where("署名", body.signature[1])))
    if body.head_issue:
        candidates.append((body.head_issue[0], _where("版头", body.head_issue[2])))
    if body.flags:
        organs = [o for f in body.flags for o in flag_organs(f.raw)]
        if not organs:
            organs = [re.sub(r"\s*文件$", "", _clean(body.flags[0].raw))]
        candidates.append(([o for o in organs if o], _where("发文机关标志", body.flags[0])))
    given = from_block("发文机关")
    if given:
        candidates.append((organs_in_line(given[0]) or [_clean(given[0])], given[1]))
    if cover and cover.agency:
        candidates.append(([cover.agency], "cover_sheet:发文稿纸"))
    if given_title:
        candidates.append((organs_of_title(given_title[0]), "标题"))
    if body.title:
        candidates.append((organs_of_title(body.title_raw), "标题"))
    if body.weak_signature:
        candidates.append(([body.weak_signature[0]], _where("署名", body.weak_signature[1])))
    given = from_block("发布机构")
    if given:
        candidates.append(([_clean(given[0])], given[1]))
    chosen = next(((organs, where) for organs, where in candidates if organs), None)
    if chosen:
        put("issuer", " ".join(chosen[0]), chosen[1])
        meta.issuers = list(chosen[0])

    # 成文日期 ---------------------------------------------------------------------------------
    written = []
    if body.date and body.date[0]:
        written.append((body.date[0], _where("成文日期", body.date[1])))
    elif body.head_issue and body.head_issue[1]:
        written.append((body.head_issue[1], _where("版头", body.head_issue[2])))
    reconcile("date", written, "成文日期", parse_date, "date")

    # 密级, 紧急程度, 份号, 签发人 -------------------------------------------------------
    levels: list[tuple[str | None, str | None, str]] = []
    if body.security:
        levels.append((body.security[0], body.security[1], _where("版头", body.security[2])))
    cover_level = labelled.get("密级")  # an explicit 无 counts: it can contradict the 版头
    if cover_level is not None and cover_level.value.strip():
        where = f"{prefix}:{cover_level.spelling}"
        parsed = _security_from_text(cover_level.value)
        if parsed is None:
            meta.warnings.append(f"{where} {cover_level.value!r} is not a 密级")
        else:
            levels.append((parsed[0], parsed[1], where))
    period_given = from_block("保密期限")
    marked = [lv for lv in levels if lv[0]]
    if marked:
        order = ("绝密", "机密", "秘密")
        top = min(marked, key=lambda lv: order.index(lv[0]))  # type: ignore[arg-type]
        put("security_level", top[0], top[2])
        period = top[1] or next((lv[1] for lv in marked if lv[1]), None)
        if period is None and period_given:
            period = period_given[0]
        if period:
            meta.security_period = period
            meta.provenance["security_period"] = top[2]
    if len({lv[0] for lv in levels}) > 1:
        said = "; ".join(f"{lv[2]} says {lv[0] or 'none'}" for lv in levels)
        meta.conflicts.append(f"security_level: sources disagree ({said})")

    if body.urgency:
        put("urgency", body.urgency[0], _where("版头", body.urgency[1]))
    else:
        given = from_block("紧急程度")
        if given:
            m = re.search(r"特急|加急", given[0])
            if m:
                put("urgency", m.group(0), given[1])
    if body.copy_number:
        put("copy_number", body.copy_number[0], _where("版头", body.copy_number[1]))

    if body.signer:
        put("signer", body.signer[0], _where("版头", body.signer[1]))
    else:
        given = from_block("签发人")
        if given:
            name = given[0]
            for _, s, e in reversed(find_dates(name)):
                name = name[:s] + name[e:]
            name = _names(name)
            if name:
                put("signer", name, given[1])

    # 主送, 附件, 抄送, 印发 ----------------------------------------------------------------
    if body.recipients:
        put("recipients", body.recipients[0], _where("主送机关", body.recipients[1]))
    else:
        given = from_block("主送")
        if given:
            put("recipients", _strip_colon(_clean(given[0])), given[1])
    if body.attachments:
        put("attachments", body.attachments[0], _where("附件说明", body.attachments[1]))
    if body.cc:
        put("cc", body.cc[0], _where("版记", body.cc[1]))
    else:
        given = from_block("抄送")
        if given:
            put("cc", _clean(given[0]), given[1])
    if body.printed:
        org, when, seg = body.printed
        if org:
            put("print_issuer", org, _where("版记", seg))
        if when:
            put("print_date", when, _where("版记", seg))

    # 索引号 and the portal's own record -------------------------------------------------------
    given = from_block("索引号")
    if given:
        put("index_number", _tight(given[0]), given[1])
    elif body.index_number:
        put("index_number", body.index_number[0], _where("索引号", body.index_number[1]))
    _drop_placeholders(meta, body.placeholders)
    if portal:
        given = from_block("发布机构")
        if given:
            put("publisher", _clean(given[0]), given[1])
        given = from_block("发布日期")
        if given:
            iso = parse_date(given[0])
            if iso:
                put("publish_date", iso, given[1])
    return meta
