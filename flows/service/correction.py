"""A person's corrections of what the extractor read (title, 文号, issuer, date): what a clerk
fixes on a scan before deciding an exception. Audited as `corrected`, with what was there."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from gongkai.extractors.dates import parse_date
from gongkai.extractors.numbers import normalize_file_number
from gongkai.flows.service.context import Context, LifecycleError
from gongkai.storage.catalog import DocumentRecord

CORRECTABLE: tuple[str, ...] = ("title", "file_number", "issuer", "date")
CORRECTABLE_STATES = frozenset({"exception", "needs_redaction", "withheld", "on_request"})
CORRECTED_EVENT = "corrected"


def _value(name: str, given: str) -> Any:
    text = given.strip()
    if not text:
        return None
    if name == "file_number":
        canonical = normalize_file_number(text)
        if canonical is None:
            raise ValueError(f"文号 {text!r} 不是 机关代字〔年份〕序号号 的格式")
        return canonical
    if name == "date":
        iso = parse_date(text)
        if iso is None:
            raise ValueError(f"日期 {text!r} 无法识别（如 2021年1月1日 或 2021-01-01）")
        return date.fromisoformat(iso)
    return text


def correct_fields(
    ctx: Context, doc_id: int, fields: Mapping[str, str | None], *, reason: str, actor: str
) -> DocumentRecord:
    """Set the given fields (None: left as it is; empty: cleared). Unchanged values are not
    recorded; nothing changed writes nothing."""
    unknown = sorted(set(fields) - set(CORRECTABLE))
    if unknown:
        raise ValueError(f"cannot correct {', '.join(unknown)}: only {', '.join(CORRECTABLE)}")
    record = ctx.catalog.get(doc_id)
    if record.state not in CORRECTABLE_STATES:
        raise LifecycleError(f"document {doc_id} is {record.state}: its fields are settled")
    changes = {name: _value(name, given) for name, given in fields.items() if given is not None}
    changes = {k: v for k, v in changes.items() if v != getattr(record, k)}
    if not changes:
        return record
    if not reason.strip():
        raise ValueError("a correction needs a reason")
    was = {k: getattr(record, k).isoformat() if isinstance(getattr(record, k), date)
           else getattr(record, k) for k in changes}  # fmt: skip
    return ctx.catalog.update(doc_id, actor=actor, kind=CORRECTED_EVENT,
                              detail={"reason": reason, "was": was}, **changes)  # fmt: skip


def corrected_by(ctx: Context, doc_id: int) -> dict[str, str]:
    """field -> who corrected it last (for 'where each field was read from')."""
    out: dict[str, str] = {}
    for event in ctx.catalog.history(doc_id):
        if event.kind == CORRECTED_EVENT:
            for name in event.detail.get("changes", {}):
                out[name] = event.actor
    return out
