"""Scans, .doc/.wps and .ofd through the service layer (no Prefect): real catalog (SQLite),
real local object stores, real Tesseract and LibreOffice, as `gongkai ingest` runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from formats_docs import (
    OFFICIAL,
    image_bytes,
    image_only_pdf,
    libreoffice_convert,
    ofd_package,
    official_docx,
    scanned_page,
    soffice,
)
from service_run import fixed_clock_context

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.service import Context
from gongkai.storage.catalog import FindQuery


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with fixed_clock_context() as context:
        yield context


def ingest(ctx: Context, data: bytes, name: str) -> int:
    doc_id = service.intake(ctx, data, name, source="test", actor="tester").record.id
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


def routing_row(ctx: Context, doc_id: int) -> dict:
    """The audit row of the routing decision (its detail names the rule and the conversion)."""
    rows = [e for e in ctx.catalog.history(doc_id) if "rule" in e.detail]
    assert rows, [e.kind for e in ctx.catalog.history(doc_id)]
    return rows[0].detail


def archived_text(ctx: Context, doc_id: int) -> str:
    record = ctx.catalog.get(doc_id)
    return ctx.archive.store.get_bytes(f"{record.archive_key}/text.txt").decode("utf-8")


@pytest.mark.slow
def test_a_scan_is_read_by_ocr_and_waits_for_a_person_with_the_fields_filled_in(
    ctx: Context,
) -> None:
    data = image_only_pdf(scanned_page(), stamp="扫描全能王创建")
    doc_id = ingest(ctx, data, "鸿政〔2020〕53号扫描件.pdf")
    record = ctx.catalog.get(doc_id)
    assert record.state == "exception"
    assert "read by OCR, confirm the fields" in record.exception_reason
    # The fields OCR read are filled in, as suggestions for the person who confirms them.
    assert record.file_number == OFFICIAL.number and record.title == OFFICIAL.title
    assert record.disclosure == "active"
    detail = routing_row(ctx, doc_id)
    assert detail["rule"] == "read_by_ocr" and detail["ocr"] == "read"
    assert detail["conversion"].startswith("Tesseract")
    # The OCR text is archived beside the original and is searchable.
    assert "鸿山镇政务公开工作方案" in archived_text(ctx, doc_id)
    assert [r.id for r in ctx.catalog.find(FindQuery(text="政务公开工作方案"))] == [doc_id]
    assert ctx.archive.read_original(record.original_key, sha256=record.sha256) == data
    assert not list(ctx.public.list(""))  # nothing published


def test_without_tesseract_a_scan_is_taken_in_and_says_what_to_install(
    gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_TESSERACT", "/nonexistent/tesseract")
    with Context.open(load_settings()) as context:
        data = image_bytes(scanned_page(dpi=60), "PNG")
        doc_id = ingest(context, data, "扫描件.png")
        record = context.catalog.get(doc_id)
        assert record.state == "exception" and record.content_type == "image/png"
        assert "apt-get install tesseract-ocr tesseract-ocr-chi-sim" in record.exception_reason
        assert routing_row(context, doc_id)["rule"] == "ocr_unavailable"
        assert context.archive.verify(record.archive_key).ok
        assert record.original_key.endswith(".png")


def test_an_ofd_is_read_and_routed_like_any_document(ctx: Context) -> None:
    doc_id = ingest(ctx, ofd_package(), "鸿政〔2020〕53号.ofd")
    record = ctx.catalog.get(doc_id)
    assert record.content_type == "application/ofd" and record.format == "ofd"
    assert record.state == "published" and record.file_number == OFFICIAL.number


@pytest.mark.slow
@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_a_wps_is_converted_for_reading_archived_as_received_and_the_audit_says_so(
    ctx: Context,
) -> None:
    data = libreoffice_convert(official_docx(), ".docx", "wps:MS Word 97", "document.wps")
    doc_id = ingest(ctx, data, "鸿山镇通知.wps")
    record = ctx.catalog.get(doc_id)
    assert record.format == "wps" and record.state == "published"
    assert record.title == OFFICIAL.title and record.issuer == OFFICIAL.issuer
    assert record.original_key.endswith(".wps")
    assert ctx.archive.read_original(record.original_key, sha256=record.sha256) == data
    assert routing_row(ctx, doc_id)["conversion"].endswith("wps -> docx")


@pytest.mark.slow
@pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")
def test_a_doc_that_cannot_be_converted_is_an_exception_with_the_reason(ctx: Context) -> None:
    broken = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000) + "WordDocument".encode("utf-16-le")
    doc_id = ingest(ctx, broken, "坏.doc")
    record = ctx.catalog.get(doc_id)
    assert record.state == "exception" and record.content_type == "application/msword"
    assert record.exception_reason.startswith(("conversion_failed", "corrupt"))
    assert ctx.archive.read_original(record.original_key, sha256=record.sha256) == broken


def test_http_intake_takes_an_ofd_and_serves_it_back_as_one(
    gongkai_env: dict[str, str],
) -> None:
    from fastapi.testclient import TestClient

    from gongkai.entrypoints.api import Tokens, create_app

    data = ofd_package()
    app = create_app(load_settings(), tokens=Tokens(staff="s", intake="i"),
                     relay=False)  # fmt: skip
    with TestClient(app) as client:
        response = client.post("/documents", files={"file": ("鸿政〔2020〕53号.ofd", data)},
                               headers={"Authorization": "Bearer i"})  # fmt: skip
        assert response.status_code == 201 and "warning" not in response.json()
        doc_id = response.json()["id"]
        context = client.app.state.ctx
        service.publish(context, [o.document_id for o in service.process(context, [doc_id])
                                  if o.to_publish])  # fmt: skip
        assert context.catalog.get(doc_id).state == "published"
        original = client.get(f"/documents/{doc_id}/original")
        assert original.content == data
        assert original.headers["content-type"].startswith("application/ofd")


def test_gongkai_extract_reads_a_folder_of_the_new_formats(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gongkai extract FOLDER --json`: the .ofd and the scan are found in the folder, the scan
    says OCR is unavailable where the configured tesseract is missing."""
    import json

    from click.testing import CliRunner

    from gongkai.entrypoints.cli import main

    monkeypatch.setenv("GONGKAI_TESSERACT", str(tmp_path / "no-tesseract"))
    folder = tmp_path / "收文"
    folder.mkdir()
    (folder / "鸿政〔2020〕53号.ofd").write_bytes(ofd_package())
    (folder / "扫描件.jpg").write_bytes(image_bytes(scanned_page(dpi=40), "JPEG"))
    (folder / "readme.txt").write_text("not a document")
    result = CliRunner().invoke(main, ["extract", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    records = {Path(r["file"]).suffix: r for r in map(json.loads, result.output.splitlines())}
    assert set(records) == {".ofd", ".jpg"}
    assert records[".ofd"]["file_number"] == OFFICIAL.number and records[".ofd"]["ocr"] is None
    assert records[".jpg"]["format"] == "jpeg" and records[".jpg"]["ocr"] == "unavailable"
    assert any("tesseract-ocr-chi-sim" in w for w in records[".jpg"]["warnings"])
