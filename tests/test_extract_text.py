"""Plain text from a person (extractors/text.py): the encodings offices save .txt files in are
read; anything else is refused with what to do, never published as mojibake."""

from __future__ import annotations

import codecs

import pytest

from gongkai.extractors.model import ExtractionError
from gongkai.extractors.text import read_plain_text

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
