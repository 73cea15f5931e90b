"""Log lines of other libraries that gongkai does not show: each is a known, harmless message
that would read like trouble in a clerk's terminal (the callers say which and why)."""

from __future__ import annotations

import logging
from collections.abc import Iterable


class _HiddenLines(logging.Filter):
    def __init__(self, starting_with: str) -> None:
        super().__init__()
        self.starting_with = starting_with

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.starting_with)


def hide_log_lines(loggers: Iterable[str], starting_with: str) -> None:
    """Drop these loggers' records whose message starts with `starting_with` (installed once
    per logger and text, however often this is called)."""
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HiddenLines) and f.starting_with == starting_with
                   for f in logger.filters):  # fmt: skip
            logger.addFilter(_HiddenLines(starting_with))
