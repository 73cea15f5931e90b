"""The terminal tables (entrypoints/tables.py): what is shown at a width, and how."""

from __future__ import annotations

import io

import pytest
from rich.cells import cell_len
from rich.console import Console

from gongkai.entrypoints.cli_archive import FIND_COLUMNS
from gongkai.entrypoints.tables import (
    PIPED_WIDTH,
    fitting_columns,
    output_console,
    table,
)

COLUMNS = FIND_COLUMNS  # `gongkai find`'s
ROWS = [
    ("1", "鸿政〔2020〕107号", "关于同意伍堡村调整村级建制规划的批复", "石狮市鸿山镇人民政府",
     "2020-08-01", "active", "published", "01-active-red-header.docx"),
    ("12", "狮政办〔2013〕158号",
     "石狮市人民政府办公室关于印发《石狮市安全生产专项整治三年行动实施方案》的通知",
     "石狮市人民政府办公室", "2013-10-07", "", "needs_redaction", "06-no-attribute.pdf"),
]  # fmt: skip


def rendered(width: int) -> list[str]:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(table("2 documents", COLUMNS, ROWS, width=width))
    return console.file.getvalue().splitlines()


@pytest.mark.parametrize("width", [80, 100, 130, 200])
def test_the_table_fits_and_key_columns_are_never_folded(width: int):
    lines = rendered(width)
    assert max(cell_len(line) for line in lines) <= width
    body = "\n".join(lines)
    for value in ("鸿政〔2020〕107号", "狮政办〔2013〕158号", "2020-08-01", "needs_redaction"):
        assert value in body  # whole, on one line


def test_extra_columns_are_left_out_first_and_named_in_the_caption():
    assert [COLUMNS[i].heading for i in fitting_columns(COLUMNS, ROWS, 80)] == [
        "id", "文号", "标题", "成文日期", "状态"
    ]  # fmt: skip
    narrow = "\n".join(rendered(80))
    assert "not shown here: 发文机关, 公开属性, 文件名 (gongkai show ID)" in narrow
    # An extra that does not fit is skipped, a later narrower one still shown.
    assert [COLUMNS[i].heading for i in fitting_columns(COLUMNS, ROWS, 100)] == [
        "id", "文号", "标题", "成文日期", "公开属性", "状态"
    ]  # fmt: skip
    wide = "\n".join(rendered(PIPED_WIDTH))
    assert "not shown" not in wide and "01-active-red-header.docx" in wide
    assert "石狮市人民政府办公室关于印发《石狮市安全生产专项整治三年行动实施方案》的通知" in wide


def test_free_text_wraps_instead_of_pushing_the_table_past_the_width():
    lines = rendered(80)
    title_lines = [line for line in lines if "伍堡村" in line or "建制规划" in line]
    assert len(title_lines) >= 2  # the title wrapped onto a second line of its row


def test_output_is_wide_when_piped(capsys: pytest.CaptureFixture[str]):
    assert output_console().width == PIPED_WIDTH  # pytest's stdout is not a terminal
