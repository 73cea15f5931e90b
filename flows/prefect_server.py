"""The local Prefect server process: a fresh database from a migrated template, then uvicorn.

    python -m gongkai.flows.prefect_server --db PATH --port N

Started by `runtime.LocalPrefectServer` with Prefect's settings in the environment. Migrating a
fresh Prefect database (116 Alembic revisions on SQLite) costs about 5 s of CPU on every new
GONGKAI_HOME, yet its outcome depends only on the Prefect version. So the first fresh database
is migrated here and an empty copy of it is kept as a template,

    $XDG_CACHE_HOME/gongkai/prefect-<prefect version>-<digest of the migration files>.db

made atomically (a consistent SQLite backup to a temporary file, checked, then renamed), and
later fresh homes start from a copy of it. A template is used only if it passes the checks
(SQLite integrity, the Alembic revision of the newest migration file); otherwise the database
is migrated as usual. Prefect's own start-up migration is switched off when the database is at
the newest revision already: it would find nothing to do, at a cost of about a second of CPU.

Write transactions take SQLite's write lock when they begin (`immediate_write_transactions`).
Prefect opens them DEFERRED: one that reads before it writes (creating a flow run does) fails
at once with SQLITE_BUSY_SNAPSHOT, "database is locked", whenever another writer committed in
between (the event persister does, every tenth of a second while documents are processed). The
busy timeout never applies to that error; the API answers 503 and the client sleeps about 2 s
before it tries again. Measured on a 1,000-document ingest: one to three such retries a run,
each 1.5-2.5 s of wall time. Taken at BEGIN, the lock is waited for (busy timeout) instead.

Events are written with executemany (`executemany_event_writes`): the same rows, about a third
less of the server's CPU per event, and a batch made only of events stored already (a client
resending them) writes nothing instead of failing on an empty VALUES list.

Per event, the server does less again: the task-run recorder skips events that are not about
task runs by their name before parsing them (`task_run_recorder_skips_other_events`), and the
events websocket is not compressed (client and server are on the same machine). The app is
built without computing its cache key (`one_app_per_process`), with the API routers a flow run
uses first (`routers_used_first`), so that FastAPI builds only those routers' routes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import importlib.metadata
import importlib.util
import inspect
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gongkai.flows.collector import collect_less_often

_REVISION_IN_NAME = re.compile(r"^\d{4}_\d{2}_\d{2}_\d{6}_([0-9a-f]+)_")


def _prefect_dir() -> Path:
    """Where the prefect package is installed, found without importing it: Prefect reads its
    settings once, when it is first imported, and main() sets one of them first."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("prefect is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _migrations_dir() -> Path:
    return _prefect_dir() / "server" / "database" / "_migrations" / "versions" / "sqlite"


def _migration_files() -> list[str]:
    return sorted(p.name for p in _migrations_dir().glob("*.py") if _REVISION_IN_NAME.match(p.name))


def head_revision(files: list[str]) -> str | None:
    """The revision of the newest migration file (their names start with a timestamp)."""
    match = _REVISION_IN_NAME.match(files[-1]) if files else None
    return match.group(1) if match else None


def template_path(
    cache_dir: Path | None = None, files: list[str] | None = None
) -> Path | None:
    """Where the template for the installed Prefect lives (None: no usable cache folder).
    `files`: the migration file names, if the caller has listed them already."""
    files = _migration_files() if files is None else files
    if not files:
        return None
    digest = hashlib.sha256("\n".join(files).encode()).hexdigest()[:16]
    base = cache_dir or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    version = importlib.metadata.version("prefect")
    return base / "gongkai" / f"prefect-{version}-{digest}.db"


def valid_database(path: Path, revision: str | None) -> bool:
    """An intact SQLite database migrated to exactly `revision`."""
    return _migrated_to(path, revision, integrity=True)


def at_head(db: Path, files: list[str] | None = None) -> bool:
    """The database's Alembic revision is the newest migration file's: Prefect's start-up
    migration would find nothing to do. (Only the revision is read: an integrity check of
    a home's database that has grown over many runs would cost more than it saves.)"""
    revision = head_revision(_migration_files() if files is None else files)
    return _migrated_to(db, revision, integrity=False)


def _migrated_to(path: Path, revision: str | None, *, integrity: bool) -> bool:
    """`path` is an SQLite database at Alembic revision `revision` (and, with `integrity`,
    passes SQLite's quick check), read without writing to it."""
    if revision is None or not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if integrity and db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                return False
            rows = db.execute("SELECT version_num FROM alembic_version").fetchall()
            return rows == [(revision,)]
    except sqlite3.Error:
        return False


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy (SQLite's backup API, WAL included) written to a temporary file,
    synced and renamed: `target` is either absent or complete."""
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with contextlib.closing(sqlite3.connect(source)) as src, \
                contextlib.closing(sqlite3.connect(temp)) as dst:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _migrate() -> None:
    import asyncio

    from prefect.server.database import provide_database_interface

    asyncio.run(provide_database_interface().create_db())


def prepare_database(db: Path, cache_dir: Path | None = None) -> str:
    """Give a missing database its schema, from the template when there is a valid one.
    Returns what was done: "existing", "template" or "migrated"."""
    if db.exists():
        return "existing"
    db.parent.mkdir(parents=True, exist_ok=True)
    files = _migration_files()
    revision = head_revision(files)
    template = template_path(cache_dir, files)
    if template is not None and valid_database(template, revision):
        _copy_database(template, db)
        return "template"
    _migrate()
    if template is not None and valid_database(db, revision):
        with contextlib.suppress(OSError, sqlite3.Error):  # no cache: next time migrates too
            template.parent.mkdir(parents=True, exist_ok=True)
            _copy_database(db, template)
    return "migrated"


def immediate_write_transactions() -> bool:
    """Make Prefect's SQLite write transactions BEGIN IMMEDIATE (see the module docstring).
    Reads outside a transaction are untouched. False if this Prefect has no such hook (the
    server then runs as Prefect ships it)."""
    try:
        from prefect.server.database.configurations import AioSqliteConfiguration
    except ImportError:
        return False
    shipped = getattr(AioSqliteConfiguration, "begin_transaction", None)
    if shipped is None or getattr(shipped, "_gongkai_immediate", False):
        return shipped is not None
    try:
        if "with_for_update" not in inspect.signature(shipped).parameters:
            return False
    except (TypeError, ValueError):
        return False

    def begin_transaction(self: Any, session: Any, with_for_update: bool = False) -> Any:
        # with_for_update=True is Prefect's own switch for BEGIN IMMEDIATE on SQLite.
        return shipped(self, session, with_for_update=True)

    begin_transaction._gongkai_immediate = True  # type: ignore[attr-defined]
    AioSqliteConfiguration.begin_transaction = begin_transaction  # type: ignore[method-assign]
    return True


def executemany_event_writes() -> bool:
    """Prefect writes a batch of events to SQLite as one INSERT with a VALUES row per event,
    which SQLAlchemy compiles afresh for every batch (its cache cannot hold statements whose
    size varies): about a quarter of the server's CPU per stored event, measured. The same
    rows are written here with executemany, whose statement is compiled once. False if this
    Prefect's event storage does not look as expected (then it is left as shipped)."""
    try:
        import sqlalchemy as sa
        from prefect.server.database import db_injector
        from prefect.server.events.storage import database as storage
    except ImportError:
        return False
    shipped = getattr(storage, "_write_sqlite_events", None)
    batches = getattr(storage, "_in_safe_batches", None)
    if shipped is None or batches is None:
        return False
    if getattr(shipped, "_gongkai_executemany", False):
        return True

    @db_injector
    async def _write_sqlite_events(db: Any, session: Any, events: list[Any]) -> None:
        for batch in batches(events):
            stored = set((await session.scalars(
                sa.select(db.Event.id).where(db.Event.id.in_({e.id for e in batch}))
            )).all())  # fmt: skip
            new = [e for e in batch if e.id not in stored]
            if not new:
                continue
            await session.execute(db.queries.insert(db.Event),
                                  [e.as_database_row() for e in new])  # fmt: skip
            resources = [row for e in new for row in e.as_database_resource_rows()]
            if resources:
                await session.execute(db.queries.insert(db.EventResource), resources)

    _write_sqlite_events._gongkai_executemany = True  # type: ignore[attr-defined]
    storage._write_sqlite_events = _write_sqlite_events
    return True


_TASK_RUN_EVENTS = "prefect.task-run"


def task_run_recorder_skips_other_events() -> bool:
    """Prefect's task-run recorder parses every event on the server into a ReceivedEvent (a
    pydantic model with validators) and only then drops those whose name does not start with
    "prefect.task-run": in an ingest, all but a few dozen of two thousand. The publisher sends
    the event's name along as a message attribute, so here the name is looked at first and
    the rest goes to the shipped handler unchanged. A message without that attribute is
    handled as shipped. False if this Prefect's recorder does not look as expected."""
    try:
        from prefect.server.services import task_run_recorder
    except ImportError:
        return False
    shipped = getattr(task_run_recorder, "consumer", None)
    if shipped is None:
        return False
    if getattr(shipped, "_gongkai_by_name", False):
        return True

    @contextlib.asynccontextmanager
    async def consumer(*args: Any, **kwargs: Any) -> Any:
        async with shipped(*args, **kwargs) as handler:

            async def by_name(message: Any) -> None:
                name = (getattr(message, "attributes", None) or {}).get("event")
                if isinstance(name, str) and not name.startswith(_TASK_RUN_EVENTS):
                    return
                await handler(message)

            yield by_name

    consumer._gongkai_by_name = True  # type: ignore[attr-defined]
    task_run_recorder.consumer = consumer
    return True


# The API routers a flow run's client talks to (prefect.server.api.<name>.router), in the order
# they are first asked: the version check, then flow and task runs, their logs and events.
ROUTERS_USED_FIRST = (
    "admin", "flows", "flow_runs", "task_runs", "logs", "events", "flow_run_states",
    "task_run_states", "csrf_token",
)  # fmt: skip


def routers_used_first(names: tuple[str, ...] = ROUTERS_USED_FIRST) -> bool:
    """Put the routers a flow run uses at the head of Prefect's API_ROUTERS, the others after
    them in their shipped order, before the app is built. FastAPI (0.137 and later) builds an
    included router's routes (a pydantic schema for every parameter and response) the first
    time a request is matched against it, and matching walks the routers in order: the
    client's first call, GET /admin/version, came after 29 of the 31 routers and built all of
    them, about half a second of CPU; an ingest then uses the nine named here. Every router
    has a prefix of its own, so the order decides no match. False if this Prefect has no
    API_ROUTERS tuple (left as shipped)."""
    try:
        import prefect.server.api as api
        from prefect.server.api import server
    except ImportError:
        return False
    shipped = getattr(server, "API_ROUTERS", None)
    if not isinstance(shipped, tuple):
        return False
    first = [getattr(getattr(api, name, None), "router", None) for name in names]
    first = [router for router in first if router is not None and router in shipped]
    server.API_ROUTERS = (*first, *(r for r in shipped if r not in first))
    return True


@contextlib.contextmanager
def one_app_per_process() -> Iterator[None]:
    """create_app() and create_api_app() key their in-process app caches by
    `Settings.hash_key()`, which serialises every setting into environment variables: about
    0.1 s of CPU each time, twice per start. This process builds exactly one app, so no cache
    is ever consulted twice; while it is built the key is a constant."""
    try:
        from prefect.settings.models.root import Settings
    except ImportError:
        yield
        return
    shipped = Settings.__dict__.get("hash_key")
    if shipped is None:
        yield
        return
    Settings.hash_key = lambda self: "gongkai-batch-server"  # type: ignore[method-assign]
    try:
        yield
    finally:
        Settings.hash_key = shipped  # type: ignore[method-assign]


def stop_with_parent(parent: int, interval_s: float = 1.0) -> threading.Thread:
    """Shut this server down (SIGTERM to itself: uvicorn's graceful shutdown) once `parent`,
    the gongkai process that started it, is gone: a command killed outright (SIGKILL, the
    OOM killer) must not leave a server running on its home."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="gongkai-parent-watch", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent", type=int, default=None,
                        help="stop when this process (the one that started it) is gone")
    options = parser.parse_args(argv)
    collect_less_often()  # before Prefect's imports (flows/collector.py)
    if options.parent is not None:
        stop_with_parent(options.parent)
    done = prepare_database(options.db)
    print(f"gongkai: Prefect database {options.db}: {done}", file=sys.stderr, flush=True)
    if "prefect" not in sys.modules and at_head(options.db):
        # Prefect's start-up migration would only find that there is nothing to do, at a
        # cost of about a second of CPU (Alembic loads every revision script to find that
        # out). The setting must be in place before Prefect is imported: it reads its
        # settings then. (After a migration here, Prefect is imported already: it checks.)
        os.environ["PREFECT_API_DATABASE_MIGRATE_ON_START"] = "false"
    # Each patch is guarded: a Prefect that does not look as expected is left as shipped,
    # and server.log says so.
    patches = (
        (immediate_write_transactions, "SQLite transactions are left as shipped"),
        (executemany_event_writes, "event writes are left as shipped"),
        (task_run_recorder_skips_other_events, "task-run recorder is left as shipped"),
        (routers_used_first, "API routers are left in their shipped order"),
    )
    for apply, otherwise in patches:
        if not apply():
            print(f"gongkai: this Prefect's {otherwise}", file=sys.stderr, flush=True)

    import uvicorn
    from prefect.server.api.server import create_app

    with one_app_per_process():
        app = create_app()
    # The server's heap after start-up (Prefect's modules, the app and its schemas) lives as
    # long as the process: frozen, the collector never walks it again, neither while events
    # are handled nor in the final collection at exit.
    gc.freeze()
    # Events come over a websocket from the same machine: compressing each message costs
    # both ends CPU and saves no time.
    uvicorn.run(app, host=options.host, port=options.port, log_level="warning", lifespan="on",
                ws_per_message_deflate=False)  # fmt: skip


if __name__ == "__main__":
    main()
