"""A drafting cover sheet's table read from PDFium's ruling lines reads what pdfplumber's own
layout of the page reads: the same tables, rows, cells and cell text, on every cover sheet of
the generated corpus (reportlab and LibreOffice PDFs) and of the readers' tests; and a page
PDFium's reading does not model (here a curve) still goes through pdfplumber's layout.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pytest
from reportlab.pdfgen import canvas
from test_extract_readers import cover_sheet_pdf

from gongkai.extractors import extract, pdf
from gongkai.extractors.pdf import read_pdf

Corpus = list[tuple[Path, dict[str, Any]]]


def _cover_sheets(corpus: Corpus) -> dict[str, bytes]:
    sheets = {path.name: path.read_bytes() for path, truth in corpus
              if truth["format"] == "pdf" and "cover_sheet" in truth["category"]}
    sheets["readers-withheld"] = cover_sheet_pdf(
        attribute="□主动公开 □依申请公开 □删减后公开 ■不予公开",
        reason="涉及国家秘密、商业秘密和个人隐私的内部事务信息")
    sheets["readers-active"] = cover_sheet_pdf(
        attribute="■主动公开 □依申请公开 □删减后公开 □不予公开", reason="")
    return sheets


def _form_pages(data: bytes) -> list[int]:
    pages: dict[int, list] = {}
    for line in read_pdf(data).lines:
        pages.setdefault(line.page or 0, []).append(line)
    return [n for n, lines in sorted(pages.items()) if pdf._is_form_page(lines)]


def _rounded(box: tuple | None) -> tuple | None:
    return None if box is None else tuple(round(v, 3) for v in box)


def _summary(tables: list[Any]) -> list[tuple]:
    """What the reader takes from pdfplumber's tables: boxes (to 1/1000 pt: PDFium's are
    single precision), rows of cell boxes, cell text."""
    return [(_rounded(t.bbox), [[_rounded(c) for c in row.cells] for row in t.rows], t.extract())
            for t in tables]


def test_every_cover_sheet_of_the_corpus_is_read_from_pdfiums_rulings(corpus: Corpus) -> None:
    sheets = _cover_sheets(corpus)
    assert len(sheets) >= 8  # reportlab and LibreOffice ones
    compared = 0
    for name, data in sheets.items():
        pages = _form_pages(data)
        assert pages, name
        document = pdfium.PdfDocument(data)
        try:
            with pdfplumber.open(io.BytesIO(data), pages=pages) as plumber:
                for number, plumber_page in zip(pages, plumber.pages, strict=True):
                    page = document[number - 1]
                    ruling = pdf._ruling(page, page.get_textpage())
                    assert ruling is not None, f"{name} page {number} left to pdfplumber"
                    ours = _summary(ruling.tables())
                    assert ours and ours == _summary(plumber_page.find_tables()), name
                    compared += 1
        finally:
            document.close()
    assert compared >= len(sheets)


def test_lines_and_fields_equal_those_read_through_pdfplumbers_layout(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets = _cover_sheets(corpus)
    ours = {name: (read_pdf(data), extract(data, "稿纸.pdf")) for name, data in sheets.items()}
    monkeypatch.setattr(pdf, "_ruling", lambda page, textpage: None)
    for name, data in sheets.items():
        parsed, meta = ours[name]
        plumber_parsed = read_pdf(data)
        assert any(line.table is not None for line in parsed.lines), name
        assert parsed.lines == plumber_parsed.lines, name
        assert parsed.warnings == plumber_parsed.warnings, name
        assert meta == extract(data, "稿纸.pdf"), name


def _curved_cover_sheet() -> bytes:
    """A form whose frame has rounded corners (Bézier curves): PDFium's reading of curves is
    not pdfminer's, so the page is laid out by pdfplumber."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595.28, 841.89), invariant=1)
    c.setFont("STSong-Light", 12)
    c.drawCentredString(297, 780, "石狮市鸿山镇人民政府发文稿纸")
    c.roundRect(100, 600, 400, 120, 8)
    for y in (640, 680):
        c.line(100, y, 500, y)
    c.line(200, 600, 200, 720)
    for y, (label, value) in zip((695, 655, 615), [("签发人", "李明哲"), ("公开属性", "主动公开"),
                                                   ("核稿", "许丽娟")], strict=True):
        c.drawString(110, y, label)
        c.drawString(210, y, value)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_a_page_with_curves_goes_through_pdfplumbers_layout() -> None:
    data = _curved_cover_sheet()
    document = pdfium.PdfDocument(data)
    try:
        page = document[0]
        assert pdf._ruling(page, page.get_textpage()) is None
    finally:
        document.close()
    cells = {line.text: line.table for line in read_pdf(data).lines if line.table is not None}
    # read as table cells all the same: label and value side by side in one row
    label, value = cells["公开属性"], cells["主动公开"]
    assert label[:2] == value[:2] and (label[2], value[2]) == (0, 1)


def test_a_finder_that_wants_more_of_the_page_falls_back_to_pdfplumbers_layout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`_Ruling` stands for the page with `.chars` and `.bbox`: should a pdfplumber's finder
    read more of it, the page is laid out by pdfminer, not read without its cells."""
    data = cover_sheet_pdf(attribute="■主动公开 □依申请公开 □删减后公开 □不予公开", reason="")
    expected = read_pdf(data)

    def wants_more(self: object) -> list[Any]:
        raise AttributeError("'_Ruling' object has no attribute 'rects'")

    monkeypatch.setattr(pdf._Ruling, "tables", wants_more)
    parsed = read_pdf(data)
    assert parsed.lines == expected.lines and parsed.warnings == expected.warnings
    assert any(line.table is not None for line in parsed.lines)
