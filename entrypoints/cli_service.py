"""`gongkai serve`, `gongkai api`, `gongkai watch`: gongkai as a long-running service."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click

from gongkai.config import load_settings
from gongkai.flows.sweeper import SweeperOptions

SWEEP_BATCH = SweeperOptions.batch


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.command()
@click.option("--batch-window", type=click.FloatRange(min=0), default=10.0, show_default=True,
              envvar="GONGKAI_BATCH_WINDOW",
              help="Seconds a run of the ingest deployment keeps looking for newly received "
                   "documents (manual runs; serve's own sweeper needs no window).")
@click.option("--sweep-batch", type=click.IntRange(min=1), default=SWEEP_BATCH,
              show_default=True, envvar="GONGKAI_SERVE_SWEEP_BATCH",
              help="Documents per round of serve's sweeps (smaller: earlier routing in a "
                   "burst).")
@click.option("--review-cron", default="0 6 * * *", show_default=True,
              envvar="GONGKAI_REVIEW_CRON", help="When the review flow runs (cron).")
@click.option("--fixity-cron", default="0 3 * * 0", show_default=True,
              envvar="GONGKAI_FIXITY_CRON", help="When the fixity flow runs (cron).")
@click.option("--publish-interval", type=click.FloatRange(min=0), default=3600.0,
              show_default=True, envvar="GONGKAI_PUBLISH_INTERVAL",
              help="Seconds between publish sweeps of waiting documents (0: none).")
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              envvar="GONGKAI_TIMEZONE", help="Time zone of the cron schedules.")
@click.option("--limit", type=click.IntRange(min=1), default=4, show_default=True,
              help="Flow runs at once in this process.")
@click.option("--web-host", default="127.0.0.1", show_default=True,
              help="Where the web app (portal, staff app, API) listens.")
@click.option("--web-port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--no-web", is_flag=True, help="Serve the deployments only, no web app.")
def serve(batch_window: float, sweep_batch: int, review_cron: str, fixity_cron: str,
          publish_interval: float, timezone: str, limit: int, web_host: str, web_port: int,
          no_web: bool) -> None:  # fmt: skip
    """Serve the ingest, publish, review and fixity deployments, sweep received documents as
    they arrive, and serve the web app (public portal at /, staff app at /staff/, the API)
    unless --no-web.

    Uses PREFECT_API_URL if set; otherwise a local Prefect server under GONGKAI_HOME."""
    # Nothing here may import Prefect: gongkai.flows.runtime configures it first. The cron
    # expressions and time zone are checked when the deployments are built.
    from gongkai.deployments.serve import InvalidServeOption, ServeOptions
    from gongkai.deployments.serve import serve as run_serve

    options = ServeOptions(
        batch_window=timedelta(seconds=batch_window),
        review_cron=review_cron,
        fixity_cron=fixity_cron,
        timezone=timezone,
        publish_interval=timedelta(seconds=publish_interval) if publish_interval else None,
        limit=limit,
        web=None if no_web else (web_host, web_port),
        sweep_batch=sweep_batch,
    )
    # SIGTERM ends the process like Ctrl-C, so the local server is stopped on the way out.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        run_serve(options, load_settings())
    except KeyboardInterrupt:
        click.echo("gongkai serve: stopped", err=True)
    except InvalidServeOption as exc:
        raise click.UsageError(str(exc)) from exc


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def api(host: str, port: int, log_level: str) -> None:
    """The HTTP API alone (OpenAPI at /docs): bearer tokens from `gongkai token create`
    (GONGKAI_STAFF_TOKEN and GONGKAI_INTAKE_TOKEN until the first admin exists)."""
    import uvicorn

    from gongkai.entrypoints.api import create_app

    uvicorn.run(create_app(load_settings()), host=host, port=port, log_level=log_level)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--secure-cookies", is_flag=True,
              help="Send the session cookie over HTTPS only (behind a TLS proxy).")
def web(host: str, port: int, log_level: str, secure_cookies: bool) -> None:
    """The web app: public portal at /, staff app at /staff/ (login /staff/login), and the
    HTTP API beside them, in one process."""
    import uvicorn

    from gongkai.entrypoints.web import create_web_app

    app = create_web_app(load_settings(), secure_cookies=secure_cookies)
    uvicorn.run(app, host=host, port=port, log_level=log_level)


@click.command()
@click.argument("directory", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--settle", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds a file's size must stay unchanged before it is taken.")
@click.option("--process", "run_flows", is_flag=True,
              help="Run the ingest and publish flows here after each batch (embedded "
                   "default); otherwise only submit and let the service's events act.")
@click.option("--once", is_flag=True, help="Take what is there now, then exit.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per file taken.")
@click.option("-v", "--verbose", is_flag=True)
def watch(directory: Path | None, settle: float, run_flows: bool, once: bool, as_json: bool,
          verbose: bool) -> None:
    """Take every file dropped into DIRECTORY (default GONGKAI_HOME/inbox).

    Taken files move to .done/ (or .rejected/ with a .error.txt); nothing is deleted."""
    from gongkai.entrypoints.watch import run_watch

    _logging(verbose)
    settings = load_settings()
    folder = (directory or settings.inbox).resolve()
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)

    def emit(line: dict[str, object]) -> None:
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
        else:
            if line.get("accepted"):
                click.echo(f"{line['id']}\t{line['state']}\t{line['name']}")
            else:
                click.echo(f"rejected\t{line['name']}\t{line['error']}", err=True)

    click.echo(f"gongkai watch: {folder}", err=True)
    summary = run_watch(folder, settings=settings, stop=stop, settle=settle,
                        run_flows=run_flows, once=once, report=emit)  # fmt: skip
    if as_json:
        click.echo(json.dumps({"summary": summary}, ensure_ascii=False))
    else:
        click.echo(f"taken {summary['taken']}, rejected {summary['rejected']}, "
                   f"failed {summary['failed']}", err=True)  # fmt: skip
    if summary["failed"]:
        click.echo(f"gongkai watch: {summary['failed']} file(s) could not be taken in and wait "
                   f"in {folder / '.processing'} for a retry (see the log above)", err=True)
        sys.exit(1)
