"""Prefect for the embedded default: configured before Prefect is imported, a quiet local server.

Import this module, call `configure()` and only then import anything of Prefect (Prefect reads
its settings from the environment when it is first imported).

- PREFECT_API_URL set by the user: that server is used as it is; only console logging is tuned.
- Otherwise ("local mode"): Prefect's state lives under GONGKAI_HOME (PREFECT_HOME =
  $GONGKAI_HOME/prefect). Prefect's own local mode starts a temporary server whose log shares
  our stderr and whose background services write to SQLite concurrently (telemetry heartbeat,
  trigger evaluation: "database is locked" tracebacks, PrefectHQ/prefect #18934, #15170,
  #19771; a CancelledError traceback when it is terminated while flushing). Instead,
  `LocalPrefectServer` starts the same server (uvicorn, prefect.server.api.server:create_app)
  on a free port, with analytics off, only the services the purpose needs, and its output in
  $PREFECT_HOME/server.log. A fresh database is copied from a migrated template cached per
  Prefect version (flows/prefect_server.py), so a new GONGKAI_HOME does not pay Prefect's
  migrations again. It starts in the background, overlapping with intake, and it is stopped
  with SIGTERM and a grace period at the end.
- A long-running local server (`purpose="service"`, F2's `gongkai serve`) writes its address
  to $PREFECT_HOME/server.json; later commands on the same GONGKAI_HOME (`gongkai submit`)
  find it there and send their events to it, so its deployment triggers see them.

    configure(settings=None, *, console_level="WARNING") -> PrefectMode
    LocalPrefectServer(settings, purpose="batch"|"service").start() / wait_ready() / stop()
    prefect_session(settings=None, *, purpose="batch") -> context manager yielding PrefectMode
    one_shot_runs(mode)                            # no heartbeats against a batch server
    use_context(ctx, *, pool=None, progress=None)  # flows in this process use ctx
    flow_context() / flow_workers(n) / report_progress(stage, done)   # used by the flows
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from gongkai.config import Settings, load_settings
from gongkai.flows.log_filters import hide_log_lines

if TYPE_CHECKING:
    from prefect import Flow

    from gongkai.flows.events import Emitted
    from gongkai.flows.service import Context, WorkerPool

Purpose = Literal["batch", "service"]
FlowT = TypeVar("FlowT", bound="Flow[Any, Any]")
STARTUP_TIMEOUT_S = float(os.environ.get("GONGKAI_PREFECT_STARTUP_TIMEOUT", "180"))

# Background services of the Prefect server that a one-shot batch run does not use. The
# task-run recorder, event persister and log/event distributors stay on (the UI shows the
# runs, their task runs, events and logs); triggers and actions stay on for services only.
_BATCH_SERVICES_OFF = (
    "SCHEDULER", "LATE_RUNS", "PAUSE_EXPIRATIONS", "FOREMAN", "CANCELLATION_CLEANUP",
    "REPOSSESSOR", "EVENT_LOGGER", "TRIGGERS", "ACTIONS", "CLEANUP_RECONCILER",
)  # fmt: skip
_SERVICE_SERVICES_OFF = ("LATE_RUNS", "PAUSE_EXPIRATIONS", "FOREMAN", "EVENT_LOGGER")


class PrefectUnavailable(RuntimeError):
    """The local Prefect server did not come up (its log is named in the message)."""


@dataclass(frozen=True)
class PrefectMode:
    local: bool  # True: a server under GONGKAI_HOME; False: the user's PREFECT_API_URL
    api_url: str | None
    prefect_home: Path | None
    server: LocalPrefectServer | None = None
    # Events the session sends last, once everything before them is delivered (a batch's
    # `gongkai.ingest.completed`). Added by the caller; sent only if Prefect was used.
    closing: list[Emitted] = field(default_factory=list)


def prefect_home(settings: Settings) -> Path:
    return settings.home / "prefect"


def _prefect_imported() -> bool:
    return "prefect" in sys.modules


def _common_env(console_level: str) -> dict[str, str]:
    return {
        # Prefect's console handler only: INFO still reaches the API (the UI shows it).
        "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": console_level,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The first run of a flow in a fresh home would otherwise print a banner about it.
        "PREFECT_CLI_PROMPT": "false",
    }


def quiet_drain_progress() -> None:
    """Prefect's queue services (its events and API-log workers) warn "Still processing items:
    N items remaining..." every few seconds while they drain at the end of a process. gongkai
    drains them on purpose before a command returns; to the person at the terminal the
    warning reads like trouble, so it is not shown."""
    hide_log_lines(("EventsWorker", "APILogWorker"), "Still processing items")


def configure(settings: Settings | None = None, *, console_level: str = "WARNING") -> PrefectMode:
    """Set Prefect's environment for this process. Call before Prefect is imported; if it was
    imported already, the settings that need a restart are left as they are (tests use an
    explicit PREFECT_API_URL)."""
    settings = settings or load_settings()
    quiet_drain_progress()
    env = _common_env(console_level)
    if os.environ.get("PREFECT_API_URL"):
        for key, value in env.items():
            os.environ.setdefault(key, value)
        return PrefectMode(False, os.environ["PREFECT_API_URL"], None)
    home = prefect_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    env["PREFECT_HOME"] = str(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    if not _prefect_imported():
        os.environ.update(env)
    running = running_service_url(settings)
    if running and not _prefect_imported():
        os.environ["PREFECT_API_URL"] = running
    return PrefectMode(True, running, home)


def running_service_url(settings: Settings) -> str | None:
    """The API URL of a live `service` server for this GONGKAI_HOME, if there is one."""
    state = prefect_home(settings) / "server.json"
    try:
        info = json.loads(state.read_text())
        pid, url = int(info["pid"]), str(info["api_url"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _healthy(url) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url + "/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, TimeoutError, ValueError):
        return False


class LocalPrefectServer:
    """Prefect's API server for one GONGKAI_HOME, run as a quiet child process."""

    def __init__(self, settings: Settings, *, purpose: Purpose = "batch") -> None:
        self.settings = settings
        self.purpose = purpose
        self.home = prefect_home(settings)
        self.log_path = self.home / "server.log"
        self.state_path = self.home / "server.json"
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._starting = threading.Lock()  # start() may be called from two threads at once

    @property
    def api_url(self) -> str:
        if self.port is None:
            # The address is settled before the process starts: PREFECT_API_URL must be set
            # before Prefect is first imported, and the server may start later (start=False).
            self.port = _free_port()
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def started(self) -> bool:
        return self.process is not None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(_common_env("WARNING"))
        env.update({
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home}/prefect.db",
            "PREFECT_UI_ENABLED": "true" if self.purpose == "service" else "false",
            "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
            # Errors the client retries on (a 503 for "database is locked") are logged too:
            # each costs the client a back-off of seconds, and server.log should say so.
            "PREFECT_API_LOG_RETRYABLE_ERRORS": "true",
            # Events are written in bigger batches, and the last partial batch soon, so that
            # settle() below sees every event stored quickly.
            "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_BATCH_SIZE": "200",
            "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.1",
        })  # fmt: skip
        if self.purpose == "batch":
            # Registering Prefect's block types costs a fresh database about a second of CPU
            # at every start (the memo that skips it is per database). A one-shot batch run
            # uses no blocks and serves no UI; a `service` server registers them for the UI.
            env["PREFECT_API_BLOCKS_REGISTER_ON_START"] = "false"
        off = _BATCH_SERVICES_OFF if self.purpose == "batch" else _SERVICE_SERVICES_OFF
        for service in off:
            env[f"PREFECT_SERVER_SERVICES_{service}_ENABLED"] = "false"
        return env

    def start(self) -> None:
        """Start the server process and return at once (wait_ready() waits for it)."""
        with self._starting:
            if self.process is None:
                self._start()

    def _start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            self.port = _free_port()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                # The same uvicorn app as `prefect server start`; a fresh database is first
                # copied from a migrated template (flows/prefect_server.py).
                [sys.executable, "-m", "gongkai.flows.prefect_server",
                 "--db", str(self.home / "prefect.db"), "--port", str(self.port),
                 "--parent", str(os.getpid())],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._env(), cwd=self.home, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        if self.process is None:
            self.start()
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not _healthy(self.api_url):
            if self.process.poll() is not None:
                raise PrefectUnavailable(
                    f"the local Prefect server exited with code {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise PrefectUnavailable(
                    f"the local Prefect server was not ready after {timeout:.0f} s; "
                    f"see {self.log_path}"
                )
            time.sleep(0.1)
        if self.purpose == "service":
            self.state_path.write_text(
                json.dumps({"pid": self.process.pid, "api_url": self.api_url})
            )

    def stored_events(
        self, prefix: str | None = None, since: datetime | None = None
    ) -> int | None:
        """How many events the server has stored, all or those whose name starts with
        `prefix` and that occurred `since` then (None if it cannot tell)."""
        start = since.isoformat() if since is not None else "2000-01-01T00:00:00+00:00"
        event_filter: dict[str, Any] = {"occurred": {"since": start}}
        if prefix is not None:
            event_filter["event"] = {"prefix": [prefix]}
        body = json.dumps({"filter": event_filter, "limit": 1}).encode()
        request = urllib.request.Request(
            self.api_url + "/events/filter", data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(json.loads(response.read())["total"])
        except (urllib.error.URLError, OSError, TimeoutError, ValueError, KeyError):
            return None

    def settle(self, sent: int = 0, since: datetime | None = None, *, timeout: float = 60,
               quiet_s: float = 0.5, last_is_ours: bool = False) -> None:  # fmt: skip
        """Wait until the server has stored the events it received: they pass through an
        in-memory queue, and a server stopped too early loses what is still in it.

        `sent`: how many gongkai events this process sent to it from `since` on. Once that
        many of them are stored, everything sent before them is too (one stream, persisted
        in order). `last_is_ours`: the last event sent was one of them, after everything
        else (Prefect's task-run events, and the flow-run states the server published while
        answering requests that have returned): then nothing is left to wait for. Otherwise
        what came after the last gongkai event is written within one flush interval (set
        above), so one quiet interval suffices. Without `sent`, the count must hold still for
        `quiet_s`."""
        if self.process is None or self.process.poll() is not None:
            return
        deadline = time.monotonic() + timeout
        if sent > 0 and since is not None:
            while time.monotonic() < deadline:
                stored = self.stored_events(prefix="gongkai.", since=since)
                if stored is None:
                    return
                if stored >= sent:
                    if last_is_ours:
                        return
                    quiet_s = 0.3
                    break
                time.sleep(0.05)
        last, since = self.stored_events(), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            count = self.stored_events()
            if count is None:
                return
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return

    def stop(self, grace_s: float = 15) -> None:
        process, self.process = self.process, None
        if self.purpose == "service":
            with contextlib.suppress(OSError):
                self.state_path.unlink()
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def prefect_session(
    settings: Settings | None = None,
    *,
    purpose: Purpose = "batch",
    console_level: str = "WARNING",
    wait: bool = True,
    start: bool = True,
) -> Iterator[PrefectMode]:
    """Configure Prefect and, in local mode without a running service, run a local server for
    the duration. With wait=False the caller calls `mode.server.wait_ready()` itself before
    the first flow run (so that work without Prefect overlaps the server's start). With
    start=False the server's address is settled but its process is started only by
    `mode.server.start()` (or wait_ready()): a run that turns out to need no Prefect (nothing
    new to ingest) never pays for it. Whatever was started is drained, settled and stopped."""
    settings = settings or load_settings()
    mode = configure(settings, console_level=console_level)
    if not mode.local or mode.api_url:
        yield mode
        if _prefect_imported():
            # Delivered before the command returns (`gongkai serve`'s server, or the user's),
            # rather than by Prefect's own drain at exit.
            if mode.closing:
                _queue_closing(mode.closing)
            _drain_events()
        return
    if _prefect_imported():
        raise RuntimeError(
            "Prefect was imported before gongkai.flows.runtime.configure(): set PREFECT_API_URL "
            "or configure the runtime first"
        )
    server = LocalPrefectServer(settings, purpose=purpose)
    # What this session sends is told apart from earlier runs' events in the same database
    # (and from earlier sessions in this process) for settle().
    session_started, sent_before = datetime.now(UTC) - timedelta(seconds=1), _sent_events()
    if start:
        server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    session = PrefectMode(True, server.api_url, mode.prefect_home, server)
    try:
        if wait:
            server.wait_ready()
        yield session
    finally:
        # A closing event is queued behind everything else on the same connection: once the
        # server has stored it, it has stored all before it, and settle() need not wait for
        # a quiet interval. (Draining first would end that connection; a new one for the
        # closing event would not be ordered after the old one's last messages.)
        closed = bool(session.closing) and server.started and _prefect_imported()
        if closed:
            closed = _queue_closing(session.closing)
        if not closed:
            _drain_events()
        server.settle(_sent_events() - sent_before, session_started, last_is_ours=closed)
        _drain_events()  # what is left of it: nothing, once settled
        server.stop()
        os.environ.pop("PREFECT_API_URL", None)


@contextlib.contextmanager
def one_shot_runs(mode: PrefectMode) -> Iterator[None]:
    """Flow runs started in this block against the command's own batch server send no
    heartbeats. A heartbeat lets a server's automations notice a run whose process died; a
    batch server has no automations and stops with the command. Prefect joins the heartbeat
    thread at the end of every flow run, and that thread sleeps in one-second steps: up to a
    second of idle wait per run (ingest and its publish subflow). Runs against a user's
    server or `gongkai serve` keep their heartbeats."""
    server = mode.server
    if server is None or server.purpose != "batch":
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _sent_events() -> int:
    if "gongkai.flows.events" not in sys.modules:
        return 0
    from gongkai.flows.events import sent_count

    return sent_count()


def _queue_closing(events: list[Emitted]) -> bool:
    """Queue the session's closing events to Prefect's events client, behind everything this
    process queued before them. True if the client took every one of them."""
    from gongkai.flows.events import PrefectEventSink

    before, sink = _sent_events(), PrefectEventSink()
    for e in events:
        e.emit_to(sink)
    return _sent_events() - before == len(events)


def _drain_events() -> None:
    """Deliver the events still queued in this process before the server goes away."""
    if not _prefect_imported():
        return
    with contextlib.suppress(Exception):
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        EventsWorker.drain_all(timeout=30)
        APILogWorker.drain_all(timeout=30)


# --------------------------------------------------------------------------------------------
# flow parameters

_JSON_SCALARS = (type(None), bool, int, float, str)


def _json_native(value: Any) -> bool:
    kind = type(value)  # exact types: an Enum or a str subclass goes to Prefect's encoder
    if kind in _JSON_SCALARS:
        return True
    if kind is list:
        return all(_json_native(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _json_native(v) for k, v in value.items())
    return False


def _json_copy(value: Any) -> Any:
    if type(value) is list:
        return [_json_copy(v) for v in value]
    if type(value) is dict:
        return {k: _json_copy(v) for k, v in value.items()}
    return value


def json_native_parameters(flow: FlowT) -> FlowT:
    """Prefect stores a flow run's parameters through FastAPI's `jsonable_encoder`, importing
    FastAPI for it: 0.3-0.7 s of CPU in a command that otherwise never loads FastAPI. For
    parameters that are JSON already (gongkai's flows take lists of ids, numbers, flags and
    text) the encoder returns a copy of them, which is what this gives without it; anything
    else still goes through Prefect's own `serialize_parameters`."""
    shipped = flow.serialize_parameters

    def serialize_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
        if all(_json_native(v) for v in parameters.values()):
            return {k: _json_copy(v) for k, v in parameters.items()}
        return shipped(parameters)

    flow.serialize_parameters = serialize_parameters  # type: ignore[method-assign]
    return flow


# --------------------------------------------------------------------------------------------
# what a flow run works with: the caller's Context (CLI, tests) or one opened for the run

_current_context: ContextVar[Context | None] = ContextVar("gongkai_context", default=None)
_current_workers: ContextVar[WorkerPool | None] = ContextVar("gongkai_workers", default=None)
_progress: ContextVar[Callable[[str, int], None] | None] = ContextVar(
    "gongkai_progress", default=None
)


@contextlib.contextmanager
def use_context(
    ctx: Context,
    *,
    pool: WorkerPool | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> Iterator[Context]:
    """Run flows in this process against `ctx` (and its pool and progress callback)."""
    tokens = (
        _current_context.set(ctx),
        _current_workers.set(pool),
        _progress.set(progress),
    )
    try:
        yield ctx
    finally:
        _current_context.reset(tokens[0])
        _current_workers.reset(tokens[1])
        _progress.reset(tokens[2])


@contextlib.contextmanager
def flow_context() -> Iterator[Context]:
    """The Context for a flow run: the caller's, or a new one with Prefect events."""
    ctx = _current_context.get()
    if ctx is not None:
        yield ctx
        return
    from gongkai.flows.events import PrefectEventSink
    from gongkai.flows.service import Context as ServiceContext

    with ServiceContext.open(events=PrefectEventSink()) as opened:
        yield opened


@contextlib.contextmanager
def flow_workers(documents: int) -> Iterator[WorkerPool]:
    """The caller's pool, or one for this run: worker processes pay off from a few dozen
    documents on (a worker's start imports the readers, about a second)."""
    given = _current_workers.get()
    if given is not None:
        yield given
        return
    from gongkai.flows.service import WorkerPool as ServiceWorkerPool

    workers = (os.cpu_count() or 1) if documents >= 40 else 1
    with ServiceWorkerPool(workers) as pool:
        yield pool


def report_progress(stage: str, done: int) -> None:
    callback = _progress.get()
    if callback is not None:
        callback(stage, done)


def current_progress() -> Callable[[str, int], None] | None:
    return _progress.get()
