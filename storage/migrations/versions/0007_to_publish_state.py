"""An explicit state for documents routed to publication and not published yet: `to_publish`.

Before it, such a document stayed `received` with its routing recorded (`routed_at` set) until
the publish step moved it. Upgrading moves each of them to `to_publish`, audited as a state
change (actor "gongkai db upgrade"); downgrading moves them back.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ACTOR = "gongkai db upgrade"

documents = sa.table(
    "documents", sa.column("id", sa.Integer), sa.column("state", sa.String),
    sa.column("routed_at", sa.DateTime(timezone=True)),
)  # fmt: skip
events = sa.table(
    "events", sa.column("document_id", sa.Integer), sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String), sa.column("actor", sa.String), sa.column("detail", sa.JSON),
)  # fmt: skip


def _move(from_state: str, to_state: str, routed: bool) -> None:
    bind = op.get_bind()
    where = documents.c.state == from_state
    if routed:
        where = where & documents.c.routed_at.is_not(None)
    ids = [row.id for row in bind.execute(sa.select(documents.c.id).where(where))]
    if not ids:
        return
    bind.execute(sa.update(documents).where(documents.c.id.in_(ids)).values(state=to_state))
    now = datetime.now(UTC)
    at = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now  # as UTCDateTime
    bind.execute(sa.insert(events), [
        {"document_id": i, "at": at, "kind": "state", "actor": ACTOR,
         "detail": {"from": from_state, "to": to_state, "reason": "migration 0007"}}
        for i in ids
    ])  # fmt: skip


def upgrade() -> None:
    _move("received", "to_publish", routed=True)


def downgrade() -> None:
    _move("to_publish", "received", routed=False)
