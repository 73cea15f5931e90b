"""The watched inbox folder: files dropped into it are handed over to intake, once each.

A file is taken when it is complete: its size and modification time have not changed for
`settle` seconds and (on Linux) no process holds it open. Taking it first renames it into
`DIR/.processing/` (atomic on one file system, so no second watcher or restart takes it again),
then intake stores it (source "inbox"), then it moves to `DIR/.done/`. A file intake refuses
(empty, too large, unsupported) moves to `DIR/.rejected/` with `<name>.error.txt` saying why.
Nothing is deleted. A file left in `.processing/` by a crash is resumed at the next start;
intake is idempotent by sha256, so resuming cannot make a second document.

Files already in the folder at start are taken too. Watchdog's events (created, modified,
closed, moved in) wake the loop early; a periodic rescan catches anything an event missed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from gongkai.config import Settings
from gongkai.entrypoints.files import not_a_document, shown
from gongkai.flows.log_filters import hide_log_lines

log = logging.getLogger("gongkai.watch")

DONE = ".done"
REJECTED = ".rejected"
PROCESSING = ".processing"


class IntakeRefused(Exception):
    """Raised by the intake callable for a file that must go to .rejected (with the reason)."""


@dataclass(frozen=True)
class Taken:
    path: Path  # where the file ended up (.done/ or .rejected/)
    name: str  # the name it had in the inbox
    accepted: bool
    document_id: int | None = None
    state: str | None = None
    duplicate: bool = False
    error: str | None = None


# intake(path_in_processing, original_name) -> (document_id, state, duplicate)
IntakeFn = Callable[[Path, str], tuple[int, str, bool]]


def is_candidate(path: Path) -> bool:
    """Not a lock, temporary, hidden or system file (entrypoints/files.py): those are left
    where they are."""
    return not_a_document(path.name) is None


def open_files_under(folder: Path) -> set[str]:
    """Paths under `folder` that some process we can see holds open (Linux /proc; empty
    where that is unknown). One walk of /proc per scan, not per file."""
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    prefix = os.path.realpath(folder) + os.sep
    found: set[str] = set()
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith(prefix):
                    found.add(target)
        except OSError:  # process gone, or not ours to read
            continue
    return found


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem.N.suffix` if that is taken: nothing is overwritten."""
    candidate = folder / name
    stem, suffix = os.path.splitext(name)
    n = 1
    while candidate.exists():
        candidate = folder / f"{stem}.{n}{suffix}"
        n += 1
    return candidate


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float


@dataclass
class Inbox:
    """The folder and its state; `scan()` takes every complete file once."""

    root: Path
    intake: IntakeFn
    settle: float = 1.0
    check_open: bool = True
    on_taken: Callable[[Taken], None] | None = None
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        for sub in (DONE, REJECTED, PROCESSING):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    @property
    def done(self) -> Path:
        return self.root / DONE

    @property
    def rejected(self) -> Path:
        return self.root / REJECTED

    @property
    def processing(self) -> Path:
        return self.root / PROCESSING

    def resume(self) -> list[Taken]:
        """Finish files left in .processing/ (by a crash, or by an intake that failed on our
        side: catalog or object store unavailable)."""
        taken = []
        with self._lock:
            for path in sorted(self.processing.iterdir()):
                if path.is_file():
                    result = self._hand_over(path, path.name)
                    if result is not None:
                        taken.append(result)
        return taken

    def stuck(self) -> int:
        """Files waiting in .processing/ for a retry."""
        return sum(1 for p in self.processing.iterdir() if p.is_file())

    def _settled(self, path: Path, now: float) -> bool:
        """Unchanged size and mtime for `settle` seconds."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._seen.pop(path.name, None)
            return False
        seen = self._seen.get(path.name)
        if seen is None or seen.size != stat.st_size or seen.mtime_ns != stat.st_mtime_ns:
            self._seen[path.name] = _Seen(stat.st_size, stat.st_mtime_ns, now)
            return False
        return now - seen.since >= self.settle

    def scan(self, now: float | None = None) -> list[Taken]:
        """One pass: take every file in the inbox that has been complete for `settle` s."""
        now = time.monotonic() if now is None else now
        taken: list[Taken] = []
        with self._lock:
            present = set()
            held_open: set[str] | None = None
            for path in sorted(self.root.iterdir()):
                if not path.is_file() or not is_candidate(path):
                    continue
                present.add(path.name)
                if not self._settled(path, now):
                    continue
                if self.check_open:
                    if held_open is None:
                        held_open = open_files_under(self.root)
                    if os.path.realpath(path) in held_open:
                        continue  # a writer still has it open: not complete yet
                self._seen.pop(path.name, None)
                claimed = self._claim(path)
                if claimed is not None:
                    result = self._hand_over(claimed, path.name)
                    if result is not None:
                        taken.append(result)
            for name in list(self._seen):
                if name not in present:
                    del self._seen[name]
        return taken

    def pending(self) -> int:
        return sum(1 for p in self.root.iterdir() if p.is_file() and is_candidate(p))

    def _claim(self, path: Path) -> Path | None:
        target = _free_name(self.processing, path.name)
        try:
            os.rename(path, target)  # atomic: whoever renames first owns the file
        except FileNotFoundError:
            return None
        return target

    def _hand_over(self, path: Path, name: str) -> Taken | None:
        try:
            document_id, state, duplicate = self.intake(path, name)
        except IntakeRefused as exc:
            return self._reject(path, name, str(exc))
        except Exception as exc:
            # A failure on our side (catalog, object store) is not the file's fault: it stays
            # in .processing/ and is retried (watch() retries it periodically, and at start).
            log.error("intake of %s failed, kept in %s for a retry: %s: %s",
                      name, self.processing, type(exc).__name__, exc)  # fmt: skip
            return None
        final = _free_name(self.done, name)
        os.rename(path, final)
        result = Taken(final, name, True, document_id, state, duplicate)
        self._report(result)
        return result

    def _reject(self, path: Path, name: str, reason: str) -> Taken:
        final = _free_name(self.rejected, name)
        os.rename(path, final)
        note = final.with_name(final.name + ".error.txt")
        note.write_text(f"{name}: not accepted\n{reason}\n", encoding="utf-8")
        result = Taken(final, name, False, error=reason)
        self._report(result)
        return result

    def _report(self, taken: Taken) -> None:
        if taken.accepted:
            log.info("took %s -> document %s (%s%s)", shown(taken.name), taken.document_id,
                     taken.state, ", already known" if taken.duplicate else "")
        else:
            log.warning("rejected %s: %s", shown(taken.name), taken.error)
        if self.on_taken is not None:
            self.on_taken(taken)


def _quiet_observer_stop() -> None:
    """watchdog 7 logs an ERROR, "InotifyEmitter.queue_events() called when the thread is
    inactive", when a file event arrives while its observer stops (watchdog PR #963: the event
    is dropped, nothing else happens). Ours only wake the scan early, so nothing is lost; the
    line would make every `gongkai watch --once` that took a file look failed."""
    hide_log_lines(("watchdog.observers.inotify",),
                   "InotifyEmitter.queue_events() called when the thread is inactive")


class _Wake(FileSystemEventHandler):
    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._event.set()


def watch(
    inbox: Inbox,
    *,
    stop: threading.Event,
    poll: float = 0.5,
    after_batch: Callable[[list[Taken]], None] | None = None,
    once: bool = False,
    retry_every: float = 30.0,
) -> list[Taken]:
    """Take files until `stop` is set (or, with `once`, until the inbox is empty).

    `after_batch` gets every non-empty batch of taken files (e.g. to run ingest in-process).
    Files whose intake failed on our side are retried every `retry_every` seconds.
    Returns everything taken.
    """
    everything: list[Taken] = list(inbox.resume())
    if everything and after_batch is not None:
        after_batch(everything)
    last_retry = time.monotonic()
    wake = threading.Event()
    _quiet_observer_stop()
    observer = Observer()
    observer.schedule(_Wake(wake), str(inbox.root), recursive=False)
    observer.start()
    try:
        while not stop.is_set():
            batch = inbox.scan()
            if time.monotonic() - last_retry >= retry_every:
                last_retry = time.monotonic()
                batch += inbox.resume()
            if batch:
                everything.extend(batch)
                if after_batch is not None:
                    after_batch(batch)
            if once and inbox.pending() == 0:
                break
            # Woken early by a file event; the timeout doubles as the settle check's clock.
            wake.wait(timeout=poll)
            wake.clear()
    finally:
        observer.stop()
        observer.join(timeout=10)
    return everything


def accepted_ids(taken: Iterable[Taken]) -> list[int]:
    return sorted({t.document_id for t in taken if t.accepted and t.document_id is not None})


def run_watch(
    folder: Path,
    *,
    settings: Settings,
    stop: threading.Event,
    settle: float = 1.0,
    run_flows: bool = False,
    once: bool = False,
    report: Callable[[dict[str, object]], None] | None = None,
) -> dict[str, int]:
    """`gongkai watch`: the inbox wired to intake (source "inbox").

    With `run_flows`, each batch of new documents goes through the ingest flow (and so publish)
    in this process, in a Prefect session of its own (gongkai.flows.runtime); otherwise the
    events announce them and a `gongkai serve` acts.
    """
    from gongkai.entrypoints.service_support import relaying, run_lifecycle
    from gongkai.flows import runtime
    from gongkai.flows.service import Context, IntakeRejected, intake

    counts = {"taken": 0, "rejected": 0, "ingested": 0, "failed": 0}

    def take(path: Path, name: str) -> tuple[int, str, bool]:
        try:
            result = intake(ctx, path.read_bytes(), name, source="inbox", actor="inbox")
        except IntakeRejected as exc:
            raise IntakeRefused(exc.message) from exc
        return result.record.id, result.record.state, not result.new

    def on_taken(taken: Taken) -> None:
        counts["taken" if taken.accepted else "rejected"] += 1
        if report is not None:
            report({"name": shown(taken.name), "accepted": taken.accepted,
                    "id": taken.document_id, "state": taken.state, "duplicate": taken.duplicate,
                    "path": shown(taken.path), "error": taken.error})  # fmt: skip

    def after_batch(batch: list[Taken]) -> None:
        ids = accepted_ids(t for t in batch if not t.duplicate)
        if run_flows and ids:
            with runtime.one_shot_runs(mode):
                run_lifecycle(settings)
            counts["ingested"] += len(ids)

    mode = runtime.PrefectMode(local=False, api_url=None, prefect_home=None)
    with contextlib.ExitStack() as stack:
        if run_flows:
            mode = stack.enter_context(runtime.prefect_session(settings, purpose="batch"))
        # The audit rows relayed as events where a Prefect API listens (not a batch server).
        stack.enter_context(relaying(settings))
        ctx = stack.enter_context(Context.open(settings))
        inbox = Inbox(Path(folder), take, settle=settle, on_taken=on_taken)
        watch(inbox, stop=stop, after_batch=after_batch, once=once)
        # Files whose intake failed on our side wait in .processing/ for the next start.
        counts["failed"] = inbox.stuck()
    return counts
