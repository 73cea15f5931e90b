"""The watched inbox: files are taken once, when complete, moved to .done/ or .rejected/, and
nothing is lost (every name dropped is accounted for, every accepted file is a document)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_docs import make_docx
from service_run import outbox

from gongkai.config import load_settings
from gongkai.entrypoints import watch as watch_module
from gongkai.entrypoints.watch import DONE, PROCESSING, REJECTED, Inbox, IntakeRefused, watch
from gongkai.flows import service
from gongkai.storage.catalog import FindQuery

LIMIT = 200_000
WAIT_S = 60


@pytest.fixture
def ctx(gongkai_env, monkeypatch) -> Iterator[service.Context]:
    monkeypatch.setenv("GONGKAI_MAX_FILE_BYTES", str(LIMIT))
    with service.Context.open(load_settings()) as opened:
        yield opened


def _intake_for(ctx: service.Context):  # type: ignore[no-untyped-def]
    def take(path: Path, name: str) -> tuple[int, str, bool]:
        try:
            result = service.intake(ctx, path.read_bytes(), name, source="inbox", actor="inbox")
        except service.IntakeRejected as exc:
            raise IntakeRefused(exc.message) from exc
        return result.record.id, result.record.state, not result.new

    return take


class Watcher:
    """watch() in a thread, stopped at the end of the test."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.stop = threading.Event()
        self.taken: list = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            self.taken = watch(self.inbox, stop=self.stop, poll=0.2)
        except BaseException as exc:  # surfaced in the test thread
            self.error = exc

    def __enter__(self) -> Watcher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the watcher did not stop"
        if self.error is not None:
            raise self.error


def _wait_for(predicate, what: str, timeout: float = WAIT_S) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.exists() else []


def test_files_are_taken_once_when_complete(ctx, tmp_path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    early = make_docx(serial=1)
    (root / "early.docx").write_bytes(early)  # present before the watcher starts
    (root / ".hidden.docx").write_bytes(make_docx(serial=2))  # someone's temporary file
    (root / "upload.docx.part").write_bytes(b"partial")
    inbox = Inbox(root, _intake_for(ctx), settle=0.6)

    slow = make_docx(serial=3)  # written in pieces below, the file held open
    step = max(1, len(slow) // 8)
    pieces = [slow[i : i + step] for i in range(0, len(slow), step)]
    with Watcher(inbox) as watcher:
        _wait_for(lambda: _files(root / DONE) == ["early.docx"], "the file present at start")
        with (root / "slow.docx").open("wb") as handle:
            for piece in pieces:
                handle.write(piece)
                handle.flush()
                time.sleep(0.25)
            # Held open a while longer than `settle` with a stable size: still not taken.
            time.sleep(1.0)
            assert "slow.docx" in _files(root), "taken while a writer still had it open"
        (root / "junk.bin").write_bytes(b"\x00\x01 not a document")
        (root / "toolarge.pdf").write_bytes(b"%PDF-" + b"0" * LIMIT)
        _wait_for(lambda: len(_files(root / DONE)) == 3 and _files(root / REJECTED),
                  "slow.docx, junk.bin and toolarge.pdf")  # fmt: skip
        time.sleep(1.0)  # a second look must not take anything again
    assert watcher.error is None

    assert _files(root / DONE) == ["early.docx", "junk.bin", "slow.docx"]
    assert _files(root / REJECTED) == ["toolarge.pdf", "toolarge.pdf.error.txt"]
    reason = (root / REJECTED / "toolarge.pdf.error.txt").read_text(encoding="utf-8")
    assert "limit" in reason
    assert _files(root / PROCESSING) == []
    # Temporary files are left alone, where they were.
    assert _files(root) == [".hidden.docx", "upload.docx.part"]
    # Each accepted file is exactly one document, complete, taken once.
    assert sorted(t.name for t in watcher.taken if t.accepted) == ["early.docx", "junk.bin",
                                                                   "slow.docx"]  # fmt: skip
    records = {r.filename: r for r in ctx.catalog.find(FindQuery())}
    assert set(records) == {"early.docx", "slow.docx", "junk.bin"}
    assert records["slow.docx"].sha256 == hashlib.sha256(slow).hexdigest()
    assert records["early.docx"].source == "inbox"
    assert (root / DONE / "slow.docx").read_bytes() == slow
    assert outbox(ctx).names().count("gongkai.document.received") == 3


def test_same_bytes_twice_is_one_document_and_names_never_clash(ctx, tmp_path) -> None:
    root = tmp_path / "inbox"
    root.mkdir()
    data = make_docx(serial=7)
    inbox = Inbox(root, _intake_for(ctx), settle=0.2, check_open=False)
    (root / "a.docx").write_bytes(data)
    (root / "b.docx").write_bytes(data)
    stop = threading.Event()
    taken = watch(inbox, stop=stop, once=True, poll=0.1)
    assert [(t.name, t.duplicate) for t in taken] == [("a.docx", False), ("b.docx", True)]
    assert taken[0].document_id == taken[1].document_id
    # The same name again later: the earlier copy in .done/ is not overwritten.
    (root / "a.docx").write_bytes(make_docx(serial=8))
    again = watch(inbox, stop=stop, once=True, poll=0.1)
    assert [t.name for t in again] == ["a.docx"]
    assert _files(root / DONE) == ["a.1.docx", "a.docx", "b.docx"]
    assert (root / DONE / "a.docx").read_bytes() == data
    assert len(ctx.catalog.find(FindQuery())) == 2


def test_a_file_left_in_processing_is_resumed_not_duplicated(ctx, tmp_path) -> None:
    root = tmp_path / "inbox"
    inbox = Inbox(root, _intake_for(ctx), settle=0.2, check_open=False)
    data = make_docx(serial=9)
    # A crash after intake but before the move: the file sits in .processing/.
    service.intake(ctx, data, "crashed.docx", source="inbox", actor="inbox")
    (root / PROCESSING / "crashed.docx").write_bytes(data)
    taken = watch(inbox, stop=threading.Event(), once=True, poll=0.1)
    assert [(t.name, t.accepted, t.duplicate) for t in taken] == [("crashed.docx", True, True)]
    assert _files(root / DONE) == ["crashed.docx"] and _files(root / PROCESSING) == []
    assert len(ctx.catalog.find(FindQuery())) == 1


def test_a_failure_on_our_side_keeps_the_file_for_a_retry(ctx, tmp_path) -> None:
    """The object store fails (its folder is replaced by a file): the file is not lost, not
    rejected; it waits in .processing/ and is taken in once the store is back."""
    root = tmp_path / "inbox"
    inbox = Inbox(root, _intake_for(ctx), settle=0.2, check_open=False)
    data = make_docx(serial=10)
    (root / "later.docx").write_bytes(data)
    objects = ctx.settings.objects_root
    moved = objects.with_name("objects.away")
    objects.rename(moved)
    objects.write_bytes(b"not a folder")
    try:
        taken = watch(inbox, stop=threading.Event(), once=True, poll=0.1)
        assert taken == []
        assert _files(root / PROCESSING) == ["later.docx"] and inbox.stuck() == 1
        assert _files(root / REJECTED) == [] and _files(root / DONE) == []
    finally:
        objects.unlink()
        moved.rename(objects)
    retried = watch(inbox, stop=threading.Event(), once=True, poll=0.1)
    assert [(t.name, t.accepted, t.duplicate) for t in retried] == [("later.docx", True, False)]
    assert (root / DONE / "later.docx").read_bytes() == data and inbox.stuck() == 0
    assert ctx.catalog.get(retried[0].document_id).sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.slow
def test_cli_watch_process_runs_the_flows(tmp_path) -> None:
    """`gongkai watch DIR --once --process --json` on the embedded default: the documents are
    ingested and published in the same process, through the real Prefect flows."""
    home = tmp_path / "home"
    inbox = tmp_path / "drop"
    inbox.mkdir()
    (inbox / "active.docx").write_bytes(make_docx(serial=61, disclosure="active"))
    (inbox / "withheld.docx").write_bytes(make_docx(serial=62, disclosure="withheld"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
    env["GONGKAI_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "watch", str(inbox), "--once",
         "--process", "--json", "--settle", "0.3"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    summary = lines[-1]["summary"]
    assert summary == {"taken": 2, "rejected": 0, "ingested": 2, "failed": 0}
    assert _files(inbox / DONE) == ["active.docx", "withheld.docx"]
    found = subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "find", "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr[-3000:]
    states = {json.loads(line)["filename"]: json.loads(line)["state"]
              for line in found.stdout.splitlines() if line.startswith("{")}  # fmt: skip
    assert states == {"active.docx": "published", "withheld.docx": "withheld"}


def test_watchdogs_error_for_an_event_during_its_stop_is_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # watchdog 7 logs it when a file event arrives while the observer stops (the files the
    # watch just moved away): harmless to us, alarming in a clerk's terminal.
    watch_module._quiet_observer_stop()
    watch_module._quiet_observer_stop()  # installed once
    logger = logging.getLogger("watchdog.observers.inotify")
    assert len(logger.filters) == 1
    with caplog.at_level(logging.ERROR, logger=logger.name):
        logger.error("InotifyEmitter.queue_events() called when the thread is inactive")
        logger.error("a real watchdog error")
    assert [r.getMessage() for r in caplog.records] == ["a real watchdog error"]
