"""Extraction: bytes of a .docx or .pdf in, the document's metadata out. Pure: no Prefect,
database or network, and nothing is written anywhere.

    extract(data, filename) -> DocumentMetadata   (raises ExtractionError for unreadable input)

Steps: size check -> sniff the real type from the bytes (the name is only used in messages) ->
reader (docx.py / pdf.py, guarded by safety.py) -> fields.read_fields.
"""

from __future__ import annotations

from gongkai import config
from gongkai.extractors.model import DocumentMetadata, ExtractionError, ParsedDocument
from gongkai.extractors.safety import Limits, check_size, hard_limit_seconds, time_limit
from gongkai.extractors.sniff import sniff

__all__ = ["DocumentMetadata", "ExtractionError", "Limits", "extract", "parse"]


def parse(
    data: bytes, *, max_bytes: int = config.DEFAULT_MAX_FILE_BYTES, limits: Limits | None = None
) -> ParsedDocument:
    """The lines of a document, before any field is read (size check, sniff, reader)."""
    limits = limits or Limits(max_bytes=max_bytes)
    check_size(data, limits.max_bytes)
    kind = sniff(data, limits)
    if kind == "pdf":
        from gongkai.extractors.pdf import read_pdf as reader
    else:
        from gongkai.extractors.docx import read_docx as reader
    try:
        with time_limit(hard_limit_seconds(limits)):
            return reader(data, limits)
    except ExtractionError:
        raise
    except (RuntimeError, MemoryError, ValueError, KeyError, IndexError, OSError) as exc:
        # Damage the readers do not name (a malformed structure deep inside the file) still
        # ends in the one error type, with the cause kept for the log.
        raise ExtractionError(
            "corrupt",
            f"文件已损坏，无法读取 (the {kind} file is damaged: {type(exc).__name__}): open it in "
            "the program that made it, save it again, and resubmit",
        ) from exc


def extract(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = config.DEFAULT_MAX_FILE_BYTES,
    limits: Limits | None = None,
) -> DocumentMetadata:
    """Read one official document's metadata. The type is read from the bytes, so a PDF named
    .docx is read as a PDF; `filename` only adds a warning when its extension disagrees.
    `limits` (default: `Limits(max_bytes=max_bytes)`) bounds the work on hostile files."""
    from gongkai.extractors.fields import read_fields

    limits = limits or Limits(max_bytes=max_bytes)
    # One hard stop for the reader and the field parser together (parse() then arms none).
    with time_limit(hard_limit_seconds(limits)):
        parsed = parse(data, limits=limits)
        meta = read_fields(parsed)
    meta.format = parsed.format
    meta.page_count = parsed.page_count
    meta.text_layer = parsed.text_layer
    warnings = list(parsed.warnings)
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in ("pdf", "docx", "doc", "wps") and suffix != parsed.format:
        warnings.append(f"the file is named .{suffix} but is a {parsed.format}: read as one")
    if not parsed.text_layer:
        # the reader's own warning says it better (and what to do)
        meta.warnings = [w for w in meta.warnings if not w.startswith("no text layer")]
    meta.warnings = [*warnings, *(w for w in meta.warnings if w not in warnings)]
    return meta
