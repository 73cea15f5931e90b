"""Scans read by OCR: Tesseract (with its simplified Chinese model, chi_sim) on page images.

Where the pages come from: a PDF without a real text layer (images only, or only a scanner
app's stamp such as 扫描全能王创建 over the images) is rendered page by page with PDFium at
`DPI`; a .png/.jpg/.tif is the page itself (a multi-page TIFF: each frame). Each page goes to
`tesseract stdin stdout tsv` as a grey-scale PNM on its standard input, so nothing is written
to disk, and runs under a time limit (external.run_bounded ends it when it is up). Tesseract's
TSV gives every recognised line with its box; those become `Line`s in points from the page's
top-left corner, as the PDF reader gives them: the field parser reads a scanned 公文 as it
reads a printed one (a centred 文号, a larger title, a red 发文机关标志 where the scan is in
colour).

What OCR reads is a suggestion: the document carries `ocr="read"`, and the routing policy sends
it to a person to confirm. Without Tesseract or its chi_sim model the scan is still taken in,
with `ocr="unavailable"` and what to install.
"""

from __future__ import annotations

import io
import itertools
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

from gongkai.config import ExternalTools
from gongkai.extractors.external import ProgramMissing, TimedOut, run_bounded
from gongkai.extractors.issuers import flag_organs
from gongkai.extractors.model import ExtractionError, Format, Line, ParsedDocument
from gongkai.extractors.safety import Limits

__all__ = [
    "DPI", "HEADER_DPI", "INSTALL_HINT", "ocr_images", "ocr_pdf", "scanner_stamp_only",
    "tesseract_version",
]

DPI = 200  # a 三号 (16 pt) character is ~44 pixels high: chi_sim reads body text (dates) well
# The 版头 and title (the top of page 1) are read a second time at HEADER_DPI, where their
# large characters are ~22-40 pixels high: at 200 dpi chi_sim misreads them far more often
# (`闽财〔2017〕95号` as 赣财…, 福建省 as 往建省), at 100 dpi small digits (`9月15日` as 9月45日).
# benchmarks/RESULTS.md, "OCR of the 版头 at 100 dpi", has the measurement.
HEADER_DPI = 100
HEADER_BAND = 0.45  # of page 1's height: 版头 and title (GB/T 9704: the 版头 is its top third)
_BAND_MARGIN_PT = 32.0  # a line this close to the band's edge may be cut: read it at DPI
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim"
_A4_WIDTH_INCHES = 210 / 25.4
# The print sizes of GB/T 9704 and Word (字号), in points. OCR's line heights jitter by a point
# or two; the field parser compares sizes, so a height is snapped to the nearest of these.
_PRINT_SIZES = (42.0, 36.0, 26.0, 24.0, 22.0, 18.0, 16.0, 15.0, 14.0, 12.0, 10.5, 9.0, 7.5)
_BLANK_GAP = 2.4  # as the PDF reader: a gap of more than this many sizes is an empty line
_MIN_CONFIDENCE = 30.0  # a line Tesseract is this unsure of is a seal's or a speck's noise

# Apps that put their name on every page they scan, as the PDF's only text.
_STAMP = re.compile(
    r"扫描全能王|全能扫描王|CamScanner|Scanned\s*(?:with|by)|扫描王|夸克扫描|白描|福昕扫描|"
    r"Adobe\s*Scan|扫描创建|扫描生成",
    re.IGNORECASE,
)
_STAMP_PAGE_CHARS = 40

# Tesseract reads the hexagonal brackets of a 文号's year (〔2020〕) as [, 【, （ or a run of
# them ("鸿政【〔【2020]53号"); a year in any such brackets is put back in 〔〕.
_YEAR_BRACKETS = re.compile(r"[\[【〔（(［{]{1,3}\s*((?:19|20)\d{2})\s*[\]】〕）)］}]{1,3}")

# chi_sim reads the 件 of a large 发文机关标志 (`石狮市人民政府文件`) as 人, 作, 伯, 从, 全 …;
# a line near the top of the first page that is organs, then 文 and one other character, is
# read as the 标志 it is (issuers.flag_organs decides what an organ is).
_FLAG_MISREAD = re.compile(r"^(?P<organs>\S.*?)\s*文\s*(?!件)[^\s\d]$")
_FLAG_LINES = 6  # the 版头 is among the first lines of page 1 (份号, 密级, 紧急程度 above it)

_versions: dict[tuple[str, str], str] = {}


def _unavailable(detail: str) -> str:
    return (
        f"扫描件需要文字识别（OCR），本机无法识别：{detail}；请安装 {INSTALL_HINT} "
        f"(a scan needs OCR, which is not available here: {detail}; install: {INSTALL_HINT})"
    )


def tesseract_version(tools: ExternalTools) -> str:
    """'Tesseract 5.3.0 (chi_sim)', checked once per process; raises ProgramMissing with what
    is missing (the program, or its language model)."""
    key = (tools.tesseract, tools.ocr_languages)
    if key in _versions:
        return _versions[key]
    try:
        listed = run_bounded([tools.tesseract, "--list-langs"], seconds=30)
        version = run_bounded([tools.tesseract, "--version"], seconds=30)
    except TimedOut as exc:
        raise ProgramMissing(str(exc)) from None
    languages = set(listed.stdout.decode(errors="replace").split())
    missing = [lang for lang in tools.ocr_languages.split("+") if lang not in languages]
    if listed.returncode != 0 or missing:
        raise ProgramMissing(
            f"Tesseract has no {'+'.join(missing) or tools.ocr_languages} model"
        )
    text = (version.stdout or version.stderr).decode(errors="replace").split()
    number = text[1] if len(text) > 1 and text[0].lower() == "tesseract" else "?"
    _versions[key] = found = f"Tesseract {number} ({tools.ocr_languages}, {DPI} dpi)"
    return found


# ---------------------------------------------------------------------------------------------
# a PDF's text layer that is only a scanner app's stamp


def scanner_stamp_only(parsed: ParsedDocument) -> bool:
    """True if every page's text is a short scanner-app stamp (扫描全能王创建, Scanned with
    CamScanner ...): the PDF is a scan, its text layer says nothing of the document."""
    if not parsed.lines:
        return False
    pages: dict[int | None, str] = {}
    for line in parsed.lines:
        text = pages.get(line.page, "") + re.sub(r"\s+", "", line.text)
        if len(text) > _STAMP_PAGE_CHARS:
            return False  # a page with real text (most PDFs stop at their first line)
        pages[line.page] = text
    return all(_STAMP.search(text) for text in pages.values())


# ---------------------------------------------------------------------------------------------
# pages


@dataclass(frozen=True, slots=True)
class _Page:
    image: object  # PIL.Image.Image, RGB or L
    width_pt: float  # the page's width in points (A4 where an image does not say)

    @property
    def height_ratio(self) -> float:
        """Height over width of the image (a band's height in points is width_pt times it)."""
        width = getattr(self.image, "width", 0)
        return getattr(self.image, "height", 0) / width if width else 0.0


def _pdf_pages(data: bytes, limits: Limits, warnings: list[str]) -> Iterator[_Page]:
    """Each page of a PDF rendered at DPI (less for an absurdly large page, so that no page
    becomes more than `limits.max_image_pixels` pixels)."""
    import pypdfium2 as pdfium

    from gongkai.extractors.pdf import PDFIUM_LOCK

    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            count = len(document)
        except BaseException:
            document.close()
            raise
    try:
        for index in range(min(count, limits.max_ocr_pages)):
            with PDFIUM_LOCK:
                page = document[index]
                try:
                    width, height = page.get_size()
                    scale = DPI / 72
                    pixels = width * height * scale * scale
                    if pixels > limits.max_image_pixels:
                        scale *= (limits.max_image_pixels / pixels) ** 0.5
                        warnings.append(f"page {index + 1} is unusually large: read at a lower "
                                        "resolution")  # fmt: skip
                    image = page.render(scale=scale).to_pil()
                finally:
                    page.close()
            yield _Page(image, width)
    finally:
        with PDFIUM_LOCK:
            document.close()
    if count > limits.max_ocr_pages:
        warnings.append(f"only the first {limits.max_ocr_pages} of {count} scanned pages were "
                        "read by OCR")  # fmt: skip


def _too_many_pixels(detail: str) -> ExtractionError:
    return ExtractionError(
        "zip_bomb",
        f"图像尺寸异常，拒绝读取 (the image has {detail} than a scanned page): it is not a "
        "normal scan; scan the page again at 200-300 dpi",
    )


def _image_pages(data: bytes, kind: Format, limits: Limits, warnings: list[str]) -> Iterator[_Page]:
    """The frames of a .png/.jpg/.tif, each checked against the pixel limit before it is
    decoded (a few kilobytes of PNG can declare a 100,000 x 100,000 image)."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise _too_many_pixels("far more pixels") from None
        frames = getattr(image, "n_frames", 1)
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > limits.max_ocr_pages:
                warnings.append(f"only the first {limits.max_ocr_pages} of {frames} scanned "
                                "pages were read by OCR")  # fmt: skip
                break
            if frame.width * frame.height > limits.max_image_pixels:
                raise _too_many_pixels(f"{frame.width} x {frame.height} pixels, far more")
            dpi = frame.info.get("dpi", (0, 0))[0] or 0
            width_in = frame.width / dpi if dpi and float(dpi) > 20 else _A4_WIDTH_INCHES
            page = frame.convert("RGB" if frame.mode in ("RGB", "RGBA", "P", "CMYK") else "L")
            target = round(_A4_WIDTH_INCHES * DPI)
            if page.width > target * 1.5:  # a 600 dpi scan: OCR time grows with the pixels
                page = page.resize((target, round(page.height * target / page.width)))
            yield _Page(page, float(width_in) * 72)
    except ExtractionError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ExtractionError(
            "corrupt",
            f"图像文件已损坏 (the {kind} image is damaged: {exc}): scan the page again and "
            "resubmit",
        ) from None


# ---------------------------------------------------------------------------------------------
# recognition


def _dpi(page: _Page) -> float:
    width = getattr(page.image, "width", 0)
    return width / (page.width_pt / 72) if width and page.width_pt > 0 else float(DPI)


def _header_band(page: _Page) -> _Page | None:
    """The top HEADER_BAND of the page at HEADER_DPI (None for a page as coarse already)."""
    from PIL import Image

    image: Image.Image = page.image  # type: ignore[assignment]
    factor = HEADER_DPI / _dpi(page)
    if factor > 0.9:
        return None
    band = image.crop((0, 0, image.width, round(image.height * HEADER_BAND)))
    size = (max(1, round(band.width * factor)), max(1, round(band.height * factor)))
    return _Page(band.resize(size, Image.Resampling.BICUBIC), page.width_pt)


def _with_header(header: list[Line], body: list[Line], band_pt: float) -> list[Line]:
    """The band's lines down to the last one clear of its edge, then the page's lines below."""
    kept = [line for line in header
            if line.top + (line.font_size or 0) <= band_pt - _BAND_MARGIN_PT]  # fmt: skip
    if not kept:
        return body
    cut = max(line.top + (line.font_size or 0) for line in kept)
    return kept + [line for line in body if line.top >= cut - 0.4 * (line.font_size or 0)]


def _pnm(image: object) -> bytes:
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PPM")  # type: ignore[attr-defined]
    return buffer.getvalue()


def _joined(words: list[str]) -> str:
    """Tesseract's words of one line: Chinese joins directly, Latin words and numbers keep a
    space between them."""
    out = ""
    for word in words:
        latin = out and all(c.isascii() and c.isalnum() for c in (out[-1], word[0]))
        if latin and not (out[-1].isdigit() and word[0].isdigit()):  # "2 007" is one number
            out += " "
        out += word
    return out


# A recognised line: left, top, right, bottom (pixels), text.
_Found = tuple[int, int, int, int, str]


def _tsv_lines(tsv: str) -> list[_Found]:
    boxes: dict[tuple[str, str, str], list[int]] = {}
    words: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12:
            continue
        key = (cells[2], cells[3], cells[4])
        try:
            left, top, width, height = (int(c) for c in cells[6:10])
            confidence = float(cells[10])
        except ValueError:
            continue
        if cells[0] == "4":
            boxes[key] = [left, top, left + width, top + height]
        elif cells[0] == "5" and cells[11].strip():
            words.setdefault(key, []).append((cells[11].strip(), confidence))
    found: list[_Found] = []
    for key, items in words.items():
        if key not in boxes:
            continue
        if sum(c for _, c in items) / len(items) < _MIN_CONFIDENCE:
            continue
        left, top, right, bottom = boxes[key]
        found.append((left, top, right, bottom, _joined([w for w, _ in items])))
    return found


def _is_red(image: object, box: tuple[int, int, int, int]) -> bool | None:
    """Most of the ink in the box is red (a colour scan's 发文机关标志); None in grey."""
    from PIL import ImageChops

    if getattr(image, "mode", "") != "RGB":
        return None
    crop = image.crop(box)  # type: ignore[attr-defined]
    ink = sum(crop.convert("L").point(lambda v: 255 if v < 160 else 0).histogram()[255:])
    if not ink:
        return None
    r, g, b = crop.split()
    red = ImageChops.multiply(
        ImageChops.multiply(r.point(lambda v: 255 if v >= 0xB0 else 0),
                            g.point(lambda v: 255 if v <= 0x60 else 0)),
        b.point(lambda v: 255 if v <= 0x60 else 0),
    )
    return red.histogram()[255] * 2 >= ink


def _flag_text(text: str) -> str:
    """`石狮市人民政府文人` -> `石狮市人民政府文件` (see _FLAG_MISREAD); anything else as it is."""
    found = _FLAG_MISREAD.match(text.strip())
    if found and flag_organs(found["organs"] + "文件"):
        return found["organs"] + "文件"
    return text


def _snap(size: float) -> float:
    return min(_PRINT_SIZES, key=lambda s: abs(s - size))


def _page_lines(page: _Page, found: list[_Found], page_no: int) -> list[Line]:
    """Tesseract's lines grouped into visual lines (a 文号 left and a 签发人 right come as two
    blocks at one height), top to bottom, in points."""
    width_px = getattr(page.image, "width", 1) or 1
    scale = page.width_pt / width_px
    found.sort(key=lambda f: (f[1], f[0]))
    groups: list[list[_Found]] = []
    for item in found:
        last = groups[-1][0] if groups else None
        if last is not None and abs(item[1] - last[1]) < 0.5 * min(item[3] - item[1],
                                                                  last[3] - last[1]):
            groups[-1].append(item)
        else:
            groups.append([item])
    lines: list[Line] = []
    previous_top: float | None = None
    for group in groups:
        group.sort(key=lambda f: f[0])
        text = group[0][4]
        for before, after in itertools.pairwise(group):
            gap = after[0] - before[2]
            text += (" " if gap > before[3] - before[1] else "") + after[4]
        text = _YEAR_BRACKETS.sub(r"〔\1〕", text)
        if page_no == 1 and len(lines) < _FLAG_LINES:
            text = _flag_text(text)
        left, top = group[0][0], min(f[1] for f in group)
        right, bottom = max(f[2] for f in group), max(f[3] for f in group)
        size = _snap(max(f[3] - f[1] for f in group) * scale)
        top_pt = top * scale
        blank = previous_top is not None and top_pt - previous_top > _BLANK_GAP * size
        lines.append(Line(
            text, region="body", page=page_no, x0=round(left * scale, 2),
            x1=round(right * scale, 2), top=round(top_pt, 2), page_width=round(page.width_pt, 2),
            font_size=size, is_red=_is_red(page.image, (left, top, right, bottom)),
            blank_before=blank,
        ))
        previous_top = top_pt
    return lines


def _recognise(pages: Iterator[_Page], tools: ExternalTools, limits: Limits,
               warnings: list[str]) -> tuple[list[Line], int]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one core per page: workers run in parallel
    lines: list[Line] = []
    count = 0
    deadline = time.monotonic() + limits.max_ocr_seconds

    def tesseract(page: _Page, page_no: int) -> list[Line] | None:
        command = [tools.tesseract, "stdin", "stdout", "-l", tools.ocr_languages,
                   "--dpi", str(round(_dpi(page))), "tsv"]  # fmt: skip
        try:
            if time.monotonic() >= deadline:
                raise TimedOut("no time left")
            finished = run_bounded(command, seconds=deadline - time.monotonic(),
                                   stdin=_pnm(page.image), env=env)  # fmt: skip
        except TimedOut:
            raise ExtractionError(
                "timeout",
                f"文字识别超时 (OCR ran longer than {limits.max_ocr_seconds:g} s, stopped at page "
                f"{page_no}): the scan is unusually long; split it and resubmit",
            ) from None
        if finished.returncode != 0:
            detail = finished.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            warnings.append(f"OCR could not read page {page_no} ({detail[0][:120]})")
            return None
        return _page_lines(page, _tsv_lines(finished.stdout.decode(errors="replace")), page_no)

    for count, page in enumerate(pages, start=1):
        found = tesseract(page, count)
        if found is None:
            continue
        band = _header_band(page) if count == 1 else None
        header = tesseract(band, count) if band is not None else None
        if header is not None:
            found = _with_header(header, found, page.width_pt * band.height_ratio)
        lines += found
    return lines, count


def _read(kind: Format, pages_of: Iterator[_Page], tools: ExternalTools, limits: Limits,
          warnings: list[str], page_count: int | None) -> ParsedDocument:
    try:
        engine = tesseract_version(tools)
    except ProgramMissing as exc:
        warnings.append(_unavailable(str(exc)))
        return ParsedDocument(kind, [], page_count, False, warnings, ocr="unavailable")
    lines, pages = _recognise(pages_of, tools, limits, warnings)
    if not lines:
        warnings.append("OCR found no text on the scanned pages")
        return ParsedDocument(kind, [], page_count or pages, False, warnings, ocr="failed",
                              conversion=engine)  # fmt: skip
    warnings.append(f"read by OCR ({engine}): the fields are suggestions for a person to confirm")
    return ParsedDocument(kind, lines, page_count or pages, False, warnings, ocr="read",
                          conversion=engine)  # fmt: skip


def ocr_pdf(data: bytes, scan: ParsedDocument, tools: ExternalTools,
            limits: Limits) -> ParsedDocument:
    """A PDF without a real text layer (`scan`, as the PDF reader read it), read by OCR."""
    warnings = [w for w in scan.warnings if not w.startswith("no text layer")]
    return _read("pdf", _pdf_pages(data, limits, warnings), tools, limits, warnings,
                 scan.page_count)


def ocr_images(data: bytes, kind: Format, tools: ExternalTools | None,
               limits: Limits) -> ParsedDocument:
    """A scanned page as an image file, read by OCR (without `tools`: checked, not read)."""
    warnings: list[str] = []
    if tools is None:
        pages = sum(1 for _ in _image_pages(data, kind, limits, warnings))
        warnings.append("a scanned image: nothing is read from it without OCR")
        return ParsedDocument(kind, [], pages, False, warnings)
    return _read(kind, _image_pages(data, kind, limits, warnings), tools, limits, warnings, None)
