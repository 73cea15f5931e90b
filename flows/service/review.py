"""Periodic review of withheld documents (条例 第十八条) and a reviewer's decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gongkai.extractors.model import DocumentMetadata
from gongkai.flows import policy
from gongkai.flows.labels import state_label
from gongkai.flows.service.context import Context, LifecycleError, _jsonable, _transition
from gongkai.flows.service.processing import _deadline_for
from gongkai.flows.service.publication import publish
from gongkai.flows.service.redaction import _archive_note
from gongkai.storage.catalog import (
    DocumentRecord,
)

# --------------------------------------------------------------------------------------------
# review


@dataclass(frozen=True)
class ReviewReport:
    due: list[DocumentRecord]
    brought_forward: list[int]


def review_months_of(ctx: Context, record: DocumentRecord) -> int:
    """The review interval of a withheld document, in months: by its stated reason and the
    latest reviewer's reason for keeping it, as `decide_review` set its next date."""
    kept = [d["reason"] for d in ctx.catalog.review_decisions(record.id) if d["decision"] == "keep"]
    reason = " ".join([*kept[-1:], record.disclosure_reason or ""])
    months, _ = policy.review_period(reason, ctx.settings.review_months)
    return months


def due_reviews(ctx: Context, on: date | None = None, *, limit: int | None = None,
                offset: int = 0) -> list[DocumentRecord]:  # fmt: skip
    """Withheld documents due for review today (or `on`), most overdue first."""
    return ctx.catalog.due_for_review(on or ctx.today(), limit=limit, offset=offset)


def count_due_reviews(ctx: Context, on: date | None = None) -> int:
    return ctx.catalog.count_due_for_review(on or ctx.today())


def review_due(ctx: Context, *, actor: str = "review") -> ReviewReport:
    """Bring forward withheld documents whose 保密期限 or stated reason has lapsed, then announce
    every due one with `gongkai.review.due`."""
    today = ctx.today()
    brought: list[int] = []
    for record in ctx.catalog.by_state("withheld", with_text=False):
        lapse = policy.lapsed_withholding(
            DocumentMetadata.from_dict(record.metadata), received=record.received_at.date(),
            today=today,
        ) if record.metadata else None  # fmt: skip
        if lapse and (record.next_review_at is None or record.next_review_at > today):
            ctx.catalog.update(record.id, actor=actor, kind="review_brought_forward",
                               detail={"why": lapse}, next_review_at=today)  # fmt: skip
            brought.append(record.id)
    due = ctx.catalog.due_for_review(today)
    for record in due:
        ctx.catalog.record_event(record.id, "review_due", actor=actor, detail={
            "next_review_at": _jsonable(record.next_review_at)})  # fmt: skip
    return ReviewReport(due, brought)


def decide_review(
    ctx: Context, doc_id: int, decision: str, *, reason: str, reviewer: str
) -> DocumentRecord:
    """release: published now; keep: a next review date; partial: to redaction. Audited.
    A withdrawn (撤回) document is published again only by this (release)."""
    record = ctx.catalog.get(doc_id)
    if record.state not in ("withheld", "withdrawn"):
        raise LifecycleError(f"文件 {doc_id} 的状态是{state_label(record.state)}，只有不予公开"
                             f"的文件可以审核（已撤回的可以重新公开）；document {doc_id} is "
                             f"{record.state}; only withheld documents are reviewed (and "
                             "withdrawn ones released again)")  # fmt: skip
    outcome = policy.decide_review(
        decision, reason=reason, disclosure_reason=record.disclosure_reason,
        review_months=ctx.settings.review_months, today=ctx.today(),
        metadata=DocumentMetadata.from_dict(record.metadata) if record.metadata else None,
        security_level=record.security_level, record_state=record.state,
    )  # fmt: skip
    # A keep for a reason of a category (过程性信息 …) makes that the 不公开理由 shown from now on.
    kept_for = reason if outcome.state == "withheld" and policy.reason_categories(reason) else None
    ctx.catalog.add_review_decision(
        doc_id, decision=decision, reason=reason, reviewer=reviewer,
        next_review_at=outcome.next_review_at, disclosure_reason=kept_for,
    )  # fmt: skip
    _archive_note(ctx, record, f"review-{decision}", {
        "decision": decision, "reason": reason, "reviewer": reviewer,
        "next_review_at": _jsonable(outcome.next_review_at),
    })  # fmt: skip
    if outcome.state == "published":
        report = publish(ctx, [doc_id], actor=reviewer)
        if doc_id in report.refused:
            raise LifecycleError(f"document {doc_id} was released but not published: "
                                 f"{report.refused[doc_id]}")  # fmt: skip
        return report.published[0]
    if outcome.state == "withheld":
        ctx.catalog.record_event(doc_id, "review_kept", actor=reviewer,
                                 detail={"reviewer": reviewer})  # fmt: skip
        return ctx.catalog.get(doc_id)
    # To redaction: published within 20 working days of this decision (the change, Art. 26).
    return _transition(ctx, record, outcome.state, actor=reviewer,
                       detail={"decision": decision, "reason": reason},
                       **_deadline_for(ctx, ctx.today()))  # fmt: skip
