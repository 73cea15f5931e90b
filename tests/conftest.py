"""Shared fixtures. Area-specific fixtures live in the plugin modules listed below."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

pytest_plugins = [p for p in ("plugin_s3", "plugin_corpus", "plugin_prefect")
                  if os.path.exists(os.path.join(os.path.dirname(__file__), f"{p}.py"))]

PG_ADMIN_URL = os.environ.get(
    "GONGKAI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_unavailable(reason: str) -> None:
    # In CI a missing PostgreSQL is a failure, never a silent skip.
    if in_ci():
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"gongkai_t_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # connection refused, auth, ...
        admin.dispose()
        _pg_unavailable(str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """Runs a catalog test on both SQLite and PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def both_catalogs_ctx(request, gongkai_env, monkeypatch):
    """A service Context with a fixed clock (service_run.fixed_clock_context) on a SQLite and
    on a PostgreSQL catalog, with the embedded local stores of `gongkai_env`."""
    from service_run import fixed_clock_context

    if request.param == "postgresql":
        monkeypatch.setenv("GONGKAI_DATABASE_URL", request.getfixturevalue("postgres_url"))
    with fixed_clock_context() as context:
        yield context


@pytest.fixture
def gongkai_env(tmp_path, monkeypatch) -> dict[str, str]:
    """An isolated embedded-default GONGKAI_HOME for one test."""
    home = tmp_path / "home"
    monkeypatch.setenv("GONGKAI_HOME", str(home))
    for var in ("GONGKAI_DATABASE_URL", "GONGKAI_S3_ENDPOINT", "GONGKAI_STORE"):
        monkeypatch.delenv(var, raising=False)
    return {"GONGKAI_HOME": str(home)}
