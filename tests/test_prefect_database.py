"""The batch server's Prefect database: migrated once per Prefect version (flows/prefect_database).

A Prefect database here is a real SQLite file shaped as Prefect's migration leaves it (a table
of Alembic's revision with its one row, and empty tables); the server itself is exercised by
tests/test_lifecycle_runtime.py and every test that runs `gongkai ingest`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gongkai.flows import prefect_database


@pytest.fixture
def template_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GONGKAI_PREFECT_TEMPLATE_DIR", str(folder))
    return folder


def _migrated(home: Path, *, runs: int = 0) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    database = home / "prefect.db"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('head-of-this-version')")
        db.execute("CREATE TABLE flow_run (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO flow_run (name) VALUES (?)", [(f"run {n}",)
                                                                  for n in range(runs)])
    return database


def test_a_migrated_database_becomes_the_template_and_a_new_home_starts_from_it(
    tmp_path: Path, template_dir: Path
) -> None:
    first, second = tmp_path / "first" / "prefect", tmp_path / "second" / "prefect"
    first.mkdir(parents=True)
    assert prefect_database.migrate_on_start(first)  # nothing there: Prefect migrates
    assert not prefect_database.seed(first)  # and there is no template yet
    _migrated(first)
    prefect_database.after_ready(first, migrated=True)
    assert not prefect_database.migrate_on_start(first)  # at the head now: no check
    assert prefect_database.template_path().parent == template_dir
    second.mkdir(parents=True)
    assert prefect_database.seed(second)
    assert not prefect_database.migrate_on_start(second)
    with sqlite3.connect(second / "prefect.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("head-of-this-version",)]
    assert sorted(p.name for p in template_dir.iterdir()) == [
        f"prefect-{prefect_database.prefect_version()}.db"]  # one file, no leftovers


def test_a_database_that_has_runs_is_no_template(tmp_path: Path, template_dir: Path) -> None:
    home = tmp_path / "home" / "prefect"
    _migrated(home, runs=3)
    prefect_database.after_ready(home, migrated=True)
    assert not prefect_database.template_path().exists()
    assert not template_dir.exists() or not any(template_dir.iterdir())
    assert not prefect_database.migrate_on_start(home)  # still at the head, marked


def test_a_home_keeps_its_own_database_and_migrates_after_a_prefect_upgrade(
    tmp_path: Path, template_dir: Path
) -> None:
    home = tmp_path / "home" / "prefect"
    database = _migrated(home, runs=2)
    _migrated(tmp_path / "other")
    prefect_database.after_ready(tmp_path / "other", migrated=True)  # a template exists
    assert not prefect_database.seed(home)  # never replaces a home's own database
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM flow_run").fetchone() == (2,)
    assert prefect_database.migrate_on_start(home)  # not marked by this version: migrate
    (home / "prefect.db.migrated").write_text("prefect 3.0.0\n")  # marked by another one
    assert prefect_database.migrate_on_start(home)
    database.unlink()  # a marker without its database means nothing
    prefect_database.after_ready(tmp_path / "other", migrated=False)
    assert prefect_database.migrate_on_start(home)
