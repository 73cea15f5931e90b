"""Who may do what: roles, the actions of the lifecycle, and the one table between them. Pure.

The public has no identity (no Principal). A Principal is a person or a system with one role;
`bootstrap` principals come from the two environment tokens and exist only until the first
admin does (gongkai.flows.service.people decides that).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    SUBMITTER = "submitter"  # a system: the drafting system hands documents over
    CLERK = "clerk"  # resolves exceptions, supplies redactions, files into the catalogue
    REVIEWER = "reviewer"  # review decisions, releases, withdrawals
    ARCHIVIST = "archivist"  # non-public originals (quarantined ones too), fixity, transfer
    ADMIN = "admin"  # users, tokens, settings


ROLE_LABELS: dict[Role, str] = {
    Role.SUBMITTER: "报送系统",
    Role.CLERK: "文书",
    Role.REVIEWER: "审核人",
    Role.ARCHIVIST: "档案员",
    Role.ADMIN: "管理员",
}


class Action(StrEnum):
    SUBMIT = "submit"
    READ_OWN = "read_own"  # the state of what one submitted
    READ_ARCHIVE = "read_archive"  # every document's record, history and search
    READ_ORIGINAL = "read_original"  # a non-public original (not a quarantined one)
    READ_QUARANTINED = "read_quarantined"  # a classified original
    RESOLVE = "resolve"
    REDACT = "redact"
    REVIEW = "review"
    WITHDRAW = "withdraw"
    FIXITY = "fixity"
    STATUS = "status"
    MANAGE_PEOPLE = "manage_people"


_STAFF = frozenset({Role.CLERK, Role.REVIEWER, Role.ARCHIVIST, Role.ADMIN})

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.SUBMIT: frozenset({Role.SUBMITTER, Role.CLERK}),
    Action.READ_OWN: frozenset({Role.SUBMITTER}) | _STAFF,
    Action.READ_ARCHIVE: _STAFF,
    Action.READ_ORIGINAL: frozenset({Role.CLERK, Role.REVIEWER, Role.ARCHIVIST}),
    Action.READ_QUARANTINED: frozenset({Role.ARCHIVIST}),
    Action.RESOLVE: frozenset({Role.CLERK}),
    Action.REDACT: frozenset({Role.CLERK}),
    Action.REVIEW: frozenset({Role.REVIEWER}),
    Action.WITHDRAW: frozenset({Role.REVIEWER}),
    Action.FIXITY: frozenset({Role.ARCHIVIST}),
    Action.STATUS: _STAFF,
    Action.MANAGE_PEOPLE: frozenset({Role.ADMIN}),
}

ACTION_LABELS: dict[Action, str] = {
    Action.SUBMIT: "报送公文",
    Action.READ_OWN: "查看所报送公文",
    Action.READ_ARCHIVE: "查阅档案",
    Action.READ_ORIGINAL: "下载不公开原件",
    Action.READ_QUARANTINED: "下载涉密原件",
    Action.RESOLVE: "处理例外",
    Action.REDACT: "上传删减版本",
    Action.REVIEW: "审核决定",
    Action.WITHDRAW: "撤回",
    Action.FIXITY: "固定性校验",
    Action.STATUS: "查看待办",
    Action.MANAGE_PEOPLE: "管理用户与令牌",
}


@dataclass(frozen=True)
class Principal:
    """Someone acting: a person (`person`), a system (`system`), a bootstrap environment token
    (`bootstrap`) or the server's own shell user (`os`: the CLI on the server, trusted as the
    machine's operator)."""

    name: str
    role: Role | None
    kind: str = "person"

    @property
    def actor(self) -> str:
        """What the audit row records."""
        return self.name


# The machine's operator: the server's shell user and the bootstrap staff token (until the
# first admin exists) may do everything, as before there were users.
OPERATOR_KINDS = frozenset({"os", "bootstrap"})


class NotAuthenticated(PermissionError):
    """No identity where one is needed (HTTP 401)."""


class NotAllowed(PermissionError):
    """An identity whose role does not allow the action (HTTP 403)."""


def may(principal: Principal | None, action: Action) -> bool:
    if principal is None:
        return False
    if principal.kind in OPERATOR_KINDS:
        return True
    return principal.role is not None and principal.role in PERMISSIONS[action]


def require(principal: Principal | None, action: Action) -> Principal:
    """The principal, if its role allows `action`; NotAuthenticated / NotAllowed otherwise."""
    if principal is None:
        raise NotAuthenticated(f"{ACTION_LABELS[action]}需要登录（或 API 令牌）")
    if not may(principal, action):
        roles = "、".join(ROLE_LABELS[r] for r in sorted(PERMISSIONS[action]))
        raise NotAllowed(f"{principal.name} 无权{ACTION_LABELS[action]}（限：{roles}）")
    return principal


def parse_role(value: str) -> Role:
    """A role by its code or its Chinese label."""
    for role, label in ROLE_LABELS.items():
        if value in (role.value, label):
            return role
    raise ValueError(f"unknown role {value!r}: one of " + ", ".join(r.value for r in Role))
