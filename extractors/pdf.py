"""The .pdf reader: every page's text lines, in reading order, with positions, size and colour.

Two libraries, each where it is good. pdfplumber (pdfminer) computes a layout for every
character in Python; its own backend, pypdfium2 (Google's PDFium), gives the page text with
PDFium's line breaks, each character's box, font size and fill colour from C at a fraction of
the cost. Most of a 公文 needs no more than that — the centred 文号 under the red 发文机关标志,
the right-aligned 成文日期 are told by x0/x1/page_width, is_red and font_size on each line — so
every page is read with PDFium. A drafting cover sheet (发文稿纸) is a ruled form whose cells
wrap ("□不予公" / "开" would be two lines): its page, told from PDFium's text by its row labels,
is read again with pdfplumber's table finder (imported then, on first need), and its cells
become lines with `table=(t, row, col)`, as the docx reader gives them. The finder is handed
the page's ruling lines and characters as PDFium reads them (`_ruling`), where PDFium's
reading is what pdfminer's would be (straight ruled lines, upright text, nothing nested); on
any other page pdfplumber lays the page out itself, as before.

Bounded: encrypted files, truncated files, absurd page counts, huge pages and slow pages end in
an `ExtractionError` or a warning, never a hang. Nothing is written: both read from memory.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import math
import threading
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from gongkai.extractors.model import ExtractionError, Line, ParsedDocument
from gongkai.extractors.safety import DEFAULT_LIMITS, Deadline, Limits, check_pdf_streams

__all__ = ["read_pdf"]

_NO_TEXT_WARNING = (
    "no text layer: the PDF holds only images (a scan?); nothing can be read from it without "
    "OCR — ask for the original .docx or a PDF exported from it"
)
# PDFium is not thread-safe, not even across documents (pypdfium2's docs): a process reads one
# PDF at a time. Parallel reading uses processes (flows/service/processing.py's worker pool).
PDFIUM_LOCK = threading.RLock()
_SAME_LINE = 2.0  # points: PDFium lines whose tops differ by less are one visual line
_BLANK_GAP = 2.4  # a gap above a line of more than this many font sizes is an empty line


def _encrypted() -> ExtractionError:
    return ExtractionError(
        "encrypted",
        "文件已加密，无法读取 (the PDF is password-protected): ask the drafting office for an "
        "unprotected copy",
    )


def _corrupt(detail: str) -> ExtractionError:
    return ExtractionError(
        "corrupt",
        f"PDF文件已损坏或不完整 (the PDF is damaged or incomplete: {detail}): export it from "
        "the original document again and resubmit",
    )


def _open(data: bytes) -> pdfium.PdfDocument:
    # A PDF ends with %%EOF (readers tolerate a little trailing junk or padding). Without it
    # the file was cut short: PDFium would quietly "repair" it and read what pages survived.
    if b"%%EOF" not in data[-4096:] and b"%%EOF" not in data.rstrip(b"\x00 \t\r\n\x0c")[-4096:]:
        raise _corrupt("it does not end with %%EOF, so it was cut short")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise _encrypted() from None
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_SECURITY:
            raise ExtractionError(
                "encrypted",
                "文件使用了不支持的加密方式 (the PDF uses an unsupported security handler): ask "
                "the drafting office for an unprotected copy",
            ) from None
        raise _corrupt(str(exc)) from None


def _red(textpage: pdfium.PdfTextPage, index: int) -> bool | None:
    r, g, b, a = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    if not pdfium_c.FPDFText_GetFillColor(textpage.raw, index, r, g, b, a):
        return None
    return r.value >= 0xB0 and g.value <= 0x60 and b.value <= 0x60


def _in_x_order(
    textpage: pdfium.PdfTextPage, text: str, first: int, size: float | None
) -> tuple[str, float, float] | None:
    """A line's characters left to right. PDFium keeps content-stream order, and a writer may
    draw some glyphs of a line later (LibreOffice draws a fallback-font ○ of 二○一九年 after
    the rest: PDFium gives "二 一九年一月十日 ○"). Only lines with a gap are checked.
    Returns the text and its left and right edges if the order had to change, else None."""
    boxes: list[tuple[float, float, str]] = []
    for offset, char in enumerate(text):
        if char.isspace():
            continue
        try:
            left, _, right, _ = textpage.get_charbox(first + offset)
        except pdfium.PdfiumError:
            return None
        boxes.append((left, right, char))
    if all(boxes[k][0] >= boxes[k - 1][0] - 0.5 for k in range(1, len(boxes))):
        return None  # already in order: keep PDFium's spacing
    boxes.sort(key=lambda box: box[0])
    gap = 0.3 * (size or 10.0)
    out = [boxes[0][2]]
    for previous, box in itertools.pairwise(boxes):
        if box[0] - previous[1] > gap:
            out.append(" ")
        out.append(box[2])
    return "".join(out), boxes[0][0], max(box[1] for box in boxes)


_LineItem = tuple[float, float, float, float, float | None, bool | None, str]


# An electronic seal some OA systems export keeps its organ's name in the text layer, one red
# character a text object, each rotated round the circle; PDFium reads the ones that fall at a
# line's height into that line (`2020年9月 10日 石`). A character is upright within this angle.
_UPRIGHT = 0.02  # radians, about 1 degree


def _rotated(raw: Any, index: int) -> bool:
    angle = pdfium_c.FPDFText_GetCharAngle(raw, index)
    return angle >= 0 and min(angle, 2 * math.pi - angle) > _UPRIGHT


def _without_seal(
    textpage: pdfium.PdfTextPage, pieces: list[tuple[int, str, _LineItem]],
    to_char: list[int] | None,
) -> list[_LineItem]:
    """The page's lines with a seal's rotated characters taken out. Only red text below black
    text can be a seal (a 发文机关标志 is at the top), so only the lines around such red lines
    are looked at, character by character; and only where upright text is there too (a page
    drawn turned has every character rotated, and keeps them)."""
    highest_black = max((item[0] for _, _, item in pieces if item[5] is False), default=None)
    red = [item for _, _, item in pieces
           if item[5] and highest_black is not None and item[0] < highest_black]
    if not red:
        return [item for _, _, item in pieces]
    em = max((item[4] or 10.0) for item in red)
    low, high = min(item[3] for item in red) - 2 * em, max(item[0] for item in red) + 2 * em
    raw = textpage.raw
    rotated: dict[int, set[int]] = {}
    upright = False
    for k, (start, segment, item) in enumerate(pieces):
        if item[3] > high or item[0] < low:
            continue  # not at the seal's height (PDF space: top > bottom)
        turned = set()
        for offset, char in enumerate(segment):
            if char.isspace():
                continue
            position = start + offset
            if _rotated(raw, to_char[position] if to_char is not None else position):
                turned.add(offset)
            else:
                upright = True
        if turned:
            rotated[k] = turned
    if not rotated or not upright:
        return [item for _, _, item in pieces]
    items: list[_LineItem | None] = [item for _, _, item in pieces]
    for k, turned in rotated.items():
        start, segment, _ = pieces[k]
        kept = "".join(" " if offset in turned else char for offset, char in enumerate(segment))
        items[k] = _line_item(textpage, kept, start, to_char)
    return [item for item in items if item is not None]


def _line_item(
    textpage: pdfium.PdfTextPage, segment: str, start: int, to_char: list[int] | None
) -> _LineItem | None:
    """One PDFium line (`segment`, at text position `start`): top, left, right, bottom (PDF
    space, y up), font size, colour and text; None if it holds only spaces."""
    stripped = segment.strip()
    if not stripped:
        return None
    lead = len(segment) - len(segment.lstrip())
    first = start + lead
    last = first + len(stripped) - 1
    # Colour is sampled mid-line: a leading （ or 〔 may be black in a red line.
    middle = first + len(stripped) // 2
    probe = first if segment[middle - start].isspace() else middle
    if to_char is not None:
        first, last, probe = to_char[first], to_char[last], to_char[middle]
    try:
        left, _, _, _ = textpage.get_charbox(first)
        _, _, right, _ = textpage.get_charbox(last)
        _, bottom, _, top = textpage.get_charbox(first, loose=True)
    except pdfium.PdfiumError:
        left = right = top = bottom = 0.0
    size = pdfium_c.FPDFText_GetFontSize(textpage.raw, first) or None
    red = _red(textpage, probe)
    if to_char is None and " " in stripped:
        reordered = _in_x_order(textpage, stripped, first, size)
        if reordered is not None:
            stripped, left, right = reordered
    return top, left, right, bottom, size, red, stripped


def _page_lines(
    textpage: pdfium.PdfTextPage, page_no: int, width: float, height: float, max_chars: int
) -> tuple[list[Line], int]:
    """The lines of one page, top to bottom, and how many characters they hold."""
    count = textpage.count_chars()
    if count <= 0:
        return [], 0
    count = min(count, max_chars)
    text = textpage.get_text_range(0, count)
    if len(text) != count:
        # PDFium inserted or excluded characters (non-BMP text): map each text position back.
        to_char = [
            pdfium_c.FPDFText_GetCharIndexFromTextIndex(textpage.raw, i) for i in range(len(text))
        ]
    else:
        to_char = None
    pieces: list[tuple[int, str, _LineItem]] = []
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end < 0:
            end = length
        segment = text[start:end].rstrip("\r")
        item = _line_item(textpage, segment, start, to_char)
        if item is not None:
            pieces.append((start, segment, item))
        start = end + 1
    found = [
        (height - top, left, right, height - bottom, size, red, stripped)
        for top, left, right, bottom, size, red, stripped in _without_seal(
            textpage, pieces, to_char)
    ]

    # PDFium gives content-stream order; the eye reads top to bottom, then left to right.
    found.sort(key=lambda item: item[0])
    grouped: list[tuple[int, float, tuple]] = []
    group = -1
    group_top = float("-inf")
    for item in found:
        if item[0] - group_top > _SAME_LINE:
            group += 1
            group_top = item[0]
        grouped.append((group, item[1], item))
    grouped.sort(key=lambda g: (g[0], g[1]))

    # PDFium breaks a printed line where the font changes baseline (LibreOffice's fallback font
    # for the digits of `2020年8月3日` at the top of a page gave `2020` / `年` / `8` …): pieces
    # of one visual line that nearly touch (a gap under 0.6 of a character) are one line.
    merged: list[tuple[int, float, tuple]] = []
    for piece in grouped:
        if merged and merged[-1][0] == piece[0]:
            top, left, right, bottom, size, red, stripped = merged[-1][2]
            p_top, p_left, p_right, p_bottom, p_size, _, p_text = piece[2]
            em = max(size or 0.0, p_size or 0.0) or 10.0
            gap = p_left - right
            if -0.1 * em <= gap < 0.6 * em:
                text = stripped + (" " if gap > 0.25 * em else "") + p_text
                merged[-1] = (piece[0], left, (min(top, p_top), left, p_right,
                                               max(bottom, p_bottom), size or p_size, red, text))
                continue
        merged.append(piece)

    lines: list[Line] = []
    previous_top: float | None = None
    for _, _, (top, left, right, _bottom, size, red, stripped) in merged:
        gap = top - previous_top if previous_top is not None else 0.0
        blank = previous_top is not None and size is not None and gap > _BLANK_GAP * size
        lines.append(Line(
            stripped, region="body", page=page_no, x0=round(left, 2), x1=round(right, 2),
            top=round(top, 2), page_width=round(width, 2),
            font_size=round(size, 2) if size else None, is_red=red, blank_before=blank,
        ))
        previous_top = top
    return lines, count


# Labels a drafting cover sheet (发文稿纸) starts its rows with. Its page is a ruled form whose
# cells wrap ("□不予公" / "开"), so its cells are read from the ruling lines with pdfplumber.
# Two different labels at line starts make a form: a body may mention 公开属性 in a sentence.
_FORM_LABELS = ("公开属性", "不公开理由", "拟稿", "核稿", "文号", "签发人", "主办单位")


def _is_form_page(lines: list[Line]) -> bool:
    found: set[str] = set()
    for line in lines:
        text = line.text.replace(" ", "").replace("\u3000", "")
        if text.endswith("发文稿纸"):
            found.add("发文稿纸")
        found.update(label for label in _FORM_LABELS if text.startswith(label))
        if len(found) >= 2 and found & {"公开属性", "不公开理由", "拟稿", "核稿", "发文稿纸"}:
            return True
    return False


def _join_wrapped(text: str) -> str:
    """A cell's text with the wraps the page width made undone: Chinese joins directly,
    Latin words and digits keep a space between them."""
    pieces = [piece.strip() for piece in text.split("\n") if piece.strip()]
    out = pieces[0] if pieces else ""
    for piece in pieces[1:]:
        latin = all(c.isascii() and c.isalnum() for c in (out[-1], piece[0]))
        out += (" " if latin else "") + piece
    return out


def _form_lines(tables: list[Any], page_lines: list[Line], first_table: int) -> list[Line]:
    """The page's lines with every ruled table (pdfplumber's `Table`) replaced by its cells,
    one Line per cell with `table=(t, row, col)` and region "table" (as the docx reader gives
    table cells). Lines outside the tables are PDFium's, as read."""
    if not tables:
        return page_lines
    replaced: list[Line] = []
    inside: set[int] = set()
    for number, table in enumerate(tables, start=first_table):
        x0, top, x1, bottom = table.bbox
        members = [
            k for k, line in enumerate(page_lines)
            if line.top is not None and top - 1 <= line.top <= bottom
            and line.x0 is not None and x0 - 1 <= line.x0 <= x1
        ]
        inside.update(members)
        texts = table.extract()
        for row_index, (row, cells) in enumerate(zip(table.rows, texts, strict=False)):
            for col, (bbox, text) in enumerate(zip(row.cells, cells, strict=False)):
                if bbox is None or not text or not text.strip():
                    continue  # a merged cell's continuation, or an empty cell
                cell_x0, cell_top, cell_x1, cell_bottom = bbox
                # Size and colour of the PDFium line at the cell's height (pdfminer's are per
                # character; PDFium reads a table row as one line).
                sample = next(
                    (page_lines[k] for k in members
                     if cell_top - 1 <= (page_lines[k].top or 0) <= cell_bottom),
                    None,
                )
                replaced.append(Line(
                    _join_wrapped(text), region="table", page=page_lines[0].page,
                    x0=round(cell_x0, 2), x1=round(cell_x1, 2), top=round(cell_top, 2),
                    page_width=page_lines[0].page_width,
                    font_size=sample.font_size if sample else None,
                    is_red=sample.is_red if sample else None,
                    table=(number, row_index, col),
                ))
    kept = [line for k, line in enumerate(page_lines) if k not in inside]
    # Tables sit where they were drawn: merge by top (a stable sort keeps cell order).
    return sorted(kept + replaced, key=lambda line: line.top or 0.0)


class _Ruling:
    """A form page as pdfplumber's table finder reads it (its `TableFinder` takes the page for
    `.chars` and `.bbox` only, with explicit lines), read from PDFium: the straight segments
    of every painted path as pdfplumber's edges, every character as pdfplumber's char (x0 at
    the origin, the box one font size tall from the font's descent, as pdfminer draws it).
    PDFium's coordinates are single precision: boxes agree with pdfminer's to ~1e-4 pt."""

    __slots__ = ("bbox", "chars", "edges")

    def __init__(self, edges: list[dict], chars: list[dict], bbox: tuple) -> None:
        self.edges, self.chars, self.bbox = edges, chars, bbox

    def tables(self) -> list[Any]:
        """pdfplumber's tables of the page, with its "lines" strategy's edges and defaults."""
        from pdfplumber.table import TableFinder, TableSettings
        from pdfplumber.utils import filter_edges

        shortest = TableSettings().edge_min_length_prefilter  # what "lines" filters first
        vertical = filter_edges(self.edges, "v", min_length=shortest)
        horizontal = filter_edges(self.edges, "h", min_length=shortest)
        if len(vertical) < 2 or len(horizontal) < 2:
            return []  # no cell without two lines each way
        return TableFinder(self, {
            "vertical_strategy": "explicit", "explicit_vertical_lines": vertical,
            "horizontal_strategy": "explicit", "explicit_horizontal_lines": horizontal,
        }).tables


def _ruling(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> _Ruling | None:
    """The page's ruling lines and characters from PDFium, or None where PDFium's reading of
    them could differ from pdfminer's: a rotated or cropped page, a nested form, a curve or
    slanted line, a character that is not upright or has no Unicode."""
    left, bottom, right, top = page.get_mediabox()
    if page.get_rotation() or (left, bottom) != (0, 0) or page.get_cropbox() != (
        left, bottom, right, top
    ):
        return None
    edges = _path_edges(page.raw, top)
    chars = _plumber_chars(textpage, top) if edges is not None else None
    if edges is None or chars is None:
        return None
    return _Ruling(edges, chars, (0.0, 0.0, right, top))


def _path_edges(raw_page: Any, height: float) -> list[dict] | None:
    edges: list[dict] = []
    for index in range(pdfium_c.FPDFPage_CountObjects(raw_page)):
        obj = pdfium_c.FPDFPage_GetObject(raw_page, index)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            return None
        if kind != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        fill, stroke = ctypes.c_int(), ctypes.c_int()
        matrix = pdfium_c.FS_MATRIX()
        if not (pdfium_c.FPDFPath_GetDrawMode(obj, fill, stroke)
                and pdfium_c.FPDFPageObj_GetMatrix(obj, matrix)):  # fmt: skip
            return None
        if not fill.value and not stroke.value:
            continue  # not painted: pdfminer draws nothing either
        subpaths = _subpaths(obj, matrix)
        if subpaths is None:
            return None
        for points in subpaths:
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                if x0 != x1 and y0 != y1:
                    return None  # slanted: pdfplumber's edge for it depends on its shape
                top, bottom = height - max(y0, y1), height - min(y0, y1)
                edges.append({
                    "object_type": "curve_edge", "orientation": "v" if x0 == x1 else "h",
                    "x0": min(x0, x1), "x1": max(x0, x1), "top": top, "bottom": bottom,
                    "doctop": top, "width": abs(x1 - x0), "height": bottom - top,
                })
    return edges


def _subpaths(obj: Any, m: Any) -> list[list[tuple[float, float]]] | None:
    """A path's points in page space, one list per subpath, a closed one back at its start;
    None for a curve or a path that does not start with a move."""
    subpaths: list[list[tuple[float, float]]] = []
    x, y = ctypes.c_float(), ctypes.c_float()
    for index in range(pdfium_c.FPDFPath_CountSegments(obj)):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, index)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, x, y):
            return None
        point = (m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            subpaths.append([point])
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and subpaths:
            subpaths[-1].append(point)
        else:
            return None
        if pdfium_c.FPDFPathSegment_GetClose(segment) and subpaths[-1][-1] != subpaths[-1][0]:
            subpaths[-1].append(subpaths[-1][0])
    return subpaths


def _plumber_chars(textpage: pdfium.PdfTextPage, height: float) -> list[dict] | None:
    raw = textpage.raw
    chars: list[dict] = []
    box, matrix = pdfium_c.FS_RECTF(), pdfium_c.FS_MATRIX()
    x, y = ctypes.c_double(), ctypes.c_double()
    for index in range(textpage.count_chars()):
        if pdfium_c.FPDFText_IsGenerated(raw, index):
            continue  # PDFium's own spaces and line breaks: not in the content stream
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if (pdfium_c.FPDFText_HasUnicodeMapError(raw, index) or 0xD800 <= code <= 0xDFFF
                or not pdfium_c.FPDFText_GetMatrix(raw, index, matrix)
                or matrix.b or matrix.c or matrix.a <= 0 or matrix.d <= 0
                or not pdfium_c.FPDFText_GetLooseCharBox(raw, index, box)
                or not pdfium_c.FPDFText_GetCharOrigin(raw, index, x, y)):  # fmt: skip
            return None
        size = pdfium_c.FPDFText_GetFontSize(raw, index)
        bottom = height - box.bottom
        chars.append({
            "text": chr(code), "upright": True, "x0": x.value,
            "x1": x.value + box.right - box.left, "top": bottom - size, "bottom": bottom,
            "doctop": bottom - size, "width": box.right - box.left, "height": size,
            "size": size,
        })
    return chars


def _plumber_tables(data: bytes, numbers: list[int]) -> dict[int, list[Any]]:
    """pdfplumber's tables of these pages, the pages laid out by pdfminer (every character
    in Python: ~15 ms a page, where PDFium reads a whole document in a few)."""
    import pdfplumber

    if not numbers:
        return {}
    with pdfplumber.open(io.BytesIO(data), pages=numbers) as pdf:
        return {page.page_number: page.find_tables() for page in pdf.pages}


def _ruled_tables(ruling: _Ruling | None) -> list[Any] | None:
    """The tables on PDFium's rulings, or None to have pdfminer lay the page out instead
    (also if pdfplumber's finder ever wants more of the page than `_Ruling` gives)."""
    if ruling is None:
        return None
    try:
        return ruling.tables()
    except Exception:  # AttributeError, KeyError … from a pdfplumber that reads more
        return None


def _read_forms(
    data: bytes, pages: dict[int, list[Line]], rulings: dict[int, _Ruling | None],
    deadline: Deadline, warnings: list[str],
) -> dict[int, list[Line]]:
    """The form pages' tables: from PDFium's ruling lines where `_ruling` read them, else
    from pdfplumber's own layout of the page. Imported here, on first need."""
    out: dict[int, list[Line]] = {}
    tables = 0
    try:
        found = {number: _ruled_tables(rulings.get(number)) for number in sorted(pages)}
        found.update(_plumber_tables(data, [n for n, got in found.items() if got is None]))
        for number in sorted(pages):
            deadline.check(f"the form on page {number}")
            lines = _form_lines(found[number] or [], pages[number], tables)
            tables += len({line.table[0] for line in lines if line.table is not None})
            out[number] = lines
    except ExtractionError:
        raise
    except Exception as exc:  # pdfminer's own errors on a file PDFium could read
        warnings.append(
            f"the form's table cells could not be read ({type(exc).__name__}); its lines were "
            "read without the table structure"
        )
        return {}
    return out


def read_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    check_pdf_streams(data, limits)
    deadline = Deadline(limits.max_seconds)
    rulings: dict[int, _Ruling | None] = {}
    with PDFIUM_LOCK:
        parsed = _read_locked(data, limits, deadline, rulings)
    forms: dict[int, list[Line]] = {}
    for line in parsed.lines:
        if line.page in rulings:
            forms.setdefault(line.page, []).append(line)
    if forms:
        read = _read_forms(data, forms, rulings, deadline, parsed.warnings)
        if read:
            parsed.lines = [
                line
                for page, group in itertools.groupby(parsed.lines, key=lambda ln: ln.page)
                for line in (read[page] if page in read else list(group))
            ]
    return parsed


def _read_locked(
    data: bytes, limits: Limits, deadline: Deadline, rulings: dict[int, _Ruling | None]
) -> ParsedDocument:
    """Every page's lines; a form page's ruling lines and characters into `rulings` (None
    where PDFium's reading of them would not be pdfminer's), read while the page is open."""
    document = _open(data)
    warnings: list[str] = []
    lines: list[Line] = []
    try:
        page_count = len(document)
        if page_count <= 0:
            raise _corrupt("it has no pages")
        to_read = min(page_count, limits.max_pages)
        if to_read < page_count:
            warnings.append(
                f"only the first {to_read} of {page_count} pages were read (the limit is "
                f"{limits.max_pages})"
            )
        chars_left = limits.max_chars
        empty_pages: list[int] = []
        for index in range(to_read):
            deadline.check(f"page {index + 1} of {page_count}")
            try:
                page = document[index]
            except pdfium.PdfiumError as exc:
                raise _corrupt(f"page {index + 1} cannot be loaded: {exc}") from None
            try:
                width, height = page.get_size()
                textpage = page.get_textpage()
                try:
                    page_lines, used = _page_lines(
                        textpage, index + 1, width, height, chars_left
                    )
                    if page_lines and _is_form_page(page_lines):
                        rulings[index + 1] = _ruling(page, textpage)
                finally:
                    textpage.close()
            finally:
                page.close()
            if not page_lines:
                empty_pages.append(index + 1)
            lines.extend(page_lines)
            chars_left -= used
            if chars_left <= 0:
                warnings.append(
                    f"reading stopped at page {index + 1}: the text passed "
                    f"{limits.max_chars} characters"
                )
                break
    finally:
        document.close()
    if not lines:
        return ParsedDocument("pdf", [], page_count, False, [_NO_TEXT_WARNING, *warnings])
    if empty_pages:
        shown = ", ".join(str(p) for p in empty_pages[:10])
        more = "…" if len(empty_pages) > 10 else ""
        warnings.append(f"pages without a text layer (images only, not read): {shown}{more}")
    return ParsedDocument("pdf", lines, page_count, True, warnings)
