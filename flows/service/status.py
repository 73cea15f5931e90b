"""Status: counts by state, deadlines, due reviews, fixity failures for a clerk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from gongkai.flows import deadlines
from gongkai.flows.service.context import Context, _jsonable
from gongkai.flows.service.public_repair import PublicGaps, public_gaps
from gongkai.storage.catalog import DocumentRecord

# A document still `received` or `to_publish` this long after it came in (or was routed) has nothing
# processing it: no `gongkai serve` running, or an ingest that stopped.
STALLED_AFTER = timedelta(hours=1)
# States in which a document is on its way to the public (its Art. 26 clock runs): routed to
# publication, waiting for its redacted version, or an exception that had one.
BOUND_FOR_PUBLIC = ("to_publish", "needs_redaction", "exception")
# States a running pipeline moves on by itself: a document left in one has nothing processing it.
WAITING_FOR_PIPELINE = ("received", "to_publish")


def todo_action(record: DocumentRecord) -> str:
    """What a clerk does next for a document on the to-do list (Chinese, with the command)."""
    if record.state == "needs_redaction":
        return f"提供删减稿：gongkai redact {record.id} 删减稿文件"
    if record.state == "exception":
        return f"人工认定：gongkai resolve {record.id} --disclosure 属性 --reason 理由"
    if record.state == "withheld":
        return f"定期审查：gongkai review decide {record.id} release|keep|partial --reason 理由"
    if record.state in WAITING_FOR_PIPELINE:
        return ("无服务在处理：启动 gongkai serve（或对原文件再次运行 gongkai ingest），"
                "已接收的文件会继续处理")  # fmt: skip
    return f"查看：gongkai show {record.id}"


@dataclass(frozen=True)
class DeadlineItem:
    document_id: int
    file_number: str | None
    title: str | None
    state: str
    due: date
    provisional: bool
    working_days_left: int
    action: str = ""


@dataclass(frozen=True)
class StatusReport:
    today: date
    by_state: dict[str, int]
    overdue: list[DeadlineItem]
    at_risk: list[DeadlineItem]
    due_reviews: list[DocumentRecord]
    fixity_failures: dict[int, list[str]]
    # Where the working-day calendar of each year comes from, and holiday files not used.
    calendar: dict[str, str] = field(default_factory=dict)
    calendar_problems: list[str] = field(default_factory=list)
    # `received` or `to_publish` for longer than STALLED_AFTER: nothing is processing them.
    stalled: list[DocumentRecord] = field(default_factory=list)
    # What the catalog says is published and the public store lacks (service.public_gaps).
    public: PublicGaps = field(default_factory=PublicGaps)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "documents": sum(self.by_state.values()),
            "by_state": self.by_state,
            "overdue": [_jsonable(i) for i in self.overdue],
            "at_risk": [_jsonable(i) for i in self.at_risk],
            "due_reviews": [
                {"id": r.id, "file_number": r.file_number, "title": r.title,
                 "next_review_at": _jsonable(r.next_review_at), "action": todo_action(r)}
                for r in self.due_reviews
            ],
            "stalled": [
                {"id": r.id, "file_number": r.file_number, "title": r.title,
                 "filename": r.filename, "received_at": _jsonable(r.received_at),
                 "action": todo_action(r)}
                for r in self.stalled
            ],
            "stalled_after_minutes": int(STALLED_AFTER.total_seconds() // 60),
            "fixity_failures": {str(k): v for k, v in self.fixity_failures.items()},
            "calendar": self.calendar,
            "calendar_problems": self.calendar_problems,
            "public": self.public.to_json(),
        }


def _deadline(ctx: Context, record: DocumentRecord) -> deadlines.Deadline | None:
    """The Art. 26 deadline of a document bound for the public: the one recorded at routing,
    else 20 working days from its 成文日期 (its day of receipt when it states none). None for
    a document not on its way to the public."""
    if record.state not in BOUND_FOR_PUBLIC:
        return None
    if record.publish_deadline is not None:
        return deadlines.Deadline(record.publish_deadline, record.deadline_provisional)
    if record.state not in ("needs_redaction", "to_publish"):
        return None
    start = record.date or record.received_at.astimezone(ctx.settings.zone).date()
    return deadlines.publication_deadline(start, calendar=ctx.calendar)


def _stalled(ctx: Context) -> list[DocumentRecord]:
    cutoff = ctx.now() - STALLED_AFTER
    return [r for state in WAITING_FOR_PIPELINE
            for r in ctx.catalog.by_state(state, with_text=False)
            if max(r.received_at, r.routed_at or r.received_at) < cutoff]  # fmt: skip


def status(ctx: Context) -> StatusReport:
    """The clerk's to-do list: every document bound for the public that is overdue or at risk
    (with what to do), every due review, every stalled document, fixity failures."""
    today = ctx.today()
    overdue: list[DeadlineItem] = []
    at_risk: list[DeadlineItem] = []
    for state in BOUND_FOR_PUBLIC:
        for record in ctx.catalog.by_state(state, with_text=False):
            deadline = _deadline(ctx, record)
            if deadline is None:
                continue
            verdict = deadlines.status(deadline.due, today, calendar=ctx.calendar)
            if verdict == "ok":
                continue
            left = ctx.calendar.working_days_between(today, deadline.due)
            item = DeadlineItem(record.id, record.file_number, record.title, record.state,
                                deadline.due, deadline.provisional, left, todo_action(record))
            (overdue if verdict == "overdue" else at_risk).append(item)
    failures = {
        e.document_id: list(e.detail.get("problems", []))
        for e in ctx.catalog.latest_events("fixity")
        if not e.detail.get("ok", False)
    }
    return StatusReport(
        today=today,
        by_state=dict(sorted(ctx.catalog.counts_by_state().items())),
        overdue=overdue,
        at_risk=at_risk,
        due_reviews=ctx.catalog.due_for_review(today),
        fixity_failures=failures,
        calendar=ctx.calendar.sources(),
        calendar_problems=list(ctx.calendar.problems),
        stalled=_stalled(ctx),
        public=public_gaps(ctx),
    )
