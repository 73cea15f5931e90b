"""The .docx reader: lines in document order from the body, tables, text boxes, headers, footers.

python-docx opens the parts the reader walks — the main document part, its headers and
footers (docx_parts.walked) — after `safety` has checked the raw zip: directory, inflation
caps, no DOCTYPE in any XML part; python-docx's own parser resolves no entities. The styles
part is read by docx_parts' cache, once per template. python-docx's object layer is not used
for the text: `Document.paragraphs` skips text boxes (red-header templates put the 发文机关标志
and the 文号 there), and merged cells come back once per grid column. So the element trees
python-docx parsed — `document.element.body`, each section's header/footer parts — are walked
here in one pass each. Layout facts a reader of a 公文
needs are carried on each `Line`: alignment, first-line indent in characters, font size, red
colour, table cell, and a preceding blank.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from gongkai.extractors.docx_parts import StylesCache, walked
from gongkai.extractors.model import Align, ExtractionError, Line, ParsedDocument, Region
from gongkai.extractors.safety import (
    DEFAULT_LIMITS,
    Deadline,
    Limits,
    SafeZip,
    check_xml,
    parse_xml,
    prolog_declares_dtd,
)

__all__ = ["read_docx"]

_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


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
W_STYLE, W_STYLEID, W_BASEDON, W_DEFAULT = (
    qn("w:style"), qn("w:styleId"), qn("w:basedOn"), qn("w:default"),
)
W_DOCDEFAULTS = qn("w:docDefaults")
W_TYPE = qn("w:type")
MC_ALT = f"{{{_MC}}}AlternateContent"
MC_CHOICE, MC_FALLBACK = f"{{{_MC}}}Choice", f"{{{_MC}}}Fallback"

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


def _first_children(element: etree._Element) -> dict[Any, etree._Element]:
    """The first child of each tag (what `element.find(tag)` gives), in one pass over the
    few children of a w:rPr / w:pPr: cheaper than a find per property."""
    first: dict[Any, etree._Element] = {}
    for child in element:
        first.setdefault(child.tag, child)
    return first


def _rpr_into(rpr: etree._Element | None, props: _Props) -> None:
    if rpr is not None:
        _rpr_from(_first_children(rpr), props)


def _rpr_from(first: dict[Any, etree._Element], props: _Props) -> None:
    sz = first.get(W_SZ)
    if sz is not None:
        half_points = _int(sz.get(W_VAL), 0)
        if half_points > 0:
            props.size = half_points / 2
    color = first.get(W_COLOR)
    if color is not None:
        props.red = _red(color.get(W_VAL))
    vanish = first.get(W_VANISH)
    if vanish is not None:
        props.hidden = vanish.get(W_VAL) not in ("0", "false", "off")


def _ppr_into(ppr: etree._Element | None, props: _Props) -> None:
    if ppr is not None:
        _ppr_from(_first_children(ppr), props)


def _ppr_from(first: dict[Any, etree._Element], props: _Props) -> None:
    jc = first.get(W_JC)
    if jc is not None and jc.get(W_VAL) in _JC:
        props.align = _JC[jc.get(W_VAL, "")]
    ind = first.get(W_IND)
    if ind is not None:
        # an attribute's Clark name ends in its local name: {ns}firstLineChars, firstLine
        props.ind.update({k.rpartition("}")[2]: v for k, v in ind.attrib.items()})


# A styles part holds ~160 styles (python-docx's template), a document uses a few: they are
# looked up by id in C rather than indexed in Python. One predicate and [1]: libxml2 stops at
# the first match (the first in document order, as before) instead of testing every style.
_STYLE_BY_ID = etree.XPath("w:style[@w:styleId = $id][1]", namespaces={"w": _W})
_STYLE_FACTS = etree.XPath(
    "w:style/w:basedOn | w:style/w:pPr/w:jc | w:style/w:pPr/w:ind | w:style/w:rPr/w:sz"
    " | w:style/w:rPr/w:color | w:style/w:rPr/w:vanish",
    namespaces={"w": _W},
)
_DEFAULT_PARAGRAPH_STYLE = etree.XPath(
    "w:style[@w:type = 'paragraph' and (@w:default = '1' or @w:default = 'true')][1]",
    namespaces={"w": _W},
)


class _Styles:
    """Paragraph and character styles with their basedOn chains resolved on demand. From a
    styles part python-docx parsed (a package read whole) each style is looked up in the tree
    when first used; `_Styles.table` reads every style of the part at once, so that the tree
    can go and the table be kept for the next document of the same template (docx_parts)."""

    def __init__(self, root: etree._Element | None) -> None:
        self._root = root
        self._raw: dict[str, tuple[str | None, _Props] | None] = {}
        self._resolved: dict[str, _Props] = {}
        self.defaults = _Props(size=_DEFAULT_SIZE)
        self.default_paragraph: str | None = None
        if root is None:
            return
        self._apply_defaults(root.find(W_DOCDEFAULTS))
        default = _DEFAULT_PARAGRAPH_STYLE(root)
        if default:
            self.default_paragraph = default[0].get(W_STYLEID) or None

    @classmethod
    def table(cls, root: etree._Element) -> _Styles:
        """Every style of the part read now, nothing left to look up in the tree: the facts a
        style can set are found in one XPath pass (in C), each assigned to its style (the
        first w:pPr / w:rPr of a style, the first of each property in it, the first style of
        a repeated id: what the lookup in the tree finds)."""
        styles = cls(root)
        first: dict[str, etree._Element] = {}
        for element in root.iterchildren(W_STYLE):
            style_id = element.get(W_STYLEID)
            if style_id is not None:
                first.setdefault(style_id, element)
        chosen = {element: style_id for style_id, element in first.items()}
        based: dict[etree._Element, str | None] = {}
        facts: dict[tuple[etree._Element, str], dict[Any, etree._Element]] = {}
        containers: dict[tuple[etree._Element, str], etree._Element] = {}
        for hit in _STYLE_FACTS(root):
            if hit.tag == W_BASEDON:
                based.setdefault(hit.getparent(), hit.get(W_VAL))
                continue
            container = hit.getparent()
            key = (container.getparent(), container.tag)
            if containers.setdefault(key, container) is container:
                facts.setdefault(key, {}).setdefault(hit.tag, hit)
        for element, style_id in chosen.items():
            props = _Props()
            _ppr_from(facts.get((element, W_PPR), {}), props)
            _rpr_from(facts.get((element, W_RPR), {}), props)
            styles._raw[style_id] = (based.get(element), props)
        styles._root = None
        return styles

    def _apply_defaults(self, defaults: etree._Element | None) -> None:
        if defaults is None:
            return
        for rpr in defaults.iter(W_RPR):
            _rpr_into(rpr, self.defaults)
        for ppr in defaults.iter(W_PPR):
            _ppr_into(ppr, self.defaults)

    def _own(self, style_id: str) -> tuple[str | None, _Props] | None:
        """What one style sets itself, and the style it is based on."""
        if style_id in self._raw:
            return self._raw[style_id]
        hits = _STYLE_BY_ID(self._root, id=style_id) if self._root is not None else []
        found = _style_props(hits[0]) if hits else None
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


def _style_props(element: etree._Element) -> tuple[str | None, _Props]:
    """What one w:style sets itself, and the id of the style it is based on."""
    props = _Props()
    _ppr_into(element.find(W_PPR), props)
    _rpr_into(element.find(W_RPR), props)
    based = element.find(W_BASEDON)
    return (based.get(W_VAL) if based is not None else None, props)


_STYLES = StylesCache(_Styles, _Styles.table)


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
                first = _first_children(child)
                style = first.get(W_RSTYLE)
                if style is not None:
                    char_style = self.styles.get(style.get(W_VAL))
                    if char_style is not self.styles.defaults:
                        size = char_style.size or size
                        red = char_style.red if char_style.red is not None else red
                        hidden = char_style.hidden if char_style.hidden is not None else hidden
                own = _Props()
                _rpr_from(first, own)
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
        ppr_first: dict[Any, etree._Element] = {}
        if ppr is not None:
            ppr_first = _first_children(ppr)
            pstyle = ppr_first.get(W_PSTYLE)
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
        _ppr_from(ppr_first, props)
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

# The header/footer references of each section, in the order python-docx's accessors read
# them: first_page_header, header, even_page_header (and the footers alike).
W_HEADER_REFERENCE, W_FOOTER_REFERENCE = qn("w:headerReference"), qn("w:footerReference")
_HEADER_FOOTER_TYPES = ("first", "default", "even")
# python-docx's CT_Document.sectPr_lst, compiled once (it compiles the XPath on every call).
_SECTION_PROPERTIES = etree.XPath(
    "./w:body/w:p/w:pPr/w:sectPr | ./w:body/w:sectPr", namespaces={"w": _W}
)
_PARSED_BY_PYTHON_DOCX = (".xml", ".rels")


def _damaged(detail: str) -> ExtractionError:
    return ExtractionError(
        "corrupt",
        f"文件已损坏 (the Word file is damaged: {detail}): open it in Word or WPS, save it again "
        "as .docx, and resubmit",
    )


_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def _xml_parts(package: SafeZip) -> set[str]:
    """The entries python-docx may parse as XML: .xml and .rels by name, and any entry whose
    content type ([Content_Types].xml, by override or by extension) is XML — python-docx
    parses by content type, so a document part named `word/doc.dat` is XML too."""
    names = set(package.names())
    found = {n for n in names if n.lower().endswith(_PARSED_BY_PYTHON_DOCX)}
    if "[Content_Types].xml" not in names:
        return found
    types = parse_xml(package.read("[Content_Types].xml"), "[Content_Types].xml")
    xml_extensions = {
        (d.get("Extension") or "").lower() for d in types.iter(f"{_CT_NS}Default")
        if "xml" in (d.get("ContentType") or "")
    }
    found.update(n for n in names if n.rsplit(".", 1)[-1].lower() in xml_extensions)
    for override in types.iter(f"{_CT_NS}Override"):
        name = (override.get("PartName") or "").lstrip("/")
        if "xml" in (override.get("ContentType") or "") and name in names:
            found.add(name)
    return found


def _checked_package(data: bytes, limits: Limits) -> SafeZip:
    """The guards run on the raw zip before python-docx sees it: SafeZip checks the directory
    (entry count, names, declared sizes and ratios; python-docx's zipfile then stops every
    entry at its checked declared size), and every part python-docx parses as XML is refused
    if it declares a DOCTYPE. A DOCTYPE can only precede the root element, so only the prolog
    is inflated (the whole part if it is UTF-16: `safety.check_xml`), from the local entry
    (`SafeZip.head`) where it is a plain one; the directory is read once, by SafeZip."""
    package = SafeZip(data, limits)
    xml_parts = _xml_parts(package)
    for name in package.names():
        if name not in xml_parts:
            continue
        if package.info(name).flag_bits & 0x1:
            package.read(name)  # raises the one "encrypted" error, with what to do
        head = package.head(name, _PROLOG_HEAD)
        if head is not None and not _utf16(head):
            verdict = prolog_declares_dtd(head, complete=False)
            if verdict:
                check_xml(head, name)  # raises the one unsafe_xml error
            if verdict is False:
                continue
        _check_prolog_stream(package, name)
    return package


_PROLOG_CHUNK = 4096
# An Office part's prolog (an XML declaration) is under 100 bytes: a verdict on the first 512
# is the verdict on the whole part; a longer prolog is read on through zipfile.
_PROLOG_HEAD = 512


def _utf16(head: bytes) -> bool:
    return head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]


def _check_prolog_stream(package: SafeZip, name: str) -> None:
    """The prolog check through zipfile's stream, in growing chunks (linear, not quadratic):
    for the parts `SafeZip.head` does not read, a prolog longer than its first chunk, and
    UTF-16 parts (searched whole)."""
    try:
        with package.open(name) as stream:
            head = b""
            size = _PROLOG_CHUNK
            while True:
                chunk = stream.read(size)
                head += chunk
                if _utf16(head):
                    check_xml(head + stream.read(), name)
                    break
                verdict = prolog_declares_dtd(head, complete=False)
                if verdict:
                    check_xml(head, name)  # raises the one unsafe_xml error
                if verdict is False or not chunk:
                    break
                size *= 2
    except ExtractionError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, zlib.error, EOFError …
        raise _damaged(f"{name}: {type(exc).__name__}: {exc}") from None


def _open_document(data: bytes) -> Any:
    import docx
    from docx.opc.exceptions import OpcError

    try:
        return docx.Document(io.BytesIO(data))
    except ExtractionError:
        raise
    except etree.XMLSyntaxError as exc:
        raise _damaged(f"a part is not well-formed XML: {exc}") from None
    except ValueError as exc:
        if "not a Word file" in str(exc):
            raise ExtractionError(
                "unsupported_type",
                "不支持的文件类型 (the file is a Word template or macro document, not a .docx "
                "document): open it in Word or WPS, save it as .docx, and resubmit",
            ) from None
        raise _damaged(str(exc)) from None
    except (OpcError, KeyError) as exc:
        raise _damaged(f"{type(exc).__name__}: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile, zlib.error … from an entry not read above
        raise _damaged(f"{type(exc).__name__}: {exc}") from None


def _styles_element(document: Any) -> etree._Element | None:
    """The styles part's root, or None. Not `document.styles`: for a file without a styles
    part python-docx would invent one from its own template, whose defaults are not this
    document's."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    try:
        return document.part.part_related_by(RT.STYLES).element
    except KeyError:
        return None


def _header_footer_parts(document: Any, reference: str) -> list[etree._Element]:
    """Each header (or footer) part once, in the order the sections refer to them. What
    python-docx's `section.header` & co. do, without their per-call XPath: the sections'
    w:sectPr as `Document.sections` finds them, each kind's first reference (a kind a section
    does not define itself is linked to the previous one: skipped), its part by the
    reference's r:id through the document part's public `header_part` / `footer_part`."""
    part_by_id = (
        document.part.header_part if reference == W_HEADER_REFERENCE
        else document.part.footer_part
    )  # fmt: skip
    roots: list[etree._Element] = []
    seen: set[int] = set()
    for sect_pr in _SECTION_PROPERTIES(document.element):
        refs: dict[str | None, Any] = {}
        for ref in sect_pr.iterchildren(reference):
            refs.setdefault(ref.get(W_TYPE), ref)
        for kind in _HEADER_FOOTER_TYPES:
            ref = refs.get(kind)
            if ref is None:
                continue
            root = part_by_id(ref.rId).element
            if id(root) not in seen:
                seen.add(id(root))
                roots.append(root)
    return roots


def _release(document: Any) -> None:
    """Empty the relationship maps of python-docx's package once it has been read. Its parts
    and relationships point at each other, a reference cycle that only the cyclic collector
    frees, and the `gongkai` command runs that collector rarely (flows/collector.py): every
    document read kept its parsed XML trees and part blobs (MBs for Word's styles parts) until
    then, 1.7 GB after 500 .docx. Without the relationships nothing points back, and the
    package is freed as soon as the reader drops it. Public API only: `rels` is a dict,
    `related_parts` its target map."""
    pending = [document.part.package.rels]
    seen: set[int] = set()
    while pending:
        rels = pending.pop()
        targets = list(rels.related_parts.values())
        rels.related_parts.clear()
        rels.clear()
        for part in targets:
            if id(part) not in seen:
                seen.add(id(part))
                pending.append(part.rels)


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    """python-docx opens the parts the reader walks (docx_parts.walked); the styles come from
    the styles cache. A package not laid out as OPC says is handed over whole (read_whole)."""
    deadline = Deadline(limits.max_seconds)
    package = _checked_package(data, limits)
    parts = walked(package)
    if parts is None:
        return read_whole(data, deadline)
    document = _open_document(parts.data)
    try:
        styles = _STYLES.get(package, parts.styles) if parts.styles else _Styles(None)
        return _read_document(document, styles, deadline)
    finally:
        _release(document)


def read_whole(data: bytes, deadline: Deadline) -> ParsedDocument:
    """The package as a whole through python-docx, its styles from the part it parsed (data
    already through `_checked_package`)."""
    document = _open_document(data)
    try:
        return _read_document(document, _Styles(_styles_element(document)), deadline)
    finally:
        _release(document)


def _read_document(document: Any, styles: _Styles, deadline: Deadline) -> ParsedDocument:
    deadline.check("opening the document")
    body = document.element.body
    if body is None:
        raise _damaged("the document has no body")
    reader = _Reader(styles, deadline)
    warnings: list[str] = []
    try:
        headers = _header_footer_parts(document, W_HEADER_REFERENCE)
        footers = _header_footer_parts(document, W_FOOTER_REFERENCE)
    except KeyError as exc:  # a headerReference to a relationship the package lacks
        headers, footers = [], []
        warnings.append(f"a header or footer is missing from the file ({exc}); not read")

    for root in headers:
        reader.block(root, "header", None)
    reader.blank_pending = False
    reader.block(body, "body", None)
    for root in footers:
        reader.block(root, "footer", None)
    if reader.hidden_chars:
        warnings.append(
            f"the document contains {reader.hidden_chars} characters of hidden text (not shown "
            "or printed); they were not read"
        )
    return ParsedDocument("docx", reader.lines, None, True, warnings)
