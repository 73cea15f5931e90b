"""read_fields over hand-built lines, one layout per test (GB/T 9704 documents, cover sheets,
portal exports), plus the small parsers it is built from."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.extractors.fields import (
    find_file_numbers,
    normalize_disclosure,
    normalize_file_number,
    parse_date,
    read_fields,
)
from gongkai.extractors.model import DocumentMetadata, Line, ParsedDocument

HONGSHAN = Path("/work/shared/domain/hongshan-2020-53-work-plan.txt")
PAGE_W = 595.0


def docx(*lines: str | Line) -> DocumentMetadata:
    built = [ln if isinstance(ln, Line) else Line(ln) for ln in lines]
    return read_fields(ParsedDocument("docx", built, None, True))


def pdf(*lines: Line, pages: int = 1) -> DocumentMetadata:
    return read_fields(ParsedDocument("pdf", list(lines), pages, True))


def centre(text: str, **kw: object) -> Line:
    return Line(text, align="center", **kw)  # type: ignore[arg-type]


def at(text: str, top: float, *, size: float = 16.0, x0: float | None = None,
       page: int = 1, red: bool = False, right: bool = False, blank: bool = False) -> Line:
    """A PDF line; centred unless x0 is given or `right`."""
    width = size * len(text.replace(" ", ""))
    if right:
        x0 = 480.0 - width
    if x0 is None:
        x0 = (PAGE_W - width) / 2
    return Line(text, page=page, x0=x0, x1=x0 + width, top=top, page_width=PAGE_W,
                font_size=size, is_red=red, blank_before=blank)


BODY = "为贯彻落实有关精神，结合我镇实际，现将有关事项通知如下，请认真贯彻执行。"


# --- the source document: a portal export ----------------------------------------------------


def _hongshan_lines() -> list[Line]:
    lines: list[Line] = []
    blank = False
    for text in HONGSHAN.read_text(encoding="utf-8").split("\n"):
        if not text.strip():
            blank = True
            continue
        lines.append(Line(text, blank_before=blank))
        blank = False
    return lines


def test_hongshan_portal_export_reads_every_field() -> None:
    meta = read_fields(ParsedDocument("docx", _hongshan_lines(), None, True))
    assert meta.source_kind == "portal_export"
    assert meta.file_number == "鸿政〔2020〕53号"
    assert meta.provenance["file_number"] == "portal:备注/文号"
    assert meta.disclosure == "active"
    assert meta.provenance["disclosure"] == "附注"
    assert meta.index_number == "QZ05908-3000-2020-00010"
    assert meta.issuer == "石狮市鸿山镇人民政府"
    assert meta.date == "2020-09-15"
    assert meta.title == "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知"
    assert meta.cited_file_numbers == [
        "国办发〔2019〕54号", "闽政办〔2020〕26号", "狮政办〔2020〕22号", "国办公开办函〔2020〕2号",
    ]
    assert meta.publisher == "石狮市鸿山镇人民政府"
    assert meta.publish_date == "2020-09-15"
    assert meta.recipients == "各村委会,镇机关各办(中心、站、所)"
    assert meta.security_level is None
    assert meta.conflicts == []
    assert meta.text.startswith("• 索 引 号:QZ05908")
    assert "应当主动公开的政府信息" in meta.text  # body prose, not an attribute


def test_portal_export_attribute_line_disagreeing_with_the_fuzhu_is_a_conflict() -> None:
    meta = docx(
        "• 索 引 号:QZ05908-3000-2020-00011", "• 发布机构:石狮市鸿山镇人民政府",
        "• 公开方式:依申请公开", "• 标题:石狮市鸿山镇人民政府关于做好秋季防火工作的通知",
        "• 备注/文号:鸿政〔2020〕54号", "• 发布日期:2020-09-20",
        "石狮市鸿山镇人民政府关于做好秋季防火工作的通知", "各村委会：", BODY,
        "石狮市鸿山镇人民政府", "2020年9月18日", "（此件主动公开）",
    )
    assert meta.disclosure == "on_request"  # the more restrictive reading wins
    assert any("disclosure" in c for c in meta.conflicts)
    assert meta.date == "2020-09-18"


# --- red-header documents ----------------------------------------------------------------------


def test_centred_file_number_under_the_red_flag_with_full_header() -> None:
    meta = docx(
        Line("000123", align="left"),
        Line("机密★5年", align="left"),
        Line("特急", align="left"),
        centre("石狮市人民政府文件", is_red=True, font_size=36),
        centre("狮政〔２０２０〕第０５３号"),
        centre("石狮市人民政府关于进一步做好政务公开工作的通知", font_size=22, blank_before=True),
        Line("各镇人民政府、街道办事处，市直各单位：", blank_before=True),
        Line("根据《国务院办公厅关于全面推进基层政务公开标准化规范化工作的指导意见》"
             "（国办发〔2019〕54号），结合我市实际，现通知如下。"),
        Line("附件：1.政务公开事项目录", blank_before=True),
        Line("2.政务公开工作联系表"),
        Line("石狮市人民政府", align="right", blank_before=True),
        Line("2020年9月15日", align="right"),
        Line("（此件主动公开）"),
        Line("抄送：市委办公室，市人大常委会办公室。", blank_before=True),
        Line("石狮市人民政府办公室          2020年9月17日印发"),
    )
    assert meta.file_number == "狮政〔2020〕53号"
    assert meta.provenance["file_number"] == "版头"
    assert meta.copy_number == "000123"
    assert (meta.security_level, meta.security_period) == ("机密", "5年")
    assert meta.urgency == "特急"
    assert meta.title == "石狮市人民政府关于进一步做好政务公开工作的通知"
    assert meta.recipients == "各镇人民政府、街道办事处，市直各单位"
    assert meta.cited_file_numbers == ["国办发〔2019〕54号"]
    assert meta.attachments == ["政务公开事项目录", "政务公开工作联系表"]
    assert meta.issuer == "石狮市人民政府"
    assert meta.provenance["issuer"] == "署名"
    assert meta.date == "2020-09-15"  # not the 印发日期
    assert (meta.print_issuer, meta.print_date) == ("石狮市人民政府办公室", "2020-09-17")
    assert meta.cc == "市委办公室，市人大常委会办公室"
    assert meta.disclosure == "active"
    assert meta.source_kind == "document"
    assert meta.conflicts == []


def test_file_number_beside_signer_on_one_pdf_line() -> None:
    meta = pdf(
        at("石狮市鸿山镇人民政府", 120, size=30, red=True),
        Line("鸿政 [2020] 12 号                签发人：王 明", page=1, x0=90, x1=505, top=190,
             page_width=PAGE_W, font_size=16),
        at("石狮市鸿山镇人民政府关于申请政务公开专项经费的请示", 260, size=22),
        at("石狮市人民政府：", 320, x0=90),
        Line(BODY, page=1, x0=90, x1=505, top=350, page_width=PAGE_W, font_size=16),
        at("石狮市鸿山镇人民政府", 600, right=True),
        at("2020年10月8日", 630, right=True),
        at("（此件不予公开）", 660, x0=122),
    )
    assert meta.file_number == "鸿政〔2020〕12号"
    assert meta.signer == "王明"
    assert meta.provenance["file_number"] == "版头/pdf:p1"
    assert meta.title == "石狮市鸿山镇人民政府关于申请政务公开专项经费的请示"
    assert meta.recipients == "石狮市人民政府"
    assert meta.disclosure == "withheld"
    assert meta.provenance["disclosure"] == "附注/pdf:p1"
    assert meta.date == "2020-10-08"
    assert meta.cited_file_numbers == []


def test_file_number_and_signer_in_table_cells() -> None:
    meta = docx(
        centre("石狮市教育局文件", is_red=True),
        Line("狮教〔2021〕7号", region="table", table=(0, 0, 0)),
        Line("签发人：李华", region="table", table=(0, 0, 1)),
        centre("石狮市教育局关于报送2021年政务公开工作总结的报告"),
        Line("石狮市人民政府："),
        Line(BODY),
        Line("石狮市教育局"),
        Line("2021年1月5日"),
        Line("(此件依申请公开)"),
    )
    assert meta.file_number == "狮教〔2021〕7号"
    assert meta.provenance["file_number"] == "版头/table"
    assert meta.signer == "李华"
    assert meta.disclosure == "on_request"
    assert meta.issuer == "石狮市教育局"


def test_file_number_in_a_text_box_of_a_red_header_template() -> None:
    meta = docx(
        Line("石狮市财政局文件", region="textbox", is_red=True),
        Line("狮财【2022】３号", region="textbox"),
        centre("石狮市财政局关于印发《预算公开工作规程》的通知"),
        Line("各预算单位："),
        Line(BODY),
        Line("石狮市财政局"),
        Line("2022年3月1日"),
        Line("（此件主动公开）"),
    )
    assert meta.file_number == "狮财〔2022〕3号"
    assert meta.provenance["file_number"] == "版头/textbox"
    assert meta.title == "石狮市财政局关于印发《预算公开工作规程》的通知"


def test_two_line_title_is_one_title() -> None:
    meta = docx(
        centre("石狮市人民政府办公室文件", is_red=True),
        centre("狮政办〔2020〕88号"),
        centre("石狮市人民政府办公室关于进一步加强政务新媒体"),
        centre("建设管理工作的意见"),
        Line("各镇人民政府、街道办事处：", blank_before=True),
        Line(BODY),
        Line("石狮市人民政府办公室"),
        Line("二〇二〇年十二月三十一日"),
        Line("（此件公开发布）"),
    )
    assert meta.title == "石狮市人民政府办公室关于进一步加强政务新媒体建设管理工作的意见"
    assert meta.date == "2020-12-31"
    assert meta.disclosure == "active"


def test_three_line_pdf_title_by_size_and_centring() -> None:
    meta = pdf(
        at("泉州市人民政府文件", 110, size=32, red=True),
        at("泉政文〔2019〕101号", 180),
        at("泉州市人民政府关于印发泉州市全面推进基层", 240, size=22),
        at("政务公开标准化规范化工作实施方案", 270, size=22),
        at("的通知", 300, size=22),
        at("各县（市、区）人民政府，泉州开发区、泉州台商投资区管委会：", 350, x0=90),
        Line(BODY, page=1, x0=90, x1=505, top=380, page_width=PAGE_W, font_size=16),
        at("泉州市人民政府", 600, right=True),
        at("二○一九年十一月二十日", 630, right=True),
        at("（此件主动公开）", 660, x0=122),
    )
    assert meta.title == (
        "泉州市人民政府关于印发泉州市全面推进基层政务公开标准化规范化工作实施方案的通知"
    )
    assert meta.date == "2019-11-20"
    assert meta.recipients == "各县（市、区）人民政府，泉州开发区、泉州台商投资区管委会"
    assert meta.issuer == "泉州市人民政府"


def test_chinese_numeral_date_with_ling_and_circle_zeros() -> None:
    meta = docx(
        centre("国务院办公厅关于做好政府信息公开工作的通知"),
        Line("各省、自治区、直辖市人民政府："),
        Line(BODY),
        Line("国务院办公厅"),
        Line("二○○六年三月八日"),
    )
    assert meta.date == "2006-03-08"
    assert meta.file_number is None
    assert meta.issuer == "国务院办公厅"


def test_cited_numbers_before_and_after_the_own_never_become_the_own() -> None:
    meta = docx(
        Line("根据省政府统一部署（闽政〔2019〕3号）", region="header"),
        centre("石狮市人民政府文件", is_red=True),
        centre("狮政〔2020〕9号"),
        centre("石狮市人民政府关于转发《福建省人民政府关于加强政务公开工作的通知》的通知"),
        Line("各镇人民政府："),
        Line("现将《福建省人民政府关于加强政务公开工作的通知》（闽政[2020]5号）转发给你们，"
             "同时废止狮政〔2018〕12号文件，请遵照执行。"),
        Line("本通知（狮政〔2020〕9号）自印发之日起施行。"),
        Line("石狮市人民政府"),
        Line("2020年4月2日"),
        Line("（此件主动公开）"),
        Line("福建省人民政府文件", blank_before=True),
        centre("闽政〔2020〕5号"),
        centre("福建省人民政府关于加强政务公开工作的通知"),
    )
    assert meta.file_number == "狮政〔2020〕9号"
    assert meta.cited_file_numbers == [
        "闽政〔2019〕3号", "闽政〔2020〕5号", "狮政〔2018〕12号", "狮政〔2020〕9号",
    ]
    assert meta.date == "2020-04-02"


def test_own_number_is_not_copied_into_cited() -> None:
    meta = docx(
        centre("石狮市人民政府文件", is_red=True), centre("狮政〔2020〕10号"),
        centre("石狮市人民政府关于公布政务公开目录的通知"), Line("各镇人民政府："),
        Line("依据国办发〔2019〕54号文件精神，现予公布。"),
        Line("石狮市人民政府"), Line("2020年4月3日"), Line("（此件主动公开）"),
    )
    assert meta.file_number == "狮政〔2020〕10号"
    assert meta.cited_file_numbers == ["国办发〔2019〕54号"]


def test_no_own_number_means_none_not_a_cited_one() -> None:
    meta = docx(
        centre("石狮市人民政府关于印发《政务公开工作要点》的通知"),
        centre("（狮政〔2020〕30号）"),
        Line("各镇人民政府："),
        Line("根据《国务院办公厅关于印发2020年政务公开工作要点的通知》（国办发〔2020〕17号），"
             "现印发给你们。"),
        Line("石狮市人民政府"), Line("2020年6月1日"), Line("（此件主动公开）"),
    )
    assert meta.file_number is None
    assert meta.cited_file_numbers == ["狮政〔2020〕30号", "国办发〔2020〕17号"]
    assert meta.title == "石狮市人民政府关于印发《政务公开工作要点》的通知"


def test_number_broken_across_two_pdf_lines_is_still_cited() -> None:
    full = dict(page=1, x0=90.0, x1=505.0, page_width=PAGE_W, font_size=16.0)
    meta = pdf(
        at("石狮市人民政府关于加强政策解读工作的通知", 200, size=22),
        at("各镇人民政府：", 260, x0=90),
        Line("根据《国务院办公厅关于全面推进政务公开工作的意见》（国办", top=290, **full),
        Line("发〔2016〕8号）精神，现就加强政策解读工作通知如下。", top=320, page=1, x0=90,
             x1=400, page_width=PAGE_W, font_size=16),
        at("石狮市人民政府", 600, right=True),
        at("2020年5月6日", 630, right=True),
    )
    assert meta.cited_file_numbers == ["国办发〔2016〕8号"]
    assert meta.file_number is None


# --- security markings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marking", "level", "period"),
    [("秘密", "秘密", None), ("机密★1年", "机密", "1年"), ("绝密★启用前", "绝密", "启用前"),
     ("秘密 ★ 10 年", "秘密", "10年")],
)
def test_security_marking_in_the_header(marking: str, level: str, period: str | None) -> None:
    meta = docx(
        Line("000001"), Line(marking), centre("石狮市人民政府文件", is_red=True),
        centre("狮政〔2020〕1号"), centre("石狮市人民政府关于某项工作的决定"),
        Line("各镇人民政府："), Line(BODY), Line("石狮市人民政府"), Line("2020年1月2日"),
    )
    assert (meta.security_level, meta.security_period) == (level, period)
    assert meta.provenance["security_level"] == "版头"


def test_secrecy_words_in_the_body_are_not_a_marking() -> None:
    meta = docx(
        centre("石狮市人民政府关于加强保密工作的通知"), Line("各镇人民政府："),
        Line("涉及国家秘密的政府信息不得公开，机密文件应当妥善保管。"),
        Line("秘密"),
        Line("石狮市人民政府"), Line("2020年2月3日"), Line("（此件主动公开）"),
    )
    assert meta.security_level is None
    assert meta.urgency is None


# --- 公开属性 ----------------------------------------------------------------------------------


def test_no_attribute_stays_none_even_if_the_body_talks_about_disclosure() -> None:
    meta = docx(
        centre("石狮市人民政府关于做好政务公开工作的通知"), Line("各镇人民政府："),
        Line("各单位要集中发布应当主动公开的政府信息，对依申请公开和不予公开的事项要依法办理。"),
        Line("石狮市人民政府"), Line("2020年3月3日"),
    )
    assert meta.disclosure is None
    assert "disclosure" not in meta.provenance
    assert any("公开属性" in w for w in meta.warnings)


def test_fuzhu_with_extra_notes_only_the_disclosure_phrase_decides() -> None:
    meta = docx(
        centre("石狮市人民政府关于开展安全生产检查的通知"), Line("各镇人民政府："), Line(BODY),
        Line("石狮市人民政府"), Line("2020年7月1日"),
        Line("（此件发至县团级）"),
        Line("（联系人：张三，联系电话：0595-88888888；此件依申请公开）"),
    )
    assert meta.disclosure == "on_request"
    assert meta.conflicts == []


def test_two_different_disclosure_phrases_in_the_fuzhu_conflict() -> None:
    meta = docx(
        centre("石狮市人民政府关于某事项的批复"), Line("市财政局："), Line(BODY),
        Line("石狮市人民政府"), Line("2020年7月2日"), Line("（此件主动公开）（此件不予公开）"),
    )
    assert meta.disclosure == "withheld"
    assert len(meta.conflicts) == 1 and "disclosure" in meta.conflicts[0]


def test_fuzhu_and_banji_disagree() -> None:
    meta = docx(
        centre("石狮市人民政府关于某事项的通知"), Line("各镇人民政府："), Line(BODY),
        Line("石狮市人民政府"), Line("2020年7月3日"), Line("（此件主动公开）"),
        Line("公开方式：删减后公开", blank_before=True),
        Line("抄送：市委办公室。"),
        Line("石狮市人民政府办公室 2020年7月6日印发"),
    )
    assert meta.disclosure == "partial"
    assert any("版记" in c and "附注" in c for c in meta.conflicts)
    assert meta.print_date == "2020-07-06"
    assert meta.date == "2020-07-03"


def test_banji_attribute_alone() -> None:
    meta = docx(
        centre("石狮市人民政府关于某事项的通知"), Line("各镇人民政府："), Line(BODY),
        Line("石狮市人民政府"), Line("2020年7月3日"),
        Line("公开属性：主动公开", blank_before=True),
        Line("石狮市人民政府办公室 2020年7月6日印发"),
    )
    assert meta.disclosure == "active"
    assert meta.provenance["disclosure"] == "版记"


# --- cover sheets ------------------------------------------------------------------------------


def cover_rows(rows: list[list[str]], table: int = 0) -> list[Line]:
    out = [Line("石狮市人民政府发文稿纸")]
    for r, cells in enumerate(rows):
        out += [Line(text, region="table", table=(table, r, c)) for c, text in enumerate(cells)]
    return out


def test_cover_sheet_alone_with_spaced_labels_and_reason() -> None:
    meta = docx(*cover_rows([
        ["文  号", "狮政办（2021）第015号", "密  级", "无"],
        ["紧急程度", "加急", "签 发 人", "陈建国  2021年3月2日"],
        ["标  题", "石狮市人民政府办公室关于调整", "", ""],
        ["", "议事协调机构人员的通知", "", ""],
        ["公开属性", "不予公开", "不公开理由", "内部事务信息"],
        ["主办单位", "市政府办公室", "成文日期", "2021年3月2日"],
    ]))
    assert meta.source_kind == "cover_sheet"
    assert meta.file_number == "狮政办〔2021〕15号"
    assert meta.provenance["file_number"] == "cover_sheet:文号"
    assert meta.disclosure == "withheld"
    assert meta.provenance["disclosure"] == "cover_sheet:公开属性"
    assert meta.disclosure_reason == "内部事务信息"
    assert meta.urgency == "加急"
    assert meta.signer == "陈建国"
    assert meta.security_level is None
    assert meta.date == "2021-03-02"
    assert meta.title == "石狮市人民政府办公室关于调整议事协调机构人员的通知"


def test_cover_sheet_check_boxes() -> None:
    meta = docx(*cover_rows([
        ["文号", "鸿政〔2020〕60号"],
        ["标题", "石狮市鸿山镇人民政府关于某事项的通知"],
        ["公开属性", "□主动公开 ☑依申请公开 □不予公开"],
        ["签发人", "林一"],
    ]))
    assert meta.disclosure == "on_request"


def test_cover_sheet_followed_by_the_document_agreeing() -> None:
    meta = docx(
        *cover_rows([
            ["文号", "鸿政〔2020〕61号", "密级", "秘密★1年"],
            ["标题", "石狮市鸿山镇人民政府关于某事项的通知"],
            ["公开属性", "不予公开", "不公开理由", "涉及国家秘密"],
        ]),
        Line("秘密★1年"),
        centre("石狮市鸿山镇人民政府文件", is_red=True),
        centre("鸿政〔2020〕61号"),
        centre("石狮市鸿山镇人民政府关于某事项的通知"),
        Line("各村委会："), Line(BODY), Line("石狮市鸿山镇人民政府"), Line("2020年10月1日"),
        Line("（此件不予公开）"),
    )
    assert meta.source_kind == "cover_sheet"
    assert meta.file_number == "鸿政〔2020〕61号"
    assert meta.provenance["file_number"] == "版头"
    assert meta.disclosure == "withheld"
    assert (meta.security_level, meta.security_period) == ("秘密", "1年")
    assert meta.conflicts == []
    assert meta.cited_file_numbers == []
    assert meta.title == "石狮市鸿山镇人民政府关于某事项的通知"


def test_cover_sheet_and_document_disagree() -> None:
    meta = docx(
        *cover_rows([
            ["文号", "鸿政〔2020〕62号", "密级", "无"],
            ["标题", "石狮市鸿山镇人民政府关于某事项的通知"],
            ["公开属性", "不予公开", "不公开理由", "过程性信息"],
        ]),
        Line("秘密"),
        centre("石狮市鸿山镇人民政府文件", is_red=True),
        centre("鸿政〔2020〕63号"),
        centre("石狮市鸿山镇人民政府关于某事项的通知"),
        Line("各村委会："), Line(BODY), Line("石狮市鸿山镇人民政府"), Line("2020年10月2日"),
        Line("（此件主动公开）"),
    )
    assert meta.disclosure == "withheld"
    assert meta.security_level == "秘密"
    joined = " | ".join(meta.conflicts)
    assert "file_number" in joined and "disclosure" in joined and "security_level" in joined


def test_cover_sheet_as_pdf_lines() -> None:
    meta = pdf(
        at("石狮市人民政府发文稿纸", 80, size=22),
        Line("文 号 狮政〔2020〕70号 密 级 无", page=1, x0=60, x1=530, top=140,
             page_width=PAGE_W, font_size=12),
        Line("标 题 石狮市人民政府关于某专项工作的通知", page=1, x0=60, x1=530, top=170,
             page_width=PAGE_W, font_size=12),
        Line("公开属性 主动公开 签发人 吴二", page=1, x0=60, x1=530, top=200,
             page_width=PAGE_W, font_size=12),
    )
    assert meta.source_kind == "cover_sheet"
    assert meta.file_number == "狮政〔2020〕70号"
    assert meta.disclosure == "active"
    assert meta.signer == "吴二"
    assert meta.title == "石狮市人民政府关于某专项工作的通知"


# --- issuer fallbacks, index numbers, odd inputs -------------------------------------------------


def test_issuer_from_the_flag_when_there_is_no_signature_line() -> None:
    meta = docx(
        centre("石狮市应急管理局文件", is_red=True), centre("狮应急〔2020〕4号"),
        centre("关于开展防汛演练的通知"), Line("各镇应急办："), Line(BODY),
        Line("2020年5月20日"), Line("（此件主动公开）"),
    )
    assert meta.issuer == "石狮市应急管理局"
    assert meta.provenance["issuer"] == "发文机关标志"


def test_issuer_from_the_title() -> None:
    meta = docx(
        centre("石狮市民政局关于公布低保标准的公告"), Line(BODY),
    )
    assert meta.issuer == "石狮市民政局"
    assert meta.provenance["issuer"] == "标题"
    assert meta.date is None


@pytest.mark.parametrize(
    "index", ["QZ05908-3000-2020-00010", "000014349/2020-00072", "11341702486344515H/202110-00013"]
)
def test_index_number_as_written(index: str) -> None:
    meta = docx(
        f"• 索 引 号:{index}", "• 发布机构:国务院办公厅", "• 标题:国务院办公厅关于某事项的通知",
        "• 发文字号:国办发〔2020〕1号", "• 发布日期:2020-01-10",
        "国务院办公厅关于某事项的通知", BODY, "国务院办公厅", "2020年1月8日",
    )
    assert meta.index_number == index
    assert meta.file_number == "国办发〔2020〕1号"
    assert meta.disclosure is None


def test_invalid_calendar_date_is_not_a_date() -> None:
    meta = docx(centre("某局关于某事的通知"), Line(BODY), Line("某局"), Line("2021年2月30日"))
    assert meta.date is None
    assert any("calendar" in w for w in meta.warnings)


def test_image_only_pdf_reads_nothing() -> None:
    meta = read_fields(ParsedDocument("pdf", [], 3, False))
    assert meta.text_layer is False and meta.page_count == 3
    assert meta.file_number is None and meta.disclosure is None
    assert meta.warnings


def test_text_is_every_line_in_reading_order() -> None:
    meta = docx("甲", Line("乙", region="textbox"), Line("丙", region="footer"))
    assert meta.text == "甲\n乙\n丙"


# --- the small parsers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["鸿政[2020]53号", "鸿政【2020】53号", "鸿政（2020）53号", "鸿政(2020)第053号",
     "鸿政〔２０２０〕５３号", "鸿政 〔 2020 〕 53 号", "鸿政［2020］53号", "鸿政﹝2020﹞53号"],
)
def test_normalize_file_number_spellings(spelling: str) -> None:
    assert normalize_file_number(spelling) == "鸿政〔2020〕53号"


@pytest.mark.parametrize(
    "text", ["", "鸿政〔1800〕5号", "鸿政〔2020〕0号", "〔2020〕53号", "2020年9月15日",
             "根据鸿政〔2020〕53号", "鸿政〔2020〕53", "鸿政〔20〕53号"],
)
def test_normalize_file_number_rejects(text: str) -> None:
    assert normalize_file_number(text) is None


def test_normalize_file_number_long_agency_code() -> None:
    assert normalize_file_number("国办公开办函〔2020〕2号") == "国办公开办函〔2020〕2号"


def test_find_file_numbers_in_running_text() -> None:
    text = ("根据国办发〔2019〕54号和闽政办[2020]26号、狮政办（2020）第022号文件，"
            "参照国办公开办函〔2020〕2号执行。")
    assert find_file_numbers(text) == [
        "国办发〔2019〕54号", "闽政办〔2020〕26号", "狮政办〔2020〕22号", "国办公开办函〔2020〕2号",
    ]


@pytest.mark.parametrize(
    ("text", "iso"),
    [("2020年9月15日", "2020-09-15"), ("2020年09月15日", "2020-09-15"),
     ("二〇二〇年九月十五日", "2020-09-15"), ("二○○六年三月八日", "2006-03-08"),
     ("二零零六年三月八日", "2006-03-08"), ("二OO六年三月八日", "2006-03-08"),
     ("二〇二〇年十二月三十一日", "2020-12-31"), ("2020-09-15", "2020-09-15"),
     ("2020.9.15", "2020-09-15"), ("２０２０年９月１５日", "2020-09-15"),
     ("2020 年 9 月 15 日", "2020-09-15"), ("二〇二〇年十月二十日", "2020-10-20"),
     ("2020年2月30日", None), ("二〇二一年二月二十九日", None), ("2020-13-01", None),
     ("没有日期", None)],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    ("text", "value"),
    [("主动公开", "active"), ("（此件公开发布）", "active"), ("此件依申请公开", "on_request"),
     ("不予公开", "withheld"), ("（此件不公开）", "withheld"), ("免予公开", "withheld"),
     ("此件删减后公开", "partial"), ("部分公开", "partial"), ("公开方式：主动公开", "active"),
     ("（此件发至县团级）", None), ("", None), ("主动公开 不予公开", None),
     ("不予主动公开", None)],
)
def test_normalize_disclosure(text: str, value: str | None) -> None:
    assert normalize_disclosure(text) == value


def test_cover_sheet_and_document_titles_or_dates_disagree() -> None:
    meta = docx(
        *cover_rows([
            ["文号", "鸿政〔2020〕64号", "成文日期", "2020年10月5日"],
            ["标题", "石狮市鸿山镇人民政府关于甲事项的通知"],
            ["公开属性", "主动公开", "签发人", "林一"],
        ]),
        centre("石狮市鸿山镇人民政府文件", is_red=True),
        centre("鸿政〔2020〕64号"),
        centre("石狮市鸿山镇人民政府关于乙事项的通知"),
        Line("各村委会："), Line(BODY), Line("石狮市鸿山镇人民政府"), Line("2020年10月6日"),
        Line("（此件主动公开）"),
    )
    assert meta.disclosure == "active"
    joined = " | ".join(meta.conflicts)
    assert "title" in joined and "date" in joined
    assert "file_number" not in joined and "disclosure" not in joined


def test_flag_told_from_title_by_size_when_not_red_and_no_number() -> None:
    meta = pdf(
        at("石狮市人民政府办公室", 100, size=34),
        at("石狮市人民政府办公室关于开展政务公开", 200, size=22),
        at("第三方评估工作的函", 230, size=22),
        at("各镇人民政府：", 280, x0=90),
        Line(BODY, page=1, x0=90, x1=505, top=310, page_width=PAGE_W, font_size=16),
        at("石狮市人民政府办公室", 600, right=True),
        at("2020年11月2日", 630, right=True),
        at("（此件主动公开）", 660, x0=122),
    )
    assert meta.title == "石狮市人民政府办公室关于开展政务公开第三方评估工作的函"
    assert meta.file_number is None
    assert meta.issuer == "石狮市人民政府办公室"


def test_single_attachment_and_fuzhu_without_disclosure() -> None:
    meta = docx(
        centre("石狮市人民政府关于某事项的通知"), Line("各镇人民政府："), Line(BODY),
        Line("附件：石狮市政务公开工作联系人名单（2020年）", blank_before=True),
        Line("石狮市人民政府", blank_before=True), Line("2020年8月8日"), Line("（此件发至县团级）"),
    )
    assert meta.attachments == ["石狮市政务公开工作联系人名单（2020年）"]
    assert meta.disclosure is None
    assert meta.issuer == "石狮市人民政府"


def test_header_part_holds_the_flag_and_number() -> None:
    meta = docx(
        Line("石狮市水利局文件", region="header"),
        Line("狮水〔2020〕21号", region="header"),
        centre("石狮市水利局关于做好汛期值班工作的通知"),
        Line("各水库管理站："), Line(BODY), Line("石狮市水利局"), Line("2020年6月1日"),
        Line("（此件主动公开）"),
    )
    assert meta.file_number == "狮水〔2020〕21号"
    assert meta.provenance["file_number"] == "版头/header"


def test_running_page_header_is_not_the_title() -> None:
    meta = docx(
        Line("石狮市人民政府公报", region="header"),
        centre("石狮市人民政府关于某事项的通知"), Line("各镇人民政府："), Line(BODY),
        Line("石狮市人民政府"), Line("2020年6月2日"), Line("（此件主动公开）"),
    )
    assert meta.title == "石狮市人民政府关于某事项的通知"
    assert meta.file_number is None


def body_line(text: str, top: float, *, x0: float = 80.0, x1: float = 511.0, page: int = 1,
              size: float = 16.0, blank: bool = False) -> Line:
    return Line(text, page=page, x0=x0, x1=x1, top=top, page_width=PAGE_W, font_size=size,
                blank_before=blank)


def test_pdf_wrapped_lines_as_libreoffice_breaks_them() -> None:
    """Shapes seen in LibreOffice PDFs: 主送 wrapped mid-word, a number kept whole on the next
    line (leaving the line above short), the 文号 repeated in every page header, a wrapped
    印发 line and an attachment item wrapped before its number."""
    meta = pdf(
        at("泉教〔2015〕83号", 40, x0=335),
        at("泉州市教育局文件", 116, size=36, red=True),
        at("泉教〔2015〕83号", 252, blank=True),
        at("泉州市教育局关于进一步加强政策解读工作的通知", 322, size=22, blank=True),
        body_line("各县（市、区）教育局，泉州开发区、泉州台商投资区教育部", 422, blank=True),
        body_line("门，市直属各学校：", 450, x1=216),
        body_line("你单位《关于调整村级建制规划的请示》（莲村", 479, x0=112, x1=447),
        body_line("〔2022〕45 号）收悉。参照《福建省财政厅关于印发〈福建省", 508, x0=89),
        body_line("省级财政专项资金管理办法〉的通知》（国", 537, x1=505),
        at("泉教〔2015〕83号", 40, x0=335, page=2),
        body_line("办发〔2008〕36 号）执行。", 115, x1=300, page=2),
        body_line("附件：1、评估指标体系", 404, x0=112, x1=393, page=2, blank=True),
        body_line("2、泉州市人民政府关于推进政务公开工作的意见", 463, x0=161, x1=505, page=2),
        body_line("（泉政文〔2007〕155 号）", 493, x0=170, x1=352, page=2),
        body_line("泉州市教育局", 578, x0=362, x1=457, page=2, blank=True),
        body_line("2015 年 8 月 7 日", 607, x0=334, x1=455, page=2),
        body_line("(此件主动公开)", 636, x0=113, x1=267, page=2),
        body_line("抄送：省教育厅，市政府办公室。", 354, x0=96, x1=300, page=3, size=14,
                  blank=True),
        body_line("泉州市教育局办公室 2015 年 8 月 9 日印", 379, x0=96, x1=507, page=3),
        body_line("发", 408, x0=96, x1=111, page=3),
        pages=3,
    )
    assert meta.file_number == "泉教〔2015〕83号"
    assert meta.recipients == (
        "各县（市、区）教育局，泉州开发区、泉州台商投资区教育部门，市直属各学校"
    )
    assert meta.cited_file_numbers == [
        "莲村〔2022〕45号", "国办发〔2008〕36号", "泉政文〔2007〕155号",
    ]
    assert meta.attachments == [
        "评估指标体系", "泉州市人民政府关于推进政务公开工作的意见（泉政文〔2007〕155号）",
    ]
    assert meta.date == "2015-08-07"
    assert (meta.print_issuer, meta.print_date) == ("泉州市教育局办公室", "2015-08-09")
    assert meta.cc == "省教育厅，市政府办公室"
    assert meta.disclosure == "active"


def test_a_forwarded_documents_fuzhu_is_not_the_forwarders_attribute() -> None:
    meta = docx(
        centre("石狮市人民政府办公室关于转发省政府办公厅某通知的通知"), Line("各镇人民政府："),
        Line("现将《福建省人民政府办公厅关于某事项的通知》转发给你们，请遵照执行。"),
        Line("石狮市人民政府办公室"), Line("2020年5月8日"),
        Line("福建省人民政府办公厅关于某事项的通知", blank_before=True),
        Line(BODY), Line("福建省人民政府办公厅"), Line("2020年4月30日"), Line("（此件主动公开）"),
    )
    assert meta.disclosure is None
    assert meta.date == "2020-05-08"


@pytest.mark.parametrize(
    "lines",
    [["石狮市人民政府关于印发《石狮市政务公开工作方案", "》的通知"],
     ["关于印发石狮市2020年政务公开工作要点", "的通知"],
     ["石狮市人民政府关于印发《石狮市", "生活垃圾分类工作实施方案》的通", "知"]],
)
def test_title_split_where_a_line_ends_like_a_whole_title(lines: list[str]) -> None:
    meta = docx(*(centre(t) for t in lines), Line("各镇人民政府："), Line(BODY))
    assert meta.title == "".join(lines)


def test_pdf_cover_sheet_with_a_wrapped_label_and_checkboxes() -> None:
    def row(text: str, top: float, x0: float = 84.0) -> Line:
        return Line(text, page=1, x0=x0, x1=480, top=top, page_width=PAGE_W, font_size=14)

    meta = pdf(
        at("石狮市人民政府发文稿纸", 115, size=22),
        row("签\u3000\u3000发", 165),
        row("施美玲 会签", 165, x0=163),
        row("人", 185, x0=98),
        row("密 级 非密 缓急 无", 270),
        row("公开属性 □主动公开 ■依申请公开 □删减后公开 □不予公开", 298),
        row("不公开理由 涉及个人隐私（《条例》第十五条）", 327),
        row("文号 狮政〔2021〕141号", 355),
        row("标\u3000题 石狮市人民政府关于印发《石狮市财政专项资金管理办法", 383),
        row("》的通知", 404, x0=164),
        row("主送 各镇人民政府、街道办事处，市直各单位", 431),
        row("印数 47份", 488),
    )
    assert meta.source_kind == "cover_sheet"
    assert meta.issuer == "石狮市人民政府"
    assert meta.signer == "施美玲"
    assert meta.disclosure == "on_request"
    assert meta.disclosure_reason == "涉及个人隐私（《条例》第十五条）"
    assert meta.file_number == "狮政〔2021〕141号"
    assert meta.title == "石狮市人民政府关于印发《石狮市财政专项资金管理办法》的通知"
    assert meta.recipients == "各镇人民政府、街道办事处，市直各单位"
    assert meta.security_level is None and meta.urgency is None


def test_pdf_attachment_gaps_between_digits_and_chinese_are_dropped() -> None:
    meta = pdf(
        at("某局关于某事项的通知", 200, size=22),
        body_line("附件：1．2022 年度政务公开工作考核细则", 300, x0=112, x1=400),
        body_line("2．某通知（闽财〔2006〕88 号）", 330, x0=161, x1=400),
        body_line("3．另一通知（泉政文 〔2007〕 155 号）", 360, x0=161, x1=400),
        body_line("某局", 500, x0=362, x1=457, blank=True),
        body_line("2022 年 7 月 6 日", 530, x0=334, x1=455),
    )
    assert meta.attachments == [
        "2022年度政务公开工作考核细则", "某通知（闽财〔2006〕88号）",
        "另一通知（泉政文 〔2007〕 155 号）",
    ]
    assert meta.date == "2022-07-06"


def test_pdf_cover_sheet_then_the_document_on_the_next_page() -> None:
    def row(text: str, top: float) -> Line:
        return Line(text, page=1, x0=84, x1=480, top=top, page_width=PAGE_W, font_size=14)

    meta = pdf(
        at("石狮市鸿山镇人民政府发文稿纸", 115, size=22),
        row("签发人 林一 会签", 165),
        row("密级 无 缓急 无", 200),
        row("公开属性 依申请公开", 230),
        row("文号 鸿政〔2020〕66号", 260),
        row("标题 石狮市鸿山镇人民政府关于申请某项经费的请示", 290),
        at("石狮市鸿山镇人民政府文件", 140, size=36, red=True, page=2),
        Line("鸿政〔2020〕66号    签发人：林一", page=2, x0=96, x1=427, top=223,
             page_width=PAGE_W, font_size=16, blank_before=True),
        at("石狮市鸿山镇人民政府关于申请某项经费的请示", 294, size=22, page=2, blank=True),
        at("石狮市人民政府：", 394, x0=80, page=2, blank=True),
        body_line(BODY, 422, x0=112, page=2),
        body_line("石狮市鸿山镇人民政府", 578, x0=298, x1=457, page=2, blank=True),
        body_line("2020年10月9日", 607, x0=334, x1=455, page=2),
        body_line("（此件依申请公开）", 636, x0=113, x1=267, page=2),
        pages=2,
    )
    assert meta.source_kind == "cover_sheet"
    assert meta.file_number == "鸿政〔2020〕66号"
    assert meta.provenance["file_number"] == "版头/pdf:p2"
    assert meta.signer == "林一"
    assert meta.disclosure == "on_request"
    assert meta.conflicts == []
    assert meta.date == "2020-10-09"


def test_metadata_to_dict_is_asdict_with_its_own_copies() -> None:
    from dataclasses import asdict

    meta = DocumentMetadata(
        format="pdf", file_number="鸿政〔2020〕53号", cited_file_numbers=["国发〔2019〕1号"],
        disclosure="active", title="工作方案", attachments=["附件一"], text="正文",
        provenance={"file_number": "header"}, warnings=["w"], conflicts=["c"], page_count=3,
    )  # fmt: skip
    as_dict = meta.to_dict()
    assert as_dict == asdict(meta)
    assert list(as_dict) == list(asdict(meta))  # same order of keys
    as_dict["attachments"].append("附件二")
    as_dict["provenance"]["title"] = "body"
    assert meta.attachments == ["附件一"] and meta.provenance == {"file_number": "header"}
    assert DocumentMetadata.from_dict(meta.to_dict()) == meta


# --- real offices' documents: long titles, joint issuers, attachments, templates (issue 12) ---


@pytest.mark.parametrize(
    "lines",
    [["关于印发新型冠状病毒肺炎防控方案", "（第九版）的通知"],
     ["关于印发新型冠状病毒感染诊疗方案", "（试行第十版）"],
     ["国家卫生健康委办公厅关于印发《医疗机构", "预检分诊管理办法》的通知"],
     ["关于进一步深化预算管理制度改革", "的实施意见"],
     ["石狮市人民政府关于印发《石狮市", "2023年政务公开工作要点（试行", "版）》的通知"],
     ["关于2021年上半年财政预算", "执行情况的报告"]],
)
def test_title_over_lines_ends_where_a_title_ends(lines: list[str]) -> None:
    meta = docx(centre("国家卫生健康委员会文件", is_red=True), centre("国卫办医函〔2022〕12号"),
                *(centre(t) for t in lines), Line("各省、自治区、直辖市卫生健康委："), Line(BODY))
    assert meta.title == "".join(lines)
    assert meta.file_number == "国卫办医函〔2022〕12号"


def test_title_version_line_in_a_pdf_even_when_set_smaller() -> None:
    meta = pdf(
        at("关于印发新型冠状病毒感染诊疗方案", 200, size=22),
        at("（试行第十版）", 236, size=18),
        at("各省、自治区、直辖市卫生健康委：", 300, x0=80.0, blank=True),
        at(BODY, 330, x0=80.0),
    )
    assert meta.title == "关于印发新型冠状病毒感染诊疗方案（试行第十版）"


def test_a_fuzhu_under_a_complete_title_is_not_part_of_it() -> None:
    meta = docx(centre("关于做好春节期间安全生产工作的通知"), centre("（此件主动公开）"),
                Line(BODY))
    assert meta.title == "关于做好春节期间安全生产工作的通知"


def test_joint_flag_one_organ_a_line_and_joint_signature() -> None:
    meta = docx(
        centre("中共石狮市委办公室", is_red=True),
        centre("石狮市人民政府办公室", is_red=True),
        centre("文件", is_red=True),
        centre("狮委办〔2021〕7号"),
        centre("中共石狮市委办公室　石狮市人民政府办公室"),
        centre("关于印发《石狮市政务公开工作方案》的通知"),
        Line("各镇党委、政府，市直各单位："),
        Line(BODY),
        Line("中共石狮市委办公室", align="right"),
        Line("石狮市人民政府办公室", align="right"),
        Line("2021年3月2日", align="right"),
        Line("（此件主动公开）"),
    )
    assert meta.issuer == "中共石狮市委办公室 石狮市人民政府办公室"
    assert meta.issuers == ["中共石狮市委办公室", "石狮市人民政府办公室"]
    assert meta.provenance["issuer"] == "署名"
    assert meta.title == ("中共石狮市委办公室 石狮市人民政府办公室"
                          "关于印发《石狮市政务公开工作方案》的通知")
    assert meta.file_number == "狮委办〔2021〕7号"


def test_joint_flag_in_a_table_beside_wen_jian_without_signature() -> None:
    meta = docx(
        Line("石狮市财政局", region="table", table=(0, 0, 0)),
        Line("文件", region="table", table=(0, 0, 1)),
        Line("石狮市教育局", region="table", table=(0, 1, 0)),
        centre("狮财〔2022〕15号"),
        centre("关于下达2022年教育专项资金的通知"),
        Line("各镇（街道）中心校："),
        Line(BODY),
    )
    assert meta.issuers == ["石狮市财政局", "石狮市教育局"]
    assert meta.issuer == "石狮市财政局 石狮市教育局"
    assert meta.provenance["issuer"] == "发文机关标志/table"
    assert meta.file_number == "狮财〔2022〕15号"


def test_joint_signature_side_by_side_and_a_seal_note() -> None:
    meta = docx(
        centre("关于印发新型冠状病毒肺炎防控方案（第九版）的通知"),
        Line("各省、自治区、直辖市应对新冠肺炎疫情联防联控机制："),
        Line(BODY),
        Line("国务院应对新型冠状病毒肺炎疫情联防联控机制综合组"),
        Line("（国家卫生健康委代章）"),
        Line("2022年6月27日"),
    )
    assert meta.issuer == "国务院应对新型冠状病毒肺炎疫情联防联控机制综合组"
    meta = docx(
        centre("关于做好2022年农村危房改造工作的通知"), Line("各镇人民政府："), Line(BODY),
        Line("石狮市住房和城乡建设局　　石狮市财政局"), Line("2022年5月6日"),
    )
    assert meta.issuers == ["石狮市住房和城乡建设局", "石狮市财政局"]


def test_seal_note_on_the_signature_line() -> None:
    meta = docx(
        centre("关于印发防控方案的通知"), Line("各地："), Line(BODY),
        Line("国务院联防联控机制综合组（国家卫生健康委代章）"), Line("2022年6月27日"),
    )
    assert meta.issuer == "国务院联防联控机制综合组"


def test_annual_report_without_signature_takes_the_organ_of_its_title() -> None:
    meta = docx(
        centre("石狮市人民政府2023年政府信息公开工作年度报告"),
        Line("本报告根据《中华人民共和国政府信息公开条例》要求编制。"),
        Line("一、总体情况"),
        Line("2023年，石狮市人民政府坚持以公开为常态、不公开为例外。"),
    )
    assert meta.title == "石狮市人民政府2023年政府信息公开工作年度报告"
    assert meta.issuer == "石狮市人民政府"
    assert meta.issuers == ["石狮市人民政府"]
    assert meta.provenance["issuer"] == "标题"


def test_attachment_without_cover_is_titled_by_its_heading() -> None:
    meta = docx(
        Line("附件2"),
        centre("石狮市政务公开事项标准目录"),
        centre("（2023年版）"),
        Line("根据《石狮市人民政府办公室关于印发工作方案的通知》（狮政办〔2020〕22号）编制。"),
        Line("狮政办〔2020〕22号"),
    )
    assert meta.title == "石狮市政务公开事项标准目录（2023年版）"
    assert meta.file_number is None
    assert meta.cited_file_numbers == ["狮政办〔2020〕22号"]


def test_a_number_under_an_attachment_label_is_not_its_own() -> None:
    meta = docx(Line("附件："), centre("狮政办〔2020〕22号"), centre("工作任务分解表"), Line(BODY))
    assert meta.file_number is None
    assert meta.title == "工作任务分解表"


def test_yi_hao_wen_jian_is_a_title_not_a_flag() -> None:
    meta = docx(centre("2023年中央一号文件"), Line(BODY))
    assert meta.title == "2023年中央一号文件"
    assert meta.issuer is None
    meta = docx(centre("石狮市人民政府文件", is_red=True), centre("狮政〔2023〕1号"),
                centre("关于做好春耕生产工作的通知"), Line("各镇人民政府："), Line(BODY))
    assert meta.issuer == "石狮市人民政府"
    assert meta.title == "关于做好春耕生产工作的通知"


@pytest.mark.parametrize(
    "header",
    [["索 引 号：000014349/2022-00056", "主题分类：卫生、体育", "发文机关：国务院办公厅",
      "成文日期：2022年05月20日", "标　　题：国务院办公厅关于印发“十四五”国民健康规划的通知",
      "发文字号：国办发〔2022〕11号", "发布日期：2022年05月20日"],
     ["**标题：**国务院办公厅关于印发“十四五”国民健康规划的通知", "**文 号：**国办发〔2022〕11号",
      "**发文机关：**国务院办公厅", "**成文日期：**2022-05-20"],
     ["| 索引号 | 000014349/2022-00056 | 主题分类 | 卫生、体育 |", "|---|---|---|---|",
      "| 标题 | 国务院办公厅关于印发“十四五”国民健康规划的通知 |",
      "| 发文字号 | 国办发〔2022〕11号 | 发布日期 | 2022-05-20 |"],
     ["<p>标题：国务院办公厅关于印发“十四五”国民健康规划的通知</p>",
      "<p>文号：国办发〔2022〕11号</p>", "<p>发文机关：国务院办公厅</p>",
      "<p>成文日期：2022年5月20日</p>"]],
)
def test_web_export_header_blocks(header: list[str]) -> None:
    meta = docx(*header, centre("国务院办公厅关于印发“十四五”国民健康规划的通知"),
                Line("各省、自治区、直辖市人民政府，国务院各部委、各直属机构："), Line(BODY),
                Line("国务院办公厅"), Line("2022年4月27日"), Line("（此件公开发布）"))
    assert meta.source_kind == "portal_export"
    assert meta.file_number == "国办发〔2022〕11号"
    assert meta.title == "国务院办公厅关于印发“十四五”国民健康规划的通知"
    assert meta.issuer == "国务院办公厅"
    assert meta.disclosure == "active"


def test_portal_title_that_wrapped_in_print_keeps_its_second_line_and_the_number() -> None:
    lines = _hongshan_lines()
    at_title = next(k for k, ln in enumerate(lines) if "标题:" in ln.text)
    text = lines[at_title].text
    cut = text.index("规范化工作方案")
    lines[at_title:at_title + 1] = [Line(text[:cut]), Line(text[cut:].strip())]
    meta = read_fields(ParsedDocument("pdf", lines, 1, True))
    assert meta.file_number == "鸿政〔2020〕53号"
    assert meta.title == "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知"
    assert meta.conflicts == []


@pytest.mark.parametrize(
    ("head", "found"),
    [(["XX发〔20XX〕XX号"], "file_number: XX发〔20XX〕XX号"),
     (["〔2020〕XX号"], "file_number: 〔2020〕XX号"),
     (["狮政〔2020〕　号"], "file_number: 狮政〔2020〕　号"),
     (["{{份号}}", "狮政〔2020〕3号"], "版头: {{份号}}")],
)
def test_template_placeholders_are_found_and_are_no_values(head: list[str], found: str) -> None:
    meta = docx(
        centre("XXXX人民政府文件", is_red=True), *(centre(h) for h in head),
        centre("XXXX人民政府关于XXXX的通知"), Line("各XX："), Line(BODY),
        Line("XXXX人民政府"), Line("20XX年X月X日"), Line("（此件主动公开）"),
    )
    assert found in meta.placeholders
    assert "issuer: XXXX人民政府" in meta.placeholders
    assert "title: XXXX人民政府关于XXXX的通知" in meta.placeholders
    assert "date: 20XX年X月X日" in meta.placeholders
    assert meta.issuer is None and meta.issuers == [] and meta.title is None
    assert meta.date is None
    assert meta.file_number == ("狮政〔2020〕3号" if "{{份号}}" in head else None)


def test_a_real_document_has_no_placeholders() -> None:
    meta = docx(centre("石狮市人民政府文件", is_red=True), centre("狮政〔2020〕12号"),
                centre("关于加强XX风险防控的通知"), Line("各镇人民政府："),
                Line("请登录http://xxgk.shishi.gov.cn查看。"), Line("石狮市人民政府"),
                Line("2020年9月1日"))
    assert meta.placeholders == ["title: 关于加强XX风险防控的通知"]
    meta = docx(centre("石狮市人民政府文件", is_red=True), centre("狮政〔2020〕12号"),
                centre("关于做好防汛工作的通知"), Line("各镇人民政府："), Line(BODY),
                Line("石狮市人民政府"), Line("二〇〇六年三月八日"))
    assert meta.placeholders == []
    assert meta.date == "2006-03-08"


def test_gov_portal_page_with_breadcrumbs_and_the_number_under_the_title() -> None:
    meta = docx(
        "首页 > 政府信息公开 > 政策文件", "索 引 号：000014349/2022-00056　　主题分类：卫生、体育",
        "发文机关：国务院办公厅　　成文日期：2022年04月27日",
        "标　　题：国务院办公厅关于印发“十四五”国民健康规划的通知",
        "发文字号：国办发〔2022〕11号　　发布日期：2022年05月20日", "字号：大 中 小 打印本页",
        centre("国务院办公厅关于印发“十四五”国民健康规划的通知"), centre("国办发〔2022〕11号"),
        Line("各省、自治区、直辖市人民政府，国务院各部委、各直属机构："),
        Line("《“十四五”国民健康规划》已经国务院同意，现印发给你们，请认真贯彻执行。"),
        Line("国务院办公厅", align="right"), Line("2022年4月27日", align="right"),
        Line("（此件公开发布）"),
    )
    assert meta.title == "国务院办公厅关于印发“十四五”国民健康规划的通知"
    assert meta.file_number == "国办发〔2022〕11号"
    assert meta.cited_file_numbers == []
    assert meta.index_number == "000014349/2022-00056"
    assert (meta.issuer, meta.date, meta.disclosure) == ("国务院办公厅", "2022-04-27", "active")
    assert meta.recipients == "各省、自治区、直辖市人民政府，国务院各部委、各直属机构"
    assert meta.conflicts == []


def test_joint_title_with_a_date_note_and_no_signature() -> None:
    meta = docx(
        centre("中共中央 国务院关于做好2023年全面推进乡村振兴重点工作的意见"),
        centre("（2023年1月2日）"),
        Line("党的二十大擘画了以中国式现代化全面推进中华民族伟大复兴的宏伟蓝图。"),
    )
    assert meta.title == "中共中央 国务院关于做好2023年全面推进乡村振兴重点工作的意见"
    assert meta.issuers == ["中共中央", "国务院"]
    assert meta.issuer == "中共中央 国务院"
    assert meta.date == "2023-01-02"


def test_a_signature_wrapped_over_two_lines_with_its_seal_note() -> None:
    meta = docx(
        centre("关于印发新型冠状病毒感染防控方案（第十版）的通知"),
        Line("各省、自治区、直辖市应对新冠病毒感染疫情联防联控机制："), Line(BODY),
        Line("国务院应对新型冠状病毒感染疫情", align="right"),
        Line("联防联控机制综合组", align="right"),
        Line("（国家卫生健康委代章）", align="right"), Line("2023年1月7日", align="right"),
    )
    assert meta.issuer == "国务院应对新型冠状病毒感染疫情联防联控机制综合组"
    assert meta.date == "2023-01-07"


def test_a_portal_title_without_the_organs_is_the_same_title() -> None:
    lines = _hongshan_lines()
    at_title = next(k for k, ln in enumerate(lines) if "标题:" in ln.text)
    lines[at_title] = Line(lines[at_title].text.replace("标题:石狮市鸿山镇人民政府", "标题:"))
    meta = read_fields(ParsedDocument("docx", lines, None, True))
    assert meta.conflicts == []
    assert meta.issuer == "石狮市鸿山镇人民政府"
    assert meta.title == "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知"
    assert meta.provenance["title"] == "标题"


def test_a_saved_web_page_without_labels_starts_at_its_title() -> None:
    meta = docx(
        "首页 > 信息公开 > 政策文件", "字号：大 中 小 打印本页 关闭窗口",
        centre("石狮市人民政府办公室关于做好2024年防汛工作的通知"),
        Line("各镇人民政府、街道办事处："), Line(BODY),
        Line("石狮市人民政府办公室", align="right"), Line("2024年4月2日", align="right"),
        Line("（此件主动公开）"),
    )
    assert meta.title == "石狮市人民政府办公室关于做好2024年防汛工作的通知"
    assert (meta.issuer, meta.date, meta.disclosure) == ("石狮市人民政府办公室", "2024-04-02",
                                                         "active")


def test_kangxi_radicals_of_a_pdf_text_layer_read_as_the_ideographs_printed() -> None:
    meta = pdf(
        at("⽯狮市⼈民政府⽂件", 100, size=36, red=True),
        at("狮政〔2020〕12号", 160),
        at("⽯狮市⼈民政府关于做好防汛⼯作的通知", 220, size=22),
        at("各镇⼈民政府：", 280, x0=80.0, blank=True),
        at(BODY, 310, x0=80.0),
        at("⽯狮市⼈民政府", 400, right=True, blank=True),
        at("2020年9⽉15⽇", 430, right=True),
        at("（此件主动公开）", 460, x0=112.0),
    )
    assert meta.issuer == "石狮市人民政府"
    assert meta.title == "石狮市人民政府关于做好防汛工作的通知"
    assert meta.date == "2020-09-15"
    assert "⽂" not in meta.text and "石狮市人民政府文件" in meta.text


def test_an_organ_over_a_title_with_its_number_under_the_title_is_no_flag() -> None:
    meta = docx(centre("国务院办公厅"), centre("关于印发“十四五”国民健康规划的通知"),
                centre("国办发〔2022〕11号"), Line("各省、自治区、直辖市人民政府："), Line(BODY))
    assert meta.title == "国务院办公厅关于印发“十四五”国民健康规划的通知"
    assert meta.file_number == "国办发〔2022〕11号"
    assert meta.issuer == "国务院办公厅"


def test_a_saved_web_page_held_in_one_table_cell() -> None:
    page = ["索 引 号：000014349/2022-00056", "发文机关：国务院办公厅",
            "成文日期：2022年04月27日", "标　　题：国务院办公厅关于印发“十四五”国民健康规划的通知",
            "发文字号：国办发〔2022〕11号", "发布日期：2022年05月20日",
            "国务院办公厅关于印发“十四五”国民健康规划的通知", "各省、自治区、直辖市人民政府：",
            BODY, "国务院办公厅", "2022年4月27日", "（此件公开发布）"]
    meta = docx(*(Line(t, region="table", table=(0, 0, 0)) for t in page))
    assert meta.source_kind == "portal_export"
    assert (meta.file_number, meta.index_number) == ("国办发〔2022〕11号", "000014349/2022-00056")
    assert meta.title == "国务院办公厅关于印发“十四五”国民健康规划的通知"
    assert (meta.issuer, meta.date, meta.disclosure) == ("国务院办公厅", "2022-04-27", "active")
