"""The public index is updated incrementally after each publication (the root files and the
lists of the years published in), and equals a full rebuild from the catalog; on SQLite and
PostgreSQL, real extractors and a real local public store. Two sweeps on one catalog that
write the index at the same time leave it listing every published document (the lost update
of a writer that read the catalog first and wrote last), also on S3."""

from __future__ import annotations

import json
import re
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from lifecycle_docs import make_docx
from service_run import Clock

from gongkai.config import load_settings
from gongkai.flows import render, service
from gongkai.flows.service import Context
from gongkai.storage.objects import ObjectStore

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ctx(
    database_url: str, gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Context]:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", database_url)
    with Context.open(load_settings()) as context:
        context.clock = Clock(datetime(2020, 6, 1, tzinfo=UTC))
        yield context


def routed_new(ctx: Context, serials: range, at: datetime) -> list[int]:
    """Take in and read one active document per serial (routed to publication) at `at`."""
    ctx.clock = Clock(at)  # type: ignore[assignment]
    ids = []
    for serial in serials:
        data, truth = make_docx(serial, year=2020)
        ids.append(service.intake(ctx, data, truth.filename, source="test", actor="t").record.id)
    outcomes = service.process(ctx, ids)
    assert all(o.to_publish for o in outcomes)
    return ids


def publish_all(ctx: Context, ids: list[int]) -> None:
    report = service.publish(ctx, ids)
    assert sorted(r.id for r in report.published) == ids, report.refused


def publish_new(ctx: Context, serials: range, at: datetime) -> list[int]:
    """Take in, read and publish one active document per serial, published at `at`."""
    ids = routed_new(ctx, serials, at)
    publish_all(ctx, ids)
    return ids


def index_files(ctx: Context) -> dict[str, bytes]:
    keys = [i.key for i in ctx.public.list("") if not i.key.startswith("documents/")]
    return {key: ctx.public.get_bytes(key) for key in keys}


def test_incremental_index_equals_a_full_rebuild(ctx: Context) -> None:
    # 23:30 on 31 December in China: still 2020; an hour later it is 2021 there.
    first = publish_new(ctx, range(1, 4), datetime(2020, 12, 31, 15, 30, tzinfo=UTC))
    assert set(index_files(ctx)) == {"index.json", "index.html", "feed.atom",
                                     "index-2020.json", "index-2020.html"}  # fmt: skip
    written_2020 = ctx.public.head("index-2020.json").last_modified

    second = publish_new(ctx, range(4, 6), datetime(2020, 12, 31, 16, 30, tzinfo=UTC))
    # Publishing in 2021 left the list of 2020 alone.
    assert ctx.public.head("index-2020.json").last_modified == written_2020
    later = publish_new(ctx, range(6, 60), datetime(2021, 5, 6, 1, 0, tzinfo=UTC))
    assert ctx.public.head("index-2020.json").last_modified == written_2020

    incremental = index_files(ctx)
    assert service.rebuild_public_index(ctx) == 59
    assert index_files(ctx) == incremental

    root = json.loads(incremental["index.json"])
    assert root["count"] == 59
    assert [(y["year"], y["count"]) for y in root["years"]] == [(2021, 56), (2020, 3)]
    newest_first = (second + later)[::-1]
    assert [d["id"] for d in root["latest"]] == newest_first[: render.FEED_SIZE]
    year_2020 = json.loads(incremental["index-2020.json"])
    year_2021 = json.loads(incremental["index-2021.json"])
    assert [d["id"] for d in year_2020["documents"]] == first[::-1]
    assert [d["id"] for d in year_2021["documents"]] == newest_first
    assert all("text" not in d for d in year_2021["documents"])
    feed = ET.fromstring(incremental["feed.atom"])
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == render.FEED_SIZE
    assert feed.findtext(f"{ATOM}updated") == "2021-05-06T09:00:00+08:00"  # the newest entry
    assert "共 59 件" in incremental["index.html"].decode("utf-8")


def test_rebuild_repairs_a_lost_year_list(ctx: Context) -> None:
    publish_new(ctx, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    publish_new(ctx, range(3, 4), datetime(2021, 7, 1, tzinfo=UTC))
    before = index_files(ctx)
    # A stale list for a year nothing is published in (left by an older catalog) is emptied.
    ctx.public.put("index-2019.json", b"{}", content_type="application/json")
    ctx.public.put("index-2020.json", b"broken", content_type="application/json")
    assert service.rebuild_public_index(ctx) == 3
    after = index_files(ctx)
    assert after["index-2020.json"] == before["index-2020.json"]
    assert json.loads(after["index-2019.json"]) == {"year": 2019, "count": 0, "documents": []}
    assert {k: v for k, v in after.items() if not k.startswith("index-2019")} == before


def test_incremental_index_after_a_withdrawal_equals_a_full_rebuild(ctx: Context) -> None:
    old = publish_new(ctx, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    publish_new(ctx, range(3, 5), datetime(2021, 7, 1, tzinfo=UTC))
    ctx.clock = Clock(datetime(2021, 8, 1, tzinfo=UTC))  # type: ignore[assignment]
    service.withdraw(ctx, old[0], reason="内容有误", actor="reviewer")
    incremental = index_files(ctx)
    assert [d["id"] for d in json.loads(incremental["index-2020.json"])["documents"]] == [old[1]]
    assert b"deleted-entry" in incremental["feed.atom"]
    assert service.rebuild_public_index(ctx) == 3
    assert index_files(ctx) == incremental


# --------------------------------------------------------------------------------------------
# two sweeps on one catalog


@pytest.fixture(params=["local", "s3-moto"])
def two_sweeps(
    request: pytest.FixtureRequest, database_url: str, gongkai_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Context, Context]]:  # fmt: skip
    """Two contexts (two sweeps) on one catalog and one public store."""
    monkeypatch.setenv("GONGKAI_DATABASE_URL", database_url)
    if request.param == "s3-moto":
        suffix = uuid.uuid4().hex[:12]
        for name, value in {"GONGKAI_S3_ENDPOINT": request.getfixturevalue("moto_s3_endpoint"),
                            "GONGKAI_S3_ACCESS_KEY": "test", "GONGKAI_S3_SECRET_KEY": "test",
                            "GONGKAI_S3_SECURE": "false", "GONGKAI_S3_REGION": "us-east-1",
                            "GONGKAI_S3_ARCHIVE_BUCKET": f"archive-{suffix}",
                            "GONGKAI_S3_PUBLIC_BUCKET": f"public-{suffix}"}.items():
            monkeypatch.setenv(name, value)
    with Context.open(load_settings()) as a, \
            Context.open(load_settings()) as b:
        a.clock = b.clock = Clock(datetime(2020, 6, 1, tzinfo=UTC))
        yield a, b


class BeforePut:
    """A public store that runs `hook` once, right before the first write of `key` (by put,
    or put_many where the store has it); the rest is the real store's."""

    def __init__(self, store: ObjectStore, key: str, hook: Callable[[], None]) -> None:
        self._store, self._key, self._hook = store, key, hook

    def _before(self, keys: Iterable[str]) -> None:
        if self._hook is not None and self._key in keys:
            hook, self._hook = self._hook, None
            hook()

    def put(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self._before([key])
        return self._store.put(key, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name != "put_many":
            return value

        def put_many(requests: Sequence[Any]) -> Any:
            self._before([r.key for r in requests])
            return value(requests)

        return put_many


def before_put(key: str) -> Callable[[Context, Callable[[], None]], None]:
    """Arms a hook on a's public store, before the first write of `key`."""

    def arm(a: Context, hook: Callable[[], None]) -> None:
        a.public = BeforePut(a.public, key, hook)  # type: ignore[assignment]

    return arm


def before_get_many(a: Context, hook: Callable[[], None]) -> None:
    """Arms a hook on a's catalog, before its next get_many (the records of the pages a
    repair restores)."""
    get_many = a.catalog.get_many

    def hooked(ids: Sequence[int]) -> Any:
        hook()
        return get_many(ids)

    a.catalog.get_many = hooked  # type: ignore[method-assign]


class SweepB(threading.Thread):
    """Sweep b's step, in a thread of its own; `reached` is set once b has run it to its end
    or as far as the public index lock (where b waits for whoever holds it)."""

    def __init__(self, b: Context, step: Callable[[], object]) -> None:
        super().__init__(name="sweep b")
        self.step, self.reached = step, threading.Event()
        self.failures: list[BaseException] = []
        lock = b.catalog.public_index_lock

        @contextmanager
        def signalled_lock() -> Iterator[None]:
            self.reached.set()
            with lock():
                yield

        b.catalog.public_index_lock = signalled_lock  # type: ignore[method-assign]

    def run(self) -> None:
        try:
            self.step()
        except BaseException as exc:
            self.failures.append(exc)
        finally:
            self.reached.set()

    def finish(self) -> None:
        self.join(60)
        assert not self.is_alive()
        for exc in self.failures:
            raise exc


def run_meanwhile(a: Context, b: Context, steps: Steps) -> SweepB:
    """Arm the scenario's hook in a: when it is reached, a waits until sweep b has run its
    step to the end or as far as the public index lock."""
    sweep_b = SweepB(b, steps.b)

    def hook() -> None:
        sweep_b.start()
        assert sweep_b.reached.wait(60), "sweep b neither finished nor reached the index lock"

    steps.arm(a, hook)
    return sweep_b


def listed_ids(ctx: Context) -> dict[str, set[int]]:
    root = json.loads(ctx.public.get_bytes("index.json"))
    year = json.loads(ctx.public.get_bytes("index-2020.json"))
    feed = ctx.public.get_bytes("feed.atom").decode("utf-8")
    entries = feed.split("<entry>")[1:]  # the deleted entries (withdrawals) come before
    return {"index.json": {d["id"] for d in root["latest"]},
            "index-2020.json": {d["id"] for d in year["documents"]},
            "feed.atom": {int(re.search(r"documents/(\d+)\.html", e)[1]) for e in entries}}  # type: ignore[index]


def assert_index_lists_the_catalog(ctx: Context) -> None:
    published = set(ctx.catalog.published_ids())
    assert listed_ids(ctx) == dict.fromkeys(("index.json", "index-2020.json", "feed.atom"),
                                            published)  # fmt: skip
    assert not service.public_gaps(ctx)
    written = index_files(ctx)
    service.rebuild_public_index(ctx)
    assert index_files(ctx) == written


BEFORE_ROOT_INDEX = before_put("index.json")


@dataclass(frozen=True)
class Steps:
    a: Callable[[], object]  # run in the test's thread
    b: Callable[[], object]  # run in sweep b's when a reaches the hook that `arm` sets
    # By default: a has read the catalog for the root index files and is about to write.
    arm: Callable[[Context, Callable[[], None]], None] = BEFORE_ROOT_INDEX


def publish_while_publishing(a: Context, b: Context) -> Steps:
    first = routed_new(a, range(1, 4), datetime(2020, 7, 1, tzinfo=UTC))
    second = routed_new(b, range(4, 6), datetime(2020, 7, 2, tzinfo=UTC))
    return Steps(lambda: publish_all(a, first), lambda: publish_all(b, second))


def repair_while_publishing(a: Context, b: Context) -> Steps:
    publish_new(a, range(1, 4), datetime(2020, 7, 1, tzinfo=UTC))
    a.public.delete("index.json")  # a gap for the repair to mend
    second = routed_new(b, range(4, 6), datetime(2020, 7, 2, tzinfo=UTC))
    return Steps(lambda: service.repair_public(a), lambda: publish_all(b, second))


def withdraw_while_publishing(a: Context, b: Context) -> Steps:
    old = publish_new(b, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    first = routed_new(a, range(3, 5), datetime(2020, 7, 2, tzinfo=UTC))
    b.clock = Clock(datetime(2020, 7, 3, tzinfo=UTC))  # type: ignore[assignment]
    return Steps(lambda: publish_all(a, first),
                 lambda: service.withdraw(b, old[0], reason="内容有误", actor="reviewer"))


def withdraw_before_the_pages(a: Context, b: Context) -> Steps:
    # a has published (the catalog says so) and has not written the pages yet.
    first = routed_new(a, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    b.clock = Clock(datetime(2020, 7, 3, tzinfo=UTC))  # type: ignore[assignment]
    return Steps(lambda: publish_all(a, first),
                 lambda: service.withdraw(b, first[0], reason="内容有误", actor="reviewer"),
                 before_put(f"documents/{first[0]}.json"))


def withdraw_while_repairing(a: Context, b: Context) -> Steps:
    # a found a page missing and is about to write it again.
    old = publish_new(a, range(1, 3), datetime(2020, 7, 1, tzinfo=UTC))
    a.public.delete(f"documents/{old[0]}.json")
    b.clock = Clock(datetime(2020, 7, 3, tzinfo=UTC))  # type: ignore[assignment]
    return Steps(lambda: service.repair_public(a),
                 lambda: service.withdraw(b, old[0], reason="内容有误", actor="reviewer"),
                 before_get_many)


@pytest.mark.parametrize("scenario", [publish_while_publishing, repair_while_publishing,
                                      withdraw_while_publishing, withdraw_before_the_pages,
                                      withdraw_while_repairing])  # fmt: skip
def test_concurrent_index_writes_list_every_published_document(
    two_sweeps: tuple[Context, Context], scenario: Callable[[Context, Context], Steps]
) -> None:
    # Sweep a reads the catalog for the index, then sweep b publishes (or withdraws) and
    # writes its index, then a writes what it read: the last writer held the stale view.
    # Or a writes pages after b has taken them down.
    a, b = two_sweeps
    steps = scenario(a, b)
    sweep_b = run_meanwhile(a, b, steps)
    steps.a()
    sweep_b.finish()
    assert_index_lists_the_catalog(a)
    for withdrawn in a.catalog.by_state("withdrawn"):
        assert not list(a.public.list(f"documents/{withdrawn.id}."))
