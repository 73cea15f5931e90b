"""Fixity in resumable batches: a per-document cursor (documents.fixity_checked_at, the
oldest-checked go first) and the runs (fixity_runs: a run that did not finish is taken up
again by the next one).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("fixity_checked_at", UTCDateTime(), nullable=True))
    op.create_index("ix_documents_fixity_checked_at", "documents", ["fixity_checked_at"])
    op.create_table(
        "fixity_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fixity_runs"),
    )


def downgrade() -> None:
    op.drop_table("fixity_runs")
    op.drop_index("ix_documents_fixity_checked_at", table_name="documents")
    op.drop_column("documents", "fixity_checked_at")
