"""The catalog on SQLite and PostgreSQL: schema by migration, registration, transitions, audit,
search, review decisions, index serials, and concurrency across processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from catalog_steps import migrate
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from gongkai.extractors.model import DocumentMetadata
from gongkai.storage.catalog import (
    Catalog,
    DocumentNotFound,
    FindQuery,
    StaleState,
    normalize_database_url,
)
from gongkai.storage.migrations import HEAD_REVISION
from gongkai.storage.models import Base


def sha_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def register(catalog: Catalog, label: str, **extra: object):
    record, created = catalog.register(
        sha256=sha_of(label),
        size=len(label),
        filename=f"{label}.docx",
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        original_key=f"originals/{sha_of(label)[:2]}/{sha_of(label)}.docx",
        source="cli",
        actor="tester",
        **extra,  # type: ignore[arg-type]
    )
    return record, created


def metadata(**fields: object) -> DocumentMetadata:
    base: dict[str, object] = {
        "format": "docx",
        "file_number": "鸿政〔2020〕53号",
        "title": "关于印发鸿山镇全面推进基层政务公开标准化规范化工作实施方案的通知",
        "issuer": "鸿山镇人民政府",
        "date": "2020-09-15",
        "disclosure": "active",
        "text": "各村（社区）：现将《鸿山镇全面推进基层政务公开标准化规范化工作实施方案》"
        "印发给你们。",
        "cited_file_numbers": ["狮政办〔2019〕120号", "国办发〔2019〕54号"],
        "page_count": 3,
    }
    base.update(fields)
    return DocumentMetadata(**base)  # type: ignore[arg-type]


@pytest.fixture
def catalog(database_url: str):
    opened = Catalog.open(database_url)
    yield opened
    opened.close()


# -- schema -----------------------------------------------------------------------------------


def test_open_migrates_an_empty_database_to_head_and_matches_the_models(database_url: str):
    fresh = Catalog(database_url)
    assert fresh.current_revision() is None
    fresh.close()
    with Catalog.open(database_url) as catalog:
        assert catalog.current_revision() == catalog.head_revision() == HEAD_REVISION
        from alembic.autogenerate import compare_metadata
        from alembic.runtime.migration import MigrationContext

        with catalog.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, kind, _parent: (
                        not (kind == "table" and (name or "").startswith(
                            ("documents_fts", "documents_grams")))
                        and not (kind == "index" and (name or "").endswith(
                            ("_trgm", "ix_documents_grams")))
                    ),
                },
            )
            differences = compare_metadata(context, Base.metadata)
        assert {"documents", "events", "review_decisions", "cited_file_numbers",
                "index_serials", "users", "tokens", "alembic_version"} <= tables  # fmt: skip
        assert differences == [], differences
        # Opening again is a no-op; upgrading again too.
        catalog.upgrade()
    with Catalog.open(database_url) as again:
        assert again.current_revision() == HEAD_REVISION


def test_a_catalog_migrated_by_a_newer_version_is_refused(database_url: str):
    with Catalog.open(database_url) as catalog, catalog.begin_write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(RuntimeError, match="newer version"):
        Catalog.open(database_url)


def test_plain_postgresql_urls_use_psycopg3():
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValueError, match="psycopg 3"):
        normalize_database_url("postgresql+psycopg2://u@h/db")


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str):
    with Catalog.open(sqlite_url) as catalog, catalog.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


# -- registration -----------------------------------------------------------------------------


def test_register_new_document_and_duplicate_submission(catalog: Catalog):
    record, created = register(catalog, "one", declared_disclosure="active")
    assert created
    assert record.state == "received"
    assert record.declared_disclosure == "active"
    assert record.received_at.tzinfo is not None and record.received_at.utcoffset() == timedelta(0)
    again, created_again = catalog.register(
        sha256=sha_of("one").upper(), size=3, filename="renamed.docx", content_type="x",
        original_key="k", source="http", actor="portal",
    )  # fmt: skip
    assert not created_again
    assert again.id == record.id
    assert again.filename == "one.docx"  # the first submission's name stays
    kinds = [(e.kind, e.actor) for e in catalog.history(record.id)]
    assert kinds == [("received", "tester"), ("duplicate_submission", "portal")]
    # The row notes the document's facts as they were: the event made of it says them.
    assert catalog.history(record.id)[1].detail == {
        "filename": "renamed.docx", "source": "http",
        "document": {"state": "received", "disclosure": None, "file_number": None,
                     "issuer": None, "title": None},
    }  # fmt: skip
    assert catalog.get_by_sha256(sha_of("one")) == catalog.get(record.id)
    assert catalog.get_by_sha256(sha_of("other")) is None


def test_register_refuses_a_malformed_sha256(catalog: Catalog):
    with pytest.raises(ValueError, match="64 hex"):
        catalog.register(sha256="abc", size=1, filename="a", content_type="x",
                         original_key="k", source="cli", actor="t")  # fmt: skip


def _register_same_bytes(database_url: str, barrier, results) -> None:
    catalog = Catalog(database_url)
    try:
        barrier.wait(timeout=60)
        record, created = register(catalog, "raced")
        results.put((record.id, created))
    finally:
        catalog.close()


def test_processes_registering_the_same_bytes_at_once_make_one_document(catalog: Catalog):
    workers = 4
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_register_same_bytes, args=(catalog.database_url, barrier, results))
        for _ in range(workers)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    outcomes = [results.get(timeout=5) for _ in range(workers)]
    assert len({doc_id for doc_id, _ in outcomes}) == 1
    assert sorted(created for _, created in outcomes) == [False, False, False, True]
    assert catalog.counts_by_state() == {"received": 1}
    kinds = sorted(e.kind for e in catalog.history(outcomes[0][0]))
    assert kinds == ["duplicate_submission"] * 3 + ["received"]


# -- extraction, transitions, audit ------------------------------------------------------------


def test_save_extraction_copies_every_field_and_canonical_cited_numbers(catalog: Catalog):
    record, _ = register(catalog, "extracted")
    read = metadata(file_number="鸿政[2020]53号", cited_file_numbers=["狮政办【2019】120号"])
    saved = catalog.save_extraction(record.id, read, actor="ingest")
    assert saved.file_number == "鸿政〔2020〕53号"
    assert saved.cited_file_numbers == ("狮政办〔2019〕120号",)
    assert saved.title == read.title and saved.issuer == "鸿山镇人民政府"
    assert saved.date == date(2020, 9, 15)
    assert saved.disclosure == "active" and saved.format == "docx" and saved.page_count == 3
    assert saved.metadata == read.to_dict()  # full metadata JSON, text included
    assert saved.state == "received"  # extraction does not move the state
    assert catalog.history(record.id)[-1].kind == "extracted"
    # Re-extraction replaces the cited numbers rather than adding to them.
    again = catalog.save_extraction(
        record.id, metadata(cited_file_numbers=["国办发〔2019〕54号", "鸿政〔2019〕1号"]),
        actor="ingest",
    )  # fmt: skip
    assert again.cited_file_numbers == ("国办发〔2019〕54号", "鸿政〔2019〕1号")
    assert catalog.get(record.id) == again


def test_save_extraction_refuses_a_malformed_date(catalog: Catalog):
    record, _ = register(catalog, "bad date")
    with pytest.raises(ValueError, match="ISO date"):
        catalog.save_extraction(record.id, metadata(date="2020年9月15日"), actor="ingest")
    assert [e.kind for e in catalog.history(record.id)] == ["received"]


def test_transition_changes_state_and_columns_with_one_audit_row(catalog: Catalog):
    record, _ = register(catalog, "moving")
    routed = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    moved = catalog.transition(
        record.id, "withheld", actor="ingest", expected_from="received",
        detail={"rule": "disclosure=withheld"},
        disclosure="withheld", disclosure_reason="过程性信息", routed_at=routed,
        next_review_at=date(2026, 4, 5), archive_key="2020/x/1-abc",
    )  # fmt: skip
    assert moved.state == "withheld" and moved.routed_at == routed
    assert moved.next_review_at == date(2026, 4, 5) and moved.archive_key == "2020/x/1-abc"
    last = catalog.history(record.id)[-1]
    assert last.kind == "state" and last.actor == "ingest"
    assert last.detail["from"] == "received" and last.detail["to"] == "withheld"
    assert last.detail["rule"] == "disclosure=withheld"
    assert last.detail["changes"]["next_review_at"] == "2026-04-05"


def test_lists_by_state_are_read_a_page_or_an_id_at_a_time(catalog: Catalog):
    ids = [register(catalog, f"listed-{n}")[0].id for n in range(5)]
    for n, doc_id in enumerate(ids[:4]):
        catalog.transition(doc_id, "withheld", actor="t", expected_from="received",
                           next_review_at=date(2026, 1, 10 - n))  # fmt: skip
    catalog.transition(ids[4], "to_publish", actor="t", expected_from="received")
    assert catalog.ids_in_state("withheld") == ids[:4]
    assert [r.id for r in catalog.by_state("withheld", limit=2, offset=1)] == ids[1:3]
    assert catalog.count_in_state("withheld") == 4 and catalog.count_in_state("received") == 0
    catalog.save_extraction(ids[0], metadata(text="全文内容"), actor="t")
    assert catalog.by_state("withheld")[0].metadata["text"] == "全文内容"
    assert "text" not in catalog.by_state("withheld", with_text=False)[0].metadata
    due = catalog.due_for_review(date(2026, 1, 9), limit=2)  # most overdue first
    assert [r.id for r in due] == [ids[3], ids[2]]
    assert [r.id for r in catalog.due_for_review(date(2026, 1, 9), offset=2)] == [ids[1]]
    assert catalog.count_due_for_review(date(2026, 1, 9)) == 3
    catalog.transition(ids[4], "published", actor="t", expected_from="to_publish")
    assert catalog.ids_in_state("published", without_index_number=True) == [ids[4]]
    catalog.update(ids[4], actor="t", kind="index_number_assigned",
                   index_number="QZ05908-3000-2026-00001")  # fmt: skip
    assert catalog.ids_in_state("published", without_index_number=True) == []
    assert catalog.published_ids() == [ids[4]]


def test_transition_from_an_unexpected_state_writes_nothing(catalog: Catalog):
    record, _ = register(catalog, "stale")
    catalog.transition(record.id, "exception", actor="ingest", exception_reason="unreadable")
    before = catalog.history(record.id)
    with pytest.raises(StaleState):
        catalog.transition(
            record.id,
            "published",
            actor="publish",
            expected_from={"received", "needs_redaction"},
            disclosure="active",
        )
    assert catalog.history(record.id) == before
    assert catalog.get(record.id).state == "exception"
    assert catalog.get(record.id).disclosure is None


def test_transition_and_update_refuse_unknown_states_and_columns(catalog: Catalog):
    record, _ = register(catalog, "strict")
    with pytest.raises(ValueError, match="unknown state"):
        catalog.transition(record.id, "shredded", actor="x")
    with pytest.raises(ValueError, match="sha256"):
        catalog.update(record.id, actor="x", kind="edit", sha256="0" * 64)
    with pytest.raises(ValueError, match="timezone-aware"):
        catalog.update(record.id, actor="x", kind="edit", published_at=datetime(2026, 1, 1))
    with pytest.raises(DocumentNotFound):
        catalog.transition(999_999, "published", actor="x")
    assert [e.kind for e in catalog.history(record.id)] == ["received"]


def test_update_and_record_event_are_audited(catalog: Catalog):
    record, _ = register(catalog, "updated")
    updated = catalog.update(record.id, actor="clerk", kind="index_assigned",
                             index_number="QZ05908-3000-2026-00001")  # fmt: skip
    assert updated.index_number == "QZ05908-3000-2026-00001" and updated.state == "received"
    event = catalog.record_event(record.id, "published_to_portal", actor="publish",
                                 detail={"url": "https://example.gov.cn/1"})  # fmt: skip
    assert event.document_id == record.id and event.detail["url"].startswith("https://")
    kinds = [e.kind for e in catalog.history(record.id)]
    assert kinds == ["received", "index_assigned", "published_to_portal"]
    with pytest.raises(DocumentNotFound):
        catalog.record_event(424242, "x", actor="y")
    with pytest.raises(DocumentNotFound):
        catalog.history(424242)
    assert [e.document_id for e in catalog.latest_events("published_to_portal")] == [record.id]


def test_events_are_append_only_in_the_database(catalog: Catalog):
    record, _ = register(catalog, "audited")
    engine = create_engine(catalog.database_url)
    try:
        for statement in ("UPDATE events SET actor = 'forger'", "DELETE FROM events"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    assert [e.actor for e in catalog.history(record.id)] == ["tester"]


def test_latest_events_gives_the_newest_of_a_kind_per_document(catalog: Catalog):
    first, _ = register(catalog, "a")
    second, _ = register(catalog, "b")
    catalog.record_event(first.id, "fixity", actor="fixity", detail={"round": 1})
    catalog.record_event(second.id, "fixity", actor="fixity", detail={"round": 1})
    catalog.record_event(first.id, "fixity", actor="fixity", detail={"round": 2})
    latest = catalog.latest_events("fixity")
    assert [(e.document_id, e.detail["round"]) for e in latest] == [(first.id, 2), (second.id, 1)]


# -- search -----------------------------------------------------------------------------------


@pytest.fixture
def seeded(catalog: Catalog) -> dict[str, int]:
    docs = {
        "plan": metadata(),
        "budget": metadata(
            file_number="狮政〔2021〕12号", title="石狮市2021年财政预算执行情况的报告",
            issuer="石狮市人民政府", date="2021-03-02", disclosure="withheld",
            text="本报告涉及内部管理事项，预算执行率为98%，资金_专户。", cited_file_numbers=[],
        ),
        "notice": metadata(
            file_number="鸿政〔2020〕7号", title="关于做好防汛工作的通知", date="2020-05-20",
            disclosure="on_request", text="防汛抗旱指挥部要求各村做好准备。",
            cited_file_numbers=[],
        ),
    }  # fmt: skip
    ids: dict[str, int] = {}
    for label, read in docs.items():
        record, _ = register(catalog, label)
        catalog.save_extraction(record.id, read, actor="ingest")
        ids[label] = record.id
    catalog.transition(ids["plan"], "published", actor="publish")
    catalog.transition(ids["budget"], "withheld", actor="ingest")
    return ids


def _ids(records) -> list[int]:
    return [r.id for r in records]


def test_find_by_file_number_in_any_spelling(catalog: Catalog, seeded: dict[str, int]):
    for spelling in ("狮政〔2021〕12号", "狮政[2021]12号", "狮政【2021】12号", " 狮政(2021)12号 "):
        assert _ids(catalog.find(FindQuery(file_number=spelling))) == [seeded["budget"]]
    assert catalog.find(FindQuery(file_number="狮政〔2021〕13号")) == []


def test_find_by_title_text_issuer_dates_state_and_disclosure(
    catalog: Catalog, seeded: dict[str, int]
):
    plan, budget, notice = seeded["plan"], seeded["budget"], seeded["notice"]
    assert _ids(catalog.find(FindQuery())) == [plan, budget, notice]
    assert _ids(catalog.find(FindQuery(title="防汛"))) == [notice]
    assert _ids(catalog.find(FindQuery(text="防汛抗旱指挥部"))) == [notice]  # FTS (≥ 3 chars)
    assert _ids(catalog.find(FindQuery(text="印发给你们"))) == [plan]
    assert _ids(catalog.find(FindQuery(text="预算"))) == [budget]  # 2 chars: LIKE fallback
    assert _ids(catalog.find(FindQuery(text="政务公开标准化"))) == [plan]  # title via FTS
    assert _ids(catalog.find(FindQuery(text="98%"))) == [budget]  # % is literal
    assert _ids(catalog.find(FindQuery(text="资金_专户"))) == [budget]  # _ is literal
    assert catalog.find(FindQuery(text="资金x专户")) == []
    assert catalog.find(FindQuery(text='引号"测试')) == []
    assert _ids(catalog.find(FindQuery(issuer="石狮市"))) == [budget]
    assert _ids(catalog.find(FindQuery(date_from=date(2020, 6, 1)))) == [plan, budget]
    assert _ids(catalog.find(FindQuery(date_from=date(2020, 5, 20), date_to=date(2020, 9, 15)))) \
        == [plan, notice]  # fmt: skip
    assert _ids(catalog.find(FindQuery(state="withheld"))) == [budget]
    assert _ids(catalog.find(FindQuery(disclosure="on_request"))) == [notice]
    assert _ids(catalog.find(FindQuery(issuer="鸿山镇", date_from=date(2020, 6, 1)))) == [plan]
    assert _ids(catalog.find(FindQuery(limit=2))) == [plan, budget]
    assert _ids(catalog.find(FindQuery(limit=2, offset=2))) == [notice]
    with pytest.raises(ValueError):
        catalog.find(FindQuery(limit=-1))
    assert _ids(catalog.by_state("published")) == [plan]
    assert catalog.counts_by_state() == {"published": 1, "withheld": 1, "received": 1}
    assert _ids(catalog.get_many([notice, plan])) == [notice, plan]
    with pytest.raises(DocumentNotFound):
        catalog.get_many([plan, 987654])
    # The states alone, in the order asked, each id once.
    assert catalog.states_of([notice, plan, notice, budget]) == {
        notice: "received", plan: "published", budget: "withheld"}
    assert list(catalog.states_of([budget, notice])) == [budget, notice]
    assert catalog.states_of([]) == {}
    with pytest.raises(DocumentNotFound, match="987654"):
        catalog.states_of([plan, 987654])


def test_full_text_index_follows_changes_of_the_text(catalog: Catalog, seeded: dict[str, int]):
    catalog.save_extraction(seeded["notice"], metadata(text="改为森林防火工作安排。", title="防火"),
                            actor="ingest")  # fmt: skip
    assert catalog.find(FindQuery(text="防汛抗旱指挥部")) == []
    assert _ids(catalog.find(FindQuery(text="森林防火工作"))) == [seeded["notice"]]


# -- review decisions, index serials -----------------------------------------------------------


def test_review_queue_and_decisions(catalog: Catalog):
    due, _ = register(catalog, "due")
    later, _ = register(catalog, "later")
    catalog.transition(due.id, "withheld", actor="ingest", next_review_at=date(2026, 1, 1))
    catalog.transition(later.id, "withheld", actor="ingest", next_review_at=date(2026, 12, 1))
    assert _ids(catalog.due_for_review(date(2026, 6, 1))) == [due.id]
    catalog.add_review_decision(due.id, decision="keep", reason="仍属过程性信息",
                                reviewer="王科长", next_review_at=date(2027, 1, 1))  # fmt: skip
    assert catalog.due_for_review(date(2026, 6, 1)) == []
    assert catalog.get(due.id).next_review_at == date(2027, 1, 1)
    decisions = catalog.review_decisions(due.id)
    assert [(d["decision"], d["reason"], d["reviewer"], d["next_review_at"]) for d in decisions] \
        == [("keep", "仍属过程性信息", "王科长", date(2027, 1, 1))]  # fmt: skip
    assert decisions[0]["decided_at"].tzinfo is not None
    assert catalog.history(due.id)[-1].kind == "review_decision"
    with pytest.raises(ValueError, match="reason"):
        catalog.add_review_decision(due.id, decision="keep", reason=" ", reviewer="x",
                                    next_review_at=None)  # fmt: skip


def test_index_serials_count_per_org_class_and_year(catalog: Catalog):
    assert [catalog.next_index_serial("QZ05908", "3000", 2026) for _ in range(3)] == [1, 2, 3]
    assert catalog.next_index_serial("QZ05908", "3000", 2027) == 1
    assert catalog.next_index_serial("QZ05908", "4000", 2026) == 1
    assert catalog.next_index_serial("QZ05908", "3000", 2026) == 4


def _take_serials(database_url: str, count: int, barrier, results) -> None:
    catalog = Catalog(database_url)
    try:
        barrier.wait(timeout=60)
        results.put([catalog.next_index_serial("QZ05908", "3000", 2026) for _ in range(count)])
    finally:
        catalog.close()


def test_index_serials_are_gap_free_and_unique_across_threads(catalog: Catalog):
    threads, per_thread = 6, 15
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        mine = [catalog.next_index_serial("QZ05908", "3000", 2026) for _ in range(per_thread)]
        with lock:
            taken.extend(mine)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert sorted(taken) == list(range(1, threads * per_thread + 1))


def test_index_serials_are_gap_free_and_unique_across_processes(catalog: Catalog):
    workers, per_worker = 4, 20
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_take_serials,
                    args=(catalog.database_url, per_worker, barrier, results))
        for _ in range(workers)
    ]  # fmt: skip
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    taken = [n for _ in range(workers) for n in results.get(timeout=5)]
    assert sorted(taken) == list(range(1, workers * per_worker + 1))


def test_event_details_are_stored_as_json(catalog: Catalog):
    record, _ = register(catalog, "details")
    catalog.transition(record.id, "withheld", actor="ingest",
                       detail={"review_on": date(2027, 1, 1), "rules": ("a", "b")})  # fmt: skip
    assert catalog.history(record.id)[-1].detail["review_on"] == "2027-01-01"
    assert catalog.history(record.id)[-1].detail["rules"] == ["a", "b"]
    with pytest.raises(TypeError, match="not JSON"):
        catalog.record_event(record.id, "odd", actor="x", detail={"what": object()})
    assert len(catalog.history(record.id)) == 2


def _open_catalog(database_url: str, barrier, results) -> None:
    barrier.wait(timeout=60)
    with Catalog.open(database_url) as catalog:
        results.put(catalog.current_revision())


def test_processes_opening_an_empty_catalog_at_once_migrate_it_once(database_url: str):
    workers = 3
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    processes = [ctx.Process(target=_open_catalog, args=(database_url, barrier, results))
                 for _ in range(workers)]  # fmt: skip
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert [results.get(timeout=5) for _ in range(workers)] == [HEAD_REVISION] * workers
    with Catalog.open(database_url) as catalog:
        register(catalog, "after concurrent open")
        assert catalog.counts_by_state() == {"received": 1}


def test_migrations_downgrade_to_nothing_and_back(database_url: str):
    with Catalog.open(database_url) as catalog:
        register(catalog, "before")
        migrate(catalog, "base", down=True)
        with catalog.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        assert catalog.current_revision() is None
        catalog.upgrade()
        assert catalog.find(FindQuery()) == []
        record, created = register(catalog, "after")
        assert created
        catalog.save_extraction(record.id, metadata(text="重建后的全文索引照常工作。"), actor="t")
        assert _ids(catalog.find(FindQuery(text="全文索引"))) == [record.id]


def test_head_revision_constant_is_alembics_head(sqlite_url: str) -> None:
    from gongkai.storage.migrations import HEAD_REVISION

    with Catalog.open(sqlite_url) as catalog:
        assert HEAD_REVISION == catalog.head_revision() == catalog.current_revision()


def test_opening_an_up_to_date_catalog_does_not_load_alembic(database_url: str) -> None:
    import subprocess
    import sys

    Catalog.open(database_url).close()  # created and migrated here
    probe = (
        "import sys\n"
        "from gongkai.storage.catalog import Catalog\n"
        f"Catalog.open({database_url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
