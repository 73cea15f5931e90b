"""Redaction: a person's redacted version archived beside the original and published."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from gongkai.extractors.model import ExtractionError
from gongkai.flows.service.context import Context, LifecycleError
from gongkai.flows.service.intake import clean_filename, sniff_format
from gongkai.flows.service.processing import extract_one
from gongkai.flows.service.publication import publish
from gongkai.storage.catalog import (
    DocumentRecord,
)


def _archive_note(ctx: Context, record: DocumentRecord, name: str, note: dict[str, Any]) -> None:
    """Decisions travel with the archival package too (a new manifest revision)."""
    if not record.archive_key:
        return
    import json

    stamp = ctx.now().strftime("%Y%m%dT%H%M%S%f")
    body = json.dumps(note, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.archive.add_members(record.archive_key, {f"{name}-{stamp}.json": body})


# --------------------------------------------------------------------------------------------
# redaction and exceptions


def redacted_text(data: bytes, filename: str, max_bytes: int) -> tuple[str, str]:
    """The text of a person's redacted version, and what it was read as: docx and pdf
    through the readers, plain text in UTF-8, UTF-16 or GBK (extractors/text.py)."""
    from gongkai.extractors.text import read_plain_text

    kind = sniff_format(data, filename)
    if kind is None:
        plain = read_plain_text(data, filename)
        return plain.text, f"text ({plain.encoding})"
    result = extract_one(data, filename, max_bytes)
    if isinstance(result, ExtractionError):
        raise result
    return result.text, kind


def redact(
    ctx: Context, doc_id: int, data: bytes, filename: str, *, actor: str
) -> DocumentRecord:
    """Archive a person's redacted version beside the original and publish only it."""
    record = ctx.catalog.get(doc_id)
    if record.state != "needs_redaction":
        raise LifecycleError(f"document {doc_id} is {record.state}, not needs_redaction")
    if not record.archive_key:
        raise LifecycleError(f"document {doc_id} has no archival package yet")
    text, read_as = redacted_text(data, filename, ctx.settings.max_file_bytes)
    if not text.strip():
        raise LifecycleError(f"{filename}: the redacted version holds no text")
    filename = clean_filename(filename)
    suffix = PurePath(filename).suffix.lower() or ".bin"
    ctx.archive.add_members(record.archive_key, {
        f"redacted{suffix}": data,
        "redacted.txt": text.encode("utf-8"),
    })  # fmt: skip
    record = ctx.catalog.update(
        doc_id, actor=actor, kind="redacted", detail={"filename": filename, "read_as": read_as},
        redacted_key=f"{record.archive_key}/redacted{suffix}",
    )  # fmt: skip
    report = publish(ctx, [doc_id], actor=actor)
    if doc_id in report.refused:
        raise LifecycleError(f"document {doc_id} not published: {report.refused[doc_id]}")
    return report.published[0]
