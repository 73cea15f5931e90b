"""Fixity batches are claimed (a lease), so that workers share a run: on SQLite and PostgreSQL,
claims are disjoint, never-checked documents come first and then the oldest-checked, a
released batch is not taken again in the same run, and an expired claim is."""

from __future__ import annotations

import time
from datetime import timedelta

from catalog_steps import ids, register
from sqlalchemy import text

from gongkai.storage.catalog import Catalog


def test_claims_are_disjoint_and_released_by_the_result(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 7, "fixity")
        run_id, started, _ = catalog.fixity_run()
        first = catalog.claim_fixity(started, 3)
        second = catalog.claim_fixity(started, 3)  # another worker, meanwhile
        assert ids(first) == docs[:3] and ids(second) == docs[3:6]
        assert all("text" not in r.metadata for r in first)
        catalog.record_fixity(run_id, [(i, []) for i in ids(first)], actor="t")
        assert ids(catalog.claim_fixity(started, 5)) == docs[6:]  # the rest is claimed or done
        catalog.record_fixity(run_id, [(i, []) for i in docs[3:]], actor="t")
        assert catalog.claim_fixity(started, 5) == []
        assert catalog.finish_fixity_run(run_id)["checked"] == 7


def test_an_expired_claim_is_taken_again(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 3, "fixity")
        _run_id, started, _ = catalog.fixity_run()
        # A worker that claimed two and was killed: its lease ran out at once.
        assert ids(catalog.claim_fixity(started, 2, lease=timedelta(0))) == docs[:2]
        time.sleep(0.01)
        assert ids(catalog.claim_fixity(started, 3)) == docs


def test_the_oldest_checked_go_first_in_the_next_run(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 4, "fixity")
        run_id, started, _ = catalog.fixity_run()
        for doc_id in (docs[2], docs[0], docs[3], docs[1]):  # checked in this order
            assert catalog.claim_fixity(started, 4)
            catalog.record_fixity(run_id, [(doc_id, [])], actor="t")
            with catalog.begin_write() as conn:  # the others' claims are given up
                conn.execute(text("UPDATE documents SET fixity_claimed_until = NULL"))
            time.sleep(0.01)
        catalog.finish_fixity_run(run_id)
        newcomer = register(catalog, 5, "fixity")[-1]
        _next_run, restarted, _ = catalog.fixity_run()
        order = ids(catalog.claim_fixity(restarted, 5))
        assert order == [newcomer, docs[2], docs[0], docs[3], docs[1]]
