"""Reading a multipart/form-data upload from a byte stream, with the size limit enforced as the
bytes arrive (a 2 GB upload is refused after max_file_bytes, not after it was spooled to disk).

The limit is the whole request's: every part counts towards it (with a small allowance for
the text fields). Only the one file part and the text fields the endpoint names are taken;
any other part (a second file, an unknown field) refuses the request as soon as its headers
arrive. The file is spooled to a temporary file past SPOOL_IN_MEMORY_BYTES, so that a request
in flight holds at most that much of it in memory.

Pure apart from the parser: feed it chunks, get the file, its name and the text fields.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from gongkai.extractors.text import decode_strictly


class UploadError(ValueError):
    """A malformed or unacceptable upload; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class UploadTooLarge(UploadError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the limit of {limit} bytes", status=413)
        self.limit = limit


# Text fields are small; anything bigger is not a form field we know.
MAX_FIELD_BYTES = 4096
MAX_PARTS = 16
# What the whole body may carry beyond the file: part headers, boundaries and text fields.
FORM_ALLOWANCE_BYTES = 16 * 1024
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    filename: str | None = None
    chunks: list[bytes] = field(default_factory=list)  # a text field's bytes
    size: int = 0


@dataclass(frozen=True)
class Upload:
    file_field: str
    filename: str
    file: IO[bytes]  # the file part, spooled (in memory while small, on disk beyond)
    size: int
    fields: dict[str, str]

    @property
    def data(self) -> bytes:
        """The file's bytes (read from the spool; call once and keep the result)."""
        self.file.seek(0)
        return self.file.read()

    def close(self) -> None:
        self.file.close()


def _disposition(part: _Part) -> None:
    value = part.headers.get("content-disposition", "")
    kind, params = parse_options_header(value)
    if kind != b"form-data":
        raise UploadError("every part needs Content-Disposition: form-data")
    raw_name = params.get(b"name")
    part.name = raw_name.decode("utf-8", "replace") if raw_name is not None else None
    raw_filename = params.get(b"filename")
    if raw_filename is not None:
        # Header bytes were kept as latin-1 text; clients send the name as raw UTF-8, and
        # older drafting systems on Chinese Windows as GBK (read as GB18030, its superset).
        decoded = decode_strictly(raw_filename)
        text = decoded[0] if decoded is not None else raw_filename.decode("utf-8", "replace")
        # Keep the last path component only: a client may send "C:\\docs\\x.docx".
        part.filename = text.replace("\\", "/").rsplit("/", 1)[-1].strip()


async def read_upload(
    content_type: str | None,
    stream: AsyncIterator[bytes],
    *,
    file_field: str,
    max_file_bytes: int,
    text_fields: Collection[str] = (),
) -> Upload:
    """Parse a multipart/form-data body from `stream`: one file in `file_field`, and the text
    fields named in `text_fields`.

    Raises UploadError (400/415) for a body that is not multipart, lacks the file part or is
    malformed, 422 for any other part (a second file, a field not named), and UploadTooLarge
    (413) as soon as the body passes `max_file_bytes` (plus FORM_ALLOWANCE_BYTES for the
    text fields and the form's own framing). The caller closes the Upload.
    """
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise UploadError("send the file as multipart/form-data", status=415)
    boundary = params.get(b"boundary")
    if not boundary:
        raise UploadError("multipart/form-data without a boundary")

    parts: list[_Part] = []
    current: list[_Part] = []
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    received = [0]  # body bytes so far, every part and the framing
    body_limit = max_file_bytes + FORM_ALLOWANCE_BYTES
    ended: list[bool] = []
    header_field: list[bytes] = []
    header_value: list[bytes] = []

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise UploadError(f"more than {MAX_PARTS} form parts")
        current[:] = [_Part()]
        parts.append(current[0])

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.append(data[start:end])

    def on_header_end() -> None:
        name = b"".join(header_field).decode("latin-1").strip().lower()
        # latin-1 keeps the raw bytes; _disposition decodes the filename as UTF-8.
        current[0].headers[name] = b"".join(header_value).decode("latin-1").strip()
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        part = current[0]
        _disposition(part)
        if part.filename is not None:
            if part.name != file_field:
                raise UploadError(f"a file in {part.name!r}: only {file_field!r} takes one",
                                  status=422)  # fmt: skip
            if any(p.filename is not None for p in parts[:-1]):
                raise UploadError(f"send one file per request in {file_field!r}", status=422)
        elif part.name not in text_fields:
            known = ", ".join(repr(f) for f in (file_field, *text_fields))
            raise UploadError(f"unknown form field {part.name!r} (this form takes {known})",
                              status=422)  # fmt: skip

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = current[0]
        part.size += end - start
        if part.filename is not None:
            if part.size > max_file_bytes:
                raise UploadTooLarge(max_file_bytes)
            spool.write(data[start:end])
            return
        if part.size > MAX_FIELD_BYTES:
            raise UploadError(f"form field {part.name!r} is longer than {MAX_FIELD_BYTES} bytes")
        part.chunks.append(bytes(data[start:end]))

    def on_end() -> None:
        ended.append(True)

    parser = MultipartParser(
        boundary,
        {
            "on_end": on_end,
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        async for chunk in stream:
            if chunk:
                received[0] += len(chunk)
                if received[0] > body_limit:
                    raise UploadTooLarge(max_file_bytes)
                parser.write(chunk)
        parser.finalize()
        if not ended:
            raise UploadError("the multipart body ended before its closing boundary")
    except UploadError:
        spool.close()
        raise
    except Exception as exc:  # the parser's own errors: a broken body
        spool.close()
        raise UploadError(f"malformed multipart body: {exc}") from exc

    file_parts = [p for p in parts if p.filename is not None]
    if not file_parts:
        spool.close()
        raise UploadError(f"no file in the form field {file_field!r}", status=422)
    fields: dict[str, str] = {}
    for part in parts:
        if part.filename is None and part.name:
            fields[part.name] = b"".join(part.chunks).decode("utf-8", "replace").strip()
    return Upload(file_field=file_field, filename=file_parts[0].filename or "", file=spool,
                  size=file_parts[0].size, fields=fields)  # fmt: skip
