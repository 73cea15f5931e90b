"""撤回: when a published document was taken back (documents.withdrawn_at, state withdrawn).

The Atom feed carries a deleted entry (RFC 6721) for each withdrawn document, dated by it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("withdrawn_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "withdrawn_at")
