"""The lifecycle through the service layer (no Prefect): real catalog (SQLite), real local object
stores, real extractors; events collected in memory."""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from generator import generate, render_image_pdf, render_pdf
from lifecycle_docs import SECRET_SENTENCE, make_docx
from service_run import Clock, outbox

from gongkai.config import load_settings
from gongkai.flows import deadlines, service
from gongkai.flows.events import MemoryEventSink
from gongkai.flows.policy import PolicyRefusal, add_months
from gongkai.flows.service import Context
from gongkai.flows.service.outbox import BEGINNING
from gongkai.storage.catalog import RelayPosition


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with Context.open(load_settings()) as context:
        context.clock = Clock(datetime(2021, 3, 20, 2, 0, tzinfo=UTC))
        yield context


def events(ctx: Context, after: RelayPosition = BEGINNING) -> MemoryEventSink:
    """What the relay sends for the catalog's audit rows (the service emits nothing)."""
    return outbox(ctx, after)


def take_in(ctx: Context, data: bytes, name: str, **kwargs: object) -> int:
    result = service.intake(ctx, data, name, source="test", actor="tester", **kwargs)
    return result.record.id


def ingest(ctx: Context, ids: list[int]) -> None:
    outcomes = service.process(ctx, ids)
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])


def public_keys(ctx: Context) -> set[str]:
    return {info.key for info in ctx.public.list("")}


def public_text(ctx: Context) -> str:
    return "\n".join(ctx.public.get_bytes(k).decode("utf-8") for k in sorted(public_keys(ctx)))


def test_whole_lifecycle_routes_archives_and_publishes(ctx: Context) -> None:
    whole_lifecycle(ctx)


@pytest.mark.postgres
def test_whole_lifecycle_on_postgresql(
    postgres_url: str, gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", postgres_url)
    with Context.open(load_settings()) as context:
        context.clock = Clock(datetime(2021, 3, 20, 2, 0, tzinfo=UTC))
        whole_lifecycle(context)


def whole_lifecycle(ctx: Context) -> None:
    docs = {
        "active": make_docx(1, disclosure="active"),
        "on_request": make_docx(2, disclosure="on_request"),
        "withheld": make_docx(3, disclosure="withheld", reason="过程性信息"),
        "partial": make_docx(4, disclosure="partial"),
        "secret": make_docx(5, disclosure="active", security="秘密"),
        "none": make_docx(6, disclosure=None),
    }
    ids = {k: take_in(ctx, data, truth.filename) for k, (data, truth) in docs.items()}
    ids["garbage"] = take_in(ctx, b"not an official document at all", "notes.txt")
    ids["empty"] = take_in(ctx, b"", "empty.docx")
    ingest(ctx, list(ids.values()))

    states = {k: ctx.catalog.get(i).state for k, i in ids.items()}
    assert states == {
        "active": "published", "on_request": "on_request", "withheld": "withheld",
        "partial": "needs_redaction", "secret": "quarantined", "none": "exception",
        "garbage": "exception", "empty": "exception",
    }  # fmt: skip
    active = ctx.catalog.get(ids["active"])
    assert active.file_number == "鸿政〔2021〕1号"
    assert active.index_number == "QZ05908-3000-2021-00001"
    assert active.published_at is not None and active.publish_deadline is not None
    withheld = ctx.catalog.get(ids["withheld"])
    assert withheld.next_review_at is not None and withheld.next_review_at > ctx.today()
    for key in ("garbage", "empty", "none"):
        assert ctx.catalog.get(ids[key]).exception_reason

    # Every document is archived, whatever its route, and its package verifies.
    for doc_id in ids.values():
        record = ctx.catalog.get(doc_id)
        assert record.archive_key, record
        assert ctx.archive.verify(record.archive_key).ok
    package = ctx.catalog.get(ids["withheld"]).archive_key
    metadata = json.loads(ctx.archive.store.get_bytes(f"{package}/metadata.json"))
    assert metadata["metadata"]["routing"]["state"] == "withheld"

    # Only the active document is public: its page, its JSON record and the index.
    assert public_keys(ctx) == {
        f"documents/{ids['active']}.html", f"documents/{ids['active']}.json",
        "index.json", "index.html", "feed.atom", "index-2021.json", "index-2021.html",
    }  # fmt: skip
    record_json = json.loads(ctx.public.get_bytes(f"documents/{ids['active']}.json"))
    assert "鸿政〔2021〕1号" in json.dumps(record_json, ensure_ascii=False)
    index = ctx.public.get_bytes("index.json").decode("utf-8")
    assert "QZ05908-3000-2021-00001" in index

    # Each state change was audited and announced with the document's resource id.
    sink = events(ctx)
    for key, doc_id in ids.items():
        names = [e.event for e in sink.for_resource(f"gongkai.document.{doc_id}")]
        assert names[0] == "gongkai.document.received"
        assert names[-1] == f"gongkai.document.{states[key]}"
        history = [e for e in ctx.catalog.history(doc_id) if e.kind == "state"]
        assert history[-1].detail["to"] == states[key]
    published_event = sink.for_resource(f"gongkai.document.{ids['active']}")[-1]
    assert published_event.payload["file_number"] == "鸿政〔2021〕1号"
    assert published_event.payload["disclosure"] == "active"
    assert published_event.payload["issuer"]


def test_ingest_twice_changes_nothing_but_records_the_duplicates(ctx: Context) -> None:
    files = [make_docx(i, disclosure=d) for i, d in enumerate(["active", "withheld"], 10)]
    ids = [take_in(ctx, data, truth.filename) for data, truth in files]
    ingest(ctx, ids)
    before = {i: (ctx.catalog.get(i), len(ctx.catalog.history(i))) for i in ids}
    public_before = {k: ctx.public.get_bytes(k) for k in public_keys(ctx)}
    mark = ctx.catalog.audit_end()

    again = [service.intake(ctx, data, "again-" + truth.filename, source="test", actor="t")
             for data, truth in files]  # fmt: skip
    assert [r.new for r in again] == [False, False]
    assert [r.record.id for r in again] == ids
    ingest(ctx, ids)

    assert events(ctx, mark).names() == ["gongkai.document.duplicate_submission"] * 2
    for doc_id, (record, count) in before.items():
        assert ctx.catalog.get(doc_id) == record
        kinds = [e.kind for e in ctx.catalog.history(doc_id)[count:]]
        assert kinds == ["duplicate_submission"]
    assert {k: ctx.public.get_bytes(k) for k in public_keys(ctx)} == public_before


def test_review_keep_release_and_partial_with_redaction(ctx: Context) -> None:
    ids = [take_in(ctx, data, t.filename) for data, t in
           (make_docx(i, disclosure="withheld", reason="过程性信息") for i in (20, 21, 22))]
    ingest(ctx, ids)
    keep, release, partial = ids
    assert service.due_reviews(ctx) == []
    ctx.clock.now += timedelta(days=400)  # past any review interval
    due = service.review_due(ctx)
    assert {r.id for r in due.due} == set(ids)
    assert events(ctx).names().count("gongkai.review.due") == 3

    kept = service.decide_review(ctx, keep, "keep", reason="仍在讨论", reviewer="李四")
    assert kept.state == "withheld" and kept.next_review_at > ctx.today()
    released = service.decide_review(ctx, release, "release", reason="已办结", reviewer="李四")
    assert released.state == "published" and released.index_number
    assert f"documents/{release}.json" in public_keys(ctx)
    to_redact = service.decide_review(ctx, partial, "partial", reason="含个人信息",
                                      reviewer="李四")  # fmt: skip
    assert to_redact.state == "needs_redaction"
    assert f"documents/{partial}.json" not in public_keys(ctx)
    decisions = [d["decision"] for i in ids for d in ctx.catalog.review_decisions(i)]
    assert decisions == ["keep", "release", "partial"]

    redacted = ("鸿政〔2021〕22号\n鸿山镇人民政府关于做好第22批政务公开标准化工作的通知\n"
                "正文（个人信息已删除）")
    # Saved by Notepad on an older Chinese Windows: GBK ("ANSI"), not UTF-8.
    published = service.redact(ctx, partial, redacted.encode("gbk"), "删减稿.txt", actor="王五")
    assert published.state == "published" and published.redacted_key
    redaction = [e for e in ctx.catalog.history(partial) if e.kind == "redacted"]
    assert [(e.detail["filename"], e.detail["read_as"]) for e in redaction] == [
        ("删减稿.txt", "text (gb18030)")]  # fmt: skip
    page = ctx.public.get_bytes(f"documents/{partial}.json").decode("utf-8")
    assert "个人信息已删除" in page
    assert SECRET_SENTENCE not in page  # only the redacted text is public
    # The redacted version sits beside the original in the archive; the original is kept.
    package = ctx.catalog.get(partial).archive_key
    assert ctx.archive.store.exists(f"{package}/redacted.txt")
    assert ctx.archive.verify(package).ok


def test_exception_resolved_by_a_person(ctx: Context) -> None:
    to_publish = take_in(ctx, *reversed_args(make_docx(30, disclosure=None)))
    to_withhold = take_in(ctx, *reversed_args(make_docx(31, disclosure=None)))
    ingest(ctx, [to_publish, to_withhold])
    assert ctx.catalog.get(to_publish).state == "exception"
    with pytest.raises(service.LifecycleError):
        service.decide_review(ctx, to_publish, "release", reason="x", reviewer="y")

    done = service.resolve(ctx, to_publish, "active", reason="起草单位确认主动公开",
                           actor="王五")  # fmt: skip
    assert done.state == "published" and done.disclosure == "active"
    kept = service.resolve(ctx, to_withhold, "withheld", reason="内部事务信息", actor="王五")
    assert kept.state == "withheld" and kept.next_review_at is not None
    kinds = [e.kind for e in ctx.catalog.history(to_publish)]
    assert "resolved" in kinds
    assert f"documents/{to_withhold}.json" not in public_keys(ctx)


def test_a_template_goes_to_a_person_and_is_never_published(ctx: Context) -> None:
    """A blank red-header template (XX发〔20XX〕XX号, XXXX人民政府) that states 主动公开."""
    generator = pytest.importorskip("generator")
    doc = generator.make_document(generator.DEFAULT_SEED, 0, "template", "python-docx", nth=1)
    doc_id = take_in(ctx, generator.render_docx(doc.blocks), "模板.docx")
    ingest(ctx, [doc_id])
    record = ctx.catalog.get(doc_id)
    assert record.state == "exception"
    assert record.exception_reason.startswith("文件为模板（含占位符：")
    assert "template, not an issued document" in record.exception_reason
    assert record.metadata["placeholders"] == doc.expected["placeholders"]
    assert record.file_number is None and record.issuer is None
    with pytest.raises(PolicyRefusal, match="模板不是已印发的公文"):
        service.resolve(ctx, doc_id, "active", reason="起草单位确认", actor="王五")
    assert ctx.catalog.get(doc_id).state == "exception"
    assert f"documents/{doc_id}.json" not in public_keys(ctx)


def reversed_args(pair: tuple[bytes, object]) -> tuple[bytes, str]:
    data, truth = pair
    return data, truth.filename  # type: ignore[attr-defined]


def test_fixity_detects_a_corrupted_object_and_status_shows_it(ctx: Context) -> None:
    ids = [take_in(ctx, *reversed_args(make_docx(i))) for i in (40, 41)]
    ingest(ctx, ids)
    assert service.fixity(ctx).failed == {}
    record = ctx.catalog.get(ids[1])
    # Corrupt the stored text behind the store's back.
    root = Path(ctx.settings.objects_root) / ctx.settings.archive_bucket
    victim = root / record.archive_key / "text.txt"
    assert victim.exists()
    victim.write_bytes(victim.read_bytes() + b"tampered")
    report = service.fixity(ctx)
    assert list(report.failed) == [ids[1]] and report.checked == 2
    assert "gongkai.document.fixity_failed" in events(ctx).names()
    assert service.status(ctx).fixity_failures.keys() == {ids[1]}


def test_status_counts_and_publication_deadlines(ctx: Context) -> None:
    # 成文日期 2021-01-25: the Spring Festival holiday (Feb 11-17) falls in its 20 working days.
    day = date(2021, 1, 25)
    data, truth = make_docx(50, disclosure="active", day=day)
    doc_id = take_in(ctx, data, truth.filename)
    outcomes = service.process(ctx, [doc_id])  # routed to publication, not yet published
    assert outcomes[0].to_publish
    record = ctx.catalog.get(doc_id)
    expected = deadlines.publication_deadline(day, calendar=ctx.calendar)
    assert record.publish_deadline == expected.due
    assert not record.deadline_provisional
    assert expected.due > day + timedelta(days=28)  # 20 working days plus a week of holiday

    at = datetime.combine(expected.due - timedelta(days=1), datetime.min.time(), UTC)
    ctx.clock.now = at
    report = service.status(ctx)
    assert [i.document_id for i in report.at_risk] == [doc_id] and report.overdue == []
    ctx.clock.now = at + timedelta(days=3)
    report = service.status(ctx)
    assert [i.document_id for i in report.overdue] == [doc_id]
    assert report.by_state == {"to_publish": 1}  # 待发布
    service.publish(ctx, [doc_id])
    report = service.status(ctx)
    assert report.overdue == [] and report.by_state == {"published": 1}


def test_a_deadline_in_a_year_the_calendar_does_not_know_is_provisional(ctx: Context) -> None:
    day = date(2026, 12, 20)  # its 20 working days reach into 2027
    data, truth = make_docx(51, disclosure="active", day=day)
    doc_id = take_in(ctx, data, truth.filename)
    service.process(ctx, [doc_id])
    record = ctx.catalog.get(doc_id)
    assert record.publish_deadline is not None and record.publish_deadline.year == 2027
    assert record.deadline_provisional
    ctx.clock.now = datetime(2027, 3, 1, tzinfo=UTC)
    (item,) = service.status(ctx).overdue
    assert item.provisional


def test_a_holiday_file_that_cannot_be_used_is_reported_and_stops_nothing(
    gongkai_env: dict[str, str],
) -> None:
    # An office types the State Council's 2027 arrangement into a file and makes a mistake:
    # intake and processing go on, 2027 stays provisional, and status says what is wrong.
    settings = load_settings()
    assert settings.holidays_dir is not None
    settings.holidays_dir.mkdir(parents=True)
    (settings.holidays_dir / "2027.json").write_text(
        '{"year": 2027, "holidays": ["2027-02-06", "2027-02-30"]}', encoding="utf-8")
    with Context.open(settings) as ctx:
        data, truth = make_docx(52, disclosure="active", day=date(2026, 12, 20))
        doc_id = take_in(ctx, data, truth.filename)
        (outcome,) = service.process(ctx, [doc_id])
        assert outcome.to_publish
        assert ctx.catalog.get(doc_id).deadline_provisional
        report = service.status(ctx)
    (problem,) = report.calendar_problems
    assert "2027.json" in problem and "2027-02-30" in problem
    assert report.to_json()["calendar_problems"] == [problem]
    # Only the package's years: 2027 is not loaded.
    assert [source.split()[0] for source in report.calendar.values()] == ["chinese-calendar"]


def test_generated_corpus_is_routed_as_its_truth_allows(ctx: Context, tmp_path: Path) -> None:
    """Helper B's realistic corpus (python-docx and reportlab, image-only PDFs; truth known):
    nothing is published that the truth does not allow, every marked document is quarantined,
    every document is archived."""
    generator = pytest.importorskip("generator")
    docs = generator.generate(count=60, libreoffice=False)
    written = generator.write_documents(docs, tmp_path / "corpus", truth_files=False)
    truth: dict[int, dict] = {}
    for path, written_truth in written:
        record = service.intake(ctx, path.read_bytes(), path.name, source="test",
                                actor="t").record  # fmt: skip
        truth[record.id] = written_truth["expected"]
    ingest(ctx, list(truth))
    states = {}
    for doc_id, expected in truth.items():
        record = ctx.catalog.get(doc_id)
        states[doc_id] = record.state
        assert record.archive_key and ctx.archive.verify(record.archive_key).ok
        if record.state == "published":
            assert expected.get("disclosure") == "active", (record.filename, expected)
            assert expected.get("security_level") is None, (record.filename, expected)
        if expected.get("security_level"):
            assert record.state == "quarantined", (record.filename, record.state)
        if expected.get("text_layer") is False:
            # A scan is read by OCR for a person to confirm; a marking OCR read quarantines it.
            assert record.state in ("exception", "quarantined"), (record.filename, record.state)
    assert "published" in states.values()
    public = {k.split("/")[1].split(".")[0] for k in public_keys(ctx) if k.startswith("documents/")}
    assert public == {str(i) for i, s in states.items() if s == "published"}


def cover_sheet_docx(serial: int, reason: str) -> bytes:
    """A drafting cover sheet (发文稿纸) withholding a document, with its 不公开理由."""
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("石狮市鸿山镇人民政府发文稿纸")
    rows = [("文号", f"鸿政〔2021〕{serial}号"),
            ("标题", f"石狮市鸿山镇人民政府关于第{serial}批道路改造招标工作的通知"),
            ("公开属性", "不予公开"), ("不公开理由", reason), ("签发人", "王五"),
            ("成文日期", "2021年3月4日")]  # fmt: skip
    table = document.add_table(rows=len(rows), cols=2)
    for i, (label, value) in enumerate(rows):
        table.cell(i, 0).text, table.cell(i, 1).text = label, value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_review_brings_forward_withholding_whose_stated_end_has_passed(ctx: Context) -> None:
    """A 不公开理由 with an end date that has passed makes the document due now, whatever its
    next review date says; one whose end lies ahead waits for its date."""
    lapsing = take_in(ctx, cover_sheet_docx(30, "2021年6月30日前涉及未公开的招标事项"), "30.docx")
    later = take_in(ctx, cover_sheet_docx(31, "2030年12月31日前涉及未公开的招标事项"), "31.docx")
    ingest(ctx, [lapsing, later])
    assert {ctx.catalog.get(i).state for i in (lapsing, later)} == {"withheld"}
    first = ctx.catalog.get(lapsing).next_review_at
    assert first is not None and first > date(2021, 7, 1)  # the 12-month default
    assert service.review_due(ctx).due == []

    ctx.clock.now = datetime(2021, 7, 2, 2, 0, tzinfo=UTC)  # the stated end has passed
    report = service.review_due(ctx)
    assert report.brought_forward == [lapsing]
    assert [r.id for r in report.due] == [lapsing]
    assert ctx.catalog.get(later).next_review_at > date(2021, 7, 2)
    kinds = [e.kind for e in ctx.catalog.history(lapsing)]
    assert "review_brought_forward" in kinds


def test_documents_prepared_by_the_worker_pool_are_recorded_once(ctx: Context) -> None:
    # Worker processes read, route and archive; process() records each document once, and a
    # document another run moved meanwhile keeps that run's outcome.
    cycle = ["active", "on_request", "withheld", "partial", None]
    ids = [take_in(ctx, *reversed_args(make_docx(n, disclosure=cycle[n % len(cycle)])))
           for n in range(1, 31)]  # fmt: skip
    with service.WorkerPool(2) as pool:
        pool.warm()
        # The workers fork from a fork server that imported the readers and froze its heap
        # (flows/worker_preload.py): their collector never walks those objects.
        frozen = [pool._readers().submit(gc.get_freeze_count) for _ in range(2)]
        assert all(f.result() > 10_000 for f in frozen)
        # Another run, in this process, takes one document to a state and routes one to
        # publication (it stays `received`, routed).
        moved, routed = service.process(ctx, [ids[0], ids[4]])
        assert moved.state == "on_request" and routed.to_publish
        outcomes = service.process(ctx, ids, pool=pool)
    by_id = {o.document_id: o for o in outcomes}
    assert by_id[ids[0]].skipped and by_id[ids[0]].state == moved.state
    assert by_id[ids[4]].skipped and by_id[ids[4]].to_publish  # still to publish
    assert not any(o.failed for o in outcomes)
    assert [o.document_id for o in outcomes if not o.skipped] == ids[1:4] + ids[5:]
    for doc_id in ids:
        kinds = [e.kind for e in ctx.catalog.history(doc_id)]
        assert kinds.count("extracted") == 1, (doc_id, kinds)
        assert kinds.count("state") + kinds.count("routed") == 1, (doc_id, kinds)
        record = ctx.catalog.get(doc_id)
        assert record.archive_key is not None
        assert ctx.archive.verify(record.archive_key).ok


def test_documents_still_read_when_patience_ends_are_deferred_then_recorded_once(
    ctx: Context,
) -> None:
    # A round of serve's sweeper with a backlog records what its workers read in time; the
    # others come back deferred, still `received`, and a later call records them (once).
    ids = [take_in(ctx, *reversed_args(make_docx(n, disclosure="withheld")))
           for n in range(50, 62)]  # fmt: skip
    with service.WorkerPool(2) as pool:
        pool.warm()
        first = service.process(ctx, ids, pool=pool, patience_s=0.0)
        deferred = [o.document_id for o in first if o.deferred]
        assert deferred  # nothing is read in no time
        assert all(ctx.catalog.get(i).state == "received" for i in deferred)
        assert not any(o.deferred and (o.failed or o.skipped) for o in first)
        assert set(pool.reading(deferred)) <= set(deferred)
        second = service.process(ctx, deferred, pool=pool)
    assert [o.document_id for o in second] == deferred
    assert not any(o.deferred or o.failed or o.skipped for o in second)
    for doc_id in ids:
        assert ctx.catalog.get(doc_id).state == "withheld"
        kinds = [e.kind for e in ctx.catalog.history(doc_id)]
        assert kinds.count("extracted") == 1, (doc_id, kinds)
        assert kinds.index("received") < kinds.index("extracted") < kinds.index("state")


AUTOGROUP_SWITCH = Path("/proc/sys/kernel/sched_autogroup_enabled")


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed")
def test_scans_are_read_in_the_ocr_lane_while_the_readers_go_on(ctx: Context) -> None:
    # Two scans ahead of six .docx, one document a piece: in the reader workers the scans'
    # OCR held both of them and the .docx waited. The readers hand scans to the OCR lane (its
    # processes at a lower priority), so the .docx are recorded first.
    doc = next(d for d in generate(count=60, libreoffice=False) if d.producer == "python-docx")
    scan = render_image_pdf(render_pdf(list(doc.blocks) * 2), max_pages=3, dpi=150)
    scans = [take_in(ctx, scan + b"\n" * n, f"scan{n}.pdf") for n in range(2)]
    typed = [take_in(ctx, *reversed_args(make_docx(n, disclosure="active")))
             for n in range(70, 76)]  # fmt: skip
    with service.WorkerPool(2) as pool:
        pool.warm()
        base = os.nice(0)
        assert pool._ocr_lane().submit(os.nice, 0).result() == base + service.OCR_NICENESS
        if AUTOGROUP_SWITCH.exists() and AUTOGROUP_SWITCH.read_text().strip() == "1":
            # With autogroups a nice value counts only within a session: the lane has its
            # own session, whose autogroup runs at the lane's nice.
            assert pool._ocr_lane().submit(os.getsid, 0).result() != os.getsid(0)
            group = pool._ocr_lane().submit(Path("/proc/self/autogroup").read_text).result()
            assert group.strip().endswith(f"nice {service.OCR_NICENESS}"), group
        first = service.process(ctx, scans + typed, pool=pool)
        assert not pool.reading(scans + typed)
        assert not any(o.deferred or o.failed for o in first)
        # With patience (serve's rounds) a scan is left to a later call at once, not waited
        # for; that call takes it from the lane, not read again.
        late = take_in(ctx, scan + b"\n" * 2, "scan2.pdf")
        assert [o.deferred for o in service.process(ctx, [late, typed[0]], pool=pool,
                                                     patience_s=120.0)] == [True, False]
        deadline = time.monotonic() + 300
        while pool.reading([late]) and time.monotonic() < deadline:
            time.sleep(0.1)
        (alone,) = service.process(ctx, [late], pool=pool)
        assert alone.state == "exception" and not alone.deferred
        assert not pool._pending and not pool._ready  # nothing of it left behind in the pool
    scans.append(late)

    def extracted(doc_id: int) -> int:
        return next(e.id for e in ctx.catalog.history(doc_id) if e.kind == "extracted")

    assert max(extracted(i) for i in typed) < min(extracted(i) for i in scans)
    for doc_id in scans:
        record = ctx.catalog.get(doc_id)
        assert record.state == "exception" and record.metadata["ocr"] == "read"
        kinds = [e.kind for e in ctx.catalog.history(doc_id)]
        assert kinds.count("extracted") == 1, kinds
    assert all(ctx.catalog.get(i).state == "to_publish" for i in typed)


def test_a_document_routed_to_publication_is_not_read_again(ctx: Context) -> None:
    # A run that routed a document to publication and stopped before publishing it: a later
    # run publishes it without reading, routing or archiving it again.
    doc_id = take_in(ctx, *reversed_args(make_docx(40, disclosure="active")))
    (first,) = service.process(ctx, [doc_id])
    assert first.to_publish and not first.skipped
    history = ctx.catalog.history(doc_id)
    (again,) = service.process(ctx, [doc_id])
    assert again.skipped and again.to_publish and again.state == "to_publish"
    assert ctx.catalog.history(doc_id) == history
    assert service.waits_for_processing(ctx.catalog.get(doc_id)) is False
    (published,) = service.publish(ctx, [again.document_id]).published
    assert published.state == "published"
    assert [e.kind for e in ctx.catalog.history(doc_id)].count("extracted") == 1


def test_two_runs_that_read_the_same_documents_record_them_once(ctx: Context) -> None:
    # Two runs (two clerks' `gongkai ingest`, or one beside the service) read the same new
    # documents at once; the one that records second changes nothing and says so.
    ids = [take_in(ctx, *reversed_args(make_docx(n, disclosure=d)))
           for n, d in ((41, "active"), (42, "withheld"), (43, None))]  # fmt: skip
    first_run = service.prepare(ctx, ctx.catalog.get_many(ids))
    second_run = service.prepare(ctx, ctx.catalog.get_many(ids))
    recorded = service.record_prepared(ctx, first_run, actor="ingest")
    histories = {i: ctx.catalog.history(i) for i in ids}
    mark = ctx.catalog.audit_end()
    late = service.record_prepared(ctx, second_run, actor="ingest")
    assert [o.skipped for o in late] == [True, True, True]
    assert [o.state for o in late] == [o.state for o in recorded] == [
        "to_publish", "withheld", "exception"]  # fmt: skip
    assert [o.to_publish for o in late] == [True, False, False]
    assert {i: ctx.catalog.history(i) for i in ids} == histories
    assert events(ctx, mark).names() == []


def test_a_document_moved_before_a_worker_reads_it_is_left_alone(ctx: Context) -> None:
    # The worker pool reads the records again when it gets to them; one that another run
    # moved meanwhile comes back as left alone (it is neither read nor lost from the batch).
    doc_id = take_in(ctx, *reversed_args(make_docx(44, disclosure="withheld")))
    service.process(ctx, [doc_id])
    (prepared,) = service.prepare(ctx, ctx.catalog.get_many([doc_id]))
    assert prepared.left_alone and prepared.prefix is None
    (outcome,) = service.record_prepared(ctx, [prepared], actor="ingest")
    assert outcome.skipped and outcome.state == "withheld" and not outcome.to_publish


def test_fork_server_started_early_is_the_one_the_workers_fork_from() -> None:
    # `gongkai ingest` on a new home starts the fork server before its own imports
    # (flows/forkserver.py); worker pools made later fork from that same process.
    from gongkai.flows import forkserver

    forkserver.start()
    forkserver.start()  # already running: nothing new
    parents: set[int] = set()
    for _ in range(2):
        with service.WorkerPool(2) as pool:
            pool.warm()
            parents |= {pool._executor().submit(os.getppid).result() for _ in range(4)}
    assert len(parents) == 1 and os.getpid() not in parents


def test_review_interval_shown_is_the_one_a_keep_decision_set(ctx: Context) -> None:
    # A reviewer keeps a document withheld with a 过程性信息 reason: its next review is 3
    # months out, and the interval shown (review list) says 3, not the default 12.
    (doc_id,) = [take_in(ctx, data, t.filename) for data, t in
                 [make_docx(30, disclosure="withheld", reason=None)]]  # fmt: skip
    ingest(ctx, [doc_id])
    record = ctx.catalog.get(doc_id)
    assert record.state == "withheld" and service.review_months_of(ctx, record) == 12
    kept = service.decide_review(ctx, doc_id, "keep", reason="仍属过程性信息", reviewer="李四")
    assert kept.next_review_at == add_months(ctx.today(), 3)
    assert service.review_months_of(ctx, kept) == 3


def test_a_decision_on_a_document_in_another_state_is_refused_in_chinese(ctx: Context) -> None:
    # The clerk reads these at the terminal and in the web app: they say in Chinese which
    # state the document is in (the English stays after it for logs).
    (doc_id,) = [take_in(ctx, data, t.filename) for data, t in [make_docx(31)]]
    ingest(ctx, [doc_id])
    assert ctx.catalog.get(doc_id).state == "published"
    with pytest.raises(service.LifecycleError, match="的状态是已发布，不是待人工处理的例外"):
        service.resolve(ctx, doc_id, "active", reason="确认", actor="王五")
    with pytest.raises(service.LifecycleError, match="的状态是已发布，只有不予公开的文件可以审核"):
        service.decide_review(ctx, doc_id, "keep", reason="仍需保密", reviewer="李四")
    with pytest.raises(service.LifecycleError, match="的状态是已发布，不在待删减之列"):
        service.redact(ctx, doc_id, "正文".encode(), "删减稿.txt", actor="王五")
