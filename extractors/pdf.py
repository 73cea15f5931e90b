"""The .pdf reader: every page's text lines, in reading order, with positions, size and colour.

Two libraries, each where it is good. pdfplumber (pdfminer) computes a layout for every
character in Python; its own backend, pypdfium2 (Google's PDFium), gives the page text with
PDFium's line breaks, each character's box, font size and fill colour from C at a fraction of
the cost. Most of a 公文 needs no more than that — the centred 文号 under the red 发文机关标志,
the right-aligned 成文日期 are told by x0/x1/page_width, is_red and font_size on each line — so
every page is read with PDFium. A drafting cover sheet (发文稿纸) is a ruled form whose cells
wrap ("□不予公" / "开" would be two lines): its page, told from PDFium's text by its row labels,
is read again with pdfplumber's table finder (imported then, on first need), and its cells
become lines with `table=(t, row, col)`, as the docx reader gives them.

Bounded: encrypted files, truncated files, absurd page counts, huge pages and slow pages end in
an `ExtractionError` or a warning, never a hang. Nothing is written: both read from memory.
"""

from __future__ import annotations

import ctypes
import io
import itertools
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
    raw = textpage.raw
    found: list[tuple[float, float, float, float, float | None, bool | None, str]] = []
    start = 0
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end < 0:
            end = length
        segment = text[start:end].rstrip("\r")
        stripped = segment.strip()
        if stripped:
            lead = len(segment) - len(segment.lstrip())
            first = start + lead
            last = first + len(stripped) - 1
            # Colour is sampled mid-line: a leading （ or 〔 may be black in a red line.
            middle = first + len(stripped) // 2
            probe = first if text[middle].isspace() else middle
            if to_char is not None:
                first, last, probe = to_char[first], to_char[last], to_char[middle]
            try:
                left, _, _, _ = textpage.get_charbox(first)
                _, _, right, _ = textpage.get_charbox(last)
                _, bottom, _, top = textpage.get_charbox(first, loose=True)
            except pdfium.PdfiumError:
                left = right = top = bottom = 0.0
            size = pdfium_c.FPDFText_GetFontSize(raw, first) or None
            red = _red(textpage, probe)
            if to_char is None and " " in stripped:
                reordered = _in_x_order(textpage, stripped, first, size)
                if reordered is not None:
                    stripped, left, right = reordered
            found.append((height - top, left, right, height - bottom, size, red, stripped))
        start = end + 1

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

    lines: list[Line] = []
    previous_top: float | None = None
    for _, _, (top, left, right, _bottom, size, red, stripped) in grouped:
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


def _form_lines(plumber_page: Any, page_lines: list[Line], first_table: int) -> list[Line]:
    """The page's lines with every ruled table replaced by its cells, one Line per cell with
    `table=(t, row, col)` and region "table" (as the docx reader gives table cells). Lines
    outside the tables are PDFium's, as read."""
    tables = plumber_page.find_tables()
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


def _read_forms(
    data: bytes, pages: dict[int, list[Line]], deadline: Deadline, warnings: list[str]
) -> dict[int, list[Line]]:
    """pdfplumber on the form pages only (it lays out every character in Python: ~30 ms a
    page, where PDFium reads a whole document in a few). Imported here, on first need."""
    import pdfplumber

    out: dict[int, list[Line]] = {}
    tables = 0
    try:
        with pdfplumber.open(io.BytesIO(data), pages=sorted(pages)) as pdf:
            for plumber_page in pdf.pages:
                deadline.check(f"the form on page {plumber_page.page_number}")
                lines = _form_lines(plumber_page, pages[plumber_page.page_number], tables)
                tables += len({line.table[0] for line in lines if line.table is not None})
                out[plumber_page.page_number] = lines
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
    with PDFIUM_LOCK:
        parsed = _read_locked(data, limits, deadline)
    forms: dict[int, list[Line]] = {}
    for line in parsed.lines:
        if line.page is not None:
            forms.setdefault(line.page, []).append(line)
    forms = {page: lines for page, lines in forms.items() if _is_form_page(lines)}
    if forms:
        read = _read_forms(data, forms, deadline, parsed.warnings)
        if read:
            parsed.lines = [
                line
                for page, group in itertools.groupby(parsed.lines, key=lambda ln: ln.page)
                for line in (read[page] if page in read else list(group))
            ]
    return parsed


def _read_locked(data: bytes, limits: Limits, deadline: Deadline) -> ParsedDocument:
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
