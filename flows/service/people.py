"""People: users with roles, their passwords and API tokens, logins, and who is acting.

Passwords are hashed with argon2id (argon2-cffi), checked in constant time by it. API tokens
are 256 random bits, shown once; only their SHA-256 is stored (a slow hash adds nothing to a
secret of that strength, and every API request checks one). A run of failed logins locks the
account for a while, longer each time (kept in the database: every process sees it).

The two environment tokens (GONGKAI_STAFF_TOKEN, GONGKAI_INTAKE_TOKEN) are the bootstrap: they
work until the first enabled admin exists, then are refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gongkai.flows.access import Principal, Role, parse_role
from gongkai.flows.service.context import Context
from gongkai.storage.identities import Identities, TokenNotFound, TokenRecord, UserRecord

TOKEN_PREFIX = "gk_"
FREE_FAILURES = 5  # failed logins in a row before the account is locked for a while
LOCK_SECONDS = 60  # the first lock; doubled with each further failure, up to MAX_LOCK_SECONDS
MAX_LOCK_SECONDS = 3600
MIN_PASSWORD = 8
NAME_MAX = 64

_hasher = PasswordHasher()
# Spent on a login for an unknown name, so that its answer takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginRefused(PermissionError):
    """Wrong name or password, a disabled account, or one locked for a while (`retry_after`)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class BootstrapTokens:
    staff: str | None
    intake: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> BootstrapTokens:
        return cls(env.get("GONGKAI_STAFF_TOKEN") or None, env.get("GONGKAI_INTAKE_TOKEN") or None)


def identities(ctx: Context) -> Identities:
    return Identities(ctx.catalog)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX or any(c.isspace() or c == ":" for c in name):
        raise ValueError(f"a user name is 1-{NAME_MAX} characters without spaces or ':': "
                         f"{name!r}")  # fmt: skip
    return name


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符（a password has at least "
                         f"{MIN_PASSWORD} characters）")
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- users -----------------------------------------------------------------------------------


def add_user(
    ctx: Context, name: str, role: str, *, password: str | None, actor: str
) -> tuple[UserRecord, str | None]:
    """A person with a role; without a password a one-time initial one is made and returned."""
    parsed = parse_role(role)
    if parsed is Role.SUBMITTER:
        raise ValueError("a submitter is a system: gongkai token create --system NAME "
                         "--role submitter")  # fmt: skip
    initial = None if password is not None else secrets.token_urlsafe(12)
    record = identities(ctx).add_user(
        _check_name(name), kind="person", role=parsed.value,
        password_hash=hash_password(password if password is not None else initial or ""),
        actor=actor, must_change_password=initial is not None,
    )  # fmt: skip
    return record, initial


def list_users(ctx: Context) -> list[UserRecord]:
    return identities(ctx).users()


def disable_user(ctx: Context, name: str, *, actor: str) -> UserRecord:
    """Disabled: no login, and every token of the user stops working (kept on record)."""
    return identities(ctx).disable_user(name, actor=actor)


def login(ctx: Context, name: str, password: str) -> Principal:
    """The person, if the password is right and the account neither disabled nor locked."""
    store = identities(ctx)
    stored = store.password_hash(name)
    if stored is None:
        _spend(password)
        raise LoginRefused("用户名或密码不正确")
    user = store.user(name)
    now = ctx.now()
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise LoginRefused(f"登录失败次数过多，请 {wait} 秒后再试", retry_after=wait)
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        failures = user.failed_logins + 1
        lock = None
        if failures >= FREE_FAILURES:
            lock = min(LOCK_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)
        store.login_failed(
            name, locked_until=None if lock is None else now + timedelta(seconds=lock))
        raise LoginRefused("用户名或密码不正确", retry_after=lock) from None
    store.login_succeeded(name)
    if _hasher.check_needs_rehash(stored):
        store.set_password(name, _hasher.hash(password), must_change=user.must_change_password)
    return Principal(user.name, Role(user.role), user.kind)


def _spend(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def reset_password(ctx: Context, name: str, *, password: str | None) -> str | None:
    """An admin sets a person's password; without one a one-time password is made (changed
    at the next login) and returned."""
    store = identities(ctx)
    if store.user(name).kind != "person":
        raise ValueError(f"{name} is a system: it has tokens, not a password")
    initial = None if password is not None else secrets.token_urlsafe(12)
    store.set_password(name, hash_password(password if password is not None else initial or ""),
                       must_change=initial is not None)  # fmt: skip
    return initial


def change_password(ctx: Context, name: str, current: str, new: str) -> None:
    """A person sets their own password, proving the current one (a failure counts as a
    failed login)."""
    login(ctx, name, current)
    if new == current:
        raise ValueError("新密码不能与当前密码相同")
    identities(ctx).set_password(name, hash_password(new), must_change=False)


def must_change_password(ctx: Context, name: str) -> bool:
    """The person logged in with a one-time password and has not set their own yet."""
    try:
        return identities(ctx).user(name).must_change_password
    except LookupError:
        return False


# -- tokens ----------------------------------------------------------------------------------


def create_token(
    ctx: Context, *, user: str | None = None, system: str | None = None,
    role: str | None = None, actor: str,
) -> tuple[TokenRecord, str]:
    """A new token of a user, or of a system (made on first use, with its role). The secret is
    returned once; only its hash is kept."""
    store = identities(ctx)
    if (user is None) == (system is None):
        raise ValueError("give either a user or a system")
    if system is not None:
        name = _check_name(system)
        wanted = parse_role(role or Role.SUBMITTER.value)
        try:
            existing = store.user(name)
        except LookupError:
            store.add_user(name, kind="system", role=wanted.value, password_hash=None,
                           actor=actor)  # fmt: skip
        else:
            if existing.kind != "system" or existing.role != wanted.value:
                raise ValueError(f"{name} is already a {existing.kind} with role "
                                 f"{existing.role}")  # fmt: skip
    else:
        name = _check_name(user or "")
        if role is not None and parse_role(role).value != store.user(name).role:
            raise ValueError(f"a user's token has the user's role ({store.user(name).role})")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = store.add_token(name, token_hash=token_hash(secret), prefix=secret[:10],
                             actor=actor)  # fmt: skip
    return record, secret


def list_tokens(ctx: Context) -> list[TokenRecord]:
    return identities(ctx).tokens()


def revoke_token(ctx: Context, token_or_id: str, *, actor: str) -> TokenRecord:
    """Revoke by the token itself or by its id (as `token list` shows it)."""
    store = identities(ctx)
    if token_or_id.startswith(TOKEN_PREFIX):
        return store.revoke_token(token_hash=token_hash(token_or_id), actor=actor)
    if token_or_id.isdigit():
        return store.revoke_token(token_id=int(token_or_id), actor=actor)
    raise TokenNotFound(f"not a token nor a token id: {token_or_id!r}")


def bootstrap_open(ctx: Context) -> bool:
    """The environment tokens still work: no enabled admin exists yet."""
    return not identities(ctx).admin_exists()


def authenticate_token(
    ctx: Context, token: str, bootstrap: BootstrapTokens
) -> Principal | None:
    """The principal a bearer token stands for, or None for an unknown, revoked or disabled
    one (and for an environment token once the first admin exists)."""
    if token.startswith(TOKEN_PREFIX):
        owner = identities(ctx).token_owner(token_hash(token))
        return None if owner is None else Principal(owner.name, Role(owner.role), owner.kind)
    if not bootstrap_open(ctx):
        return None
    if _same(token, bootstrap.staff):
        return Principal("http:staff", None, "bootstrap")
    if _same(token, bootstrap.intake):
        return Principal("http:intake", Role.SUBMITTER, "system")
    return None


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def acting_as(ctx: Context, name: str) -> Principal:
    """An enabled gongkai user named on the command line (`--actor`)."""
    try:
        user = identities(ctx).user(name)
    except LookupError:
        raise ValueError(f"--actor {name}: no such gongkai user (gongkai user list)") from None
    if not user.enabled:
        raise ValueError(f"--actor {name}: the user is disabled")
    return Principal(user.name, Role(user.role), user.kind)


def person(ctx: Context, name: str) -> Principal | None:
    """The enabled person of this name (a web session's user), or None."""
    try:
        user = identities(ctx).user(name)
    except LookupError:
        return None
    if not user.enabled or user.kind != "person":
        return None
    return Principal(user.name, Role(user.role), user.kind)
