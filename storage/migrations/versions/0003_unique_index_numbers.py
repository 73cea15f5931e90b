"""One document per 索引号: a unique index on documents.index_number.

A catalog made before it may hold one 索引号 on several documents (an assigned serial that
repeated one read from a file). Upgrading keeps each such number on one document and takes it
off the others, each audited as "index_number_released" (actor "gongkai db upgrade"):

- a number printed in the file (the extracted 索引号) is kept before one gongkai assigned;
- among equals, the document that had it first (the lowest id) keeps it.

A published document that lost its number this way is given a new one, and its public pages
are written again, by the next publish run (publishable_ids lists it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTOR = "gongkai db upgrade"


def _read_from_file(metadata: Any, number: str) -> bool:
    if isinstance(metadata, str):
        metadata = json.loads(metadata or "{}")
    return isinstance(metadata, dict) and metadata.get("index_number") == number


def _release_duplicates(bind: sa.Connection) -> None:
    shared = bind.execute(sa.text(
        "SELECT index_number FROM documents WHERE index_number IS NOT NULL "
        "GROUP BY index_number HAVING COUNT(*) > 1"
    )).scalars().all()  # fmt: skip
    now = datetime.now(UTC)
    at: Any = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    for number in shared:
        holders = bind.execute(
            sa.text("SELECT id, metadata FROM documents WHERE index_number = :n ORDER BY id"),
            {"n": number},
        ).all()
        keeper = min(holders, key=lambda h: (not _read_from_file(h[1], number), h[0]))[0]
        for doc_id, _metadata in holders:
            if doc_id == keeper:
                continue
            bind.execute(sa.text("UPDATE documents SET index_number = NULL WHERE id = :id"),
                         {"id": doc_id})  # fmt: skip
            detail = {"index_number": number, "kept_by": keeper,
                      "reason": f"索引号重复，保留在文档 {keeper}；the 索引号 was shared, "
                                f"document {keeper} keeps it"}  # fmt: skip
            bind.execute(
                sa.text("INSERT INTO events (document_id, at, kind, actor, detail) "
                        "VALUES (:d, :at, 'index_number_released', :actor, :detail)")
                .bindparams(sa.bindparam("detail", type_=sa.JSON())),
                {"d": doc_id, "at": at, "actor": ACTOR, "detail": detail},
            )  # fmt: skip


def upgrade() -> None:
    _release_duplicates(op.get_bind())
    op.drop_index("ix_documents_index_number", table_name="documents")
    op.create_index("uq_documents_index_number", "documents", ["index_number"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_documents_index_number", table_name="documents")
    op.create_index("ix_documents_index_number", "documents", ["index_number"])
