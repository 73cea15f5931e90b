"""Values a clerk types on the command line, in Chinese or as codes: 公开属性 (`主动公开` or
`active`), states (`已发布` or `published`), dates (`2021年1月1日`, `二〇二一年一月一日` or
`2021-01-01`). What the commands receive are the codes and ISO dates; --json is unchanged."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from gongkai.extractors.dates import parse_date
from gongkai.flows import labels


class Disclosure(click.ParamType):
    name = "公开属性"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:  # fmt: skip
        try:
            return labels.parse_disclosure(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "主动公开|依申请公开|不予公开|删减后公开 (active|on_request|withheld|partial)"


class State(click.ParamType):
    name = "状态"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:  # fmt: skip
        try:
            return labels.parse_state(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "已发布|待人工处理|… (published|exception|…)"


class Day(click.ParamType):
    name = "日期"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:  # fmt: skip
        if isinstance(value, date):
            return value
        iso = parse_date(str(value))
        if iso is None:
            self.fail(f"日期 {value!r} 无法识别（如 2021年1月1日 或 2021-01-01）", param, ctx)
        return date.fromisoformat(iso)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "2021年1月1日|2021-01-01"


class DocumentId(click.ParamType):
    """A document id: a whole number the catalog can hold (64 bits); any other is no document
    (told as such, not a traceback from the database)."""

    name = "ID"
    LARGEST = 2**63 - 1

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:  # fmt: skip
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            if not text.lstrip("-").isdigit():
                self.fail(f"文件编号 {value!r} 应为数字 (a document id is a number)", param, ctx)
            number = int(text)
        if not 1 <= number <= self.LARGEST:
            self.fail(f"没有编号为 {value} 的文件 (no document {value})", param, ctx)
        return number


DISCLOSURE = Disclosure()
STATE = State()
DAY = Day()
DOCUMENT_ID = DocumentId()
