"""Documents laid out the way real offices print them, built here independently of
tests/generator.py, each with the truth a clerk would state for its six deciding fields.

A document is a list of blocks (paragraphs, borderless tables, rules, page breaks) following
GB/T 9704-2012, rendered by python-docx (.docx), by reportlab (a PDF drawn line by line, with
running footers and a watermark when asked) or by LibreOffice from the .docx (a PDF that wraps
long paragraphs itself). The layouts are those tests/generator.py does not make: 上行文 with
several 签发人, 纪要 and 令, dates with spaces or soft line breaks, 公开属性 in 【】 or as a
信息公开选项, page numbers as `第 1 页，共 2 页`, a watermark over every page.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Align = Literal["left", "center", "right"]

SIX_FIELDS = ("title", "file_number", "issuer", "date", "disclosure", "security_level")

# Sizes in points (GB/T 9704: 版头 标志 about 二号 and larger, 标题 二号, 正文 三号, 版记 四号).
MARK, TITLE, BODY, SMALL = 30.0, 22.0, 16.0, 14.0


@dataclass(frozen=True)
class P:
    """A paragraph. `indent`: first-line indent in characters; `right`: right indent."""

    text: str
    align: Align = "left"
    size: float = BODY
    red: bool = False
    indent: int = 0
    right: int = 0
    gap: bool = False  # an empty paragraph before it


@dataclass(frozen=True)
class Table:
    """A borderless table; `rows` of cell texts (a cell may hold `\\n`-separated paragraphs).
    `merge_right_column`: the last column is one cell over all rows (a joint 版头's 文件)."""

    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    aligns: tuple[Align, ...]
    size: float = BODY
    red: bool = False
    merge_right_column: bool = False
    gap: bool = False


@dataclass(frozen=True)
class Rule:
    red: bool = True


@dataclass(frozen=True)
class PageBreak:
    pass


Block = P | Table | Rule | PageBreak


@dataclass(frozen=True)
class Variant:
    """One document: its blocks, how it is produced, and the truth of the six fields."""

    name: str
    blocks: tuple[Block, ...]
    producer: Literal["python-docx", "reportlab", "libreoffice"]
    truth: dict[str, str | None]
    footer: str | None = None  # reportlab: `{page}` / `{pages}` filled in on every page
    watermark: str | None = None  # reportlab: grey text drawn diagonally over every page
    seal: str | None = None  # reportlab: a red seal's text set round a circle over the date
    also: dict[str, str | None] = field(default_factory=dict)  # other fields checked too

    @property
    def suffix(self) -> str:
        return ".docx" if self.producer == "python-docx" else ".pdf"


def truth(title: str | None, file_number: str | None, issuer: str | None, date: str | None,
          disclosure: str | None, security_level: str | None = None) -> dict[str, str | None]:
    return {"title": title, "file_number": file_number, "issuer": issuer, "date": date,
            "disclosure": disclosure, "security_level": security_level}


# ---------------------------------------------------------------------------------------------
# .docx


def render_docx(blocks: Sequence[Block]) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    aligns = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
              "right": WD_ALIGN_PARAGRAPH.RIGHT}
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Pt(595.3), Pt(841.9)
    section.left_margin = section.right_margin = Pt(75)
    section.top_margin, section.bottom_margin = Pt(100), Pt(80)

    def fill(paragraph: object, text: str, size: float, red: bool, align: Align) -> None:
        paragraph.alignment = aligns[align]  # type: ignore[attr-defined]
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            run = paragraph.add_run(piece)  # type: ignore[attr-defined]
            run.font.size = Pt(size)
            run.font.name = "仿宋_GB2312"
            run._element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋_GB2312")
            if red:
                run.font.color.rgb = RGBColor(0xFF, 0, 0)
            if k + 1 < len(pieces):
                run.add_break()  # a soft line break (Shift+Enter) inside the paragraph

    for block in blocks:
        if isinstance(block, PageBreak):
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        if isinstance(block, Rule):
            paragraph = document.add_paragraph()
            borders = OxmlElement("w:pBdr")
            bottom = OxmlElement("w:bottom")
            for key, value in (("val", "single"), ("sz", "12"), ("space", "1"),
                               ("color", "FF0000" if block.red else "000000")):
                bottom.set(qn(f"w:{key}"), value)
            borders.append(bottom)
            paragraph._p.get_or_add_pPr().append(borders)
            continue
        if block.gap:
            document.add_paragraph()
        if isinstance(block, P):
            paragraph = document.add_paragraph()
            fill(paragraph, block.text, block.size, block.red, block.align)
            fmt = paragraph.paragraph_format
            if block.indent:
                fmt.first_line_indent = Pt(block.indent * block.size)
            if block.right:
                fmt.right_indent = Pt(block.right * block.size)
            continue
        table = document.add_table(rows=len(block.rows), cols=len(block.widths))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        total = 445.0
        for r, row in enumerate(block.rows):
            for c, text in enumerate(row):
                cell = table.cell(r, c)
                cell.width = Pt(total * block.widths[c])
                if block.merge_right_column and c == len(row) - 1 and r > 0:
                    continue
                paras = text.split("\n")
                fill(cell.paragraphs[0], paras[0], block.size, block.red, block.aligns[c])
                for extra in paras[1:]:
                    fill(cell.add_paragraph(), extra, block.size, block.red, block.aligns[c])
        if block.merge_right_column and len(block.rows) > 1:
            last = len(block.widths) - 1
            table.cell(0, last).merge(table.cell(len(block.rows) - 1, last))
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# PDF drawn by reportlab

PAGE_W, PAGE_H = 595.3, 841.9
LEFT, RIGHT_MARGIN, TOP, BOTTOM = 79.0, 74.0, 105.0, 90.0
FONT = "STSong-Light"


def _width(text: str, size: float) -> float:
    from reportlab.pdfbase import pdfmetrics

    return pdfmetrics.stringWidth(text, FONT, size)


def _wrap(text: str, size: float, room: float, first_indent: float) -> list[str]:
    """Chinese text wraps at any character; a line starts no 。，、 (避头尾, roughly)."""
    lines: list[str] = []
    current = ""
    limit = room - first_indent
    for char in text:
        if _width(current + char, size) > limit and current:
            if char in "。，、；：）》”":
                current, char = current[:-1], current[-1] + char
            lines.append(current)
            current, limit = char, room
        else:
            current += char
    if current:
        lines.append(current)
    return lines


def _draw_seal(c: object, text: str, x: float, y: float) -> None:
    """An electronic seal whose characters stay in the text layer: the organ's name round the
    upper arc of a circle, a ★ in the middle (as some OA systems export it)."""
    radius, size = 52.0, 13.0
    c.saveState()  # type: ignore[attr-defined]
    c.setFillColorRGB(0.9, 0.1, 0.1)  # type: ignore[attr-defined]
    c.setFont(FONT, size)  # type: ignore[attr-defined]
    spread = math.radians(220)
    for k, char in enumerate(text):
        angle = math.radians(90) + spread / 2 - spread * k / max(1, len(text) - 1)
        c.saveState()  # type: ignore[attr-defined]
        c.translate(x + radius * 0.8 * math.cos(angle), y + radius * 0.8 * math.sin(angle))
        c.rotate(math.degrees(angle) - 90)  # type: ignore[attr-defined]
        c.drawCentredString(0, 0, char)  # type: ignore[attr-defined]
        c.restoreState()  # type: ignore[attr-defined]
    c.setFont(FONT, 30)  # type: ignore[attr-defined]
    c.drawCentredString(x, y - 10, "★")  # type: ignore[attr-defined]
    c.restoreState()  # type: ignore[attr-defined]


def render_pdf(blocks: Sequence[Block], *, footer: str | None = None,
               watermark: str | None = None, seal: str | None = None) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    room = PAGE_W - LEFT - RIGHT_MARGIN
    # Lay out first (the footer may say how many pages there are), then draw.
    pages: list[list[tuple[float, float, str, float, bool] | tuple[str, float]]] = [[]]
    y = PAGE_H - TOP

    def need(height: float) -> None:
        nonlocal y
        if y - height < BOTTOM:
            pages.append([])
            y = PAGE_H - TOP

    def put_line(text: str, size: float, align: Align, red: bool, x_from: float,
                 x_to: float, indent: float = 0.0, right: float = 0.0) -> None:
        width = _width(text, size)
        if align == "center":
            x = x_from + (x_to - x_from - width) / 2
        elif align == "right":
            x = x_to - right - width
        else:
            x = x_from + indent
        pages[-1].append((x, y, text, size, red))

    for block in blocks:
        if isinstance(block, PageBreak):
            pages.append([])
            y = PAGE_H - TOP
            continue
        if isinstance(block, Rule):
            need(12)
            y -= 6
            pages[-1].append(("rule_red" if block.red else "rule", y))
            y -= 10
            continue
        if block.gap:
            y -= BODY * 1.6
        if isinstance(block, P):
            step = block.size * 1.75
            for n, text in enumerate(block.text.split("\n")):
                indent = block.indent * block.size if n == 0 else 0.0
                for k, piece in enumerate(_wrap(text, block.size, room - block.right * block.size,
                                                indent)):
                    need(step)
                    y -= block.size
                    put_line(piece, block.size, block.align, block.red, LEFT, LEFT + room,
                             indent if k == 0 else 0.0, block.right * block.size)
                    y -= step - block.size
            continue
        step = block.size * 1.75
        rows = block.rows
        if block.merge_right_column:
            # The merged right cell (文件) is centred on the rows beside it.
            height = step * len(rows)
            need(height)
            x_split = LEFT + room * sum(block.widths[:-1])
            top = y
            for row in rows:
                y -= block.size
                put_line(row[0], block.size, block.aligns[0], block.red, LEFT, x_split)
                y -= step - block.size
            middle = top - height / 2 - block.size / 2
            text = rows[0][-1]
            x = x_split + (LEFT + room - x_split - _width(text, block.size)) / 2
            pages[-1].append((x, middle, text, block.size, block.red))
            continue
        for row in rows:
            cells = [c.split("\n") for c in row]
            n_lines = max(len(c) for c in cells)
            need(step * n_lines)
            x_from = LEFT
            start_y = y
            lowest = y
            for c, paras in enumerate(cells):
                x_to = x_from + room * block.widths[c]
                y = start_y
                for text in paras:
                    y -= block.size
                    put_line(text, block.size, block.aligns[c], block.red, x_from, x_to)
                    y -= step - block.size
                lowest = min(lowest, y)
                x_from = x_to
            y = lowest

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1)
    total = len(pages)
    for number, items in enumerate(pages, start=1):
        if watermark:
            c.saveState()
            c.setFillColorRGB(0.85, 0.85, 0.85)
            c.setFont(FONT, 40)
            c.translate(PAGE_W / 2, PAGE_H / 2)
            c.rotate(35)
            c.drawCentredString(0, 0, watermark)
            c.restoreState()
        for item in items:
            if isinstance(item[0], str):  # a rule
                kind, at = item  # type: ignore[misc]
                c.setStrokeColorRGB(1, 0, 0) if kind == "rule_red" else c.setStrokeColorRGB(
                    0, 0, 0)
                c.setLineWidth(1.2)
                c.line(LEFT, at, PAGE_W - RIGHT_MARGIN, at)
                continue
            x, at, text, size, red = item  # type: ignore[misc]
            c.setFont(FONT, size)
            c.setFillColorRGB(1, 0, 0) if red else c.setFillColorRGB(0, 0, 0)
            c.drawString(x, at, text)
            if seal and text.strip().endswith("日") and "印发" not in text:
                lead = _width(text[: len(text) - len(text.lstrip())], size)
                _draw_seal(c, seal, x + lead + _width(text.strip(), size) / 2, at + 12)
        if footer:
            text = footer.format(page=number, pages=total)
            c.setFont(FONT, SMALL)
            c.setFillColorRGB(0, 0, 0)
            x = PAGE_W - RIGHT_MARGIN - _width(text, SMALL) if number % 2 else LEFT
            if "页" in text:
                x = (PAGE_W - _width(text, SMALL)) / 2
            c.drawString(x, BOTTOM - 40, text)
        c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# PDFs printed by LibreOffice


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def libreoffice_pdfs(docx_files: dict[str, bytes]) -> dict[str, bytes]:
    """Every .docx printed to PDF by one `soffice --headless --convert-to pdf` run."""
    command = soffice()
    assert command, "LibreOffice (soffice) is needed for these fixtures"
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        sources = []
        for name, data in docx_files.items():
            source = folder / f"{name}.docx"
            source.write_bytes(data)
            sources.append(str(source))
        subprocess.run(
            [command, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", str(folder / "out"), *sources],
            check=True, capture_output=True, timeout=300,
        )
        return {name: (folder / "out" / f"{name}.pdf").read_bytes() for name in docx_files}


def build(variants: Sequence[Variant]) -> dict[str, bytes]:
    """The bytes of every variant, by name (LibreOffice ones in one batch)."""
    out: dict[str, bytes] = {}
    via_libreoffice: dict[str, bytes] = {}
    for v in variants:
        if v.producer == "python-docx":
            out[v.name] = render_docx(v.blocks)
        elif v.producer == "reportlab":
            out[v.name] = render_pdf(v.blocks, footer=v.footer, watermark=v.watermark,
                                     seal=v.seal)
        else:
            via_libreoffice[v.name] = render_docx(v.blocks)
    if via_libreoffice:
        out.update(libreoffice_pdfs(via_libreoffice))
    return out


# ---------------------------------------------------------------------------------------------
# Pieces every document has


def pad(text: str, width: int = 26) -> str:
    """Text pushed right with ideographic spaces, as drafters do."""
    return "\u3000" * max(0, width - len(text)) + text


BODY_TEXT = (
    "为深入贯彻落实《中华人民共和国政府信息公开条例》，进一步推进决策、执行、管理、服务、"
    "结果公开，根据《国务院办公厅关于印发2020年政务公开工作要点的通知》（国办发〔2020〕17号）"
    "要求，结合我市实际，现将有关事项通知如下。",
    "一、提高认识，加强领导。各单位要把政务公开工作摆上重要议事日程，主要负责同志要亲自研究部署，"
    "确保各项任务落到实处。对依申请公开的政府信息，要依法依规及时答复。",
    "二、突出重点，狠抓落实。要围绕重大决策部署，及时公开政策文件及解读材料，2021年3月31日前"
    "完成政府信息公开专栏的规范化建设。涉及国家秘密的信息不予公开。",
)


def body(*extra: str) -> tuple[P, ...]:
    return tuple(P(t, indent=2) for t in (*BODY_TEXT, *extra))


def banji(*lines: str, printed: str = "石狮市人民政府办公室", when: str = "2020年9月11日"
          ) -> tuple[Block, ...]:
    """The 版记: rules, what it says (抄送 …) and the 印发 line with the 印发日期."""
    out: list[Block] = [Rule(red=False)]
    out += [P(line, size=SMALL, indent=1) for line in lines]
    out.append(P(f"{printed}" + "\u3000" * 6 + f"{when}印发", size=SMALL, indent=1))
    out.append(Rule(red=False))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# The documents

_CC = "抄送：市委办、市人大办、市政协办，市法院、检察院。"


def _up_two_signers() -> tuple[Block, ...]:
    """上行文: 文号 left and two 签发人 right in one 2-cell row; a 请示 with its 联系人 附注."""
    return (
        P("特急", size=BODY),
        P("石狮市人民政府文件", align="center", size=MARK, red=True, gap=True),
        Table((("狮政〔2020〕41号", "签发人：张伟　李建国"),), (0.5, 0.5), ("left", "right"),
              gap=True),
        Rule(),
        P("石狮市人民政府关于申请拨付2020年农村危房改造", align="center", size=TITLE, gap=True),
        P("补助资金的请示", align="center", size=TITLE),
        P("泉州市人民政府：", gap=True),
        *body("妥否，请批示。"),
        P(pad("石狮市人民政府", 24), gap=True),
        P(pad("2020年9月10日", 25)),
        P("（联系人：王丽华，联系电话：0595-88701234）", indent=2),
        *banji(printed="石狮市人民政府办公室"),
    )


def _up_three_signers() -> tuple[Block, ...]:
    """Three 签发人 over two lines: the 文号 shares the line of the last name (GB/T 9704 7.2.5)."""
    return (
        P("福建省财政厅", align="center", size=MARK, red=True),
        P("福建省教育厅文件", align="center", size=MARK, red=True),
        P(pad("签发人：陈明远　林海燕", 26), gap=True),
        P("闽财教〔2021〕18号" + "\u3000" * 10 + "黄志强"),
        Rule(),
        P("福建省财政厅　福建省教育厅关于2021年", align="center", size=TITLE, gap=True),
        P("义务教育经费保障情况的报告", align="center", size=TITLE),
        P("财政部、教育部：", gap=True),
        *body("特此报告。"),
        P(pad("福建省财政厅　　　福建省教育厅", 28), gap=True),
        P(pad("2021年3月5日", 25)),
        P("（此件依申请公开）", indent=2),
        *banji(printed="福建省财政厅办公室", when="2021年3月8日"),
    )


def _spaced_date() -> tuple[Block, ...]:
    """成文日期 typed with spaces; the 印发日期 in the 版记 a day later."""
    return (
        P("石狮市人民政府办公室文件", align="center", size=MARK, red=True),
        P("狮政办〔2020〕57号", align="center", gap=True),
        Rule(),
        P("石狮市人民政府办公室关于做好2020年秋季学期", align="center", size=TITLE, gap=True),
        P("开学工作的通知", align="center", size=TITLE),
        P("各镇人民政府、街道办事处，市直有关单位：", gap=True),
        *body(),
        P(pad("石狮市人民政府办公室", 24), gap=True),
        P(pad("2020 年 9 月 10 日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(_CC, when="2020年9月11日"),
    )


def _soft_break_signature() -> tuple[Block, ...]:
    """署名 and 成文日期 in one right-aligned paragraph split by a soft line break."""
    return (
        P("泉州市教育局文件", align="center", size=MARK, red=True),
        P("泉教〔2021〕7号", align="center", gap=True),
        Rule(),
        P("泉州市教育局关于做好义务教育阶段招生入学工作的通知", align="center", size=TITLE,
          gap=True),
        P("各县（市、区）教育局：", gap=True),
        *body(),
        P("泉州市教育局\n2021年4月2日", align="right", right=4, gap=True),
        P("（此件主动公开）", indent=2),
        *banji(printed="泉州市教育局办公室", when="2021年4月6日"),
    )


def _marks_one_line() -> tuple[Block, ...]:
    """份号, 密级★期限 and 紧急程度 on one line at the top; the ★ with spaces."""
    return (
        P("000123　　机密 ★ 1年　　特急"),
        P("石狮市人民政府文件", align="center", size=MARK, red=True, gap=True),
        P("狮政〔2022〕9号", align="center", gap=True),
        Rule(),
        P("石狮市人民政府关于调整防汛防台风应急指挥部成员的通知", align="center", size=TITLE,
          gap=True),
        P("各镇人民政府、街道办事处：", gap=True),
        *body(),
        P(pad("石狮市人民政府", 24), gap=True),
        P(pad("二〇二二年六月八日", 25)),
        P("（此件不予公开）", indent=2),
        *banji(when="2022年6月9日"),
    )


def _marks_three_lines() -> tuple[Block, ...]:
    """份号, 密级 without a period, 紧急程度 one per line (GB/T 9704 7.2.1-7.2.3)."""
    return (
        P("000045"),
        P("秘密"),
        P("加急"),
        P("泉州市人民政府办公室文件", align="center", size=MARK, red=True, gap=True),
        P("泉政办〔2019〕88号", align="center", gap=True),
        Rule(),
        P("泉州市人民政府办公室关于加强防汛物资储备管理的通知", align="center", size=TITLE,
          gap=True),
        P("各县（市、区）人民政府，市直有关单位：", gap=True),
        *body(),
        P(pad("泉州市人民政府办公室", 24), gap=True),
        P(pad("2019年7月16日", 25)),
        *banji(printed="泉州市人民政府办公室", when="2019年7月17日"),
    )


def _bracket_note() -> tuple[Block, ...]:
    """The 附注 in lenticular brackets: 【此件依申请公开】."""
    return (
        P("福建省人民政府办公厅文件", align="center", size=MARK, red=True),
        P("闽政办〔2021〕33号", align="center", gap=True),
        Rule(),
        P("福建省人民政府办公厅关于进一步加强", align="center", size=TITLE, gap=True),
        P("政府信息公开申请办理工作的通知", align="center", size=TITLE),
        P("各市、县（区）人民政府，平潭综合实验区管委会，省人民政府各部门：", gap=True),
        *body(),
        P(pad("福建省人民政府办公厅", 24), gap=True),
        P(pad("2021年6月18日", 25)),
        P("【此件依申请公开】", indent=2),
        *banji(_CC, printed="福建省人民政府办公厅秘书处", when="2021年6月21日"),
    )


def _option_in_banji() -> tuple[Block, ...]:
    """`信息公开选项：不予公开` in the 版记, as several provinces print it."""
    return (
        P("泉州市财政局文件", align="center", size=MARK, red=True),
        P("泉财预〔2020〕112号", align="center", gap=True),
        Rule(),
        P("泉州市财政局关于下达2020年第二批省级财政", align="center", size=TITLE, gap=True),
        P("专项资金的通知", align="center", size=TITLE),
        P("各县（市、区）财政局：", gap=True),
        *body(),
        P(pad("泉州市财政局", 24), gap=True),
        P(pad("2020年10月9日", 25)),
        Rule(red=False),
        P("信息公开选项：不予公开", size=SMALL, indent=1),
        P(_CC, size=SMALL, indent=1),
        P("泉州市财政局办公室" + "\u3000" * 6 + "2020年10月10日印发", size=SMALL, indent=1),
        Rule(red=False),
    )


def _method_under_date() -> tuple[Block, ...]:
    """`公开方式：主动公开` right under the 成文日期, without brackets (附注 position)."""
    return (
        P("石狮市住房和城乡建设局文件", align="center", size=MARK, red=True),
        P("狮建〔2023〕21号", align="center", gap=True),
        Rule(),
        P("石狮市住房和城乡建设局关于开展2023年度建筑施工", align="center", size=TITLE, gap=True),
        P("安全生产专项检查的通知", align="center", size=TITLE),
        P("各建设、施工、监理单位：", gap=True),
        *body(),
        P(pad("石狮市住房和城乡建设局", 24), gap=True),
        P(pad("2023年5月12日", 25)),
        P("公开方式：主动公开", indent=2),
        *banji(printed="石狮市住房和城乡建设局办公室", when="2023年5月12日"),
    )


def _published_after_contact() -> tuple[Block, ...]:
    """A 联系人 附注 first, then （此件公开发布）."""
    return (
        P("中共石狮市委办公室文件", align="center", size=MARK, red=True),
        P("狮委办〔2021〕14号", align="center", gap=True),
        Rule(),
        P("中共石狮市委办公室关于做好2021年", align="center", size=TITLE, gap=True),
        P("春节期间有关工作的通知", align="center", size=TITLE),
        P("各镇党委、街道党工委，市直各单位党组（党委）：", gap=True),
        *body(),
        P(pad("中共石狮市委办公室", 24), gap=True),
        P(pad("2021年1月28日", 25)),
        P("（联系人：蔡志明，电话：88705678）", indent=2),
        P("（此件公开发布）", indent=2),
        *banji(printed="中共石狮市委办公室", when="2021年1月29日"),
    )


_PLAN_TITLE = "石狮市人民政府办公室关于印发《石狮市推进政务公开标准化规范化工作实施方案》的通知"


def _plan_three_lines() -> tuple[Block, ...]:
    """`…关于印发` / `《…实施方案》` / `的通知`: a title over three lines around its 书名号."""
    return (
        P("石狮市人民政府办公室文件", align="center", size=MARK, red=True),
        P("狮政办〔2020〕62号", align="center", gap=True),
        Rule(),
        P("石狮市人民政府办公室关于印发", align="center", size=TITLE, gap=True),
        P("《石狮市推进政务公开标准化规范化工作实施方案》", align="center", size=TITLE),
        P("的通知", align="center", size=TITLE),
        P("各镇人民政府、街道办事处，市直各单位：", gap=True),
        P("现将《石狮市推进政务公开标准化规范化工作实施方案》印发给你们，请认真贯彻执行。",
          indent=2),
        *body(),
        P(pad("石狮市人民政府办公室", 24), gap=True),
        P(pad("2020年9月15日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(_CC, when="2020年9月16日"),
    )


def _plan_split_in_brackets() -> tuple[Block, ...]:
    """The 书名号 pair opened on the first line and closed on the second."""
    return (
        P("泉州市人民政府文件", align="center", size=MARK, red=True),
        P("泉政文〔2020〕88号", align="center", gap=True),
        Rule(),
        P("泉州市人民政府关于印发《泉州市优化营商环境", align="center", size=TITLE, gap=True),
        P("若干措施（2020年修订）》的通知", align="center", size=TITLE),
        P("各县（市、区）人民政府，泉州开发区、泉州台商投资区管委会，市直各单位：", gap=True),
        *body(),
        P(pad("泉州市人民政府", 24), gap=True),
        P(pad("2020年11月3日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(_CC, printed="泉州市人民政府办公室", when="2020年11月5日"),
    )


_JOINT3 = ("石狮市财政局", "石狮市教育局", "石狮市人力资源和社会保障局")


def _joint_table() -> tuple[Block, ...]:
    """联合行文: organs one per row on the left, 文件 in the merged right cell; the three
    署名 side by side in one row of a borderless table, the 成文日期 under them."""
    return (
        Table(tuple((n, "文件") for n in _JOINT3), (0.78, 0.22), ("center", "center"),
              size=24.0, red=True, merge_right_column=True),
        P("狮财教〔2022〕6号", align="center", gap=True),
        Rule(),
        P("关于做好2022年度教师培训经费保障工作的通知", align="center", size=TITLE, gap=True),
        P("各中小学校、幼儿园：", gap=True),
        *body(),
        Table((_JOINT3,), (0.3, 0.3, 0.4), ("center", "center", "center"), gap=True),
        P(pad("2022年3月18日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(printed="石狮市财政局办公室", when="2022年3月21日"),
    )


def _minutes() -> tuple[Block, ...]:
    """纪要: no 文号 but 第X期, the 印发 organ and date on a line of the 版头, a title."""
    return (
        P("石狮市人民政府常务会议纪要", align="center", size=MARK, red=True),
        P("第12期", align="center", gap=True),
        Table((("石狮市人民政府办公室", "2020年9月10日"),), (0.6, 0.4), ("left", "right"),
              gap=True),
        Rule(),
        P("关于研究城市更新有关事项的会议纪要", align="center", size=TITLE, gap=True),
        P("2020年9月8日，市长王明主持召开市政府第十二次常务会议，研究城市更新有关事项。"
          "现将会议议定事项纪要如下：", indent=2),
        *body(),
        P("出席：王明、李华、张强、陈刚", indent=2, gap=True),
        Rule(red=False),
        P("公开方式：主动公开", size=SMALL, indent=1),
        P("分送：市委办、市人大办、市政协办，市直有关单位。", size=SMALL, indent=1),
        P("石狮市人民政府办公室" + "\u3000" * 6 + "2020年9月11日印发", size=SMALL, indent=1),
        Rule(red=False),
    )


def _order() -> tuple[Block, ...]:
    """命令(令): `XX人民政府令`, `第X号`, no title, signed by the 市长 (GB/T 9704 10.2)."""
    return (
        P("泉州市人民政府令", align="center", size=MARK, red=True),
        P("第8号", align="center", gap=True),
        Rule(),
        P("《泉州市城市绿化管理办法》已经2021年6月1日市人民政府第72次常务会议通过，现予公布，"
          "自2021年8月1日起施行。", indent=2, gap=True),
        P(pad("市长　　王小明", 24), gap=True),
        P(pad("2021年6月15日", 25)),
        P("（此件公开发布）", indent=2),
        *banji(printed="泉州市人民政府办公室", when="2021年6月16日"),
    )


def _report_bulletin() -> tuple[Block, ...]:
    """通报 whose title line starts with the organ alone on its own line."""
    return (
        P("泉州市人民政府办公室文件", align="center", size=MARK, red=True),
        P("泉政办〔2021〕5号", align="center", gap=True),
        Rule(),
        P("泉州市人民政府办公室", align="center", size=TITLE, gap=True),
        P("关于2020年第四季度政务公开工作检查情况的通报", align="center", size=TITLE),
        P("各县（市、区）人民政府，市直各单位：", gap=True),
        *body(),
        P(pad("泉州市人民政府办公室", 24), gap=True),
        P(pad("2021年1月20日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(printed="泉州市人民政府办公室", when="2021年1月21日"),
    )


def _seal_only() -> tuple[Block, ...]:
    """No 署名 text (the seal alone stands for it): the 成文日期 under the 正文."""
    return (
        P("石狮市司法局文件", align="center", size=MARK, red=True),
        P("狮司〔2020〕30号", align="center", gap=True),
        Rule(),
        P("石狮市司法局关于开展“八五”普法规划编制工作的通知", align="center", size=TITLE,
          gap=True),
        P("各镇（街道）司法所，局机关各股室：", gap=True),
        *body(),
        P(pad("2020年9月10日", 25), gap=True),
        P("（此件主动公开）", indent=2),
        *banji(printed="石狮市司法局办公室", when="2020年9月11日"),
    )


def _long_multipage(kind: str) -> tuple[Block, ...]:
    """A document over two pages (the page numbers printed at the foot)."""
    more = tuple(P(t, indent=2) for t in BODY_TEXT[1:] * 3)
    return (
        P("福建省财政厅文件", align="center", size=MARK, red=True),
        P("闽财〔2023〕5号", align="center", gap=True),
        Rule(),
        P("福建省财政厅关于加强省级财政专项资金", align="center", size=TITLE, gap=True),
        P("绩效管理的通知" if kind == "notice" else "绩效管理的意见", align="center", size=TITLE),
        P("各设区市财政局，平潭综合实验区财政金融局，省直各部门：", gap=True),
        *body(),
        *more,
        P(pad("福建省财政厅", 24), gap=True),
        P(pad("2023年2月20日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(printed="福建省财政厅办公室", when="2023年2月22日"),
    )


def _letter_up() -> tuple[Block, ...]:
    """A 函 printed in the 信函格式: full name without 文件, the number right-aligned under a
    double rule, 份号 and 密级 top left under it."""
    return (
        P("石狮市人民政府办公室", align="center", size=MARK, red=True),
        Rule(),
        P("狮政办函〔2020〕15号", align="right", right=1),
        P("000012"),
        P("秘密★6个月"),
        P("石狮市人民政府办公室关于商请协助开展", align="center", size=TITLE, gap=True),
        P("政务公开第三方评估工作的函", align="center", size=TITLE),
        P("福建师范大学公共管理学院：", gap=True),
        *body(),
        P(pad("石狮市人民政府办公室", 24), gap=True),
        P(pad("2020年8月3日", 25)),
        P("（此件不予公开）", indent=2),
    )


def _marks_1999() -> tuple[Block, ...]:
    """The 1999 layout still printed by some offices: 份号 top left, 密级★期限 top right on the
    same line (a two-cell row)."""
    return (
        Table((("000321", "秘密★1年"),), (0.5, 0.5), ("left", "right")),
        P("石狮市财政局文件", align="center", size=MARK, red=True, gap=True),
        P("狮财〔2012〕77号", align="center", gap=True),
        Rule(),
        P("石狮市财政局关于2012年度部门预算调整的通知", align="center", size=TITLE, gap=True),
        P("局属各单位：", gap=True),
        *body(),
        P(pad("石狮市财政局", 24), gap=True),
        P(pad("二〇一二年五月四日", 25)),
        *banji(printed="石狮市财政局办公室", when="2012年5月5日"),
    )


def _minutes_tab() -> tuple[Block, ...]:
    """A 纪要 whose 版头 line holds the organ and the date split by a tab, `（总第125期）`."""
    return (
        P("泉州市人民政府专题会议纪要", align="center", size=MARK, red=True),
        P("〔2021〕第7期（总第125期）", align="center", gap=True),
        P("泉州市人民政府办公室\t\t\t\t2021年4月2日", gap=True),
        Rule(),
        P("关于推进中心城区老旧小区改造工作的会议纪要", align="center", size=TITLE, gap=True),
        P("2021年3月30日，副市长李华主持召开专题会议，研究中心城区老旧小区改造工作。"
          "现将会议议定事项纪要如下：", indent=2),
        *body(),
        Rule(red=False),
        P("（此件主动公开）", size=SMALL, indent=1),
        P("泉州市人民政府办公室" + "\u3000" * 6 + "2021年4月3日印发", size=SMALL, indent=1),
        Rule(red=False),
    )


def _announcement() -> tuple[Block, ...]:
    """A 公告 numbered `2020年第9号` under its 标志, no 文号."""
    return (
        P("国家税务总局公告", align="center", size=MARK, red=True),
        P("2020年第9号", align="center", gap=True),
        Rule(),
        P("国家税务总局关于优化纳税缴费服务配合做好", align="center", size=TITLE, gap=True),
        P("新型冠状病毒感染肺炎疫情防控工作的公告", align="center", size=TITLE),
        *body("特此公告。"),
        P(pad("国家税务总局", 24), gap=True),
        P(pad("2020年3月13日", 25)),
    )


def _flag_as_image() -> tuple[Block, ...]:
    """The red 标志 is a picture (no text): the 文号 is the first line with text."""
    return (
        P("泉政办〔2022〕14号", align="center", gap=True),
        Rule(),
        P("泉州市人民政府办公室关于印发泉州市", align="center", size=TITLE, gap=True),
        P("2022年政务公开工作要点的通知", align="center", size=TITLE),
        P("各县（市、区）人民政府，市直各单位：", gap=True),
        *body(),
        P(pad("泉州市人民政府办公室", 24), gap=True),
        P(pad("2022年5月6日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(printed="泉州市人民政府办公室", when="2022年5月7日"),
    )


def _spaces_for_centring() -> tuple[Block, ...]:
    """The 文号 and title pushed to the middle with typed spaces, not centred."""
    return (
        P("石狮市教育局文件", align="center", size=MARK, red=True),
        P("\u3000" * 9 + "狮教〔2021〕23号", gap=True),
        Rule(),
        P("\u3000\u3000石狮市教育局关于做好2021年秋季", size=TITLE, gap=True),
        P("\u3000\u3000\u3000\u3000学期开学工作的通知", size=TITLE),
        P("各中小学校、幼儿园：", gap=True),
        *body(),
        P(pad("石狮市教育局", 24), gap=True),
        P(pad("2021年8月20日", 25)),
        P("(此件主动公开)", indent=2),
        *banji(printed="石狮市教育局办公室", when="2021年8月23日"),
    )


def _forwarding() -> tuple[Block, ...]:
    """A 转发 title whose first line is organ + 转发 + organ (it reads as one organ's name)."""
    return (
        P("石狮市人民政府办公室文件", align="center", size=MARK, red=True),
        P("狮政办〔2020〕70号", align="center", gap=True),
        Rule(),
        P("石狮市人民政府办公室转发泉州市人民政府办公室", align="center", size=TITLE, gap=True),
        P("关于进一步做好政务公开工作的通知", align="center", size=TITLE),
        P("各镇人民政府、街道办事处，市直各单位：", gap=True),
        P("现将《泉州市人民政府办公室关于进一步做好政务公开工作的通知》（泉政办〔2020〕40号）"
          "转发给你们，请认真贯彻执行。", indent=2),
        P(pad("石狮市人民政府办公室", 24), gap=True),
        P(pad("2020年10月12日", 25)),
        P("（此件主动公开）", indent=2),
        *banji(when="2020年10月13日"),
    )


def _contact_before_signature() -> tuple[Block, ...]:
    """A 请示 whose （联系人：…，电话：…） and 附件说明 come after the 正文, over the 署名."""
    return (
        P("石狮市人民政府文件", align="center", size=MARK, red=True),
        Table((("狮政〔2020〕45号", "签发人：张伟"),), (0.5, 0.5), ("left", "right"), gap=True),
        Rule(),
        P("石狮市人民政府关于申请追加2020年度", align="center", size=TITLE, gap=True),
        P("政务公开专项经费的请示", align="center", size=TITLE),
        P("泉州市人民政府：", gap=True),
        *body("妥否，请批示。"),
        P("（联系人：王丽华，联系电话：0595-88701234）", indent=2),
        P("附件：政务公开专项经费测算表", indent=2, gap=True),
        P(pad("石狮市人民政府", 24), gap=True),
        P(pad("2020年9月28日", 25)),
        *banji(),
    )


def _browser_print() -> tuple[Block, ...]:
    """A document page printed by a browser: the date and time it printed at the top, the
    page's address and `1/1` at the foot."""
    return (
        P("2020/9/16 上午10:05" + "\u3000" * 4 + "石狮市人民政府办公室关于做好政务公开工作的通知",
          size=8),
        P("石狮市人民政府办公室文件", align="center", size=MARK, red=True, gap=True),
        P("狮政办〔2020〕58号", align="center", gap=True),
        Rule(),
        P("石狮市人民政府办公室关于做好政务公开工作的通知", align="center", size=TITLE, gap=True),
        P("各镇人民政府、街道办事处，市直各单位：", gap=True),
        *body(),
        P(pad("石狮市人民政府办公室", 24), gap=True),
        P(pad("2020年9月15日", 25)),
        P("（此件主动公开）", indent=2),
        P("http://www.shishi.gov.cn/zfxxgkzl/zfxxgkml/202009/t20200916_123456.htm"
          + "\u3000" * 6 + "1/1", size=8, gap=True),
    )


_T = truth


def variants() -> list[Variant]:
    """The documents, in every producer each layout is printed by."""
    plans: list[tuple[str, tuple[Block, ...], dict[str, str | None], dict[str, str | None]]] = [
        ("up-two-signers", _up_two_signers(),
         _T("石狮市人民政府关于申请拨付2020年农村危房改造补助资金的请示", "狮政〔2020〕41号",
            "石狮市人民政府", "2020-09-10", None), {"signer": "张伟 李建国"}),
        ("up-three-signers", _up_three_signers(),
         _T("福建省财政厅 福建省教育厅关于2021年义务教育经费保障情况的报告", "闽财教〔2021〕18号",
            "福建省财政厅 福建省教育厅", "2021-03-05", "on_request"),
         {"signer": "陈明远 林海燕 黄志强"}),
        ("spaced-date", _spaced_date(),
         _T("石狮市人民政府办公室关于做好2020年秋季学期开学工作的通知", "狮政办〔2020〕57号",
            "石狮市人民政府办公室", "2020-09-10", "active"), {}),
        ("soft-break-signature", _soft_break_signature(),
         _T("泉州市教育局关于做好义务教育阶段招生入学工作的通知", "泉教〔2021〕7号",
            "泉州市教育局", "2021-04-02", "active"), {}),
        ("marks-one-line", _marks_one_line(),
         _T("石狮市人民政府关于调整防汛防台风应急指挥部成员的通知", "狮政〔2022〕9号",
            "石狮市人民政府", "2022-06-08", "withheld", "机密"), {}),
        ("marks-three-lines", _marks_three_lines(),
         _T("泉州市人民政府办公室关于加强防汛物资储备管理的通知", "泉政办〔2019〕88号",
            "泉州市人民政府办公室", "2019-07-16", None, "秘密"), {}),
        ("bracket-note", _bracket_note(),
         _T("福建省人民政府办公厅关于进一步加强政府信息公开申请办理工作的通知",
            "闽政办〔2021〕33号", "福建省人民政府办公厅", "2021-06-18", "on_request"), {}),
        ("option-in-banji", _option_in_banji(),
         _T("泉州市财政局关于下达2020年第二批省级财政专项资金的通知", "泉财预〔2020〕112号",
            "泉州市财政局", "2020-10-09", "withheld"), {}),
        ("method-under-date", _method_under_date(),
         _T("石狮市住房和城乡建设局关于开展2023年度建筑施工安全生产专项检查的通知",
            "狮建〔2023〕21号", "石狮市住房和城乡建设局", "2023-05-12", "active"), {}),
        ("published-after-contact", _published_after_contact(),
         _T("中共石狮市委办公室关于做好2021年春节期间有关工作的通知", "狮委办〔2021〕14号",
            "中共石狮市委办公室", "2021-01-28", "active"), {}),
        ("plan-three-lines", _plan_three_lines(),
         _T(_PLAN_TITLE, "狮政办〔2020〕62号", "石狮市人民政府办公室", "2020-09-15", "active"), {}),
        ("plan-split-in-brackets", _plan_split_in_brackets(),
         _T("泉州市人民政府关于印发《泉州市优化营商环境若干措施（2020年修订）》的通知",
            "泉政文〔2020〕88号", "泉州市人民政府", "2020-11-03", "active"), {}),
        ("joint-table", _joint_table(),
         _T("关于做好2022年度教师培训经费保障工作的通知", "狮财教〔2022〕6号", " ".join(_JOINT3),
            "2022-03-18", "active"), {}),
        ("minutes", _minutes(),
         _T("关于研究城市更新有关事项的会议纪要", None, "石狮市人民政府办公室", "2020-09-10",
            "active"), {}),
        ("order", _order(),
         _T(None, None, "泉州市人民政府", "2021-06-15", "active"), {}),
        ("bulletin-organ-line", _report_bulletin(),
         _T("泉州市人民政府办公室关于2020年第四季度政务公开工作检查情况的通报",
            "泉政办〔2021〕5号", "泉州市人民政府办公室", "2021-01-20", "active"), {}),
        ("seal-only", _seal_only(),
         _T("石狮市司法局关于开展“八五”普法规划编制工作的通知", "狮司〔2020〕30号",
            "石狮市司法局", "2020-09-10", "active"), {}),
        ("letter-marks-under-rule", _letter_up(),
         _T("石狮市人民政府办公室关于商请协助开展政务公开第三方评估工作的函",
            "狮政办函〔2020〕15号", "石狮市人民政府办公室", "2020-08-03", "withheld", "秘密"), {}),
        ("marks-1999", _marks_1999(),
         _T("石狮市财政局关于2012年度部门预算调整的通知", "狮财〔2012〕77号", "石狮市财政局",
            "2012-05-04", None, "秘密"), {}),
        ("minutes-tab", _minutes_tab(),
         _T("关于推进中心城区老旧小区改造工作的会议纪要", None, "泉州市人民政府办公室",
            "2021-04-02", "active"), {}),
        ("announcement", _announcement(),
         _T("国家税务总局关于优化纳税缴费服务配合做好新型冠状病毒感染肺炎疫情防控工作的公告",
            None, "国家税务总局", "2020-03-13", None), {}),
        ("flag-as-image", _flag_as_image(),
         _T("泉州市人民政府办公室关于印发泉州市2022年政务公开工作要点的通知", "泉政办〔2022〕14号",
            "泉州市人民政府办公室", "2022-05-06", "active"), {}),
        ("spaces-for-centring", _spaces_for_centring(),
         _T("石狮市教育局关于做好2021年秋季学期开学工作的通知", "狮教〔2021〕23号",
            "石狮市教育局", "2021-08-20", "active"), {}),
        ("forwarding", _forwarding(),
         _T("石狮市人民政府办公室转发泉州市人民政府办公室关于进一步做好政务公开工作的通知",
            "狮政办〔2020〕70号", "石狮市人民政府办公室", "2020-10-12", "active"), {}),
        ("contact-before-signature", _contact_before_signature(),
         _T("石狮市人民政府关于申请追加2020年度政务公开专项经费的请示", "狮政〔2020〕45号",
            "石狮市人民政府", "2020-09-28", None), {"signer": "张伟"}),
    ]
    out: list[Variant] = []
    for name, blocks, expected, also in plans:
        for producer in ("python-docx", "reportlab", "libreoffice"):
            out.append(Variant(f"{name}-{producer}", blocks, producer,  # type: ignore[arg-type]
                               expected, also=also))
    paged = _T("福建省财政厅关于加强省级财政专项资金绩效管理的通知", "闽财〔2023〕5号",
               "福建省财政厅", "2023-02-20", "active")
    for n, footer in enumerate(("— {page} —", "-{page}-", "第 {page} 页 共 {pages} 页",
                                "第{page}页，共{pages}页", "{page}/{pages}")):
        out.append(Variant(f"page-numbers-{n}-reportlab", _long_multipage("notice"), "reportlab",
                           paged, footer=footer))
    printed = _T("石狮市人民政府办公室关于做好政务公开工作的通知", "狮政办〔2020〕58号",
                 "石狮市人民政府办公室", "2020-09-15", "active")
    for producer in ("reportlab", "libreoffice"):  # a browser prints PDFs
        out.append(Variant(f"browser-print-{producer}", _browser_print(), producer,  # type: ignore[arg-type]
                           printed))
    out.append(Variant("watermark-reportlab", _long_multipage("notice"), "reportlab", paged,
                       footer="— {page} —", watermark="石狮市人民政府办公室内部资料"))
    return out
