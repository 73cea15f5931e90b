"""The `gongkai` command. Subcommands load lazily so that `gongkai extract` never imports Prefect.

Each area owns one module of commands; this file only maps names to them.
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import shutil
import sys

import click

from gongkai import __version__
from gongkai.flows.collector import collect_less_often

# command name -> "module:attribute" (a click.Command)
COMMANDS: dict[str, str] = {
    "extract": "gongkai.entrypoints.cli_extract:extract",
    "db": "gongkai.entrypoints.cli_archive:db",
    "find": "gongkai.entrypoints.cli_archive:find",
    "get": "gongkai.entrypoints.cli_archive:get",
    "show": "gongkai.entrypoints.cli_archive:show",
    "verify": "gongkai.entrypoints.cli_archive:verify",
    "ingest": "gongkai.entrypoints.cli_lifecycle:ingest",
    "submit": "gongkai.entrypoints.cli_lifecycle:submit",
    "review": "gongkai.entrypoints.cli_lifecycle:review",
    "redact": "gongkai.entrypoints.cli_lifecycle:redact",
    "exceptions": "gongkai.entrypoints.cli_lifecycle:exceptions",
    "resolve": "gongkai.entrypoints.cli_lifecycle:resolve",
    "status": "gongkai.entrypoints.cli_lifecycle:status",
    "public": "gongkai.entrypoints.cli_lifecycle:public",
    "fixity": "gongkai.entrypoints.cli_lifecycle:fixity",
    "serve": "gongkai.entrypoints.cli_service:serve",
    "api": "gongkai.entrypoints.cli_service:api",
    "watch": "gongkai.entrypoints.cli_service:watch",
    "user": "gongkai.entrypoints.cli_people:user",
    "token": "gongkai.entrypoints.cli_people:token",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None  # that area is not built yet
        command = getattr(module, attribute, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gongkai")
def main() -> None:
    """gongkai (公开): read, route, publish, review and archive official documents."""


# A disk that is full (or read-only) is the machine's state, not a bug: a clerk gets what to
# do, not a traceback. Every write of gongkai's is a batch that is recorded whole or not at all,
# so what was taken in before stays on record and the same command goes on from there.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def disk_full(exc: BaseException) -> str | None:
    """What is full or read-only, if `exc` (or an exception it came from) says so."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _NO_ROOM:
            what = current.strerror or os.strerror(current.errno)
            return f"{what}: {current.filename}" if current.filename else what
        if "database or disk is full" in str(current):  # SQLite, however it is wrapped
            return "the catalog's disk is full (database or disk is full)"
        current = current.__cause__ or current.__context__
    return None


def home_disk_full(min_free: int = 1 << 20) -> str | None:
    """GONGKAI_HOME's disk, if it has (almost) no room left: a failure there can reach us
    without an errno (Prefect's server, whose database is in the home, answers 500)."""
    from gongkai.config import load_settings

    try:
        folder = load_settings().home
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free = shutil.disk_usage(folder).free
    except Exception:  # settings that do not load, a folder gone: no verdict
        return None
    return f"the disk of {folder} is full ({free} bytes free)" if free < min_free else None


def run() -> None:
    """The console script: the `gongkai` group, then a quick exit.

    By the time a command returns, everything it wrote is closed and flushed; what is left is
    the interpreter's teardown, whose final garbage collection walks every object Prefect,
    pydantic and SQLAlchemy made: 0.3-0.6 s after an ingest, as long as a tenth of the run.
    Frozen objects are skipped by it (gc.freeze); they are still released. Until then the
    collector runs less often than CPython's default (flows/collector.py)."""
    collect_less_often()
    try:
        main()
    except Exception as exc:
        full = disk_full(exc)
        if full is None and (full := home_disk_full()) is not None:
            full += f" (what failed: {type(exc).__name__}: {str(exc)[:200]})"
        if full is None:
            raise
        click.echo(
            f"Error: {full}. Nothing is lost: what was taken in before is kept and on record, "
            "and the batch being written was not recorded. Free some space (or move "
            "GONGKAI_HOME), then run the same command again: it goes on from there.",
            err=True,
        )
        sys.exit(1)
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
