"""Fixity batches claimed, so that several workers share a run: documents.fixity_claimed_until
(a lease: a killed worker's batch is taken again once it expires), and the cursor indexed with
the id (ix_documents_fixity_checked_at_id) so that a claim reads a batch's rows from the index
in order, never-checked first, instead of sorting every due document.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("fixity_claimed_until", UTCDateTime(), nullable=True))
    op.drop_index("ix_documents_fixity_checked_at", table_name="documents")
    op.create_index(
        "ix_documents_fixity_checked_at_id", "documents", ["fixity_checked_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_documents_fixity_checked_at_id", table_name="documents")
    op.create_index("ix_documents_fixity_checked_at", "documents", ["fixity_checked_at"])
    op.drop_column("documents", "fixity_claimed_until")
