"""Property tests for 发文字号 normalisation: every spelling of one number is one canonical form,
the canonical form is a fixed point, and running text around a number does not hide it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.extractors.dates import parse_date
from gongkai.extractors.numbers import find_file_numbers, normalize_file_number

# Characters real 机关代字 are made of (none of them is a word that ends a sentence in front of
# a citation, such as 的 or 根据).
CODE_CHARS = "国办发政文函闽狮鸿泉厦财教卫人社建农水商环公安司法审计统科工信民宗委府党字令电明传督"
OPEN = ["〔", "[", "【", "（", "(", "［", "﹝", "〖"]
CLOSE = ["〕", "]", "】", "）", ")", "］", "﹞", "〗"]
FULL_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
SEPARATORS = ["，", "。", "、", "；", "：", "（", "《通知》（", " ", "\n", "“", "…"]

codes = st.text(alphabet=CODE_CHARS, min_size=1, max_size=8)
years = st.integers(min_value=1949, max_value=2100)
serials = st.integers(min_value=1, max_value=99999)
spaces = st.sampled_from(["", " ", "  ", "\u3000", "\t"])
# Random running text: CJK ideographs, no brackets or digits (those could form numbers).
cjk_text = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), max_size=30)


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a drafter's spelling of one number, its canonical form)."""
    code, year, serial = draw(codes), draw(years), draw(serials)
    year_text = str(year)
    serial_text = "0" * draw(st.integers(0, 2)) + str(serial)
    if draw(st.booleans()):
        year_text = year_text.translate(FULL_DIGITS)
    if draw(st.booleans()):
        serial_text = serial_text.translate(FULL_DIGITS)
    di = draw(st.integers(0, len(OPEN) - 1))
    close_i = di if draw(st.booleans()) else draw(st.integers(0, len(CLOSE) - 1))
    di_serial = "第" if draw(st.booleans()) else ""
    parts = [code, OPEN[di], year_text, CLOSE[close_i], di_serial, serial_text, "号"]
    text = "".join(part + draw(spaces) for part in parts).strip()
    return text, f"{code}〔{year}〕{serial}号"


@given(spellings())
@settings(max_examples=300, deadline=None)
def test_every_spelling_maps_to_the_canonical_form(case: tuple[str, str]) -> None:
    text, canonical = case
    assert normalize_file_number(text) == canonical


@given(spellings(), spellings())
@settings(deadline=None)
def test_two_spellings_of_one_number_agree(a: tuple[str, str], b: tuple[str, str]) -> None:
    # Same number drawn twice only by chance; the property is about equality of canonical forms.
    assert (normalize_file_number(a[0]) == normalize_file_number(b[0])) == (a[1] == b[1])


@given(spellings())
@settings(deadline=None)
def test_canonical_form_is_a_fixed_point(case: tuple[str, str]) -> None:
    canonical = normalize_file_number(case[0])
    assert canonical is not None
    assert normalize_file_number(canonical) == canonical
    assert find_file_numbers(canonical) == [canonical]


@given(cjk_text, st.sampled_from(SEPARATORS), spellings(), cjk_text)
@settings(max_examples=300, deadline=None)
def test_found_inside_random_running_text(
    before: str, separator: str, case: tuple[str, str], after: str
) -> None:
    text = before + separator + case[0] + after
    assert find_file_numbers(text) == [case[1]]


@given(st.lists(spellings(), min_size=1, max_size=5), st.sampled_from(SEPARATORS))
@settings(deadline=None)
def test_several_numbers_in_order(cases: list[tuple[str, str]], separator: str) -> None:
    text = "根据" + separator.join(text for text, _ in cases) + "等文件精神"
    assert find_file_numbers(text) == [canonical for _, canonical in cases]


@given(st.text(max_size=40))
@settings(deadline=None)
def test_never_crashes_and_output_is_canonical(text: str) -> None:
    for number in find_file_numbers(text):
        assert normalize_file_number(number) == number
    result = normalize_file_number(text)
    assert result is None or normalize_file_number(result) == result


@given(st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2100, 12, 31)))
@settings(deadline=None)
def test_dates_round_trip_in_every_arabic_form(day: dt.date) -> None:
    y, m, d = day.year, day.month, day.day
    iso = f"{y:04d}-{m:02d}-{d:02d}"
    for text in (f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日", iso, f"{y}.{m}.{d}"):
        assert parse_date(text) == iso


CN_DIGITS = "〇一二三四五六七八九"


def _cn_small(n: int) -> str:
    tens, units = divmod(n, 10)
    if tens == 0:
        return CN_DIGITS[units]
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[units] if units else "")


@given(
    st.dates(min_value=dt.date(1949, 1, 1), max_value=dt.date(2100, 12, 31)),
    st.sampled_from(["〇", "○", "零", "O"]),
)
@settings(deadline=None)
def test_dates_round_trip_in_chinese_numerals(day: dt.date, zero: str) -> None:
    year = "".join(CN_DIGITS[int(c)] for c in str(day.year)).replace("〇", zero)
    text = f"{year}年{_cn_small(day.month)}月{_cn_small(day.day)}日"
    assert parse_date(text) == day.isoformat()
