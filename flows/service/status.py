"""Status: counts by state, deadlines, due reviews, fixity failures for a clerk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gongkai.flows import deadlines
from gongkai.flows.service.context import Context, _jsonable
from gongkai.storage.catalog import (
    DocumentRecord,
    FindQuery,
)


@dataclass(frozen=True)
class DeadlineItem:
    document_id: int
    file_number: str | None
    title: str | None
    state: str
    due: date
    provisional: bool
    working_days_left: int


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

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "documents": sum(self.by_state.values()),
            "by_state": self.by_state,
            "overdue": [_jsonable(i) for i in self.overdue],
            "at_risk": [_jsonable(i) for i in self.at_risk],
            "due_reviews": [
                {"id": r.id, "file_number": r.file_number, "title": r.title,
                 "next_review_at": _jsonable(r.next_review_at)}
                for r in self.due_reviews
            ],
            "fixity_failures": {str(k): v for k, v in self.fixity_failures.items()},
            "calendar": self.calendar,
            "calendar_problems": self.calendar_problems,
        }


def status(ctx: Context) -> StatusReport:
    today = ctx.today()
    overdue: list[DeadlineItem] = []
    at_risk: list[DeadlineItem] = []
    # Documents to be published actively and not yet published: their Art. 26 clock runs.
    for record in ctx.catalog.find(FindQuery()):
        if record.state == "published" or record.publish_deadline is None:
            continue
        left = ctx.calendar.working_days_between(today, record.publish_deadline)
        item = DeadlineItem(record.id, record.file_number, record.title, record.state,
                            record.publish_deadline, record.deadline_provisional, left)  # fmt: skip
        verdict = deadlines.status(record.publish_deadline, today, calendar=ctx.calendar)
        if verdict == "overdue":
            overdue.append(item)
        elif verdict == "at_risk":
            at_risk.append(item)
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
    )
