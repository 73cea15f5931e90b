"""The outbox relay's cursor: audit rows are sent to Prefect as events after they are committed.

- events.xid: the writing transaction of the row. On PostgreSQL its id
  (pg_current_xact_id()), so that a relay reads only rows of transactions that have ended (below
  the snapshot's xmin) and never passes a row committed after a later one (ids come from a
  sequence, commits in any order). On SQLite 0: its single writer commits rows in id order.
  Rows written before this revision get 0.
- relay_cursors: per relay name, the last (xid, id) delivered, and a lease (holder, until), so
  that of two relays on one catalog one sends while the other waits to take over.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gongkai.storage.models import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: no row is rewritten (the append-only trigger refuses updates).
    op.add_column("events", sa.Column("xid", sa.BigInteger(), nullable=False,
                                      server_default=sa.text("0")))  # fmt: skip
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN xid "
                   "SET DEFAULT (pg_current_xact_id()::text::bigint)")  # fmt: skip
    op.create_index("ix_events_xid_id", "events", ["xid", "id"])
    op.create_table(
        "relay_cursors",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("held_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_relay_cursors"),
    )


def downgrade() -> None:
    op.drop_table("relay_cursors")
    op.drop_index("ix_events_xid_id", table_name="events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE events ALTER COLUMN xid DROP DEFAULT")
    op.drop_column("events", "xid")
