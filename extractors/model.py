"""The explicit data objects of extraction: lines read from a file, and the metadata read from them.

Readers (docx.py, pdf.py) turn bytes into a `ParsedDocument` of `Line`s; fields.py turns that
into `DocumentMetadata`. Everything here is plain values: no I/O, no Prefect, no database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Disclosure = Literal["active", "on_request", "withheld", "partial"]
DISCLOSURE_VALUES: tuple[str, ...] = ("active", "on_request", "withheld", "partial")

SecurityLevel = Literal["秘密", "机密", "绝密"]
Region = Literal["body", "table", "textbox", "header", "footer"]
Align = Literal["left", "center", "right", "justify"]
SourceKind = Literal["document", "cover_sheet", "portal_export"]
# What a file really is (sniff.py). doc/wps are read through a conversion to docx, scans
# (png/jpeg/tiff, and PDFs without a real text layer) by OCR.
Format = Literal["docx", "pdf", "doc", "wps", "ofd", "png", "jpeg", "tiff"]
# How a scan's text was got: "read" by OCR; "unavailable": OCR is not installed here;
# "failed": OCR ran and gave no text (or ran out of time).
OcrStatus = Literal["read", "unavailable", "failed"]


class ExtractionError(Exception):
    """The one error type for input that cannot be read. `message` is for a clerk to act on.

    `reason` is a stable machine code: empty, unsupported_type, too_large, corrupt, encrypted,
    zip_bomb, unsafe_xml, unsafe_path, timeout.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return self.message


class OcrNeeded(Exception):
    """Raised by `extract(..., ocr=False)` for a document that can only be read by OCR (an
    image, a PDF without a real text layer): the caller reads it by OCR elsewhere (the worker
    pool's OCR lane), so a scan does not hold the documents read beside it."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as a reader found it, with whatever layout facts the format gives.

    PDF coordinates are pdfplumber's (points, origin top-left). docx lines have no
    coordinates but may carry alignment, indentation (in characters) and table cell position.
    """

    text: str
    region: Region = "body"
    page: int | None = None  # 1-based; None where the format has no pages (docx)
    x0: float | None = None
    x1: float | None = None
    top: float | None = None
    page_width: float | None = None
    font_size: float | None = None
    is_red: bool | None = None  # 发文机关标志 is printed in red
    align: Align | None = None
    indent_chars: float | None = None
    table: tuple[int, int, int] | None = None  # (table index, row, column)
    blank_before: bool = False  # an empty paragraph / vertical gap precedes this line


@dataclass(slots=True)
class ParsedDocument:
    format: Format
    lines: list[Line]
    page_count: int | None
    text_layer: bool
    warnings: list[str] = field(default_factory=list)
    ocr: OcrStatus | None = None  # None: the file's own text was read (or none was tried)
    conversion: str | None = None  # the program that made the text readable, as named


@dataclass(slots=True)
class DocumentMetadata:
    """What was read from one document. Every value that was not found is None (or empty)."""

    format: Format
    file_number: str | None = None  # canonical 鸿政〔2020〕53号
    cited_file_numbers: list[str] = field(default_factory=list)  # canonical, in text order
    disclosure: Disclosure | None = None
    disclosure_reason: str | None = None  # 不公开理由 where given
    title: str | None = None
    issuer: str | None = None  # 发文机关; a joint document's organs joined by one space
    issuers: list[str] = field(default_factory=list)  # 发文机关 of 联合行文, in order
    date: str | None = None  # 成文日期, ISO YYYY-MM-DD
    security_level: SecurityLevel | None = None
    security_period: str | None = None  # 保密期限 as written, e.g. "5年"
    urgency: str | None = None  # 特急 / 加急
    signer: str | None = None  # 签发人
    recipients: str | None = None  # 主送机关
    index_number: str | None = None  # 索引号 as written
    attachments: list[str] = field(default_factory=list)  # 附件说明 items
    copy_number: str | None = None  # 份号
    cc: str | None = None  # 抄送机关
    print_issuer: str | None = None  # 印发机关
    print_date: str | None = None  # 印发日期, ISO
    publisher: str | None = None  # 发布机构 (portal export)
    publish_date: str | None = None  # 发布日期 (portal export), ISO
    source_kind: SourceKind = "document"
    text: str = ""
    page_count: int | None = None
    text_layer: bool = True  # the file has its own text (a scan has none, even once OCR'd)
    ocr: OcrStatus | None = None  # "read": the fields are OCR's suggestions, a person confirms
    conversion: str | None = None  # e.g. "LibreOffice 7.4.7.2: wps -> docx", "Tesseract 5.3.0"
    provenance: dict[str, str] = field(default_factory=dict)  # field -> where it was found
    warnings: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # contradictions that block publishing
    # Template placeholders found where a value belongs (`file_number: XX发〔20XX〕XX号`): the
    # file is a template, not an issued document, and those fields stay empty.
    placeholders: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain values, lists and dicts copied: what dataclasses.asdict gives
        for these field types, without its recursion (called for every document, twice)."""
        out: dict[str, Any] = {}
        for name in _METADATA_FIELDS:
            value = getattr(self, name)
            if isinstance(value, list):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentMetadata:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


_METADATA_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(DocumentMetadata))
