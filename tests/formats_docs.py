"""Documents in the formats offices hold beside .docx and .pdf, built by the tests themselves:
an .ofd package written here (GB/T 33190: OFD.xml -> Document.xml -> Pages/Page_N/Content.xml,
text in ofd:TextObject/ofd:TextCode), .doc and .wps saved by LibreOffice from a generated
.docx, and scans made by rendering a generated 公文 page to an image (pypdfium2), saved as
PNG/JPEG/TIFF and as an image-only PDF (reportlab), with or without a scanner app's stamp as
the PDF's only text.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

OFD_NS = "http://www.ofdspec.org/2016"
PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class Official:
    """The 公文 every fixture of this module shows, and what must be read from it."""

    flag: str = "石狮市鸿山镇人民政府文件"
    number: str = "鸿政〔2020〕53号"
    title_lines: tuple[str, ...] = ("石狮市鸿山镇人民政府关于印发", "政务公开工作方案的通知")
    recipients: str = "各村（社区）、镇直各单位："
    body: tuple[str, ...] = (
        "现将《鸿山镇政务公开工作方案》印发给你们，请认真贯彻执行。",
        "各单位要明确责任，抓好落实。",
    )
    issuer: str = "石狮市鸿山镇人民政府"
    date: str = "2020年9月15日"
    note: str = "（此件主动公开）"

    @property
    def title(self) -> str:
        return "".join(self.title_lines)


OFFICIAL = Official()

# (text, size in pt, alignment, red, gap before in mm)
Row = tuple[str, float, str, bool, float]


def official_rows(doc: Official = OFFICIAL) -> list[Row]:
    rows: list[Row] = [(doc.flag, 26, "center", True, 0), (doc.number, 16, "center", False, 12)]
    rows += [(line, 22, "center", False, 14 if k == 0 else 3)
             for k, line in enumerate(doc.title_lines)]
    rows.append((doc.recipients, 16, "left", False, 10))
    rows += [("\u3000\u3000" + text, 16, "left", False, 2) for text in doc.body]
    rows += [(doc.issuer, 16, "right", False, 14), (doc.date, 16, "right", False, 2),
             ("\u3000\u3000" + doc.note, 16, "left", False, 2)]
    return rows


# ---------------------------------------------------------------------------------------------
# OFD


def _text_object(ident: int, text: str, size_pt: float, align: str, red: bool, y: float) -> str:
    size = size_pt / PT_PER_MM
    width = size * len(text)
    x = {"center": (210 - width) / 2, "right": 210 - 26 - 2 * size - width}.get(align, 28.0)
    fill = '<ofd:FillColor Value="255 0 0"/>' if red else ""
    return (f'<ofd:TextObject ID="{ident}" Boundary="{x:.2f} {y:.2f} {width:.2f} {size * 1.2:.2f}"'
            f' Font="2" Size="{size:.3f}">{fill}<ofd:TextCode X="0" Y="{size:.3f}" '
            f'DeltaX="g {len(text) - 1} {size:.3f}">{escape(text)}</ofd:TextCode>'
            "</ofd:TextObject>") if len(text) > 1 else ""


def ofd_package(rows: list[Row] | None = None, *, template_rows: int = 2,
                parts: dict[str, bytes | str] | None = None) -> bytes:
    """A minimal but complete OFD package: one document, one page, its first `template_rows`
    rows (the red 版头) drawn by a template page, as OFD writers of 电子公文 do. `parts`
    replaces or adds entries (for hostile variants)."""
    rows = official_rows() if rows is None else rows
    y = 35.0
    objects = []
    for ident, (text, size, align, red, gap) in enumerate(rows, start=10):
        y += gap
        objects.append(_text_object(ident, text, size, align, red, y))
        y += size / PT_PER_MM * 1.5

    def content(body: str, template: bool) -> str:
        use = '<ofd:Template TemplateID="3" ZOrder="Background"/>' if template else ""
        return (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}">{use}'
                '<ofd:Area><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:Area>'
                f'<ofd:Content><ofd:Layer ID="4">{body}</ofd:Layer></ofd:Content></ofd:Page>')

    entries: dict[str, bytes | str] = {
        "OFD.xml": (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" '
                    'Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
                    '<ofd:DocID>0c2b5a8e7f6d4c3b</ofd:DocID><ofd:Creator>gongkai tests'
                    '</ofd:Creator></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>'
                    '</ofd:DocBody></ofd:OFD>'),
        "Doc_0/Document.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}">'
            '<ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID><ofd:PageArea>'
            '<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>'
            '<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>'
            '<ofd:TemplatePage ID="3" BaseLoc="Tpls/Tpl_0/Content.xml"/></ofd:CommonData>'
            '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>'
            '</ofd:Document>'),
        "Doc_0/PublicRes.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res">'
            '<ofd:Fonts><ofd:Font ID="2" FontName="仿宋" FamilyName="仿宋"/></ofd:Fonts>'
            '</ofd:Res>'),
        "Doc_0/Tpls/Tpl_0/Content.xml": content("".join(objects[:template_rows]), False),
        "Doc_0/Pages/Page_0/Content.xml": content("".join(objects[template_rows:]), True),
    }
    entries.update(parts or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in entries.items():
            package.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# .docx -> .doc / .wps / .pdf by LibreOffice


def official_docx(doc: Official = OFFICIAL) -> bytes:
    """The 公文 as Word lays it out: red centred flag, centred 文号 and title lines,
    right-aligned signature and date."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    document = Document()
    aligns = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
              "left": WD_ALIGN_PARAGRAPH.LEFT}
    for text, size, align, red, gap in official_rows(doc):
        if gap >= 10:
            document.add_paragraph("")
        paragraph = document.add_paragraph()
        paragraph.alignment = aligns[align]
        run = paragraph.add_run(text)
        run.font.size = Pt(size)
        if red:
            run.font.color.rgb = RGBColor(0xFF, 0, 0)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_convert(data: bytes, source_suffix: str, target: str, out_name: str) -> bytes:
    """`soffice --convert-to TARGET` on `data`, with a private profile; the result's bytes.
    TARGET may name a filter ("wps:MS Word 97")."""
    command = soffice()
    assert command, "LibreOffice (soffice) is needed for this fixture"
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        source = folder / f"document{source_suffix}"
        source.write_bytes(data)
        subprocess.run(
            [command, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
             "--convert-to", target, "--outdir", str(folder / "out"), str(source)],
            check=True, capture_output=True, timeout=180,
        )
        return (folder / "out" / out_name).read_bytes()


# ---------------------------------------------------------------------------------------------
# scans


def official_pdf(doc: Official = OFFICIAL) -> bytes:
    """The 公文 printed to PDF by reportlab (real text), the page a scan is made from."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = 595.3, 841.9
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), invariant=1)
    y = height - 35 * PT_PER_MM
    for text, size, align, red, gap in official_rows(doc):
        y -= gap * PT_PER_MM + size
        c.setFont("STSong-Light", size)
        c.setFillColorRGB(1, 0, 0) if red else c.setFillColorRGB(0, 0, 0)
        text_width = pdfmetrics.stringWidth(text, "STSong-Light", size)
        x = {"center": (width - text_width) / 2,
             "right": width - 26 * PT_PER_MM - 2 * size - text_width}.get(align, 28 * PT_PER_MM)
        c.drawString(x, y, text)
        y -= size * 0.5
    c.showPage()
    c.save()
    return buf.getvalue()


def scanned_page(dpi: int = 200, pdf: bytes | None = None) -> object:
    """The first page of `pdf` (default: the official 公文) as a scanner gives it: an RGB
    image at `dpi`, slightly grey paper."""
    import pypdfium2 as pdfium
    from PIL import ImageEnhance

    document = pdfium.PdfDocument(pdf or official_pdf())
    try:
        image = document[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()
    return ImageEnhance.Brightness(image).enhance(0.94)


def image_bytes(image: object, fmt: str, dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    options = {"JPEG": {"quality": 85}, "TIFF": {"compression": "tiff_lzw"}}.get(fmt, {})
    image.save(buf, format=fmt, dpi=(dpi, dpi), **options)  # type: ignore[attr-defined]
    return buf.getvalue()


def image_only_pdf(image: object, *, stamp: str | None = None, pages: int = 1) -> bytes:
    """A scan as a PDF: the page image, and no text but `stamp` (a scanner app's name, drawn
    small in a corner of every page, as 扫描全能王 does)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    width, height = 595.3, 841.9
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height), invariant=1)
    for _ in range(pages):
        c.drawImage(ImageReader(image), 0, 0, width=width, height=height)
        if stamp:
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
            c.setFont("STSong-Light", 8)
            c.setFillColorRGB(0.6, 0.6, 0.6)
            c.drawString(width - 90, 12, stamp)
        c.showPage()
    c.save()
    return buf.getvalue()
