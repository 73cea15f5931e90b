"""Reasons for withholding are read and used: from the 附注 and from every person's decision
(resolve, review decide), stored, shown, and they set the review interval
(GONGKAI_REVIEW_MONTHS: 过程性信息 3 months, otherwise 12). Real extractors, catalog (SQLite),
local stores and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import CliRunner
from official_docs import official
from service_run import fixed_clock_context

from gongkai.entrypoints.cli import main
from gongkai.extractors import extract
from gongkai.extractors.fields import note_reason
from gongkai.flows import service
from gongkai.flows.service import Context

TODAY = date(2021, 3, 20)


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with fixed_clock_context() as context:
        yield context


def _ingest(ctx: Context, data: bytes, name: str, declared: str | None = None) -> int:
    doc_id = service.intake(ctx, data, name, source="test", actor="t",
                            declared_disclosure=declared).record.id  # fmt: skip
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


@pytest.mark.parametrize("note", ["（此件不予公开，理由：过程性信息）",
                                  "（此件不公开，属于过程性信息）",
                                  "(此件不予公开, 理由为: 过程性信息。)"])  # fmt: skip
def test_the_reason_in_the_fuzhu_is_read(note: str) -> None:
    meta = extract(official(1, note=note), "1.docx")
    assert (meta.disclosure, meta.disclosure_reason) == ("withheld", "过程性信息")
    assert meta.provenance["disclosure_reason"].startswith("附注")


def test_a_fuzhu_without_a_reason_gives_none() -> None:
    assert note_reason("（此件不予公开）") is None
    assert note_reason("（此件主动公开）") is None
    given = note_reason("（此件不予公开，理由：涉及个人隐私，未经本人同意）")
    assert given == "涉及个人隐私，未经本人同意"


def test_the_fuzhu_reason_sets_the_review_interval(ctx: Context) -> None:
    process_info = _ingest(ctx, official(2, note="（此件不公开，属于过程性信息）"), "2.docx")
    unexplained = _ingest(ctx, official(3, note="（此件不予公开）"), "3.docx")
    first, second = ctx.catalog.get(process_info), ctx.catalog.get(unexplained)
    assert (first.state, first.disclosure_reason) == ("withheld", "过程性信息")
    assert first.next_review_at == date(2021, 6, 20)  # 3 months
    assert second.disclosure_reason is None and second.next_review_at == date(2022, 3, 20)


def test_a_persons_reason_in_resolve_is_stored_and_sets_the_interval(ctx: Context) -> None:
    doc_id = _ingest(ctx, official(4, note=None), "4.docx")
    assert ctx.catalog.get(doc_id).state == "exception"
    resolved = service.resolve(ctx, doc_id, "withheld", reason="过程性信息", actor="王五")
    assert resolved.state == "withheld" and resolved.disclosure_reason == "过程性信息"
    assert resolved.next_review_at == date(2021, 6, 20)


def test_a_reviewers_reason_sets_the_interval(ctx: Context) -> None:
    doc_id = _ingest(ctx, official(5, note="（此件不予公开）"), "5.docx")
    kept = service.decide_review(ctx, doc_id, "keep", reason="属过程性信息，仍在讨论",
                                 reviewer="李四")  # fmt: skip
    assert kept.next_review_at == date(2021, 6, 20)
    assert kept.disclosure_reason == "属过程性信息，仍在讨论"  # stored and shown from now on


def test_a_keep_without_a_category_leaves_the_stated_reason(ctx: Context) -> None:
    doc_id = _ingest(ctx, official(6, note="（此件不公开，属于过程性信息）"), "6.docx")
    kept = service.decide_review(ctx, doc_id, "keep", reason="情况未变", reviewer="李四")
    assert kept.disclosure_reason == "过程性信息"


def test_reasons_are_shown_in_review_list_exceptions_and_show(ctx: Context) -> None:
    withheld = _ingest(ctx, official(6, note="（此件不予公开，理由：过程性信息）"), "6.docx")
    # The drafting system declared it 主动公开: a mismatch, for a person to decide.
    exception = _ingest(ctx, official(7, note="（此件不予公开，理由：内部事务信息）"), "7.docx",
                        declared="active")  # fmt: skip
    assert ctx.catalog.get(exception).state == "exception"
    runner = CliRunner()
    listed = json.loads(runner.invoke(main, ["review", "list", "--json"]).output)
    assert [(r["id"], r["reason"], r["review_months"]) for r in listed] == [
        (withheld, "过程性信息", 3)]  # fmt: skip
    table = runner.invoke(main, ["review", "list"]).output
    assert "过程性信息" in table and "3" in table
    waiting = json.loads(runner.invoke(main, ["exceptions", "--json"]).output)
    assert [(r["id"], r["disclosure_reason"]) for r in waiting] == [(exception, "内部事务信息")]
    shown = runner.invoke(main, ["show", str(withheld)]).output
    assert "过程性信息" in shown
