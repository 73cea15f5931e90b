"""A decision on a 文号 sticks (issue 13, item 3). A document whose 文号 and issuer are known is
a new version: linked to the first, sent to `exception` when its route differs from the
standing decision, and, agreeing, it replaces the public record (one per 文号 and issuer, with
the 索引号 of the record it replaces); earlier versions stay archived. Real catalog (SQLite and
PostgreSQL), stores and readers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx
from service_run import fixed_clock_context, ingest, take_in

from gongkai.entrypoints.api import Tokens, create_app
from gongkai.flows import policy, service
from gongkai.flows.service import Context

FILE_NUMBER = "鸿政〔2021〕5号"


@pytest.fixture
def ctx(both_catalogs_ctx: Context) -> Context:
    return both_catalogs_ctx


def published_pages(ctx: Context) -> list[str]:
    return sorted(i.key for i in ctx.public.list("documents/") if i.key.endswith(".json"))


def test_an_active_copy_of_a_withheld_file_number_goes_to_a_person(ctx: Context) -> None:
    withheld, _ = make_docx(5, disclosure="withheld", reason="过程性信息")
    first = take_in(ctx, withheld, "a.docx")
    ingest(ctx, [first])
    active, _ = make_docx(5, disclosure="active")  # the same 文号 and issuer, 主动公开
    second = take_in(ctx, active, "b.docx")
    ingest(ctx, [second])
    record = ctx.catalog.get(second)
    assert record.state == "exception" and record.version_of == first
    assert (record.exception_reason or "").startswith(
        f"与文号 {FILE_NUMBER} 于 2021-03-20 的决定不一致")  # fmt: skip
    assert f"conflicts with the decision on 文号 {FILE_NUMBER} of 2021-03-20" in (
        record.exception_reason or "")
    assert published_pages(ctx) == []
    assert [v.id for v in ctx.catalog.versions_of(second)] == [first, second]


@pytest.mark.parametrize(("zone", "day"), [(None, "2021-03-21"), ("UTC", "2021-03-20")])
def test_the_standing_decision_is_dated_in_the_offices_time_zone(
    gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, zone: str | None, day: str
) -> None:
    if zone is not None:
        monkeypatch.setenv("GONGKAI_TIMEZONE", zone)
    with fixed_clock_context() as ctx:
        # 20:00 UTC is 04:00 of the next day in Asia/Shanghai (the default).
        ctx.clock = lambda: datetime(2021, 3, 20, 20, 0, tzinfo=UTC)
        withheld, _ = make_docx(5, disclosure="withheld", reason="过程性信息")
        ingest(ctx, [take_in(ctx, withheld, "a.docx")])
        active, _ = make_docx(5, disclosure="active")
        second = take_in(ctx, active, "b.docx")
        ingest(ctx, [second])
        reason = ctx.catalog.get(second).exception_reason or ""
    assert reason.startswith(f"与文号 {FILE_NUMBER} 于 {day} 的决定不一致"), reason


@pytest.mark.parametrize("disclosure", ["withheld", "on_request"])
def test_a_newer_version_takes_the_older_ones_place_in_the_queue(
    ctx: Context, disclosure: str
) -> None:
    first_data, _ = make_docx(7, disclosure=disclosure, reason="过程性信息")
    first = take_in(ctx, first_data, "first.docx")
    ingest(ctx, [first])
    newer_data, _ = make_docx(7, disclosure=disclosure, reason="过程性信息")
    newer = take_in(ctx, newer_data + b"\0", "newer.docx")  # a corrected copy: other bytes
    ingest(ctx, [newer])
    records = ctx.catalog.get_many([first, newer])
    assert [r.state for r in records] == ["superseded", disclosure]
    assert records[1].version_of == first
    assert ctx.catalog.ids_in_state(disclosure) == [newer]  # one per 文号 in the queue
    moved = [e for e in ctx.catalog.history(first) if e.kind == "state"][-1]
    assert (moved.detail["from"], moved.detail["to"], moved.detail["by"]) == (
        disclosure, "superseded", newer)
    assert ctx.catalog.get(first).withdrawn_at is None  # it never was on the public site
    if disclosure == "withheld":  # the review decides on the newest version
        released = service.decide_review(ctx, newer, "release", reason="情况变化",
                                         reviewer="李审核")  # fmt: skip
        assert released.state == "published"
        assert published_pages(ctx) == [f"documents/{newer}.json"]


def test_copies_under_one_file_number_leave_one_public_record(ctx: Context) -> None:
    data, _ = make_docx(6, index_number="QZ05908-3000-2021-00042")
    first = take_in(ctx, data, "original.docx")
    ingest(ctx, [first])
    # Copies that differ only in trailing bytes: two in one run, then one more.
    copies = [take_in(ctx, data + b"\0" * n, f"copy{n}.docx") for n in (1, 2)]
    ingest(ctx, copies)
    last = take_in(ctx, data + b"\0" * 3, "copy3.docx")
    ingest(ctx, [last])
    ids = [first, *copies, last]
    records = ctx.catalog.get_many(ids)
    assert [r.state for r in records] == ["superseded"] * 3 + ["published"]
    assert [r.version_of for r in records] == [None, first, first, first]
    assert records[-1].index_number == "QZ05908-3000-2021-00042"  # kept from the one replaced
    assert [r.index_number for r in records[:-1]] == [None] * 3
    assert published_pages(ctx) == [f"documents/{last}.json"]
    listed = json.loads(ctx.public.get_bytes("index.json"))["latest"]
    assert [d["id"] for d in listed] == [last]
    feed = ctx.public.get_bytes("feed.atom").decode("utf-8")
    assert feed.count("<at:deleted-entry") == 3
    # Earlier versions stay archived, and the history says who replaced whom.
    for old in records[:-1]:
        assert ctx.archive.verify(old.archive_key).ok  # type: ignore[arg-type]
        moved = [e for e in ctx.catalog.history(old.id) if e.kind == "state"][-1]
        assert moved.detail["to"] == "superseded" and moved.detail["by"] in ids
    assert service.fixity(ctx).failed == {}


def test_a_withdrawn_file_number_is_not_published_again_by_a_new_version(
    ctx: Context,
) -> None:
    data, _ = make_docx(7)
    first = take_in(ctx, data, "a.docx")
    ingest(ctx, [first])
    service.withdraw(ctx, first, reason="误发", actor="李审核")
    again = take_in(ctx, data + b"\n", "b.docx")
    ingest(ctx, [again])
    record = ctx.catalog.get(again)
    assert record.state == "exception" and "决定不一致" in (record.exception_reason or "")
    assert published_pages(ctx) == []


def test_versions_are_shown_to_staff_in_the_api(ctx: Context, gongkai_env: dict[str, str]) -> None:
    data, _ = make_docx(8)
    first = take_in(ctx, data, "a.docx")
    ingest(ctx, [first])
    second = take_in(ctx, data + b"\0", "b.docx")
    ingest(ctx, [second])
    app = create_app(ctx.settings, tokens=Tokens(staff="staff-token", intake=None),
                     relay=False)  # fmt: skip
    with TestClient(app) as client:
        shown = client.get(f"/documents/{second}",
                           headers={"Authorization": "Bearer staff-token"}).json()  # fmt: skip
        assert [(v["id"], v["state"]) for v in shown["versions"]] == [
            (first, "superseded"), (second, "published")]  # fmt: skip
        assert shown["document"]["version_of"] == first
        assert client.get(f"/documents/{first}").status_code == 404  # off the public site
    # And in `gongkai show`: the JSON lists them, the table is titled 版本.
    from click.testing import CliRunner

    from gongkai.entrypoints.cli import main

    shown_json = CliRunner().invoke(main, ["show", str(first), "--json"])
    assert shown_json.exit_code == 0, shown_json.output
    assert [v["id"] for v in json.loads(shown_json.output)["versions"]] == [first, second]
    table = CliRunner().invoke(main, ["show", str(second)])
    assert table.exit_code == 0 and "版本（文号 鸿政〔2021〕8号）" in table.output


def test_the_standing_decision_is_a_value_the_policy_is_given() -> None:
    from gongkai.extractors.model import DocumentMetadata

    meta = DocumentMetadata(format="docx", file_number=FILE_NUMBER, title="t", issuer="i",
                            date="2021-03-01", disclosure="active", text="x", text_layer=True)
    standing = policy.StandingDecision(3, FILE_NUMBER, "withheld", datetime(2021, 3, 1).date())
    routed = policy.route(meta, review_months={"default": 12}, today=datetime(2021, 3, 2).date(),
                          precedent=policy.Precedent(standing=standing))  # fmt: skip
    assert (routed.state, routed.rule) == ("exception", "version_conflict")
    agreeing = policy.Precedent(standing=policy.StandingDecision(
        3, FILE_NUMBER, "published", datetime(2021, 3, 1).date()))  # fmt: skip
    assert policy.route(meta, review_months={"default": 12}, today=datetime(2021, 3, 2).date(),
                        precedent=agreeing).state == "published"  # fmt: skip


def test_a_docx_and_its_pdf_rendition_are_one_public_record(ctx: Context) -> None:
    from formats_docs import libreoffice_convert, soffice

    if soffice() is None:
        pytest.skip("LibreOffice is needed to render the PDF")
    docx, _ = make_docx(9, index_number="QZ05908-3000-2021-00077")
    pdf = libreoffice_convert(docx, ".docx", "pdf", "document.pdf")
    ids = [take_in(ctx, docx, "notice.docx"), take_in(ctx, pdf, "notice.pdf")]
    ingest(ctx, ids)  # one run, one batch
    word, rendition = ctx.catalog.get_many(ids)
    assert word.file_number == rendition.file_number == "鸿政〔2021〕9号"
    assert (word.state, rendition.state) == ("superseded", "published")
    assert rendition.version_of == word.id
    assert rendition.index_number == "QZ05908-3000-2021-00077"
    assert published_pages(ctx) == [f"documents/{rendition.id}.json"]


def test_a_version_decided_after_this_one_was_read_stops_its_publication(ctx: Context) -> None:
    """As two worker processes reading two versions at once leave it: the active one was
    routed to publication before the withheld one was recorded."""
    active = take_in(ctx, make_docx(10)[0], "active.docx")
    assert service.process(ctx, [active])[0].to_publish
    held_data, _ = make_docx(10, disclosure="withheld")
    held = take_in(ctx, held_data, "held.docx")
    ctx.catalog.save_extraction(held, service.extract_one(held_data, "held.docx", 10**7),
                                actor="worker")  # fmt: skip
    ctx.catalog.transition(held, "withheld", actor="worker", expected_from="received")
    report = service.publish(ctx, [active])
    assert report.published == [] and "决定不一致" in report.refused[active]
    record = ctx.catalog.get(active)
    assert record.state == "exception" and "withheld" in (record.exception_reason or "")
    assert published_pages(ctx) == []
