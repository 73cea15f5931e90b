"""A REAL Prefect server for the service tests, started once per test session.

`prefect server start` runs as a subprocess in its own process group, with its own PREFECT_HOME
and SQLite database in a temporary folder, on a free port. The fixture waits for /api/health
(generously: a 2-core machine shared with other work can take half a minute to import and
migrate), shows the server's log if it does not come up, and kills the whole process group at
the end of the session.

GONGKAI_TEST_PREFECT_API_URL points the tests at an already running server instead.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_TIMEOUT_S = float(os.environ.get("GONGKAI_TEST_PREFECT_STARTUP_TIMEOUT", "180"))


def wait_for(predicate: Callable[[], object], what: str, timeout: float = 180.0,
             on_timeout: Callable[[], str] = lambda: "") -> object:  # fmt: skip
    """The predicate's first true value, checked every second; the test fails (with
    on_timeout()'s diagnostics) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{on_timeout()}")
        time.sleep(1.0)

# Services the event-driven tests need: triggers (automations), actions, event persister,
# scheduler. Those that only add load on a small machine are switched off.
_SERVER_ENV = {
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_LOGGER_ENABLED": "false",
    "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prefect_executable() -> list[str]:
    return [sys.executable, "-m", "prefect"]


def clean_prefect_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without any PREFECT_* setting inherited from the developer."""
    base = dict(os.environ if env is None else env)
    return {k: v for k, v in base.items() if not k.startswith("PREFECT_")}


def api_json(api_url: str, method: str, path: str, body: object | None = None,
             timeout: float = 30) -> object:
    """One call to the Prefect REST API (stdlib only, so no client state leaks into tests)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        api_url.rstrip("/") + path, data=data, method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(api_url + "/health", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def stop_process_group(process: subprocess.Popen, grace_s: float = 20) -> None:
    """SIGTERM the process group (the server or runner and its children), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        process.wait(timeout=10)


def log_tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


# The start of a client script for PrefectServer.run_script (format it with tests=the tests
# folder): gongkai configured for the server, a catalog context `ctx`, and `take_in(ctx,
# serials)`, which takes in active .docx documents and returns their ids.
SCRIPT_PRELUDE = textwrap.dedent(
    """
    import json, sys, threading, time
    sys.path.insert(0, {tests!r})
    import generator
    from lifecycle_docs import make_docx

    from gongkai.config import load_settings
    from gongkai.flows import ingest, runtime, service

    runtime.configure()

    def take_in(ctx, serials):
        ids = []
        for serial in serials:
            data, truth = make_docx(serial, disclosure="active")
            ids.append(service.intake(ctx, data, truth.filename, source="test",
                                      actor="t").record.id)
        return ids

    ctx = service.Context.open(load_settings())
    """
)

@dataclass(frozen=True)
class PrefectServer:
    api_url: str  # http://127.0.0.1:PORT/api
    home: Path | None  # PREFECT_HOME of the server (None for an external server)
    log: Path | None

    def client_env(self, prefect_home: Path) -> dict[str, str]:
        """Environment for a process that talks to this server (its own PREFECT_HOME)."""
        env = clean_prefect_env()
        env.update({
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        })
        return env

    def run_script(self, script: str, tmp_path: Path, timeout: float = 300) -> dict:
        """Run `script` in a Python process of its own against this server (GONGKAI_HOME
        under `tmp_path`); it must exit 0 without a traceback and print a JSON object as
        its last line, which is returned."""
        env = self.client_env(tmp_path / "prefect-client")
        env["GONGKAI_HOME"] = str(tmp_path / "home")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env=env, timeout=timeout)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    external = os.environ.get("GONGKAI_TEST_PREFECT_API_URL")
    if external:
        api_url = external.rstrip("/")
        if not _healthy(api_url):
            pytest.fail(f"GONGKAI_TEST_PREFECT_API_URL={external} is not healthy")
        yield PrefectServer(api_url=api_url, home=None, log=None)
        return

    root = tmp_path_factory.mktemp("prefect-server")
    home = root / "home"
    home.mkdir()
    log = root / "server.log"
    port = free_port()
    env = clean_prefect_env()
    env.update(_SERVER_ENV)
    env["PREFECT_HOME"] = str(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    api_url = f"http://127.0.0.1:{port}/api"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [*prefect_executable(), "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=root, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(api_url):
            if process.poll() is not None:
                pytest.fail(f"prefect server exited with {process.returncode} before it was "
                            f"healthy; log {log}:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server not healthy after {STARTUP_TIMEOUT_S:.0f} s; "
                            f"log {log}:\n{log_tail(log)}")
            time.sleep(0.5)
        yield PrefectServer(api_url=api_url, home=home, log=log)
    finally:
        stop_process_group(process)


def filter_events(api_url: str, *, resource_id: str | None = None,
                  prefix: str | None = None, catalog: str | None = None,
                  since_s: float = 3600) -> list[dict]:  # fmt: skip
    """Events stored in the server (POST /api/events/filter), every page, oldest first;
    `catalog` (events.catalog_id): only that catalog's, as the session's server holds other
    tests' documents with the same ids."""
    now = time.time()
    window = {
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - since_s)),
        "until": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 60)),
    }
    flt: dict[str, object] = {"occurred": window, "order": "ASC"}
    resource: dict[str, object] = {}
    if resource_id is not None:
        resource["id"] = [resource_id]
    if catalog is not None:
        resource["labels"] = {"gongkai.catalog": catalog}
    if resource:
        flt["resource"] = resource
    if prefix is not None:
        flt["event"] = {"prefix": [prefix]}
    page = api_json(api_url, "POST", "/events/filter", {"filter": flt, "limit": 50})
    assert isinstance(page, dict)
    events: list[dict] = list(page.get("events", []))
    next_page = page.get("next_page")
    while next_page:
        with urllib.request.urlopen(next_page, timeout=30) as response:
            page = json.loads(response.read())
        events.extend(page.get("events", []))
        next_page = page.get("next_page")
    return events
