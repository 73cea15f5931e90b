"""`to_publish` (待发布): a document routed to publication and not published yet has a state of
its own (issue 14). Migration 0007 moves the documents an older catalog kept in `received` with
their routing recorded; SQLite and PostgreSQL (the `database_url` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog_steps import migrate, registration
from sqlalchemy import text

from gongkai.storage.catalog import Catalog


def test_upgrade_moves_routed_received_documents_to_to_publish(database_url: str) -> None:
    old = Catalog(database_url)
    try:
        migrate(old, "0006")
        at = datetime(2021, 3, 20, 2, 0, tzinfo=UTC)
        sqlite = database_url.startswith("sqlite")
        routed, waiting, withheld = 1, 2, 3
        with old.begin_write() as connection:
            # Rows as that schema holds them (today's models have columns it lacks).
            for doc_id in (routed, waiting, withheld):
                r = registration(f"t{doc_id}")
                values = {"id": doc_id, "sha": r.sha256, "name": r.filename, "key": r.original_key,
                          "at": at.replace(tzinfo=None) if sqlite else at}  # fmt: skip
                connection.execute(text(
                    "INSERT INTO documents (id, sha256, filename, size, content_type, source, "
                    "original_key, state, received_at, deadline_provisional, metadata, text) "
                    "VALUES (:id, :sha, :name, 1, 'application/octet-stream', 'test', :key, "
                    "'received', :at, false, '{}', '')"), values)  # fmt: skip
                connection.execute(text(
                    "INSERT INTO events (document_id, at, kind, actor, detail) "
                    "VALUES (:id, :at, 'received', 't', '{}')"), values)  # fmt: skip
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
