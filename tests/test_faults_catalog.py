"""PostgreSQL out: unreachable from the start, and its connections cut mid-run
(pg_terminate_backend from a connection of the test's own). The real `gongkai` command."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from faults import assert_told, assert_whole, free_port, gongkai_env, run, write_documents
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow


def test_an_unreachable_catalog_is_retried_then_named_in_one_line(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = gongkai_env(tmp_path / "home",
                      GONGKAI_DATABASE_URL=f"postgresql://gongkai@127.0.0.1:{port}/gongkai")
    started = time.monotonic()
    result = run(env, "status")
    assert_told(result, "无法连接目录数据库", f"127.0.0.1:{port}", "已重试")
    assert "重试（5/5）" in result.stderr  # the retries were made, and bounded
    assert time.monotonic() - started < 60


def test_a_missing_catalog_database_is_named(tmp_path: Path, postgres_url: str) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/gongkai_no_such_database"
    result = run(gongkai_env(tmp_path / "home", GONGKAI_DATABASE_URL=missing), "find")
    assert_told(result, "目录数据库", "不存在", "gongkai_no_such_database")
    assert "重试" not in result.stderr  # no retry mends that


def test_connections_cut_mid_run_are_retried_and_nothing_is_lost(
    tmp_path: Path, postgres_url: str
) -> None:
    documents = write_documents(tmp_path / "in", 60)
    env = gongkai_env(tmp_path / "home", GONGKAI_DATABASE_URL=postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/test", isolation_level="AUTOCOMMIT")
    cut: list[int] = []
    done = threading.Event()

    def cut_busy_connections() -> None:
        # Only connections in the middle of a statement or a transaction: an idle one would
        # be replaced by the pool's pre-ping without anyone noticing. Four cuts, seconds
        # apart: blips, each within what the retries ride out.
        with admin.connect() as connection:
            while not done.is_set() and len(cut) < 4:
                killed = connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid() "
                    "AND state IN ('active', 'idle in transaction')"), {"db": database}).scalar()
                if killed:
                    cut.append(int(killed))
                    time.sleep(1.5)
                time.sleep(0.005)

    cutter = threading.Thread(target=cut_busy_connections, daemon=True)
    cutter.start()
    try:
        result = run(env, "ingest", str(tmp_path / "in"), "--json")
    finally:
        done.set()
        cutter.join(timeout=10)
        admin.dispose()
    assert cut, "no connection was cut while busy: the test did not test anything"
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "目录数据库连接失败" in result.stderr  # the cuts were seen and retried
    assert_whole(env, len(documents))
