"""Limits and guards for reading untrusted files: size, zip containers, XML, time.

Everything a reader takes from a file passes through here first, so that a hostile file
(a zip bomb dressed as a .docx, an XML part with entity declarations, zip entries named
`../..`, a PDF with an absurd page count) ends in one `ExtractionError` with a message a clerk
can act on, within bounded time and memory. Nothing here writes anywhere: zip parts are
inflated into memory, in chunks, under a cap.
"""

from __future__ import annotations

import contextlib
import io
import re
import signal
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree

from gongkai import config
from gongkai.extractors.model import ExtractionError

__all__ = [
    "Deadline",
    "Limits",
    "SafeZip",
    "check_pdf_streams",
    "check_size",
    "check_xml",
    "check_zip_entry_count",
    "parse_xml",
    "time_limit",
]

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """How much work one document may cost. The defaults leave room for a 1000-page 公文."""

    max_bytes: int = config.DEFAULT_MAX_FILE_BYTES
    # zip container (docx)
    max_zip_entries: int = 5000
    max_zip_total_uncompressed: int = 1024 * _MB  # declared, over all entries
    max_part_bytes: int = 64 * _MB  # one inflated part (a 300-page document.xml: ~20 MB)
    max_inflated_bytes: int = 256 * _MB  # everything one read inflates
    max_pdf_stream_bytes: int = 48 * _MB  # one inflated PDF content/font stream
    max_ratio: float = 200.0  # per entry: uncompressed / compressed, for entries over 1 MB
    # pdf
    max_pages: int = 2000
    max_chars: int = 20_000_000
    # both
    max_seconds: float = 60.0
    # scans and conversions (external programs, each run under its own time limit)
    max_ocr_pages: int = 50  # a longer scan: the first pages are read, a warning says so
    max_ocr_seconds: float = 600.0  # all OCR of one document
    max_convert_seconds: float = 120.0  # one LibreOffice conversion (.doc/.wps -> .docx)
    max_image_pixels: int = 120_000_000  # one scanned page (A4 at 600 dpi is 35 million)


DEFAULT_LIMITS = Limits()


class Deadline:
    """A time budget checked between units of work (pages, parts): a reader stops with
    `timeout` instead of running on."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self.seconds = seconds

    def check(self, what: str) -> None:
        if time.monotonic() > self._end:
            raise ExtractionError(
                "timeout",
                f"读取超时 (reading took longer than {self.seconds:g} s, stopped at {what}): "
                "the file is unusually large or complex; check it opens normally, or save it "
                "again (e.g. print to PDF) and resubmit",
            )


class _Overrun(BaseException):
    """Raised by the alarm inside whatever the reader was doing. A BaseException, so that no
    reader's `except Exception` can take it for a damaged file and carry on."""


def hard_limit_seconds(limits: Limits) -> float:
    """The hard stop: twice the budget the Deadline checks between pages, so that a reader that
    is slow but gets on ends at a check with that message first."""
    return 2 * limits.max_seconds


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop the reading of one document after `seconds`, wherever it is: the Deadline is only
    looked at between pages and parts, and a single page can keep pdfplumber's layout analysis
    busy for minutes. The alarm (SIGALRM) interrupts Python code; a call into PDFium's C code
    is interrupted when it returns. It is armed only on a process's main thread (the worker
    processes of an ingest, `gongkai extract`), and not while another alarm is running (that
    one is left alone); elsewhere, in the HTTP API's threads, the Deadline alone applies. The
    overrun ends in ExtractionError("timeout")."""
    armed = (
        seconds > 0 and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )  # fmt: skip
    if not armed:
        yield
        return

    def on_alarm(_signum: int, _frame: Any) -> None:
        raise _Overrun

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            # An alarm that goes off just before this is still caught below.
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Overrun:
        raise ExtractionError(
            "timeout",
            f"读取超时 (reading was stopped after {seconds:g} s, inside a single page or part): "
            "the file is unusually large or complex; check it opens normally, or save it "
            "again (e.g. print to PDF) and resubmit",
        ) from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def check_size(data: bytes, max_bytes: int) -> None:
    """Empty and oversized files are refused before any parsing."""
    if len(data) == 0:
        raise ExtractionError(
            "empty", "文件为空 (the file is empty, 0 bytes): the upload or copy failed; send the "
            "file again"
        )
    if len(data) > max_bytes:
        raise ExtractionError(
            "too_large",
            f"文件过大 (the file is {len(data) / _MB:.1f} MB, the limit is "
            f"{max_bytes / _MB:.1f} MB): split it, compress its images, or ask the administrator "
            "to raise GONGKAI_MAX_FILE_BYTES",
        )


# ---------------------------------------------------------------------------------------------
# zip containers
# ---------------------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def _corrupt_zip(detail: str) -> ExtractionError:
    return ExtractionError(
        "corrupt",
        f"文件已损坏或不完整 (the Word file is damaged or incomplete: {detail}): open it in Word "
        "or WPS, save it again as .docx, and resubmit",
    )


def _bomb(detail: str) -> ExtractionError:
    return ExtractionError(
        "zip_bomb",
        f"文件结构异常，拒绝解压 (the file expands to far more data than a document holds: "
        f"{detail}); it is not a normal Word document — do not open it, report it to IT",
    )


def check_zip_entry_count(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse a zip whose end-of-directory record announces too many entries, before
    `zipfile` builds an object for each of them (a million entries fit in 50 MB)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if end < 0 or end + 22 > len(data):
        return  # no directory record: zipfile reports the damage
    count = int.from_bytes(data[end + 10:end + 12], "little")
    if count == 0xFFFF and end >= 20 and data[end - 20:end - 16] == b"PK\x06\x07":
        # zip64: the locator points to the zip64 end record holding the real count
        offset = int.from_bytes(data[end - 12:end - 4], "little")
        if data[offset:offset + 4] == b"PK\x06\x06":
            count = int.from_bytes(data[offset + 32:offset + 40], "little")
    if count > limits.max_zip_entries:
        raise _bomb(f"{count} entries, the limit is {limits.max_zip_entries}")


# Encrypted, compressed-patched, strongly encrypted: zipfile refuses or needs a password.
_NOT_PLAIN = 0x1 | 0x20 | 0x40


class SafeZip:
    """A zip archive read from memory whose central directory was checked before anything is
    inflated: entry count, declared total size, per-entry ratio, entry names. Parts are
    inflated in chunks and stop at a cap, whatever the directory claims."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._inflated = 0
        self._data = data
        check_zip_entry_count(data, limits)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (
            zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError,
        ) as exc:
            raise _corrupt_zip(str(exc) or type(exc).__name__) from None
        if len(infos) > limits.max_zip_entries:
            raise _bomb(f"{len(infos)} entries, the limit is {limits.max_zip_entries}")
        total = 0
        for info in infos:
            if _unsafe_name(info.filename):
                raise ExtractionError(
                    "unsafe_path",
                    f"文件包含非法路径 (the file contains an entry named {info.filename!r}, "
                    "which points outside the document): it was not made by Word or WPS; do "
                    "not open it, report it to IT",
                )
            total += info.file_size
            if info.file_size > limits.max_part_bytes and not info.filename.lower().endswith(
                (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf")
            ):
                raise _bomb(f"{info.filename} declares {info.file_size / _MB:.0f} MB")
            if (
                info.compress_size > 0
                and info.file_size > _MB
                and info.file_size / info.compress_size > limits.max_ratio
            ):
                raise _bomb(
                    f"{info.filename} is compressed {info.file_size / info.compress_size:.0f}:1"
                )
            if info.compress_size == 0 and info.file_size > _MB:
                raise _bomb(f"{info.filename} declares {info.file_size} bytes from nothing")
        if total > limits.max_zip_total_uncompressed:
            raise _bomb(f"{total / _MB:.0f} MB in all once unpacked")
        self._infos = {info.filename: info for info in infos}

    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, name: str) -> bool:
        return name in self._infos

    def info(self, name: str) -> zipfile.ZipInfo:
        return self._infos[name]

    def open(self, name: str) -> IO[bytes]:
        """A stream of one entry, through zipfile (which names any damage it meets)."""
        return self._zip.open(self._infos[name])

    def head(self, name: str, size: int) -> bytes | None:
        """The first `size` inflated bytes of an entry (all of it if shorter: then its CRC is
        checked), the bytes `open(name).read(size)` gives, read straight from the local header
        without zipfile's stream machinery: the guards look at the prolog of every XML part,
        and opening a zipfile stream costs more than inflating a few hundred bytes. None when
        the entry is anything but a plain stored or deflated one whose local header agrees
        with the directory, or when a bounded slice of its data does not give those bytes (a
        short or damaged stream, empty deflate blocks): the caller then reads it through
        `open`, which names the damage as zipfile does."""
        info = self._infos.get(name)
        if info is None or info.flag_bits & _NOT_PLAIN or info.compress_type not in (0, 8):
            return None
        offset = info.header_offset
        header = self._data[offset:offset + 30]
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return None
        name_length = int.from_bytes(header[26:28], "little")
        extra_length = int.from_bytes(header[28:30], "little")
        encoding = "utf-8" if int.from_bytes(header[6:8], "little") & 0x800 else "cp437"
        try:
            stored_name = self._data[offset + 30:offset + 30 + name_length].decode(encoding)
        except UnicodeDecodeError:
            return None
        if stored_name != info.orig_filename:
            return None
        start = offset + 30 + name_length + extra_length
        wanted = min(size, info.file_size)
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                return None
            out = self._data[start:start + wanted]
        else:
            window = min(info.compress_size, 8 * size + 1024)
            try:
                out = zlib.decompressobj(-15).decompress(
                    memoryview(self._data)[start:start + window], wanted
                )
            except zlib.error:
                return None
        if len(out) < wanted:
            return None
        if wanted == info.file_size and zlib.crc32(out) != info.CRC:
            return None
        return out

    def read(self, name: str) -> bytes:
        """One entry's bytes, inflated under the per-part and per-file caps."""
        info = self._infos.get(name)
        if info is None:
            raise _corrupt_zip(f"the part {name} is missing")
        if info.flag_bits & 0x1:
            raise ExtractionError(
                "encrypted",
                "文件已加密，无法读取 (the file's contents are password-protected): ask the "
                "drafting office for an unprotected copy",
            )
        cap = min(self._limits.max_part_bytes, self._limits.max_inflated_bytes - self._inflated)
        out = bytearray()
        try:
            with self._zip.open(info) as stream:
                while True:
                    chunk = stream.read(min(_MB, cap - len(out) + 1))
                    if not chunk:
                        break
                    out += chunk
                    if len(out) > cap:
                        raise _bomb(f"{name} inflates past {cap / _MB:.0f} MB")
        except ExtractionError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise _corrupt_zip(f"{name}: {exc}") from None
        except Exception as exc:  # zlib.error, struct.error from a damaged local header
            raise _corrupt_zip(f"{name}: {type(exc).__name__}: {exc}") from None
        self._inflated += len(out)
        return bytes(out)


# ---------------------------------------------------------------------------------------------
# XML parts
# ---------------------------------------------------------------------------------------------

# Office parts never carry a DTD. Entities are never resolved, nothing is fetched, no DTD is
# loaded, and any DOCTYPE (the carrier of entity expansion, "billion laughs") is refused.
_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}
_parsers = threading.local()  # an lxml parser must not be shared between threads


def _parser() -> etree.XMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.XMLParser(**_PARSER_OPTIONS)
    return parser
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_DTD_MARKS_16 = tuple(m.decode().encode("utf-16-le") for m in _DTD_MARKS) + tuple(
    m.decode().encode("utf-16-be") for m in _DTD_MARKS
)


def _unsafe_xml(part: str) -> ExtractionError:
    return ExtractionError(
        "unsafe_xml",
        f"文件包含不安全的XML声明 (the part {part} declares a DOCTYPE/entities, which Word never "
        "writes and which can be used to exhaust memory): do not open it, report it to IT",
    )


def prolog_declares_dtd(head: bytes, *, complete: bool) -> bool | None:
    """True if the XML prolog in `head` declares a DOCTYPE, False once the root element starts
    without one. A DTD must come before the root element, so only the prolog is scanned. With
    complete=False `head` is the start of a part: None means it ends inside the prolog."""
    undecided = False if complete else None
    position = 0
    while True:
        position = head.find(b"<", position)
        if position < 0:
            return undecided
        if head.startswith(b"<?", position):
            position = head.find(b"?>", position)
        elif head.startswith(b"<!--", position):
            position = head.find(b"-->", position)
        elif not complete and len(head) - position < 9:
            return None  # "<!DOCTYPE" may be cut by the chunk's end
        else:
            return head.startswith(b"<!", position)  # a declaration, or the root element
        if position < 0:
            return undecided


def has_dtd(data: bytes) -> bool:
    """True if the XML declares a DOCTYPE (entities can only be declared inside one); UTF-16
    parts are searched whole."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        return any(mark in data for mark in _DTD_MARKS_16)
    return bool(prolog_declares_dtd(data, complete=True))


def check_xml(data: bytes, part: str) -> None:
    """Refuse a part that declares a DOCTYPE, before anything parses it."""
    if has_dtd(data):
        raise _unsafe_xml(part)


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one package part; DOCTYPE / ENTITY declarations are refused before and after."""
    check_xml(data, part)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(
            "corrupt",
            f"文件已损坏 (the Word part {part} is not well-formed XML: {exc}): open it in Word or "
            "WPS, save it again as .docx, and resubmit",
        ) from None
    if root is None:
        raise _corrupt_zip(f"{part} is empty")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _unsafe_xml(part)
    return root


# ---------------------------------------------------------------------------------------------
# PDF streams
# ---------------------------------------------------------------------------------------------

# The `stream` keyword and its end of line; an `endstream` is skipped by looking back at the
# match (a look-behind in the pattern would cost the regex a test at every byte of the file).
_STREAM_KEYWORD = re.compile(rb"stream(?:\r\n|\n|\r)")
_IMAGE_DICT = re.compile(rb"/Subtype\s*/Image")
_CHUNK = 256 * 1024


def _pdf_bomb(detail: str) -> ExtractionError:
    return ExtractionError(
        "zip_bomb",
        f"PDF内容异常，拒绝读取 (a compressed part of the PDF expands to far more data than a "
        f"document holds: {detail}); it is not a normal PDF — do not open it, report it to IT",
    )


def check_pdf_streams(data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Inflate every Flate-compressed stream that PDFium would inflate to read text (page
    contents, fonts, object streams: not images, which text reading never decodes), under a
    cap and in chunks, before PDFium sees the file: PDFium itself inflates without a limit.

    Costs one zlib pass over the file's compressed text streams (milliseconds for a 公文)."""
    total = 0
    position = 0
    deadline = Deadline(limits.max_seconds)
    view = memoryview(data)  # chunks are inflated from the file's bytes, not copies of them
    keywords = (
        m for m in _STREAM_KEYWORD.finditer(data)
        if data[max(0, m.start() - 3):m.start()] != b"end"
    )
    for count, match in enumerate(keywords):
        start = match.end()
        if start < position:
            continue  # inside a stream already inflated
        if count % 64 == 0:
            deadline.check("checking the PDF's compressed streams")
        head = data[start:start + 2]
        if len(head) < 2 or head[0] & 0x0F != 8 or (head[0] << 8 | head[1]) % 31:
            continue  # not zlib data (uncompressed, DCT, or another filter first)
        dictionary = data[max(0, match.start() - 2048):match.start()]
        dictionary = dictionary[dictionary.rfind(b"obj") + 3:] if b"obj" in dictionary else b""
        if _IMAGE_DICT.search(dictionary):
            continue
        inflater = zlib.decompressobj()
        produced = 0
        offset = start
        cap = limits.max_pdf_stream_bytes
        try:
            while not inflater.eof and offset < len(data):
                chunk = view[offset:offset + _CHUNK]
                offset += len(chunk)
                piece = inflater.decompress(chunk, _CHUNK * 4)
                produced += len(piece)
                while inflater.unconsumed_tail and not inflater.eof and produced <= cap:
                    piece = inflater.decompress(inflater.unconsumed_tail, _CHUNK * 4)
                    if not piece:
                        break
                    produced += len(piece)
                if produced > cap:
                    raise _pdf_bomb(f"one stream passes {cap // _MB} MB once inflated")
            position = offset - len(inflater.unused_data)
        except zlib.error:
            position = start  # damaged or not really zlib: PDFium decides what to make of it
        total += produced
        if total > limits.max_inflated_bytes:
            raise _pdf_bomb(f"its streams pass {limits.max_inflated_bytes // _MB} MB inflated")
