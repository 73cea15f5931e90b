"""`gongkai extract FILE... [--json]`: one JSON line per file, errors as lines too, exit 1 at
the end if any file failed, a table without --json, and no Prefect import (pdfplumber only
when a PDF has a cover-sheet form to lay out)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_extract_readers import (
    NUMBER,
    TITLE,
    cover_sheet_pdf,
    red_header_docx,
    reportlab_pdf,
)

from gongkai.entrypoints.cli import main

REQUIRED_KEYS = {
    "file", "file_number", "disclosure", "title", "issuer", "issuers", "date",
    "security_level", "index_number", "cited_file_numbers", "placeholders", "text_layer",
}


@pytest.fixture
def documents(tmp_path: Path) -> dict[str, Path]:
    files = {
        "docx": tmp_path / "红头.docx",
        "pdf": tmp_path / "考核.pdf",
        "broken": tmp_path / "broken.docx",
        "empty": tmp_path / "empty.pdf",
    }
    files["docx"].write_bytes(red_header_docx())
    files["pdf"].write_bytes(reportlab_pdf(pages=2))
    files["broken"].write_bytes(red_header_docx()[:500])
    files["empty"].write_bytes(b"")
    return files


def _json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_json_one_line_per_file_errors_included_exit_1(documents: dict[str, Path]) -> None:
    order = ["docx", "broken", "pdf", "empty"]
    result = CliRunner().invoke(main, ["extract", "--json", *(str(documents[k]) for k in order)])
    assert result.exit_code == 1
    records = _json_lines(result.stdout)
    assert [r["file"] for r in records] == [str(documents[k]) for k in order]
    docx, broken, pdf, empty = records
    assert docx.keys() >= REQUIRED_KEYS and pdf.keys() >= REQUIRED_KEYS
    assert "text" not in docx
    assert docx["file_number"] == NUMBER and docx["title"] == TITLE
    assert docx["disclosure"] == "active" and docx["date"] == "2020-09-15"
    assert docx["security_level"] is None and docx["index_number"] is None  # null, not missing
    assert docx["cited_file_numbers"] == ["国办发〔2019〕54号"]
    assert docx["text_layer"] is True and docx["format"] == "docx"
    assert pdf["file_number"] == NUMBER and pdf["page_count"] == 2 and pdf["format"] == "pdf"
    assert broken == {"file": str(documents["broken"]), "error": broken["error"],
                      "reason": "corrupt"}
    assert "incomplete" in str(broken["error"])
    assert empty["reason"] == "empty"
    assert "2 of 4 file(s) could not be read" in result.stderr


def test_all_readable_exit_0_and_text_on_request(documents: dict[str, Path]) -> None:
    result = CliRunner().invoke(main, ["extract", "--json", "--text", str(documents["docx"])])
    assert result.exit_code == 0, result.output
    (record,) = _json_lines(result.stdout)
    assert NUMBER in str(record["text"]) and "此件主动公开" in str(record["text"])


def test_table_without_json(documents: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        main, ["extract", str(documents["docx"]), str(documents["broken"])],
        terminal_width=200,
    )
    assert result.exit_code == 1
    assert NUMBER in result.stdout and "active" in result.stdout
    assert "corrupt" in result.stdout  # the failed file is a row too
    assert "{" not in result.stdout


def test_a_template_is_named_in_the_table_and_in_json(tmp_path: Path) -> None:
    import generator

    doc = generator.make_document(generator.DEFAULT_SEED, 0, "template", "python-docx", nth=0)
    path = tmp_path / "模板.docx"
    path.write_bytes(generator.render_docx(doc.blocks))
    table = CliRunner().invoke(main, ["extract", str(path)], terminal_width=200)
    assert table.exit_code == 0
    assert "模板 template: file_number: XX发〔20XX〕XX号" in table.stdout
    record = _json_lines(CliRunner().invoke(main, ["extract", "--json", str(path)]).stdout)[0]
    assert record["placeholders"] == doc.expected["placeholders"]
    assert record["file_number"] is None and record["issuers"] == []


def test_folder_missing_file_and_size_limit(documents: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["extract", "--json", str(tmp_path)])
    files = {Path(str(r["file"])).name for r in _json_lines(result.stdout)}
    assert files == {"红头.docx", "考核.pdf", "broken.docx", "empty.pdf"}
    result = CliRunner().invoke(main, ["extract", "--json", str(tmp_path / "nope.docx")])
    assert result.exit_code == 1 and _json_lines(result.stdout)[0]["reason"] == "not_found"
    result = CliRunner().invoke(
        main, ["extract", "--json", "--max-bytes", "100", str(documents["pdf"])]
    )
    assert result.exit_code == 1 and _json_lines(result.stdout)[0]["reason"] == "too_large"


def _imports_after_extract(*files: Path) -> tuple[int, list[str], list[str]]:
    """Runs `gongkai extract --json FILES` in a fresh interpreter: the JSON line count, the
    service-side packages it imported, and the document-layout packages it imported."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from gongkai.entrypoints.cli import main\n"
        f"result = CliRunner().invoke(main, ['extract', '--json', *{[str(f) for f in files]!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print(len(result.stdout.splitlines()))\n"
        "print(','.join(sorted(top & {'prefect', 'sqlalchemy', 'minio', 'fastapi'})))\n"
        "print(','.join(sorted(top & {'pdfplumber', 'pdfminer'})))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, check=True)
    count, service, layout = done.stdout.splitlines()
    return int(count), [m for m in service.split(",") if m], [m for m in layout.split(",") if m]


def test_extract_does_not_import_prefect(documents: dict[str, Path]) -> None:
    assert _imports_after_extract(documents["docx"], documents["pdf"]) == (2, [], [])


def test_pdfplumber_is_imported_only_for_a_cover_sheet_form(tmp_path: Path) -> None:
    # pdfplumber reads the ruled cells of a 发文稿纸 page (pdf.py): imported on that need only,
    # and still nothing of the service side.
    form = tmp_path / "稿纸.pdf"
    form.write_bytes(cover_sheet_pdf(attribute="■主动公开 □依申请公开", reason=""))
    assert _imports_after_extract(form) == (1, [], ["pdfminer", "pdfplumber"])


def test_console_script_exit_code_and_a_frozen_heap_at_exit(documents: dict[str, Path]) -> None:
    """`gongkai` (entrypoints.cli:run) keeps the command's exit code and freezes the heap on the
    way out, so the interpreter's teardown skips its final full collection."""
    script = (
        "import gc, sys\n"
        "from gongkai.entrypoints.cli import run\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exc:\n"
        "    print(gc.get_freeze_count() > 0, file=sys.stderr)\n"
        "    raise\n"
    )
    for file, code in ((documents["docx"], 0), (documents["broken"], 1)):
        result = subprocess.run(
            [sys.executable, "-c", script, "extract", "--json", str(file)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == code, result.stderr
        assert result.stderr.strip().splitlines()[-1] == "True"
        assert _json_lines(result.stdout)[0]["file"].endswith(file.name)
