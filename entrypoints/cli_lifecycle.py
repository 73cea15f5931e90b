"""Lifecycle commands: ingest, submit, review, redact, exceptions, resolve, status, public, fixity.

They only translate between the command line and gongkai.flows (service layer and flows).
Prefect is configured (gongkai.flows.runtime) before it is first imported. Only the commands
that run a flow (ingest, fixity) enter `runtime.prefect_session()`; the others write audit rows
(their events, relayed where a Prefect API listens) and start no server.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from gongkai.config import Settings, load_settings
from gongkai.entrypoints.cli_people import actor_option, cli_principal, os_user
from gongkai.entrypoints.cli_values import DAY, DISCLOSURE, DOCUMENT_ID
from gongkai.entrypoints.files import FolderContents, documents_in, shown
from gongkai.entrypoints.tables import Column, cells, local_time, output_console, print_table
from gongkai.flows import labels
from gongkai.flows.access import Action
from gongkai.flows.lifecycle import STATES

stderr = Console(stderr=True)


def _fail(message: str) -> None:
    raise click.ClickException(message)


@contextmanager
def _context(settings: Settings, *, with_prefect: bool) -> Iterator[Any]:
    """A service Context. `with_prefect`: Prefect's environment configured for this home (a
    command that writes; its audit rows are its events, relayed where a Prefect API listens);
    read-only commands leave Prefect alone."""
    from gongkai.flows import runtime
    from gongkai.flows.service import Context

    if with_prefect:
        runtime.configure(settings)
    with Context.open(settings) as ctx:
        yield ctx


def _handed_over(paths: tuple[Path, ...], settings: Settings) -> FolderContents:
    """The files to take in (folders walked), and what was left out of the folders with why:
    lock, temporary, hidden and system files, and gongkai's own home (entrypoints/files.py)."""
    for path in paths:
        if not path.is_dir() and not path.is_file():
            _fail(f"{shown(path)}: no such file or folder")
    return documents_in(paths, own_folders=(settings.home,))


def _report_left_out(left_out: dict[Path, str], listed: int = 5) -> None:
    if not left_out:
        return
    stderr.print(f"未收取 {len(left_out)} 个不是交来公文的文件或文件夹：")
    for path, why in list(left_out.items())[:listed]:
        stderr.print(f"  {shown(path)}: {why}", soft_wrap=True)  # a path is not folded
    if len(left_out) > listed:
        stderr.print(f"  另有 {len(left_out) - listed} 个（全部见 --json 的 left_out）")


def _by_state_table(by_state: dict[str, int], title: str) -> Table:
    table = Table(title=title)
    table.add_column("状态")
    table.add_column("份数", justify="right")
    for state in sorted(by_state, key=lambda s: (STATES.index(s)
                                                 if s in STATES else 99, s)):
        table.add_row(labels.state_label(state), str(by_state[state]))
    table.add_row("[bold]合计[/bold]", f"[bold]{sum(by_state.values())}[/bold]")
    return table


# --------------------------------------------------------------------------------------------
# ingest / submit


def _announce(event: str, resource_id: str, payload: dict[str, Any], name: str) -> None:
    from gongkai.flows import runtime

    sink = runtime.event_sink()
    sink.emit(event, resource_id=resource_id, payload=payload, resource_name=name)
    runtime.deliver(sink)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--declared-disclosure", type=DISCLOSURE,
              help="The attribute the drafting system declared for these documents "
                   "(主动公开 … or active …).")  # fmt: skip
@click.option("--chunk-size", default=100, show_default=True,
              help="Documents per Prefect task run.")
@click.option("--workers", type=click.IntRange(min=1), default=None, envvar="GONGKAI_WORKERS",
              help="Worker processes that read, archive and publish (default: one per core).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary as the last line.")
def ingest(
    paths: tuple[Path, ...],
    declared_disclosure: str | None,
    chunk_size: int,
    workers: int | None,
    as_json: bool,
) -> None:
    """Take in files and folders (recursively), then run the ingest and publish flows."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from gongkai.flows import runtime

    started = time.perf_counter()
    if workers is not None:
        os.environ["GONGKAI_WORKERS"] = str(workers)  # the flow run's worker pool
    settings = load_settings()
    handed_over = _handed_over(paths, settings)
    files = handed_over.files
    runtime.configure(settings)  # a running `gongkai serve` hears the intake's events
    from gongkai.entrypoints.errors import explain
    from gongkai.flows.service import (
        Context,
        IntakeItem,
        intake_files,
        remove_leftovers,
        repair_public_changes,
    )
    from gongkai.flows.service.status import WAITING_FOR_PIPELINE

    taken: list[IntakeItem] = []  # as intake goes: what an outage leaves done is counted
    waiting: list[int] = []
    failed: dict[str, str] = {}
    repaired: dict[str, Any] = {"missing_pages": [], "index_problems": [], "stale_pages": []}
    progress = Progress(
        TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=stderr, transient=False, disable=not files,
    )  # fmt: skip
    try:
        with Context.open(settings) as ctx, progress:
            remove_leftovers(ctx)  # what a run killed mid-write left behind
            for problem in ctx.calendar.problems:
                stderr.print(f"[yellow]holiday file not used[/yellow]: {problem} (its year's "
                             "deadlines are provisional until it is fixed)", soft_wrap=True)
            bar = progress.add_task("intake", total=len(files))

            def took(item: IntakeItem) -> None:
                taken.append(item)
                progress.advance(bar)

            intake_files(ctx, files, source="cli", actor=os_user(),
                         declared_disclosure=declared_disclosure, on_done=took)  # fmt: skip
            # Documents still waiting (new ones, and any an interrupted earlier run left) are
            # what the pipeline would take; nothing waiting: no flow would do anything, and
            # Prefect is not started.
            waiting = [i for i, state in ctx.catalog.states_of(_ids(taken)).items()
                       if state in WAITING_FOR_PIPELINE]  # fmt: skip
            if not waiting:  # no pipeline run to repair the public store: done here
                repaired = repair_public_changes(ctx).to_json()
        if waiting:
            stderr.print(f"正在处理 {len(waiting)} 份文件…")
            with runtime.prefect_session(settings, documents=len(waiting)) as mode, \
                    runtime.one_shot_runs(mode):
                from gongkai.flows.ingest import ingest_received
                from gongkai.flows.log_filters import hide_outage_tracebacks

                hide_outage_tracebacks()
                result = ingest_received(chunk_size=chunk_size)
                failed, repaired = dict(result["failed"]), result["repaired"]
        outage = None
    except Exception as exc:  # an outage: what was done is summed up, then what to do
        outage = explain(exc)
        if outage is None:
            raise
    rejected = {shown(i.path): i.refused or "refused" for i in taken if i.result is None}
    new_ids = [i.result.record.id for i in taken if i.result is not None and i.result.new]
    all_ids = _ids(taken)
    duplicates = len(taken) - len(rejected) - len(new_ids)
    if outage is None:
        states = _states(settings, all_ids)
    else:  # what the catalog says now, unless the catalog is what is out
        catalog_out = outage.outage.kind.startswith("catalog")
        states = {} if catalog_out else _states_if_reachable(settings, all_ids)
    by_state = dict(Counter(states.values()))
    uses_prefect = bool(waiting)
    if uses_prefect and outage is None:
        # For automations that act on a finished batch (sent where a Prefect API listens).
        _announce("gongkai.ingest.completed", f"gongkai.ingest.{uuid.uuid4()}", {
            "documents": len(states), "new": len(new_ids), "duplicates": duplicates,
            "processed": len(waiting), "by_state": by_state, "failed": len(failed),
            "rejected": len(rejected),
        }, f"ingest of {len(files)} file{'s' if len(files) != 1 else ''}")  # fmt: skip
    summary = {
        "documents": len(states),
        "new": len(new_ids),
        "duplicates": duplicates,
        "processed": len(waiting),
        # Nothing new and nothing left waiting: no flow ran and Prefect was not started.
        "nothing_new": not uses_prefect,
        "prefect": uses_prefect,
        "rejected": rejected,
        "failed": failed,
        "left_out": {shown(path): why for path, why in handed_over.left_out.items()},
        "by_state": by_state,
        "seconds": round(time.perf_counter() - started, 3),
        # What an earlier run left unwritten on the public store, written now.
        "repaired": repaired,
        # Set when an outage ended the run: what was done is above, the rest is for a rerun.
        "interrupted": ({"code": outage.outage.code, "message": outage.message}
                        if outage else None),
    }
    _report_left_out(handed_over.left_out)
    for path, why in rejected.items():
        stderr.print(f"[red]拒收[/red] {path}：{why}", soft_wrap=True)
    for doc_id, why in failed.items():
        stderr.print(f"[red]未处理[/red] 文件 {doc_id}（仍为已接收）：{why}", soft_wrap=True)
    _report_repaired(repaired)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        if not uses_prefect and outage is None:
            stderr.print("没有新文件：每份文件都已收过，也没有等待处理的文件")
        # The headline is a line of its own: as the table's title it would wrap at the
        # table's narrow width.
        console = output_console()
        console.print(f"共 {len(states)} 份文件：新收 {len(new_ids)} 份，已收过 {duplicates} 份，"
                      f"用时 {summary['seconds']:.1f} 秒")  # fmt: skip
        console.print(_by_state_table(by_state, "按状态"))
    if outage is not None:
        click.echo(outage.message, err=True)  # the last line: what to do
        sys.exit(1)
    if rejected or failed:
        sys.exit(1)


def _report_repaired(repaired: dict[str, Any]) -> None:
    pages, problems = repaired["missing_pages"], repaired["index_problems"]
    stale = repaired["stale_pages"]
    if pages or problems or stale:
        stderr.print(f"公开站点已修复：补写 {len(pages)} 件已发布文件的页面"
                     + (f"，撤下 {len(stale)} 件未发布文件的页面（{_id_list(stale)}）"
                        if stale else "")
                     + ("，重建公开目录（" + "；".join(problems) + "）" if problems else "")
                     + "（此前的运行中断，未写完）", soft_wrap=True)


def _id_list(ids: list[int]) -> str:
    return "、".join(map(str, ids[:10])) + (f" 等 {len(ids)} 件" if len(ids) > 10 else "")


def _ids(items: list[Any]) -> list[int]:
    return list(dict.fromkeys(i.result.record.id for i in items if i.result is not None))


def _states(settings: Settings, ids: list[int]) -> dict[int, str]:
    from gongkai.storage.catalog import Catalog

    with Catalog.open(settings.database_url) as catalog:  # the stores are not needed
        return catalog.states_of(ids)


def _states_if_reachable(settings: Settings, ids: list[int]) -> dict[int, str]:
    """The documents' states after an outage elsewhere; none if the catalog cannot say."""
    from gongkai.entrypoints.errors import explain

    try:
        return _states(settings, ids)
    except Exception as exc:
        if explain(exc) is None:
            raise
        return {}


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--declared-disclosure", type=DISCLOSURE)
@click.option("--source", default="cli", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def submit(files: tuple[Path, ...], declared_disclosure: str | None, source: str,
           as_json: bool) -> None:
    """Take in files only (store, register, emit gongkai.document.received); a deployment
    trigger runs the ingest flow."""
    from gongkai.flows.service import IntakeRejected, intake

    settings = load_settings()
    out: list[dict[str, Any]] = []
    failed = False
    with _context(settings, with_prefect=True) as ctx:
        for path in files:
            try:
                result = intake(ctx, path.read_bytes(), path.name, source=source,
                                actor=os_user(), declared_disclosure=declared_disclosure)
            except IntakeRejected as exc:
                failed = True
                out.append({"file": shown(path), "rejected": exc.message})
                continue
            out.append({"file": shown(path), "id": result.record.id, "new": result.new,
                        "state": result.record.state})  # fmt: skip
    for item in out:
        if as_json:
            click.echo(json.dumps(item, ensure_ascii=False))
        elif "rejected" in item:
            stderr.print(f"[red]拒收[/red] {item['file']}：{item['rejected']}", soft_wrap=True)
        else:
            known = "新收" if item["new"] else "已收过"
            click.echo(f"{item['id']}\t{item['state']}\t{known}\t{item['file']}")
    if failed:
        sys.exit(1)


# --------------------------------------------------------------------------------------------
# review, redaction, exceptions


def _headed(rows: list[dict[str, Any]], headings: dict[str, str]) -> list[dict[str, Any]]:
    """The --json rows keyed by the table's Chinese headings (the codes stay in --json)."""
    return [{headings[k]: v for k, v in row.items() if k in headings} for row in rows]


@click.group()
def review() -> None:
    """The periodic review of withheld documents."""


@review.command("list")
@click.option("--due", is_flag=True, help="Only documents whose review is due today.")
@click.option("--json", "as_json", is_flag=True)
def review_list(due: bool, as_json: bool) -> None:
    """Withheld documents and their next review dates."""
    from gongkai.flows import service

    with _context(load_settings(), with_prefect=False) as ctx:
        records = (service.due_reviews(ctx) if due
                   else ctx.catalog.by_state("withheld", with_text=False))
        rows = [{"id": r.id, "file_number": r.file_number, "title": r.title,
                 "reason": r.disclosure_reason,
                 "review_months": service.review_months_of(ctx, r),
                 "next_review_at": r.next_review_at.isoformat() if r.next_review_at else None}
                for r in records]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    headings = {"id": "编号", "file_number": "文号", "title": "标题", "reason": "不公开理由",
                "review_months": "审核周期（月）", "next_review_at": "下次审核"}  # fmt: skip
    columns = (Column("编号", justify="right"), Column("文号"), Column("标题", "text"),
               Column("不公开理由", "text"), Column("审核周期（月）", justify="right"),
               Column("下次审核"))  # fmt: skip
    print_table(f"到期待审核 {len(rows)} 份" if due else f"不予公开 {len(rows)} 份", columns,
                cells(_headed(rows, headings), columns))


@review.command("decide")
@click.argument("doc_id", type=DOCUMENT_ID)
@click.argument("decision", type=click.Choice(["release", "keep", "partial"]))
@click.option("--reason", required=True)
@actor_option
def review_decide(doc_id: int, decision: str, reason: str, actor: str | None) -> None:
    """Decide on a withheld document: release publishes it, keep sets the next review date,
    partial sends it to redaction. The reviewer recorded is the actor."""
    from gongkai.flows import service
    from gongkai.storage.catalog import DocumentNotFound

    with _context(load_settings(), with_prefect=True) as ctx:
        by = cli_principal(ctx, actor, Action.REVIEW)
        try:
            record = service.decide_review(ctx, doc_id, decision, reason=reason,
                                           reviewer=by.actor)  # fmt: skip
        except (DocumentNotFound, service.LifecycleError, ValueError) as exc:
            _fail(str(exc))
    nxt = f"\t下次审核 {record.next_review_at}" if record.state == "withheld" else ""
    click.echo(f"{record.id}\t{record.state}\t{labels.state_label(record.state)}{nxt}")


@click.command()
@click.argument("doc_id", type=DOCUMENT_ID)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
@click.option("--confirm-difference", "confirm_difference", metavar="REASON",
              help="Publish although the version's 文号 or title differs from the original's; "
                   "the reason is audited.")  # fmt: skip
def redact(doc_id: int, file: Path, actor: str | None, confirm_difference: str | None) -> None:
    """Archive a redacted version (docx, pdf or txt) beside the original and publish it. It
    must carry the original's 文号 and title, or --confirm-difference says why not."""
    from gongkai.extractors.model import ExtractionError
    from gongkai.flows import service
    from gongkai.storage.catalog import DocumentNotFound

    with _context(load_settings(), with_prefect=True) as ctx:
        try:
            by = cli_principal(ctx, actor, Action.REDACT)
            record = service.redact(ctx, doc_id, file.read_bytes(), file.name, actor=by.actor,
                                    confirm_difference=confirm_difference)  # fmt: skip
        except (DocumentNotFound, service.LifecycleError, ExtractionError) as exc:
            _fail(str(exc))
    click.echo(f"{record.id}\t{record.state}\t{labels.state_label(record.state)}\t"
               f"{record.index_number}")


@click.command()
@click.argument("doc_id", type=DOCUMENT_ID)
@click.option("--reason", required=True, help="Why it is taken back (recorded, not public).")
@actor_option
def withdraw(doc_id: int, reason: str, actor: str | None) -> None:
    """撤回: take a published document back. Its page, JSON record and index entries go, the
    feed marks it deleted, the original stays archived; `review decide ID release` alone
    publishes it again."""
    from gongkai.flows import service
    from gongkai.storage.catalog import DocumentNotFound

    with _context(load_settings(), with_prefect=True) as ctx:
        try:
            by = cli_principal(ctx, actor, Action.WITHDRAW)
            record = service.withdraw(ctx, doc_id, reason=reason, actor=by.actor)
        except (DocumentNotFound, service.LifecycleError) as exc:
            _fail(str(exc))
    click.echo(f"{record.id}\t{record.state}\t{labels.state_label(record.state)}\t"
               f"{record.index_number}")


@click.command()
@click.option("--json", "as_json", is_flag=True)
def exceptions(as_json: bool) -> None:
    """Documents that need a person's decision, with the reason."""
    with _context(load_settings(), with_prefect=False) as ctx:
        records = ctx.catalog.by_state("exception", with_text=False)
    rows = [{"id": r.id, "filename": r.filename, "file_number": r.file_number,
             "reason": r.exception_reason, "disclosure_reason": r.disclosure_reason}
            for r in records]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    headings = {"id": "编号", "filename": "文件名", "file_number": "文号", "reason": "原因",
                "disclosure_reason": "不公开理由"}  # fmt: skip
    columns = (Column("编号", justify="right"), Column("文件名", "extra"), Column("文号"),
               Column("原因", "text"), Column("不公开理由", "extra"))  # fmt: skip
    print_table(f"待人工处理 {len(rows)} 份", columns, cells(_headed(rows, headings), columns))


@click.command()
@click.argument("doc_id", type=DOCUMENT_ID)
@click.option("--disclosure", required=True, type=DISCLOSURE,
              help="主动公开, 依申请公开, 不予公开, 删减后公开 (or active …).")
@click.option("--reason", required=True)
@click.option("--title", help="The corrected 标题.")
@click.option("--file-number", help="The corrected 文号 (any spelling).")
@click.option("--issuer", help="The corrected 发文机关.")
@click.option("--date", "day", type=DAY, help="The corrected 成文日期 (2021年1月1日 …).")
@actor_option
def resolve(doc_id: int, disclosure: str, reason: str, title: str | None,
            file_number: str | None, issuer: str | None, day: date | None,
            actor: str | None) -> None:  # fmt: skip
    """Resolve an exception with the disclosure attribute a person decided (and the fields
    the extractor misread, corrected); it is re-routed."""
    from gongkai.flows import service
    from gongkai.storage.catalog import DocumentNotFound

    with _context(load_settings(), with_prefect=True) as ctx:
        try:
            by = cli_principal(ctx, actor, Action.RESOLVE)
            corrections = {"title": title, "file_number": file_number, "issuer": issuer,
                           "date": day.isoformat() if day else None}  # fmt: skip
            record = service.resolve(ctx, doc_id, disclosure, reason=reason, actor=by.actor,
                                     corrections=corrections)  # fmt: skip
        except (DocumentNotFound, service.LifecycleError, ValueError) as exc:
            _fail(str(exc))
    click.echo(f"{record.id}\t{record.state}\t{labels.state_label(record.state)}")


# --------------------------------------------------------------------------------------------
# status, public, fixity


@click.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Counts by state, publication deadlines overdue or at risk, due reviews, fixity failures."""
    from gongkai.flows import service

    settings = load_settings()
    with _context(settings, with_prefect=False) as ctx:
        report = service.status(ctx)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    console = output_console()
    console.print(_by_state_table(report.by_state, f"{report.today} 文件状态"))
    todo = Column("处理办法", "text")
    for title, items in (("公开期限已过", report.overdue), ("公开期限将至", report.at_risk)):
        if not items:
            console.print(f"{title}：无")
            continue
        columns = (Column("编号", justify="right"), Column("文号"), Column("标题", "text"),
                   Column("状态", "extra"), Column("期限"),
                   Column("剩余工作日", "extra", justify="right"), todo)  # fmt: skip
        print_table(f"{title}：{len(items)} 份", columns, [
            (str(i.document_id), i.file_number or "", i.title or "", labels.state_label(i.state),
             f"{i.due}{'（暂定）' if i.provisional else ''}", str(i.working_days_left),
             i.action)
            for i in items
        ], console=console)  # fmt: skip
    stalled_minutes = report.to_json()["stalled_after_minutes"]
    listed: tuple[tuple[str, list[Any], str, str], ...] = (
        ("到期待审核", report.due_reviews, "next_review_at", "审核日期"),
        (f"停滞的接收（超过 {stalled_minutes} 分钟无服务处理）", report.stalled, "received_at",
         "接收时间"))  # fmt: skip
    for title, records, when, heading in listed:
        if not records:
            console.print(f"{title}：无")
            continue
        columns = (Column("编号", justify="right"), Column("文号"), Column("标题", "text"),
                   Column(heading), todo)  # fmt: skip
        print_table(f"{title}：{len(records)} 份", columns, [
            (str(r.id), r.file_number or "", r.title or r.filename,
             local_time(getattr(r, when), settings.zone), service.todo_action(r))
            for r in records
        ], console=console)  # fmt: skip
    if report.fixity_failures:
        console.print(f"[red]固定性校验失败：{len(report.fixity_failures)} 份[/red]")
        for doc_id, problems in report.fixity_failures.items():
            console.print(f"  文件 {doc_id}：{'; '.join(problems)}")
    else:
        console.print("固定性校验失败：无")
    if report.public:
        stale = list(report.public.stale_pages)
        console.print(f"[red]公开站点与目录不符[/red]：{len(report.public.missing_pages)} 件已发布"
                      "文件缺页面"
                      + (f"；{len(stale)} 件未发布文件仍有公开页面（{_id_list(stale)}）"
                         if stale else "")
                      + "".join(f"；{p}" for p in report.public.index_problems)
                      + "（gongkai public repair 或下次 gongkai ingest 会修复）")
    else:
        console.print("公开站点：每件已发布文件都有页面和目录条目")
    known = "，".join(f"{years} 来自 {source}" for years, source in report.calendar.items())
    console.print(f"工作日历：{known}；其他年份只计周末（期限标为暂定）")
    for problem in report.calendar_problems:
        console.print(f"[red]未采用的节假日文件[/red]：{problem}")


@click.group()
def public() -> None:
    """The public site (documents, index, feed)."""


@public.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def public_export(directory: Path) -> None:
    """Write the whole public site into DIRECTORY."""
    from gongkai.flows import service

    with _context(load_settings(), with_prefect=False) as ctx:
        count = service.export_public(ctx, directory)
    click.echo(f"已将 {count} 个文件写入 {directory}")


@public.command("reindex")
def public_reindex() -> None:
    """Rewrite the whole public index from the catalog (repair; publishing updates it)."""
    from gongkai.flows import service

    with _context(load_settings(), with_prefect=False) as ctx:
        count = service.rebuild_public_index(ctx)
    click.echo(f"公开目录已重建：共 {count} 件")


@public.command("repair")
@click.option("--json", "as_json", is_flag=True)
def public_repair(as_json: bool) -> None:
    """Write what the catalog says is published and the public store lacks: pages a killed or
    failed run left unwritten (or the store lost), and the index if it is behind."""
    from gongkai.flows import service

    with _context(load_settings(), with_prefect=False) as ctx:
        gaps = service.repair_public(ctx, actor=os_user())
    if as_json:
        click.echo(json.dumps(gaps.to_json(), ensure_ascii=False))
    elif gaps:
        _report_repaired(gaps.to_json())
    else:
        click.echo("公开站点与目录一致：无需修复")


@click.command()
@click.option("--json", "as_json", is_flag=True)
def fixity(as_json: bool) -> None:
    """Verify every original, archival package and public object (the fixity flow); a run
    cut short is taken up where it stopped."""
    from gongkai.flows import runtime

    with runtime.prefect_session(load_settings()) as mode, runtime.one_shot_runs(mode):
        from gongkai.flows.fixity import fixity_check

        result = fixity_check()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(f"已校验 {result['checked']} 份文件，未通过 {len(result['failed'])} 份")
        for doc_id, problems in result["failed"].items():
            click.echo(f"  文件 {doc_id}：{'；'.join(problems)}")
    if result["failed"]:
        sys.exit(1)
