"""The check at the end of a pipeline run (service.repair_public_changes): it looks at the
documents whose state changed since the last check, not at every page of the archive, and
finds what a run killed between a state change and its pages left: a published document
without its page, a withdrawn or superseded one whose page is still up. The first check of a
catalog, and `gongkai verify` / `public repair`, look at everything. Real catalog (SQLite and
PostgreSQL), real local stores, real readers."""

from __future__ import annotations

import pytest
from lifecycle_docs import make_docx
from service_run import ingest, take_in

from gongkai.flows import service
from gongkai.flows.service import Context
from gongkai.flows.service.public_repair import CHECK_CURSOR


@pytest.fixture
def ctx(both_catalogs_ctx: Context) -> Context:
    return both_catalogs_ctx


def published(ctx: Context, serial: int) -> int:
    data, _ = make_docx(serial)
    doc_id = take_in(ctx, data, f"{serial}.docx")
    ingest(ctx, [doc_id])
    assert ctx.catalog.get(doc_id).state == "published"
    return doc_id


def pages(ctx: Context, doc_id: int) -> set[str]:
    return {k for k in ctx.public.list_keys("documents/") if k.startswith(f"documents/{doc_id}.")}


def test_the_check_after_a_run_finds_what_a_killed_run_left_of_its_changes(ctx: Context) -> None:
    kept, withdrawn, lost = (published(ctx, n) for n in (1, 2, 3))
    first = service.repair_public_changes(ctx, holder="run-1")  # no cursor yet: a full check
    assert not first and ctx.catalog.relay_cursor(CHECK_CURSOR) is not None
    assert not service.repair_public_changes(ctx, holder="run-2")  # nothing changed since

    # A withdrawal killed after its state change; a publication killed before its pages (its
    # pages deleted behind the catalog's back, then the state change, as the run makes them).
    ctx.catalog.transition(withdrawn, "withdrawn", actor="李审核", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip
    data, _ = make_docx(4)
    routed = take_in(ctx, data, "4.docx")
    outcome = service.process(ctx, [routed])[0]
    assert outcome.to_publish
    ctx.catalog.transition(routed, "published", actor="ingest", expected_from="to_publish",
                           published_at=ctx.now())  # fmt: skip
    # A page lost without a state change: the full check's business, not this one's.
    for key in pages(ctx, lost):
        ctx.public.delete(key)

    gaps = service.repair_public_changes(ctx, holder="run-3", actor="流水线")
    assert gaps.missing_pages == (routed,) and gaps.stale_pages == (withdrawn,)
    assert gaps.index_problems  # the index still counts the withdrawn one, not the new one
    assert pages(ctx, routed) == {f"documents/{routed}.json", f"documents/{routed}.html"}
    assert pages(ctx, withdrawn) == set() and pages(ctx, kept)
    kinds = {e.kind for e in ctx.catalog.history(routed)} | {
        e.kind for e in ctx.catalog.history(withdrawn)}
    assert {"public_page_restored", "public_page_removed"} <= kinds
    assert not service.repair_public_changes(ctx, holder="run-4")  # the cursor moved past them

    full = service.public_gaps(ctx)
    assert full.missing_pages == (lost,) and not full.stale_pages
    service.repair_public(ctx)
    assert not service.public_gaps(ctx)


def test_a_check_while_another_run_holds_the_cursor_checks_nothing(ctx: Context) -> None:
    doc = published(ctx, 5)
    service.repair_public_changes(ctx, holder="run-1")
    ctx.catalog.transition(doc, "withdrawn", actor="李审核", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip
    assert ctx.catalog.take_relay(CHECK_CURSOR, "busy", lease=service.public_repair.CHECK_LEASE,
                                  start=ctx.catalog.audit_end())  # fmt: skip
    assert not service.repair_public_changes(ctx, holder="run-2")
    assert pages(ctx, doc)  # left to the run after
    ctx.catalog.release_relay(CHECK_CURSOR, "busy")
    assert service.repair_public_changes(ctx, holder="run-3").stale_pages == (doc,)
    assert pages(ctx, doc) == set()
