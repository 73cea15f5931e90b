"""The local Prefect runtime's settings for one-shot runs (flows/runtime.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gongkai.config import load_settings
from gongkai.flows import runtime


@pytest.mark.parametrize(
    ("purpose", "heartbeats"), [("batch", False), ("service", True), (None, True)]
)
def test_one_shot_runs_send_heartbeats_only_where_a_server_outlives_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, purpose: str | None, heartbeats: bool
) -> None:
    from prefect.settings import get_current_settings

    monkeypatch.setenv("GONGKAI_HOME", str(tmp_path))
    server = (runtime.LocalPrefectServer(load_settings(), purpose=purpose)  # type: ignore[arg-type]
              if purpose else None)  # fmt: skip
    mode = runtime.PrefectMode(local=server is not None, api_url=None, prefect_home=None,
                               server=server)  # fmt: skip
    before = get_current_settings().flows.heartbeat_frequency
    assert before is not None  # Prefect's default: heartbeats on
    with runtime.one_shot_runs(mode):
        inside = get_current_settings().flows.heartbeat_frequency
    assert (inside is not None) is heartbeats
    assert get_current_settings().flows.heartbeat_frequency == before


PARENT = """
import os, sys, time
os.environ["GONGKAI_HOME"] = sys.argv[1]
from gongkai.config import load_settings
from gongkai.flows.runtime import LocalPrefectServer
server = LocalPrefectServer(load_settings())
server.start()
server.wait_ready()
print(server.process.pid, flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child of init lingers until it is reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_local_server_stops_when_the_command_that_started_it_is_killed(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "home")],
                              stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        assert _running(server_pid)
        parent.kill()  # SIGKILL: no cleanup of its own runs
        parent.wait(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _running(server_pid):
            time.sleep(0.2)
        if _running(server_pid):
            os.kill(server_pid, signal.SIGKILL)
            raise AssertionError("the server outlived the command that started it")
    finally:
        if parent.poll() is None:
            parent.kill()
    log = (tmp_path / "home" / "prefect" / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


EMIT_AND_DIE = """
import os, sys
os.environ["GONGKAI_HOME"] = sys.argv[1]
from gongkai.config import load_settings
from gongkai.flows import runtime
runtime.configure()
server = runtime.LocalPrefectServer(load_settings())
server.start()
os.environ["PREFECT_API_URL"] = server.api_url
server.wait_ready()
from gongkai.flows.events import PrefectEventSink
sink = PrefectEventSink()
for n in range(int(sys.argv[2])):
    sink.emit("gongkai.document.received", resource_id=f"gongkai.document.{n}",
              payload={"n": n})
sink.flush()
print(server.process.pid, flush=True)
os._exit(0)  # as uvicorn ends the HTTP API on SIGTERM: no exit handler runs
"""


def test_flushed_events_are_delivered_even_if_the_process_then_dies_at_once(
    tmp_path: Path,
) -> None:
    import os
    import sqlite3
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    home = tmp_path / "home"
    result = subprocess.run([sys.executable, "-c", EMIT_AND_DIE, str(home), "50"],
                            capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    server_pid = int(result.stdout.split()[0])
    deadline = time.monotonic() + 60  # the server stops itself once its parent is gone
    while _running(server_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(server_pid)
    with sqlite3.connect(home / "prefect" / "prefect.db") as db:
        stored = db.execute("SELECT count(*) FROM events WHERE event = "
                            "'gongkai.document.received'").fetchone()[0]  # fmt: skip
    # Without the flush, none of the 50 arrived: the process was gone before Prefect's
    # events client had connected (measured when the flush was added).
    assert stored == 50


def test_the_drain_progress_warning_of_prefects_queue_services_is_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Printed at exit by a command whose events went to `gongkai serve`'s server: "Still
    # processing items: 1 items remaining..." reads like trouble to a clerk.
    runtime.quiet_drain_progress()
    runtime.quiet_drain_progress()  # once is enough, twice does not add a second filter
    for name in ("EventsWorker", "APILogWorker"):
        logger = logging.getLogger(name)
        assert len(logger.filters) == 1
        with caplog.at_level(logging.WARNING, logger=name):
            caplog.clear()
            logger.warning("Still processing items: 1 items remaining...")
            logger.warning("Service %r failed to process item", "x")
        assert [r.getMessage() for r in caplog.records] == ["Service 'x' failed to process item"]
