"""Waiting documents claimed, so that several sweeps share them: documents.claimed_by (the
worker) and documents.claimed_until (a lease: a killed sweep's batch is taken again once it
expires), the same shape as 0009's fixity claim but for a document's processing.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("claimed_by", sa.String(128), nullable=True))
    op.add_column("documents", sa.Column("claimed_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "claimed_until")
    op.drop_column("documents", "claimed_by")
