"""索引号 are unique (issue 13, item 1): assigned serials skip every number in use, read or
assigned; a unique index enforces it; a catalog that already holds duplicates is upgraded to
one holder per number (migration 0003). SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from catalog_steps import migrate, registration
from lifecycle_docs import make_docx
from service_run import fixed_clock_context, ingest, take_in
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from gongkai.flows import render, service
from gongkai.flows.service import Context
from gongkai.storage.catalog import Catalog

PORTAL_NUMBER = "QZ05908-3000-2020-00010"


def number(year: int, serial: int) -> str:
    return render.format_index_number("QZ05908", "3000", year, serial)


def assign(catalog: Catalog, ids: list[int], year: int = 2020) -> dict[int, str | None]:
    numbered = catalog.assign_index_numbers(
        [(i, year) for i in ids], org_code="QZ05908", info_class="3000", actor="publish",
        number=number,
    )  # fmt: skip
    return {i: r.index_number for i, r in numbered.items()}


@pytest.fixture
def catalog(database_url: str) -> Iterator[Catalog]:
    with Catalog.open(database_url) as opened:
        yield opened


def test_assigned_serials_skip_a_number_read_from_a_file(catalog: Catalog) -> None:
    (portal, _), *_ = catalog.register_many([registration("portal")])
    catalog.update(portal.id, actor="t", kind="extracted", index_number=PORTAL_NUMBER)
    later = [r.id for r, _ in catalog.register_many([registration(f"d{i}") for i in range(10)])]
    given = assign(catalog, later)
    assert PORTAL_NUMBER not in given.values()
    assert sorted(given.values()) == [number(2020, s) for s in (*range(1, 10), 11)]


def test_the_catalog_refuses_a_second_holder_of_a_number(catalog: Catalog) -> None:
    (a, _), (b, _) = catalog.register_many([registration("a"), registration("b")])
    catalog.update(a.id, actor="t", kind="extracted", index_number=PORTAL_NUMBER)
    with pytest.raises(IntegrityError):
        catalog.update(b.id, actor="t", kind="extracted", index_number=PORTAL_NUMBER)
    assert catalog.index_number_holders([PORTAL_NUMBER, "nobody"]) == {PORTAL_NUMBER: a.id}


def _assign_in_process(database_url: str, ids: list[int], barrier, results) -> None:
    with Catalog(database_url) as catalog:
        barrier.wait(timeout=60)
        mine: list[str] = []
        for start in range(0, len(ids), 3):  # several small batches, as publish runs take them
            mine += [v for v in assign(catalog, ids[start : start + 3]).values() if v]
        results.put(mine)


@pytest.mark.postgres
def test_concurrent_assignment_on_postgresql_gives_no_number_twice(postgres_url: str) -> None:
    with Catalog.open(postgres_url) as catalog:
        held = [r.id for r, _ in catalog.register_many([registration(f"h{i}") for i in (4, 9)])]
        for doc_id, serial in zip(held, (4, 9), strict=True):  # read from files beforehand
            catalog.update(doc_id, actor="t", kind="extracted", index_number=number(2020, serial))
        ids = [r.id for r, _ in catalog.register_many([registration(f"c{i}") for i in range(48)])]
        workers = 4
        ctx = multiprocessing.get_context("spawn")
        barrier, results = ctx.Barrier(workers), ctx.Queue()
        processes = [ctx.Process(target=_assign_in_process,
                                 args=(postgres_url, ids[w::workers], barrier, results))
                     for w in range(workers)]  # fmt: skip
        for p in processes:
            p.start()
        for p in processes:
            p.join(timeout=180)
            assert p.exitcode == 0
        taken = [n for _ in range(workers) for n in results.get(timeout=5)]
        # Threads of one process at the same time as well, on documents of another year.
        more = [r.id for r, _ in catalog.register_many([registration(f"t{i}") for i in range(24)])]
        failures: list[BaseException] = []
        lock = threading.Lock()

        def work(chunk: list[int]) -> None:
            try:
                got = [v for v in assign(catalog, chunk, 2021).values() if v]
            except BaseException as exc:  # reported below: the test wants none
                failures.append(exc)
                return
            with lock:
                taken.extend(got)

        threads = [threading.Thread(target=work, args=(more[i::6],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        assert len(taken) == len(set(taken)) == 72
        stored = [r.index_number for r in catalog.get_many(held + ids + more)]
        assert len(stored) == len(set(stored)) == 74
        assert sorted(n for n in taken if "-2020-" in n) == [
            number(2020, s) for s in range(1, 51) if s not in (4, 9)]  # fmt: skip


def test_upgrade_keeps_each_shared_number_on_one_document(database_url: str) -> None:
    old = Catalog(database_url)
    try:
        migrate(old, "0002")
        # Rows as that schema holds them (today's models have columns it lacks).
        with old.begin_write() as connection:
            for doc_id, value, read in ((1, "X-1", False), (2, "X-1", True), (3, "X-1", False),
                                        (4, "Y-2", False)):  # fmt: skip
                connection.execute(
                    text("INSERT INTO documents (id, sha256, filename, size, content_type, "
                         "source, original_key, state, received_at, deadline_provisional, "
                         "metadata, text, index_number) VALUES (:id, :sha, 'f.docx', 1, "
                         "'application/octet-stream', 'test', 'k', 'published', :at, false, "
                         ":m, '', :v)"),
                    {"id": doc_id, "sha": f"{doc_id:064x}", "v": value,
                     "at": datetime(2021, 1, 1, tzinfo=UTC),
                     "m": '{"index_number": "X-1"}' if read else "{}"},
                )  # fmt: skip
        a, b, c, d = 1, 2, 3, 4
    finally:
        old.close()
    with Catalog.open(database_url) as catalog:
        records = {r.id: r for r in catalog.get_many([a, b, c, d])}
        # The number printed in b's file beats the ones assigned to a and c; d shares nothing.
        assert [records[i].index_number for i in (a, b, c, d)] == [None, "X-1", None, "Y-2"]
        for loser in (a, c):
            released = catalog.history(loser)[-1]
            assert released.kind == "index_number_released"
            assert released.actor == "gongkai db upgrade"
            assert released.detail["kept_by"] == b and released.detail["index_number"] == "X-1"
        with pytest.raises(IntegrityError):
            catalog.update(a, actor="t", kind="x", index_number="Y-2")


# -- through the service ---------------------------------------------------------------------


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with fixed_clock_context() as context:
        yield context


def test_a_portal_number_is_not_given_again_to_later_documents(ctx: Context) -> None:
    data, _ = make_docx(1, year=2020, index_number=PORTAL_NUMBER)
    portal = take_in(ctx, data, "portal.docx")
    later = [take_in(ctx, make_docx(n, year=2020)[0], f"d{n}.docx") for n in range(2, 13)]
    ingest(ctx, [portal, *later])
    records = ctx.catalog.get_many([portal, *later])
    assert {r.state for r in records} == {"published"}
    numbers = [r.index_number for r in records]
    assert numbers[0] == PORTAL_NUMBER and len(set(numbers)) == 12
    assert numbers[1:] == [number(2020, s) for s in (*range(1, 10), 11, 12)]
    # The public site carries each number once.
    index = ctx.public.get_bytes("index.json").decode("utf-8")
    assert all(index.count(f'"{n}"') == 1 for n in numbers)


def test_a_file_that_reads_a_number_another_document_holds_is_an_exception(
    ctx: Context,
) -> None:
    first = take_in(ctx, make_docx(1, year=2020, index_number=PORTAL_NUMBER)[0], "a.docx")
    ingest(ctx, [first])
    # Another 文号, the same printed 索引号; and two more that share one within a batch.
    other = take_in(ctx, make_docx(2, year=2020, index_number=PORTAL_NUMBER)[0], "b.docx")
    pair = [take_in(ctx, make_docx(n, year=2020, index_number="QZ05908-3000-2020-00077")[0],
                    f"p{n}.docx") for n in (3, 4)]  # fmt: skip
    ingest(ctx, [other, *pair])
    clash, kept, second = ctx.catalog.get_many([other, *pair])
    assert clash.state == "exception" and clash.index_number is None
    assert f"已由文档 {first} 使用" in (clash.exception_reason or "")
    assert clash.metadata["index_number"] == PORTAL_NUMBER  # what the file says is kept
    assert kept.state == "published" and kept.index_number == "QZ05908-3000-2020-00077"
    assert second.state == "exception" and f"文档 {kept.id}" in (second.exception_reason or "")
    assert ctx.catalog.get(first).index_number == PORTAL_NUMBER


def test_a_published_document_that_lost_a_shared_number_is_numbered_again(
    ctx: Context,
) -> None:
    ids = [take_in(ctx, make_docx(n, year=2020)[0], f"d{n}.docx") for n in (1, 2)]
    ingest(ctx, ids)
    # As migration 0003 leaves a document whose number another one kept.
    ctx.catalog.update(ids[1], actor="gongkai db upgrade", kind="index_number_released",
                       index_number=None)  # fmt: skip
    assert service.publishable_ids(ctx) == [ids[1]]
    service.publish(ctx, service.publishable_ids(ctx))
    renumbered = ctx.catalog.get(ids[1]).index_number
    assert renumbered == number(2020, 3)
    assert renumbered in ctx.public.get_bytes(f"documents/{ids[1]}.json").decode("utf-8")
    assert renumbered in ctx.public.get_bytes("index.json").decode("utf-8")
    assert service.publishable_ids(ctx) == []
