"""Fixity: re-hash archival packages against their manifests."""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.flows.service.context import Context, _emit
from gongkai.storage.catalog import (
    FindQuery,
)

# --------------------------------------------------------------------------------------------
# fixity and status


@dataclass(frozen=True)
class FixityReport:
    checked: int
    failed: dict[int, list[str]]  # document id -> problems


def fixity(ctx: Context, *, actor: str = "fixity") -> FixityReport:
    """Verify every archival package (or the original, before one exists) against its
    checksums; record each result; failures are `gongkai.document.fixity_failed` events."""
    failed: dict[int, list[str]] = {}
    checked = 0
    for record in ctx.catalog.find(FindQuery()):
        checked += 1
        problems: list[str]
        if record.archive_key:
            report = ctx.archive.verify(record.archive_key)
            problems = list(report.problems)
        else:
            try:
                ctx.archive.read_original(record.original_key, sha256=record.sha256)
                problems = []
            except Exception as exc:  # any storage failure is a fixity failure to report
                problems = [f"original: {exc}"]
        ctx.catalog.record_event(record.id, "fixity", actor=actor,
                                 detail={"ok": not problems, "problems": problems})  # fmt: skip
        if problems:
            failed[record.id] = problems
            _emit(ctx, "gongkai.document.fixity_failed", record, problems=problems)
    return FixityReport(checked, failed)
