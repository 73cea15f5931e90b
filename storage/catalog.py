"""The catalog: every document gongkai received, what was read from it, and every step taken.

SQLite (embedded default, under GONGKAI_HOME) or PostgreSQL (GONGKAI_DATABASE_URL). The schema
is made only by the Alembic migrations in storage/migrations/. Storage records transitions; it
does not judge them (the state machine in flows/ does).

Concurrency: several processes may share one catalog. On SQLite every writing transaction
starts with BEGIN IMMEDIATE (one writer at a time, waiting up to busy_timeout); on PostgreSQL
the row being changed is locked with SELECT ... FOR UPDATE. Duplicate submissions are settled
by the unique constraint on sha256, index serials by one atomic upsert ... RETURNING.

Group commit: register_many, record_outcomes and assign_index_numbers write many documents in
one transaction (bulk statements), each document with exactly the rows and audit events its
one-at-a-time counterpart (register; save_extraction + transition/update; next_index_serial +
update) writes.
"""

from __future__ import annotations

import dataclasses
import fcntl
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    and_,
    column,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, defer, sessionmaker

from gongkai.extractors.model import DocumentMetadata
from gongkai.flows import lifecycle
from gongkai.storage.migrations import HEAD_REVISION
from gongkai.storage.models import (
    CitedFileNumber,
    Document,
    Event,
    FixityRun,
    IndexSerial,
    RelayCursor,
    ReviewDecision,
)
from gongkai.storage.outages import catalog_retry_worthy, retry_public_methods
from gongkai.storage.search import SHORT_TERM, document_grams, term_gram

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
FIXITY_LEASE = timedelta(minutes=30)  # a fixity batch's claim; a killed worker's expires
PENDING_LEASE = timedelta(minutes=5)  # a sweep batch's claim (GONGKAI_CLAIM_LEASE_S)
# The key of the PostgreSQL advisory lock the public index is written under ("gongkai"):
# advisory locks are per database, so catalogs in other databases never share it.
PUBLIC_INDEX_LOCK_KEY = 0x676F6E676B6169
# The lifecycle's own list (flows/lifecycle.py is pure data: no Prefect, no database).
STATES: tuple[str, ...] = lifecycle.STATES


class DocumentNotFound(LookupError):
    pass


class StaleState(RuntimeError):
    """The document was not in the state the caller expected: nothing was written."""


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    sha256: str
    filename: str
    size: int
    content_type: str
    format: str | None
    source: str
    declared_disclosure: str | None
    original_key: str
    archive_key: str | None
    redacted_key: str | None
    state: str
    file_number: str | None
    disclosure: str | None
    disclosure_reason: str | None
    title: str | None
    issuer: str | None
    security_level: str | None
    security_period: str | None
    urgency: str | None
    signer: str | None
    recipients: str | None
    index_number: str | None
    date: date | None
    page_count: int | None
    text_layer: bool | None
    exception_reason: str | None
    received_at: datetime
    routed_at: datetime | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    version_of: int | None
    next_review_at: date | None
    publish_deadline: date | None
    deadline_provisional: bool
    cited_file_numbers: tuple[str, ...]
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates and datetimes in ISO form)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date | datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


@dataclass(frozen=True)
class EventRecord:
    id: int
    document_id: int
    at: datetime
    kind: str
    actor: str
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "document_id": self.document_id,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "actor": self.actor,
            "detail": self.detail,
        }


@dataclass(frozen=True, order=True)
class RelayPosition:
    """Where a relay stands in the audit trail: the (xid, id) of the last row it delivered
    (rows go in that order; see migration 0014)."""

    xid: int
    event_id: int


@dataclass(frozen=True)
class AuditBatch:
    """Audit rows after a position, in order, and the position after the last of them."""

    rows: list[EventRecord]
    end: RelayPosition


# See Catalog._settled_bound.
_PG_SETTLED_BOUND = """
WITH snap AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax,
                     pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
SELECT CASE
  WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
               AND query = '<insufficient privilege>') THEN snap.xmin
  ELSE COALESCE((SELECT min(snap.xmax - (((snap.xmax % 4294967296)
                                         - a.backend_xid::text::bigint + 4294967296)
                                        % 4294967296))
                 FROM pg_stat_activity a
                 WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL),
                snap.xmax)
END FROM snap
"""


# The facts of a document an audit row notes as they were when it was written (the event
# made of the row says them: flows/service/outbox.py).
EVENT_FACTS: tuple[str, ...] = ("state", "disclosure", "file_number", "issuer", "title")


def _facts(values: Any) -> dict[str, Any]:
    """EVENT_FACTS of a Document (or a mapping of its columns), for an audit row's detail."""
    get = values.get if isinstance(values, Mapping) else lambda k: getattr(values, k)
    return {key: get(key) for key in EVENT_FACTS}


@dataclass
class FindQuery:
    file_number: str | None = None
    index_number: str | None = None
    title: str | None = None
    text: str | None = None
    issuer: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    state: str | None = None
    disclosure: str | None = None
    # False: only documents without a redacted version (the public's text search: the
    # catalog's text is the original's, words redacted out of it must not find it)
    redacted: bool | None = None
    limit: int | None = None
    offset: int = 0


@dataclass(frozen=True)
class DocumentSummary:
    """What a list of documents shows of each (`gongkai find`, GET /documents): no text, no
    metadata. `Catalog.get` has the rest."""

    id: int
    sha256: str
    filename: str
    state: str
    file_number: str | None
    index_number: str | None
    title: str | None
    issuer: str | None
    date: date | None
    disclosure: str | None
    received_at: datetime
    published_at: datetime | None
    archive_key: str | None
    redacted_key: str | None

    def to_json(self) -> dict[str, Any]:
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


# The table's own columns, not the ORM's attributes: a cached statement's result columns are
# then the very objects of the new statement (no per-execution matching of annotated copies).
_SUMMARY_COLUMNS = tuple(Document.__table__.c[f.name] for f in dataclasses.fields(DocumentSummary))


@dataclass(frozen=True)
class FindPage:
    """One page of a search: `total` documents match, `documents` are those from `offset` on
    (at most `limit` of them; None: all)."""

    total: int
    documents: list[DocumentSummary]
    limit: int | None
    offset: int


@dataclass(frozen=True)
class Registration:
    """One original for Catalog.register_many (the arguments of register)."""

    sha256: str
    size: int
    filename: str
    content_type: str
    original_key: str
    source: str
    actor: str
    declared_disclosure: str | None = None


@dataclass(frozen=True)
class Outcome:
    """One document's processing result for Catalog.record_outcomes: what was read (None: it
    could not be read), then either a change of state (`to_state`, audited as "state") or,
    with `to_state` None, column changes audited as an event of `kind`."""

    doc_id: int
    actor: str
    metadata: DocumentMetadata | None
    to_state: str | None
    kind: str = "state"
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    changes: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def extraction_columns(metadata: DocumentMetadata) -> tuple[dict[str, Any], list[str]]:
    """The document columns save_extraction sets from what was read, and the canonical cited
    file numbers (one mapping, shared by the catalog and `with_extraction`)."""
    stored = metadata.to_dict()
    stored.pop("text", None)  # kept once, in the searchable text column
    columns: dict[str, Any] = {
        "format": metadata.format,
        "file_number": (
            _canonical_file_number(metadata.file_number) if metadata.file_number else None
        ),
        "disclosure": metadata.disclosure,
        "disclosure_reason": metadata.disclosure_reason,
        "title": metadata.title,
        "issuer": metadata.issuer,
        "date": _parse_iso_date(metadata.date, "DocumentMetadata.date"),
        "security_level": metadata.security_level,
        "security_period": metadata.security_period,
        "urgency": metadata.urgency,
        "signer": metadata.signer,
        "recipients": metadata.recipients,
        "index_number": metadata.index_number,
        "page_count": metadata.page_count,
        "text_layer": metadata.text_layer,
        "metadata_": stored,
        "text": metadata.text,
    }
    cited = [_canonical_file_number(n) for n in metadata.cited_file_numbers if n.strip()]
    return columns, cited


def with_extraction(record: DocumentRecord, metadata: DocumentMetadata) -> DocumentRecord:
    """The record as save_extraction will leave it, computed without the database (worker
    processes write the archival package from it before the catalog records the result)."""
    columns, cited = extraction_columns(metadata)
    stored = dict(columns.pop("metadata_"))
    text = columns.pop("text")
    if stored:
        stored["text"] = text
    return dataclasses.replace(record, **columns, cited_file_numbers=tuple(cited),
                               metadata=stored)  # fmt: skip


# Columns a caller may change through transition()/update(): everything but identity, the
# state (transition's own argument), the receipt and what save_extraction owns.
_CHANGEABLE: frozenset[str] = frozenset(
    {
        "filename", "content_type", "format", "source", "declared_disclosure",
        "archive_key", "redacted_key", "original_key",
        "file_number", "disclosure", "disclosure_reason", "title", "issuer",
        "security_level", "security_period", "urgency", "signer", "recipients",
        "index_number", "date", "page_count", "text_layer", "exception_reason",
        "routed_at", "published_at", "withdrawn_at", "version_of", "next_review_at",
        "publish_deadline",
        "deadline_provisional",
    }
)  # fmt: skip
_DATETIME_COLUMNS = frozenset({"routed_at", "published_at", "withdrawn_at"})
_DATE_COLUMNS = frozenset({"date", "next_review_at", "publish_deadline"})
_BOOL_COLUMNS = frozenset({"deadline_provisional"})
_RECORD_COLUMNS: tuple[str, ...] = tuple(
    f.name
    for f in dataclasses.fields(DocumentRecord)
    if f.name not in {"cited_file_numbers", "metadata"}
)


def normalize_database_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean the psycopg 3 driver; other URLs pass unchanged."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("postgresql+") and not url.startswith("postgresql+psycopg://"):
        raise ValueError(
            f"PostgreSQL catalogs use the psycopg 3 driver (postgresql+psycopg://), "
            f"not {url.split('://', 1)[0]}"
        )
    return url


def _now() -> datetime:
    return datetime.now(UTC)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _json_detail(detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """An event detail as JSON: dates and datetimes in ISO form, tuples and sets as lists;
    anything else that JSON cannot hold is refused here, before the transaction."""

    def convert(value: Any) -> Any:
        if isinstance(value, date | datetime):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [convert(v) for v in value]
        if isinstance(value, set | frozenset):
            return sorted(convert(v) for v in value)
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise TypeError(f"event detail value {value!r} ({type(value).__name__}) is not JSON")

    return convert(dict(detail or {}))


def _canonical_file_number(value: str) -> str:
    """The canonical spelling (鸿政〔2020〕53号); text that is no file number is kept stripped."""
    from gongkai.extractors.fields import normalize_file_number

    stripped = value.strip()
    return normalize_file_number(stripped) or stripped


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _parse_iso_date(value: str | None, what: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{what} must be an ISO date YYYY-MM-DD, not {value!r}") from exc


# A lost or refused connection (PostgreSQL restarting, a backend terminated, a network blip)
# costs one call a few retries on a new connection, not the run: every call is a transaction
# of its own, recorded whole or not at all. About 4-8 s in all before the error goes up.
CATALOG_RETRIES = 5
CATALOG_RETRY_BASE_S = 0.25


@retry_public_methods(
    transient=catalog_retry_worthy, attempts=CATALOG_RETRIES, base=CATALOG_RETRY_BASE_S,
    what="目录数据库连接失败", skip=frozenset({"close", "begin_write", "public_index_lock"}),
)
class Catalog:
    def __init__(self, database_url: str) -> None:
        self.database_url = normalize_database_url(database_url)
        url = make_url(self.database_url)
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            database = url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.database_url)
            _configure_sqlite(self.engine)
        elif self.dialect == "postgresql":
            # A server that does not answer is given up on after seconds, not minutes. A
            # custom plan for every execution: psycopg prepares a statement run five times, and
            # PostgreSQL's generic plan for it cannot see the search term, so a long-running
            # API would fall back to scanning every text.
            connect_args = {"connect_timeout": 5,
                            "options": "-c plan_cache_mode=force_custom_plan"}  # fmt: skip
            self.engine = create_engine(self.database_url, pool_pre_ping=True,
                                        connect_args=connect_args)  # fmt: skip
            # Searches: one statement is one round trip. No BEGIN/COMMIT around it (each
            # statement of READ COMMITTED has its own snapshot anyway) and no ping before it
            # (a read that finds its connection gone is retried on a new one, as every call).
            self._lookups = create_engine(
                self.database_url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None,
                connect_args=connect_args,
            )  # fmt: skip
        else:
            raise ValueError(
                f"unsupported catalog database {self.dialect!r}: "
                "use sqlite:/// or postgresql+psycopg://"
            )
        if self.dialect == "sqlite":
            self._lookups = self.engine  # one snapshot for the page and its count
        # Writers take the SQLite write lock up front (BEGIN IMMEDIATE): a deferred transaction
        # that later needs to write can fail with "database is locked" without waiting.
        self._write_engine = self.engine.execution_options(gongkai_write=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

    # -- lifecycle --------------------------------------------------------------------------

    @classmethod
    def open(cls, database_url: str) -> Catalog:
        """The catalog, its schema brought up to date (an empty database is created)."""
        catalog = cls(database_url)
        try:
            if catalog._stored_revision() == HEAD_REVISION:
                return catalog  # up to date: no Alembic needed
            current, head = catalog.current_revision(), catalog.head_revision()
            if current != head:
                if current is not None and not catalog._knows_revision(current):
                    raise RuntimeError(
                        f"the catalog's schema revision {current!r} is unknown to this gongkai "
                        f"(its newest is {head!r}): a newer version migrated it"
                    )
                catalog.upgrade()
        except BaseException:
            catalog.close()
            raise
        return catalog

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return config

    def upgrade(self) -> None:
        """alembic upgrade head, on this catalog's own connection (one writer at a time)."""
        from alembic import command

        config = self._alembic_config()
        with self.begin_write() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def _knows_revision(self, revision: str) -> bool:
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(self._alembic_config())
        return any(r.revision == revision for r in script.walk_revisions())

    def _stored_revision(self) -> str | None:
        """The revision recorded in the database by one query, or None where there is none
        (a new database) or it is not a single row (then Alembic decides)."""
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:
            return None
        return str(rows[0][0]) if len(rows) == 1 else None

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def close(self) -> None:
        self._lookups.dispose()
        self.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def begin_write(self) -> Iterator[Connection]:
        """A connection in a writing transaction (BEGIN IMMEDIATE on SQLite), committed on
        success: for migrations and bulk loads that bypass the ORM."""
        with self._write_engine.begin() as connection:
            yield connection

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    # -- documents --------------------------------------------------------------------------

    def register(
        self,
        *,
        sha256: str,
        size: int,
        filename: str,
        content_type: str,
        original_key: str,
        source: str,
        actor: str,
        declared_disclosure: str | None = None,
    ) -> tuple[DocumentRecord, bool]:
        """A new original -> (record in state "received", True); bytes already known ->
        (the existing record, False) with an event "duplicate_submission"."""
        sha256 = sha256.lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"sha256 must be 64 hex digits, not {sha256!r}")
        if size < 0:
            raise ValueError(f"size must not be negative: {size}")
        at = _now()
        try:
            with self._writing() as session:
                document = Document(
                    sha256=sha256, filename=filename, size=size, content_type=content_type,
                    source=source, declared_disclosure=declared_disclosure,
                    original_key=original_key, state="received", received_at=at,
                    deadline_provisional=False, metadata_={}, text="",
                )  # fmt: skip
                session.add(document)
                session.flush()
                session.add(
                    Event(
                        document_id=document.id, at=at, kind="received", actor=actor,
                        detail={"filename": filename, "source": source, "size": size,
                                "sha256": sha256},
                    )
                )  # fmt: skip
                session.flush()
                return self._record(session, document), True
        except IntegrityError:
            # Another submission of the same bytes won the unique constraint on sha256.
            pass
        with self._writing() as session:
            document = session.scalars(
                select(Document).where(Document.sha256 == sha256)
            ).one_or_none()
            if document is None:  # the integrity error was about something else
                raise RuntimeError(f"could not register {sha256}: constraint violation")
            session.add(
                Event(
                    document_id=document.id,
                    at=at,
                    kind="duplicate_submission",
                    actor=actor,
                    detail={"filename": filename, "source": source,
                            "document": _facts(document)},
                )
            )
            return self._record(session, document), False

    def register_many(
        self, registrations: Sequence[Registration]
    ) -> list[tuple[DocumentRecord, bool]]:
        """register() for many originals in one transaction (group commit), each result in its
        place, with the same audit events. The same bytes twice in one call: the first is new,
        the second a duplicate submission. If another process registers some of the same bytes
        meanwhile (the unique constraint on sha256 fires), each is registered one by one."""
        for r in registrations:
            sha = r.sha256.lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValueError(f"sha256 must be 64 hex digits, not {r.sha256!r}")
            if r.size < 0:
                raise ValueError(f"size must not be negative: {r.size}")
        if not registrations:
            return []
        at = _now()
        shas = list(dict.fromkeys(r.sha256.lower() for r in registrations))
        try:
            with self._writing() as session:
                known: dict[str, Document] = {}
                for start in range(0, len(shas), 10_000):
                    for document in session.scalars(
                        select(Document).where(Document.sha256.in_(shas[start : start + 10_000]))
                    ):
                        known[document.sha256] = document
                placed: list[tuple[Document, bool]] = []
                for r in registrations:
                    sha = r.sha256.lower()
                    existing = known.get(sha)
                    if existing is not None:
                        placed.append((existing, False))
                        continue
                    document = Document(
                        sha256=sha, filename=r.filename, size=r.size,
                        content_type=r.content_type, source=r.source,
                        declared_disclosure=r.declared_disclosure, original_key=r.original_key,
                        state="received", received_at=at, deadline_provisional=False,
                        metadata_={}, text="",
                    )  # fmt: skip
                    session.add(document)
                    known[sha] = document
                    placed.append((document, True))
                session.flush()
                for r, (document, new) in zip(registrations, placed, strict=True):
                    if new:
                        detail = {"filename": r.filename, "source": r.source, "size": r.size,
                                  "sha256": document.sha256}  # fmt: skip
                    else:
                        detail = {"filename": r.filename, "source": r.source,
                                  "document": _facts(document)}
                    session.add(Event(document_id=document.id, at=at, actor=r.actor,
                                      kind="received" if new else "duplicate_submission",
                                      detail=detail))  # fmt: skip
                session.flush()
                distinct = list({d.id: d for d, _ in placed}.values())
                records = {rec.id: rec for rec in self._records(session, distinct)}
                return [(records[d.id], new) for d, new in placed]
        except IntegrityError:
            pass  # a concurrent registration of the same bytes: settle them one by one
        return [
            self.register(sha256=r.sha256, size=r.size, filename=r.filename,
                          content_type=r.content_type, original_key=r.original_key,
                          source=r.source, actor=r.actor,
                          declared_disclosure=r.declared_disclosure)
            for r in registrations
        ]  # fmt: skip

    def get(self, doc_id: int) -> DocumentRecord:
        with self._reading() as session:
            document = session.get(Document, doc_id)
            if document is None:
                raise DocumentNotFound(f"no document {doc_id}")
            return self._record(session, document)

    def get_by_sha256(self, sha256: str) -> DocumentRecord | None:
        with self._reading() as session:
            document = session.scalars(
                select(Document).where(Document.sha256 == sha256.lower())
            ).one_or_none()
            return None if document is None else self._record(session, document)

    def records_by_sha256(self, shas: Sequence[str]) -> dict[str, DocumentRecord]:
        """The documents holding these bytes, by (lower-case) sha256; unknown ones are absent."""
        wanted = list(dict.fromkeys(s.lower() for s in shas))
        found: dict[str, DocumentRecord] = {}
        with self._reading() as session:
            for start in range(0, len(wanted), 10_000):
                rows = session.scalars(
                    select(Document).where(Document.sha256.in_(wanted[start : start + 10_000]))
                ).all()
                found.update((r.sha256, r) for r in self._records(session, rows))
        return found

    def get_many(self, ids: Sequence[int]) -> list[DocumentRecord]:
        """Records in the order of `ids`; DocumentNotFound names the ones that do not exist."""
        if not ids:
            return []
        with self._reading() as session:
            rows = session.scalars(select(Document).where(Document.id.in_(set(ids)))).all()
            by_id = {row.id: row for row in rows}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise DocumentNotFound(f"no documents {missing}")
            records = {r.id: r for r in self._records(session, rows)}
            return [records[i] for i in ids]

    def states_of(self, ids: Sequence[int], *, missing_ok: bool = False) -> dict[int, str]:
        """id -> state of each listed document, without reading the rest of its row (a record
        carries the full text); DocumentNotFound names the ones that do not exist, or with
        `missing_ok` they are left out."""
        with self._reading() as session:
            found = _document_columns(session, list(dict.fromkeys(ids)), Document.state,
                                      missing_ok=missing_ok)  # fmt: skip
        return {doc_id: state for doc_id, (state,) in found.items()}

    def save_extraction(
        self, doc_id: int, metadata: DocumentMetadata, *, actor: str
    ) -> DocumentRecord:
        """Copy what was read onto the document (fields, canonical cited numbers, the full text
        for search) and record the event "extracted"."""
        columns, cited = extraction_columns(metadata)
        with self._writing() as session:
            document = self._locked(session, doc_id)
            self._apply_extraction(session, document, metadata, columns, cited, actor)
            session.flush()
            return self._record(session, document)

    def _apply_extraction(
        self,
        session: Session,
        document: Document,
        metadata: DocumentMetadata,
        columns: Mapping[str, Any],
        cited: Sequence[str],
        actor: str,
        *,
        clear_cited: bool = True,
    ) -> None:
        if clear_cited:
            session.execute(
                delete(CitedFileNumber).where(CitedFileNumber.document_id == document.id)
            )
        for name, value in columns.items():
            setattr(document, name, value)
        session.add_all(
            CitedFileNumber(document_id=document.id, file_number=number, position=position)
            for position, number in enumerate(cited)
        )
        session.add(
            Event(
                document_id=document.id, at=_now(), kind="extracted", actor=actor,
                detail={
                    "format": metadata.format, "file_number": columns["file_number"],
                    "title": metadata.title, "disclosure": metadata.disclosure,
                    "warnings": list(metadata.warnings),
                    "conflicts": list(metadata.conflicts),
                },
            )
        )  # fmt: skip

    def record_outcomes(
        self,
        outcomes: Sequence[Outcome],
        *,
        expected_from: str = "received",
        unrouted: bool = False,
    ) -> list[DocumentRecord | StaleState]:
        """Many documents' processing results in one transaction (group commit). For each, in
        order, exactly what save_extraction (if it carries metadata) followed by transition()
        (`to_state` given) or update() (`to_state` None, audited as `kind`) would write, with
        the same audit events. A document not in `expected_from` gets StaleState in its place
        and nothing of it is written; the others are still recorded. With `unrouted`, so does
        one routed already (`routed_at` set: another run read and routed it meanwhile)."""
        for outcome in outcomes:
            if outcome.to_state is not None and outcome.to_state not in STATES:
                raise ValueError(
                    f"unknown state {outcome.to_state!r}; states are {', '.join(STATES)}"
                )
            self._check_changes(outcome.changes)
        prepared = [
            (o, extraction_columns(o.metadata) if o.metadata is not None else None)
            for o in outcomes
        ]
        ids = list(dict.fromkeys(o.doc_id for o in outcomes))
        at = _now()
        with self._writing() as session:
            locked = _document_columns(session, ids, Document.state, Document.routed_at,
                                       *(getattr(Document, k) for k in EVENT_FACTS[1:]),
                                       lock=True)  # fmt: skip
            states: dict[int, str] = {doc_id: values[0] for doc_id, values in locked.items()}
            facts = {doc_id: dict(zip(EVENT_FACTS, (values[0], *values[2:]), strict=True))
                     for doc_id, values in locked.items()}  # fmt: skip
            # Bulk statements (executemany) instead of one ORM flush per document: the same
            # rows and audit events as save_extraction + transition/update would write.
            updates: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            cited_rows: list[dict[str, Any]] = []
            rereading: list[int] = []
            results: list[int | StaleState] = []
            claimed: dict[str, int] = {}  # 索引号 stored by this batch -> document
            held = _index_number_holders(session, [
                outcome.changes.get("index_number", extraction[0]["index_number"]
                                    if extraction is not None else None)
                for outcome, extraction in prepared
            ])  # fmt: skip
            for outcome, extraction in prepared:
                doc_id = outcome.doc_id
                from_state = states[doc_id]
                if from_state != expected_from:
                    results.append(StaleState(
                        f"document {doc_id} is {from_state!r}, expected [{expected_from!r}]"
                    ))  # fmt: skip
                    continue
                if unrouted and locked[doc_id][1] is not None:
                    results.append(StaleState(f"document {doc_id} is routed already"))
                    continue
                held_by = self._index_number_clash(held, outcome, extraction, claimed)
                if held_by is not None:
                    results.append(StaleState(
                        f"document {doc_id}: its 索引号 is held by document {held_by} (taken "
                        "meanwhile; routed again on the next run)"
                    ))  # fmt: skip
                    continue
                row: dict[str, Any] = {"id": doc_id}
                if outcome.metadata is not None and extraction is not None:
                    columns, cited = extraction
                    metadata = outcome.metadata
                    row.update(columns)
                    rereading.append(doc_id)
                    cited_rows += [{"document_id": doc_id, "file_number": number,
                                    "position": position}
                                   for position, number in enumerate(cited)]  # fmt: skip
                    events.append({
                        "document_id": doc_id, "at": at, "kind": "extracted",
                        "actor": outcome.actor,
                        "detail": {
                            "format": metadata.format, "file_number": columns["file_number"],
                            "title": metadata.title, "disclosure": metadata.disclosure,
                            "warnings": list(metadata.warnings),
                            "conflicts": list(metadata.conflicts),
                        },
                    })  # fmt: skip
                row.update(outcome.changes)
                changes = {k: _jsonable(v) for k, v in outcome.changes.items()}
                noted = facts[doc_id]
                noted.update((k, row[k]) for k in EVENT_FACTS if k in row)
                if outcome.to_state is not None:
                    row["state"] = noted["state"] = outcome.to_state
                    states[doc_id] = outcome.to_state
                    detail: dict[str, Any] = {
                        "from": from_state, "to": outcome.to_state,
                        **({"changes": changes} if changes else {}),
                        **_json_detail(outcome.detail), "document": _jsonable(dict(noted)),
                    }  # fmt: skip
                    kind = "state"
                else:
                    detail = {"changes": changes, **_json_detail(outcome.detail)}
                    kind = outcome.kind
                events.append({"document_id": doc_id, "at": at, "kind": kind,
                               "actor": outcome.actor, "detail": detail})  # fmt: skip
                row.update(claimed_by=None, claimed_until=None)  # recorded: claim released
                updates.append(row)
                results.append(doc_id)
            for start in range(0, len(rereading), 10_000):
                session.execute(delete(CitedFileNumber).where(
                    CitedFileNumber.document_id.in_(rereading[start : start + 10_000])))
            # One executemany per distinct set of columns.
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in updates:
                by_columns.setdefault(tuple(sorted(row)), []).append(row)
            for rows in by_columns.values():
                session.execute(update(Document), rows)
            if cited_rows:
                session.execute(insert(CitedFileNumber), cited_rows)
            if events:
                session.execute(insert(Event), events)
            written = [r for r in results if isinstance(r, int)]
            documents = session.scalars(
                select(Document).where(Document.id.in_(written))
                .execution_options(populate_existing=True)
            ).all() if written else []  # fmt: skip
            records = {r.id: r for r in self._records(session, documents)}
            return [records[r] if isinstance(r, int) else r for r in results]

    @staticmethod
    def _index_number_clash(
        held: Mapping[str, int],
        outcome: Outcome,
        extraction: tuple[dict[str, Any], list[str]] | None,
        claimed: dict[str, int],
    ) -> int | None:
        """The document already holding the 索引号 this outcome would store (read from the
        file), or None; a free one is noted in `claimed`. `held`: the holders in the catalog
        of the batch's numbers. The service routes a document whose number is taken to
        `exception` and stores none; this catches one taken meanwhile."""
        value = extraction[0]["index_number"] if extraction is not None else None
        value = outcome.changes.get("index_number", value)
        if not value:
            return None
        holder = claimed.get(value, held.get(value))
        if holder is not None and holder != outcome.doc_id:
            return int(holder)
        claimed[value] = outcome.doc_id
        return None

    def transition(
        self,
        doc_id: int,
        to_state: str,
        *,
        actor: str,
        expected_from: str | Collection[str] | None = None,
        detail: dict[str, Any] | None = None,
        **changes: Any,
    ) -> DocumentRecord:
        """Move the document to `to_state` with column `changes`, audited as event "state",
        in one transaction. StaleState (nothing written) if its state is not `expected_from`."""
        if to_state not in STATES:
            raise ValueError(f"unknown state {to_state!r}; states are {', '.join(STATES)}")
        self._check_changes(changes)
        allowed: set[str] | None
        if expected_from is None:
            allowed = None
        elif isinstance(expected_from, str):
            allowed = {expected_from}
        else:
            allowed = set(expected_from)
        with self._writing() as session:
            document = self._locked(session, doc_id)
            from_state = document.state
            if allowed is not None and from_state not in allowed:
                raise StaleState(f"document {doc_id} is {from_state!r}, expected {sorted(allowed)}")
            document.state = to_state
            for name, value in changes.items():
                setattr(document, name, value)
            event_detail: dict[str, Any] = {
                "from": from_state,
                "to": to_state,
                **({"changes": {k: _jsonable(v) for k, v in changes.items()}} if changes else {}),
                **_json_detail(detail),
                "document": _jsonable(_facts(document)),
            }
            session.add(
                Event(document_id=doc_id, at=_now(), kind="state", actor=actor,
                      detail=event_detail)
            )  # fmt: skip
            session.flush()
            return self._record(session, document)

    def update(
        self,
        doc_id: int,
        *,
        actor: str,
        kind: str,
        detail: dict[str, Any] | None = None,
        **changes: Any,
    ) -> DocumentRecord:
        """Column changes without a change of state, audited as an event of `kind`."""
        self._check_changes(changes)
        with self._writing() as session:
            document = self._locked(session, doc_id)
            for name, value in changes.items():
                setattr(document, name, value)
            event_detail = {
                "changes": {k: _jsonable(v) for k, v in changes.items()},
                **_json_detail(detail),
            }
            session.add(
                Event(document_id=doc_id, at=_now(), kind=kind, actor=actor, detail=event_detail)
            )
            session.flush()
            return self._record(session, document)

    def record_event(
        self, doc_id: int, kind: str, *, actor: str, detail: dict[str, Any] | None = None
    ) -> EventRecord:
        with self._writing() as session:
            document = session.get(Document, doc_id)
            if document is None:
                raise DocumentNotFound(f"no document {doc_id}")
            row = Event(document_id=doc_id, at=_now(), kind=kind, actor=actor,
                        detail={**_json_detail(detail), "document": _facts(document)})  # fmt: skip
            session.add(row)
            session.flush()
            return _event_record(row)

    def history(self, doc_id: int) -> list[EventRecord]:
        """Every event of the document, oldest first."""
        with self._reading() as session:
            if session.get(Document, doc_id) is None:
                raise DocumentNotFound(f"no document {doc_id}")
            rows = session.scalars(
                select(Event).where(Event.document_id == doc_id).order_by(Event.id)
            ).all()
            return [_event_record(r) for r in rows]

    def latest_events(self, kind: str) -> list[EventRecord]:
        """The latest event of `kind` per document, in document order."""
        with self._reading() as session:
            latest = (
                select(func.max(Event.id))
                .where(Event.kind == kind)
                .group_by(Event.document_id)
                .scalar_subquery()
            )
            rows = session.scalars(
                select(Event).where(Event.id.in_(latest)).order_by(Event.document_id)
            ).all()
            return [_event_record(r) for r in rows]

    # -- search -----------------------------------------------------------------------------

    def find(self, query: FindQuery, *, with_text: bool = True) -> list[DocumentRecord]:
        """Documents matching every given filter, in id order. No filter: every document.
        Without `with_text`, their `metadata` has no "text" (a list does not show it)."""
        statement = select(Document).where(*self._find_conditions(query))
        if not with_text:
            statement = statement.options(defer(Document.text))
        with self._reading() as session:
            rows = session.scalars(self._paged(statement, query)).all()
            return self._records(session, rows, with_text=with_text)

    def count(self, query: FindQuery) -> int:
        """How many documents match the filters of `query` (its limit and offset ignored)."""
        with self._lookups.begin() as connection:
            return self._count(connection, self._find_conditions(query))

    @staticmethod
    def _count(connection: Connection, conditions: list[Any]) -> int:
        return int(
            connection.scalar(select(func.count()).select_from(Document).where(*conditions))
            or 0
        )

    def published_facets(self) -> tuple[list[str], list[int]]:
        """The issuers and the years (of 成文日期, newest first) of the published documents:
        what the portal lists them by."""
        published = Document.state == "published"
        with self._reading() as session:
            issuers = session.scalars(
                select(Document.issuer).where(published, Document.issuer.is_not(None))
                .distinct().order_by(Document.issuer)
            ).all()  # fmt: skip
            years = session.scalars(
                select(func.extract("year", Document.date))
                .where(published, Document.date.is_not(None)).distinct()
            ).all()  # fmt: skip
        return list(issuers), sorted({int(y) for y in years}, reverse=True)

    def find_page(self, query: FindQuery) -> FindPage:
        """One page of what `find` finds, with the number of all matches; only the columns
        of a list are read (DocumentSummary). The page is read first: a page that is not
        full tells the total, and only a full one costs a count of every match."""
        conditions = self._find_conditions(query)
        # Core, not the ORM: nothing here is an object, and a session costs as much as the
        # query of a rare term.
        with self._lookups.begin() as connection:
            rows = connection.execute(
                self._paged(select(*_SUMMARY_COLUMNS).where(*conditions), query)
            ).all()
            total = _total_of_page(query, len(rows))
            if total is None:
                total = self._count(connection, conditions)
        return FindPage(total, [DocumentSummary(*row) for row in rows],
                        query.limit, query.offset)  # fmt: skip

    @staticmethod
    def _paged(statement: Select[Any], query: FindQuery) -> Select[Any]:
        statement = statement.order_by(Document.id)
        if query.limit is not None:
            statement = statement.limit(query.limit)
        if query.offset:
            statement = statement.offset(query.offset)
        return statement

    def _find_conditions(self, query: FindQuery) -> list[Any]:
        if query.limit is not None and query.limit < 0:
            raise ValueError(f"limit must not be negative: {query.limit}")
        if query.offset < 0:
            raise ValueError(f"offset must not be negative: {query.offset}")
        conditions: list[Any] = []
        if query.file_number and query.file_number.strip():
            conditions.append(Document.file_number == _canonical_file_number(query.file_number))
        if query.index_number and query.index_number.strip():
            conditions.append(Document.index_number == query.index_number.strip())
        if query.title:
            conditions.append(
                Document.title.ilike(f"%{_like_escape(query.title)}%", escape="\\")
            )
        if query.issuer and query.issuer.strip():
            conditions.append(
                Document.issuer.ilike(f"%{_like_escape(query.issuer.strip())}%", escape="\\")
            )
        if query.text and query.text.strip():
            conditions.append(self._full_text(query.text.strip()))
        if query.date_from is not None:
            conditions.append(Document.date >= query.date_from)
        if query.date_to is not None:
            conditions.append(Document.date <= query.date_to)
        if query.state:
            conditions.append(Document.state == query.state)
        if query.disclosure:
            conditions.append(Document.disclosure == query.disclosure)
        if query.redacted is not None:
            conditions.append(
                Document.redacted_key.is_not(None) if query.redacted
                else Document.redacted_key.is_(None)
            )  # fmt: skip
        return conditions

    def _full_text(self, needle: str) -> Any:
        """Substring match on title or text (ILIKE on PostgreSQL, LIKE on SQLite: the plain
        scan's answers exactly); no word segmentation (Chinese needs none). A term of 1-2
        characters is answered by the grams of migration 0004 alone: a document holds the
        term's one gram exactly when its case-folded title or text holds the case-folded term,
        which is what LIKE/ILIKE ask (PostgreSQL's ILIKE compares lower() of both, SQLite's
        LIKE folds ASCII letters, as the grams are folded). Longer terms: the trigram indexes
        of 0001 narrow the scan, and the scan decides (trigrams fold case more widely)."""
        pattern = f"%{_like_escape(needle)}%"
        if self.dialect == "postgresql":
            if len(needle) > SHORT_TERM:  # served by the pg_trgm GIN indexes
                return or_(
                    Document.title.ilike(pattern, escape="\\"),
                    Document.text.ilike(pattern, escape="\\"),
                )
            # The matches as one array from the gram index (migration 0015), not IN (...): a
            # page of a common term was planned as a walk over documents_grams in id order,
            # unpacking every row's grams until 50 matched (0.3 s at 10k documents).
            return text("documents.id = ANY(gongkai_gram_matches(:term))").bindparams(
                term=needle
            )
        if len(needle) <= SHORT_TERM:
            return Document.id.in_(_fts_match("documents_grams", term_gram(needle)))
        scan = or_(
            Document.title.like(pattern, escape="\\"),
            Document.text.like(pattern, escape="\\"),
        )
        phrase = '"' + needle.replace('"', '""') + '"'
        return and_(Document.id.in_(_fts_match("documents_fts", phrase)), scan)

    # -- the public index -------------------------------------------------------------------

    @contextmanager
    def public_index_lock(self) -> Iterator[None]:
        """Held while the public store is brought in line with the catalog (the public index
        is read from the catalog and written): one holder at a time on this catalog, in
        every process and on every host that shares it, waiting for the holder before.
        Released when the block ends or its process dies. Nothing else waits for it.

        PostgreSQL: a transaction-level advisory lock (pg_advisory_xact_lock) in a
        transaction of its own that writes nothing. SQLite (one host): an exclusive flock on
        a file beside the database, so that the catalog's own writers are not held up (the
        SQLite write lock would stop every one of them for the whole write)."""
        if self.dialect == "postgresql":
            with self.engine.begin() as connection:
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": PUBLIC_INDEX_LOCK_KEY})  # fmt: skip
                yield
            return
        database = make_url(self.database_url).database
        if not database or database == ":memory:":
            yield  # a database of this connection alone: no one else writes its index
            return
        with open(f"{database}-public-index.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            yield

    def published_between(
        self, start: datetime | None = None, end: datetime | None = None, *,
        limit: int | None = None,
    ) -> list[DocumentRecord]:  # fmt: skip
        """Published documents with start <= published_at < end (either bound optional), newest
        first (published_at, then id, descending), read WITHOUT their full text: their
        `metadata` has no "text" (the public index lists documents, it does not quote them)."""
        statement = (
            select(Document).options(defer(Document.text))
            .where(*self._published_in(start, end))
            .order_by(Document.published_at.desc(), Document.id.desc())
        )  # fmt: skip
        if limit is not None:
            statement = statement.limit(limit)
        with self._reading() as session:
            return self._records(session, session.scalars(statement).all(), with_text=False)

    def published_ids(self) -> list[int]:
        """The ids of every published document, in id order (one column, no record)."""
        return self.ids_in_state("published")

    def ids_in_state(self, state: str, *, without_index_number: bool = False) -> list[int]:
        """The ids of the documents in `state` (only those without a 索引号, if asked), in id
        order: one column, no record (a record carries the full text)."""
        statement = select(Document.id).where(Document.state == state)
        if without_index_number:
            statement = statement.where(
                or_(Document.index_number.is_(None), Document.index_number == ""))
        with self._reading() as session:
            return list(session.scalars(statement.order_by(Document.id)))

    def count_published(self, start: datetime | None = None, end: datetime | None = None) -> int:
        """How many documents are published with start <= published_at < end."""
        with self._reading() as session:
            return int(session.scalar(
                select(func.count()).select_from(Document).where(*self._published_in(start, end))
            ) or 0)  # fmt: skip

    def published_bounds(self) -> tuple[datetime, datetime] | None:
        """The first and last published_at of the published documents (None: none is)."""
        with self._reading() as session:
            first, last = session.execute(
                select(func.min(Document.published_at), func.max(Document.published_at))
                .where(*self._published_in(None, None))
            ).one()  # fmt: skip
        return None if first is None or last is None else (first, last)

    def withdrawn_latest(self, limit: int) -> list[tuple[int, datetime]]:
        """(id, withdrawn_at) of the documents taken off the public site (`withdrawn`, or
        `superseded` by a newer version), the latest first: the feed's deleted entries."""
        with self._reading() as session:
            rows = session.execute(
                select(Document.id, Document.withdrawn_at)
                .where(Document.state.in_(("withdrawn", "superseded")),
                       Document.withdrawn_at.is_not(None))
                .order_by(Document.withdrawn_at.desc(), Document.id.desc()).limit(limit)
            ).all()  # fmt: skip
        return [(int(doc_id), at) for doc_id, at in rows]

    def published_at_of(self, ids: Sequence[int]) -> dict[int, datetime | None]:
        """id -> published_at of each listed document (DocumentNotFound names missing ones)."""
        with self._reading() as session:
            found = _document_columns(session, list(dict.fromkeys(ids)), Document.published_at)
        return {doc_id: at for doc_id, (at,) in found.items()}

    @staticmethod
    def _published_in(start: datetime | None, end: datetime | None) -> list[Any]:
        conditions: list[Any] = [Document.state == "published",
                                 Document.published_at.is_not(None)]  # fmt: skip
        if start is not None:
            conditions.append(Document.published_at >= start)
        if end is not None:
            conditions.append(Document.published_at < end)
        return conditions

    def by_state(self, state: str, *, limit: int | None = None, offset: int = 0,
                 with_text: bool = True) -> list[DocumentRecord]:  # fmt: skip
        """The documents in `state`, in id order (a page of them with `limit`, `offset`;
        without their full text unless `with_text`)."""
        return self.find(FindQuery(state=state, limit=limit, offset=offset), with_text=with_text)

    def count_in_state(self, state: str) -> int:
        return self.count(FindQuery(state=state))

    def counts_by_state(self) -> dict[str, int]:
        with self._reading() as session:
            rows = session.execute(
                select(Document.state, func.count()).group_by(Document.state)
            ).all()
            return {state: count for state, count in rows}

    def due_for_review(self, on: date, *, limit: int | None = None,
                       offset: int = 0) -> list[DocumentRecord]:  # fmt: skip
        """Withheld documents whose next review date is `on` or earlier, most overdue first (a
        page of them with `limit`, `offset`), without their full text."""
        statement = (select(Document).options(defer(Document.text)).where(*_due_for_review(on))
                     .order_by(Document.next_review_at, Document.id).offset(offset))  # fmt: skip
        if limit is not None:
            statement = statement.limit(limit)
        with self._reading() as session:
            return self._records(session, session.scalars(statement).all(), with_text=False)

    def count_due_for_review(self, on: date) -> int:
        with self._reading() as session:
            return int(session.scalar(select(func.count()).select_from(Document)
                                      .where(*_due_for_review(on))) or 0)  # fmt: skip

    # -- review decisions, index serials ----------------------------------------------------

    def add_review_decision(
        self,
        doc_id: int,
        *,
        decision: str,
        reason: str,
        reviewer: str,
        next_review_at: date | None,
        disclosure_reason: str | None = None,
    ) -> None:
        """Record a review decision, audited as event "review_decision". A given
        `next_review_at` also becomes the document's next review date, a given
        `disclosure_reason` its 不公开理由."""
        if not decision.strip():
            raise ValueError("a review decision needs a decision")
        if not reason.strip():
            raise ValueError("a review decision needs a reason")
        at = _now()
        with self._writing() as session:
            document = self._locked(session, doc_id)
            session.add(
                ReviewDecision(document_id=doc_id, decided_at=at, decision=decision,
                               reason=reason, reviewer=reviewer, next_review_at=next_review_at)
            )  # fmt: skip
            if next_review_at is not None:
                document.next_review_at = next_review_at
            if disclosure_reason is not None:
                document.disclosure_reason = disclosure_reason
            session.add(
                Event(
                    document_id=doc_id, at=at, kind="review_decision", actor=reviewer,
                    detail={"decision": decision, "reason": reason,
                            "next_review_at": _jsonable(next_review_at)},
                )
            )  # fmt: skip

    def review_decisions(self, doc_id: int) -> list[dict[str, Any]]:
        """Decisions on the document, oldest first: id, decided_at, decision, reason, reviewer,
        next_review_at."""
        with self._reading() as session:
            rows = session.scalars(
                select(ReviewDecision)
                .where(ReviewDecision.document_id == doc_id)
                .order_by(ReviewDecision.id)
            ).all()
            return [
                {
                    "id": r.id,
                    "decided_at": r.decided_at,
                    "decision": r.decision,
                    "reason": r.reason,
                    "reviewer": r.reviewer,
                    "next_review_at": r.next_review_at,
                }
                for r in rows
            ]

    def next_index_serial(self, org_code: str, info_class: str, year: int) -> int:
        """1, 2, 3 ... per (org, class, year), gap-free and duplicate-free across processes:
        one atomic INSERT ... ON CONFLICT DO UPDATE ... RETURNING (row-locked on PostgreSQL,
        under BEGIN IMMEDIATE on SQLite)."""
        dialect_module = pg_dialect if self.dialect == "postgresql" else sqlite_dialect
        table = IndexSerial.__table__
        insert = dialect_module.insert(table).values(
            org_code=org_code, info_class=info_class, year=year, last=1
        )
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.org_code, table.c.info_class, table.c.year],
            set_={"last": table.c.last + 1},
        ).returning(table.c.last)
        with self._write_engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    def assign_index_numbers(
        self,
        documents: Sequence[tuple[int, int]],
        *,
        org_code: str,
        info_class: str,
        number: Callable[[int, int], str],
        actor: str,
    ) -> dict[int, DocumentRecord]:
        """For each (document id, year) that has no 索引号 yet: the next serial of (org, class,
        year) and the number `number(year, serial)` made from it, stored on the document and
        audited as "index_number_assigned", all in one transaction: a serial is used exactly
        when its number is stored (no gaps, no duplicates, whatever fails). Documents that
        have one already keep it. Returns every listed document's record."""
        ids = list(dict.fromkeys(doc_id for doc_id, _ in documents))
        years = dict(documents)
        at = _now()
        with self._writing() as session:
            locked = _document_columns(session, ids, Document.index_number, lock=True)
            numbered: dict[int, str | None] = {i: number for i, (number,) in locked.items()}
            updates: list[dict[str, Any]] = []
            events: list[dict[str, Any]] = []
            # By year: concurrent batches then lock the counter rows in the same order.
            for doc_id in sorted(ids, key=years.__getitem__):  # stable: list order within a year
                if numbered[doc_id]:
                    continue
                year = years[doc_id]
                value = self._free_index_number(session, org_code, info_class, year, number)
                updates.append({"id": doc_id, "index_number": value})
                events.append({"document_id": doc_id, "at": at, "kind": "index_number_assigned",
                               "actor": actor, "detail": {"changes": {"index_number": value}}})
            if updates:
                session.execute(update(Document), updates)
                session.execute(insert(Event), events)
            documents_ = session.scalars(
                select(Document).where(Document.id.in_(ids))
                .execution_options(populate_existing=True)
            ).all()  # fmt: skip
            return {r.id: r for r in self._records(session, documents_)}

    def _free_index_number(
        self,
        session: Session,
        org_code: str,
        info_class: str,
        year: int,
        number: Callable[[int, int], str],
    ) -> str:
        """The next serial's number that no document holds yet (one read from a document, or
        assigned before the counter existed, is skipped: the counter moves past it). The
        upsert locks the counter row until commit, so concurrent assigners take turns; the
        unique index on documents.index_number is the last word."""
        dialect_module = pg_dialect if self.dialect == "postgresql" else sqlite_dialect
        table = IndexSerial.__table__
        statement = dialect_module.insert(table).values(
            org_code=org_code, info_class=info_class, year=year, last=1
        ).on_conflict_do_update(
            index_elements=[table.c.org_code, table.c.info_class, table.c.year],
            set_={"last": table.c.last + 1},
        ).returning(table.c.last)  # fmt: skip
        while True:
            value = number(year, int(session.execute(statement).scalar_one()))
            taken = session.execute(
                select(Document.id).where(Document.index_number == value).limit(1)
            ).first()
            if taken is None:
                return value

    def index_number_holders(self, numbers: Collection[str]) -> dict[str, int]:
        """索引号 -> the id of the document that holds it, for those of `numbers` in use."""
        with self._reading() as session:
            return _index_number_holders(session, numbers)

    # -- versions ---------------------------------------------------------------------------

    def same_file_number(self, file_number: str, issuer: str | None) -> list[DocumentRecord]:
        """Every document of this (canonical) 文号 and issuer, in id order, without its text."""
        statement = (
            select(Document).options(defer(Document.text))
            .where(Document.file_number == file_number,
                   Document.issuer == issuer if issuer is not None else Document.issuer.is_(None))
            .order_by(Document.id)
        )  # fmt: skip
        with self._reading() as session:
            return self._records(session, session.scalars(statement).all(), with_text=False)

    def file_numbers_of(self, ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """id -> (文号, issuer) of each listed document, in the order of `ids`."""
        with self._reading() as session:
            found = _document_columns(session, list(dict.fromkeys(ids)), Document.file_number,
                                      Document.issuer)  # fmt: skip
        return {doc_id: (number, issuer) for doc_id, (number, issuer) in found.items()}

    def versions_of(self, doc_id: int) -> list[DocumentRecord]:
        """The document's versions (itself included), oldest first, without their text."""
        record = self.get(doc_id)
        root = record.version_of or record.id
        statement = (
            select(Document).options(defer(Document.text))
            .where(or_(Document.id == root, Document.version_of == root))
            .order_by(Document.id)
        )  # fmt: skip
        with self._reading() as session:
            return self._records(session, session.scalars(statement).all(), with_text=False)

    def supersede(self, old_id: int, new_id: int, *, actor: str,
                  expected_from: str = "published") -> DocumentRecord:  # fmt: skip
        """A newer version takes a document's place, in one transaction: the old one goes
        `expected_from` -> `superseded` (a published one is off the public site from now,
        `withdrawn_at`; a withheld one leaves the review queue, one on request the register)
        and gives its 索引号 to the new one (which keeps its own if it has one). StaleState if
        the old one is no longer in `expected_from`. Returns the new one's record."""
        at = _now()
        with self._writing() as session:
            old = self._locked(session, old_id)
            new = self._locked(session, new_id)
            if old.state != expected_from:
                raise StaleState(
                    f"document {old_id} is {old.state!r}, expected [{expected_from!r}]")
            number = old.index_number
            old.state = "superseded"
            changes: dict[str, Any] = {}
            if expected_from == "published":
                old.withdrawn_at = at
                changes["withdrawn_at"] = at.isoformat()
            session.add(Event(document_id=old_id, at=at, kind="state", actor=actor, detail={
                "from": expected_from, "to": "superseded", "by": new_id, "changes": changes,
                "document": _facts(old)}))  # fmt: skip
            if number and not new.index_number:
                old.index_number = None
                session.flush()  # one holder per 索引号: the old one lets go first
                new.index_number = number
                session.add(Event(document_id=new_id, at=at, kind="index_number_assigned",
                                  actor=actor, detail={"changes": {"index_number": number},
                                                       "from_version": old_id}))  # fmt: skip
            session.flush()
            return self._record(session, new)

    # -- fixity -----------------------------------------------------------------------------

    def fixity_run(self) -> tuple[int, datetime, bool]:
        """(id, started_at, resumed) of the fixity run to work on: the latest one if it did
        not finish, else a new one starting now."""
        with self._writing() as session:
            run = session.scalars(
                select(FixityRun).order_by(FixityRun.id.desc()).limit(1).with_for_update()
            ).first()  # fmt: skip
            if run is not None and run.finished_at is None:
                return run.id, run.started_at, True
            run = FixityRun(started_at=_now(), checked=0, failed=0)
            session.add(run)
            session.flush()
            return run.id, run.started_at, False

    def claim_fixity(
        self, started_at: datetime, limit: int, *, lease: timedelta = FIXITY_LEASE
    ) -> list[DocumentRecord]:
        """Up to `limit` documents not verified since `started_at` (a run's start) and not
        claimed by another worker, never-checked first, then the oldest-checked (each in id
        order), claimed for `lease` (record_fixity releases them; a killed worker's claim
        expires). Read without their full text. Both halves read the cursor's index in order
        and stop at `limit` (see _claim)."""
        halves = (
            (Document.fixity_checked_at.is_(None), (Document.id,)),
            (Document.fixity_checked_at < started_at, (Document.fixity_checked_at, Document.id)),
        )
        return self._claim(halves, limit, Document.fixity_claimed_until, lease)

    def claim_pending(
        self,
        worker: str,
        size: int,
        lease: timedelta = PENDING_LEASE,
        *,
        states: Sequence[str] = ("received",),
    ) -> list[DocumentRecord]:
        """Up to `size` documents waiting in `states` and not claimed by a live claim (this
        worker's own included: a document it failed stays its own until released or
        expired), oldest first, claimed by `worker` for `lease`. record_outcomes releases a
        recorded document's claim, release_claims the rest; a killed sweep's claim expires and
        a later sweep takes the documents. Read without their full text."""
        due = ((Document.state.in_(list(states)), (Document.id,)),)
        return self._claim(due, size, Document.claimed_until, lease,
                           claimed_by=worker)  # fmt: skip

    def claimants(self) -> list[str]:
        """The names of the sweeps holding a live claim on a waiting document."""
        with self._reading() as session:
            return sorted(session.scalars(
                select(Document.claimed_by).distinct()
                .where(Document.claimed_by.is_not(None), Document.claimed_until >= _now())
            ).all())  # fmt: skip

    def claim_counts(self, worker: str, states: Sequence[str] = ("received",)) -> tuple[int, int]:
        """Of the documents waiting in `states`: how many are free to claim (no live claim),
        and how many a live claim of another sweep than `worker` holds."""
        now = _now()
        until = Document.claimed_until
        waiting = Document.state.in_(list(states))
        with self._reading() as session:
            free = session.scalar(select(func.count()).where(
                waiting, or_(until.is_(None), until < now)))  # fmt: skip
            held = session.scalar(select(func.count()).where(
                waiting, until >= now, Document.claimed_by != worker))  # fmt: skip
        return int(free or 0), int(held or 0)

    def release_claims(self, worker: str) -> int:
        """Release every claim `worker` still holds (a sweep's end: the documents it could not
        finish are free for the next sweep at once); how many."""
        with self._writing() as session:
            result = session.execute(
                update(Document).where(Document.claimed_by == worker)
                .values(claimed_by=None, claimed_until=None)
            )  # fmt: skip
            return int(result.rowcount or 0)

    def _claim(
        self,
        due: Sequence[tuple[Any, tuple[Any, ...]]],
        limit: int,
        until: Any,
        lease: timedelta,
        **values: Any,
    ) -> list[DocumentRecord]:
        """The one claim both fixity and sweeps use: for each (condition, order) in turn, the
        unclaimed (or expired) documents meeting it, in that order, up to `limit` in all, set
        `until` = now + lease (and `values`) and are returned in claim order. PostgreSQL skips
        rows another claim has locked (SKIP LOCKED), SQLite's single writer serialises the
        claims."""
        now = _now()
        free = or_(until.is_(None), until < now)
        with self._writing() as session:
            ids: list[int] = []
            for condition, order in due:
                if len(ids) >= limit:
                    break
                query = (select(Document.id).where(condition, free).order_by(*order)
                         .limit(limit - len(ids)).with_for_update(skip_locked=True))  # fmt: skip
                ids += session.scalars(query).all()
            if not ids:
                return []
            session.execute(update(Document).where(Document.id.in_(ids))
                            .values({until.key: now + lease, **values}))  # fmt: skip
            rows = session.scalars(
                select(Document).options(defer(Document.text)).where(Document.id.in_(ids))
            ).all()  # fmt: skip
            by_id = {r.id: r for r in self._records(session, rows, with_text=False)}
            return [by_id[i] for i in ids]

    def record_fixity(
        self, run_id: int, results: Sequence[tuple[int, Sequence[str]]], *, actor: str
    ) -> None:
        """One batch of a run in one transaction: each document's "fixity" audit row (ok,
        problems), its cursor moved to now and its claim released, and the run's counts."""
        if not results:
            return
        at = _now()
        with self._writing() as session:
            failed = [doc_id for doc_id, problems in results if problems]
            noted = {doc_id: dict(zip(EVENT_FACTS, values, strict=True)) for doc_id, values in
                     _document_columns(session, failed, *(getattr(Document, k)
                                                          for k in EVENT_FACTS)).items()}
            session.execute(insert(Event), [
                {"document_id": doc_id, "at": at, "kind": "fixity", "actor": actor,
                 "detail": {"ok": not problems, "problems": list(problems),
                            **({"document": noted[doc_id]} if problems else {})}}
                for doc_id, problems in results
            ])  # fmt: skip
            session.execute(update(Document), [
                {"id": doc_id, "fixity_checked_at": at, "fixity_claimed_until": None}
                for doc_id, _ in results
            ])  # fmt: skip
            session.execute(
                update(FixityRun).where(FixityRun.id == run_id).values(
                    checked=FixityRun.checked + len(results),
                    failed=FixityRun.failed + sum(1 for _, p in results if p),
                )
            )  # fmt: skip

    def finish_fixity_run(self, run_id: int) -> dict[str, Any]:
        """Mark the run finished; its started_at, finished_at, checked and failed."""
        with self._writing() as session:
            run = session.get(FixityRun, run_id, with_for_update=True)
            if run is None:
                raise LookupError(f"no fixity run {run_id}")
            run.finished_at = _now()
            return {"started_at": run.started_at, "finished_at": run.finished_at,
                    "checked": run.checked, "failed": run.failed}  # fmt: skip

    def last_fixity_run(self) -> dict[str, Any] | None:
        """The latest fixity run (started_at, finished_at or None, checked, failed)."""
        with self._reading() as session:
            run = session.scalars(select(FixityRun).order_by(FixityRun.id.desc()).limit(1)).first()
            if run is None:
                return None
            return {"started_at": run.started_at, "finished_at": run.finished_at,
                    "checked": run.checked, "failed": run.failed}  # fmt: skip

    # -- outbox: the audit rows a relay sends as events ---------------------------------------

    def _settled_bound(self, session: Session) -> int:
        """Rows below this xid belong to transactions that have ended: no row will ever be
        committed below it. Read by a statement of its own, before the rows are (each
        statement sees what was committed before it began).

        PostgreSQL: the oldest transaction of this database still running (pg_stat_activity;
        its 32-bit xid widened against the snapshot's xmax), else the snapshot's xmax: a
        long transaction of another database on the server does not hold the relay back.
        Where some sessions of this database are hidden from this role (another role without
        pg_read_all_stats), the snapshot's xmin, the whole server's oldest. SQLite: its one
        writer commits rows in id order; every xid is 0."""
        if self.dialect != "postgresql":
            return 1
        return int(session.execute(text(_PG_SETTLED_BOUND)).scalar_one())

    def audit_after(self, position: RelayPosition, limit: int) -> AuditBatch:
        """Up to `limit` audit rows after `position` in (xid, id) order, of ended transactions
        only, and the position after the last; one query on ix_events_xid_id."""
        with self._reading() as session:
            rows = session.scalars(
                select(Event)
                .where(tuple_(Event.xid, Event.id) > tuple_(position.xid, position.event_id),
                       Event.xid < self._settled_bound(session))
                .order_by(Event.xid, Event.id).limit(limit)
            ).all()  # fmt: skip
            end = RelayPosition(rows[-1].xid, rows[-1].id) if rows else position
            return AuditBatch([_event_record(r) for r in rows], end)

    def audit_end(self) -> RelayPosition:
        """The position of the newest settled audit row ((0, 0) for an empty trail)."""
        with self._reading() as session:
            row = session.execute(
                select(Event.xid, Event.id).where(Event.xid < self._settled_bound(session))
                .order_by(Event.xid.desc(), Event.id.desc()).limit(1)
            ).first()  # fmt: skip
            return RelayPosition(int(row[0]), int(row[1])) if row else RelayPosition(0, 0)

    def oldest_waiting_position(self) -> RelayPosition | None:
        """The position just before the `received` audit row of the oldest document still
        waiting in `received` (None if none waits): a relay started there sends the events of
        every waiting document. One query on ix_documents_state and ix_events_document_id,
        bounded by the documents waiting."""
        with self._reading() as session:
            row = session.execute(
                select(Event.xid, Event.id).join(Document, Document.id == Event.document_id)
                .where(Document.state == "received", Event.kind == "received")
                .order_by(Event.xid, Event.id).limit(1)
            ).first()  # fmt: skip
            return RelayPosition(int(row[0]), int(row[1]) - 1) if row else None

    def audit_position(self, event_id: int) -> RelayPosition:
        """The position of audit row `event_id` (a relay started after it)."""
        with self._reading() as session:
            xid = session.scalar(select(Event.xid).where(Event.id == event_id))
            if xid is None:
                raise LookupError(f"no audit row {event_id}")
            return RelayPosition(int(xid), event_id)

    def take_relay(
        self, name: str, holder: str, *, lease: timedelta, start: RelayPosition
    ) -> RelayPosition | None:
        """The cursor of relay `name` for `holder`, leased until now + lease; None while
        another holder's lease runs. A relay without a cursor starts at `start`."""
        now = _now()
        with self._writing() as session:
            cursor = session.get(RelayCursor, name, with_for_update=True)
            if cursor is None:
                cursor = RelayCursor(name=name, xid=start.xid, event_id=start.event_id,
                                     updated_at=now)  # fmt: skip
                session.add(cursor)
            elif cursor.holder not in (None, holder) and cursor.held_until is not None \
                    and cursor.held_until > now:
                return None
            cursor.holder, cursor.held_until = holder, now + lease
            session.flush()
            return RelayPosition(cursor.xid, cursor.event_id)

    def advance_relay(
        self, name: str, holder: str, position: RelayPosition, *, lease: timedelta
    ) -> bool:
        """Move relay `name`'s cursor forward to `position` (never back) and renew the lease,
        if `holder` still holds it; False if another took it over."""
        now = _now()
        with self._writing() as session:
            cursor = session.get(RelayCursor, name, with_for_update=True)
            if cursor is None or cursor.holder != holder:
                return False
            if position > RelayPosition(cursor.xid, cursor.event_id):
                cursor.xid, cursor.event_id = position.xid, position.event_id
            cursor.held_until, cursor.updated_at = now + lease, now
            return True

    def release_relay(self, name: str, holder: str) -> None:
        """Give up `holder`'s lease on relay `name` (another relay may take over at once)."""
        with self._writing() as session:
            session.execute(update(RelayCursor).where(
                RelayCursor.name == name, RelayCursor.holder == holder
            ).values(holder=None, held_until=None))  # fmt: skip

    def relay_cursor(self, name: str) -> RelayPosition | None:
        with self._reading() as session:
            cursor = session.get(RelayCursor, name)
            return RelayPosition(cursor.xid, cursor.event_id) if cursor else None

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _check_changes(changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            if value is None:
                continue
            if name in _DATETIME_COLUMNS and (
                not isinstance(value, datetime) or value.utcoffset() is None
            ):
                raise ValueError(f"{name} must be a timezone-aware datetime, not {value!r}")
            if name in _DATE_COLUMNS and (
                not isinstance(value, date) or isinstance(value, datetime)
            ):
                raise ValueError(f"{name} must be a date, not {value!r}")
            if name in _BOOL_COLUMNS and not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, not {value!r}")
        unknown = sorted(set(changes) - _CHANGEABLE)
        if unknown:
            raise ValueError(
                f"cannot change {', '.join(unknown)} through the catalog "
                f"(changeable: {', '.join(sorted(_CHANGEABLE))})"
            )

    def _locked(self, session: Session, doc_id: int) -> Document:
        document = session.scalars(
            select(Document).where(Document.id == doc_id).with_for_update()
        ).one_or_none()
        if document is None:
            raise DocumentNotFound(f"no document {doc_id}")
        return document

    def _record(self, session: Session, document: Document) -> DocumentRecord:
        return self._records(session, [document])[0]

    def _records(
        self, session: Session, documents: Sequence[Document], *, with_text: bool = True
    ) -> list[DocumentRecord]:
        if not documents:
            return []
        cited: dict[int, list[str]] = {d.id: [] for d in documents}
        ids = list(cited)
        # Chunked: SQLite limits the number of bound parameters of one statement.
        for start in range(0, len(ids), 10_000):
            chunk = ids[start : start + 10_000]
            for document_id, number in session.execute(
                select(CitedFileNumber.document_id, CitedFileNumber.file_number)
                .where(CitedFileNumber.document_id.in_(chunk))
                .order_by(CitedFileNumber.document_id, CitedFileNumber.position)
            ):
                cited[document_id].append(number)
        return [_document_record(d, tuple(cited[d.id]), with_text=with_text) for d in documents]


def _index_number_holders(session: Session, numbers: Collection[str | None]) -> dict[str, int]:
    wanted = sorted({n for n in numbers if n})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 10_000):
        rows = session.execute(
            select(Document.index_number, Document.id)
            .where(Document.index_number.in_(wanted[start : start + 10_000]))
        ).all()  # fmt: skip
        found.update((number, doc_id) for number, doc_id in rows)
    return found


def _fts_match(index: str, phrase: str) -> Any:
    """The rowids an SQLite FTS5 table `index` finds for `phrase`, as a subquery."""
    return (
        text(f"SELECT rowid FROM {index} WHERE {index} MATCH :phrase")
        .bindparams(phrase=phrase)
        .columns(column("rowid", Integer))
        .scalar_subquery()
    )


def _total_of_page(query: FindQuery, found: int) -> int | None:
    """The number of all matches, where the page of `found` rows tells it: a page short of
    its limit is the last one (unless it is empty past the first: then the offset ran over)."""
    last = query.limit is None or found < query.limit
    return query.offset + found if last and (found or not query.offset) else None


def _due_for_review(on: date) -> tuple[Any, ...]:
    return (Document.state == "withheld", Document.next_review_at <= on)


def _document_columns(
    session: Session, ids: Sequence[int], *columns: Any, lock: bool = False,
    missing_ok: bool = False,
) -> dict[int, tuple[Any, ...]]:
    """id -> the values of `columns` of each listed document, in the order of `ids`, without
    reading the rest of its row. With `lock`, the rows are locked for this transaction (FOR
    UPDATE; SQLite's write transaction already excludes other writers). DocumentNotFound names
    any id that does not exist, unless `missing_ok` leaves them out. Chunked: an IN list has a
    parameter limit."""
    found: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), 10_000):
        query = select(Document.id, *columns).where(Document.id.in_(ids[start : start + 10_000]))
        rows = session.execute(query.with_for_update() if lock else query).all()
        found.update((row[0], tuple(row[1:])) for row in rows)
    missing = [i for i in ids if i not in found]
    if missing and not missing_ok:
        raise DocumentNotFound(f"no documents {missing}")
    return {i: found[i] for i in ids if i in found}


def _document_record(
    document: Document, cited: tuple[str, ...], *, with_text: bool = True
) -> DocumentRecord:
    values = {name: getattr(document, name) for name in _RECORD_COLUMNS}
    metadata = dict(document.metadata_ or {})
    if metadata and with_text:
        metadata["text"] = document.text
    return DocumentRecord(**values, cited_file_numbers=cited, metadata=metadata)


def _event_record(row: Event) -> EventRecord:
    return EventRecord(
        id=row.id, document_id=row.document_id, at=row.at, kind=row.kind, actor=row.actor,
        detail=dict(row.detail or {}),
    )  # fmt: skip


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off; BEGIN is emitted below.
        dbapi_connection.isolation_level = None
        # The triggers of the short-term search index call it (migration 0004).
        dbapi_connection.create_function("gongkai_grams", 2, document_grams, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("gongkai_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
