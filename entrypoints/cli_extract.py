"""`gongkai extract FILE... [--json] [--text]`: read documents' metadata, print it.

Only translates between the command line and `gongkai.extractors.extract`. Imports nothing of
Prefect, the catalog or the stores (tests/test_cli_extract.py checks), so it starts fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

import click

from gongkai.config import ExternalTools, Settings
from gongkai.entrypoints.files import documents_in
from gongkai.entrypoints.files import shown as shown_path
from gongkai.extractors.model import DocumentMetadata, ExtractionError

# What a folder stands for: the formats gongkai reads (scans as images too).
_SUFFIXES = (".docx", ".pdf", ".doc", ".wps", ".ofd", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
# JSON key order: what a clerk looks at first.
_KEYS: tuple[str, ...] = ("file", *(f.name for f in dataclass_fields(DocumentMetadata)))


def _expand(paths: tuple[Path, ...]) -> Iterator[Path]:
    """Files as given; a folder stands for the documents under it (.docx, .pdf, .doc, .wps,
    .ofd, scans as .png/.jpg/.tif; not Word's lock files and the like: entrypoints/files.py)."""
    for path in documents_in(paths).files:
        if path in paths or path.suffix.lower() in _SUFFIXES:
            yield path


def _settings() -> Settings:
    from gongkai.config import load_settings

    try:
        return load_settings()
    except ValueError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


def read_one(path: Path, max_bytes: int, *, with_text: bool,
             tools: ExternalTools | None = None) -> dict[str, Any]:
    """One output record: the metadata, or {"file", "error", "reason"}."""
    from gongkai.extractors import extract as extract_metadata

    shown = shown_path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:  # refused before reading it into memory
            raise ExtractionError(
                "too_large",
                f"文件过大 (the file is {size / 1048576:.1f} MB, the limit is "
                f"{max_bytes / 1048576:.1f} MB): split it, compress its images, or raise "
                "GONGKAI_MAX_FILE_BYTES",
            )
        data = path.read_bytes()
        meta = extract_metadata(data, path.name, max_bytes=max_bytes, tools=tools)
    except ExtractionError as exc:
        return {"file": shown, "error": exc.message, "reason": exc.reason}
    except FileNotFoundError:
        return {"file": shown, "error": "文件不存在 (no such file)", "reason": "not_found"}
    except IsADirectoryError:
        return {"file": shown, "error": "这是文件夹 (a folder, not a file)", "reason": "not_found"}
    except PermissionError:
        return {"file": shown, "error": "无权读取 (permission denied)", "reason": "unreadable"}
    except Exception as exc:  # a reader bug must not hide the other files' results
        return {"file": shown, "error": f"the file could not be read ({type(exc).__name__}: "
                                        f"{exc})", "reason": "corrupt"}
    record = {"file": shown, **meta.to_dict()}
    if not with_text:
        record.pop("text", None)
    return {key: record[key] for key in _KEYS if key in record}


def _table(records: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from gongkai.entrypoints.tables import output_console

    table = Table(show_lines=True, title="gongkai extract")
    for header in ("文件 file", "文号 file_number", "公开 disclosure", "标题 title",
                   "发文机关 issuer", "成文日期 date", "密级 security", "索引号 index", "notes"):
        table.add_column(header, overflow="fold")
    for r in records:
        if "error" in r:
            table.add_row(Path(r["file"]).name, "", "", f"[red]{r['reason']}: {r['error']}[/red]",
                          "", "", "", "", "")
            continue
        level = r.get("security_level") or ""
        if level and r.get("security_period"):
            level = f"{level}★{r['security_period']}"
        notes = []
        if r.get("ocr") == "read":
            notes.append("[yellow]read by OCR: confirm the fields[/yellow]")
        elif not r.get("text_layer", True):
            notes.append("no text layer")
        if r.get("conversion") and r.get("ocr") is None:
            notes.append(f"converted: {r['conversion']}")
        if r.get("cited_file_numbers"):
            notes.append("cites " + ", ".join(r["cited_file_numbers"]))
        if r.get("placeholders"):
            notes.append("[yellow]模板 template: " + ", ".join(r["placeholders"]) + "[/yellow]")
        notes += [f"[yellow]conflict: {c}[/yellow]" for c in r.get("conflicts") or []]
        notes += [f"warning: {w}" for w in r.get("warnings") or []]
        table.add_row(
            Path(r["file"]).name, r.get("file_number") or "—", r.get("disclosure") or "—",
            r.get("title") or "—", r.get("issuer") or "—", r.get("date") or "—", level or "—",
            r.get("index_number") or "—", "\n".join(notes),
        )
    output_console().print(table)


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per line per file (null where not found).")
@click.option("--text", "with_text", is_flag=True, help="Include the whole text (with --json).")
@click.option("--max-bytes", type=click.IntRange(min=1), default=None,
              help="Refuse files larger than this (default: GONGKAI_MAX_FILE_BYTES, 50 MB).")
def extract(files: tuple[Path, ...], as_json: bool, with_text: bool,
            max_bytes: int | None) -> None:
    """Read the metadata (文号, 公开属性, 标题, 发文机关, 成文日期, 密级, 索引号 …) of .docx,
    .pdf, .doc, .wps and .ofd files and of scans (.png/.jpg/.tif, image-only PDFs: OCR).
    FILE may be a folder: its documents are read. Exit status 1 if any file could not be
    read (the others are still printed)."""
    settings = _settings()
    limit = max_bytes if max_bytes is not None else settings.max_file_bytes
    paths = list(_expand(files))
    failed = 0
    records: list[dict[str, Any]] = []
    progress = len(paths) > 1 and sys.stderr.isatty()
    for number, path in enumerate(paths, 1):
        if progress:
            click.echo(f"\r[{number}/{len(paths)}] {shown_path(path.name)[:60]:<60}", err=True,
                       nl=False)  # fmt: skip
        record = read_one(path, limit, with_text=with_text, tools=settings.tools)
        failed += "error" in record
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            records.append(record)
    if progress:
        click.echo(f"\r{'':<72}\r", err=True, nl=False)
    if not as_json:
        _table(records)
    if not paths:
        click.echo("no documents found (.docx, .pdf, .doc, .wps, .ofd, .png, .jpg, .tif)",
                   err=True)
        sys.exit(1)
    if failed:
        click.echo(f"{failed} of {len(paths)} file(s) could not be read", err=True)
        sys.exit(1)
