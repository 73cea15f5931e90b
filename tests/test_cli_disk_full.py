"""An outage (a full or read-only disk, the catalog or the object store out) ends a command with
one line of what to do, not a traceback (entrypoints/errors.py, storage/outages.py). The real
faults are injected in tests/test_faults_*.py; these check how exceptions are told apart."""

from __future__ import annotations

import errno
import sqlite3

import pytest

from gongkai.entrypoints.errors import explain
from gongkai.storage.outages import catalog_retry_worthy, outage_of, retried


def wrapped(inner: BaseException, outer: str) -> RuntimeError:
    try:
        try:
            raise inner
        except BaseException as caught:
            raise RuntimeError(outer) from caught
    except RuntimeError as exc:
        return exc


def test_a_full_disk_is_told_from_other_errors() -> None:
    assert outage_of(OSError(errno.ENOSPC, "No space left on device")).detail == (
        "No space left on device")
    assert outage_of(OSError(errno.EDQUOT, "Disk quota exceeded", "/srv/x")).detail == (
        "Disk quota exceeded: /srv/x")
    sqlite_full = wrapped(sqlite3.OperationalError("database or disk is full"), "commit")
    assert outage_of(sqlite_full).kind == "disk_full"
    assert outage_of(OSError(errno.ENOENT, "No such file or directory")) is None
    assert outage_of(ValueError("bad value")) is None


def test_the_message_is_one_chinese_line_naming_what_to_do(gongkai_env) -> None:
    explained = explain(OSError(errno.ENOSPC, "No space left on device"))
    assert explained is not None and explained.outage.code == "disk_full"
    assert "\n" not in explained.message
    assert explained.message.startswith("错误：磁盘已满或只读（No space left on device）")
    assert "再次运行同一命令" in explained.message
    assert explain(RuntimeError("a bug")) is None


def test_a_bug_is_not_retried_and_a_lost_connection_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gongkai.storage.outages.retry_delays", lambda n, base: [0.0] * n)
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            lost = ConnectionError("lost")
            lost.connection_invalidated = True  # type: ignore[attr-defined]
            raise lost
        return "done"

    assert retried(flaky, transient=catalog_retry_worthy, attempts=5, base=0, what="t")() == (
        "done")
    assert len(calls) == 3

    def bug() -> None:
        calls.append(1)
        raise ValueError("bug")

    calls.clear()
    with pytest.raises(ValueError):
        retried(bug, transient=catalog_retry_worthy, attempts=5, base=0, what="t")()
    assert len(calls) == 1
