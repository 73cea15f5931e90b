"""The readers: what docx.py and pdf.py find in real files, and sniffing the type by bytes.

Documents are built here with python-docx (text boxes injected as the XML Word and WPS write),
reportlab (positions known), and LibreOffice (a .docx converted to PDF, as offices do).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.shared import Pt, RGBColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from gongkai.extractors import extract, parse
from gongkai.extractors.docx import read_docx
from gongkai.extractors.model import ExtractionError, Line
from gongkai.extractors.pdf import read_pdf
from gongkai.extractors.sniff import sniff

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = (
    f'xmlns:w="{W_NS}" xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
)
FLAG = "石狮市鸿山镇人民政府文件"
NUMBER = "鸿政〔2020〕53号"
TITLE = "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知"


def _box_paragraphs(texts: list[str], red: bool = False) -> str:
    """Centred paragraphs; with `red` the first is the red 26 pt 发文机关标志."""
    color = '<w:rPr><w:color w:val="FF0000"/><w:sz w:val="52"/></w:rPr>'
    return "".join(
        f'<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r>{color if red and k == 0 else ""}'
        f"<w:t>{t}</w:t></w:r></w:p>"
        for k, t in enumerate(texts)
    )


def textbox_run(texts: list[str], *, style: str, red: bool = False) -> object:
    """A run holding a text box, as Word 2010+ (`wps`: DrawingML in mc:Choice plus the same
    text again as VML in mc:Fallback) or WPS / old Word (`vml`) write it."""
    content = f"<w:txbxContent>{_box_paragraphs(texts, red)}</w:txbxContent>"
    vml = f'<w:pict><v:shape id="tb1" style="width:440pt;height:60pt"><v:textbox>{content}' \
          "</v:textbox></v:shape></w:pict>"
    if style == "vml":
        return parse_xml(f"<w:r {NS}>{vml}</w:r>")
    drawing = (
        '<w:drawing><wp:anchor simplePos="0" relativeHeight="1" behindDoc="0" locked="0" '
        'layoutInCell="1" allowOverlap="1" distT="0" distB="0" distL="0" distR="0">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="margin"><wp:align>center'
        '</wp:align></wp:positionH><wp:positionV relativeFrom="paragraph"><wp:posOffset>0'
        '</wp:posOffset></wp:positionV><wp:extent cx="5588000" cy="762000"/><wp:wrapTopAndBottom/>'
        '<wp:docPr id="1" name="文本框 1"/><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        f"<wps:txbx>{content}</wps:txbx><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic>"
        "</wp:anchor></w:drawing>"
    )
    return parse_xml(
        f'<w:r {NS}><mc:AlternateContent><mc:Choice Requires="wps">{drawing}</mc:Choice>'
        f"<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>"
    )


def docx_bytes(doc: object) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)  # type: ignore[attr-defined]
    return buf.getvalue()


def red_header_docx(*, box_style: str | None = "wps", date: str = "2020年9月15日") -> bytes:
    """A 公文 with the 版头 (flag + 文号) in a text box, or in plain paragraphs."""
    doc = Document()
    anchor = doc.add_paragraph()
    if box_style:
        anchor._p.append(textbox_run([FLAG, NUMBER], style=box_style, red=True))
    else:
        flag = anchor.add_run(FLAG)
        flag.font.color.rgb = RGBColor(0xFF, 0, 0)
        flag.font.size = Pt(26)
        anchor.alignment = WD_ALIGN_PARAGRAPH.CENTER
        number = doc.add_paragraph(NUMBER)
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(TITLE).font.size = Pt(22)
    doc.add_paragraph("各村委会，镇机关各办（中心、站、所）：")
    body = doc.add_paragraph(
        "为全面推进我镇政务公开工作标准化规范化，现印发给你们，请认真贯彻执行。"
        "（依据国办发〔2019〕54号）"
    )
    body.paragraph_format.first_line_indent = Pt(32)
    for run in body.runs:
        run.font.size = Pt(16)
    doc.add_paragraph()
    sign = doc.add_paragraph("石狮市鸿山镇人民政府")
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph(date).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph("（此件主动公开）").paragraph_format.first_line_indent = Pt(21)
    return docx_bytes(doc)


# --- docx -------------------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["wps", "vml"])
def test_docx_text_boxes_are_read_once_in_document_order(style: str) -> None:
    parsed = read_docx(red_header_docx(box_style=style))
    texts = [ln.text for ln in parsed.lines]
    assert texts.count(FLAG) == 1  # mc:Choice and mc:Fallback carry it: read once
    assert texts.count(NUMBER) == 1
    assert texts.index(FLAG) < texts.index(NUMBER) < texts.index(TITLE)
    flag = parsed.lines[texts.index(FLAG)]
    assert flag.region == "textbox"
    assert flag.is_red is True
    assert flag.font_size == 26.0
    assert flag.align == "center"
    title = parsed.lines[texts.index(TITLE)]
    assert title.region == "body" and title.blank_before and title.font_size == 22.0
    assert title.is_red is False


def test_docx_several_boxes_in_one_drawing_keep_their_order() -> None:
    doc = Document()
    shapes = "".join(
        f'<v:shape id="s{k}"><v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p>'
        "</w:txbxContent></v:textbox></v:shape>"
        for k, text in enumerate(["第一框", "第二框", "第三框"])
    )
    doc.add_paragraph()._p.append(parse_xml(f"<w:r {NS}><w:pict><v:group>{shapes}</v:group>"
                                            "</w:pict></w:r>"))
    assert [ln.text for ln in read_docx(docx_bytes(doc)).lines] == ["第一框", "第二框", "第三框"]


def test_docx_layout_facts_alignment_indent_blank() -> None:
    parsed = read_docx(red_header_docx(box_style=None))
    by_text = {ln.text: ln for ln in parsed.lines}
    assert by_text[FLAG].is_red is True and by_text[FLAG].align == "center"
    body = next(ln for ln in parsed.lines if ln.text.startswith("为全面推进"))
    assert body.indent_chars == 2.0  # 32 pt first-line indent at 16 pt
    assert by_text["2020年9月15日"].align == "right"
    assert by_text["石狮市鸿山镇人民政府"].blank_before is True
    assert by_text["2020年9月15日"].blank_before is False
    assert all(ln.page is None and ln.x0 is None for ln in parsed.lines)


def test_docx_extract_reads_the_fields_from_a_text_box_header() -> None:
    meta = extract(red_header_docx(box_style="wps"), "红头.docx")
    assert meta.format == "docx"
    assert meta.file_number == NUMBER
    assert meta.cited_file_numbers == ["国办发〔2019〕54号"]
    assert meta.disclosure == "active"
    assert meta.title == TITLE
    assert meta.date == "2020-09-15"
    assert meta.text_layer is True and meta.page_count is None


def test_docx_tables_merged_cells_once_nested_tables() -> None:
    doc = Document()
    doc.add_paragraph("发文稿纸")
    table = doc.add_table(rows=3, cols=4)
    table.cell(0, 0).text = "文号"
    table.cell(0, 1).text = NUMBER
    table.cell(0, 2).text = "签发人"
    table.cell(0, 3).text = "王建国"
    merged = table.cell(1, 1).merge(table.cell(1, 3))  # horizontal: gridSpan
    table.cell(1, 0).text = "标题"
    merged.text = TITLE
    vertical = table.cell(2, 0).merge(table.cell(2, 1))
    vertical.text = "公开属性"
    table.cell(2, 2).text = "主动公开"
    inner = table.cell(2, 3).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "不公开理由"
    inner.cell(0, 1).text = "无"
    two_rows = doc.add_table(rows=2, cols=1)
    two_rows.cell(0, 0).merge(two_rows.cell(1, 0)).text = "只出现一次"
    parsed = read_docx(docx_bytes(doc))
    cells = {ln.text: ln.table for ln in parsed.lines if ln.table is not None}
    assert cells["文号"] == (0, 0, 0)
    assert cells[NUMBER] == (0, 0, 1)
    assert cells["签发人"] == (0, 0, 2)
    assert cells["王建国"] == (0, 0, 3)
    assert cells[TITLE] == (0, 1, 1)
    assert cells["公开属性"] == (0, 2, 0)
    assert cells["主动公开"] == (0, 2, 2)
    assert cells["不公开理由"] == (1, 0, 0)  # the nested table has its own index
    assert cells["无"] == (1, 0, 1)
    texts = [ln.text for ln in parsed.lines]
    assert texts.count(TITLE) == 1 and texts.count("只出现一次") == 1
    assert all(ln.region == "table" for ln in parsed.lines if ln.table is not None)
    assert texts[0] == "发文稿纸"


def test_docx_headers_and_footers_in_their_regions() -> None:
    doc = Document()
    section = doc.sections[0]
    section.header.paragraphs[0].text = "机密★5年"
    section.footer.paragraphs[0].text = "— 1 —"
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "000123"
    doc.add_paragraph("正文第一段。")
    parsed = read_docx(docx_bytes(doc))
    regions = [(ln.text, ln.region) for ln in parsed.lines]
    assert regions == [
        ("000123", "header"), ("机密★5年", "header"), ("正文第一段。", "body"),
        ("— 1 —", "footer"),
    ]


def test_docx_line_breaks_split_lines_and_deleted_text_is_not_read() -> None:
    doc = Document()
    p = doc.add_paragraph()
    p._p.append(parse_xml(
        f'<w:r {NS}><w:t>关于印发方案</w:t><w:br/><w:t>的通知</w:t></w:r>'
    ))
    p._p.append(parse_xml(f'<w:del {NS} w:id="1" w:author="x"><w:r><w:delText>删掉的'
                          "</w:delText></w:r></w:del>"))
    parsed = read_docx(docx_bytes(doc))
    assert [ln.text for ln in parsed.lines] == ["关于印发方案", "的通知"]


def _styled_docx() -> bytes:
    from docx.enum.style import WD_STYLE_TYPE

    doc = Document()
    flag = doc.styles.add_style("红头", WD_STYLE_TYPE.PARAGRAPH)
    flag.base_style = doc.styles["Normal"]
    flag.font.color.rgb = RGBColor(0xE6, 0x00, 0x12)
    flag.font.size = Pt(26)
    flag.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.styles.add_style("子标题", WD_STYLE_TYPE.PARAGRAPH)
    sub.base_style = flag  # inherits red and centred, sets its own size
    sub.font.size = Pt(22)
    doc.add_paragraph(FLAG, style="红头")
    doc.add_paragraph("副标题", style="子标题")
    doc.add_paragraph("正文")
    return docx_bytes(doc)


def _reprefixed(data: bytes, part: str) -> bytes:
    """The same package with `part` written with another namespace prefix (x: for w:)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == part:
                content = (content.replace(b"<w:", b"<x:").replace(b"</w:", b"</x:")
                           .replace(b" w:", b" x:").replace(b"xmlns:w=", b"xmlns:x="))
            out.writestr(info.filename, content)
    return buf.getvalue()


def test_docx_styles_resolve_based_on_chains_whatever_the_prefix() -> None:
    data = _styled_docx()
    for variant in (data, _reprefixed(data, "word/styles.xml")):
        lines = {ln.text: ln for ln in read_docx(variant).lines}
        assert (lines[FLAG].is_red, lines[FLAG].font_size, lines[FLAG].align) == (
            True, 26.0, "center")
        assert (lines["副标题"].is_red, lines["副标题"].font_size, lines["副标题"].align) == (
            True, 22.0, "center")
        assert (lines["正文"].is_red, lines["正文"].align) == (False, "left")


def test_docx_hidden_text_is_not_read() -> None:
    doc = Document()
    p = doc.add_paragraph("（此件")
    p.add_run("依申请公开")
    hidden = p.add_run("主动公开")
    hidden.font.hidden = True
    p.add_run("）")
    parsed = read_docx(docx_bytes(doc))
    assert [ln.text for ln in parsed.lines] == ["（此件依申请公开）"]
    assert any("4 characters of hidden text" in w for w in parsed.warnings)


# --- pdf --------------------------------------------------------------------------------------

PAGE_W, PAGE_H = 595.28, 841.89


def reportlab_pdf(pages: int = 1, *, encrypt: object = None) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), encrypt=encrypt, invariant=1)
    for page in range(pages):
        if page == 0:
            c.setFillColorRGB(1, 0, 0)
            c.setFont("STSong-Light", 36)
            c.drawCentredString(PAGE_W / 2, PAGE_H - 130, FLAG)
            c.setStrokeColorRGB(1, 0, 0)
            c.line(80, PAGE_H - 190, PAGE_W - 80, PAGE_H - 190)
            c.setFillColorRGB(0, 0, 0)
            c.setFont("STSong-Light", 16)
            c.drawCentredString(PAGE_W / 2, PAGE_H - 175, NUMBER)
            c.setFont("STSong-Light", 22)
            c.drawCentredString(PAGE_W / 2, PAGE_H - 240, "关于开展政务公开工作考核的通知")
            c.setFont("STSong-Light", 16)
            c.drawString(80, PAGE_H - 300, "各村委会：")
            c.drawString(112, PAGE_H - 329, "为全面推进政务公开工作，现将有关事项通知如下。")
        else:
            c.setFont("STSong-Light", 16)
            c.drawString(112, PAGE_H - 100, f"第{page + 1}页正文。")
            if page == pages - 1:
                c.drawRightString(PAGE_W - 90, PAGE_H - 200, "2020年9月15日")
                c.drawString(112, PAGE_H - 229, "（此件主动公开）")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_lines_carry_positions_size_colour_in_reading_order() -> None:
    parsed = read_pdf(reportlab_pdf(pages=2))
    assert parsed.format == "pdf" and parsed.page_count == 2 and parsed.text_layer
    texts = [ln.text for ln in parsed.lines]
    assert texts[:3] == [FLAG, NUMBER, "关于开展政务公开工作考核的通知"]
    flag, number = parsed.lines[0], parsed.lines[1]
    assert flag.is_red is True and number.is_red is False
    assert flag.font_size == pytest.approx(36, abs=0.5)
    assert number.font_size == pytest.approx(16, abs=0.5)
    assert flag.page == 1 and flag.page_width == pytest.approx(PAGE_W, abs=0.1)
    for line in (flag, number):  # centred
        assert (line.x0 + line.x1) / 2 == pytest.approx(PAGE_W / 2, abs=3)
    assert number.top == pytest.approx(175 - 16, abs=4)  # top of the glyphs, from the top
    date = next(ln for ln in parsed.lines if ln.text == "2020年9月15日")
    assert date.page == 2 and date.x1 == pytest.approx(PAGE_W - 90, abs=4)
    body = next(ln for ln in parsed.lines if ln.text.startswith("为全面推进"))
    assert body.x0 == pytest.approx(112, abs=2)
    title = parsed.lines[2]
    assert title.blank_before is True  # the gap under the red rule


def test_pdf_extract_reads_the_fields() -> None:
    meta = extract(reportlab_pdf(pages=2), "考核.pdf")
    assert meta.file_number == NUMBER
    assert meta.disclosure == "active"
    assert meta.date == "2020-09-15"
    assert meta.page_count == 2 and meta.text_layer is True
    assert meta.issuer


def test_pdf_without_text_layer_says_it_needs_ocr() -> None:
    from PIL import Image  # reportlab's own dependency

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H))
    image = Image.new("L", (200, 280), 255)
    for _ in range(2):
        from reportlab.lib.utils import ImageReader

        c.drawImage(ImageReader(image), 0, 0, width=PAGE_W, height=PAGE_H)
        c.showPage()
    c.save()
    meta = extract(buf.getvalue(), "scan.pdf")
    assert meta.text_layer is False and meta.page_count == 2
    assert meta.file_number is None and meta.disclosure is None and meta.title is None
    assert meta.text == ""
    assert any("OCR" in w for w in meta.warnings)
    assert parse(buf.getvalue()).lines == []


def test_pdf_with_only_an_owner_password_is_read() -> None:
    """Restrictions (no printing, no copying) without an open password: the text is there."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    locked = StandardEncryption("", ownerPassword="owner", canPrint=0, canCopy=0)
    meta = extract(reportlab_pdf(pages=2, encrypt=locked), "restricted.pdf")  # type: ignore[arg-type]
    assert meta.file_number == NUMBER and meta.disclosure == "active"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_pdf_made_by_libreoffice_from_docx(tmp_path: Path) -> None:
    sources = {"plain": red_header_docx(box_style=None), "boxed": red_header_docx(),
               # ○ (U+25CB) is not in the CJK font: LibreOffice draws it from a fallback font
               # after the rest of the line, and the reader must put it back in its place
               "numerals": red_header_docx(box_style=None, date="二○二○年九月十五日")}
    for name, data in sources.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--norestore", "--convert-to", "pdf", "--outdir", str(out),
         *(str(tmp_path / f"{n}.docx") for n in sources)],
        check=True, capture_output=True, timeout=300,
    )
    for name in sources:
        data = (out / f"{name}.pdf").read_bytes()
        parsed = parse(data)
        lines: dict[str, Line] = {ln.text.replace(" ", ""): ln for ln in parsed.lines}
        flag = lines[FLAG]
        assert flag.is_red is True and flag.page == 1
        number = lines[NUMBER]
        assert (number.x0 + number.x1) / 2 == pytest.approx(number.page_width / 2, rel=0.05)
        date = lines["二○二○年九月十五日" if name == "numerals" else "2020年9月15日"]
        assert date.x1 > 0.75 * date.page_width  # right-aligned
        meta = extract(data, f"{name}.pdf")
        assert (meta.file_number, meta.disclosure, meta.date) == (NUMBER, "active", "2020-09-15")
        assert meta.title == TITLE


# --- sniffing ---------------------------------------------------------------------------------


def test_sniff_reads_the_bytes_not_the_name() -> None:
    pdf = reportlab_pdf()
    docx = red_header_docx(box_style=None)
    assert sniff(pdf) == "pdf" and sniff(docx) == "docx"
    assert sniff(b"junk before the header\n" + pdf) == "pdf"
    meta = extract(pdf, "misnamed.docx")
    assert meta.format == "pdf" and meta.file_number == NUMBER
    assert any("named .docx but is a pdf" in w for w in meta.warnings)
    assert extract(docx, "misnamed.pdf").format == "docx"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "not a Word document"),
        ("<!DOCTYPE html><html><body>公文</body></html>".encode(), "web page"),
        (b"{\\rtf1\\ansi hello}", "RTF"),
        (b"GIF89a" + bytes(100), "image other than PNG, JPEG or TIFF"),
    ],
)
def test_sniff_names_what_unsupported_files_are(data: bytes, says: str) -> None:
    with pytest.raises(ExtractionError) as caught:
        extract(data, "x.docx")
    assert caught.value.reason == "unsupported_type"
    assert says in caught.value.message


def test_sniff_refuses_a_zip_that_is_not_a_word_document() -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ExtractionError) as caught:
        extract(buf.getvalue(), "book.docx")
    assert caught.value.reason == "unsupported_type" and ".xlsx" in caught.value.message
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "hello")
    with pytest.raises(ExtractionError) as caught:
        extract(buf.getvalue(), "notes.docx")
    assert caught.value.reason == "unsupported_type"


def test_extract_from_many_threads_at_once() -> None:
    """The HTTP intake may read in threads: PDFium is serialised, lxml parsers are per thread."""
    from concurrent.futures import ThreadPoolExecutor

    files = [reportlab_pdf(pages=2), red_header_docx(), reportlab_pdf(pages=3),
             red_header_docx(box_style="vml")] * 6
    serial = [extract(data, "x").to_dict() for data in files]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda data: extract(data, "x").to_dict(), files))
    assert parallel == serial
    assert {m["file_number"] for m in serial} == {NUMBER}


# --- python-docx opens the package: headers and footers per section ----------------------------


def test_docx_section_headers_footers_each_part_once_in_section_order() -> None:
    doc = Document()
    first = doc.sections[0]
    first.header.paragraphs[0].text = "第一节页眉"
    first.footer.paragraphs[0].text = "— 1 —"
    doc.settings.odd_and_even_pages_header_footer = True
    first.even_page_header.paragraphs[0].text = "偶数页页眉"
    doc.add_paragraph("第一节正文。")
    second = doc.add_section()
    second.header.is_linked_to_previous = False
    second.header.paragraphs[0].text = "第二节页眉"
    table = second.footer.add_table(rows=1, cols=2, width=Pt(400))
    table.cell(0, 0).text = "印发机关"
    table.cell(0, 1).text = "2020年9月15日印发"
    doc.add_paragraph("第二节正文。")

    parsed = read_docx(docx_bytes(doc))
    found = [(ln.text, ln.region, ln.table) for ln in parsed.lines]
    assert found == [
        ("第一节页眉", "header", None), ("偶数页页眉", "header", None),
        ("第二节页眉", "header", None),
        ("第一节正文。", "body", None), ("第二节正文。", "body", None),
        ("— 1 —", "footer", None),  # the second section's footer is linked: read once
        ("印发机关", "footer", (0, 0, 0)), ("2020年9月15日印发", "footer", (0, 0, 1)),
    ]
    assert parsed.warnings == []


def test_docx_without_a_styles_part_uses_word_defaults_not_a_template() -> None:
    import re
    import zipfile

    doc = Document()
    doc.add_paragraph("正文第一段。")
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(doc)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/styles.xml":
                continue
            if info.filename == "word/_rels/document.xml.rels":
                data = re.sub(rb'<Relationship [^>]*Target="styles.xml"/>', b"", data)
            target.writestr(info, data)
    parsed = read_docx(out.getvalue())
    (line,) = parsed.lines
    # Word's own default (五号, 10.5 pt), not python-docx's template Normal style (11 pt)
    assert line.text == "正文第一段。" and line.font_size == 10.5


def test_docx_package_is_freed_when_read_without_the_cyclic_collector() -> None:
    """python-docx's parts and relationships point at each other; the reader empties the
    relationships when it is done, so reference counting frees the package (its parsed trees,
    its part blobs) at once, not whenever the cyclic collector next runs (rarely, in the
    `gongkai` command: flows/collector.py)."""
    import gc
    import weakref

    from docx.opc.package import OpcPackage

    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "机密★5年"
    doc.add_paragraph("正文第一段。")
    data = docx_bytes(doc)
    opened: list[weakref.ref] = []
    real_open = OpcPackage.open.__func__

    def watched_open(cls: type, pkg_file: object) -> OpcPackage:
        package = real_open(cls, pkg_file)
        opened.append(weakref.ref(package.main_document_part.element))
        return package

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(OpcPackage, "open", classmethod(watched_open))
            parsed = read_docx(data)
        assert [ln.text for ln in parsed.lines] == ["机密★5年", "正文第一段。"]
        assert len(opened) == 1 and opened[0]() is None  # the document tree is gone already
    finally:
        if was_enabled:
            gc.enable()


# --- a drafting cover sheet (发文稿纸) as a ruled PDF form ---------------------------------------


def cover_sheet_pdf(*, attribute: str, reason: str, number: str = "鸿政【2020】53号") -> bytes:
    """A 发文稿纸 drawn by reportlab as a GRID table whose value column is narrow enough that
    the 公开属性 and 不公开理由 cells wrap inside their cells."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cell", fontName="STSong-Light", fontSize=12, leading=16,
                           wordWrap="CJK")
    heading = ParagraphStyle("head", fontName="STSong-Light", fontSize=22, leading=30,
                             alignment=1)
    rows = [
        ["签发人", "李明哲", "核稿", "许丽娟"],
        ["公开属性", Paragraph(attribute, style), "", ""],
        ["不公开理由", Paragraph(reason, style), "", ""],
        ["文号", number, "", ""],
        ["标题", Paragraph(TITLE, style), "", ""],
    ]
    table = Table(rows, colWidths=[80, 110, 60, 110])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.8, (0, 0, 0)),
        ("FONT", (0, 0), (-1, -1), "STSong-Light", 12),
        ("SPAN", (1, 1), (3, 1)), ("SPAN", (1, 2), (3, 2)), ("SPAN", (1, 3), (3, 3)),
        ("SPAN", (1, 4), (3, 4)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=(PAGE_W, PAGE_H), invariant=1).build(
        [Paragraph("石狮市鸿山镇人民政府发文稿纸", heading), table]
    )
    return buf.getvalue()


def test_pdf_cover_sheet_cells_keep_their_wrapped_text() -> None:
    attribute = "□主动公开 □依申请公开 □删减后公开 ■不予公开"
    reason = "涉及国家秘密、商业秘密和个人隐私的内部事务信息"
    data = cover_sheet_pdf(attribute=attribute, reason=reason)
    # The value cells really wrap on the page (PDFium alone reads them as two lines each).
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(data)[0]
    raw_lines = page.get_textpage().get_text_range().splitlines()
    assert not any(attribute in line.replace("\r", "") for line in raw_lines)

    parsed = read_pdf(data)
    cells = {ln.text: ln for ln in parsed.lines if ln.table is not None}
    assert cells[attribute].table == (0, 1, 1) and cells["公开属性"].table == (0, 1, 0)
    assert cells[reason].table == (0, 2, 1)
    assert cells[TITLE].table == (0, 4, 1)
    assert cells["许丽娟"].table == (0, 0, 3)
    assert all(ln.region == "table" and ln.page == 1 for ln in cells.values())
    assert cells["公开属性"].font_size == pytest.approx(12, abs=0.5)
    # the heading above the form is PDFium's line, first in reading order
    assert parsed.lines[0].text == "石狮市鸿山镇人民政府发文稿纸" and parsed.lines[0].table is None
    assert [ln.text for ln in parsed.lines].count(TITLE) == 1

    meta = extract(data, "稿纸.pdf")
    assert meta.disclosure == "withheld" and meta.disclosure_reason == reason
    assert meta.file_number == NUMBER and meta.title == TITLE and meta.signer == "李明哲"
    assert meta.source_kind == "cover_sheet"


def test_pdf_cover_sheet_reads_the_same_as_the_docx_one() -> None:
    attribute = "■主动公开 □依申请公开 □删减后公开 □不予公开"
    pdf_meta = extract(cover_sheet_pdf(attribute=attribute, reason=""), "稿纸.pdf")
    doc = Document()
    doc.add_paragraph("石狮市鸿山镇人民政府发文稿纸")
    table = doc.add_table(rows=5, cols=2)
    for row, (label, value) in enumerate([
        ("签发人", "李明哲"), ("公开属性", attribute), ("不公开理由", ""),
        ("文号", "鸿政【2020】53号"), ("标题", TITLE),
    ]):
        table.cell(row, 0).text = label
        table.cell(row, 1).text = value
    docx_meta = extract(docx_bytes(doc), "稿纸.docx")
    for field_name in ("disclosure", "disclosure_reason", "file_number", "title", "signer",
                       "source_kind"):
        assert getattr(pdf_meta, field_name) == getattr(docx_meta, field_name), field_name
    assert pdf_meta.disclosure == "active"


@pytest.mark.parametrize("padding", [0, 5000, 300_000])
def test_docx_doctype_after_a_long_prolog_is_refused_before_python_docx_parses(
    padding: int,
) -> None:
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(red_header_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/styles.xml":
                head, _, rest = data.partition(b"?>")
                data = (head + b"?><!--" + b"x" * padding + b'--><!DOCTYPE w:styles [<!ENTITY a '
                        b'"aaaaaaaa">]>' + rest)
            target.writestr(info, data)
    with pytest.raises(ExtractionError) as caught:
        read_docx(out.getvalue())
    assert caught.value.reason == "unsafe_xml" and "word/styles.xml" in caught.value.message


def test_docx_doctype_in_a_part_not_named_xml_is_refused() -> None:
    # python-docx parses a part by its content type, whatever its name: so is it checked.
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(red_header_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            name = info.filename
            if name == "word/document.xml":
                name = "word/document.dat"
                head, _, rest = data.partition(b"?>")
                data = head + b'?><!DOCTYPE w:document [<!ENTITY a "aaaa">]>' + rest
            elif name in ("[Content_Types].xml", "word/_rels/document.xml.rels",
                          "_rels/.rels"):
                data = data.replace(b"document.xml", b"document.dat")
            target.writestr(name, data)
    with pytest.raises(ExtractionError) as caught:
        read_docx(out.getvalue())
    assert caught.value.reason == "unsafe_xml" and "word/document.dat" in caught.value.message


def test_a_page_drawn_turned_keeps_its_text_where_a_seal_would_be_looked_for() -> None:
    """Red text below black text is where a seal's rotated characters are taken out; a page
    whose content is drawn turned (every character rotated, none upright: here 8 degrees, so
    the red line is below the black one) keeps all of it."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
    c.translate(0, 100)
    c.rotate(8)
    c.setFont("STSong-Light", 16)
    c.drawString(100, 300, "各村委会：现将有关事项通知如下。")
    c.setFillColorRGB(1, 0, 0)
    c.drawString(100, 250, "红色的说明文字")
    c.showPage()
    c.save()
    texts = [line.text for line in read_pdf(buf.getvalue()).lines]
    assert "各村委会：现将有关事项通知如下。" in texts and "红色的说明文字" in texts
