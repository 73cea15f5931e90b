"""Plain text a person supplies: a redacted version typed or pasted into a .txt file, and the
names of the files handed over.

Offices save .txt files in more than one encoding: UTF-8 (with or without the BOM Notepad
writes), UTF-16 ("Unicode" in Notepad's Save As), and, from Chinese Windows before 2019 and
many older tools, GBK ("ANSI"). They are read in that order, each strictly; GB18030, a superset
of GBK, is tried last. Bytes that are none of these, or that hold control characters no text
file has, are refused rather than published as mojibake.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

from gongkai.extractors.model import ExtractionError

__all__ = ["PlainText", "decode_strictly", "read_plain_text", "readable_name"]

# C0 controls other than tab, line feed, form feed and carriage return: binary, not text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PlainText:
    text: str
    encoding: str  # the one it was read as: utf-8, utf-16, gb18030


def decode_strictly(raw: bytes) -> tuple[str, str] | None:
    """`raw` as UTF-8, else as GB18030 (GBK's superset), each strictly: the text and the
    encoding it was read as, or None. For bytes a Chinese office wrote with no BOM to say
    which (text files, file names, multipart headers)."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


def _decoded(data: bytes) -> tuple[str, str] | None:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    return decode_strictly(data)


def read_plain_text(data: bytes, filename: str) -> PlainText:
    """The text of a plain-text file, or ExtractionError("unsupported_type") naming what the
    file should be."""
    try:
        decoded = _decoded(data)
    except UnicodeDecodeError:  # a BOM, then bytes that do not follow it
        decoded = None
    if decoded is None or _CONTROL.search(decoded[0]):
        raise ExtractionError(
            "unsupported_type",
            f"{filename}: 不是可识别的文本文件 (not a docx, a pdf, or a text file in UTF-8, "
            "UTF-16 or GBK): save it again as one of these and resubmit",
        )
    return PlainText(*decoded)


def readable_name(name: str) -> str:
    """A file name (or path) as its author wrote it. Linux hands names over as bytes, and one
    that is not UTF-8 (a GBK name from a Chinese Windows share or USB stick mounted without
    the right charset) reaches Python with those bytes escaped as lone surrogates, which can be
    neither stored nor printed. Each such path segment is read as GB18030 when it is that, and
    otherwise shown with \\xNN escapes for the bytes that are not UTF-8; the other segments
    (a folder named in UTF-8 around it) stay as they are."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return "/".join(_readable_segment(segment) for segment in name.split("/"))


def _readable_segment(segment: str) -> str:
    try:
        segment.encode("utf-8")
        return segment
    except UnicodeEncodeError:
        pass
    try:
        raw = os.fsencode(segment)  # the bytes as they were on disk
    except UnicodeEncodeError:  # surrogates that never were bytes on a disk
        return segment.encode("utf-8", "backslashreplace").decode("utf-8")
    # Not UTF-8 (its surrogates say so): GB18030 if it is that.
    decoded = decode_strictly(raw)
    return decoded[0] if decoded is not None else raw.decode("utf-8", "backslashreplace")
