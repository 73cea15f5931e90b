"""待办: what waits for a person, each item with what to do — exceptions with their reasons,
documents waiting for a redacted version, due reviews, publication deadlines overdue and at
risk, intake that stalled, fixity failures. Built on status() (flows/service/status.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from gongkai.flows.service.context import Context
from gongkai.flows.service.status import StatusReport, status
from gongkai.storage.catalog import DocumentRecord

# A document still `received` this long after it came in: its processing stopped somewhere.
STALLED_AFTER = timedelta(hours=1)


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
    cutoff = ctx.now() - STALLED_AFTER
    stalled = [r for r in ctx.catalog.by_state("received") if r.received_at < cutoff]
    return Todo(status(ctx), ctx.catalog.by_state("exception"),
                ctx.catalog.by_state("needs_redaction"), stalled)  # fmt: skip
