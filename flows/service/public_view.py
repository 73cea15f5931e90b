"""The public view of a document: the one place a catalog record becomes what the public sees
(render.PublicRecord, its fields render.PUBLIC_FIELDS). Every public output is built from it:
the record pages, index.json, index.html and feed.atom in the public store, and the anonymous
HTTP API.

A document published through a redacted version is shown from that version alone: its text,
its attachments and what was read from it (文号, title, issuer, date), as recorded by
`gongkai redact` in the `redacted` audit event (flows/service/redaction.py). Nothing the
original's reading found (its attachments, its text) reaches the public.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from gongkai.flows import render
from gongkai.flows.service.context import Context
from gongkai.storage.catalog import DocumentRecord

REDACTED_EVENT = "redacted"
REDACTED_TEXT = "redacted.txt"  # archive member beside the original


def public_record(record: DocumentRecord, text: str, published_at: datetime) -> render.PublicRecord:
    """The public view of a document published as it was read (no redacted version)."""
    attachments = record.metadata.get("attachments") or []
    return render.PublicRecord(
        id=record.id,
        index_number=record.index_number or "",
        publisher=record.metadata.get("publisher") or record.issuer,
        issuer=record.issuer,
        date=record.date,
        title=record.title or record.filename,
        file_number=record.file_number,
        published_at=published_at,
        text=text,
        attachments=tuple(str(a) for a in attachments),
    )


def redacted_fields(ctx: Context, record: DocumentRecord) -> Mapping[str, Any]:
    """What the latest redacted version of the document stated (the `public` part of its
    `redacted` audit event); empty if none was recorded."""
    for event in reversed(ctx.catalog.history(record.id)):
        if event.kind == REDACTED_EVENT:
            return dict(event.detail.get("public") or {})
    return {}


def _redacted_record(
    ctx: Context, record: DocumentRecord, text: str, published_at: datetime
) -> render.PublicRecord:
    fields = redacted_fields(ctx, record)
    day = fields.get("date")
    return render.PublicRecord(
        id=record.id,
        index_number=record.index_number or "",
        publisher=fields.get("publisher") or fields.get("issuer"),
        issuer=fields.get("issuer"),
        date=date.fromisoformat(day) if day else None,
        title=str(fields.get("title") or ""),
        file_number=fields.get("file_number"),
        published_at=published_at,
        text=text,
        attachments=tuple(str(a) for a in fields.get("attachments") or ()),
    )


def public_text(ctx: Context, record: DocumentRecord) -> str:
    """The public text: the redacted version's where there is one, else the document's own."""
    if record.redacted_key is not None and record.archive_key is not None:
        key = f"{record.archive_key}/{REDACTED_TEXT}"
        return ctx.archive.store.get_bytes(key).decode("utf-8")
    return str(record.metadata.get("text") or "")


def public_view(
    ctx: Context, record: DocumentRecord, *, with_text: bool = True
) -> render.PublicRecord:
    """The public view of a published document (its text only `with_text`: the index has none)."""
    text = public_text(ctx, record) if with_text else ""
    published_at = record.published_at or ctx.now()
    if record.redacted_key is not None:
        return _redacted_record(ctx, record, text, published_at)
    return public_record(record, text, published_at)
