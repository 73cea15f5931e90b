"""Templates of the web app (Jinja2, server-rendered Chinese pages) and their filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from gongkai.entrypoints import tables
from gongkai.flows import labels
from gongkai.flows.access import ROLE_LABELS, Role

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"


@pass_context
def local_time(context: Any, value: datetime | date | None, with_time: bool = True) -> str:
    """A moment as a clerk reads it: in the office's time zone (GONGKAI_TIMEZONE, Asia/Shanghai
    by default), to the minute; a date as it is."""
    shown = tables.local_time(value, context["request"].app.state.ctx.settings.zone)
    return shown if with_time else shown[:10]


def role_label(role: str | Role | None) -> str:
    try:
        return ROLE_LABELS[Role(role)] if role else ""
    except ValueError:
        return str(role)


_DETAIL_KEYS = {"from": "原状态", "to": "新状态", "decision": "决定", "disclosure": "公开属性",
                "reason": "理由", "rule": "规则", "read_as": "读取为"}  # fmt: skip


def _detail(detail: dict[str, Any]) -> str:
    """An audit row's detail, briefly, for the history table."""
    parts = []
    for key, label in _DETAIL_KEYS.items():
        if key in detail and detail[key] not in (None, "", {}):
            value = detail[key]
            if key in ("from", "to"):
                value = labels.state_label(str(value))
            elif key == "disclosure":
                value = labels.disclosure_label(str(value))
            elif key == "decision":
                value = labels.DECISION_LABELS.get(str(value), value)
            parts.append(f"{label}：{value}")
    if "changes" in detail and isinstance(detail["changes"], dict):
        changed = ", ".join(labels.FIELD_LABELS.get(k, k) for k in detail["changes"])
        if changed:
            parts.append(f"更改：{changed}")
    return "；".join(str(p) for p in parts)


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update({
    "local": local_time,
    "state": labels.state_label,
    "disclosure": labels.disclosure_label,
    "event": lambda kind: labels.EVENT_LABELS.get(kind, kind),
    "role": role_label,
    "field": lambda name: labels.FIELD_LABELS.get(name, name),
    "decision": lambda code: labels.DECISION_LABELS.get(code, code),
    "detail": _detail,
})  # fmt: skip
