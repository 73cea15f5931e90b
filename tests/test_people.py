"""People: users, passwords, tokens, logins, the bootstrap tokens, and the CLI's actor — on
the real catalog (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from gongkai.config import load_settings
from gongkai.flows.access import Action, NotAllowed, NotAuthenticated, Principal, Role, require
from gongkai.flows.service import Context, people
from gongkai.flows.service.people import BootstrapTokens, LoginRefused


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def ctx(gongkai_env: dict[str, str], database_url: str, monkeypatch) -> Iterator[Context]:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", database_url)
    with Context.open(load_settings()) as context:
        context.clock = Clock()
        yield context


def test_a_person_logs_in_with_the_password_and_only_its_hash_is_stored(ctx: Context) -> None:
    record, initial = people.add_user(ctx, "张文书", "文书", password=None, actor="root")
    assert record.role == "clerk" and initial and len(initial) >= 12
    assert people.login(ctx, "张文书", initial) == Principal("张文书", Role.CLERK, "person")
    people.add_user(ctx, "李审核", "reviewer", password="审核人的密码123", actor="root")
    assert people.login(ctx, "李审核", "审核人的密码123").role is Role.REVIEWER
    with ctx.catalog.engine.connect() as connection:
        stored = [r[0] for r in connection.execute(text("SELECT password_hash FROM users"))]
    assert all(h.startswith("$argon2id$") for h in stored)
    assert not any(initial in h or "审核人的密码123" in h for h in stored)
    with pytest.raises(LoginRefused, match="用户名或密码不正确"):
        people.login(ctx, "李审核", "wrong password")
    with pytest.raises(LoginRefused, match="用户名或密码不正确"):
        people.login(ctx, "无此人", "whatever12")


def test_failed_logins_lock_the_account_for_a_while(ctx: Context) -> None:
    people.add_user(ctx, "clerk1", "clerk", password="right-password", actor="root")
    for _ in range(people.FREE_FAILURES):
        with pytest.raises(LoginRefused):
            people.login(ctx, "clerk1", "wrong-password")
    # Now even the right password is refused until the lock ends.
    with pytest.raises(LoginRefused, match="秒后再试") as refused:
        people.login(ctx, "clerk1", "right-password")
    assert refused.value.retry_after is not None and refused.value.retry_after > 0
    ctx.clock.now += timedelta(seconds=people.LOCK_SECONDS + 1)  # type: ignore[attr-defined]
    assert people.login(ctx, "clerk1", "right-password").name == "clerk1"
    assert people.identities(ctx).user("clerk1").failed_logins == 0


def test_a_disabled_user_can_neither_log_in_nor_use_its_tokens(ctx: Context) -> None:
    people.add_user(ctx, "archivist1", "archivist", password="archive-pass", actor="root")
    _, secret = people.create_token(ctx, user="archivist1", actor="root")
    none = BootstrapTokens(None, None)
    assert people.authenticate_token(ctx, secret, none) == Principal(
        "archivist1", Role.ARCHIVIST, "person")
    people.disable_user(ctx, "archivist1", actor="root")
    assert people.authenticate_token(ctx, secret, none) is None
    with pytest.raises(LoginRefused):
        people.login(ctx, "archivist1", "archive-pass")


def test_tokens_are_stored_hashed_and_revoked_by_themselves_or_by_id(ctx: Context) -> None:
    record, secret = people.create_token(ctx, system="起草系统", role="submitter", actor="root")
    assert secret.startswith("gk_") and record.prefix == secret[:10]
    with ctx.catalog.engine.connect() as connection:
        hashes = [r[0] for r in connection.execute(text("SELECT token_hash FROM tokens"))]
    assert hashes == [people.token_hash(secret)] and secret not in hashes
    none = BootstrapTokens(None, None)
    assert people.authenticate_token(ctx, secret, none) == Principal(
        "起草系统", Role.SUBMITTER, "system")
    assert people.authenticate_token(ctx, secret + "x", none) is None
    people.revoke_token(ctx, secret, actor="root")
    assert people.authenticate_token(ctx, secret, none) is None
    second, secret2 = people.create_token(ctx, system="起草系统", actor="root")
    people.revoke_token(ctx, str(second.id), actor="admin1")
    assert people.authenticate_token(ctx, secret2, none) is None
    assert [t.revoked_at is not None for t in people.list_tokens(ctx)] == [True, True]
    with pytest.raises(ValueError, match="already a system"):
        people.create_token(ctx, system="起草系统", role="clerk", actor="root")


def test_the_environment_tokens_work_until_the_first_admin_exists(ctx: Context) -> None:
    boot = BootstrapTokens(staff="staff-secret", intake="intake-secret")
    assert people.authenticate_token(ctx, "staff-secret", boot) == Principal(
        "http:staff", None, "bootstrap")
    assert people.authenticate_token(ctx, "intake-secret", boot).role is Role.SUBMITTER
    assert people.authenticate_token(ctx, "guess", boot) is None
    people.add_user(ctx, "admin1", "admin", password="admin-password", actor="root")
    assert people.authenticate_token(ctx, "staff-secret", boot) is None
    assert people.authenticate_token(ctx, "intake-secret", boot) is None


def test_roles_allow_only_their_actions() -> None:
    clerk = Principal("c", Role.CLERK)
    assert require(clerk, Action.RESOLVE) is clerk
    with pytest.raises(NotAllowed, match="无权审核决定"):
        require(clerk, Action.REVIEW)
    with pytest.raises(NotAuthenticated):
        require(None, Action.STATUS)
    with pytest.raises(NotAllowed):
        require(Principal("r", Role.REVIEWER), Action.READ_QUARANTINED)
    assert require(Principal("a", Role.ARCHIVIST), Action.READ_QUARANTINED)
    with pytest.raises(NotAllowed):
        require(Principal("s", Role.SUBMITTER, "system"), Action.READ_ARCHIVE)


def _gongkai(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env["GONGKAI_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", *args],
                          capture_output=True, text=True, env=env, input=stdin, timeout=120)


def test_cli_users_and_tokens_print_secrets_alone_and_check_the_actor(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = _gongkai(home, "user", "add", "王管理", "--role", "admin")
    assert added.returncode == 0, added.stderr
    initial = added.stdout.strip()
    assert "\n" not in initial and len(initial) >= 12 and "初始密码" in added.stderr
    piped = _gongkai(home, "user", "add", "张文书", "--role", "文书", "--password-stdin",
                     stdin="文书的密码1234\n")
    assert piped.returncode == 0 and piped.stdout == ""
    created = _gongkai(home, "token", "create", "--system", "起草系统", "--role", "submitter")
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("gk_") and created.stdout.count("\n") == 1
    # A clerk named as the actor may not manage people; the admin may.
    refused = _gongkai(home, "token", "create", "--user", "张文书", "--actor", "张文书")
    assert refused.returncode != 0 and "无权管理用户与令牌" in refused.stderr
    made = _gongkai(home, "token", "create", "--user", "张文书", "--actor", "王管理")
    assert made.returncode == 0, made.stderr
    listed = _gongkai(home, "token", "list")
    assert "起草系统" in listed.stdout and "王管理" in listed.stdout  # created by
    assert created.stdout.strip() not in listed.stdout
    revoked = _gongkai(home, "token", "revoke", created.stdout.strip())
    assert revoked.returncode == 0 and "已吊销令牌 1" in revoked.stdout
    reset = _gongkai(home, "user", "password", "张文书")
    assert reset.returncode == 0 and len(reset.stdout.strip()) >= 12 and "一次性" in reset.stderr
    disabled = _gongkai(home, "user", "disable", "张文书")
    assert disabled.returncode == 0
    users = _gongkai(home, "user", "list")
    assert "已停用" in users.stdout and "管理员" in users.stdout
