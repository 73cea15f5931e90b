"""Layouts real offices print that tests/generator.py does not make (tests/office_variants.py):
上行文 with several 签发人, 纪要, 令, 公告, dates typed with spaces or a soft line break,
公开属性 as `【此件依申请公开】` or `信息公开选项：不予公开`, page numbers and a watermark on every
page. Each is built as .docx, as a reportlab PDF and as a LibreOffice PDF of the .docx, and all
six deciding fields must be what a clerk reads in it."""

from __future__ import annotations

import pytest
from office_variants import SIX_FIELDS, Variant, build, soffice, variants

from gongkai.extractors import extract
from gongkai.extractors.fields import read_fields
from gongkai.extractors.issuers import flag_organs
from gongkai.extractors.model import Line, ParsedDocument
from gongkai.extractors.pdf import read_pdf

VARIANTS = variants()
HAVE_SOFFICE = soffice() is not None


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return build([v for v in VARIANTS if v.producer != "libreoffice" or HAVE_SOFFICE])


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_the_six_fields_are_what_a_clerk_reads(variant: Variant,
                                               built: dict[str, bytes]) -> None:
    if variant.name not in built:
        pytest.skip("LibreOffice is not installed")
    meta = extract(built[variant.name], variant.name + variant.suffix)
    got = {name: getattr(meta, name) for name in (*SIX_FIELDS, *variant.also)}
    assert got == {**variant.truth, **variant.also}
    assert meta.conflicts == []


def test_every_kind_of_document_is_made_by_every_producer() -> None:
    layouts = {v.name.removesuffix("-python-docx") for v in VARIANTS
               if v.producer == "python-docx"}
    assert len(layouts) == 25
    for layout in layouts:
        assert {v.producer for v in VARIANTS if v.name.removesuffix(f"-{v.producer}") == layout
                } == {"python-docx", "reportlab", "libreoffice"}


def test_an_electronic_seal_in_the_text_layer_does_not_hide_the_date() -> None:
    """A red seal whose rotated characters stay in the text layer, set over the 署名 and the
    成文日期 (PDFium read one of them into the date line: `2石020年9月 10日`)."""
    plain = next(v for v in VARIANTS if v.name == "spaced-date-reportlab")
    sealed = Variant("sealed-reportlab", plain.blocks, "reportlab", plain.truth,
                     seal="石狮市人民政府办公室")
    data = build([sealed])[sealed.name]
    meta = extract(data, "sealed.pdf")
    assert {name: getattr(meta, name) for name in SIX_FIELDS} == sealed.truth
    assert meta.conflicts == []
    lines = [line.text for line in read_pdf(data).lines]
    plain_lines = [line.text for line in read_pdf(build([plain])[plain.name]).lines]
    # the seal's upright ★ is all that is left of it
    assert [text for text in lines if text not in plain_lines] == ["★"]


# --- the rules, one line-level example each -----------------------------------------------------


def _docx(*texts: str) -> ParsedDocument:
    return ParsedDocument("docx", [Line(t) for t in texts], None, True)


def test_a_flag_names_its_organ_without_the_kind_it_adds() -> None:
    assert flag_organs("泉州市人民政府令") == ["泉州市人民政府"]
    assert flag_organs("石狮市人民政府常务会议纪要") == ["石狮市人民政府"]
    assert flag_organs("国家税务总局公告") == ["国家税务总局"]
    assert flag_organs("市长办公会议纪要") == []  # no organ before the meeting's name


def test_the_last_signer_on_the_number_line_is_not_a_title() -> None:
    meta = read_fields(_docx("福建省财政厅文件", "签发人：陈明远　林海燕",
                             "闽财教〔2021〕18号　　　　黄志强", "关于2021年经费保障情况的报告",
                             "财政部：", "正文。", "福建省财政厅", "2021年3月5日"))
    assert (meta.file_number, meta.signer) == ("闽财教〔2021〕18号", "陈明远 林海燕 黄志强")
    assert meta.title == "关于2021年经费保障情况的报告"


def test_a_note_in_lenticular_brackets_and_a_banji_option_state_the_attribute() -> None:
    head = ("石狮市人民政府文件", "狮政〔2020〕41号", "关于做好有关工作的通知", "各单位：",
            "正文。", "石狮市人民政府", "2020年9月10日")
    assert read_fields(_docx(*head, "【此件依申请公开】")).disclosure == "on_request"
    meta = read_fields(_docx(*head, "信息公开选项：不予公开", "抄送：市委办。"))
    assert (meta.disclosure, meta.provenance["disclosure"]) == ("withheld", "版记")


def test_a_minutes_head_gives_its_issue_number_organ_and_date() -> None:
    meta = read_fields(_docx("石狮市人民政府常务会议纪要", "第12期",
                             "石狮市人民政府办公室　　　　2020年9月10日",
                             "关于研究城市更新有关事项的会议纪要", "会议议定如下。"))
    assert (meta.title, meta.file_number) == ("关于研究城市更新有关事项的会议纪要", None)
    assert (meta.issuer, meta.date) == ("石狮市人民政府办公室", "2020-09-10")
