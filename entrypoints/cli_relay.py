"""`gongkai relay`: the catalog's audit rows sent to the Prefect API as events (flows/relay.py)."""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType

import click

from gongkai.config import load_settings


@click.command(help=(
    "把目录（catalog）的审计记录作为事件发送到 Prefect API（PREFECT_API_URL，或本 GONGKAI_HOME "
    "上运行的 gongkai serve）。每条记录的事件编号固定，重发不会再启动一次流程。"
    "默认发送一轮后退出；--follow 持续发送，直到 Ctrl-C。"
    "同一目录上的多个 relay 只有一个在发送（租约），其余等待接替。"
))
@click.option("--follow", is_flag=True, help="持续发送新记录，直到中断（Ctrl-C / SIGTERM）。")
@click.option("--from", "start", default=None, metavar="end|beginning|编号",
              help="目录第一次发送时从哪里开始：end（默认，不重发历史，但从仍在 received 的"
                   "最早文件的登记记录起发送）、beginning（全部历史）或某条审计记录的编号之后。"
                   "已有发送位置时不起作用。")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（代码稳定）。")
def relay(follow: bool, start: str | None, as_json: bool) -> None:
    from gongkai.flows import runtime

    settings = load_settings()
    if start is not None and start not in ("end", "beginning") and not start.isdigit():
        raise click.BadParameter("应为 end、beginning 或审计记录编号", param_hint="--from")
    runtime.configure(settings)
    if not runtime.prefect_listens():
        click.echo("没有可用的 Prefect API（未设置 PREFECT_API_URL，本目录也没有运行中的 "
                   "gongkai serve）：事件留在目录的审计记录中。", err=True)  # fmt: skip
        sys.exit(1)
    from gongkai.flows.relay import Relay

    worker = Relay(settings, start=start)
    if follow:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        worker.follow(stop)
        return
    try:
        report = worker.run_once()
    finally:
        worker.close()
    if as_json:
        click.echo(json.dumps({"rows": report.rows, "sent": report.sent,
                               "held_elsewhere": report.held_elsewhere}))  # fmt: skip
    elif report.held_elsewhere:
        click.echo("另一个 relay 正在发送本目录的事件，本次未发送。")
    else:
        click.echo(f"已发送 {report.sent} 个事件（审计记录 {report.rows} 条）。")
