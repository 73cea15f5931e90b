"""Helpers of the fault-injection tests (tests/test_faults_*.py): the real `gongkai` command in a
subprocess, documents to give it, a moto S3 server in a process of its own (so that it can be
paused with SIGSTOP and killed), and what the catalog says afterwards, read directly.

Every fault test ends with `assert_whole`: each document handed over is in the catalog exactly
once, in a final state, with its archival package; each published one has its page and its
entries in the public index; `gongkai verify` finds nothing wrong."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle_docs import make_docx
from sqlalchemy import create_engine, text

# The mix of a day's work: most documents public, the others one of each other route.
PLAN = ("active", "active", "active", "on_request", "withheld", "partial", None, "active")
FINAL_STATES = {"published", "needs_redaction", "on_request", "withheld", "quarantined",
                "exception"}  # fmt: skip


def write_documents(folder: Path, count: int, *, first: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for serial in range(first, first + count):
        security = "机密" if serial % 17 == 0 else None
        data, truth = make_docx(serial, disclosure=PLAN[serial % len(PLAN)], security=security)
        path = folder / truth.filename
        path.write_bytes(data)
        paths.append(path)
    return paths


def gongkai_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `gongkai` command: the test's home, nothing from the shell's
    PREFECT_* or GONGKAI_* (the embedded default unless `extra` says otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env["GONGKAI_HOME"] = str(home)
    env.update(extra)
    return env


def gongkai_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "gongkai.entrypoints.cli", *args]


def run(
    env: Mapping[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(gongkai_command(*args), capture_output=True, text=True,
                          env=dict(env), timeout=timeout)  # fmt: skip


def start(env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(gongkai_command(*args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(env))  # fmt: skip


def wait_for(condition: Callable[[], bool], timeout: float = 120, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition did not come true in time")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def catalog_url(env: Mapping[str, str]) -> str:
    url = env.get("GONGKAI_DATABASE_URL") or f"sqlite:///{env['GONGKAI_HOME']}/catalog.sqlite3"
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


class CatalogProbe:
    """Reads the catalog behind gongkai's back (its own connection, read only)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.engine = create_engine(catalog_url(env))

    def scalar(self, sql: str, **params: Any) -> Any:
        try:
            with self.engine.connect() as connection:
                return connection.execute(text(sql), params).scalar()
        except Exception:  # not created yet, or locked for an instant: no answer
            return None

    def rows(self, sql: str) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql)))

    def events(self, kind: str) -> int:
        return int(self.scalar("SELECT count(*) FROM events WHERE kind = :k", k=kind) or 0)

    def in_state(self, state: str) -> int:
        return int(self.scalar("SELECT count(*) FROM documents WHERE state = :s", s=state) or 0)

    def close(self) -> None:
        self.engine.dispose()


def assert_whole(env: Mapping[str, str], handed_over: int) -> dict[str, int]:
    """Every document handed over is in the catalog once, in a final state, archived; each
    published one has its page and is in the public index; `gongkai verify` agrees."""
    probe = CatalogProbe(env)
    try:
        rows = probe.rows("SELECT id, sha256, state, archive_key FROM documents")
    finally:
        probe.close()
    public = public_store(env)
    published = {r.id for r in rows if r.state == "published"}
    paged = {int(k.split("/")[1].split(".")[0]) for k in public.list_keys("documents/")}
    _report(handed_over=handed_over, lost=max(0, handed_over - len({r.sha256 for r in rows})),
            false_publications=len(paged - published))  # fmt: skip
    assert paged <= published, f"pages of documents not published: {sorted(paged - published)}"
    assert len(rows) == handed_over, f"{len(rows)} documents for {handed_over} files"
    assert len({r.sha256 for r in rows}) == handed_over, "a document is in the catalog twice"
    states: dict[str, int] = {}
    for row in rows:
        assert row.state in FINAL_STATES, f"document {row.id} is left {row.state}"
        assert row.archive_key, f"document {row.id} has no archival package"
        states[row.state] = states.get(row.state, 0) + 1
    for doc_id in published:
        for suffix in ("json", "html"):
            assert public.exists(f"documents/{doc_id}.{suffix}"), f"no page of {doc_id}"
    index = json.loads(public.get_bytes("index.json"))
    assert index["count"] == len(published), "the index does not count the published set"
    listed: set[int] = set()
    for year in index["years"]:
        listed |= {int(e["id"]) for e in json.loads(public.get_bytes(year["json"]))["documents"]}
    assert listed == published, "the yearly lists are not the published set"
    assert public.exists("feed.atom") and public.exists("index.html")
    checked = run(env, "verify")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return states


def _report(**counts: int) -> None:
    """For benchmarks/faults.py: each whole-check's counts, one JSON line per check, in the
    file GONGKAI_FAULTS_REPORT names (nothing when it is unset)."""
    target = os.environ.get("GONGKAI_FAULTS_REPORT")
    if target:
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, **counts}) + "\n")


def public_store(env: Mapping[str, str]) -> Any:
    from gongkai.config import load_settings
    from gongkai.storage.stores import open_stores

    return open_stores(load_settings(env)).public


def assert_told(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """A command that ended on an outage: non-zero, one line of what to do, no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("错误："), result.stderr
    for phrase in phrases:
        assert phrase in last, last


@dataclass
class MotoProcess:
    """moto's S3 server in a process of its own: pause() (SIGSTOP) and resume() (SIGCONT) it
    like a store that hangs, or stop() it like one that is down."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def settings_env(self) -> dict[str, str]:
        return {"GONGKAI_S3_ENDPOINT": self.endpoint, "GONGKAI_S3_ACCESS_KEY": "test",
                "GONGKAI_S3_SECRET_KEY": "test", "GONGKAI_S3_SECURE": "false",
                "GONGKAI_S3_REGION": "us-east-1"}  # fmt: skip

    def start(self) -> None:
        moto = Path(sys.executable).with_name("moto_server")
        self.process = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._listening, timeout=30)

    def _listening(self) -> bool:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.settimeout(0.2)
            sock.connect(("127.0.0.1", self.port))
            return True
        return False

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextlib.contextmanager
def moto_process() -> Iterator[MotoProcess]:
    moto = MotoProcess(free_port())
    moto.start()
    try:
        yield moto
    finally:
        moto.stop()


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (children, their children ...)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie nobody reaped has ended)."""
    return {p for p in pids if (stat := _stat(p)) is not None and stat[0] not in "ZX"}


def temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob(".~gongkai-*")]
