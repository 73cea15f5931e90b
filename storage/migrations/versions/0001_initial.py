"""The catalog: documents, append-only events, review decisions, cited file numbers, index
serials; full-text search (SQLite FTS5 trigram / PostgreSQL pg_trgm).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("format", sa.String(16), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("declared_disclosure", sa.String(32), nullable=True),
        sa.Column("original_key", sa.Text(), nullable=False),
        sa.Column("archive_key", sa.Text(), nullable=True),
        sa.Column("redacted_key", sa.Text(), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("file_number", sa.String(128), nullable=True),
        sa.Column("disclosure", sa.String(32), nullable=True),
        sa.Column("disclosure_reason", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("security_level", sa.String(16), nullable=True),
        sa.Column("security_period", sa.String(32), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("signer", sa.Text(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("index_number", sa.String(128), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("text_layer", sa.Boolean(), nullable=True),
        sa.Column("exception_reason", sa.Text(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("routed_at", UTCDateTime(), nullable=True),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("next_review_at", sa.Date(), nullable=True),
        sa.Column("publish_deadline", sa.Date(), nullable=True),
        sa.Column("deadline_provisional", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("sha256", name="uq_documents_sha256"),
    )
    for column in ("state", "file_number", "index_number", "date"):
        op.create_index(f"ix_documents_{column}", "documents", [column])
    op.create_index("ix_documents_state_next_review_at", "documents", ["state", "next_review_at"])

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_events_document_id_documents"
        ),
    )
    op.create_index("ix_events_document_id", "events", ["document_id"])
    op.create_index("ix_events_kind", "events", ["kind"])

    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("next_review_at", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_review_decisions"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_review_decisions_document_id_documents"
        ),
    )
    op.create_index("ix_review_decisions_document_id", "review_decisions", ["document_id"])

    op.create_table(
        "cited_file_numbers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("file_number", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cited_file_numbers"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name="fk_cited_file_numbers_document_id_documents"
        ),
        sa.UniqueConstraint("document_id", "position", name="uq_cited_position"),
    )
    op.create_index("ix_cited_file_numbers_document_id", "cited_file_numbers", ["document_id"])
    op.create_index("ix_cited_file_numbers_file_number", "cited_file_numbers", ["file_number"])

    op.create_table(
        "index_serials",
        sa.Column("org_code", sa.String(64), nullable=False),
        sa.Column("info_class", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("org_code", "info_class", "year", name="pk_index_serials"),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_search_and_audit()
    elif dialect == "postgresql":
        _postgresql_search_and_audit()


def _sqlite_search_and_audit() -> None:
    # External-content FTS5 over title + text; the trigram tokenizer gives substring search
    # for Chinese without word segmentation (queries of 3 characters or more).
    op.execute(
        "CREATE VIRTUAL TABLE documents_fts USING fts5("
        "title, text, content='documents', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
        "INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); END"
    )
    op.execute(
        "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, text ON documents BEGIN "
        "INSERT INTO documents_fts(documents_fts, rowid, title, text) "
        "VALUES ('delete', old.id, old.title, old.text); "
        "INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text); "
        "END"
    )
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER events_append_only_{operation.lower()} BEFORE {operation} ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"
        )


def _postgresql_search_and_audit() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_documents_title_trgm ON documents USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX ix_documents_text_trgm ON documents USING gin (text gin_trgm_ops)")
    op.execute(
        "CREATE FUNCTION gongkai_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'events are append-only: % refused', TG_OP; END $$"
    )
    op.execute(
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION gongkai_events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION gongkai_events_append_only()"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS documents_fts")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS events_append_only_truncate ON events")
        op.execute("DROP TRIGGER IF EXISTS events_append_only ON events")
        op.execute("DROP FUNCTION IF EXISTS gongkai_events_append_only()")
    for table in ("index_serials", "cited_file_numbers", "review_decisions", "events"):
        op.drop_table(table)
    op.drop_table("documents")  # its triggers and indexes go with it
