"""Extraction: bytes of a document in, its metadata out. Nothing is written anywhere, except
LibreOffice's temporary folder while a .doc/.wps is converted; no Prefect, database or network.

    extract(data, filename, tools=None) -> DocumentMetadata  (ExtractionError when unreadable)
    extract(data, filename, tools=tools, ocr=False)  OcrNeeded instead of reading a scan

Steps: size check -> sniff the real type from the bytes (the name only tells .doc from .wps,
and adds a warning when it disagrees) -> reader -> fields.read_fields. Readers, by type:

    docx       docx.py (python-docx, guarded by safety.py)
    pdf        pdf.py (PDFium); a PDF without a real text layer (images only, or only a
               scanner app's stamp) is a scan: ocr.py
    ofd        ofd.py (its content XML, with the .docx guards)
    doc, wps   office.py converts to .docx with LibreOffice, then docx.py
    png/jpeg/tiff  ocr.py

External programs (Tesseract, LibreOffice) run only when the caller hands over `tools`
(config.ExternalTools: the CLI and the service pass the configured ones). Without them a scan
reads as having no text, and a .doc/.wps is refused as needing LibreOffice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gongkai import config
from gongkai.config import ExternalTools
from gongkai.extractors.model import (
    DocumentMetadata,
    ExtractionError,
    Format,
    OcrNeeded,
    ParsedDocument,
)
from gongkai.extractors.safety import Limits, check_size, hard_limit_seconds, time_limit
from gongkai.extractors.sniff import sniff

__all__ = ["DocumentMetadata", "ExternalTools", "ExtractionError", "Limits", "OcrNeeded", "extract",
           "parse"]

_IMAGES = ("png", "jpeg", "tiff")
# Extensions that name a format, as sniff() calls it.
_SUFFIX_FORMATS = {"pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "wps", "ofd": "ofd",
                   "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "tif": "tiff", "tiff": "tiff"}


def _guarded(kind: Format, seconds: float, read: Callable[[], ParsedDocument]) -> ParsedDocument:
    """One reading step under a hard time limit; damage the readers do not name (a malformed
    structure deep inside the file) still ends in the one error type, the cause kept."""
    try:
        with time_limit(seconds):
            return read()
    except ExtractionError:
        raise
    except (RuntimeError, MemoryError, ValueError, KeyError, IndexError, OSError) as exc:
        raise ExtractionError(
            "corrupt",
            f"文件已损坏，无法读取 (the {kind} file is damaged: {type(exc).__name__}): open it in "
            "the program that made it, save it again, and resubmit",
        ) from exc


def _read_docx(data: bytes, limits: Limits) -> ParsedDocument:
    from gongkai.extractors import docx

    return docx.read_docx(data, limits)


def _read_converted(
    data: bytes, kind: Format, limits: Limits, tools: ExternalTools | None
) -> ParsedDocument:
    from gongkai.extractors.office import INSTALL_HINT, convert_to_docx

    if tools is None:
        raise ExtractionError(
            "conversion_unavailable",
            f"无法读取.{kind}文件 (a .{kind} file is read through LibreOffice, which this reading "
            f"was not given): use gongkai ingest or gongkai extract; LibreOffice: {INSTALL_HINT}",
        )
    docx, conversion = convert_to_docx(data, kind, tools, limits)
    parsed = _read_docx(docx, limits)
    parsed.format = kind
    parsed.conversion = conversion
    parsed.warnings.insert(0, f"converted to .docx for reading ({conversion})")
    return parsed


def _read(data: bytes, kind: Format, limits: Limits, tools: ExternalTools | None,
          ocr: bool = True) -> ParsedDocument:  # fmt: skip
    if kind == "pdf":
        from gongkai.extractors import pdf

        return pdf.read_pdf(data, limits)
    if kind == "docx":
        return _read_docx(data, limits)
    if kind == "ofd":
        from gongkai.extractors.ofd import read_ofd

        return read_ofd(data, limits)
    if kind in ("doc", "wps"):
        return _read_converted(data, kind, limits, tools)
    if tools is not None and not ocr:
        raise OcrNeeded(kind)
    from gongkai.extractors.ocr import ocr_images

    return ocr_images(data, kind, tools, limits)


def _budget(kind: Format, limits: Limits) -> float:
    """The hard stop of the reading step: conversions and OCR have their own budgets on top
    (their programs are also stopped by their own time limits, first)."""
    extra = {"doc": limits.max_convert_seconds, "wps": limits.max_convert_seconds}.get(kind, 0)
    if kind in _IMAGES:
        extra = limits.max_ocr_seconds
    return hard_limit_seconds(limits) + extra


def _as_scan(data: bytes, parsed: ParsedDocument, limits: Limits,
             tools: ExternalTools | None, ocr: bool = True) -> ParsedDocument:  # fmt: skip
    """A PDF without a real text layer: read by OCR when `tools` are given, else kept as a
    document without text (a stamp-only text layer is dropped: it says nothing)."""
    from gongkai.extractors.ocr import ocr_pdf, scanner_stamp_only

    if parsed.text_layer and scanner_stamp_only(parsed):
        stamp = parsed.lines[0].text
        parsed = ParsedDocument("pdf", [], parsed.page_count, False, [
            f"the PDF's only text is a scanner app's stamp ({stamp!r}): it is a scan",
            *(w for w in parsed.warnings if not w.startswith("pages without a text layer")),
        ])  # fmt: skip
        if tools is None:
            parsed.warnings.append("no text layer: nothing is read from a scan without OCR")
    if parsed.text_layer or tools is None:
        return parsed
    if not ocr:
        raise OcrNeeded("pdf")
    return _guarded("pdf", hard_limit_seconds(limits) + limits.max_ocr_seconds,
                    lambda: ocr_pdf(data, parsed, tools, limits))


def parse(
    data: bytes,
    *,
    max_bytes: int = config.DEFAULT_MAX_FILE_BYTES,
    limits: Limits | None = None,
    filename: str = "",
    tools: ExternalTools | None = None,
    ocr: bool = True,
) -> ParsedDocument:
    """The lines of a document, before any field is read (size check, sniff, reader).
    `ocr=False`: a document only OCR could read (with `tools` given) raises OcrNeeded."""
    limits = limits or Limits(max_bytes=max_bytes)
    check_size(data, limits.max_bytes)
    kind = sniff(data, limits, filename)
    parsed = _guarded(kind, _budget(kind, limits), lambda: _read(data, kind, limits, tools, ocr))
    if kind == "pdf":
        parsed = _as_scan(data, parsed, limits, tools, ocr)
    return parsed


def extract(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = config.DEFAULT_MAX_FILE_BYTES,
    limits: Limits | None = None,
    tools: ExternalTools | None = None,
    ocr: bool = True,
) -> DocumentMetadata:
    """Read one official document's metadata. The type is read from the bytes, so a PDF named
    .docx is read as a PDF; `filename` tells a .wps from a .doc and adds a warning when its
    extension disagrees. `limits` (default: `Limits(max_bytes=max_bytes)`) bounds the work on
    hostile files; `tools` are the external programs scans and .doc/.wps need. `ocr=False`:
    a document only OCR could read raises OcrNeeded instead (the caller reads it elsewhere)."""
    from gongkai.extractors.fields import read_fields

    limits = limits or Limits(max_bytes=max_bytes)
    started = time.monotonic()
    parsed = parse(data, limits=limits, filename=filename, tools=tools, ocr=ocr)
    # The field parser has what is left of the reading's hard stop (at least a second).
    remaining = hard_limit_seconds(limits) - (time.monotonic() - started)
    with time_limit(max(1.0, remaining) if parsed.ocr is None else hard_limit_seconds(limits)):
        meta = read_fields(_readable(parsed))
    meta.format = parsed.format
    meta.page_count = parsed.page_count
    meta.text_layer = parsed.text_layer
    meta.ocr = parsed.ocr
    meta.conversion = parsed.conversion
    warnings = list(parsed.warnings)
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    named = _SUFFIX_FORMATS.get(suffix)
    if named is not None and named != parsed.format:
        warnings.append(f"the file is named .{suffix} but is a {parsed.format}: read as one")
    if not parsed.text_layer:
        # the reader's own warning says it better (and what to do)
        meta.warnings = [w for w in meta.warnings if not w.startswith("no text layer")]
    meta.warnings = [*warnings, *(w for w in meta.warnings if w not in warnings)]
    return meta


def _readable(parsed: ParsedDocument) -> ParsedDocument:
    """What the field parser reads: OCR's lines as text, though the file has no text layer."""
    if parsed.ocr != "read":
        return parsed
    return ParsedDocument(parsed.format, parsed.lines, parsed.page_count, True,
                          list(parsed.warnings))  # fmt: skip
