"""The .ofd reader (GB/T 33190-2016, the national format of electronic official documents).

An OFD file is a zip package. OFD.xml names the document's root (ofd:DocBody/ofd:DocRoot, e.g.
Doc_0/Document.xml); Document.xml lists the pages (ofd:Pages/ofd:Page/@BaseLoc, e.g.
Pages/Page_0/Content.xml) and the template pages they may draw on (a red 版头 often lives in
a template). Text is in ofd:TextObject elements: @Boundary "x y w h" and @Size in millimetres,
an optional ofd:FillColor @Value "r g b", and one or more ofd:TextCode with the characters and
their position (@X, @Y: the baseline, relative to the boundary; @DeltaX: the advances, with
"g N d" for N times d).

The package passes the same guards as a .docx (safety.py: SafeZip's directory checks and
inflation caps, no DOCTYPE in any XML part), paths inside it are resolved within the package
(an entry reached through "../" is refused), and page count, characters and time are bounded.
Lines come out as the PDF reader gives them, in points from the page's top-left corner, so the
field parser reads both alike (a centred 文号, a right-aligned 成文日期, a red 发文机关标志).
"""

from __future__ import annotations

import contextlib
import itertools
import posixpath
import re

from lxml import etree

from gongkai.extractors.model import ExtractionError, Line, ParsedDocument
from gongkai.extractors.safety import DEFAULT_LIMITS, Deadline, Limits, SafeZip, parse_xml

__all__ = ["read_ofd"]

_PT_PER_MM = 72 / 25.4
_A4 = (210.0, 297.0)
_SAME_LINE = 0.7  # mm: fragments whose tops differ by less are one visual line
_BLANK_GAP = 2.4  # a gap above a line of more than this many font sizes is an empty line


def _local(name: str) -> etree.XPath:
    """Elements by local name, in any namespace: producers write the 2016 namespace, early
    ones http://www.ofdspec.org, a few none at all."""
    return etree.XPath(f"//*[local-name() = '{name}']")


_DOC_ROOT = _local("DocRoot")
_PAGE = etree.XPath("//*[local-name() = 'Pages']/*[local-name() = 'Page']")
_TEMPLATE_PAGE = _local("TemplatePage")
_PAGE_TEMPLATE = _local("Template")
_PHYSICAL_BOX = _local("PhysicalBox")
_TEXT_OBJECT = _local("TextObject")
_CHILD = {name: etree.XPath(f"*[local-name() = '{name}']") for name in ("TextCode", "FillColor")}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE]-?\d+)?")


def _damaged(detail: str) -> ExtractionError:
    return ExtractionError(
        "corrupt",
        f"OFD文件已损坏 (the OFD file is damaged: {detail}): export it again from the "
        "program that made it, and resubmit",
    )


def _resolve(base_dir: str, location: str, package: SafeZip) -> str:
    """An entry named in the package (@BaseLoc, ofd:DocRoot) as a zip entry name: relative to
    the file that names it, or to the package root when it starts with '/'."""
    location = location.strip().replace("\\", "/")
    if location.startswith("/"):
        joined = location.lstrip("/")
    else:
        joined = posixpath.join(base_dir, location)
    name = posixpath.normpath(joined) if joined else ""
    if not name or name == "." or name.startswith("../") or name == "..":
        raise ExtractionError(
            "unsafe_path",
            f"文件包含非法路径 (the OFD package points to {location!r}, outside the package): "
            "it was not made by an OFD writer; do not open it, report it to IT",
        )
    if not package.has(name):
        raise _damaged(f"the part {name} is missing")
    return name


def _numbers(text: str | None) -> list[float]:
    return [float(n) for n in _NUMBER.findall(text or "")]


def _advances(delta_x: str | None) -> float:
    """The sum of the advances in @DeltaX ("g 3 5.2" is 5.2 three times)."""
    if not delta_x:
        return 0.0
    tokens = delta_x.split()
    total = 0.0
    k = 0
    while k < len(tokens):
        if tokens[k] == "g" and k + 2 < len(tokens):
            with contextlib.suppress(ValueError):
                total += int(tokens[k + 1]) * float(tokens[k + 2])
            k += 3
            continue
        with contextlib.suppress(ValueError):
            total += float(tokens[k])
        k += 1
    return total


def _red(text_object: etree._Element) -> bool | None:
    fills = _CHILD["FillColor"](text_object)
    if not fills:
        return False  # OFD's default fill is black
    values = _numbers(fills[0].get("Value"))
    if len(values) < 3:
        return None
    r, g, b = values[:3]
    return r >= 0xB0 and g <= 0x60 and b <= 0x60


# One piece of text as drawn: top, left, right (mm), size (mm), red, text.
_Fragment = tuple[float, float, float, float, bool | None, str]


def _fragments(root: etree._Element, chars_left: int) -> list[_Fragment]:
    found: list[_Fragment] = []
    for text_object in _TEXT_OBJECT(root):
        boundary = _numbers(text_object.get("Boundary"))
        if len(boundary) < 2:
            continue
        bx, by = boundary[0], boundary[1]
        size = (_numbers(text_object.get("Size")) or [3.5])[0] or 3.5
        red = _red(text_object)
        for code in _CHILD["TextCode"](text_object):
            text = (code.text or "").strip()
            if not text:
                continue
            chars_left -= len(text)
            if chars_left < 0:
                return found
            x = (_numbers(code.get("X")) or [0.0])[0]
            y = (_numbers(code.get("Y")) or [size])[0]
            left = bx + x
            right = left + (_advances(code.get("DeltaX")) or size * (len(text) - 1)) + size
            found.append((by + y - size, left, right, size, red, text))
    return found


def _page_lines(fragments: list[_Fragment], page_no: int, width_mm: float) -> list[Line]:
    """Fragments grouped into visual lines, top to bottom, each line left to right."""
    fragments.sort(key=lambda f: (f[0], f[1]))
    groups: list[list[_Fragment]] = []
    for fragment in fragments:
        if groups and fragment[0] - groups[-1][0][0] < _SAME_LINE:
            groups[-1].append(fragment)
        else:
            groups.append([fragment])
    lines: list[Line] = []
    previous_top: float | None = None
    for group in groups:
        group.sort(key=lambda f: f[1])
        text = group[0][5]
        for before, after in itertools.pairwise(group):
            gap = after[1] - before[2]
            text += (" " if gap > before[3] else "") + after[5]
        top, left, size = group[0][0], group[0][1], max(f[3] for f in group)
        right = max(f[2] for f in group)
        reds = [f[4] for f in group]
        blank = previous_top is not None and top - previous_top > _BLANK_GAP * size
        lines.append(Line(
            text, region="body", page=page_no, x0=round(left * _PT_PER_MM, 2),
            x1=round(right * _PT_PER_MM, 2), top=round(top * _PT_PER_MM, 2),
            page_width=round(width_mm * _PT_PER_MM, 2), font_size=round(size * _PT_PER_MM, 2),
            is_red=None if None in reds else all(reds), blank_before=blank,
        ))
        previous_top = top
    return lines


def _width(root: etree._Element, default: float) -> float:
    boxes = _PHYSICAL_BOX(root)
    values = _numbers(boxes[0].text) if boxes else []
    return values[2] if len(values) >= 4 and values[2] > 0 else default


def read_ofd(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    deadline = Deadline(limits.max_seconds)
    package = SafeZip(data, limits)
    if not package.has("OFD.xml"):
        raise _damaged("it has no OFD.xml")
    entry = parse_xml(package.read("OFD.xml"), "OFD.xml")
    roots = _DOC_ROOT(entry)
    if not roots or not (roots[0].text or "").strip():
        raise _damaged("OFD.xml names no document (ofd:DocRoot)")
    document_name = _resolve("", roots[0].text or "", package)
    document = parse_xml(package.read(document_name), document_name)
    base = posixpath.dirname(document_name)
    default_width = _width(document, _A4[0])
    templates = {
        t.get("ID"): t.get("BaseLoc") for t in _TEMPLATE_PAGE(document) if t.get("BaseLoc")
    }
    pages = _PAGE(document)
    if not pages:
        raise _damaged(f"{document_name} lists no pages")
    warnings: list[str] = []
    to_read = pages[: limits.max_pages]
    if len(to_read) < len(pages):
        warnings.append(f"only the first {len(to_read)} of {len(pages)} pages were read (the "
                        f"limit is {limits.max_pages})")  # fmt: skip
    lines: list[Line] = []
    chars_left = limits.max_chars
    parsed_templates: dict[str, etree._Element] = {}
    for number, page in enumerate(to_read, start=1):
        deadline.check(f"page {number} of {len(pages)}")
        page_name = _resolve(base, page.get("BaseLoc") or "", package)
        content = parse_xml(package.read(page_name), page_name)
        fragments: list[_Fragment] = []
        for use in _PAGE_TEMPLATE(content):
            location = templates.get(use.get("TemplateID"))
            if location is None:
                continue
            name = _resolve(base, location, package)
            if name not in parsed_templates:
                parsed_templates[name] = parse_xml(package.read(name), name)
            fragments += _fragments(parsed_templates[name], chars_left)
        fragments += _fragments(content, chars_left - sum(len(f[5]) for f in fragments))
        chars_left -= sum(len(f[5]) for f in fragments)
        lines += _page_lines(fragments, number, _width(content, default_width))
        if chars_left <= 0:
            warnings.append(f"reading stopped at page {number}: the text passed "
                            f"{limits.max_chars} characters")  # fmt: skip
            break
    if not lines:
        warnings.append("the OFD file holds no text (only images: a scan?)")
    return ParsedDocument("ofd", lines, len(pages), bool(lines), warnings)
