"""The .pdf reader: every page's text lines, in reading order, with positions, size and colour.

pdfplumber (pdfminer) computes a layout for every character in Python; its own backend,
pypdfium2 (Google's PDFium), gives the same facts from C at a fraction of the cost: the page
text with PDFium's line breaks, each character's box, font size and fill colour. A 公文 needs
no more layout than that — the centred 文号 under the red 发文机关标志, the right-aligned
成文日期 are told by x0/x1/page_width, is_red and font_size on each line — so this reader
uses PDFium alone; pdfplumber stays the baseline it is measured against (benchmarks/extract.py).

Bounded: encrypted files, truncated files, absurd page counts, huge pages and slow pages end in
an `ExtractionError` or a warning, never a hang. Nothing is written: PDFium reads from memory.
"""

from __future__ import annotations

import ctypes
import itertools
import threading

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
# PDF at a time. Parallel reading uses processes (flows/service.py's worker pool).
_PDFIUM_LOCK = threading.RLock()
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


def read_pdf(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ParsedDocument:
    check_pdf_streams(data, limits)
    with _PDFIUM_LOCK:
        return _read_locked(data, limits)


def _read_locked(data: bytes, limits: Limits) -> ParsedDocument:
    deadline = Deadline(limits.max_seconds)
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
