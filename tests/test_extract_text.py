"""Plain text from a person (extractors/text.py): the encodings offices save .txt files in are
read; anything else is refused with what to do, never published as mojibake. File names that
were not UTF-8 on disk become readable text."""

from __future__ import annotations

import codecs
import os

import pytest

from gongkai.extractors.model import ExtractionError
from gongkai.extractors.text import read_plain_text, readable_name

TEXT = "鸿山镇人民政府关于做好政务公开工作的通知\r\n正文（个人信息已删除），2020年9月15日。\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),  # Notepad's "UTF-8 with BOM"
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),  # Notepad's "Unicode"
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (TEXT.encode("gbk"), "gb18030"),  # "ANSI" on a Chinese Windows
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_the_encodings_offices_save_text_in(data: bytes, encoding: str) -> None:
    read = read_plain_text(data, "删减稿.txt")
    assert read.text == TEXT and read.encoding == encoding


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01binary\x00data",  # NUL and other controls: not a text file
        b"caf\xe9",  # Latin-1: neither UTF-8 nor complete GB18030
        b"\xff\xfe\x00",  # a UTF-16 BOM and half a character
        "正文\x07".encode(),
    ],
)
def test_bytes_that_are_not_text_are_refused_with_what_to_do(data: bytes) -> None:
    with pytest.raises(ExtractionError) as caught:
        read_plain_text(data, "删减稿.txt")
    assert caught.value.reason == "unsupported_type"
    assert "删减稿.txt" in caught.value.message and "GBK" in caught.value.message


def test_file_names_that_were_not_utf8_on_disk_become_readable() -> None:
    # Copied from a Chinese Windows share or USB stick: the name's bytes are GBK, which Python
    # hands over with lone surrogates (neither storable nor printable).
    on_disk = os.fsdecode("关于印发工作方案的通知.docx".encode("gbk"))
    assert on_disk != "关于印发工作方案的通知.docx"
    assert readable_name(on_disk) == "关于印发工作方案的通知.docx"
    assert readable_name("鸿政〔2020〕53号.pdf") == "鸿政〔2020〕53号.pdf"  # UTF-8 already
    assert readable_name(os.fsdecode(b"caf\xe9.pdf")) == "caf\\xe9.pdf"  # not GB18030 either
    assert readable_name("bad\ud800.pdf") == "bad\\ud800.pdf"  # never bytes on a disk
    # In a path, each segment by itself: a UTF-8 folder around a GBK name stays as it is.
    assert readable_name(f"/home/办公室/{on_disk}") == "/home/办公室/关于印发工作方案的通知.docx"
    for name in (on_disk, os.fsdecode(b"caf\xe9.pdf"), "bad\ud800.pdf"):
        readable_name(name).encode("utf-8")  # storable and printable
