"""A generated 公文 (.docx) with the parts the integrity tests vary: 附注, 附件说明, title, body."""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH


def official(
    serial: int,
    *,
    note: str | None = "（此件删减后公开）",
    attachments: tuple[str, ...] = (),
    body: str = "",
    title: str | None = None,
) -> bytes:
    """A 公文 with 文号, 标题, a cited 文号, optional 附件说明, 成文日期 and 附注."""
    doc = Document()
    doc.add_paragraph("鸿山镇人民政府文件").alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"鸿政〔2021〕{serial}号").alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading = title or f"鸿山镇人民政府关于做好第{serial}批政务公开标准化工作的通知"
    doc.add_paragraph(heading).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph("各村（居）委会，镇直各单位：")
    doc.add_paragraph(f"根据鸿政〔2020〕53号文件精神，现就第{serial}批事项通知如下。{body}")
    for i, name in enumerate(attachments, 1):
        doc.add_paragraph(f"附件：{i}.{name}" if i == 1 else f"{i}.{name}")
    doc.add_paragraph("鸿山镇人民政府").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph("2021年3月5日").alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if note:
        doc.add_paragraph(note)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
