"""发文机关 (issuing organs): what an organ's name looks like, and the organs a line names.

An organ's name ends in the word for what it is (人民政府, 办公室, 局, 委员会, 综合组 …). A joint
document (联合行文, GB/T 9704-2012 7.2.4 / 7.3.5.2) prints several: one per line, side by side
separated by spaces, or in the cells of a table; a signature may add whose seal stands for it
(`XX综合组（国家卫生健康委代章）`: the organ is 综合组). Pure string functions.
"""

from __future__ import annotations

import re

# What an organ's name ends with. Longer words first only for readability: `search($)`.
ORG_END = re.compile(
    r"(?:政府|办公室|办公厅|委员会|人大常委会|中央|委|局|厅|部|院|署|办|会|中心|所|站|镇|乡|街道"
    r"|处|科|队|组|公司|集团|指挥部|法院|检察院|大学|学校|银行|医院)$"
)
_SEAL_NOTE = re.compile(r"[(（][^()（）]{1,30}代章[)）]")
_NOT_ORGAN = re.compile(r"[。，,；;：:！？!?《》“”\"0-9]|关于|通知|意见")
_MAX_ORGAN = 40


def is_organ(name: str) -> bool:
    """`石狮市人民政府`, `国务院应对新型冠状病毒肺炎疫情联防联控机制综合组`: a short name without
    sentence punctuation, digits or title words, ending in what an organ is."""
    tight = re.sub(r"\s+", "", name)
    return (
        2 <= len(tight) <= _MAX_ORGAN
        and ORG_END.search(tight) is not None
        and _NOT_ORGAN.search(tight) is None
    )


def without_seal_note(text: str) -> str:
    """`XX综合组（XX委代章）` -> `XX综合组`: the organ signs, the other lends its seal."""
    return _SEAL_NOTE.sub("", text).strip()


def is_seal_note(text: str) -> bool:
    """A line that is only `（国家卫生健康委代章）`."""
    return _SEAL_NOTE.fullmatch(re.sub(r"\s+", "", text)) is not None


def organs_in_line(text: str) -> list[str]:
    """The organs a 版头 or 署名 line names, in reading order; [] if it is not such a line.

    `石狮市财政局　　石狮市教育局` (side by side) gives both; `石狮市人民政府` one. A line whose
    space-separated pieces are not all organs is one name only if the whole of it is one
    (a letter-spaced `石 狮 市 人 民 政 府`)."""
    cleaned = without_seal_note(text.strip())
    pieces = cleaned.split()
    if len(pieces) > 1 and all(is_organ(p) for p in pieces):
        return pieces
    whole = "".join(pieces)
    return [whole] if is_organ(whole) else []


# What a 标志 adds to the organs' names: 文件; 命令 or 令 (GB/T 9704 10.2); 公告, 通告
# (`国家税务总局公告`); a meeting's 纪要 (10.3: `石狮市人民政府常务会议纪要`).
_FLAG_KIND = re.compile(
    r"\s*(?:文\s*件|命\s*令|令|公\s*告|通\s*告|(?:常\s*务|全\s*体|专\s*题|办\s*公|工\s*作|联\s*席)?\s*"
    r"会\s*议\s*纪\s*要|纪\s*要)\s*$"
)


def flag_organs(text: str) -> list[str]:
    """The organs of a 发文机关标志 line: `石狮市财政局 石狮市教育局文件` -> both;
    `泉州市人民政府令`, `石狮市人民政府常务会议纪要` -> 泉州市人民政府, 石狮市人民政府."""
    cleaned = _FLAG_KIND.sub("", text.strip())
    return organs_in_line(cleaned) if cleaned else []


def is_flag_text(text: str) -> bool:
    """`…文件` is a 发文机关标志 only when what precedes 文件 is organs (`石狮市人民政府文件`),
    never a title that ends in 文件 (`2023年中央一号文件`)."""
    tight = re.sub(r"\s+", "", text)
    return tight.endswith("文件") and bool(flag_organs(text))


_TITLE_PREFIX = re.compile(r"^(?P<org>.{2,40}?)\s*(?:关于|(?:19|20)[0-9]{2}\s*年)")


def title_organs(title: str) -> tuple[list[str], str]:
    """The organs a title begins with and the rest of it: `石狮市人民政府关于…的通知`,
    `石狮市人民政府2023年政府信息公开工作年度报告`, `中共中央 国务院关于…的意见`.
    ([], title) when it begins otherwise."""
    text = title.strip()
    m = _TITLE_PREFIX.match(text)
    if m is None or "《" in m.group("org"):
        return [], text
    organs = organs_in_line(m.group("org"))
    return organs, (text[m.end("org"):] if organs else text)


def organs_of_title(title: str) -> list[str]:
    return title_organs(title)[0]
