"""Full-text search of 1-2 character terms from an index (documents_grams), and the published
documents by date of publication (ix_documents_state_published_at) for the public index.

The trigram indexes (SQLite FTS5 trigram, PostgreSQL pg_trgm) cannot answer a term shorter than
three characters, and 1-2 characters are most Chinese words: such a search scanned every text.
documents_grams holds, per document, every character and every pair of adjacent characters of
its title and text, case-folded as the search compares them (SQLite: ASCII letters, as LIKE
does; PostgreSQL: lower(), as ILIKE does):
- SQLite: a contentless FTS5 table (detail=none: presence only), each gram written as the hex of
  its code points (6 digits a character), so that the `ascii` tokenizer keeps every gram whole,
  punctuation, spaces, % and _ included. Triggers keep it with gongkai_grams(title, text), a
  function the catalog registers on each of its SQLite connections (storage/catalog.py).
- PostgreSQL: a text[] per document with a GIN index, kept by a trigger with
  gongkai_search_grams(title, text); queries use gongkai_needle_grams(term).
The existing catalog's grams are built here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_documents_state_published_at", "documents", ["state", "published_at"]
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_grams()
    elif dialect == "postgresql":
        _postgresql_grams()


def _sqlite_grams() -> None:
    op.execute(
        "CREATE VIRTUAL TABLE documents_grams USING fts5("
        "grams, content='', detail=none, tokenize='ascii')"
    )
    op.execute(
        "CREATE TRIGGER documents_grams_ai AFTER INSERT ON documents BEGIN "
        "INSERT INTO documents_grams(rowid, grams) "
        "VALUES (new.id, gongkai_grams(new.title, new.text)); END"
    )
    # A contentless table forgets what it indexed: 'delete' is given the same grams again.
    op.execute(
        "CREATE TRIGGER documents_grams_ad AFTER DELETE ON documents BEGIN "
        "INSERT INTO documents_grams(documents_grams, rowid, grams) "
        "VALUES ('delete', old.id, gongkai_grams(old.title, old.text)); END"
    )
    op.execute(
        "CREATE TRIGGER documents_grams_au AFTER UPDATE OF title, text ON documents "
        "WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN "
        "INSERT INTO documents_grams(documents_grams, rowid, grams) "
        "VALUES ('delete', old.id, gongkai_grams(old.title, old.text)); "
        "INSERT INTO documents_grams(rowid, grams) "
        "VALUES (new.id, gongkai_grams(new.title, new.text)); END"
    )
    op.execute(
        "INSERT INTO documents_grams(rowid, grams) "
        "SELECT id, gongkai_grams(title, text) FROM documents"
    )


def _postgresql_grams() -> None:
    # Every character and every adjacent pair of lower(title) and lower(body), once each.
    op.execute(
        "CREATE FUNCTION gongkai_search_grams(title text, body text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT coalesce(array_agg(DISTINCT gram), '{}') "
        "FROM unnest(ARRAY[lower(title), lower(body)]) AS part(s), "
        "LATERAL (SELECT c, lead(c) OVER (ORDER BY n) AS next "
        "         FROM string_to_table(part.s, NULL) WITH ORDINALITY AS chars(c, n)) AS pairs, "
        "LATERAL (VALUES (c), (c || next)) AS grams(gram) "
        "WHERE gram IS NOT NULL $$"
    )
    # What a document containing `term` has among its grams: the pairs of lower(term), or the
    # one character of a single-character term.
    op.execute(
        "CREATE FUNCTION gongkai_needle_grams(term text) RETURNS text[] "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
        "SELECT CASE WHEN length(lower(term)) < 2 THEN ARRAY[lower(term)] ELSE ("
        "  SELECT array_agg(DISTINCT substr(lower(term), i, 2)) "
        "  FROM generate_series(1, length(lower(term)) - 1) AS i) END $$"
    )
    op.execute(
        "CREATE TABLE documents_grams ("
        "document_id integer PRIMARY KEY "
        "REFERENCES documents(id) ON DELETE CASCADE, grams text[] NOT NULL)"
    )
    op.execute("CREATE INDEX ix_documents_grams ON documents_grams USING gin (grams)")
    op.execute(
        "CREATE FUNCTION gongkai_documents_grams() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO documents_grams (document_id, grams) "
        "VALUES (NEW.id, gongkai_search_grams(NEW.title, NEW.text)) "
        "ON CONFLICT (document_id) DO UPDATE SET grams = EXCLUDED.grams; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER documents_grams_insert AFTER INSERT ON documents "
        "FOR EACH ROW EXECUTE FUNCTION gongkai_documents_grams()"
    )
    op.execute(
        "CREATE TRIGGER documents_grams_update AFTER UPDATE OF title, text ON documents "
        "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title "
        "OR OLD.text IS DISTINCT FROM NEW.text) "
        "EXECUTE FUNCTION gongkai_documents_grams()"
    )
    op.execute(
        "INSERT INTO documents_grams (document_id, grams) "
        "SELECT id, gongkai_search_grams(title, text) FROM documents"
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("documents_grams_ai", "documents_grams_ad", "documents_grams_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS documents_grams")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS documents_grams_update ON documents")
        op.execute("DROP TRIGGER IF EXISTS documents_grams_insert ON documents")
        op.execute("DROP FUNCTION IF EXISTS gongkai_documents_grams()")
        op.execute("DROP TABLE IF EXISTS documents_grams")
        op.execute("DROP FUNCTION IF EXISTS gongkai_needle_grams(text)")
        op.execute("DROP FUNCTION IF EXISTS gongkai_search_grams(text, text)")
    op.drop_index("ix_documents_state_published_at", "documents")
