"""The .docx reader: lines in document order from the body, tables, text boxes, headers, footers.

python-docx's object layer skips text boxes (red-header templates put the 发文机关标志 and the
文号 there), is slow on tables and reads the package with no limits, so the parts are read once
with lxml, one pass over the XML of the parts that hold text (python-docx itself is the
baseline in benchmarks/extract.py, and builds the test documents; importing it would cost
this reader ~60 ms of start-up for two namespace names). Every part comes through
`safety.SafeZip` (zip directory checked, inflation capped) and `safety.parse_xml` (no DTD, no
entities). Layout facts a reader of a 公文 needs are carried on each `Line`: alignment,
first-line indent in characters, font size, red colour, table cell, and a preceding blank.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from gongkai.extractors.model import Align, ExtractionError, Line, ParsedDocument, Region
from gongkai.extractors.safety import (
    DEFAULT_LIMITS,
    Deadline,
    Limits,
    SafeZip,
    check_xml,
    parse_xml,
)

__all__ = ["read_docx"]

_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def qn(name: str) -> str:
    """Clark name of a `w:` element or attribute."""
    return f"{{{_W}}}{name.removeprefix('w:')}"


W_P, W_TBL, W_TR, W_TC, W_R = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:r")
W_T, W_TAB, W_BR, W_CR, W_PTAB = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:ptab")
W_NBHYPHEN = qn("w:noBreakHyphen")
W_PPR, W_RPR, W_TCPR, W_TRPR = qn("w:pPr"), qn("w:rPr"), qn("w:tcPr"), qn("w:trPr")
W_PSTYLE, W_RSTYLE, W_JC, W_IND = qn("w:pStyle"), qn("w:rStyle"), qn("w:jc"), qn("w:ind")
W_SZ, W_COLOR, W_VAL = qn("w:sz"), qn("w:color"), qn("w:val")
W_VANISH = qn("w:vanish")
W_GRIDSPAN, W_VMERGE, W_HMERGE, W_GRIDBEFORE = (
    qn("w:gridSpan"), qn("w:vMerge"), qn("w:hMerge"), qn("w:gridBefore"),
)
W_TXBX = qn("w:txbxContent")
W_SDT, W_SDTCONTENT, W_CUSTOMXML = qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")
W_BODY, W_SECTPR = qn("w:body"), qn("w:sectPr")
W_HEADERREF, W_FOOTERREF, W_TYPE = qn("w:headerReference"), qn("w:footerReference"), qn("w:type")
W_STYLE, W_STYLEID, W_BASEDON, W_DEFAULT = (
    qn("w:style"), qn("w:styleId"), qn("w:basedOn"), qn("w:default"),
)
W_DOCDEFAULTS = qn("w:docDefaults")
R_ID = f"{{{_REL_NS}}}id"
MC_ALT = f"{{{_MC}}}AlternateContent"
MC_CHOICE, MC_FALLBACK = f"{{{_MC}}}Choice", f"{{{_MC}}}Fallback"
PKG_RELATIONSHIP = f"{{{_PKG_REL}}}Relationship"

# Inline wrappers whose runs are part of the paragraph's visible text. Deleted text (w:del,
# w:moveFrom) and field instructions (w:instrText) are not.
_INLINE_WRAPPERS = frozenset(
    qn(f"w:{name}")
    for name in ("hyperlink", "ins", "smartTag", "sdt", "sdtContent", "fldSimple",
                 "customXml", "moveTo", "dir", "bdo")
)
# Where a text box can hide inside a run.
_BLOCK_WRAPPERS = frozenset((W_SDT, W_SDTCONTENT, W_CUSTOMXML, qn("w:ins"), qn("w:moveTo")))

_JC: dict[str, Align] = {
    "left": "left", "start": "left", "center": "center", "right": "right", "end": "right",
    "both": "justify", "distribute": "justify", "thaiDistribute": "justify",
    "mediumKashida": "justify", "highKashida": "justify", "lowKashida": "justify",
}
_REF_ORDER = {"first": 0, "default": 1, "even": 2}
_TWIPS_PER_POINT = 20.0
_DEFAULT_SIZE = 10.5  # Word's default (五号) when neither style nor defaults give one


def _red(value: str | None) -> bool | None:
    """Red-ish: the 发文机关标志's FF0000, C00000, E60012 … Not set (or auto) is unknown."""
    if not value or len(value) != 6 or value == "auto":
        return None
    try:
        r, g, b = int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
    except ValueError:
        return None
    return r >= 0xB0 and g <= 0x60 and b <= 0x60


@dataclass(slots=True)
class _Props:
    """Paragraph + run properties a style (or direct formatting) sets; None = not set here."""

    align: Align | None = None
    ind: dict[str, str] = field(default_factory=dict)
    size: float | None = None
    red: bool | None = None
    hidden: bool | None = None  # w:vanish: not shown, not printed


def _rpr_into(rpr: etree._Element | None, props: _Props) -> None:
    if rpr is None:
        return
    sz = rpr.find(W_SZ)
    if sz is not None:
        half_points = _int(sz.get(W_VAL), 0)
        if half_points > 0:
            props.size = half_points / 2
    color = rpr.find(W_COLOR)
    if color is not None:
        props.red = _red(color.get(W_VAL))
    vanish = rpr.find(W_VANISH)
    if vanish is not None:
        props.hidden = vanish.get(W_VAL) not in ("0", "false", "off")


def _ppr_into(ppr: etree._Element | None, props: _Props) -> None:
    if ppr is None:
        return
    jc = ppr.find(W_JC)
    if jc is not None and jc.get(W_VAL) in _JC:
        props.align = _JC[jc.get(W_VAL, "")]
    ind = ppr.find(W_IND)
    if ind is not None:
        props.ind.update({etree.QName(k).localname: v for k, v in ind.attrib.items()})


_STYLES_OPEN = re.compile(rb"<w:styles\b[^>]*>")
_STYLE_TAG = re.compile(rb"<w:style\b([^>]*?)(/?)>")
_ATTR = re.compile(rb'(w:styleId|w:type|w:default)\s*=\s*["\']([^"\']*)["\']')


class _Styles:
    """Paragraph and character styles with their basedOn chains resolved on demand.

    A styles part is large (python-docx's template: 350 kB, 164 styles, most unused) and
    parsing it whole costs more than the document. So when it is written the way Word, WPS
    and python-docx write it (prefix `w:`), only its start tags are indexed, and the few
    styles the document uses are parsed on demand, each as a fragment inside the part's own
    root tag (which declares every namespace the fragment may use). Anything else: whole."""

    def __init__(self, data: bytes | None, part: str) -> None:
        self._part = part
        self._data = data or b""
        self._open_tag = b""
        self._spans: dict[str, tuple[int, int]] = {}
        self._elements: dict[str, etree._Element] = {}
        self._raw: dict[str, tuple[str | None, _Props] | None] = {}
        self._resolved: dict[str, _Props] = {}
        self.defaults = _Props(size=_DEFAULT_SIZE)
        self.default_paragraph: str | None = None
        if data is None:
            return
        check_xml(data, part)
        opening = _STYLES_OPEN.search(data)
        if opening is None:
            self._index_parsed(parse_xml(data, part))
            return
        self._open_tag = opening.group(0)
        for tag in _STYLE_TAG.finditer(data, opening.end()):
            attrs = dict(_ATTR.findall(tag.group(1)))
            style_id = attrs.get(b"w:styleId", b"").decode("utf-8", "replace")
            if not style_id:
                continue
            end = tag.end() if tag.group(2) else data.find(b"</w:style>", tag.end())
            if end < 0:
                raise ExtractionError(
                    "corrupt",
                    f"文件已损坏 (the Word part {part} is cut short): open it in Word or WPS, "
                    "save it again as .docx, and resubmit",
                )
            self._spans.setdefault(style_id, (tag.start(), end if tag.group(2) else end + 10))
            if attrs.get(b"w:default") in (b"1", b"true") and attrs.get(b"w:type") == b"paragraph":
                self.default_paragraph = style_id
        start = data.find(b"<w:docDefaults", opening.end())
        if start >= 0:
            end = data.find(b"</w:docDefaults>", start)
            if end >= 0:
                self._apply_defaults(self._fragment(start, end + len(b"</w:docDefaults>")))

    def _fragment(self, start: int, end: int) -> etree._Element:
        root = parse_xml(self._open_tag + self._data[start:end] + b"</w:styles>", self._part)
        return root[0]

    def _apply_defaults(self, defaults: etree._Element | None) -> None:
        if defaults is None:
            return
        for rpr in defaults.iter(W_RPR):
            _rpr_into(rpr, self.defaults)
        for ppr in defaults.iter(W_PPR):
            _ppr_into(ppr, self.defaults)

    def _index_parsed(self, root: etree._Element) -> None:
        self._apply_defaults(root.find(W_DOCDEFAULTS))
        for style in root.iter(W_STYLE):
            style_id = style.get(W_STYLEID)
            if not style_id:
                continue
            self._elements.setdefault(style_id, style)
            if style.get(W_DEFAULT) in ("1", "true") and style.get(W_TYPE) == "paragraph":
                self.default_paragraph = style_id

    def _own(self, style_id: str) -> tuple[str | None, _Props] | None:
        """What one style sets itself, and the style it is based on."""
        if style_id in self._raw:
            return self._raw[style_id]
        element = self._elements.get(style_id)
        if element is None and style_id in self._spans:
            element = self._fragment(*self._spans[style_id])
        found = None
        if element is not None:
            props = _Props()
            _ppr_into(element.find(W_PPR), props)
            _rpr_into(element.find(W_RPR), props)
            based = element.find(W_BASEDON)
            found = (based.get(W_VAL) if based is not None else None, props)
        self._raw[style_id] = found
        return found

    def get(self, style_id: str | None) -> _Props:
        if style_id is None:
            style_id = self.default_paragraph
        if style_id is None:
            return self.defaults
        hit = self._resolved.get(style_id)
        if hit is not None:
            return hit
        chain: list[_Props] = []
        seen: set[str] = set()
        current: str | None = style_id
        while current is not None and current not in seen:
            seen.add(current)
            own = self._own(current)
            if own is None:
                break
            chain.append(own[1])
            current = own[0]
        if not chain:
            self._resolved[style_id] = self.defaults
            return self.defaults
        merged = _Props(self.defaults.align, dict(self.defaults.ind), self.defaults.size,
                        self.defaults.red, self.defaults.hidden)
        for props in reversed(chain):
            merged.align = props.align or merged.align
            merged.ind.update(props.ind)
            merged.size = props.size or merged.size
            merged.red = props.red if props.red is not None else merged.red
            merged.hidden = props.hidden if props.hidden is not None else merged.hidden
        self._resolved[style_id] = merged
        return merged


def _choose(alternate: etree._Element) -> etree._Element | None:
    """One branch of mc:AlternateContent: the first mc:Choice (DrawingML, understood here), so
    a text box written twice (Choice and its VML Fallback) is read once."""
    fallback = None
    for child in alternate:
        if child.tag == MC_CHOICE:
            return child
        if child.tag == MC_FALLBACK:
            fallback = child
    return fallback


def _text_boxes(element: etree._Element, out: list[etree._Element]) -> None:
    """The outermost w:txbxContent under a drawing/pict/object, in document order (nested ones
    are read when the box's own paragraphs are)."""
    for child in element:
        tag = child.tag
        if tag == W_TXBX:
            out.append(child)
        elif tag == MC_ALT:
            chosen = _choose(child)
            if chosen is not None:
                _text_boxes(chosen, out)
        elif isinstance(tag, str) and len(child):
            _text_boxes(child, out)


@dataclass(slots=True)
class _Para:
    pieces: list[str] = field(default_factory=list)
    size: float | None = None
    red_chars: int = 0
    chars: int = 0
    boxes: list[etree._Element] = field(default_factory=list)


class _Reader:
    def __init__(self, styles: _Styles, deadline: Deadline) -> None:
        self.styles = styles
        self.deadline = deadline
        self.lines: list[Line] = []
        self.tables = 0
        self.blank_pending = False
        self.paragraphs = 0
        self.hidden_chars = 0

    # -- inline content ---------------------------------------------------------------------

    def _run(self, run: etree._Element, para: _Para, base: _Props) -> None:
        size = base.size
        red = base.red
        hidden = base.hidden
        text_len = 0
        for child in run:
            tag = child.tag
            if tag == W_T:
                if child.text:
                    if hidden:
                        # Hidden text is neither shown nor printed: a reader of the paper
                        # document never sees it, so nothing may be read from it.
                        self.hidden_chars += len(child.text)
                        continue
                    para.pieces.append(child.text)
                    text_len += len(child.text)
            elif tag == W_RPR:
                style = child.find(W_RSTYLE)
                if style is not None:
                    char_style = self.styles.get(style.get(W_VAL))
                    if char_style is not self.styles.defaults:
                        size = char_style.size or size
                        red = char_style.red if char_style.red is not None else red
                        hidden = char_style.hidden if char_style.hidden is not None else hidden
                own = _Props()
                _rpr_into(child, own)
                size = own.size or size
                red = own.red if own.red is not None else red
                hidden = own.hidden if own.hidden is not None else hidden
            elif hidden:
                continue
            elif tag in (W_TAB, W_PTAB):
                para.pieces.append("\t")
            elif tag in (W_BR, W_CR):
                para.pieces.append("\n")
            elif tag == W_NBHYPHEN:
                para.pieces.append("-")
            elif tag == MC_ALT:
                chosen = _choose(child)
                if chosen is not None:
                    _text_boxes(chosen, para.boxes)
            elif isinstance(tag, str) and len(child):
                # w:drawing, w:pict, w:object: text boxes live deep inside
                _text_boxes(child, para.boxes)
        if text_len:
            if para.size is None:
                para.size = size
            para.chars += text_len
            if red:
                para.red_chars += text_len

    def _inline(self, element: etree._Element, para: _Para, base: _Props) -> None:
        for child in element:
            tag = child.tag
            if tag == W_R:
                self._run(child, para, base)
            elif tag in _INLINE_WRAPPERS:
                self._inline(child, para, base)
            elif tag == MC_ALT:
                chosen = _choose(child)
                if chosen is not None:
                    self._inline(chosen, para, base)

    # -- blocks -----------------------------------------------------------------------------

    def paragraph(
        self, p: etree._Element, region: Region, table: tuple[int, int, int] | None
    ) -> None:
        self.paragraphs += 1
        if self.paragraphs % 256 == 0:
            self.deadline.check(f"paragraph {self.paragraphs}")
        ppr = p.find(W_PPR)
        style_id = None
        if ppr is not None:
            pstyle = ppr.find(W_PSTYLE)
            if pstyle is not None:
                style_id = pstyle.get(W_VAL)
        style = self.styles.get(style_id)
        para = _Para()
        self._inline(p, para, style)
        # A floating box is drawn at (or above) the paragraph that anchors it.
        box_region: Region = region if region in ("header", "footer") else "textbox"
        for box in para.boxes:
            self.block(box, box_region, None)
        text = "".join(para.pieces)
        if not text.strip():
            if table is None and not para.boxes:
                self.blank_pending = True
            return
        props = _Props(style.align, dict(style.ind))
        _ppr_into(ppr, props)
        size = para.size or style.size
        align: Align = props.align or "left"
        indent = _indent_chars(props.ind, size)
        red = para.red_chars * 2 >= para.chars if para.chars else None
        for piece in text.split("\n"):
            if not piece.strip():
                continue
            self.lines.append(Line(
                piece.rstrip("\r"),
                region=region,
                font_size=size,
                is_red=red,
                align=align,
                indent_chars=indent,
                table=table,
                blank_before=self.blank_pending,
            ))
            self.blank_pending = False
            indent = None  # only the first line of the paragraph carries the indent

    def table(self, tbl: etree._Element, region: Region) -> None:
        index = self.tables
        self.tables += 1
        self.deadline.check(f"table {index + 1}")
        cell_region: Region = region if region in ("header", "footer") else "table"
        for row_index, tr in enumerate(_children(tbl, W_TR)):
            col = 0
            trpr = tr.find(W_TRPR)
            if trpr is not None:
                before = trpr.find(W_GRIDBEFORE)
                if before is not None:
                    col = _int(before.get(W_VAL), 0)
            for tc in _children(tr, W_TC):
                span = 1
                continuation = False
                tcpr = tc.find(W_TCPR)
                if tcpr is not None:
                    grid = tcpr.find(W_GRIDSPAN)
                    if grid is not None:
                        span = max(1, _int(grid.get(W_VAL), 1))
                    for merge_tag in (W_VMERGE, W_HMERGE):
                        merge = tcpr.find(merge_tag)
                        if merge is not None and merge.get(W_VAL) != "restart":
                            continuation = True  # the merged cell's text is in its first cell
                if not continuation:
                    self.block(tc, cell_region, (index, row_index, col))
                col += span
        self.blank_pending = False

    def block(
        self, container: etree._Element, region: Region, table: tuple[int, int, int] | None
    ) -> None:
        for child in container:
            tag = child.tag
            if tag == W_P:
                self.paragraph(child, region, table)
            elif tag == W_TBL:
                self.table(child, region)
            elif tag in _BLOCK_WRAPPERS:
                self.block(child, region, table)
            elif tag == MC_ALT:
                chosen = _choose(child)
                if chosen is not None:
                    self.block(chosen, region, table)


def _children(element: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Direct children with `tag`, looking through content controls and custom XML."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _BLOCK_WRAPPERS:
            yield from _children(child, tag)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _indent_chars(ind: dict[str, str], size: float | None) -> float | None:
    """First-line indent in characters: w:firstLineChars (hundredths) where Word wrote it,
    else w:firstLine (twips) over the font size; hanging indents are negative."""
    chars = _int(ind.get("firstLineChars"), 0)
    if chars:
        return chars / 100
    hanging_chars = _int(ind.get("hangingChars"), 0)
    if hanging_chars:
        return -hanging_chars / 100
    font = size or _DEFAULT_SIZE
    twips = _int(ind.get("firstLine"), 0)
    if twips:
        return round(twips / _TWIPS_PER_POINT / font, 2)
    hanging = _int(ind.get("hanging"), 0)
    if hanging:
        return -round(hanging / _TWIPS_PER_POINT / font, 2)
    return None


# ---------------------------------------------------------------------------------------------
# the package
# ---------------------------------------------------------------------------------------------


def _rels_name(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _relationships(package: SafeZip, part: str) -> dict[str, tuple[str, str]]:
    """rId -> (type, part name) for a part's internal relationships."""
    rels_part = _rels_name(part) if part else "_rels/.rels"
    if not package.has(rels_part):
        return {}
    root = parse_xml(package.read(rels_part), rels_part)
    folder = posixpath.dirname(part)
    found: dict[str, tuple[str, str]] = {}
    for rel in root.iter(PKG_RELATIONSHIP):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target") or ""
        name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(folder, target)
        )
        found[rel.get("Id") or ""] = (rel.get("Type") or "", name)
    return found


def _main_part(package: SafeZip) -> str:
    for rel_type, name in _relationships(package, "").values():
        if rel_type.endswith("/officeDocument") and package.has(name):
            return name
    if package.has("word/document.xml"):
        return "word/document.xml"
    raise ExtractionError(
        "corrupt",
        "文件已损坏 (the Word file has no main document part): open it in Word or WPS, save it "
        "again as .docx, and resubmit",
    )


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    deadline = Deadline(limits.max_seconds)
    package = SafeZip(data, limits)
    if package.has("[Content_Types].xml"):
        parse_xml(package.read("[Content_Types].xml"), "[Content_Types].xml")
    main = _main_part(package)
    rels = _relationships(package, main)
    root = parse_xml(package.read(main), main)
    body = root.find(W_BODY)
    if body is None:
        raise ExtractionError(
            "corrupt",
            "文件已损坏 (the Word document has no body): open it in Word or WPS, save it again "
            "as .docx, and resubmit",
        )
    styles = _Styles(None, "")
    for rel_type, name in rels.values():
        if rel_type.endswith("/styles") and package.has(name):
            styles = _Styles(package.read(name), name)
            break
    reader = _Reader(styles, deadline)
    warnings: list[str] = []

    # Header and footer parts, each once, in the order the sections refer to them.
    refs: list[tuple[int, int, str, str]] = []
    for section, sect in enumerate(root.iter(W_SECTPR)):
        for ref in sect:
            if ref.tag in (W_HEADERREF, W_FOOTERREF):
                kind = "header" if ref.tag == W_HEADERREF else "footer"
                refs.append((section, _REF_ORDER.get(ref.get(W_TYPE, "default"), 1), kind,
                             ref.get(R_ID) or ""))
    refs.sort()
    parts: dict[str, list[str]] = {"header": [], "footer": []}
    for _, _, kind, rel_id in refs:
        target = rels.get(rel_id)
        if target is None or not package.has(target[1]):
            warnings.append(f"the {kind} {rel_id} is missing from the file")
            continue
        if target[1] not in parts[kind]:
            parts[kind].append(target[1])

    for name in parts["header"]:
        reader.block(parse_xml(package.read(name), name), "header", None)
    reader.blank_pending = False
    reader.block(body, "body", None)
    for name in parts["footer"]:
        reader.block(parse_xml(package.read(name), name), "footer", None)
    if reader.hidden_chars:
        warnings.append(
            f"the document contains {reader.hidden_chars} characters of hidden text (not shown "
            "or printed); they were not read"
        )
    return ParsedDocument("docx", reader.lines, None, True, warnings)
