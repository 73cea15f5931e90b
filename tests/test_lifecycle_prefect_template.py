"""The local Prefect server's database: a fresh GONGKAI_HOME's comes from a migrated template
cached per Prefect version (a damaged or foreign template is never used), and its write
transactions take SQLite's write lock when they begin. Prefect runs in a subprocess (this test
process never configures Prefect)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from gongkai.flows.prefect_server import at_head, head_revision, valid_database

PREPARE = """
import json, sys
from pathlib import Path
from gongkai.flows.prefect_server import at_head, prepare_database, template_path
cache = Path(sys.argv[2])
done = prepare_database(Path(sys.argv[1]), cache)
print(json.dumps({"done": done, "template": str(template_path(cache)),
                  "at_head": at_head(Path(sys.argv[1])), "imported": "prefect" in sys.modules}))
"""


def run_script(script: str, *args: str, prefect_home: Path, db: Path | None = None) -> Any:
    """`script` in a fresh Python with Prefect's settings pointed at `prefect_home` (and at
    the SQLite database `db`); the JSON of its last line of output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(prefect_home)
    if db is not None:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{db}"
    result = subprocess.run([sys.executable, "-c", script, *args], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare(db: Path, cache: Path) -> dict[str, str]:
    return run_script(PREPARE, str(db), str(cache), prefect_home=db.parent, db=db)


def revision_of(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_first_fresh_home_migrates_and_leaves_a_template_later_ones_copy(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = prepare(tmp_path / "home1" / "prefect.db", cache)
    template = Path(first["template"])
    assert first["done"] == "migrated" and first["at_head"]
    assert template.is_file() and template.parent == cache / "gongkai"
    revision = revision_of(template)
    assert valid_database(template, revision)
    assert [p.name for p in template.parent.iterdir()] == [template.name]  # no temp files

    second = prepare(tmp_path / "home2" / "prefect.db", cache)
    # Copied without importing Prefect (the server then switches Prefect's start-up
    # migration off before Prefect reads its settings): the copy is at the newest revision.
    assert second == {"done": "template", "template": str(template), "at_head": True,
                      "imported": False}  # fmt: skip
    copied = tmp_path / "home2" / "prefect.db"
    assert revision_of(copied) == revision and valid_database(copied, revision)
    with sqlite3.connect(copied) as connection:  # an empty database: no runs, no events
        assert connection.execute("SELECT count(*) FROM flow_run").fetchone() == (0,)

    again = prepare(copied, cache)  # an existing database is left alone
    assert again["done"] == "existing" and again["at_head"] and not again["imported"]

    # A damaged template is not used: the database is migrated as usual.
    template.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    assert not valid_database(template, revision)
    third = prepare(tmp_path / "home3" / "prefect.db", cache)
    assert third["done"] == "migrated"
    assert revision_of(tmp_path / "home3" / "prefect.db") == revision


def test_template_checks(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num TEXT)")
        connection.execute("INSERT INTO alembic_version VALUES ('abc123')")
    assert valid_database(db, "abc123")
    assert not valid_database(db, "def456")  # another Prefect's schema
    assert not valid_database(db, None)
    assert not valid_database(tmp_path / "missing.db", "abc123")
    (tmp_path / "junk.db").write_bytes(b"not a database")
    assert not valid_database(tmp_path / "junk.db", "abc123")
    names = ["2025_01_01_000000_aaa111_first.py", "2026_10_20_000000_27d8f4e1a6c9_newest.py"]
    assert head_revision(names) == "27d8f4e1a6c9"
    assert head_revision([]) is None
    # at_head reads the revision only: Prefect's start-up migration is skipped only at the
    # newest one.
    assert not at_head(db, names)
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '27d8f4e1a6c9'")
    assert at_head(db, names)
    assert not at_head(db, [])
    assert not at_head(tmp_path / "missing.db", names)
    assert not at_head(tmp_path / "junk.db", names)


# One Prefect write transaction that reads, lets another connection try to commit a write, then
# writes itself: the interleaving the event persister and a flow run's creation produce.
READ_THEN_WRITE = """
import asyncio, json, sqlite3, sys
from pathlib import Path
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from prefect.server.database.configurations import AioSqliteConfiguration
from gongkai.flows.prefect_server import immediate_write_transactions

db, patched = Path(sys.argv[1]), sys.argv[2] == "immediate"
with sqlite3.connect(db) as setup:
    setup.execute("PRAGMA journal_mode = WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
applied = [immediate_write_transactions(), immediate_write_transactions()] if patched else []

async def main():
    config = AioSqliteConfiguration(connection_url=f"sqlite+aiosqlite:///{db}")
    engine = await config.engine()
    other = sqlite3.connect(db, timeout=0, isolation_level=None)
    outcome = {"applied": applied}
    async with AsyncSession(engine) as session:
        try:
            async with config.begin_transaction(session):
                await session.execute(sa.text("SELECT count(*) FROM t"))
                try:
                    other.execute("BEGIN IMMEDIATE")
                    other.execute("INSERT INTO t VALUES (1)")
                    other.execute("COMMIT")
                    outcome["other"] = "committed"
                except sqlite3.OperationalError as exc:
                    outcome["other"] = str(exc)
                await session.execute(sa.text("INSERT INTO t VALUES (2)"))
            outcome["mine"] = "committed"
        except sa.exc.OperationalError as exc:
            outcome["mine"] = str(exc.orig)
    await engine.dispose()
    outcome["rows"] = sqlite3.connect(db).execute("SELECT x FROM t ORDER BY x").fetchall()
    return outcome

print(json.dumps(asyncio.run(main())))
"""


def read_then_write(db: Path, mode: str) -> dict[str, object]:
    return run_script(READ_THEN_WRITE, str(db), mode, prefect_home=db.parent / "prefect-home")


def test_write_transactions_take_the_lock_when_they_begin(tmp_path: Path) -> None:
    # As Prefect ships it (BEGIN DEFERRED), a transaction that read before another connection
    # committed cannot write any more: "database is locked" at once, whatever the busy
    # timeout (SQLITE_BUSY_SNAPSHOT). The API turns that into a 503 and the client sleeps.
    shipped = read_then_write(tmp_path / "shipped.db", "shipped")
    assert shipped["other"] == "committed"
    assert shipped["mine"] == "database is locked"
    assert shipped["rows"] == [[1]]
    # With the lock taken at BEGIN the other writer waits its turn (here: refused at once, its
    # busy timeout being 0) and the transaction commits. Applying it twice is harmless.
    immediate = read_then_write(tmp_path / "immediate.db", "immediate")
    assert immediate["applied"] == [True, True]
    assert immediate["other"] == "database is locked"
    assert immediate["mine"] == "committed"
    assert immediate["rows"] == [[2]]


# The same events written through Prefect's event storage, as shipped or with executemany
# (prefect_server.executemany_event_writes), into a fresh Prefect database; the rows back.
WRITE_EVENTS = """
import asyncio, json, sqlite3, sys, uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from gongkai.flows.prefect_server import executemany_event_writes, prepare_database

db, mode = Path(sys.argv[1]), sys.argv[2]
prepare_database(db)
if mode == "executemany":
    assert executemany_event_writes() and executemany_event_writes()
from prefect.server.database import provide_database_interface
from prefect.server.events.schemas.events import ReceivedEvent
from prefect.server.events.storage.database import write_events

start = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)
events = [
    ReceivedEvent(
        id=uuid.UUID(int=n + 1), occurred=start + timedelta(seconds=n),
        received=start + timedelta(seconds=n, milliseconds=5),
        event=f"gongkai.document.{'published' if n % 2 else 'withheld'}",
        resource={"prefect.resource.id": f"gongkai.document.{n}",
                  "prefect.resource.name": f"文件 {n}"},
        related=[{"prefect.resource.id": f"prefect.flow-run.{uuid.UUID(int=999)}",
                  "prefect.resource.role": "flow-run"}] * (n % 3),
        payload={"file_number": f"狮政文〔2010〕{n}号", "n": n},
    )
    for n in range(450)  # more than one of Prefect's safe batches
]

async def main():
    db_interface = provide_database_interface()
    async with db_interface.session_context(begin_transaction=True) as session:
        await write_events(session, events[:300])
    async with db_interface.session_context(begin_transaction=True) as session:
        await write_events(session, events[295:])  # 5 of them again: skipped
    try:  # a batch of nothing but events stored already (a client resending them)
        async with db_interface.session_context(begin_transaction=True) as session:
            await write_events(session, events[:10])
        return "ok"
    except Exception as exc:
        return type(exc).__name__

resent = asyncio.run(main())
with sqlite3.connect(db) as connection:
    rows = connection.execute(
        "SELECT id, occurred, event, resource_id, resource, related_resource_ids, related, "
        "payload, received, recorded IS NOT NULL, follows FROM events ORDER BY id").fetchall()
    resources = connection.execute(
        "SELECT event_id, occurred, resource_id, resource_role, resource FROM event_resources "
        "ORDER BY event_id, resource_id, resource_role").fetchall()
print(json.dumps({"events": rows, "resources": resources, "resent": resent}))
"""


def write_events(db: Path, mode: str) -> dict[str, Any]:
    return run_script(WRITE_EVENTS, str(db), mode, prefect_home=db.parent / "prefect-home",
                      db=db)  # fmt: skip


def test_events_written_with_executemany_are_the_rows_prefect_writes(tmp_path: Path) -> None:
    shipped = write_events(tmp_path / "shipped.db", "shipped")
    executemany = write_events(tmp_path / "executemany.db", "executemany")
    assert len(shipped["events"]) == 450  # written once each, duplicates skipped
    assert len(shipped["resources"]) == 450 + sum(n % 3 for n in range(450))
    assert executemany["events"] == shipped["events"]
    assert executemany["resources"] == shipped["resources"]
    # As shipped, a batch made only of events stored already fails: Prefect inserts an empty
    # VALUES list, a row of nothing but defaults (NOT NULL constraint failed: events.occurred).
    # With executemany such a batch writes nothing, as the duplicates in a mixed batch.
    assert shipped["resent"] == "IntegrityError"
    assert executemany["resent"] == "ok"


RECORD_TASK_RUNS = """
import asyncio, json, sys
from datetime import datetime, timezone
from uuid import uuid4
from prefect.server.events.messaging import EventPublisher
from prefect.server.events.schemas.events import ReceivedEvent
from prefect.server.services import task_run_recorder
from prefect.server.utilities.messaging.memory import MemoryMessage

if sys.argv[1] == "patched":
    from gongkai.flows.prefect_server import task_run_recorder_skips_other_events
    assert task_run_recorder_skips_other_events()
    assert task_run_recorder_skips_other_events()  # a second call does not wrap it twice

parsed, recorded = [], []

class CountingReceivedEvent(ReceivedEvent):
    @classmethod
    def model_validate_json(cls, data, **kwargs):
        parsed.append(1)
        return super().model_validate_json(data, **kwargs)

async def record(events):
    recorded.extend(e.event for e in events)

task_run_recorder.ReceivedEvent = CountingReceivedEvent
task_run_recorder.record_bulk_task_run_events = record

def message(name, resource, attributes=True):
    event = ReceivedEvent(occurred=datetime.now(timezone.utc), event=name, resource=resource,
                          id=uuid4())
    data = event.model_dump_json().encode()
    captured = {}
    class Capture(EventPublisher):
        async def publish_data(self, data, attributes):
            captured.update(attributes)
    asyncio.run(Capture(publisher=object()).publish_event(event))  # the attributes Prefect sends
    return MemoryMessage(data, captured if attributes else {})

task = {"prefect.resource.id": f"prefect.task-run.{uuid4()}", "prefect.orchestration": "client"}
messages = [
    message("gongkai.document.received", {"prefect.resource.id": "gongkai.document.1"}),
    message("prefect.task-run.Running", task),
    message("gongkai.document.published", {"prefect.resource.id": "gongkai.document.1"}),
    message("gongkai.document.withheld", {"prefect.resource.id": "gongkai.document.2"},
            attributes=False),
    message("prefect.task-run.Completed", task, attributes=False),
]

async def main():
    async with task_run_recorder.consumer(write_batch_size=100, flush_every=60) as handler:
        for m in messages:
            await handler(m)

asyncio.run(main())
print(json.dumps({"parsed": len(parsed), "recorded": recorded}))
"""


def test_task_run_recorder_skips_other_events_by_name(tmp_path: Path) -> None:
    def run(mode: str) -> dict[str, Any]:
        return run_script(RECORD_TASK_RUNS, mode, prefect_home=tmp_path / mode)

    shipped, patched = run("shipped"), run("patched")
    # The same task-run events are recorded either way ...
    expected = ["prefect.task-run.Running", "prefect.task-run.Completed"]
    assert shipped["recorded"] == patched["recorded"] == expected
    # ... but only task-run events, and those without the name attribute, are parsed.
    assert shipped["parsed"] == 5
    assert patched["parsed"] == 3


ONE_APP = """
import json
from prefect.settings import get_current_settings
from prefect.settings.models.root import Settings
from gongkai.flows.prefect_server import one_app_per_process
shipped = Settings.hash_key
with one_app_per_process():
    from prefect.server.api.server import create_app
    app = create_app()
paths = {getattr(route, "path", "") for route in app.routes}
print(json.dumps({"restored": Settings.hash_key is shipped, "api": "/api" in paths,
                  "key": len(get_current_settings().hash_key()) > 0}))
"""


def test_the_one_app_is_built_without_its_cache_key_and_the_key_comes_back(
    tmp_path: Path,
) -> None:
    assert run_script(ONE_APP, prefect_home=tmp_path) == {"restored": True, "api": True,
                                                          "key": True}


ROUTERS = """
import asyncio, json, sys
import httpx
import prefect.server.api as api
from prefect.server.api import server
from gongkai.flows.prefect_server import ROUTERS_USED_FIRST, routers_used_first
shipped = server.API_ROUTERS
if sys.argv[1] == "patched":
    assert routers_used_first()
app = server.create_app()
api_app = next(r.app for r in app.routes if getattr(r, "path", "") == "/api")

def built():
    # An included router whose routes FastAPI has built (on the first request matched
    # against it) has a version for its candidates.
    return [getattr(r.original_router, "prefix", "") for r in api_app.router.routes
            if getattr(r, "_effective_candidates_version", None) is not None]

async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as client:
        response = await client.get("/api/admin/version")
    return response.status_code

status = asyncio.run(main())
first = [getattr(api, n).router for n in ROUTERS_USED_FIRST]
print(json.dumps({
    "status": status, "built": built(),
    "same_routers": sorted(map(id, server.API_ROUTERS)) == sorted(map(id, shipped)),
    "first": list(server.API_ROUTERS[:len(first)]) == first,
    "rest_in_order": [r for r in server.API_ROUTERS if r not in first]
                     == [r for r in shipped if r not in first],
    "prefixes": [r.prefix for r in shipped],
}))
"""


def test_the_routers_a_flow_run_uses_come_first_and_only_they_are_built(tmp_path: Path) -> None:
    shipped = run_script(ROUTERS, "shipped", prefect_home=tmp_path / "shipped")
    patched = run_script(ROUTERS, "patched", prefect_home=tmp_path / "patched")
    assert shipped["status"] == patched["status"] == 200
    # Prefect as shipped: the version check walks past 29 routers and builds every one.
    assert len(shipped["built"]) >= 25 and "/admin" in shipped["built"]
    # Reordered: the same routers, the used ones first, the others in their shipped order;
    # the version check builds only the router that answers it.
    assert patched["same_routers"] and patched["first"] and patched["rest_in_order"]
    assert patched["built"] == ["/admin"]
    # The order decides no match: no router's prefix is a path prefix of another's.
    prefixes = [p for p in patched["prefixes"] if p]
    assert len(set(prefixes)) == len(prefixes)
    for a in prefixes:
        for b in prefixes:
            assert a == b or not b.startswith(a + "/"), (a, b)
