"""PostgreSQL: the documents holding a 1-2 character term, always found from the gram index.

For a gram most documents hold (a common character), the planner scanned documents_grams and
tested every row's grams: it prices that test as one comparison, but each row's grams are a
compressed array of several hundred entries stored out of line, so the scan cost 1.1 s at 10k
documents where the index answers in 30 ms (the index is exact for @>: no row is unpacked).
gongkai_gram_matches(term) runs the lookup with sequential scans off for itself alone (a
function's own SET: the rest of the statement is planned as usual). SQLite unchanged.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION gongkai_gram_matches(term text) RETURNS integer[] "
        "LANGUAGE sql STABLE PARALLEL SAFE SET enable_seqscan = off AS $$ "
        "SELECT ARRAY(SELECT document_id FROM documents_grams "
        "WHERE grams @> gongkai_needle_grams(term)) $$"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION gongkai_gram_matches(text)")
