"""Generated 公文 (.docx) for the lifecycle tests, each with the truth it was built from.

Layout after GB/T 9704-2012: optional 密级 in the header, 发文机关标志, 发文字号, 标题, 主送机关,
正文, 署名, 成文日期 and the 附注 with the disclosure attribute directly below it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

NOTES = {
    "active": "（此件主动公开）",
    "on_request": "（此件依申请公开）",
    "withheld": "（此件不予公开）",
    "partial": "（此件删减后公开）",
}
SECRET_SENTENCE = "内部联系人张三电话13800000000"


@dataclass(frozen=True)
class Truth:
    filename: str
    file_number: str
    title: str
    disclosure: str | None
    security: str | None
    date: date


def make_docx(
    serial: int,
    *,
    disclosure: str | None = "active",
    security: str | None = None,
    year: int = 2021,
    day: date | None = None,
    issuer: str = "鸿山镇人民政府",
    code: str = "鸿政",
    reason: str | None = None,
    index_number: str | None = None,
) -> tuple[bytes, Truth]:
    day = day or date(year, 3, (serial % 27) + 1)
    title = f"{issuer}关于做好第{serial}批政务公开标准化工作的通知"
    number = f"{code}〔{day.year}〕{serial}号"
    doc = Document()
    if index_number:  # printed at the top, as some templates do
        doc.add_paragraph(f"索引号：{index_number}")
    if security:
        doc.add_paragraph(f"{security}★5年")
    head = doc.add_paragraph(f"{issuer}文件")
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(number).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(title).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("各村（居）委会，镇直各单位：")
    doc.add_paragraph(
        f"为推进基层政务公开标准化规范化，现就第{serial}批事项通知如下：各单位在文件起草时"
        "要明确公开属性，依法依规做好信息发布工作。"
    )
    doc.add_paragraph(f"{SECRET_SENTENCE}，具体事项另行通知。")
    doc.add_paragraph(issuer).alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph(f"{day.year}年{day.month}月{day.day}日").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if disclosure is not None:
        doc.add_paragraph(NOTES[disclosure])
    if reason:
        doc.add_paragraph(f"不公开理由：{reason}")
    buffer = io.BytesIO()
    doc.save(buffer)
    truth = Truth(f"doc-{serial:04d}.docx", number, title, disclosure, security, day)
    return buffer.getvalue(), truth
