"""Exceptions: a person's attribute for a document the policy could not route."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gongkai.extractors.model import DocumentMetadata
from gongkai.flows import policy
from gongkai.flows.labels import state_label
from gongkai.flows.service.context import Context, LifecycleError, _jsonable, _transition
from gongkai.flows.service.correction import correct_fields
from gongkai.flows.service.processing import _deadline_changes
from gongkai.flows.service.publication import publish
from gongkai.flows.service.redaction import _archive_note
from gongkai.storage.catalog import (
    DocumentRecord,
)


def resolve(
    ctx: Context, doc_id: int, disclosure: str, *, reason: str, actor: str,
    corrections: Mapping[str, str | None] | None = None,
) -> DocumentRecord:
    """A person states the disclosure attribute of an exception document (and corrects what
    was misread: title, 文号, issuer, date); it is re-routed."""
    record = ctx.catalog.get(doc_id)
    if record.state != "exception":
        raise LifecycleError(f"文件 {doc_id} 的状态是{state_label(record.state)}，不是待人工处理的"
                             f"例外；document {doc_id} is {record.state}, not an exception")
    if not reason.strip():
        raise ValueError("resolving an exception needs a reason")
    if corrections:
        record = correct_fields(ctx, doc_id, corrections, reason=reason, actor=actor)
    metadata = DocumentMetadata.from_dict(record.metadata) if record.metadata else None
    decision = policy.resolve_exception(
        metadata, disclosure=disclosure, review_months=ctx.settings.review_months,
        today=ctx.today(), reason=reason,
    )  # fmt: skip
    changes: dict[str, Any] = {
        "disclosure": decision.disclosure,
        "next_review_at": decision.next_review_at,
        "routed_at": ctx.now(),
    }
    if decision.state == "needs_redaction":
        changes.update(_deadline_changes(ctx, record))
    if decision.state == "withheld":
        # The person's reason is the document's reason from now on (its own kept beside it).
        changes["disclosure_reason"] = policy.withholding_reason(reason, record.disclosure_reason)
    _archive_note(ctx, record, "resolution", {
        "disclosure": disclosure, "reason": reason, "by": actor, "routing": _jsonable(decision),
    })  # fmt: skip
    if decision.state == "published":
        ctx.catalog.update(
            doc_id, actor=actor, kind="resolved",
            detail={"to": "published", "reason": reason, "disclosure": disclosure},
            **changes, **_deadline_changes(ctx, record),
        )  # fmt: skip
        report = publish(ctx, [doc_id], actor=actor)
        if doc_id in report.refused:
            raise LifecycleError(f"document {doc_id} not published: {report.refused[doc_id]}")
        return report.published[0]
    ctx.catalog.record_event(doc_id, "resolved", actor=actor, detail={
        "to": decision.state, "reason": reason, "disclosure": disclosure})  # fmt: skip
    return _transition(
        ctx, record, decision.state, actor=actor,
        detail={"reason": reason, "disclosure": disclosure, "rule": decision.rule},
        exception_reason=decision.exception_reason, **changes,
    )  # fmt: skip
