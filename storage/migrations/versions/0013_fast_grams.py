"""PostgreSQL's short-term search grams at a fraction of the cost to write (SQLite unchanged).

Writing a document cost about 5 ms on PostgreSQL, most of it the search grams of 0004: the gram
function ran a row per character through a window, a lateral VALUES and a sorted DISTINCT (about
1.4 ms for a text of 330 characters), and the GIN index compared its keys under the database's
collation. Now:
- gongkai_search_grams builds the same set from whole-string functions, one expression the
  planner inlines: the characters (string_to_array), the pairs at even offsets and at odd ones
  (regexp_replace puts a separator after every pair, string_to_array splits there). The array
  may hold a gram twice (GIN keeps each key once per row; @> asks for presence only). A title or
  text holding the separator itself (U+0001) takes the old row-per-character path.
- documents_grams.grams is COLLATE "C": the index orders its keys by bytes. Equality, the only
  thing a search asks of them, is byte equality under every deterministic collation anyway.
The grams already stored are the same sets and stay as they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SEPARATOR = r"E'\x01'"  # what the pair split puts after every pair (never part of a gram)
_PAIRS = (  # the adjacent pairs of {s}, at even offsets then odd ones ('' and a last single
    # character included: '' is removed below, a single character is a gram anyway)
    f"string_to_array(regexp_replace({{s}}, '(..)', E'\\\\1\\x01', 'g'), {SEPARATOR}) || "
    f"string_to_array(regexp_replace(substr({{s}}, 2), '(..)', E'\\\\1\\x01', 'g'), {SEPARATOR})"
)
# 0004's definition, kept for a text holding the separator.
_ROW_PER_CHARACTER = (
    "SELECT coalesce(array_agg(DISTINCT gram), '{}') "
    "FROM unnest(ARRAY[lower(title), lower(body)]) AS part(s), "
    "LATERAL (SELECT c, lead(c) OVER (ORDER BY n) AS next "
    "         FROM string_to_table(part.s, NULL) WITH ORDINALITY AS chars(c, n)) AS pairs, "
    "LATERAL (VALUES (c), (c || next)) AS grams(gram) "
    "WHERE gram IS NOT NULL"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION gongkai_search_grams_by_row(title text, body text) RETURNS text[] "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {_ROW_PER_CHARACTER} $$"
    )
    lowered = {"t": "lower(title)", "b": "lower(body)"}
    fast = (
        f"array_remove(string_to_array({lowered['t']}, NULL) || "
        f"string_to_array({lowered['b']}, NULL) || {_PAIRS.format(s=lowered['t'])} || "
        f"{_PAIRS.format(s=lowered['b'])}, '')"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION gongkai_search_grams(title text, body text) "
        "RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE "
        f"WHEN strpos(coalesce(title, '') || coalesce(body, ''), {SEPARATOR}) > 0 "
        f"THEN gongkai_search_grams_by_row(title, body) ELSE coalesce({fast}, '{{}}') END $$"
    )
    op.execute('ALTER TABLE documents_grams ALTER COLUMN grams TYPE text[] COLLATE "C"')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute('ALTER TABLE documents_grams ALTER COLUMN grams TYPE text[] COLLATE "default"')
    op.execute(
        "CREATE OR REPLACE FUNCTION gongkai_search_grams(title text, body text) "
        f"RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {_ROW_PER_CHARACTER} $$"
    )
    op.execute("DROP FUNCTION gongkai_search_grams_by_row(text, text)")
