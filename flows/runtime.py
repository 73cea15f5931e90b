"""Prefect for gongkai: configured before Prefect is imported, used through its settings only.

Import this module, call `configure()` and only then import anything of Prefect (Prefect reads
its settings from the environment when it is first imported).

- PREFECT_API_URL set by the user: that server is used as it is; only console logging is tuned.
- A `gongkai serve` running on this GONGKAI_HOME: its server. serve starts it on a fixed port
  (GONGKAI_PREFECT_PORT, default 4210) and names it in $PREFECT_HOME/server.json, so that every
  command, and an API started before a restart of serve, reaches it at the same address.
- Otherwise a batch server for the command: `prefect server start` as Prefect ships it, on a
  free port, its database and log under $GONGKAI_HOME/prefect (the database migrated once per
  Prefect version, not at every start: flows/prefect_database.py), with the background
  services a one-shot run does not use switched off through Prefect's settings. It starts with
  the command and stops with it (on Linux the kernel stops it too if the command is killed).
  While it starts, the command imports Prefect and starts its worker pool's fork server.

Events go to Prefect only where something listens (a user's server or serve's): the catalog's
audit rows are the events, and the outbox relay (flows/relay.py) sends them where
`prefect_listens()`: serve, the API and the watcher run it in a thread, and a session on such
a server ends with one pass of it. A batch server has no triggers: nothing is sent to it, and
a batch of thousands of documents does not push thousands of events through a server that is
about to stop (the rows are sent later, by the relay of a service started on the catalog).

    configure(settings=None, *, console_level="WARNING") -> PrefectMode
    LocalPrefectServer(settings, purpose="batch"|"service").start() / wait_ready() / stop()
    prefect_session(settings=None, *, purpose="batch", documents=0)  # a context: PrefectMode
    one_shot_runs(mode)                  # no heartbeats against a batch server
    prefect_listens()                    # is a Prefect API there that outlives this command?
    event_sink()                         # where a non-document event goes (ingest.completed)
    use_context(ctx) / flow_context() / flow_workers(n)   # used by the flows
    use_workers(pool)                    # flow runs in this block share the caller's pool
    read_ahead(settings, ids)            # that pool starts reading a claimed batch now
    reads_ahead() -> bool                # whether it does (a parallel pool of use_workers)
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from gongkai.config import Settings, load_settings
from gongkai.flows import prefect_database
from gongkai.flows.log_filters import hide_log_lines

if TYPE_CHECKING:
    from gongkai.flows.events import EventSink
    from gongkai.flows.service import Context, WorkerPool

Purpose = Literal["batch", "service"]
T = TypeVar("T")
STARTUP_TIMEOUT_S = float(os.environ.get("GONGKAI_PREFECT_STARTUP_TIMEOUT", "180"))
DEFAULT_SERVICE_PORT = 4210  # not Prefect's 4200: a user's own server may be there

# Background services of the Prefect server that a one-shot batch run does not use. The
# task-run recorder, event persister and log/event distributors stay on (the UI of a later
# `gongkai serve` on the same home shows the runs and their task runs); triggers and actions
# stay on for services only.
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

    @property
    def listening(self) -> bool:
        """Something outlives this command on the API (triggers, a UI): events are worth
        sending. False for the command's own batch server."""
        return self.server is None or self.server.purpose == "service"


def prefect_home(settings: Settings) -> Path:
    return settings.home / "prefect"


def service_port() -> int:
    return int(os.environ.get("GONGKAI_PREFECT_PORT") or DEFAULT_SERVICE_PORT)


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
    if os.environ.get("PREFECT_API_URL") and not _batch_servers:
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


def _stop_with_parent() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child gets SIGTERM when the process that started it dies
    (Linux's PR_SET_PDEATHSIG), so a command killed outright (SIGKILL, the OOM killer) leaves
    no server running on its home. None where the call is not available."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    return preexec


class LocalPrefectServer:
    """`prefect server start` for one GONGKAI_HOME, run as a quiet child process."""

    def __init__(self, settings: Settings, *, purpose: Purpose = "batch") -> None:
        self.settings = settings
        self.purpose = purpose
        self.home = prefect_home(settings)
        self.log_path = self.home / "server.log"
        self.state_path = self.home / "server.json"
        self.port: int | None = service_port() if purpose == "service" else None
        self.process: subprocess.Popen[bytes] | None = None
        self.migrates = True  # Prefect migrates the database at this start
        self._starting = threading.Lock()
        self._start_lock: int | None = None

    @property
    def api_url(self) -> str:
        if self.port is None:
            # The address is settled before the process starts: PREFECT_API_URL must be set
            # before Prefect is first imported.
            self.port = _free_port()
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def started(self) -> bool:
        return self.process is not None

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env.update(_common_env("WARNING"))
        service = self.purpose == "service"
        env.update({
            "PREFECT_HOME": str(self.home),
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home}/prefect.db",
            "PREFECT_SERVER_UI_ENABLED": "true" if service else "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
            # Events it received are stored within a tenth of a second (Prefect: 5 s), so that
            # a server stopped soon after keeps them.
            "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.1",
        })  # fmt: skip
        if service:
            # The UI asks its API here (otherwise it names 127.0.0.1:4200, another server).
            env["PREFECT_UI_API_URL"] = self.api_url
        else:
            # A one-shot batch run uses no blocks and serves no UI.
            env["PREFECT_API_BLOCKS_REGISTER_ON_START"] = "false"
        for name in _SERVICE_SERVICES_OFF if service else _BATCH_SERVICES_OFF:
            env[f"PREFECT_SERVER_SERVICES_{name}_ENABLED"] = "false"
        if not self.migrates:  # at this Prefect version's head already (prefect_database)
            env.setdefault("PREFECT_SERVER_DATABASE_MIGRATE_ON_START", "false")
        return env

    def start(self) -> None:
        """Start the server process and return at once (wait_ready() waits for it)."""
        with self._starting:
            if self.process is None:
                self._start_alone()
                self._start()

    def _start_alone(self) -> None:
        """Two commands on one home (two ingests at once) would start two servers that
        migrate one new database together, and one crashes ("duplicate column name"): the
        second waits until the first is ready (wait_ready() lets go)."""
        self.home.mkdir(parents=True, exist_ok=True)
        self._start_lock = os.open(self.home / "server-start.lock", os.O_RDWR | os.O_CREAT)
        fcntl.flock(self._start_lock, fcntl.LOCK_EX)

    def _started_alone(self) -> None:
        lock, self._start_lock = self._start_lock, None
        if lock is not None:
            os.close(lock)  # releases the lock

    def _start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.api_url  # settles the port  # noqa: B018
        prefect_database.seed(self.home)  # a new home: the migrated template's copy
        self.migrates = prefect_database.migrate_on_start(self.home)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start",
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self._env(), cwd=self.home, start_new_session=True,
                preexec_fn=_stop_with_parent(),
            )  # fmt: skip

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> None:
        if self.process is None:
            self.start()
        assert self.process is not None
        try:
            self._wait_healthy(timeout)
            prefect_database.after_ready(self.home, migrated=self.migrates)
        finally:
            self._started_alone()
        if self.purpose == "service":
            self.state_path.write_text(
                json.dumps({"pid": self.process.pid, "api_url": self.api_url})
            )

    def _wait_healthy(self, timeout: float) -> None:
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

    def stop(self, grace_s: float = 15) -> None:
        self._started_alone()
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


# Batch servers of this process's open sessions: their flow runs send no events.
_batch_servers: list[LocalPrefectServer] = []


@contextlib.contextmanager
def prefect_session(
    settings: Settings | None = None,
    *,
    purpose: Purpose = "batch",
    console_level: str = "WARNING",
    documents: int = 0,
) -> Iterator[PrefectMode]:
    """Configure Prefect and, in local mode without a running service, run a local server for
    the duration. Queued events and logs are delivered before it ends. `documents`: how many
    the flows will process (a worker pool's fork server starts at once if they need one)."""
    settings = settings or load_settings()
    mode = configure(settings, console_level=console_level)
    if not mode.local or mode.api_url:
        _relay_pass(settings)  # a first relay's cursor starts here, before this command's rows
        try:
            yield mode
        finally:
            # Delivered before the command returns (`gongkai serve`'s server, or the user's),
            # rather than by Prefect's own drain at exit; the rows this command wrote too.
            _relay_pass(settings)
            _drain_events()
        return
    if _prefect_imported():
        raise RuntimeError(
            "Prefect was imported before gongkai.flows.runtime.configure(): set PREFECT_API_URL "
            "or configure the runtime first"
        )
    server = LocalPrefectServer(settings, purpose=purpose)
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    if purpose == "batch":
        _batch_servers.append(server)
    try:
        _while_the_server_starts(readers=pool_workers(documents) > 1)
        server.wait_ready()
        yield PrefectMode(True, server.api_url, mode.prefect_home, server)
    finally:
        _drain_events()
        server.stop()
        if server in _batch_servers:
            _batch_servers.remove(server)
        os.environ.pop("PREFECT_API_URL", None)


def _while_the_server_starts(*, readers: bool) -> None:
    """What the command needs next, done while its server imports and starts (seconds): the
    worker pool's fork server, which imports the readers in its own process, and this
    process's import of Prefect's flow and task engines (PREFECT_API_URL is set by now)."""
    if readers:
        from gongkai.flows import forkserver

        forkserver.start()  # before Prefect is imported: it forks no thread of Prefect's
    import prefect.flow_engine
    import prefect.task_engine  # noqa: F401


@contextlib.contextmanager
def one_shot_runs(mode: PrefectMode) -> Iterator[None]:
    """Flow runs started in this block against the command's own batch server send no
    heartbeats. A heartbeat lets a server's automations notice a run whose process died; a
    batch server has no automations and stops with the command. Prefect joins the heartbeat
    thread at the end of every flow run, and that thread sleeps in one-second steps: up to a
    second of idle wait per run. Runs against a user's server or `gongkai serve` keep
    their heartbeats."""
    if mode.listening:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _drain_events() -> None:
    """Deliver the events and logs still queued in this process."""
    if not _prefect_imported():
        return
    with contextlib.suppress(Exception):
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        EventsWorker.drain_all(timeout=30)
        APILogWorker.drain_all(timeout=30)


def prefect_listens() -> bool:
    """A Prefect API that outlives this process (a user's server, serve's, a work pool's):
    the catalog's events are relayed to it. Not a command's own batch server."""
    return not _batch_servers and bool(os.environ.get("PREFECT_API_URL"))


def _relay_pass(settings: Settings) -> None:
    """One pass of the outbox relay, where a Prefect API listens (a relay of a service on
    this catalog that holds the cursor sends the rows instead)."""
    if not prefect_listens():
        return
    from gongkai.flows.relay import Relay

    try:
        relay = Relay(settings)
        try:
            relay.run_once()
        finally:
            relay.close()
    except Exception as exc:  # the rows stay in the catalog for the next relay
        import logging

        logging.getLogger("gongkai.relay").warning("events not relayed yet: %s", exc)


def event_sink(settings: Settings | None = None) -> EventSink:
    """Prefect's events where a Prefect API outlives this process (a user's server, serve's,
    a work pool's), labelled with the catalog they come from; the audit rows alone under a
    command's own batch server or without any."""
    from gongkai.flows.events import AuditOnlyEventSink, PrefectEventSink, catalog_id

    if not prefect_listens():
        return AuditOnlyEventSink()
    return PrefectEventSink(catalog_id((settings or load_settings()).database_url))


def deliver(sink: EventSink) -> None:
    """Deliver what `sink` still holds before the command returns (a no-op for sinks that
    send nothing)."""
    flush = getattr(sink, "flush", None)
    if callable(flush):
        flush()


# --------------------------------------------------------------------------------------------
# what a flow run works with: the caller's Context (tests, in-process callers) or its own

_current_context: ContextVar[Context | None] = ContextVar("gongkai_context", default=None)
_current_workers: ContextVar[WorkerPool | None] = ContextVar("gongkai_workers", default=None)


@contextlib.contextmanager
def _bound(var: ContextVar[T | None], value: T) -> Iterator[T]:
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


def use_context(ctx: Context) -> contextlib.AbstractContextManager[Context]:
    """Run flows in this process against `ctx` (a test's clock, an in-process caller)."""
    return _bound(_current_context, ctx)


@contextlib.contextmanager
def flow_context() -> Iterator[Context]:
    """The Context for a flow run: the caller's, or a new one for the run."""
    ctx = _current_context.get()
    if ctx is not None:
        yield ctx
        return
    from gongkai.flows.service import Context as ServiceContext

    settings = load_settings()
    with ServiceContext.open(settings) as opened, \
            use_context(opened):
        yield opened


def pool_workers(documents: int) -> int:
    """Worker processes for a run of `documents`: one per core (GONGKAI_WORKERS) from a few
    dozen documents on, else none besides the flow's own process (1)."""
    cores = int(os.environ.get("GONGKAI_WORKERS") or 0) or os.cpu_count() or 1
    return cores if documents >= 40 else 1


def use_workers(pool: WorkerPool) -> contextlib.AbstractContextManager[WorkerPool]:
    """Run flows in this block on `pool` (a long-lived caller: serve's sweeper)."""
    return _bound(_current_workers, pool)


def reads_ahead() -> bool:
    """Whether the caller's worker pool (use_workers) reads claimed documents ahead."""
    pool = _current_workers.get()
    return pool is not None and pool.parallel


def still_reading(document_ids: list[int]) -> list[int]:
    """Those of these documents the caller's worker pool (use_workers) is still reading."""
    pool = _current_workers.get()
    return [] if pool is None else pool.reading(document_ids)


def read_ahead(settings: Settings, document_ids: list[int]) -> None:
    """Have the caller's worker pool (use_workers) start reading these documents now."""
    pool = _current_workers.get()
    if pool is not None:
        pool.read_ahead(settings, document_ids)


@contextlib.contextmanager
def flow_workers(documents: int) -> Iterator[WorkerPool]:
    """The worker pool of the enclosing flow run, or one for this run: worker processes pay
    off from a few dozen documents on (a worker's start imports the readers, about a
    second). A flow run opens one, and its tasks and subflows share it."""
    given = _current_workers.get()
    if given is not None:
        yield given
        return
    from gongkai.flows.service import WorkerPool as ServiceWorkerPool

    with ServiceWorkerPool(pool_workers(documents)) as pool:
        token = _current_workers.set(pool)
        try:
            yield pool
        finally:
            _current_workers.reset(token)
