"""Versions of a 文号: documents.version_of, the first document of the same 文号 and issuer
(None for the first one). Existing documents are left unlinked: the link is made when a
document is read (a catalog that already holds several documents of one 文号 keeps them as
they are; the next version links to the earliest of them).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("version_of", sa.Integer(), nullable=True))
    op.create_index("ix_documents_version_of", "documents", ["version_of"])


def downgrade() -> None:
    op.drop_index("ix_documents_version_of", table_name="documents")
    op.drop_column("documents", "version_of")
