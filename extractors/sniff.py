"""What a file really is, from its bytes (the name decides only between .doc and .wps, which
hold the same Word 97 binary): a PDF named .docx is a PDF.

`sniff(data, limits, filename) -> Format` (docx, pdf, doc, wps, ofd, png, jpeg, tiff), or an
`ExtractionError` saying what the file is instead and what the clerk can do about it.

- docx: a zip with [Content_Types].xml and a part under word/.
- ofd: a zip with OFD.xml at its root (GB/T 33190: the entry point of every OFD package).
- doc / wps: an OLE2 compound file holding a "WordDocument" stream. WPS Office writes its .wps
  in the Word 97 binary format (LibreOffice's type detection lists "doc wps" as the extensions
  of that one type), so the bytes cannot tell them apart and the extension does. An OLE2 file
  named .wps without that stream is a Microsoft Works document, which LibreOffice also reads.
- png / jpeg / tiff: their magic numbers (scans, read by OCR).
"""

from __future__ import annotations

import io
import zipfile

from gongkai.extractors.model import ExtractionError, Format
from gongkai.extractors.safety import DEFAULT_LIMITS, Limits, check_zip_entry_count

__all__ = ["sniff"]

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in an OLE2 directory are UTF-16LE.
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_WORKS_STREAM = "CONTENTS".encode("utf-16-le")
_EXCEL_STREAMS = ("Workbook".encode("utf-16-le"), "Book".encode("utf-16-le"))
_POWERPOINT_STREAM = "PowerPoint Document".encode("utf-16-le")
_ZIP_HEADS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# An encrypted .docx is an OLE container holding the streams EncryptionInfo/EncryptedPackage.
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def _unsupported(what: str) -> ExtractionError:
    return ExtractionError(
        "unsupported_type",
        f"不支持的文件格式 (this is {what}, not a document gongkai reads: .docx, .pdf, .doc, "
        ".wps, .ofd, or a scan as .png/.jpg/.tif): save it as .docx or PDF and resubmit",
    )


def _zip_kind(data: bytes, limits: Limits) -> Format:
    check_zip_entry_count(data, limits)
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise ExtractionError(
            "corrupt",
            f"文件已损坏或不完整 (the file is a damaged or incomplete zip/Word file: {exc}): "
            "open it in Word or WPS, save it again as .docx, and resubmit",
        ) from None
    if "OFD.xml" in names:
        return "ofd"
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
    raise _unsupported("a zip archive that is not a Word document")


def _ole_kind(data: bytes, filename: str) -> Format:
    if _ENCRYPTED_PACKAGE in data[:65536] or _ENCRYPTED_PACKAGE in data[-65536:]:
        raise ExtractionError(
            "encrypted",
            "文件已加密，无法读取 (the Word file is password-protected): ask the drafting "
            "office for an unprotected copy",
        )
    named_wps = filename.lower().endswith(".wps")
    if _WORD_STREAM in data:
        return "wps" if named_wps else "doc"
    if named_wps and _WORKS_STREAM in data:
        return "wps"  # Microsoft Works
    if _POWERPOINT_STREAM in data:
        raise _unsupported("an old PowerPoint .ppt file")
    if any(stream in data for stream in _EXCEL_STREAMS):
        raise _unsupported("an old Excel .xls file")
    raise _unsupported("a legacy Office (OLE2) file that is not a Word document")


def _image_kind(data: bytes) -> Format | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    return None


def sniff(data: bytes, limits: Limits = DEFAULT_LIMITS, filename: str = "") -> Format:
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
        return _ole_kind(data, filename)
    image = _image_kind(data)
    if image is not None:
        return image
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{\\rtf"):
        raise _unsupported("an RTF file")
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or (
        b"<html" in head
    ):
        raise _unsupported("a web page or XML file")
    if data.startswith(b"GIF8") or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        raise _unsupported("an image other than PNG, JPEG or TIFF (save the scan as one)")
    if data.startswith(b"Rar!") or data.startswith(b"7z\xbc\xaf"):
        raise _unsupported("a compressed archive")
    raise _unsupported("not a document format gongkai recognises")
