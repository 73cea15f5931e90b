"""Characters a PDF's text layer gives for the ones printed: Kangxi radicals (U+2F00-U+2FD5),
CJK radicals (U+2E80-U+2EF3) and compatibility ideographs (U+F900-U+FAFF).

Word and WPS export some fonts with a ToUnicode map onto these look-alikes: the page shows
文件 and 人民政府, the text layer holds ⽂件 and ⼈民政府, and neither 文件, an organ's name
nor a date (2020年9⽉15⽇) would be found. Each is read as the ideograph it stands for (its
NFKC form). Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from gongkai.extractors.model import Line

_RANGES = (range(0x2E80, 0x2EF4), range(0x2F00, 0x2FD6), range(0xF900, 0xFB00))
LOOK_ALIKES: dict[int, str] = {
    cp: form
    for block in _RANGES
    for cp in block
    if len(form := unicodedata.normalize("NFKC", chr(cp))) == 1 and form != chr(cp)
}


# Most lines hold none of them: one search in C tells, before a lookup per character.
_ANY_LOOK_ALIKE = re.compile(
    "[" + "".join(f"{chr(r.start)}-{chr(r.stop - 1)}" for r in _RANGES) + "]"
)


def printed(text: str) -> str:
    """`text` with every look-alike read as the ideograph it stands for."""
    return text.translate(LOOK_ALIKES)


def printed_lines(lines: list[Line]) -> list[Line]:
    out: list[Line] = []
    for line in lines:
        if _ANY_LOOK_ALIKE.search(line.text) is None:
            out.append(line)
            continue
        text = line.text.translate(LOOK_ALIKES)
        out.append(line if text == line.text else replace(line, text=text))
    return out
