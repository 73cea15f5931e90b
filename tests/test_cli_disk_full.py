"""A full (or read-only) disk ends a command with what to do, not a traceback
(entrypoints/cli.py run)."""

from __future__ import annotations

import errno
import gc
import shutil
import sqlite3
from collections import namedtuple

import pytest

from gongkai.entrypoints import cli


@pytest.fixture(autouse=True)
def _no_process_wide_gc_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    # run() tunes and freezes the collector for the command's process, not for pytest's.
    monkeypatch.setattr(cli, "collect_less_often", lambda: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)


def raising(exc: BaseException):  # type: ignore[no-untyped-def]
    def main() -> None:
        raise exc

    return main


def test_what_says_the_disk_is_full() -> None:
    assert cli.disk_full(OSError(errno.ENOSPC, "No space left on device")) == (
        "No space left on device")
    assert cli.disk_full(OSError(errno.EDQUOT, "Disk quota exceeded", "/srv/gongkai/x")) == (
        "Disk quota exceeded: /srv/gongkai/x")
    try:  # wrapped, as SQLAlchemy and our stores wrap what the system said
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as inner:
            raise RuntimeError("(sqlite3.OperationalError) could not commit") from inner
    except RuntimeError as wrapped:
        assert cli.disk_full(wrapped) == "the catalog's disk is full (database or disk is full)"
    assert cli.disk_full(OSError(errno.ENOENT, "No such file or directory")) is None
    assert cli.disk_full(ValueError("bad value")) is None


def test_a_full_disk_ends_the_command_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], gongkai_env
) -> None:
    monkeypatch.setattr(cli, "main", raising(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(SystemExit) as stopped:
        cli.run()
    assert stopped.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: No space left on device. Nothing is lost")
    assert "run the same command again" in err and "Traceback" not in err


def test_a_failure_without_an_errno_on_a_full_home_disk_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], gongkai_env
) -> None:
    # Prefect's server, whose database is in GONGKAI_HOME, answers 500 when its disk is full.
    monkeypatch.setattr(cli, "main", raising(RuntimeError("Server error '500'")))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: usage(100, 100, 0))
    with pytest.raises(SystemExit):
        cli.run()
    err = capsys.readouterr().err
    assert "is full (0 bytes free) (what failed: RuntimeError: Server error '500')" in err


def test_other_failures_are_not_dressed_up(
    monkeypatch: pytest.MonkeyPatch, gongkai_env
) -> None:
    monkeypatch.setattr(cli, "main", raising(RuntimeError("a bug")))
    with pytest.raises(RuntimeError, match="a bug"):
        cli.run()
