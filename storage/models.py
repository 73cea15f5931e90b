"""Typed ORM models of the catalog (SQLAlchemy 2).

The schema itself is made only by the Alembic migrations in storage/migrations/; these models
describe it for queries. Keep both in step (tests/test_storage_catalog.py compares them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zone type: values are stored as naive UTC and made aware again on read.
    A naive datetime handed in is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Constraint names fixed by convention so that the migrations can name them the same way.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    declared_disclosure: Mapped[str | None] = mapped_column(String(32))
    original_key: Mapped[str] = mapped_column(Text)
    archive_key: Mapped[str | None] = mapped_column(Text)
    redacted_key: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32), index=True)

    file_number: Mapped[str | None] = mapped_column(String(128), index=True)
    disclosure: Mapped[str | None] = mapped_column(String(32))
    disclosure_reason: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(Text)
    security_level: Mapped[str | None] = mapped_column(String(16))
    security_period: Mapped[str | None] = mapped_column(String(32))
    urgency: Mapped[str | None] = mapped_column(String(16))
    signer: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text)
    # 索引号, read or assigned: one document holds each (uq_documents_index_number).
    index_number: Mapped[str | None] = mapped_column(String(128))
    date: Mapped[date | None] = mapped_column(Date, index=True)  # 成文日期
    page_count: Mapped[int | None] = mapped_column(Integer)
    text_layer: Mapped[bool | None] = mapped_column(Boolean)
    exception_reason: Mapped[str | None] = mapped_column(Text)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # 撤回 (state withdrawn)
    # The first document of its 文号 and issuer, if it is a later version of it (None: the
    # first, or no 文号). No foreign key: SQLite could add one only by rebuilding the table.
    version_of: Mapped[int | None] = mapped_column(Integer, index=True)
    # The fixity cursor: when its objects were last verified (None: never); oldest go first.
    fixity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker's claim on the document for a fixity batch, until then (None: unclaimed).
    fixity_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sweep's claim on a waiting document (worker, until when; None: unclaimed).
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_review_at: Mapped[date | None] = mapped_column(Date)
    publish_deadline: Mapped[date | None] = mapped_column(Date)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)

    # DocumentMetadata.to_dict() without "text" (kept once, in `text`, where it is searchable)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_documents_state_next_review_at", "state", "next_review_at"),
        Index("uq_documents_index_number", "index_number", unique=True),
        Index("ix_documents_state_published_at", "state", "published_at"),
        Index("ix_documents_fixity_checked_at_id", "fixity_checked_at", "id"),
    )


class Event(Base):
    """Append-only audit trail: no code path updates or deletes a row (and on PostgreSQL and
    SQLite a trigger refuses it)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The writing transaction (PostgreSQL: pg_current_xact_id(); SQLite: 0), set by the
    # database: the outbox relay's order is (xid, id) (migration 0014).
    xid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))

    __table_args__ = (Index("ix_events_xid_id", "xid", "id"),)


class RelayCursor(Base):
    """Where a relay of audit rows to events stands: the last (xid, id) it delivered, and who
    holds it (a lease: one relay sends at a time, another takes over once it expires)."""

    __tablename__ = "relay_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str | None] = mapped_column(String(128))
    held_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewDecision(Base):
    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decision: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(128))
    next_review_at: Mapped[date | None] = mapped_column(Date)


class FixityRun(Base):
    """One pass of the fixity check over the archive. A run that did not finish (killed,
    stopped at its limit) is taken up again by the next: it checks what the run has not."""

    __tablename__ = "fixity_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class CitedFileNumber(Base):
    __tablename__ = "cited_file_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    file_number: Mapped[str] = mapped_column(String(128), index=True)  # canonical
    position: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("document_id", "position", name="uq_cited_position"),)


class IndexSerial(Base):
    """The last 索引号 serial handed out per (issuing body, information class, year)."""

    __tablename__ = "index_serials"

    org_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    info_class: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class User(Base):
    """A person (clerk, reviewer, archivist, admin) or a system (the drafting system, a
    `submitter`). The public has no row: it has no identity."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | system
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; systems have none
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_by: Mapped[str | None] = mapped_column(String(128))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A one-time initial password: the person sets their own at the first login.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false())


class Token(Base):
    """An API token of a user or system: only its SHA-256 is kept (the secret is shown once)."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(128))
