"""`to_publish` (待发布): a document routed to publication and not published yet has a state of
its own (issue 14). Migration 0007 moves the documents an older catalog kept in `received` with
their routing recorded; SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy import text

from gongkai.storage.catalog import Catalog, Registration


def registration(label: str) -> Registration:
    sha = hashlib.sha256(label.encode()).hexdigest()
    return Registration(sha256=sha, size=1, filename=f"{label}.docx",
                        content_type="application/octet-stream",
                        original_key=f"originals/{sha}", source="test", actor="t")  # fmt: skip


def test_upgrade_moves_routed_received_documents_to_to_publish(database_url: str) -> None:
    old = Catalog(database_url)
    try:
        from alembic import command

        config = old._alembic_config()
        with old.begin_write() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        routed, waiting, withheld = (r.id for r, _ in old.register_many(
            [registration(f"t{i}") for i in range(3)]))  # fmt: skip
        at = datetime(2021, 3, 20, 2, 0, tzinfo=UTC)
        sqlite = database_url.startswith("sqlite")
        with old.begin_write() as connection:
            connection.execute(
                text("UPDATE documents SET routed_at = :at WHERE id IN (:a, :b)"),
                {"at": at.replace(tzinfo=None) if sqlite else at, "a": routed, "b": withheld},
            )  # fmt: skip
            connection.execute(text("UPDATE documents SET state = 'withheld' WHERE id = :b"),
                               {"b": withheld})  # fmt: skip
    finally:
        old.close()
    with Catalog.open(database_url) as catalog:
        states = catalog.states_of([routed, waiting, withheld])
        assert states == {routed: "to_publish", waiting: "received", withheld: "withheld"}
        moved = catalog.history(routed)[-1]
        assert moved.kind == "state" and moved.actor == "gongkai db upgrade"
        assert moved.detail["from"] == "received" and moved.detail["to"] == "to_publish"
        assert [e.kind for e in catalog.history(waiting)] == ["received"]
