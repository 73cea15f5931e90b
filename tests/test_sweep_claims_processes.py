"""Two `gongkai ingest` processes at once on one PostgreSQL catalog, both finding the same
documents waiting: their sweeps claim disjoint batches (Catalog.claim_pending), so each
document is read and recorded exactly once (one `extracted` audit row each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from lifecycle_docs import make_docx
from sqlalchemy import create_engine, text

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.events import MemoryEventSink
from gongkai.flows.service import Context
from gongkai.storage.catalog import normalize_database_url

pytestmark = pytest.mark.slow

DOCUMENTS = 60


def test_two_sweeps_at_once_share_the_waiting_documents(tmp_path: Path, postgres_url: str):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for serial in range(1, DOCUMENTS + 1):
        data, truth = make_docx(serial, disclosure="on_request")
        (inbox / truth.filename).write_bytes(data)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
    env.update(GONGKAI_HOME=str(tmp_path / "home"), GONGKAI_DATABASE_URL=postgres_url)
    # Taken in, not processed: both sweeps below find all of them waiting.
    with Context.open(load_settings(env), events=MemoryEventSink()) as ctx:
        taken = service.intake_files(ctx, sorted(inbox.iterdir()), source="cli", actor="t")
        assert sum(1 for item in taken if item.result is not None) == DOCUMENTS
    command = [sys.executable, "-m", "gongkai.entrypoints.cli", "ingest", str(inbox),
               "--chunk-size", "5", "--json"]  # fmt: skip
    sweeps = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]  # fmt: skip
    for sweep in sweeps:
        _out, err = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, err
        assert "Traceback" not in err, err
    engine = create_engine(normalize_database_url(postgres_url))
    try:
        with engine.connect() as conn:
            extracted = conn.execute(text(
                "SELECT document_id, count(*) FROM events WHERE kind = 'extracted' "
                "GROUP BY document_id")).all()  # fmt: skip
            waiting = conn.execute(text(
                "SELECT count(*) FROM documents WHERE state = 'received' "
                "OR claimed_by IS NOT NULL")).scalar_one()  # fmt: skip
    finally:
        engine.dispose()
    assert len(extracted) == DOCUMENTS
    assert {count for _, count in extracted} == {1}
    assert waiting == 0  # all routed, no claim left behind
