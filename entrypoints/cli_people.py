"""People commands: `gongkai user add|list|disable`, `gongkai token create|list|revoke`, and
who the CLI records as the actor of a command (cli_principal).

The CLI runs on the server: its OS user is the machine's operator and is recorded as the
actor. `--actor NAME` records a gongkai user instead, and is allowed only when that user is
enabled and its role may do what the command does.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

import click

from gongkai.config import load_settings
from gongkai.entrypoints.tables import Column, cells, print_table
from gongkai.flows.access import ROLE_LABELS, Action, Principal, Role, require

ROLE_CHOICES = [r.value for r in Role] + list(ROLE_LABELS.values())


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def cli_principal(ctx: Any, actor: str | None, action: Action) -> Principal:
    """The principal a command acts as: `--actor`'s gongkai user (checked against the
    action), else the OS user as the operator."""
    from gongkai.flows.access import NotAllowed
    from gongkai.flows.service import people

    if actor is None:
        return Principal(os_user(), None, "os")
    try:
        return require(people.acting_as(ctx, actor), action)
    except (ValueError, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def quiet_context() -> Iterator[Any]:
    """A service Context for commands that emit no events (no Prefect)."""
    from gongkai.flows.service import Context

    with Context.open(load_settings()) as ctx:
        yield ctx


def _local(value: Any) -> str:
    """A stored UTC moment in the office's time zone (GONGKAI_TIMEZONE)."""
    from gongkai.entrypoints.tables import local_time

    return local_time(value, load_settings().zone) if value else ""


class _Listed(Protocol):
    def to_json(self) -> dict[str, object]: ...


_R = TypeVar("_R", bound=_Listed)


def _print_records(records: Sequence[_R], as_json: bool, noun: str, columns: Sequence[Column],
                   row: Callable[[_R], dict[str, str]]) -> None:  # fmt: skip
    """A list of users or tokens: their JSON with --json, else a table titled by `noun`."""
    if as_json:
        click.echo(json.dumps([r.to_json() for r in records], ensure_ascii=False))
        return
    rows = [row(r) for r in records]
    print_table(f"{noun} {len(rows)} 个", columns, cells(rows, columns))


actor_option = click.option(
    "--actor", default=None,
    help="Record this gongkai user as the actor (its role must allow the action); "
         "default: the OS user.",
)  # fmt: skip


@click.group()
def user() -> None:
    """Users: people with a role (clerk, reviewer, archivist, admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLE_CHOICES),
              help="clerk 文书, reviewer 审核人, archivist 档案员, admin 管理员")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin; without it a one-time "
                   "initial password is printed.")  # fmt: skip
@actor_option
def user_add(name: str, role: str, password_stdin: bool, actor: str | None) -> None:
    """Add a person. The initial password (when none is given) is printed once."""
    from gongkai.flows.service import people
    from gongkai.storage.identities import UserExists

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with quiet_context() as ctx:
        by = cli_principal(ctx, actor, Action.MANAGE_PEOPLE)
        try:
            record, initial = people.add_user(ctx, name, role, password=password,
                                              actor=by.actor)  # fmt: skip
        except UserExists:
            raise click.ClickException(f"用户 {name} 已存在") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已添加用户 {record.name}（{ROLE_LABELS[Role(record.role)]}）", err=True)
    if initial is not None:
        click.echo("一次性初始密码（只显示这一次，请转交本人；首次登录时须修改）：", err=True)
        click.echo(initial)


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
def user_list(as_json: bool) -> None:
    """Users and systems, with their roles."""
    from gongkai.flows.service import people

    with quiet_context() as ctx:
        records = people.list_users(ctx)
    columns = (Column("编号", justify="right"), Column("名称"), Column("类型"), Column("角色"),
               Column("创建"), Column("状态"))  # fmt: skip
    _print_records(records, as_json, "用户", columns, lambda r: {
        "编号": str(r.id), "名称": r.name, "类型": "系统" if r.kind == "system" else "人员",
        "角色": ROLE_LABELS[Role(r.role)], "创建": _local(r.created_at),
        "状态": "已停用" if r.disabled_at else "启用"})  # fmt: skip


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the new password from stdin; without it a one-time password is "
                   "printed (changed at the next login).")  # fmt: skip
@actor_option
def user_password(name: str, password_stdin: bool, actor: str | None) -> None:
    """Reset a person's password (a forgotten one, a lock the person cannot wait out)."""
    from gongkai.flows.service import people

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with quiet_context() as ctx:
        cli_principal(ctx, actor, Action.MANAGE_PEOPLE)
        try:
            initial = people.reset_password(ctx, name, password=password)
        except LookupError:
            raise click.ClickException(f"没有用户 {name}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已重设用户 {name} 的密码", err=True)
    if initial is not None:
        click.echo("一次性密码（只显示这一次，下次登录时须修改）：", err=True)
        click.echo(initial)


@user.command("disable")
@click.argument("name")
@actor_option
def user_disable(name: str, actor: str | None) -> None:
    """Disable a user: no more logins, and its tokens stop working (kept on record)."""
    from gongkai.flows.service import people

    with quiet_context() as ctx:
        by = cli_principal(ctx, actor, Action.MANAGE_PEOPLE)
        try:
            people.disable_user(ctx, name, actor=by.actor)
        except LookupError:
            raise click.ClickException(f"没有用户 {name}") from None
    click.echo(f"已停用用户 {name}")


@click.group()
def token() -> None:
    """API tokens of users and systems (the drafting system's is a submitter)."""


@token.command("create")
@click.option("--user", "user_name", help="A token of this user (with the user's role).")
@click.option("--system", help="A token of this system (made on first use), e.g. 起草系统.")
@click.option("--role", type=click.Choice(ROLE_CHOICES), help="The system's role (submitter).")
@actor_option
def token_create(user_name: str | None, system: str | None, role: str | None,
                 actor: str | None) -> None:  # fmt: skip
    """Make a token; it is printed once, alone on stdout. Only its hash is kept."""
    from gongkai.flows.service import people

    with quiet_context() as ctx:
        by = cli_principal(ctx, actor, Action.MANAGE_PEOPLE)
        try:
            record, secret = people.create_token(ctx, user=user_name, system=system, role=role,
                                                 actor=by.actor)  # fmt: skip
        except LookupError:
            raise click.ClickException(f"没有用户 {user_name}") from None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"令牌 {record.id}（{record.user}，{ROLE_LABELS[Role(record.role)]}）：只显示这一次",
               err=True)  # fmt: skip
    click.echo(secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
def token_list(as_json: bool) -> None:
    """Tokens (their first characters only), whose, and whether revoked."""
    from gongkai.flows.service import people

    with quiet_context() as ctx:
        records = people.list_tokens(ctx)
    columns = (Column("编号", justify="right"), Column("开头"), Column("所属"), Column("角色"),
               Column("创建"), Column("创建人", "extra"), Column("状态"))  # fmt: skip
    _print_records(records, as_json, "令牌", columns, lambda r: {
        "编号": str(r.id), "开头": r.prefix + "…", "所属": r.user,
        "角色": ROLE_LABELS[Role(r.role)], "创建": _local(r.created_at),
        "创建人": r.created_by,
        "状态": f"已吊销 {_local(r.revoked_at)}" if r.revoked_at else "有效"})  # fmt: skip


@token.command("revoke")
@click.argument("token_or_id")
@actor_option
def token_revoke(token_or_id: str, actor: str | None) -> None:
    """Revoke a token, named by itself or by its id (gongkai token list)."""
    from gongkai.flows.service import people

    with quiet_context() as ctx:
        by = cli_principal(ctx, actor, Action.MANAGE_PEOPLE)
        try:
            record = people.revoke_token(ctx, token_or_id, actor=by.actor)
        except LookupError:
            raise click.ClickException(f"没有这个令牌：{token_or_id[:12]}") from None
    click.echo(f"已吊销令牌 {record.id}（{record.user}）")
