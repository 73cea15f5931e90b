"""待办: what waits for a person, each item with what to do — exceptions with their reasons,
documents waiting for a redacted version, due reviews, publication deadlines overdue and at
risk, intake that stalled, fixity failures. Built on status() (flows/service/status.py)."""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.flows.service.context import Context
from gongkai.flows.service.status import StatusReport, status
from gongkai.storage.catalog import DocumentRecord


@dataclass(frozen=True)
class Todo:
    report: StatusReport
    exceptions: list[DocumentRecord]
    needs_redaction: list[DocumentRecord]
    stalled: list[DocumentRecord]

    @property
    def count(self) -> int:
        r = self.report
        return (len(self.exceptions) + len(self.needs_redaction) + len(self.stalled)
                + len(r.due_reviews) + len(r.overdue) + len(r.at_risk)
                + len(r.fixity_failures))  # fmt: skip


def todo(ctx: Context) -> Todo:
    report = status(ctx)  # the stalled documents are status's (one definition of "stalled")
    return Todo(report, ctx.catalog.by_state("exception", with_text=False),
                ctx.catalog.by_state("needs_redaction", with_text=False),
                report.stalled)  # fmt: skip
