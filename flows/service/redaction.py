"""Redaction: a person's redacted version archived beside the original and published."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from gongkai.extractors.fields import read_fields
from gongkai.extractors.model import DocumentMetadata, ExtractionError, Line, ParsedDocument
from gongkai.flows.labels import state_label
from gongkai.flows.service.context import Context, LifecycleError
from gongkai.flows.service.intake import clean_filename, sniff_format
from gongkai.flows.service.processing import extract_one
from gongkai.flows.service.public_view import REDACTED_EVENT, REDACTED_TEXT
from gongkai.flows.service.publication import publish
from gongkai.storage.catalog import (
    DocumentRecord,
)


def _archive_note(ctx: Context, record: DocumentRecord, name: str, note: dict[str, Any]) -> None:
    """Decisions travel with the archival package too (a new manifest revision)."""
    if not record.archive_key:
        return
    stamp = ctx.now().strftime("%Y%m%dT%H%M%S%f")
    body = json.dumps(note, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.archive.add_members(record.archive_key, {f"{name}-{stamp}.json": body})


# --------------------------------------------------------------------------------------------
# redaction and exceptions


@dataclass(frozen=True)
class RedactedVersion:
    """A person's redacted version as read: its text, what it was read as, and its fields."""

    text: str
    read_as: str
    metadata: DocumentMetadata


def read_redacted(data: bytes, filename: str, max_bytes: int) -> RedactedVersion:
    """Read a redacted version: docx and pdf through the readers, plain text in UTF-8, UTF-16
    or GBK (extractors/text.py) through the same field parser, line by line."""
    from gongkai.extractors.text import read_plain_text

    kind = sniff_format(data, filename)
    if kind is None:
        plain = read_plain_text(data, filename)
        lines = [Line(line) for line in plain.text.splitlines()]
        parsed = ParsedDocument(format="docx", lines=lines, page_count=None, text_layer=True)
        return RedactedVersion(plain.text, f"text ({plain.encoding})", read_fields(parsed))
    result = extract_one(data, filename, max_bytes)
    if isinstance(result, ExtractionError):
        raise result
    return RedactedVersion(result.text, kind, result)


def _tight(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def differences(record: DocumentRecord, version: DocumentMetadata) -> list[str]:
    """Where the redacted version does not carry the original's 文号 and title (Chinese, for
    the person who supplied it)."""
    found: list[str] = []
    for label, original, given in (("文号", record.file_number, version.file_number),
                                   ("标题", record.title, version.title)):  # fmt: skip
        if _tight(original) == _tight(given):
            continue
        if not given:
            found.append(f"删减稿未载明{label}（原件为 {original or '无'}）")
        else:
            found.append(f"删减稿的{label}为 {given}，原件为 {original or '无'}")
    return found


def public_fields(record: DocumentRecord, version: DocumentMetadata) -> dict[str, Any]:
    """What the public view of the document shows (flows/service/public_view.py): read from
    the redacted version. 文号 and title equal the original's (or a person confirmed the
    difference; what the version does not state is then the catalog's); 成文日期 and issuer,
    facts of the document rather than of its text, likewise; the attachments are the version's
    own only."""
    return {
        "file_number": version.file_number or record.file_number,
        "title": version.title or record.title,
        "issuer": version.issuer or record.issuer,
        "publisher": version.publisher,
        "date": version.date or (record.date.isoformat() if record.date else None),
        "attachments": list(version.attachments),
    }


def redact(
    ctx: Context,
    doc_id: int,
    data: bytes,
    filename: str,
    *,
    actor: str,
    confirm_difference: str | None = None,
) -> DocumentRecord:
    """Archive a person's redacted version beside the original and publish only it. The
    version must carry the original's 文号 and title, or the person confirms the difference
    with a reason (`confirm_difference`, audited); one with a security marking is refused."""
    record = ctx.catalog.get(doc_id)
    if record.state != "needs_redaction":
        raise LifecycleError(f"文件 {doc_id} 的状态是{state_label(record.state)}，不在待删减之列；"
                             f"document {doc_id} is {record.state}, not needs_redaction")
    if not record.archive_key:
        raise LifecycleError(f"document {doc_id} has no archival package yet")
    version = read_redacted(data, filename, ctx.settings.max_file_bytes)
    if not version.text.strip():
        raise LifecycleError(f"{filename}: the redacted version holds no text")
    if version.metadata.security_level:
        raise LifecycleError(f"{filename}: 删减稿标有密级 {version.metadata.security_level}，"
                             "不能公开 (the redacted version carries a security marking)")
    found = differences(record, version.metadata)
    reason = (confirm_difference or "").strip()
    if found and not reason:
        raise LifecycleError(
            f"{filename}: 删减稿与原件不符：{'；'.join(found)}。请核对是否选错文件；确认无误时用 "
            "--confirm-difference 说明理由 (the redacted version does not carry the original's "
            "文号 and title)"
        )
    filename = clean_filename(filename)
    suffix = PurePath(filename).suffix.lower() or ".bin"
    detail: dict[str, Any] = {"filename": filename, "read_as": version.read_as,
                              "public": public_fields(record, version.metadata)}  # fmt: skip
    if found:
        detail.update(differences=found, difference_confirmed=reason)
    # The version, its text and the decision (who, what differs and why) travel together in
    # one revision of the archival package.
    stamp = ctx.now().strftime("%Y%m%dT%H%M%S%f")
    note = json.dumps({**detail, "by": actor}, ensure_ascii=False, indent=2).encode("utf-8")
    ctx.archive.add_members(record.archive_key, {
        f"redacted{suffix}": data,
        REDACTED_TEXT: version.text.encode("utf-8"),
        f"redaction-{stamp}.json": note,
    })  # fmt: skip
    record = ctx.catalog.update(
        doc_id, actor=actor, kind=REDACTED_EVENT, detail=detail,
        redacted_key=f"{record.archive_key}/redacted{suffix}",
    )  # fmt: skip
    report = publish(ctx, [doc_id], actor=actor)
    if doc_id in report.refused:
        raise LifecycleError(f"document {doc_id} not published: {report.refused[doc_id]}")
    return report.published[0]
