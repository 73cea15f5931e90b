"""The `gongkai` command. Subcommands load lazily so that `gongkai extract` never imports Prefect.

Each area owns one module of commands; this file only maps names to them.
"""

from __future__ import annotations

import gc
import importlib
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
    "withdraw": "gongkai.entrypoints.cli_lifecycle:withdraw",
    "exceptions": "gongkai.entrypoints.cli_lifecycle:exceptions",
    "resolve": "gongkai.entrypoints.cli_lifecycle:resolve",
    "status": "gongkai.entrypoints.cli_lifecycle:status",
    "public": "gongkai.entrypoints.cli_lifecycle:public",
    "fixity": "gongkai.entrypoints.cli_lifecycle:fixity",
    "serve": "gongkai.entrypoints.cli_service:serve",
    "api": "gongkai.entrypoints.cli_service:api",
    "web": "gongkai.entrypoints.cli_service:web",
    "watch": "gongkai.entrypoints.cli_service:watch",
    "relay": "gongkai.entrypoints.cli_relay:relay",
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
@click.pass_context
def main(ctx: click.Context) -> None:
    """gongkai (公开): read, route, publish, review and archive official documents."""
    from gongkai.config import SettingsError, load_settings

    if ctx.resilient_parsing:  # shell completion
        return
    try:
        load_settings()  # every command: a bad setting stops it before any work starts
    except SettingsError as exc:
        raise click.ClickException(f"设置有误，未做任何处理：{exc}") from None


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
        # An outage (a full disk, the database or the object store out) is the machine's
        # state, not a bug: one line of what to do instead of a traceback (entrypoints/errors).
        from gongkai.entrypoints.errors import explain

        explained = explain(exc)
        if explained is None:
            raise
        click.echo(explained.message, err=True)
        sys.exit(1)
    finally:
        gc.freeze()


if __name__ == "__main__":
    run()
