"""What a file really is, from its bytes (never from its name): a PDF named .docx is a PDF.

`sniff(data) -> "docx" | "pdf"`, or an `ExtractionError` saying what the file is instead and
what the clerk can do about it.
"""

from __future__ import annotations

import io
import zipfile
from typing import Literal

from gongkai.extractors.model import ExtractionError
from gongkai.extractors.safety import DEFAULT_LIMITS, Limits, check_zip_entry_count

__all__ = ["sniff"]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# An encrypted .docx is an OLE container holding the streams EncryptionInfo/EncryptedPackage.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _unsupported(what: str) -> ExtractionError:
    return ExtractionError(
        "unsupported_type",
        f"不支持的文件格式 (this is {what}, not a .docx or .pdf): save it as .docx or PDF "
        "and resubmit",
    )


def _zip_kind(data: bytes, limits: Limits) -> Literal["docx"]:
    check_zip_entry_count(data, limits)
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ExtractionError(
            "corrupt",
            f"文件已损坏或不完整 (the file is a damaged or incomplete zip/Word file: {exc}): "
            "open it in Word or WPS, save it again as .docx, and resubmit",
        ) from None
    # The main part is normally word/document.xml; some writers name it otherwise
    # (_rels/.rels points to it), but it always lives under word/.
    if "[Content_Types].xml" in names and any(
        n.startswith("word/") and n.endswith(".xml") for n in names
    ):
        return "docx"
    if "xl/workbook.xml" in names:
        raise _unsupported("an Excel workbook (.xlsx)")
    if "ppt/presentation.xml" in names:
        raise _unsupported("a PowerPoint presentation (.pptx)")
    if "mimetype" in names and "content.xml" in names:
        raise _unsupported("an OpenDocument file (.odt/.ods)")
    if "Doc_1.ofd" in names or "OFD.xml" in names:
        raise _unsupported("an OFD document (convert it to PDF)")
    raise _unsupported("a zip archive that is not a Word document")


def sniff(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Literal["docx", "pdf"]:
    if not data:
        raise ExtractionError(
            "empty", "文件为空 (the file is empty, 0 bytes): the upload or copy failed; send the "
            "file again"
        )
    # The PDF header may follow a little junk (the reference allows 1024 bytes).
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_ZIP_HEADS):
        return _zip_kind(data, limits)
    if data.startswith(_OLE):
        if _ENCRYPTED_PACKAGE in data[:65536] or _ENCRYPTED_PACKAGE in data[-65536:]:
            raise ExtractionError(
                "encrypted",
                "文件已加密，无法读取 (the Word file is password-protected): ask the drafting "
                "office for an unprotected copy",
            )
        raise _unsupported("an old Word .doc (or other legacy Office) file")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{\\rtf"):
        raise _unsupported("an RTF file")
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or (
        b"<html" in head
    ):
        raise _unsupported("a web page or XML file")
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        raise _unsupported("an image (scan it to PDF)")
    if data.startswith(b"Rar!") or data.startswith(b"7z\xbc\xaf"):
        raise _unsupported("a compressed archive")
    raise _unsupported("not a document format gongkai recognises")
