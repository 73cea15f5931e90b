"""Tables on the terminal that stay readable at any width.

A column is one of three kinds:
- `key`: short codes a person reads whole and copies (id, 文号, state, a date): never wrapped;
- `text`: free text (标题, a reason): wraps at words and takes the room that is left;
- `extra`: shown when the terminal has room for it, left out (and named in the table's
  caption) when it has not: `gongkai show ID` and `--json` always have everything.

Piped to a file or another program, output is as wide as it needs to be (up to 200 cells), so
a saved listing is not folded at 80 columns.

Every value is shown through `printable`: a file name or title that carries terminal controls (ESC,
NUL, other C0/C1 controls) or bidi overrides is printed with those characters as visible
escapes, never raw, and never read as rich markup. The HTTP API shows names the same way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Literal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

ColumnKind = Literal["key", "text", "extra"]

PIPED_WIDTH = 200
# A free-text column narrower than this is no longer readable (about six Chinese characters),
# and extra columns are shown only while every text column keeps twice that.
MIN_TEXT_CELLS = 12
TEXT_CELLS_BEFORE_EXTRAS = 2 * MIN_TEXT_CELLS
_BORDER_CELLS = 3  # "│ " before a cell and the space after it


# C0 controls (tab and newline too: a name has none), DEL, C1 controls, and the characters that
# reorder or hide text on screen: bidi embeddings/overrides/isolates and marks, zero-width ones.
_UNSHOWABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, lines: bool = False) -> str:
    """`text` as it may be printed to a terminal or handed to a client: every control and
    bidi character as a visible escape (ESC -> \\x1b, U+202E -> \\u202e). The value itself
    is stored as given. `lines`: newlines (free text over several lines) stay."""
    if not lines:
        return _UNSHOWABLE.sub(_escape, text)
    return "\n".join(_UNSHOWABLE.sub(_escape, part) for part in text.split("\n"))


def local_time(value: date | datetime | None, zone: tzinfo) -> str:
    """A stored time as a person reads it: in the office's time zone (Settings.zone), to the
    minute; a date as it is; nothing for None. A naive datetime is taken as UTC (stored)."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class Column:
    heading: str
    kind: ColumnKind = "key"
    justify: Literal["left", "right"] = "left"


def output_console() -> Console:
    """A console for a command's output: the terminal's width, or PIPED_WIDTH when piped."""
    return Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)


def _needed_cells(column: Column, values: Iterable[str]) -> int:
    longest = max((cell_len(line) for v in values for line in v.splitlines() or [""]),
                  default=0)  # fmt: skip
    widest = max(longest, cell_len(column.heading))
    return min(widest, TEXT_CELLS_BEFORE_EXTRAS) if column.kind == "text" else widest


def fitting_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> list[int]:
    """The indexes of the columns shown in `width` cells: every key and text column, and the
    extra ones, first to last, while the table still fits."""
    needed = [_needed_cells(c, (row[i] for row in rows)) + _BORDER_CELLS
              for i, c in enumerate(columns)]  # fmt: skip
    shown = [i for i, c in enumerate(columns) if c.kind != "extra"]
    used = 1 + sum(needed[i] for i in shown)  # the closing border
    for i, column in enumerate(columns):
        if column.kind == "extra" and used + needed[i] <= width:
            shown.append(i)
            used += needed[i]
    return sorted(shown)


def table(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
) -> Table:
    """A rich Table of `rows` laid out for `width` cells (see the module docstring)."""
    rows = [[printable(value, lines=True) for value in row] for row in rows]
    shown = fitting_columns(columns, rows, width)
    left_out = [c.heading for i, c in enumerate(columns) if i not in shown]
    caption = f"not shown here: {', '.join(left_out)} (gongkai show ID)" if left_out else None
    result = Table(title=title, caption=caption)
    for i in shown:
        column = columns[i]
        # Only text columns give way when the table is too wide: the others were chosen to
        # fit whole.
        wraps = column.kind == "text"
        result.add_column(column.heading, no_wrap=not wraps, overflow="fold",
                          min_width=MIN_TEXT_CELLS if wraps else None,
                          justify=column.justify)  # fmt: skip
    for row in rows:
        result.add_row(*(Text(row[i]) for i in shown))
    return result


def cells(records: Iterable[Mapping[str, object]], columns: Sequence[Column]) -> list[list[str]]:
    """Rows for `table` from records keyed by the columns' headings (None shown empty)."""
    return [[str(record[c.heading] or "") for c in columns] for record in records]


def print_table(
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    console: Console | None = None,
) -> None:
    console = console or output_console()
    console.print(table(title, columns, rows, width=console.width))
