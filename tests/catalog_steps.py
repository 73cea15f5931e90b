"""Catalog steps shared by the storage tests: minimal registrations, and moving a catalog's
database to an older or newer schema revision through Alembic's public commands."""

from __future__ import annotations

import hashlib
from typing import Any

from alembic import command
from sqlalchemy import create_engine, text

from gongkai.storage.catalog import Catalog, Registration, normalize_database_url


def registration(label: str) -> Registration:
    sha = hashlib.sha256(label.encode()).hexdigest()
    return Registration(sha256=sha, size=1, filename=f"{label}.docx",
                        content_type="application/octet-stream",
                        original_key=f"originals/{sha}", source="test", actor="t")  # fmt: skip


def register(catalog: Catalog, count: int, label: str) -> list[int]:
    """`count` minimal documents, registered in one batch; their ids."""
    registered = catalog.register_many([registration(f"{label} {i}") for i in range(count)])
    return [record.id for record, _ in registered]


def query(database_url: str, sql: str) -> list[Any]:
    """The rows of one SQL statement on the catalog at `database_url`, read from outside the
    processes under test (a fresh engine, disposed after)."""
    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def ids(records: list) -> list[int]:
    return [r.id for r in records]


def migrate(catalog: Catalog, revision: str, *, down: bool = False) -> None:
    """Upgrade (or, `down`, downgrade) the catalog's schema to `revision` in one write."""
    config = catalog._alembic_config()
    with catalog.begin_write() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
