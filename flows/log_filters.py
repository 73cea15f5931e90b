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


class _OutageTracebacks(logging.Filter):
    """Drops a record carrying an outage's exception (storage/outages.py), and once one was
    dropped, the 'Finished in state Failed' lines of the runs it ended."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = False

    def filter(self, record: logging.LogRecord) -> bool:
        from gongkai.storage.outages import outage_of

        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and outage_of(exc) is not None:
            self.hidden = True
            return False
        return not (self.hidden and str(record.msg).startswith("Finished in state Failed"))


def hide_outage_tracebacks() -> None:
    """An outage (a full disk, the catalog or the object store out) ends a command with one line
    of what to do (entrypoints/errors.py); Prefect's console would print the same exception's
    traceback once per run it ended (task, flow, parent flow) before that. They are not shown
    on the console; Prefect's API still gets them (the UI shows the failed runs in full).
    Installed on the console handlers Prefect configured (once), after Prefect is imported."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not any(
            isinstance(f, _OutageTracebacks) for f in handler.filters
        ):
            handler.addFilter(_OutageTracebacks())
