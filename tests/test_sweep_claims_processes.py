"""Two `gongkai ingest` processes at once on one PostgreSQL catalog, both finding the same
documents waiting: their sweeps claim disjoint batches (Catalog.claim_pending), so each
document is read and recorded exactly once (one `extracted` audit row each). And a sweep
killed holding its claims: after the lease, the next sweep takes its documents."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catalog_steps import query
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.service import Context

pytestmark = pytest.mark.slow

DOCUMENTS = 60


def take_in(inbox: Path, env: dict[str, str]) -> None:
    """Documents taken in, not processed: the sweeps below find all of them waiting."""
    inbox.mkdir()
    for serial in range(1, DOCUMENTS + 1):
        data, truth = make_docx(serial, disclosure="on_request")
        (inbox / truth.filename).write_bytes(data)
    with Context.open(load_settings(env)) as ctx:
        taken = service.intake_files(ctx, sorted(inbox.iterdir()), source="cli", actor="t")
        assert sum(1 for item in taken if item.result is not None) == DOCUMENTS


def gongkai_env(tmp_path: Path, postgres_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
    env.update(GONGKAI_HOME=str(tmp_path / "home"), GONGKAI_DATABASE_URL=postgres_url,
               **settings)  # fmt: skip
    return env


def ingest(inbox: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "ingest", str(inbox),
         "--chunk-size", "5", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group: killed with its Prefect server
    )  # fmt: skip


def finished(sweep: subprocess.Popen[str]) -> None:
    _out, err = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, err
    assert "Traceback" not in err, err



def assert_each_recorded_once(postgres_url: str) -> None:
    extracted = query(postgres_url, "SELECT document_id, count(*) FROM events "
                                    "WHERE kind = 'extracted' GROUP BY document_id")  # fmt: skip
    assert len(extracted) == DOCUMENTS
    assert {count for _, count in extracted} == {1}
    waiting = query(postgres_url, "SELECT count(*) FROM documents WHERE state = 'received' "
                                  "OR claimed_by IS NOT NULL")  # fmt: skip
    assert waiting == [(0,)]  # all routed, no claim left behind


def test_two_sweeps_at_once_share_the_waiting_documents(tmp_path: Path, postgres_url: str):
    # Small claims, so that the two sweeps' rounds interleave over the same waiting documents.
    env = gongkai_env(tmp_path, postgres_url, GONGKAI_SWEEP_BATCH="5")
    take_in(tmp_path / "inbox", env)
    sweeps = [ingest(tmp_path / "inbox", env) for _ in range(2)]
    for sweep in sweeps:
        finished(sweep)
    assert_each_recorded_once(postgres_url)


def test_a_killed_sweeps_claim_expires_and_the_next_takes_its_documents(
    tmp_path: Path, postgres_url: str
) -> None:
    env = gongkai_env(tmp_path, postgres_url, GONGKAI_SWEEP_BATCH=str(DOCUMENTS),
                      GONGKAI_CLAIM_LEASE_S="3")  # fmt: skip
    take_in(tmp_path / "inbox", env)
    killed = ingest(tmp_path / "inbox", env)
    held = "SELECT count(*) FROM documents WHERE claimed_by IS NOT NULL"
    deadline = time.monotonic() + 120
    while query(postgres_url, held) == [(0,)]:
        assert killed.poll() is None and time.monotonic() < deadline, "no claim seen"
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)  # the machine lost: the sweep and its children
    killed.communicate(timeout=60)
    assert query(postgres_url, held) != [(0,)]  # killed holding claims: nothing released them
    time.sleep(3)  # the lease runs out
    finished(ingest(tmp_path / "inbox", env))
    assert_each_recorded_once(postgres_url)
