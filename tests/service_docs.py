"""Minimal generated 公文 (.docx) for the service tests: 文号, 标题, 正文, 成文日期, 附注."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

NOTES = {
    "active": "（此件主动公开）",
    "on_request": "（此件依申请公开）",
    "withheld": "（此件不予公开）",
    "partial": "（此件删减后公开）",
}


def make_docx(
    *,
    serial: int,
    disclosure: str | None = "active",
    year: int = 2021,
    title: str | None = None,
    issuer: str = "石狮市人民政府",
    code: str = "狮政",
    date_text: str | None = None,
) -> bytes:
    """A small official document; `serial` makes each one distinct (文号 and text)."""
    doc = Document()
    head = doc.add_paragraph(f"{issuer}文件")
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number = doc.add_paragraph(f"{code}〔{year}〕{serial}号")
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading = doc.add_paragraph(title or f"{issuer}关于做好第{serial}批政务公开工作的通知")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("各镇人民政府、街道办事处，市直各单位：")
    doc.add_paragraph(
        f"为推进政务公开标准化规范化，现就第{serial}批事项通知如下：各单位要明确公开属性，"
        "依法依规做好信息发布工作。"
    )
    doc.add_paragraph(issuer).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph(date_text or f"{year}年3月{(serial % 27) + 1}日").alignment = (
        WD_ALIGN_PARAGRAPH.RIGHT
    )
    if disclosure is not None:
        doc.add_paragraph(NOTES[disclosure])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
