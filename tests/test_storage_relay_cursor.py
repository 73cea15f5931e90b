"""The outbox's side of the catalog (migration 0014): audit rows read after a position in
batches, the relay cursor's lease and its monotonic advance, on SQLite and PostgreSQL; on
PostgreSQL a row of a transaction still open holds back every later one, so a relay never
passes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from catalog_steps import register
from conftest import PG_ADMIN_URL
from sqlalchemy import create_engine, text

from gongkai.storage.catalog import Catalog, RelayPosition

LEASE = timedelta(seconds=30)


@pytest.fixture
def catalog(database_url: str) -> Iterator[Catalog]:
    with Catalog.open(database_url) as opened:
        yield opened


def test_audit_rows_come_after_a_position_in_order_and_in_batches(catalog: Catalog) -> None:
    ids = register(catalog, 5, "batch")
    start = RelayPosition(0, 0)
    first = catalog.audit_after(start, 3)
    second = catalog.audit_after(first.end, 3)
    rows = first.rows + second.rows
    assert [(r.kind, r.document_id) for r in rows] == [("received", i) for i in ids]
    assert len(first.rows) == 3 and len(second.rows) == 2
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert catalog.audit_after(second.end, 3).rows == []
    assert catalog.audit_after(second.end, 3).end == second.end == catalog.audit_end()
    assert catalog.audit_position(rows[2].id) == first.end


def test_one_relay_holds_the_cursor_and_it_only_moves_forward(catalog: Catalog) -> None:
    register(catalog, 2, "lease")
    end = catalog.audit_end()
    assert catalog.take_relay("prefect", "a", lease=LEASE, start=end) == end
    assert catalog.take_relay("prefect", "b", lease=LEASE, start=RelayPosition(0, 0)) is None
    assert not catalog.advance_relay("prefect", "b", RelayPosition(0, 99), lease=LEASE)
    assert catalog.relay_cursor("prefect") == end
    assert catalog.advance_relay("prefect", "a", RelayPosition(0, 0), lease=LEASE)
    assert catalog.relay_cursor("prefect") == end  # never back
    catalog.release_relay("prefect", "a")
    # Released (or expired): the other takes over where the first stood, not at its start.
    assert catalog.take_relay("prefect", "b", lease=LEASE, start=RelayPosition(0, 0)) == end
    assert catalog.take_relay("prefect", "a", lease=timedelta(0), start=end) is None


def test_an_expired_lease_is_taken_over(catalog: Catalog) -> None:
    start = catalog.audit_end()
    assert catalog.take_relay("prefect", "killed", lease=timedelta(seconds=-1), start=start)
    assert catalog.take_relay("prefect", "next", lease=LEASE, start=start) == start


def test_a_row_of_an_open_transaction_holds_back_the_later_ones(postgres_url: str) -> None:
    with Catalog.open(postgres_url) as catalog:
        (early,) = register(catalog, 1, "early")
        before = catalog.audit_end()
        engine = create_engine(catalog.database_url)
        try:
            with engine.connect() as open_tx:
                # A writer whose transaction is still open (a long batch): its row has the
                # lower xid; a later transaction commits meanwhile.
                open_tx.execute(text(
                    "INSERT INTO events (document_id, at, kind, actor, detail) "
                    "VALUES (:d, now(), 'slow', 'test', '{}')"), {"d": early})  # fmt: skip
                (later,) = register(catalog, 1, "later")
                assert catalog.audit_after(before, 10).rows == []  # nothing passes it
                assert catalog.audit_end() == before
                open_tx.commit()
            # Once it ends, both come, in their order.
            rows = catalog.audit_after(before, 10).rows
            assert [(r.kind, r.document_id) for r in rows] == [("slow", early),
                                                               ("received", later)]
        finally:
            engine.dispose()


def test_a_transaction_of_another_database_holds_nothing_back(postgres_url: str) -> None:
    other = create_engine(PG_ADMIN_URL)
    try:
        with other.connect() as elsewhere, Catalog.open(postgres_url) as catalog:
            elsewhere.execute(text("SELECT pg_current_xact_id()"))  # a writer, left open
            before = catalog.audit_end()
            (doc,) = register(catalog, 1, "meanwhile")
            assert [r.document_id for r in catalog.audit_after(before, 10).rows] == [doc]
            elsewhere.rollback()
    finally:
        other.dispose()
