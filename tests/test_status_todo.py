"""A clerk's to-do list is complete: every document bound for the public has a deadline (a
删减后公开 one waiting for its redacted version too, 条例 第二十六条), and `status` names each
overdue or at-risk document, each due review and each stalled document, with what to do.
Real catalog (SQLite), stores, extractors; the CLI through click."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from official_docs import official
from service_run import Clock

from gongkai.config import load_settings
from gongkai.entrypoints.cli import main
from gongkai.flows import service
from gongkai.flows.service import Context


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with Context.open(load_settings()) as context:
        context.clock = Clock(datetime(2021, 3, 8, 2, 0, tzinfo=UTC))
        yield context


def _take(ctx: Context, data: bytes, name: str, *, process: bool = True) -> int:
    doc_id = service.intake(ctx, data, name, source="test", actor="t").record.id
    if process:
        outcomes = service.process(ctx, [doc_id])
        service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


def test_a_document_waiting_for_redaction_has_a_deadline_and_is_named(ctx: Context) -> None:
    doc_id = _take(ctx, official(1), "1.docx")  # 成文日期 2021-03-05, 删减后公开
    record = ctx.catalog.get(doc_id)
    assert record.state == "needs_redaction"
    assert record.publish_deadline == date(2021, 4, 2)  # 20 working days (清明 04-05 after)
    ctx.clock.now = datetime(2021, 3, 31, 2, 0, tzinfo=UTC)
    at_risk = service.status(ctx).at_risk
    assert [(i.document_id, i.file_number, i.due) for i in at_risk] == [
        (doc_id, "鸿政〔2021〕1号", date(2021, 4, 2))]  # fmt: skip
    assert f"gongkai redact {doc_id}" in at_risk[0].action and at_risk[0].title
    ctx.clock.now = datetime(2021, 4, 6, 2, 0, tzinfo=UTC)
    overdue = service.status(ctx).to_json()["overdue"]
    assert [i["document_id"] for i in overdue] == [doc_id]
    assert overdue[0]["action"].startswith("提供删减稿")


def test_due_reviews_and_stalled_documents_are_named_with_what_to_do(ctx: Context) -> None:
    withheld = _take(ctx, official(2, note="（此件不予公开，理由：过程性信息）"), "2.docx")
    waiting = _take(ctx, official(3, note="（此件主动公开）"), "3.docx", process=False)
    report = service.status(ctx).to_json()
    assert report["due_reviews"] == [] and report["stalled"] == []
    # Later (the catalog stamps receipt by the real clock): past the 3-month review, and two
    # hours after the intake that nothing processed.
    ctx.clock.now = datetime.now(UTC) + timedelta(hours=2)
    report = service.status(ctx).to_json()
    assert [(r["id"], r["file_number"]) for r in report["due_reviews"]] == [
        (withheld, "鸿政〔2021〕2号")]  # fmt: skip
    assert f"gongkai review decide {withheld}" in report["due_reviews"][0]["action"]
    assert [r["id"] for r in report["stalled"]] == [waiting]
    assert "gongkai serve" in report["stalled"][0]["action"]


def test_status_table_names_each_overdue_document(gongkai_env: dict[str, str]) -> None:
    with Context.open(load_settings()) as ctx:
        doc_id = _take(ctx, official(4), "4.docx")  # its deadline (2021) is long past
    runner = CliRunner()
    report = json.loads(runner.invoke(main, ["status", "--json"]).output)
    assert [i["document_id"] for i in report["overdue"]] == [doc_id]
    table = runner.invoke(main, ["status"]).output
    assert "公开期限已过：1 份" in table and "鸿政〔2021〕4号" in table
    assert f"gongkai redact {doc_id}" in table
