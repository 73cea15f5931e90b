"""Waiting documents are claimed by a sweep (a lease), so that sweeps running at once share
them: on SQLite and PostgreSQL, claims are disjoint, a recorded document's claim is released,
an expired claim is taken again; on PostgreSQL, claims from several threads at once are
disjoint (SKIP LOCKED)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from catalog_steps import ids, register
from sqlalchemy import text

from gongkai.storage.catalog import Catalog, Outcome


def claims(catalog: Catalog) -> dict[int, tuple[str | None, object]]:
    with catalog.begin_write() as conn:
        rows = conn.execute(text("SELECT id, claimed_by, claimed_until FROM documents"))
        return {row[0]: (row[1], row[2]) for row in rows}


def test_two_claimers_get_disjoint_batches(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 7, "pending")
        first = catalog.claim_pending("a", 3)
        second = catalog.claim_pending("b", 3)
        assert ids(first) == docs[:3] and ids(second) == docs[3:6]
        assert all(r.state == "received" for r in first + second)
        assert ids(catalog.claim_pending("a", 5)) == docs[6:]
        assert catalog.claim_pending("c", 5) == []
        held = claims(catalog)
        assert {held[i][0] for i in docs[3:6]} == {"b"}


def test_a_recorded_document_releases_its_claim(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 3, "pending")
        batch = ids(catalog.claim_pending("a", 3))
        outcome = Outcome(doc_id=batch[0], actor="t", metadata=None, to_state="exception",
                          changes={"exception_reason": "unreadable"})  # fmt: skip
        catalog.record_outcomes([outcome])
        held = claims(catalog)
        assert held[docs[0]] == (None, None)
        assert held[docs[1]][0] == "a" and held[docs[2]][0] == "a"
        # The rest is released at the sweep's end, and free for the next sweep at once.
        assert catalog.release_claims("a") == 2
        assert ids(catalog.claim_pending("b", 5)) == docs[1:]


def test_an_expired_claim_is_taken_again(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        docs = register(catalog, 3, "pending")
        # A sweep that claimed two and was killed: its lease ran out at once.
        assert ids(catalog.claim_pending("killed", 2, timedelta(0))) == docs[:2]
        time.sleep(0.01)
        assert ids(catalog.claim_pending("later", 3)) == docs
        assert {claimed_by for claimed_by, _ in claims(catalog).values()} == {"later"}


def test_claims_from_threads_at_once_are_disjoint(postgres_url: str) -> None:
    with Catalog.open(postgres_url) as catalog:
        docs = register(catalog, 200, "pending")
        barrier = threading.Barrier(4)
        taken: dict[str, list[int]] = {}

        def sweep(worker: str) -> None:
            mine: list[int] = []
            barrier.wait()
            while batch := catalog.claim_pending(worker, 7):
                mine += ids(batch)
            taken[worker] = mine

        threads = [threading.Thread(target=sweep, args=(f"w{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        everything = [i for mine in taken.values() for i in mine]
        assert sorted(everything) == docs  # each document claimed exactly once


def test_a_rerun_releases_the_claims_of_sweeps_killed_on_this_host(database_url: str) -> None:
    import os
    import socket
    import subprocess
    import sys

    from gongkai.flows.ingest import release_claims_of_dead_sweeps

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    here = socket.gethostname()
    dead = f"sweep a host {here} pid {gone}"
    live = f"sweep b host {here} pid {os.getpid()}"
    elsewhere = f"sweep c host not-{here} pid {gone}"
    with Catalog.open(database_url) as catalog:
        register(catalog, 6, "rerun")
        taken = {name: ids(catalog.claim_pending(name, 2, timedelta(minutes=5)))
                 for name in (dead, live, elsewhere)}  # fmt: skip
        assert catalog.claimants() == sorted(taken)
        assert release_claims_of_dead_sweeps(catalog) == 2
        assert catalog.claimants() == sorted([live, elsewhere])
        assert ids(catalog.claim_pending("rerun", 6, timedelta(minutes=5))) == taken[dead]


def test_claim_counts_tell_free_documents_from_those_another_sweep_holds(
    database_url: str,
) -> None:
    with Catalog.open(database_url) as catalog:
        register(catalog, 6, "pending")
        assert catalog.claim_counts("a") == (6, 0)
        catalog.claim_pending("a", 2)
        catalog.claim_pending("b", 1)
        # a's own claims are neither free nor another's; an expired claim is free again.
        assert catalog.claim_counts("a") == (3, 1)
        assert catalog.claim_counts("c") == (3, 3)
        catalog.claim_pending("killed", 3, timedelta(0))
        time.sleep(0.01)
        assert catalog.claim_counts("a") == (3, 1)
