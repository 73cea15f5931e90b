"""Users and API tokens in the catalog's database (tables `users`, `tokens`).

An adapter only: it stores what it is given (hashes, never a secret) and answers lookups.
Hashing, checking and the rules of who may do what are gongkai.flows.service.people's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gongkai.storage.catalog import Catalog
from gongkai.storage.models import Token, User


class UserExists(ValueError):
    pass


class UserNotFound(LookupError):
    pass


class TokenNotFound(LookupError):
    pass


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    kind: str
    role: str
    created_at: datetime
    created_by: str
    disabled_at: datetime | None
    failed_logins: int
    locked_until: datetime | None
    has_password: bool
    must_change_password: bool = False

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "name": self.name, "kind": self.kind, "role": self.role,
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None,
            "enabled": self.enabled,
        }  # fmt: skip


@dataclass(frozen=True)
class TokenRecord:
    id: int
    user: str
    role: str
    prefix: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id, "user": self.user, "role": self.role, "prefix": self.prefix,
            "created_at": self.created_at.isoformat(), "created_by": self.created_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }  # fmt: skip


def _now() -> datetime:
    return datetime.now(UTC)


def _user(row: User) -> UserRecord:
    return UserRecord(
        row.id, row.name, row.kind, row.role, row.created_at, row.created_by, row.disabled_at,
        row.failed_logins, row.locked_until, row.password_hash is not None,
        row.must_change_password,
    )  # fmt: skip


def _token(row: Token, owner: User) -> TokenRecord:
    return TokenRecord(row.id, owner.name, owner.role, row.prefix, row.created_at,
                       row.created_by, row.revoked_at)  # fmt: skip


class Identities:
    """Users and tokens, on the catalog's engine (same database, same migrations)."""

    def __init__(self, catalog: Catalog) -> None:
        # Writers take SQLite's write lock up front, as the catalog's own writers do.
        self._write = sessionmaker(catalog.engine.execution_options(gongkai_write=True),
                                   expire_on_commit=False)  # fmt: skip
        self._read = sessionmaker(catalog.engine, expire_on_commit=False)

    def _writing(self) -> Session:
        return self._write.begin()

    def _reading(self) -> Session:
        return self._read.begin()

    @staticmethod
    def _by_name(session: Session, name: str) -> User:
        row = session.scalars(select(User).where(User.name == name)).one_or_none()
        if row is None:
            raise UserNotFound(name)
        return row

    # -- users ------------------------------------------------------------------------------

    def add_user(self, name: str, *, kind: str, role: str, password_hash: str | None,
                 actor: str, must_change_password: bool = False) -> UserRecord:  # fmt: skip
        try:
            with self._writing() as session:
                row = User(name=name, kind=kind, role=role, password_hash=password_hash,
                           created_at=_now(), created_by=actor, failed_logins=0,
                           must_change_password=must_change_password)  # fmt: skip
                session.add(row)
                session.flush()
                return _user(row)
        except IntegrityError as exc:
            raise UserExists(name) from exc

    def user(self, name: str) -> UserRecord:
        with self._reading() as session:
            return _user(self._by_name(session, name))

    def password_hash(self, name: str) -> str | None:
        """The stored hash of an enabled person, or None (no such user, disabled, a system)."""
        with self._reading() as session:
            row = session.scalars(select(User).where(User.name == name)).one_or_none()
            if row is None or row.disabled_at is not None:
                return None
            return row.password_hash

    def users(self) -> list[UserRecord]:
        with self._reading() as session:
            return [_user(r) for r in session.scalars(select(User).order_by(User.id))]

    def admin_exists(self) -> bool:
        with self._reading() as session:
            count = session.scalar(select(func.count()).select_from(User).where(
                User.role == "admin", User.disabled_at.is_(None)))  # fmt: skip
            return bool(count)

    def disable_user(self, name: str, *, actor: str) -> UserRecord:
        with self._writing() as session:
            row = self._by_name(session, name)
            if row.disabled_at is None:
                row.disabled_at, row.disabled_by = _now(), actor
            return _user(row)

    def set_password(self, name: str, password_hash: str, *, must_change: bool = False) -> None:
        with self._writing() as session:
            row = self._by_name(session, name)
            row.password_hash, row.must_change_password = password_hash, must_change

    def login_failed(self, name: str, *, locked_until: datetime | None) -> int:
        """Count a failed login (locking the account until a time when given); the count."""
        with self._writing() as session:
            row = session.scalars(select(User).where(User.name == name)).one_or_none()
            if row is None:
                return 0
            row.failed_logins += 1
            if locked_until is not None:
                row.locked_until = locked_until
            return row.failed_logins

    def login_succeeded(self, name: str) -> None:
        with self._writing() as session:
            row = self._by_name(session, name)
            row.failed_logins, row.locked_until = 0, None

    # -- tokens -----------------------------------------------------------------------------

    def add_token(self, user: str, *, token_hash: str, prefix: str, actor: str) -> TokenRecord:
        with self._writing() as session:
            owner = self._by_name(session, user)
            row = Token(user_id=owner.id, token_hash=token_hash, prefix=prefix,
                        created_at=_now(), created_by=actor)  # fmt: skip
            session.add(row)
            session.flush()
            return _token(row, owner)

    def token_owner(self, token_hash: str) -> UserRecord | None:
        """The enabled user of a live token with this hash (looked up by the hash: an index
        equality on a SHA-256 of 256 random bits leaks nothing to time)."""
        with self._reading() as session:
            row = session.execute(
                select(Token, User).join(User, Token.user_id == User.id).where(
                    Token.token_hash == token_hash, Token.revoked_at.is_(None),
                    User.disabled_at.is_(None))
            ).one_or_none()
            return None if row is None else _user(row[1])

    def tokens(self) -> list[TokenRecord]:
        with self._reading() as session:
            rows = session.execute(
                select(Token, User).join(User, Token.user_id == User.id).order_by(Token.id))
            return [_token(t, u) for t, u in rows]

    def revoke_token(self, *, token_id: int | None = None, token_hash: str | None = None,
                     actor: str) -> TokenRecord:  # fmt: skip
        with self._writing() as session:
            where = Token.id == token_id if token_id is not None else \
                Token.token_hash == token_hash
            row = session.scalars(select(Token).where(where)).one_or_none()
            if row is None:
                raise TokenNotFound(str(token_id if token_id is not None else "that token"))
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = _now(), actor
            owner = session.get(User, row.user_id)
            assert owner is not None
            return _token(row, owner)
