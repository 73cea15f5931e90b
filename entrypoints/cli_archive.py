"""`gongkai db`, `find`, `get`, `show`, `verify`: the catalog and the archive from the command line.

These commands act as staff. They only translate between the command line and
gongkai.storage (catalog, archive, retrieval); every rule lives there.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from gongkai.entrypoints.cli_values import DAY, DISCLOSURE, DOCUMENT_ID, STATE
from gongkai.entrypoints.tables import Column
from gongkai.flows import labels

ROLE_OF_CLI = "staff"
# `gongkai find`: what a clerk reads first stays at any width (entrypoints/tables.py).
FIND_COLUMNS = (
    Column("id", justify="right"), Column("文号"), Column("标题", "text"),
    Column("发文机关", "extra"), Column("成文日期"), Column("公开属性", "extra"),
    Column("状态"), Column("文件名", "extra"),
)  # fmt: skip
FIND_LIMIT = 50  # documents `gongkai find` shows unless told otherwise


def _settings() -> Any:
    from gongkai.config import load_settings

    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@contextlib.contextmanager
def _catalog() -> Iterator[Any]:
    from gongkai.storage.catalog import Catalog

    catalog = Catalog.open(_settings().database_url)
    try:
        yield catalog
    finally:
        catalog.close()


def _archive() -> Any:
    from gongkai.storage.archive import Archive
    from gongkai.storage.stores import open_stores

    return Archive(open_stores(_settings()).archive)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


# -- db ---------------------------------------------------------------------------------------


@click.group()
def db() -> None:
    """The catalog database: schema migrations, its id."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the catalog schema up to date (alembic upgrade head)."""
    from gongkai.storage.catalog import Catalog

    catalog = Catalog(_settings().database_url)
    try:
        before = catalog.current_revision()
        catalog.upgrade()
        after = catalog.current_revision()
    finally:
        catalog.close()
    if before == after:
        click.echo(f"catalog already at revision {after}")
    else:
        click.echo(f"catalog upgraded from {before or 'empty'} to {after}")


@db.command("current")
def db_current() -> None:
    """Show the catalog's schema revision and the newest one this version knows."""
    from gongkai.storage.catalog import Catalog

    catalog = Catalog(_settings().database_url)
    try:
        current, head = catalog.current_revision(), catalog.head_revision()
    finally:
        catalog.close()
    state = "up to date" if current == head else "needs `gongkai db upgrade`"
    click.echo(f"current: {current or 'empty'}  head: {head}  ({state})")


@db.command("id")
def db_id() -> None:
    """Print the catalog's id (a digest of GONGKAI_DATABASE_URL without its password): the
    `gongkai.catalog` label of its events, the work queue and deployment-name suffix of
    deployments/prefect.yaml."""
    from gongkai.flows.events import catalog_id

    click.echo(catalog_id(_settings().database_url))


# -- find -------------------------------------------------------------------------------------


def _summary(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "file_number": record.file_number,
        "title": record.title,
        "issuer": record.issuer,
        "date": _iso(record.date),
        "disclosure": record.disclosure,
        "state": record.state,
        "sha256": record.sha256,
        "filename": record.filename,
        "index_number": record.index_number,
        "received_at": _iso(record.received_at),
        "archive_key": record.archive_key,
    }


@click.command()
@click.option("--file-number", help="发文字号, any spelling (狮政[2021]12号 = 狮政〔2021〕12号).")
@click.option("--index-number", help="索引号, exactly.")
@click.option("--title", help="Substring of the title.")
@click.option("--text", "text_query", help="Substring of the title or full text.")
@click.option("--issuer", help="Substring of the issuing body (发文机关).")
@click.option("--from", "date_from", type=DAY, help="成文日期 from (2021年1月1日 or 2021-01-01).")
@click.option("--to", "date_to", type=DAY, help="成文日期 to.")
@click.option("--state", type=STATE, help="已发布, 待人工处理 … or the code (published …).")
@click.option("--disclosure", type=DISCLOSURE, help="主动公开 … or the code (active …).")
@click.option("--limit", type=click.IntRange(min=1), default=FIND_LIMIT, show_default=True,
              help="At most this many documents.")
@click.option("--all", "show_all", is_flag=True, help="Every matching document (no limit).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line (the total goes to stderr when cut).")
def find(
    file_number: str | None,
    index_number: str | None,
    title: str | None,
    text_query: str | None,
    issuer: str | None,
    date_from: date | None,
    date_to: date | None,
    state: str | None,
    disclosure: str | None,
    limit: int,
    show_all: bool,
    as_json: bool,
) -> None:
    """Find documents in the catalog, the first 50 unless --limit or --all. No filter lists
    every document."""
    from gongkai.storage.catalog import FindQuery
    from gongkai.storage.retrieval import Role, find_page

    query = FindQuery(
        file_number=file_number,
        index_number=index_number,
        title=title,
        text=text_query,
        issuer=issuer,
        date_from=date_from,
        date_to=date_to,
        state=state,
        disclosure=disclosure,
        limit=None if show_all else limit,
    )
    with _catalog() as catalog:
        page = find_page(catalog, query, Role(ROLE_OF_CLI))
    records = page.documents
    shown = f"共 {page.total} 条"
    if len(records) < page.total:
        shown += f"，显示前 {len(records)} 条（--limit N 或 --all 显示更多）"
    if as_json:
        for record in records:
            click.echo(json.dumps(_summary(record), ensure_ascii=False))
        if len(records) < page.total:
            click.echo(shown, err=True)
        return
    from gongkai.entrypoints.tables import print_table

    rows = [
        (str(r.id), r.file_number or "", r.title or "", r.issuer or "", _iso(r.date) or "",
         labels.disclosure_label(r.disclosure), labels.state_label(r.state), r.filename)
        for r in records
    ]  # fmt: skip
    print_table(shown, FIND_COLUMNS, rows)


# -- get --------------------------------------------------------------------------------------


@click.command()
@click.argument("doc_id", type=DOCUMENT_ID)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing file at --out.")
@click.option("--actor", default=None,
              help="Record this gongkai user as the one who took it (its role must allow it); "
                   "default: the OS user.")  # fmt: skip
def get(doc_id: int, out_path: Path, force: bool, actor: str | None) -> None:
    """Write the original of document DOC_ID to --out, verified against its sha256. Taking a
    non-public original is audited with the actor."""
    from gongkai.entrypoints.cli_people import cli_principal, quiet_context
    from gongkai.flows.access import Action, NotAllowed
    from gongkai.flows.service import reading
    from gongkai.storage.catalog import DocumentNotFound
    from gongkai.storage.objects import StorageError

    if out_path.exists() and not force:
        raise click.ClickException(f"{out_path} exists (use --force to replace it)")
    try:
        with quiet_context() as ctx:
            record, data = reading.original(ctx, doc_id,
                                            cli_principal(ctx, actor, Action.READ_ORIGINAL))
    except (DocumentNotFound, NotAllowed) as exc:
        raise click.ClickException(str(exc)) from exc
    except StorageError as exc:  # checksum mismatch, missing object: nothing is written
        raise click.ClickException(f"document {doc_id}: {exc}") from exc
    directory = out_path.resolve().parent
    if not directory.is_dir():
        raise click.ClickException(f"{directory} is not a folder")
    # Temporary file in the same folder, then an atomic rename: never a half-written --out.
    fd, temp_name = tempfile.mkstemp(prefix=".gongkai-get-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, out_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    click.echo(f"{out_path}: {record.filename}, {len(data)} bytes, sha256 {record.sha256} verified")


# -- show -------------------------------------------------------------------------------------


def _version_row(record: Any) -> dict[str, Any]:
    """One version of a 文号, as `show` lists them (oldest first)."""
    return {"id": record.id, "state": record.state, "index_number": record.index_number,
            "filename": record.filename, "received_at": record.received_at.isoformat()}


@click.command()
@click.argument("doc_id", type=DOCUMENT_ID)
@click.option("--json", "as_json", is_flag=True, help="One JSON object: document, history.")
def show(doc_id: int, as_json: bool) -> None:
    """Print the metadata of document DOC_ID and its whole history."""
    from gongkai.storage.catalog import DocumentNotFound
    from gongkai.storage.retrieval import Role, get_document

    try:
        with _catalog() as catalog:
            record = get_document(catalog, doc_id, Role(ROLE_OF_CLI))
            history = catalog.history(doc_id)
            decisions = catalog.review_decisions(doc_id)
            versions = [_version_row(v) for v in catalog.versions_of(doc_id)]
    except DocumentNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    decisions_json = [{k: _iso(v) if isinstance(v, date) else v for k, v in d.items()}
                      for d in decisions]  # fmt: skip
    if as_json:
        payload = {
            "document": record.to_json(),
            "history": [e.to_json() for e in history],
            "review_decisions": decisions_json,
            "versions": versions,
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    from gongkai.entrypoints.tables import local_time, output_console, printable

    zone = _settings().zone  # times are stored in UTC and read in the office's time zone
    console = output_console()
    fields = Table(title=f"文件 {record.id}", show_header=False)
    fields.add_column("字段", style="bold")
    fields.add_column("值", overflow="fold")
    for name, value in record.to_json().items():
        if name == "metadata":
            continue
        if isinstance(value, list):
            value = "、".join(value)
        moment = getattr(record, name, None)
        if isinstance(moment, datetime):
            value = local_time(moment, zone)
        elif name == "state" or (name in ("disclosure", "declared_disclosure") and value):
            shown = (labels.state_label if name == "state" else labels.disclosure_label)(value)
            value = f"{shown}（{value}）"  # the code beside it, as --json has it
        fields.add_row(labels.FIELD_LABELS.get(name, name),
                       Text(printable("" if value is None else str(value), lines=True)))
    text = record.metadata.get("text") or ""
    fields.add_row(labels.FIELD_LABELS["text"], Text(printable(
        f"{len(text)} 字" + (f"：{text[:120]}…" if text else ""), lines=True)))
    console.print(fields)
    if decisions_json:
        review = Table(title="审核记录")
        for heading in ("时间", "决定", "理由", "审核人", "下次审核"):
            review.add_column(heading, overflow="fold")
        for d, decided in zip(decisions_json, decisions, strict=True):
            review.add_row(
                local_time(decided["decided_at"], zone),
                *(
                    Text(printable(str(d[h] or "")))
                    for h in ("decision", "reason", "reviewer", "next_review_at")
                )
            )
        console.print(review)
    if len(versions) > 1:
        from gongkai.entrypoints.tables import print_table

        columns = (Column("编号", justify="right"), Column("状态"), Column("索引号"),
                   Column("文件名", "text"), Column("收文时间"))  # fmt: skip
        print_table(f"版本（文号 {record.file_number}）", columns,
                    [[str(v["id"]), labels.state_label(v["state"]), v["index_number"] or "—",
                      v["filename"],
                      v["received_at"]] for v in versions])  # fmt: skip
    events = Table(title="全部记录")
    for heading in ("时间", "事项", "操作人", "说明"):
        events.add_column(heading, overflow="fold")
    for e in history:
        events.add_row(local_time(e.at, zone), labels.EVENT_LABELS.get(e.kind, e.kind),
                       Text(printable(e.actor)),
                       Text(printable(json.dumps(e.detail, ensure_ascii=False))))
    console.print(events)


# -- verify -----------------------------------------------------------------------------------


@click.command()
@click.argument("doc_ids", type=DOCUMENT_ID, nargs=-1)
def verify(doc_ids: tuple[int, ...]) -> None:
    """Verify the originals and archival packages of DOC_IDS (every document if none given)
    against their checksums, and without DOC_IDS that every published document has its
    public page and index entries. Exits 1 on any problem."""
    from gongkai.storage.catalog import DocumentNotFound, FindQuery

    archive = _archive()
    failed: set[int] = set()
    checked = 0
    with _catalog() as catalog:
        if doc_ids:
            for doc_id in doc_ids:
                try:
                    record = catalog.get(doc_id)
                except DocumentNotFound as exc:
                    click.echo(f"{doc_id}：{exc}", err=True)
                    failed.add(doc_id)
                    continue
                checked += 1
                if not _verify_one(archive, record):
                    failed.add(doc_id)
        else:
            page, offset = 500, 0  # page through the catalog rather than load it whole
            while records := catalog.find(FindQuery(limit=page, offset=offset)):
                for record in records:
                    checked += 1
                    if not _verify_one(archive, record):
                        failed.add(record.id)
                offset += page
    click.echo(f"已校验 {checked} 份文件，有问题 {len(failed)} 份")
    public_sound = doc_ids or _verify_public()
    if failed or not public_sound:
        raise SystemExit(1)


def _verify_public() -> bool:
    """What the catalog says is published is on the public store (pages and index); print
    what is not. True if it all is."""
    from gongkai.flows.service import Context, public_gaps

    with Context.open(_settings()) as ctx:
        gaps = public_gaps(ctx)
    for doc_id in gaps.missing_pages:
        click.echo(f"{doc_id}：已发布，但公开页面缺失", err=True)
    for doc_id in gaps.stale_pages:
        click.echo(f"{doc_id}：未发布，但仍有公开页面", err=True)
    for problem in gaps.index_problems:
        click.echo(f"公开目录：{problem}", err=True)
    if gaps:
        click.echo("公开站点与目录不符：gongkai public repair（或下次 gongkai ingest）会补写缺失"
                   "部分、撤下多余页面", err=True)
    return not gaps


def _verify_one(archive: Any, record: Any) -> bool:
    """Check one document's original and package; print what was found. True if sound."""
    from gongkai.storage.objects import StorageError

    sound = True
    try:
        archive.read_original(record.original_key, sha256=record.sha256)
    except StorageError as exc:
        sound = False
        click.echo(f"{record.id}：原件 {record.original_key}：{exc}", err=True)
    if record.archive_key is None:
        click.echo(
            f"{record.id}：{'原件完好' if sound else '原件损坏'}；"
            f"尚无归档包（{labels.state_label(record.state)}）"
        )
        return sound
    report = archive.verify(record.archive_key)
    if report.ok:
        if sound:
            click.echo(
                f"{record.id}：完好（原件及归档包 {report.prefix} 的 {report.checked} 个成员）"
            )
        return sound
    for problem in report.problems:
        click.echo(f"{record.id}：{report.prefix}：{problem}", err=True)
    return False
