"""Short pending lists (256 kB, not PostgreSQL's default 4 MB) for the GIN search indexes.

GIN keeps the rows written since the last vacuum or merge in an unsorted list that every
search scans, and the planner, seeing a long one, falls back to scanning the table: right after
a bulk load of 10k documents a 2-character term took 0.6 s instead of 0.02 ms (after a vacuum).
SQLite has nothing of the kind.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GIN_PENDING_LIST_KB = 256
INDEXES = ("ix_documents_grams", "ix_documents_title_trgm", "ix_documents_text_trgm")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {GIN_PENDING_LIST_KB})")
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
