"""Alembic environment. Run from code by `Catalog.upgrade()` (which passes its own connection
in `config.attributes["connection"]`), or by developers with storage/alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gongkai.storage.models import Base

# Any number for a PostgreSQL advisory lock, the same in every process: concurrent upgrades of
# one database wait for each other instead of racing to create the same tables.
MIGRATION_LOCK_ID = 0x60A6_CA7A


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    # Every caller hands over a connection inside its own transaction (Catalog.begin_write), in
    # which Alembic's own transaction block would do nothing: the migrations commit with it.
    context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Developer use: `alembic -c storage/alembic.ini upgrade head`, on the catalog of
    # GONGKAI_DATABASE_URL / GONGKAI_HOME unless sqlalchemy.url is set in the ini file.
    from gongkai.storage.catalog import Catalog

    catalog = Catalog(context.config.get_main_option("sqlalchemy.url") or _settings_url())
    try:
        with catalog.begin_write() as conn:
            _run(conn)
    finally:
        catalog.close()


def _settings_url() -> str:
    from gongkai.config import load_settings

    return load_settings().database_url


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
