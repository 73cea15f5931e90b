"""The main job for real: `gongkai ingest` in a subprocess on generated documents, with the
embedded defaults (SQLite catalog, local objects, Prefect's local server under GONGKAI_HOME).

Few and batched: every Prefect start costs seconds."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from lifecycle_docs import make_docx

pytestmark = pytest.mark.slow


def run_gongkai(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # No PREFECT_* from the developer's shell: the embedded default is what is tested.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
    env["GONGKAI_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", *args],
        capture_output=True, text=True, env=env, timeout=timeout,
    )  # fmt: skip


def assert_clean(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "database is locked" not in result.stderr, result.stderr
    assert "ERROR" not in result.stderr, result.stderr


def last_json(result: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gongkai_ingest_end_to_end(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    plan = ["active"] * 12 + ["on_request"] * 3 + ["withheld"] * 3 + ["partial"] * 2 + [None] * 2
    for serial, disclosure in enumerate(plan, 1):
        data, truth = make_docx(serial, disclosure=disclosure)
        folder = inbox / "sub" if serial % 2 else inbox
        (folder / truth.filename).write_bytes(data)
    secret, truth = make_docx(99, disclosure="active", security="机密")
    (inbox / truth.filename).write_bytes(secret)
    (inbox / "sub" / "readme.txt").write_text("not a document", encoding="utf-8")
    # Not documents handed over: Word's lock file beside an open document, a sync tool's
    # hidden folder, and (from the second run on) gongkai's own home inside the folder.
    (inbox / "~$doc-0002.docx").write_bytes(b"\x04Li Si" + b"\x00" * 155)
    (inbox / ".sync").mkdir()
    (inbox / ".sync" / "doc-0002.docx").write_bytes(b"an older copy")
    home = inbox / "gongkai-home"

    first = run_gongkai(home, "ingest", str(inbox), "--json")
    assert_clean(first)
    summary = last_json(first)
    assert summary["left_out"] == {
        str(inbox / ".sync"): "hidden (its name starts with a dot)",
        str(inbox / "~$doc-0002.docx"): "a temporary or lock file",
    }  # fmt: skip
    assert "未收取 2 个不是交来公文的文件或文件夹" in first.stderr
    assert summary["documents"] == len(plan) + 2 and summary["new"] == len(plan) + 2
    assert summary["by_state"] == {
        "published": 12, "on_request": 3, "withheld": 3, "needs_redaction": 2,
        "exception": 3, "quarantined": 1,
    }  # fmt: skip

    assert summary["prefect"] is True and summary["nothing_new"] is False

    # Running it again does nothing new, and does not start Prefect's server for it: the log
    # the server appends to on every start stays as it was, and no event reaches Prefect.
    server_log = home / "prefect" / "server.log"
    log_before = server_log.read_bytes()
    second = run_gongkai(home, "ingest", str(inbox), "--json")
    assert_clean(second)
    again = last_json(second)
    assert again["left_out"][str(home)] == "gongkai's own folder (GONGKAI_HOME)"
    assert again["new"] == 0 and again["duplicates"] == len(plan) + 2
    assert again["processed"] == 0 and again["by_state"] == summary["by_state"]
    assert again["nothing_new"] is True and again["prefect"] is False
    assert server_log.read_bytes() == log_before
    # The resubmissions are still recorded: one audit row each in the catalog.
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        (audited,) = db.execute(
            "SELECT count(*) FROM events WHERE kind = 'duplicate_submission'").fetchone()
    assert audited == len(plan) + 2

    # `gongkai find --json` lists every document with its state and filename.
    found = run_gongkai(home, "find", "--json")
    assert found.returncode == 0, found.stderr
    listed = json.loads(found.stdout) if found.stdout.lstrip().startswith("[") else [
        json.loads(line) for line in found.stdout.splitlines() if line.strip()]
    assert len(listed) == len(plan) + 2
    names = {d["filename"]: d["state"] for d in listed}
    assert names["readme.txt"] == "exception" and names["doc-0099.docx"] == "quarantined"
    assert names["doc-0001.docx"] == "published"

    # The command's own batch server hears no gongkai event (it has no triggers and stops
    # with the command): the catalog's audit rows are the record. It ran the pipeline's
    # flow, the sweep, once: its round and its publication are task runs of it.
    with sqlite3.connect(home / "prefect" / "prefect.db") as db:
        counts = dict(db.execute("SELECT event, count(*) FROM events GROUP BY event").fetchall())
    assert not [name for name in counts if name.startswith("gongkai.")]
    assert counts["prefect.flow-run.Completed"] == 1
    assert counts["prefect.task-run.Completed"] == counts["prefect.task-run.Running"] > 0
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        audited = dict(db.execute("SELECT kind, count(*) FROM events GROUP BY kind").fetchall())
    assert audited["received"] == len(plan) + 2
    # Runs against the command's own batch server send no heartbeats (runtime.one_shot_runs).
    assert "prefect.flow-run.heartbeat" not in counts
    # No request of the run met "database is locked" in the server.
    assert "database is locked" not in server_log.read_text(encoding="utf-8", errors="replace")
    # A review decision, the fixity flow and the status report through the same front door.
    withheld = next(d for d in listed if d["state"] == "withheld")
    decided = run_gongkai(home, "review", "decide", str(withheld["id"]), "release",
                          "--reason", "情况变化，可以公开")  # fmt: skip
    assert_clean(decided)
    assert "published" in decided.stdout
    fixity = run_gongkai(home, "fixity", "--json")
    assert_clean(fixity)
    assert last_json(fixity) == {"checked": len(plan) + 2, "resumed": False, "failed": {}}
    status = run_gongkai(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = last_json(status)
    assert report["by_state"]["published"] == 13 and report["fixity_failures"] == {}

    # `gongkai submit`: intake only (the event-driven path). No `gongkai serve` listens on
    # this home, so no Prefect server is started for it: the audit row is the record.
    log_before = server_log.read_bytes()
    late, truth = make_docx(200, disclosure="active")
    (tmp_path / truth.filename).write_bytes(late)
    submitted = run_gongkai(home, "submit", str(tmp_path / truth.filename), "--json")
    assert_clean(submitted)
    item = last_json(submitted)
    assert item["new"] is True and item["state"] == "received"
    assert server_log.read_bytes() == log_before
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        (count,) = db.execute("SELECT count(*) FROM events WHERE kind = 'received' "
                              "AND document_id = ?", (item["id"],)).fetchone()  # fmt: skip
    assert count == 1

    # The public site exported into the same folder is gongkai's output, not documents: the
    # next ingest of the folder leaves it out (and says so).
    site = inbox / "公开网站"
    reindexed = run_gongkai(home, "public", "reindex")
    assert reindexed.returncode == 0, reindexed.stderr
    assert "共 13 件" in reindexed.stdout
    exported = run_gongkai(home, "public", "export", str(site))
    assert exported.returncode == 0, exported.stderr
    assert (site / "index.html").exists() and (site / "feed.atom").exists()
    assert len(list((site / "documents").glob("*.json"))) == 13
    years = json.loads((site / "index.json").read_text(encoding="utf-8"))["years"]
    assert sum(y["count"] for y in years) == 13
    assert all((site / y["json"]).exists() and (site / y["html"]).exists() for y in years)
    third = run_gongkai(home, "ingest", str(inbox), "--json")
    assert_clean(third)
    assert last_json(third)["new"] == 0 and last_json(third)["nothing_new"] is True
    assert last_json(third)["left_out"][str(site)] == (
        "a public site gongkai exported (gongkai public export)")


def test_ingest_on_two_workers_records_each_document_once(tmp_path: Path) -> None:
    # Several preparation batches' worth of documents (service.PREPARE_BATCH) on two worker
    # processes: each is read, archived and recorded once.
    count = 257
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    cycle = ["active", "on_request", "withheld", "partial", None]
    for serial in range(1, count + 1):
        data, truth = make_docx(serial, disclosure=cycle[serial % len(cycle)])
        (inbox / truth.filename).write_bytes(data)
    home = tmp_path / "home"

    result = run_gongkai(home, "ingest", str(inbox), "--workers", "2", "--json")
    assert_clean(result)
    summary = last_json(result)
    assert summary["new"] == count and summary["processed"] == count
    assert summary["failed"] == {} and "received" not in summary["by_state"]
    with sqlite3.connect(home / "catalog.sqlite3") as db:
        routed = db.execute(
            "SELECT document_id, count(*) FROM events WHERE actor = 'ingest' "
            "AND kind IN ('state', 'routed') GROUP BY document_id").fetchall()
        extracted = db.execute(
            "SELECT count(*), count(DISTINCT document_id) FROM events "
            "WHERE kind = 'extracted'").fetchone()
        packaged = db.execute(
            "SELECT count(*) FROM documents WHERE archive_key IS NOT NULL").fetchone()
    assert len(routed) == count and {n for _doc, n in routed} == {1}
    assert extracted == (count, count)
    assert packaged == (count,)
    manifests = list((home / "objects").rglob("manifest.json"))
    assert len([m for m in manifests if ".gongkai-meta" not in m.parts]) == count


def test_ingest_and_export_speak_chinese_to_the_clerk(tmp_path: Path) -> None:
    # What a clerk reads after the README's main job is Chinese: the headline under the
    # table, the note that nothing is new, what was left out, and the export's line.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "~$草稿.docx").write_bytes(b"\x04Li Si" + b"\x00" * 155)
    home = tmp_path / "home"
    ingested = run_gongkai(home, "ingest", str(inbox))
    assert ingested.returncode == 0, ingested.stderr
    assert "共 0 份文件：新收 0 份，已收过 0 份，用时" in ingested.stdout
    assert "没有新文件" in ingested.stderr
    assert "未收取 1 个不是交来公文的文件或文件夹" in ingested.stderr
    assert "documents:" not in ingested.stdout and "nothing new" not in ingested.stderr
    exported = run_gongkai(home, "public", "export", str(tmp_path / "site"))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("已将 ") and "files written" not in exported.stdout
