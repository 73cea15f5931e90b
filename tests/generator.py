"""Generator of realistic official documents (公文) with known truth, for the extraction tests.

Every document is built from one `Content` (what the drafter wrote: 文号 as typed, title lines,
附注 ...) whose `expected` dict is the truth: what `gongkai.extractors.extract` must read back
(文号 canonical, dates ISO, ...). The content is laid out as a list of layout blocks (paragraphs,
tables, text boxes, page headers, rules) following GB/T 9704-2012, then rendered by one producer:

- ``python-docx``  .docx with real font names (方正小标宋简体, 仿宋_GB2312), sizes, red 版头
- ``reportlab``    .pdf drawn directly (CID font STSong-Light or WenQuanYi Zen Hei), positions
                   like a printed 公文: centred 版头, right-aligned 成文日期, page numbers
- ``libreoffice``  .pdf converted from a generated .docx by ``soffice --headless`` (one batch)
- ``image``        .pdf holding only a scanned-looking image of a page: no text layer
- ``ocr``          .pdf of page images with invisible OCR text over them (a searchable scan)

Layouts (``category``): red_header (文号 centred), signer_line (文号 beside 签发人), number_table,
textbox (w:txbxContent, VML or Word 2010 wps with VML fallback), page_header, letter (函),
no_number (cites others only), oa_template (content controls, a CREATEDATE field),
tracked_changes (w:del/w:ins, a comment), hidden_text (w:vanish), conflict (the attribute
contradicts itself), cover_sheet (发文稿纸, words or check boxes), cover_sheet_with_body,
portal_export (the shape of hongshan-2020-53-work-plan.txt; the first of each producer is the
real one), image_only. ``features`` in each truth file name the variants it exercises.

Deterministic: a document depends only on the seed and its index.

Usage: ``python tests/generator.py --out DIR [--count N] [--seed S]``
       (``--no-libreoffice`` leaves out the LibreOffice-made PDFs)
       ``python tests/generator.py --samples samples/``

Truth conventions (the ``expected`` dict of each ``*.truth.json``):
- ``file_number`` / ``cited_file_numbers``: canonical 机关代字〔年份〕序号号;
  cited ones in text order, each once.
- ``title``: the title lines joined without separator; a portal export's 标题 field.
- ``issuer``: the 发文机关 as in the 署名 (a cover sheet alone: the agency of "XX发文稿纸";
  a portal export: 发布机构).
- ``recipients``: the 主送机关 line as written, without the closing colon.
- ``attachments``: the 附件说明 items without their numbering ("1．") and closing punctuation.
- ``cc``: the 抄送 list as written without "抄送：" and the closing "。".
- ``date``/``print_date``/``publish_date``: ISO. ``security_period`` as written ("5年").
- ``disclosure_reason``: the cover sheet's 不公开理由 where given, else null.
- An image-only PDF: ``text_layer`` false and every other field null/empty.
- Tracked changes are accepted, hidden text is not text, a field counts by its cached result.
- ``conflict: true`` (top level): the attribute contradicts itself; the document must be
  reported in ``conflicts`` and never read as active (``expected["disclosure"]`` is null).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal
from xml.sax.saxutils import quoteattr

DEFAULT_SEED = 20200915
DATA_DIR = Path(__file__).resolve().parent / "data"
HONGSHAN_TXT = DATA_DIR / "hongshan-2020-53-work-plan.txt"

EXPECTED_FIELDS: tuple[str, ...] = (
    "file_number", "cited_file_numbers", "disclosure", "disclosure_reason", "title", "issuer",
    "issuers", "placeholders", "date", "security_level", "security_period", "urgency", "signer",
    "recipients", "index_number", "attachments", "copy_number", "cc", "print_issuer", "print_date",
    "publisher", "publish_date", "source_kind", "text_layer",
)
LIST_FIELDS = frozenset({"cited_file_numbers", "attachments", "issuers", "placeholders"})

Producer = Literal["python-docx", "reportlab", "libreoffice", "image", "ocr"]


class GeneratorError(RuntimeError):
    """The corpus cannot be built (e.g. LibreOffice missing or failing)."""


# ---------------------------------------------------------------------------------------------
# Domain vocabulary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    name: str  # 发文机关全称 (署名)
    codes: tuple[str, ...]  # 机关代字 of its numbered documents
    letter_code: str  # 机关代字 of its letters (函)
    place: str  # 鸿山镇 / 石狮市 / 泉州市 / 福建省
    we: str  # how it says "we": 我镇 / 我市 / 我省
    recipients: tuple[str, ...]  # 主送机关 of its downward documents
    superior: str  # where its 请示/报告 go
    subordinates: tuple[tuple[str, str], ...]  # (name, 机关代字) of offices it answers (批复)
    print_office: str  # 印发机关
    cc: tuple[str, ...]  # 抄送 lists
    index_code: str  # 索引号 body code
    short: str  # name on a portal's 来源 line


ISSUERS: tuple[Issuer, ...] = (
    Issuer("石狮市鸿山镇人民政府", ("鸿政",), "鸿政函", "鸿山镇", "我镇",
           ("各村委会，镇机关各办（中心、站、所）", "各村（社区），镇直各单位"),
           "石狮市人民政府", (("伍堡村民委员会", "伍村"), ("东埔村民委员会", "东村")),
           "石狮市鸿山镇党政办公室", ("市委办，市政府办，市政务公开办", "市政府办，市财政局"),
           "QZ05908", "鸿山镇人民政府"),
    Issuer("石狮市蚶江镇人民政府", ("蚶政",), "蚶政函", "蚶江镇", "我镇",
           ("各村（社区），镇直各单位",), "石狮市人民政府",
           (("莲埭村民委员会", "莲村"),), "石狮市蚶江镇党政办公室",
           ("市委办，市政府办",), "QZ05910", "蚶江镇人民政府"),
    Issuer("石狮市人民政府", ("狮政", "狮政文"), "狮政函", "石狮市", "我市",
           ("各镇人民政府、街道办事处，市直各有关单位", "各镇人民政府、街道办事处，市直各单位"),
           "泉州市人民政府", (("鸿山镇人民政府", "鸿政"), ("石狮市教育局", "狮教")),
           "石狮市人民政府办公室",
           ("市委各部门，市人大常委会办公室，市政协办公室，市法院，市检察院",
            "泉州市人民政府办公室，市委办"), "QZ00101", "石狮市人民政府"),
    Issuer("石狮市人民政府办公室", ("狮政办",), "狮政办函", "石狮市", "我市",
           ("各镇人民政府、街道办事处，市直各有关单位",), "石狮市人民政府",
           (("鸿山镇人民政府", "鸿政"),), "石狮市人民政府办公室",
           ("市委办，市人大办，市政协办",), "QZ00102", "市政府办"),
    Issuer("石狮市教育局", ("狮教",), "狮教函", "石狮市", "我市",
           ("各镇（街道）中心校，市直属各学校", "各中小学、幼儿园"), "石狮市人民政府",
           (("石狮市第一中学", "狮一中"),), "石狮市教育局办公室",
           ("泉州市教育局，市政府办",), "QZ00315", "市教育局"),
    Issuer("泉州市人民政府", ("泉政", "泉政文"), "泉政函", "泉州市", "我市",
           ("各县（市、区）人民政府，泉州开发区、泉州台商投资区管委会，市直各单位",),
           "福建省人民政府", (("石狮市人民政府", "狮政"), ("晋江市人民政府", "晋政")),
           "泉州市人民政府办公室", ("市委各部门，泉州军分区，市人大常委会办公室，市政协办公室",),
           "QZ00001", "泉州市人民政府"),
    Issuer("泉州市人民政府办公室", ("泉政办",), "泉政办函", "泉州市", "我市",
           ("各县（市、区）人民政府，泉州开发区、泉州台商投资区管委会，市直各单位",),
           "泉州市人民政府", (("石狮市人民政府", "狮政"),), "泉州市人民政府办公室",
           ("市委办公室，市人大常委会办公室，市政协办公室",), "QZ00002", "市政府办公室"),
    Issuer("泉州市教育局", ("泉教",), "泉教函", "泉州市", "全市",
           ("各县（市、区）教育局，泉州开发区、泉州台商投资区教育部门，市直属各学校",),
           "泉州市人民政府", (("石狮市教育局", "狮教"),), "泉州市教育局办公室",
           ("省教育厅，市政府办公室",), "QZ00310", "市教育局"),
    Issuer("泉州市财政局", ("泉财",), "泉财函", "泉州市", "全市",
           ("各县（市、区）财政局，市直各预算单位",), "泉州市人民政府",
           (("石狮市财政局", "狮财"),), "泉州市财政局办公室", ("省财政厅，市政府办公室",),
           "QZ00320", "市财政局"),
    Issuer("福建省财政厅", ("闽财",), "闽财函", "福建省", "全省",
           ("各设区市财政局，平潭综合实验区财政金融局，省直各单位",), "福建省人民政府",
           (("泉州市财政局", "泉财"),), "福建省财政厅办公室", ("财政部，省人民政府办公厅",),
           "FJ00410", "省财政厅"),
    Issuer("福建省教育厅", ("闽教",), "闽教函", "福建省", "全省",
           ("各设区市教育局，平潭综合实验区社会事业局，省属各高等学校",), "福建省人民政府",
           (("泉州市教育局", "泉教"),), "福建省教育厅办公室", ("教育部办公厅，省人民政府办公厅",),
           "FJ00420", "省教育厅"),
    Issuer("福建省人民政府办公厅", ("闽政办",), "闽政办函", "福建省", "全省",
           ("各市、县（区）人民政府，平潭综合实验区管委会，省人民政府各部门、各直属机构",),
           "福建省人民政府", (("泉州市人民政府", "泉政"),), "福建省人民政府办公厅",
           ("省委办公厅，省人大常委会办公厅，省政协办公厅",), "FJ00002", "省政府办公厅"),
    Issuer("晋江市人民政府", ("晋政",), "晋政函", "晋江市", "我市",
           ("各镇人民政府、街道办事处，市直各单位",), "泉州市人民政府",
           (("晋江市教育局", "晋教"),), "晋江市人民政府办公室", ("市委办，市人大办，市政协办",),
           "QZ00501", "晋江市人民政府"),
    Issuer("泉州市生态环境局", ("泉环",), "泉环函", "泉州市", "全市",
           ("各县（市、区）生态环境局，市直有关单位",), "泉州市人民政府",
           (("石狮市生态环境局", "狮环"),), "泉州市生态环境局办公室",
           ("省生态环境厅，市政府办公室",), "QZ00330", "市生态环境局"),
)

PEOPLE = ("王建国", "林志强", "陈文辉", "黄晓明", "吴振华", "蔡清泉", "许丽娟", "郑海峰",
          "李明哲", "张思远", "洪少杰", "施美玲", "邱伟民", "杨丽华")

# Cited documents: (title as cited inside 《》, 机关代字, year, serial).
CITED_POOL: tuple[tuple[str, str, int, int], ...] = (
    ("国务院办公厅关于全面推进基层政务公开标准化规范化工作的指导意见", "国办发", 2019, 54),
    ("福建省人民政府办公厅关于全面推进基层政务公开标准化规范化工作的通知", "闽政办", 2020, 26),
    ("石狮市人民政府办公室关于印发石狮市全面推进基层政务公开标准化规范化工作方案的通知",
     "狮政办", 2020, 22),
    ("国务院办公厅印发〈关于全面推进政务公开工作的意见〉实施细则的通知", "国办发", 2016, 80),
    ("国务院办公厅政府信息与政务公开办公室关于转发〈江苏省政府信息公开申请办理答复规范〉的函",
     "国办公开办函", 2020, 2),
    ("福建省人民政府关于进一步加强安全生产工作的意见", "闽政", 2018, 12),
    ("泉州市人民政府办公室关于做好农村危房改造工作的通知", "泉政办", 2020, 31),
    ("福建省财政厅关于加强省级财政专项资金管理的通知", "闽财", 2019, 108),
    ("泉州市教育局关于做好义务教育阶段招生入学工作的通知", "泉教", 2021, 7),
    ("国务院关于印发国家职业教育改革实施方案的通知", "国发", 2019, 4),
    ("国务院办公厅关于印发2020年政务公开工作要点的通知", "国办发", 2020, 17),
    ("福建省人民政府关于印发福建省生活垃圾分类工作实施方案的通知", "闽政", 2017, 43),
    ("泉州市人民政府关于进一步优化营商环境的若干意见", "泉政文", 2019, 116),
    ("石狮市人民政府关于印发石狮市防汛防台风应急预案的通知", "狮政", 2018, 9),
    ("国务院办公厅关于施行〈中华人民共和国政府信息公开条例〉若干问题的意见", "国办发", 2008, 36),
    ("国务院关于加强市县政府依法行政的决定", "国发", 2008, 17),
    ("福建省人民政府关于进一步加强政府信息公开工作的通知", "闽政", 2008, 21),
    ("泉州市人民政府关于推进政务公开工作的意见", "泉政文", 2007, 155),
    ("福建省财政厅关于印发〈福建省省级财政专项资金管理办法〉的通知", "闽财", 2006, 88),
    ("石狮市人民政府关于加强农村危房改造工作的通知", "狮政", 2009, 15),
)

PLAN_SUBJECTS = ("政务公开标准化规范化工作方案", "政务公开工作要点",
                 "安全生产专项整治三年行动实施方案",
                 "农村危房改造实施细则", "财政专项资金管理办法", "防汛防台风应急预案",
                 "生活垃圾分类工作实施方案", "优化营商环境若干措施",
                 "政府信息公开申请办理工作规程", "重大行政决策程序规定")
NOTICE_SUBJECTS = ("做好{y}年春节期间安全生产工作", "开展{y}年度政务公开工作考核",
                   "进一步加强政策解读工作", "调整{p}防汛抗旱指挥部成员",
                   "做好{y}年秋季学期开学工作", "开展{y}年度财政专项资金绩效评价工作")
OPINION_SUBJECTS = ("进一步推进基层政务公开标准化规范化工作", "加强政府信息公开属性源头认定工作",
                    "加快推进农村生活污水治理")
REQUEST_SUBJECTS = ("申请拨付{y}年农村危房改造补助资金", "{p}社区卫生服务中心建设项目用地",
                    "调整{p}村级建制规划", "申请追加{y}年度政务公开专项经费")
REPORT_SUBJECTS = ("{y}年政府信息公开工作情况", "{p}安全生产大检查情况",
                   "{y}年上半年财政预算执行情况")
REPLY_SUBJECTS = (("同意{s}调整村级建制规划", "调整村级建制规划"),  # (批复, the 请示 it answers)
                  ("{s}申请拨付农村危房改造补助资金", "申请拨付农村危房改造补助资金"))
LETTER_SUBJECTS = ("商请协助开展政务公开第三方评估工作", "征求《{p}政务公开事项标准目录》意见",
                   "商请提供{y}年度财政专项资金使用情况")
ATTACHMENT_ITEMS = ("{y}年度政务公开工作考核细则", "政务公开事项标准目录", "工作任务分解表",
                    "联系人回执", "{p}农村危房改造对象名单", "专项资金分配表", "评估指标体系")
DRAFTING_UNITS = ("党政办", "财政所", "办公室", "政务公开办", "规划建设办", "综合科", "法规科")
REASONS = ("属于内部事务信息（《条例》第十六条）", "属于过程性信息（《条例》第十六条）",
           "涉及个人隐私（《条例》第十五条）", "涉及商业秘密，公开会损害第三方合法权益",
           "行政执法案卷信息")

# Filler paragraphs. {cite} takes the next cited document; the texts mention 主动公开, 不予公开,
# 依申请公开, 国家秘密 and dates on purpose: none of them is an attribute or the 成文日期.
BODY_FILLERS = (
    "一、提高思想认识。各单位要严格按照《中华人民共和国政府信息公开条例》要求，坚持“以公开为常态、"
    "不公开为例外”原则，应当主动公开的政府信息要在形成或者变更之日起20个工作日内及时公开。",
    "二、落实源头认定。文件起草时要明确公开属性，对拟不予公开的要依法依规说明理由；对依申请公开的"
    "政府信息，要做好登记、审核、办理、答复、送达、归档等各环节工作。",
    "三、严守保密纪律。涉及国家秘密的信息不得公开，公开前要严格履行保密审查程序，确保不发生"
    "泄密事件。对不予公开的政府信息要进行定期评估审查，因情况变化可以公开的要及时公开。",
    "四、加强督促检查。请各单位于{y}年{m}月{d}日前将工作开展情况报送{office}，"
    "联系人：{person}，联系电话：0595-8870{tel}。",
    "五、规范平台建设。以政府门户网站作为政务公开第一平台，设置政府信息公开专栏，参照《{cite}》"
    "（{cite_no}）执行，做到有申请必有答复。",
    "八、规范属性标注。公文应当在成文日期下一行标注公开属性，如“（此件主动公开）”"
    "“（此件依申请公开）”“（此件不予公开）”，拟不予公开的要在发文稿纸中说明理由。",
    "六、强化资金保障。各级财政要将所需经费列入年度预算，专款专用，严禁挤占挪用，"
    "资金使用情况要按规定公开，接受社会监督。",
    "七、健全解读回应。坚持“解读是常态、不解读是例外，发布与解读同步”原则，认真落实解读方案、"
    "解读材料与政策文件同步组织、同步审签、同步部署的工作机制。",
)
ATTACHMENT_BODY = (
    "一、考核对象。各单位应于{y}年3月31日前完成自查，并将自查报告报送考核工作小组。",
    "二、考核内容。主要包括主动公开、依申请公开、政策解读、平台建设等方面，"
    "考核结果于{y}年4月30日前通报。",
)
CLOSING_FILLERS = (
    "本{kind}自{y}年{m}月1日起施行，原《{cite}》（{cite_no}）同时废止。",
    "请各单位结合实际，认真抓好贯彻落实。执行中遇到的问题，请及时向{office}反馈。",
    "请认真贯彻执行。",
)

EXTRA_NOTES = ("此件发至县团级", "此件发至乡镇", "此件发至村（社区）")

# (where, phrase as printed, truth). where: note = 附注 under the date; banji = 版记 line.
DISCLOSURE_MODES: tuple[tuple[str, str | None, str | None], ...] = (
    ("note", "此件主动公开", "active"),
    ("note", "此件依申请公开", "on_request"),
    ("note", "此件不予公开", "withheld"),
    ("none", None, None),
    ("note", "此件公开发布", "active"),
    ("note", "此件不公开", "withheld"),
    ("note", "此件删减后公开", "partial"),
    ("banji", "公开方式：主动公开", "active"),
    ("note", "此件主动公开", "active"),
    ("note", "部分公开", "partial"),
    ("extra_only", None, None),
    ("banji", "公开属性：依申请公开", "on_request"),
    ("note", "此件主动公开", "active"),
    ("banji", "公开方式：不予公开", "withheld"),
    ("banji", "公开方式：删减后公开", "partial"),
    ("note", "此件不予公开", "withheld"),
)
ATTRIBUTE_PHRASES = tuple(p for w, p, _ in DISCLOSURE_MODES if w == "note" and p)


def _is_attribute_line(line: str) -> bool:
    """A 附注 line stating the publication attribute (not a 发至 or contact note)."""
    return any(phrase in line for phrase in ATTRIBUTE_PHRASES)


COVER_DISCLOSURE = (("主动公开", "active"), ("依申请公开", "on_request"), ("不予公开", "withheld"),
                    ("不公开", "withheld"), ("删减后公开", "partial"), ("部分公开", "partial"),
                    ("", None))

SECURITY_CYCLE: tuple[tuple[str, str | None] | None, ...] = (
    None, None, None, ("秘密", "1年"), None, None, None, ("机密", "5年"), None, None,
    ("绝密", "10年"), None, None, ("机密", None), None, None, ("秘密", None), None,
)
URGENCY_CYCLE: tuple[str | None, ...] = (None, None, "特急", None, None, "加急", None)

NUMBER_SPELLINGS = ("canonical", "square_ascii", "lenticular", "paren_full", "paren_ascii",
                    "fullwidth_digits", "spaces", "di_zeros", "zeros", "mixed")
DATE_STYLES = ("arabic", "arabic_padded", "arabic", "chinese_ling_o", "arabic",
               "chinese_circle", "arabic", "chinese_zero")

FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
CN_DIGITS = "零一二三四五六七八九"


def canonical_number(code: str, year: int, serial: int) -> str:
    return f"{code}〔{year}〕{serial}号"


def spell_number(code: str, year: int, serial: int, spelling: str) -> str:
    """The 文号 as a drafter typed it."""
    y, s = str(year), str(serial)
    match spelling:
        case "canonical":
            return f"{code}〔{y}〕{s}号"
        case "square_ascii":
            return f"{code}[{y}]{s}号"
        case "lenticular":
            return f"{code}【{y}】{s}号"
        case "paren_full":
            return f"{code}（{y}）{s}号"
        case "paren_ascii":
            return f"{code}({y}){s}号"
        case "fullwidth_digits":
            return f"{code}〔{y.translate(FULLWIDTH_DIGITS)}〕{s.translate(FULLWIDTH_DIGITS)}号"
        case "spaces":
            return f"{code} 〔{y}〕 {s} 号"
        case "di_zeros":
            return f"{code}〔{y}〕第{s.zfill(3)}号"
        case "zeros":
            return f"{code}〔{y}〕{s.zfill(3)}号"
        case "mixed":
            return f"{code}【{y.translate(FULLWIDTH_DIGITS)}】第{s.zfill(2)}号"
    raise ValueError(f"unknown spelling {spelling!r}")


def _cn_year(year: int, zero: str) -> str:
    return "".join(zero if ch == "0" else CN_DIGITS[int(ch)] for ch in str(year))


def _cn_small(n: int) -> str:
    """1..31 in Chinese numerals: 九, 十, 十五, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else CN_DIGITS[tens] + "十")
    return head + (CN_DIGITS[ones] if ones else "")


def write_date(day: dt.date, style: str) -> str:
    match style:
        case "arabic":
            return f"{day.year}年{day.month}月{day.day}日"
        case "arabic_padded":
            return f"{day.year}年{day.month:02d}月{day.day:02d}日"
        case "chinese_ling_o":  # 〇 U+3007
            return f"{_cn_year(day.year, '〇')}年{_cn_small(day.month)}月{_cn_small(day.day)}日"
        case "chinese_circle":  # ○ U+25CB, as many offices type it
            return f"{_cn_year(day.year, '○')}年{_cn_small(day.month)}月{_cn_small(day.day)}日"
        case "chinese_zero":
            return f"{_cn_year(day.year, '零')}年{_cn_small(day.month)}月{_cn_small(day.day)}日"
    raise ValueError(f"unknown date style {style!r}")


# ---------------------------------------------------------------------------------------------
# Layout blocks (format-neutral)
# ---------------------------------------------------------------------------------------------

Role = Literal["body", "title", "mark", "banji", "portal", "cover_head", "cover", "small"]
AlignT = Literal["left", "center", "right", "justify"]


@dataclass
class Para:
    text: str  # "\n" = a line break inside the paragraph (w:br)
    role: Role = "body"
    align: AlignT = "left"
    first_indent: float = 0.0  # in characters
    left_indent: float = 0.0
    right_indent: float = 0.0
    red: bool = False
    control: str | None = None  # docx: the runs sit in a content control (w:sdt) of this name
    comment: str | None = None  # docx: a reviewer's comment anchored on the paragraph
    field: str | None = None  # docx: the text is the cached result of this field (w:fldSimple)


# Markup inside a Para's text for docx: tracked changes [-deleted-] and [+inserted+], and
# [~hidden~] text (w:vanish, not printed). The truth is the printed text with all changes
# accepted; a PDF prints that text.
REVISION = re.compile(r"(\[-.*?-\]|\[\+.*?\+\]|\[~.*?~\])")


def accepted(text: str) -> str:
    return REVISION.sub(lambda m: m.group(0)[2:-2] if m.group(0).startswith("[+") else "", text)


@dataclass
class Split:
    """Two texts on one line: the 文号 at the left, 签发人 at the right."""

    left: str
    right: str
    with_tab: bool = True  # a tab to a right tab stop; otherwise full-width spaces
    role: Role = "body"


@dataclass
class Rule:
    red: bool = True
    double: bool = False


@dataclass
class Blank:
    role: Role = "body"


@dataclass
class Table:
    rows: list[list[str]]  # a row shorter than `cols` spans its last cell to the end
    cols: list[float]  # column widths as fractions of the text width
    borders: bool = True
    role: Role = "cover"
    align: AlignT = "left"
    red_first_row: bool = False
    red: bool = False  # every cell red (a joint 发文机关标志 in a table)
    merge_last_column: bool = False  # its cells merged top to bottom (`文件` beside the organs)


@dataclass
class TextBox:
    blocks: list[Para | Split | Rule | Blank]
    style: Literal["vml", "wps"] = "vml"


@dataclass
class Control:
    """docx: paragraphs inside one block-level content control (w:sdt), as OA templates
    hold their 标题 field. Other formats print the paragraphs."""

    blocks: list[Para]
    alias: str


@dataclass
class PageHeader:
    text: str
    align: AlignT = "right"


@dataclass
class PageBreak:
    pass


Block = Para | Split | Rule | Blank | Table | TextBox | Control | PageHeader | PageBreak


# ---------------------------------------------------------------------------------------------
# Content of one document, with its truth
# ---------------------------------------------------------------------------------------------


@dataclass
class Content:
    issuer: Issuer
    kind: str  # 通知 / 意见 / 批复 / 请示 / 报告 / 函
    upward: bool
    number_written: str | None
    number_canonical: str | None
    signer: str | None
    copy_number: str | None
    security_written: str | None
    security: tuple[str, str | None] | None
    urgency: str | None
    mark: str
    title: str
    title_lines: list[str]
    recipients: str
    paragraphs: list[str]
    cited: list[str]
    body_cited: list[str]  # the cited numbers of the 正文 alone (not of the 附件说明)
    attachment_lines: list[str]
    attachments: list[str]
    signature: str
    date: dt.date
    date_written: str
    note_lines: list[str]  # 附注 lines, printed directly under the date
    banji_disclosure: str | None  # 版记 line such as 公开方式：主动公开
    disclosure: str | None
    cc: str | None
    print_date: dt.date
    features: list[str] = field(default_factory=list)
    signature_layout: str | None = None  # spaces / table / aligned; None: drawn at random

    def as_written(self) -> dict[str, Any]:
        """How the drafter typed what the truth states canonically (for reading mismatches)."""
        return {"file_number": self.number_written, "date": self.date_written,
                "security": self.security_written, "notes": list(self.note_lines),
                "banji_disclosure": self.banji_disclosure}

    def expected(self) -> dict[str, Any]:
        return {
            "file_number": self.number_canonical,
            "cited_file_numbers": list(self.cited),
            "disclosure": self.disclosure,
            "disclosure_reason": None,
            "title": self.title,
            "issuer": self.issuer.name,
            "date": self.date.isoformat(),
            "security_level": self.security[0] if self.security else None,
            "security_period": self.security[1] if self.security else None,
            "urgency": self.urgency,
            "signer": self.signer,
            "recipients": self.recipients,
            "index_number": None,
            "attachments": list(self.attachments),
            "copy_number": self.copy_number,
            "cc": self.cc,
            "print_issuer": self.issuer.print_office,
            "print_date": self.print_date.isoformat(),
            "publisher": None,
            "publish_date": None,
            "source_kind": "document",
            "text_layer": True,
        }


def _split_title(title: str, n_lines: int) -> list[str]:
    """Cut a title into n roughly equal lines (a drafter breaks long titles by hand)."""
    if n_lines <= 1:
        return [title]
    size = -(-len(title) // n_lines)
    return [title[i:i + size] for i in range(0, len(title), size)]


class _Citer:
    """Hands out distinct cited documents, spelling some numbers like drafters do."""

    def __init__(self, rng: random.Random, own: str | None, year: int) -> None:
        # A document cites only what existed when it was written.
        pool = [c for c in CITED_POOL
                if c[2] <= year and canonical_number(c[1], c[2], c[3]) != own]
        rng.shuffle(pool)
        self.pool = pool
        self.rng = rng
        self.cited: list[str] = []

    def take(self, canonical: bool = False) -> tuple[str, str]:
        title, code, year, serial = self.pool.pop()
        spelling = "canonical" if self.rng.random() < 0.7 else self.rng.choice(NUMBER_SPELLINGS)
        if canonical:
            spelling = "canonical"
        self.cited.append(canonical_number(code, year, serial))
        return title, spell_number(code, year, serial, spelling)

    def add(self, canonical: str) -> None:
        """Cite a number made up on the spot (a 请示 being answered); it is cited once."""
        self.pool = [c for c in self.pool if canonical_number(c[1], c[2], c[3]) != canonical]
        self.cited.append(canonical)


def make_content(rng: random.Random, index: int, kind: str, *, with_number: bool = True,
                 issuer: Issuer | None = None) -> Content:
    """Everything a drafter writes into one document. `kind`: down, up, letter, plain."""
    features: list[str] = []
    issuer = issuer or ISSUERS[(index * 7 + rng.randrange(3)) % len(ISSUERS)]
    year = rng.randint(2010, 2024)
    date = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    date_style = DATE_STYLES[index % len(DATE_STYLES)]
    features.append(f"date:{date_style}")
    y = str(year)

    if kind == "up":
        doc_kind = rng.choice(("请示", "报告"))
        subject = rng.choice(REQUEST_SUBJECTS if doc_kind == "请示" else REPORT_SUBJECTS)
        subject = subject.format(y=y, p=issuer.place)
        title = f"关于{subject}的{doc_kind}"
        recipients = issuer.superior
    elif kind == "letter":
        doc_kind = "函"
        title = "关于" + rng.choice(LETTER_SUBJECTS).format(y=y, p=issuer.place) + "的函"
        recipients = rng.choice(("石狮市财政局", "泉州市统计局", "福建师范大学公共管理学院",
                                 "石狮市司法局"))
    else:
        doc_kind = rng.choice(("通知", "通知", "通知", "意见", "批复"))
        if doc_kind == "批复":
            sub_name, _ = rng.choice(issuer.subordinates)
            reply, request_subject = rng.choice(REPLY_SUBJECTS)
            short = sub_name.replace("人民政府", "").replace("村民委员会", "村")
            title = "关于" + reply.format(s=short) + "的批复"
            recipients = sub_name
        elif doc_kind == "意见":
            title = "关于" + rng.choice(OPINION_SUBJECTS) + "的意见"
            recipients = rng.choice(issuer.recipients)
        elif rng.random() < 0.5:
            title = f"关于印发《{issuer.place}{rng.choice(PLAN_SUBJECTS)}》的通知"
            recipients = rng.choice(issuer.recipients)
        else:
            title = "关于" + rng.choice(NOTICE_SUBJECTS).format(y=y, p=issuer.place) + "的通知"
            recipients = rng.choice(issuer.recipients)
    if rng.random() < 0.5:
        title = issuer.name + title
    n_lines = 1 if len(title) <= 20 else (2 if len(title) <= 40 else 3)
    if n_lines == 2 and index % 5 == 0:
        n_lines = 3  # some drafters break into three short lines
    title_lines = _split_title(title, n_lines)
    features.append(f"title_lines:{len(title_lines)}")

    number_written = number_canonical = None
    if with_number:
        code = issuer.letter_code if kind == "letter" else rng.choice(issuer.codes)
        serial = rng.randint(1, 160)
        spelling = NUMBER_SPELLINGS[index % len(NUMBER_SPELLINGS)]
        number_written = spell_number(code, year, serial, spelling)
        number_canonical = canonical_number(code, year, serial)
        features.append(f"spelling:{spelling}")

    security = SECURITY_CYCLE[index % len(SECURITY_CYCLE)]
    security_written = None
    copy_number = None
    if security:
        security_written = security[0] + (f"★{security[1]}" if security[1] else "")
        copy_number = f"{rng.randint(1, 999):06d}"
        features.append(f"security:{security[0]}")
    urgency = URGENCY_CYCLE[(index // 2) % len(URGENCY_CYCLE)]
    if urgency:
        features.append(f"urgency:{urgency}")
    signer = rng.choice(PEOPLE) if kind == "up" else None

    # Body, with cited numbers in several places.
    citer = _Citer(rng, number_canonical, year)
    paragraphs: list[str] = []
    if doc_kind == "批复":
        sub_name, sub_code = next(s for s in issuer.subordinates if s[0] == recipients)
        req_year, req_serial = year, rng.randint(1, 90)
        req = spell_number(sub_code, req_year, req_serial, "canonical")
        citer.add(canonical_number(sub_code, req_year, req_serial))
        paragraphs.append(f"你单位《关于{request_subject}的请示》（{req}）收悉。"
                          "经研究，现批复如下：")
    else:
        t1, n1 = citer.take()
        action = {"通知": "现就有关事项通知如下", "意见": "现提出如下意见",
                  "请示": "现将有关情况请示如下", "报告": "现将有关情况报告如下",
                  "函": "现商请如下"}[doc_kind]
        if "印发" in title:
            plan = title.split("《", 1)[1].split("》", 1)[0]
            action = f"现将《{plan}》印发给你们，请认真贯彻执行"
        if rng.random() < 0.5:
            t2, n2 = citer.take()
            paragraphs.append(f"为贯彻落实《{t1}》（{n1}）和《{t2}》（{n2}）精神，"
                              f"结合{issuer.we}实际，{action}。")
        else:
            paragraphs.append(f"根据《{t1}》（{n1}）要求，结合{issuer.we}实际，{action}。")
    for filler in rng.sample(BODY_FILLERS, rng.randint(2, 4)):
        if "此件" in filler:
            features.append("body_quotes_attribute")
        if "{cite}" in filler:
            t, n = citer.take()
            filler = filler.replace("{cite}", t).replace("{cite_no}", n)
        paragraphs.append(filler.format(y=year + 1, m=rng.randint(1, 12), d=rng.randint(1, 28),
                                        office=issuer.print_office, person=rng.choice(PEOPLE),
                                        tel=f"{rng.randint(0, 9999):04d}"))
    closing = rng.choice(CLOSING_FILLERS)
    if "{cite}" in closing:
        t, n = citer.take()
        closing = closing.replace("{cite}", t).replace("{cite_no}", n)
    paragraphs.append(closing.format(kind="办法" if "办法" in title else "通知", y=year + 1,
                                     m=rng.randint(1, 12), office=issuer.print_office))
    if kind == "up":
        paragraphs.append("妥否，请批示。" if doc_kind == "请示" else "特此报告。")

    body_cited = list(citer.cited)
    # 附件说明: sometimes naming a cited document with its number.
    attachments: list[str] = []
    attachment_lines: list[str] = []
    if rng.random() < 0.45:
        n_att = rng.randint(1, 3)
        items = [a.format(y=year, p=issuer.place) for a in rng.sample(ATTACHMENT_ITEMS, n_att)]
        if rng.random() < 0.3:
            t, n = citer.take(canonical=True)  # whitespace in a list item is not the point
            items[-1] = f"{t}（{n}）"
            features.append("cited_in_attachment")
        attachments = items[:]
        mark = rng.choice(("．", ".", "、"))
        if len(items) == 1:
            attachment_lines = [f"附件：{items[0]}"]
        else:
            attachment_lines = [f"附件：1{mark}{items[0]}"] + [
                f"{k}{mark}{it}" for k, it in enumerate(items[1:], start=2)]
        features.append(f"attachments:{len(items)}")

    # 附注 and 公开属性.
    mode = DISCLOSURE_MODES[(index * 3 + 1) % len(DISCLOSURE_MODES)]
    if security:  # a classified document carries no publication attribute, or 不予公开
        mode = ("note", "此件不予公开", "withheld") if rng.random() < 0.5 else ("none", None, None)
    where, phrase, disclosure = mode
    ascii_parens = rng.random() < 0.35
    lp, rp = ("(", ")") if ascii_parens else ("（", "）")
    note_lines: list[str] = []
    banji_disclosure = None
    if where == "note":
        note_lines.append(f"{lp}{phrase}{rp}")
        features.append(f"phrase:{phrase}")
        features.append("parens:ascii" if ascii_parens else "parens:fullwidth")
    elif where == "banji":
        banji_disclosure = phrase
        features.append("disclosure:banji")
    elif where == "extra_only":
        note_lines.append(f"{lp}{rng.choice(EXTRA_NOTES)}{rp}")
        features.append("disclosure:extra_note_only")
    else:
        features.append("disclosure:none")
    if where != "extra_only" and rng.random() < 0.3:
        note_lines.append(f"{lp}{rng.choice(EXTRA_NOTES)}{rp}")
        features.append("note:extra")
    if kind == "up" or rng.random() < 0.15:
        phone = f"0595-8870{rng.randint(0, 9999):04d}"
        contact = f"{lp}联系人：{rng.choice(PEOPLE)}，联系电话：{phone}{rp}"
        note_lines.append(contact)
        features.append("note:contact")

    cc = rng.choice(issuer.cc)
    print_date = date + dt.timedelta(days=rng.randint(1, 6))
    mark_text = issuer.name if kind == "letter" else issuer.name + "文件"
    return Content(
        issuer=issuer, kind=doc_kind, upward=kind == "up", number_written=number_written,
        number_canonical=number_canonical, signer=signer, copy_number=copy_number,
        security_written=security_written, security=security, urgency=urgency, mark=mark_text,
        title=title, title_lines=title_lines, recipients=recipients, paragraphs=paragraphs,
        cited=citer.cited, body_cited=body_cited, attachment_lines=attachment_lines,
        attachments=attachments,
        signature=issuer.name, date=date, date_written=write_date(date, date_style),
        note_lines=note_lines, banji_disclosure=banji_disclosure, disclosure=disclosure, cc=cc,
        print_date=print_date, features=features,
    )


# ---------------------------------------------------------------------------------------------
# Layouts: Content -> blocks
# ---------------------------------------------------------------------------------------------


def _masthead(c: Content) -> list[Block]:
    """份号, 密级★期限, 紧急程度: the top-left lines of the 版头."""
    blocks: list[Block] = []
    if c.copy_number:
        blocks.append(Para(c.copy_number))
    if c.security_written:
        blocks.append(Para(c.security_written, role="body"))
    if c.urgency:
        blocks.append(Para(c.urgency))
    return blocks


def _body_blocks(c: Content, rng: random.Random) -> list[Block]:
    """From the title to the 版记."""
    blocks: list[Block] = [Blank()]
    if rng.random() < 0.3 and len(c.title_lines) > 1:
        blocks.append(Para("\n".join(c.title_lines), role="title", align="center"))
    else:
        blocks.extend(Para(line, role="title", align="center") for line in c.title_lines)
    blocks.append(Blank())
    blocks.append(Para(c.recipients + "："))
    blocks.extend(Para(p, first_indent=2) for p in c.paragraphs)
    if c.attachment_lines:
        blocks.append(Blank())
        blocks.append(Para(c.attachment_lines[0], first_indent=2))
        blocks.extend(Para(line, left_indent=5) for line in c.attachment_lines[1:])
    blocks.extend([Blank(), Blank()])
    roll = rng.random()
    if c.signature_layout:
        roll = {"spaces": 0.0, "table": 0.3, "aligned": 1.0}[c.signature_layout]
    if roll < 0.25:  # many drafters push the 署名 and date right with spaces
        blocks.append(Para("　" * max(2, 22 - len(c.signature)) + c.signature))
        blocks.append(Para("　" * max(2, 23 - len(c.date_written)) + c.date_written))
        c.features.append("signature:spaces")
    elif roll < 0.4:  # some templates hold 署名 and date in a borderless table
        blocks.append(Table([[c.signature], [c.date_written]], cols=[1.0], borders=False,
                            role="body", align="right"))
        c.features.append("signature:table")
    else:
        blocks.append(Para(c.signature, align="right", right_indent=4))
        blocks.append(Para(c.date_written, align="right", right_indent=4))
    blocks.extend(Para(line, first_indent=2) for line in c.note_lines)
    if c.attachments and "号）" not in c.attachments[0] and rng.random() < 0.5:
        # The attachment itself follows the 附注, on a new page, with its own dates.
        label = "附件1" if len(c.attachments) > 1 else "附件"
        blocks += [PageBreak(), Para(label), Blank(),
                   Para(c.attachments[0], role="title", align="center"), Blank()]
        blocks += [Para(p.format(y=c.date.year + 1), first_indent=2) for p in ATTACHMENT_BODY]
        c.features.append("attachment_body")
    blocks.extend([Blank(), Blank()])
    if c.date.year < 2013:  # the 1999 standard's 主题词 line
        words = rng.choice(("政务公开　信息　通知", "财政　资金　管理　通知",
                            "安全生产　检查　意见", "教育　招生　通知"))
        blocks.append(Para(f"主题词：{words}", role="banji", left_indent=1))
        c.features.append("banji:subject_words")
    blocks.append(Rule(red=False))
    if c.banji_disclosure:
        blocks.append(Para(c.banji_disclosure, role="banji", left_indent=1))
    blocks.append(Para(f"抄送：{c.cc}。", role="banji", left_indent=1))
    print_date = write_date(c.print_date, "arabic")
    if rng.random() < 0.3:
        blocks.append(Table([[c.issuer.print_office, f"{print_date}印发"]], cols=[0.6, 0.4],
                            borders=False, role="banji"))
    else:
        blocks.append(Split(c.issuer.print_office, f"{print_date}印发",
                            with_tab=rng.random() < 0.6, role="banji"))
    blocks.append(Rule(red=False))
    return blocks


def layout_red_header(c: Content, rng: random.Random, placement: str) -> list[Block]:
    """A GB/T 9704 document. placement of the 文号: centered, signer_line, table, textbox,
    page_header, letter (函: right-aligned under a double rule), none."""
    head: list[Block] = _masthead(c)
    mark = Para(c.mark, role="mark", align="center", red=True)
    number = c.number_written
    blocks: list[Block] = []
    if placement == "textbox":
        inner: list[Block] = [*head, mark, Blank()]
        if c.signer and number:
            inner.append(Split(number, f"签发人：{c.signer}"))
        elif number:
            inner.append(Para(number, align="center"))
        inner.append(Rule())
        style: Literal["vml", "wps"] = "wps" if rng.random() < 0.5 else "vml"
        blocks.append(TextBox(inner, style=style))  # type: ignore[arg-type]
        return blocks + _body_blocks(c, rng)
    blocks.extend(head)
    if placement == "page_header":
        blocks.append(PageHeader(number or "", align=rng.choice(("right", "center"))))
        blocks.extend([mark, Rule()])
        return blocks + _body_blocks(c, rng)
    blocks.append(mark)
    if placement == "letter":
        blocks.append(Rule(double=True))
        if number:
            blocks.append(Para(number, align="right", right_indent=1))
        return blocks + _body_blocks(c, rng)
    blocks.append(Blank())
    if placement == "centered" and number:
        blocks.append(Para(number, align="center"))
    elif placement == "signer_line" and number:
        blocks.append(Split(number, f"签发人：{c.signer}", with_tab=rng.random() < 0.5))
    elif placement == "table" and number:
        if c.signer:
            blocks.append(Table([[number, f"签发人：{c.signer}"]], cols=[0.5, 0.5],
                                borders=False, role="body"))
        else:
            blocks.append(Table([[number]], cols=[1.0], borders=False, role="body",
                                align="center"))
    blocks.append(Rule())
    return blocks + _body_blocks(c, rng)


def _spaced(label: str, rng: random.Random) -> str:
    """Cover-sheet labels are often spaced out: 文  号, 标　　题."""
    if len(label) <= 3 and rng.random() < 0.5:
        return rng.choice(("  ", "　", "　　", " ")).join(label)
    return label


CHECKBOX_OPTIONS = ("主动公开", "依申请公开", "删减后公开", "不予公开")


def _attribute_cell(word: str, checkbox: bool, marks: tuple[str, str]) -> str:
    """The 公开属性 cell: the word, or (on many printed forms) a row of check boxes with the
    chosen one ticked; a form nobody ticked states nothing."""
    if (word in CHECKBOX_OPTIONS or not word) and checkbox:
        on, off = marks
        return "  ".join((on if option == word else off) + option
                         for option in CHECKBOX_OPTIONS)
    return word


def layout_cover_sheet(c: Content, rng: random.Random, index: int, with_body: bool,
                       checkbox_marks: tuple[str, str] = ("☑", "☐"),
                       body_attribute: str | None = None, checkbox: bool = False,
                       ) -> tuple[list[Block], dict[str, Any]]:
    """A 发文稿纸 (drafting cover sheet), possibly followed by the document itself.
    `checkbox_marks`: (ticked, empty) boxes; PDFs use ■/□, which their fonts have."""
    disclosure_word, disclosure = COVER_DISCLOSURE[index % len(COVER_DISCLOSURE)]
    reason = None
    if disclosure in ("withheld", "partial") or (disclosure == "on_request"
                                                 and rng.random() < 0.5):
        reason = rng.choice(REASONS)
    signer = c.signer or rng.choice(PEOPLE)
    drafter, checker = rng.sample([p for p in PEOPLE if p != signer], 2)
    security_cell = c.security_written or rng.choice(("无", "非密", ""))
    urgency_cell = c.urgency or rng.choice(("无", ""))
    sp = _spaced
    rows: list[list[str]] = [
        [sp("签发人", rng), signer, sp("会签", rng), ""],
        [sp("核稿", rng), checker, sp("主办单位", rng), rng.choice(DRAFTING_UNITS)],
        [sp("拟稿人", rng), drafter, sp("电话", rng), f"8870{rng.randint(0, 9999):04d}"],
        [sp("密级", rng), security_cell, sp("缓急", rng), urgency_cell],
        [sp("公开属性", rng), _attribute_cell(disclosure_word, checkbox, checkbox_marks)],
        [sp("不公开理由", rng), reason or rng.choice(("", "/"))],
        [sp("文号", rng), c.number_written or ""],
        [sp("标题", rng), c.title],
        [sp("主送", rng), c.recipients],
        [sp("抄送", rng), c.cc or ""],
        [sp("印数", rng), f"{rng.randint(10, 60)}份"],
    ]
    blocks: list[Block] = [
        Para(f"{c.issuer.name}发文稿纸", role="cover_head", align="center",
             red=rng.random() < 0.5),
        Blank(),
        Table(rows, cols=[0.18, 0.32, 0.18, 0.32], borders=True, role="cover"),
    ]
    expected = c.expected()
    expected.update(source_kind="cover_sheet", signer=signer, disclosure=disclosure,
                    disclosure_reason=reason)
    if with_body:
        # The document itself follows; its 附注 states the same attribute as the sheet.
        body = copy.copy(c)
        body.signer = signer if c.upward else None
        body.note_lines = [line for line in c.note_lines if not _is_attribute_line(line)]
        body.banji_disclosure = None
        if body_attribute:  # a body that contradicts its own cover sheet
            body.note_lines.insert(0, body_attribute)
        elif disclosure:
            body.note_lines.insert(0, f"（此件{disclosure_word}）" if disclosure_word != "部分公开"
                                   else "（部分公开）")
        blocks.append(PageBreak())
        placement = "signer_line" if c.upward else "centered"
        blocks.extend(layout_red_header(body, rng, placement))
    else:
        # A cover sheet alone: no 成文日期, 附件说明, 版记 or body.
        expected.update(date=None, cited_file_numbers=[], attachments=[], print_issuer=None,
                        print_date=None, copy_number=None)
    return blocks, expected


PORTAL_TRAILER = ["附件下载", "", "扫一扫在手机上查看当前页面", "", "相关解读", "文字解读",
                  "图片解读", "视频解读", "访谈解读", "媒体报道"]
_TO_ASCII = str.maketrans({"，": ",", "（": "(", "）": ")", "：": ":"})


def portal_lines_from_content(c: Content, rng: random.Random,
                              index: int) -> tuple[list[str], dict[str, Any]]:
    """A portal export in the exact shape of hongshan-2020-53-work-plan.txt."""
    serial = rng.randint(1, 400)
    index_forms = (f"{c.issuer.index_code}-3000-{c.date.year}-{serial:05d}",
                   f"000014349/{c.date.year}-{serial:05d}",
                   f"11350581{rng.randint(10**9, 10**10 - 1)}H/{c.date.year}{c.date.month:02d}"
                   f"-{serial:05d}")
    index_number = index_forms[index % len(index_forms)]
    publish = c.date + dt.timedelta(days=rng.randint(0, 9))
    number = c.number_written or ""
    phrase_cycle = ("(此件主动公开)", "(此件公开发布)", None, "(此件主动公开)")
    phrase = phrase_cycle[index % len(phrase_cycle)]
    ascii_ = str.maketrans(_TO_ASCII)
    lines = [
        f"• 索 引 号:{index_number}",
        f"    • 发布机构:{c.issuer.name}",
        f"    • 公文生成日期:{c.date.isoformat()}",
        f"    • 标题:{c.title}",
        f"    • 备注/文号:{number}",
        f"    • 发布日期:{publish.isoformat()}",
        f"    {c.title}",
        f"    来源:{c.issuer.short} 时间:{publish.isoformat()} {rng.randint(8, 17):02d}:"
        f"{rng.randint(0, 59):02d}",
        "",
        f"    {c.recipients.translate(ascii_)}:",
        "",
    ]
    for p in c.paragraphs:
        lines += [f"      {p.translate(ascii_)}", ""]
    lines += [f"    {c.signature}", "", f"    {write_date(c.date, 'arabic')}", ""]
    if phrase:
        lines += [f"       {phrase}", ""]
    lines += [f"    {line}" if line else "" for line in PORTAL_TRAILER]
    expected = c.expected()
    expected.update(
        disclosure="active" if phrase else None, recipients=c.recipients.translate(ascii_),
        index_number=index_number, attachments=[], copy_number=None, cc=None,
        print_issuer=None, print_date=None, publisher=c.issuer.name,
        publish_date=publish.isoformat(), source_kind="portal_export", security_level=None,
        security_period=None, urgency=None, signer=None,
    )
    # The portal shows the body only: citations of the 附件说明 are not there.
    expected["cited_file_numbers"] = list(c.body_cited)
    return lines, expected


def hongshan_lines() -> tuple[list[str], dict[str, Any]]:
    lines = HONGSHAN_TXT.read_text(encoding="utf-8").splitlines()
    expected = {f: None for f in EXPECTED_FIELDS}
    expected.update(
        file_number="鸿政〔2020〕53号",
        cited_file_numbers=["国办发〔2019〕54号", "闽政办〔2020〕26号", "狮政办〔2020〕22号",
                            "国办公开办函〔2020〕2号"],
        disclosure="active",
        title="石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        issuer="石狮市鸿山镇人民政府", date="2020-09-15",
        recipients="各村委会,镇机关各办(中心、站、所)", index_number="QZ05908-3000-2020-00010",
        attachments=[], publisher="石狮市鸿山镇人民政府", publish_date="2020-09-15",
        source_kind="portal_export", text_layer=True,
    )
    return lines, expected


def portal_blocks(lines: Iterable[str], role: Role = "portal") -> list[Block]:
    """A web page's text; `role="body"` prints it as large as a document (a portal page
    printed to PDF), so that its long lines wrap."""
    return [Para(line.rstrip(), role=role) if line.strip() else Blank(role=role)
            for line in lines]


# ---------------------------------------------------------------------------------------------
# Fonts and sizes
# ---------------------------------------------------------------------------------------------

DOCX_FONTS: dict[str, tuple[str, float]] = {  # role -> (East Asian font, size pt)
    "body": ("仿宋_GB2312", 16.0),  # 三号
    "title": ("方正小标宋简体", 22.0),  # 二号
    "mark": ("方正小标宋简体", 36.0),  # 小初, shrunk to fit long names
    "banji": ("仿宋_GB2312", 14.0),  # 四号
    "portal": ("宋体", 10.5),  # 五号
    "cover_head": ("方正小标宋简体", 22.0),
    "cover": ("仿宋_GB2312", 14.0),
    "small": ("仿宋_GB2312", 12.0),
}
TEXT_WIDTH_PT = 156 / 25.4 * 72  # GB/T 9704: 版心 156 mm wide


def role_size(role: Role, text: str = "") -> float:
    size = DOCX_FONTS[role][1]
    if role == "mark" and text:
        size = min(size, (TEXT_WIDTH_PT - 10) / max(len(text), 1))
    return size


# ---------------------------------------------------------------------------------------------
# .docx renderer
# ---------------------------------------------------------------------------------------------


def render_docx(blocks: Sequence[Block]) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.name = "仿宋_GB2312"
    normal.font.size = Pt(16)
    _east_asia(normal.element.get_or_add_rPr(), "仿宋_GB2312")
    _page_number_footer(section)
    aligns = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
              "right": WD_ALIGN_PARAGRAPH.RIGHT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}
    body = doc.element.body

    def add_para(block: Para | Blank | Split | Rule, container: Any) -> Any:
        p = container.add_paragraph()
        fmt = p.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        if isinstance(block, Blank):
            _line_spacing(p, block.role)
            return p
        if isinstance(block, Rule):
            _bottom_border(p, "FF0000" if block.red else "000000", block.double)
            fmt.line_spacing = Pt(8)
            return p
        if isinstance(block, Split):
            if block.with_tab:
                _right_tab(p, TEXT_WIDTH_PT - 2 * role_size(block.role))
                _run(p, f"{block.left}\t{block.right}", block.role)
            else:
                _run(p, f"{block.left}{'　' * 4}{block.right}", block.role)
            _indent(p, left=1)
            _line_spacing(p, block.role)
            return p
        p.alignment = aligns[block.align]
        _indent(p, first=block.first_indent, left=block.left_indent, right=block.right_indent)
        _line_spacing(p, block.role)
        parts = block.text.split("\n")
        size_text = accepted(block.text)
        for k, part in enumerate(parts):
            if k:
                p.add_run().add_break()
            for piece in REVISION.split(part):
                if piece.startswith("[~") and REVISION.fullmatch(piece):
                    _run(p, piece[2:-2], block.role, text_for_size=size_text).font.hidden = True
                elif piece and REVISION.fullmatch(piece):
                    _revision(p, piece, block.role, size_text)
                elif piece:
                    _run(p, piece, block.role, red=block.red, text_for_size=size_text)
        if block.field:
            _wrap_in_field(p._p, block.field)
        if block.comment:
            doc.add_comment(p.runs, text=block.comment, author=PEOPLE[8], initials="LMZ")
        if block.control:
            _wrap_in_control(p._p, block.control, run_level=True)
        return p

    for block in blocks:
        if isinstance(block, Para | Blank | Split | Rule):
            add_para(block, doc)
        elif isinstance(block, PageBreak):
            doc.add_page_break()
        elif isinstance(block, Control):
            inner = [add_para(b, doc) for b in block.blocks]
            _wrap_in_control([p._p for p in inner], block.alias, run_level=False)
        elif isinstance(block, PageHeader):
            header = section.header
            header.is_linked_to_previous = False
            hp = header.paragraphs[0]
            hp.alignment = aligns[block.align]
            _run(hp, block.text, "banji")
        elif isinstance(block, Table):
            _add_table(doc, block, aligns)
        elif isinstance(block, TextBox):
            anchor = doc.add_paragraph()
            inner = [add_para(b, doc) for b in block.blocks]  # type: ignore[arg-type]
            for p in inner:
                body.remove(p._p)
            height = sum(10 if isinstance(b, Rule) else
                         50 if isinstance(b, Para) and b.role == "mark" else 29
                         for b in block.blocks)
            anchor._p.append(_textbox_run([p._p for p in inner], block.style,
                                          height_pt=height + 8))
        else:  # pragma: no cover - the block types are closed
            raise TypeError(block)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


_revision_ids = iter(range(100, 10**9))


def _revision(p: Any, piece: str, role: Role, size_text: str) -> None:
    """A tracked deletion (w:del with w:delText) or insertion (w:ins) by a reviewer."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    deleted = piece.startswith("[-")
    before = len(p._p.findall(f"{{{W_NS}}}r"))
    _run(p, piece[2:-2], role, text_for_size=size_text)
    new_runs = p._p.findall(f"{{{W_NS}}}r")[before:]  # _run may have made several runs
    kind = "del" if deleted else "ins"
    wrapper = parse_xml(f'<w:{kind} {nsdecls("w")} w:id="{next(_revision_ids)}" '
                        f'w:author="{PEOPLE[8]}" w:date="2020-09-14T10:00:00Z"/>')
    p._p.insert(p._p.index(new_runs[0]), wrapper)
    for r in new_runs:
        wrapper.append(r)
        if deleted:
            for t in r.findall(f"{{{W_NS}}}t"):
                t.tag = f"{{{W_NS}}}delText"


def _wrap_in_field(p: Any, instr: str) -> None:
    """Turn a paragraph's runs into the cached result of a field, as a date inserted with
    Insert > Date and Time (update automatically) is stored."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    fld = parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr={quoteattr(instr)}/>')
    runs = [c for c in p if c.tag == f"{{{W_NS}}}r"]
    p.insert(p.index(runs[0]), fld)
    for r in runs:
        fld.append(r)


def _wrap_in_control(elements: Any, alias: str, *, run_level: bool) -> None:
    """Put a paragraph's runs (run_level) or whole paragraphs into a w:sdt content control."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtPr><w:alias w:val="{alias}"/>'
                    f'<w:tag w:val="{alias}"/><w:id w:val="{next(_revision_ids)}"/></w:sdtPr>'
                    '<w:sdtContent/></w:sdt>')
    content = sdt[1]
    if run_level:
        p = elements
        children = [c for c in p if c.tag != f"{{{W_NS}}}pPr"]
        p.insert(len(p) - len(children), sdt)
        for child in children:
            content.append(child)
    else:
        first = elements[0]
        first.getparent().insert(first.getparent().index(first), sdt)
        for p in elements:
            content.append(p)


def _east_asia(rpr: Any, font: str) -> None:
    from docx.oxml.ns import qn

    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        from docx.oxml import OxmlElement

        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        rfonts.set(qn(attr), font)


def _run(p: Any, text: str, role: Role, *, red: bool = False, text_for_size: str = "") -> Any:
    from docx.shared import Pt, RGBColor

    font, _ = DOCX_FONTS[role]
    # Word splits a paragraph into runs wherever it was edited (often inside a 文号 or a
    # date); do the same, deterministically, for about a third of the longer texts.
    pieces = [text]
    if len(text) > 6 and zlib.crc32(text.encode("utf-8")) % 3 == 0:
        a, b = len(text) // 3, 2 * len(text) // 3
        pieces = [text[:a], text[a:b], text[b:]]
    for piece in pieces:
        run = p.add_run(piece)
        run.font.size = Pt(role_size(role, text_for_size or text))
        _east_asia(run._element.get_or_add_rPr(), font)
        if red:
            run.font.color.rgb = RGBColor(0xFF, 0x00, 0x00)
    return run


def _indent(p: Any, *, first: float = 0, left: float = 0, right: float = 0) -> None:
    """Indentation in characters, as Word stores it (w:firstLineChars, 100 = one character)."""
    from docx.oxml.ns import qn

    if not (first or left or right):
        return
    ind = p._p.get_or_add_pPr().get_or_add_ind()  # keeps the schema order of w:pPr
    for attr, chars in (("firstLine", first), ("left", left), ("right", right)):
        if chars:
            ind.set(qn(f"w:{attr}Chars"), str(int(chars * 100)))
            ind.set(qn(f"w:{attr}"), str(int(chars * 16 * 20)))


def _line_spacing(p: Any, role: Role) -> None:
    from docx.shared import Pt

    p.paragraph_format.line_spacing = Pt({"body": 28.9, "title": 36, "mark": 50, "banji": 22,
                                          "portal": 18, "cover_head": 36, "cover": 22,
                                          "small": 18}[role])


_PBDR_SUCCESSORS = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                    "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                    "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def _bottom_border(p: Any, color: str, double: bool) -> None:
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    val = "thinThickSmallGap" if double else "single"
    border = parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="{val}" w:sz="18" w:space="1" '
                       f'w:color="{color}"/></w:pBdr>')
    p._p.get_or_add_pPr().insert_element_before(border, *_PBDR_SUCCESSORS)


def _right_tab(p: Any, pos_pt: float) -> None:
    from docx.enum.text import WD_TAB_ALIGNMENT
    from docx.shared import Pt

    p.paragraph_format.tab_stops.add_tab_stop(Pt(pos_pt), WD_TAB_ALIGNMENT.RIGHT)


def _page_number_footer(section: Any) -> None:
    """GB/T 9704 page numbers: — 1 — with a PAGE field."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    footer = section.footer
    fp = footer.paragraphs[0]
    fp.alignment = 2  # right
    fp._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve">— </w:t></w:r>'))
    fp._p.append(parse_xml(
        f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    fp._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:t xml:space="preserve"> —</w:t></w:r>'))


def _add_table(doc: Any, block: Table, aligns: dict[str, Any]) -> None:
    from docx.shared import Pt

    ncols = len(block.cols)
    table = doc.add_table(rows=len(block.rows), cols=ncols)
    if block.borders:
        table.style = doc.styles["Table Grid"]
    for r, row in enumerate(block.rows):
        cells = table.rows[r].cells
        if len(row) < ncols:
            cells[len(row) - 1].merge(cells[ncols - 1])
        for k, text in enumerate(row):
            cell = table.cell(r, k)
            p = cell.paragraphs[0]
            p.alignment = aligns[block.align]
            _run(p, text, block.role, red=block.red or (block.red_first_row and r == 0))
    if block.merge_last_column and len(block.rows) > 1:
        table.cell(0, ncols - 1).merge(table.cell(len(block.rows) - 1, ncols - 1))
    if block.role == "cover":  # printed forms leave room to write in
        for row in table.rows:
            row.height = Pt(30)
    for k, frac in enumerate(block.cols):
        for cell in table.columns[k].cells:
            cell.width = Pt(TEXT_WIDTH_PT * frac)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXTBOX_NS = (
    f'xmlns:w="{W_NS}" xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
)


def _textbox_run(paragraphs: list[Any], style: str, height_pt: float) -> Any:
    """A run holding a text box. `vml`: what WPS and old Word write. `wps`: what Word 2010+
    writes: a DrawingML shape in mc:AlternateContent with the VML copy as mc:Fallback, so the
    same text is in the file twice (readers must skip the fallback)."""
    from lxml import etree

    width_pt = TEXT_WIDTH_PT
    vml = (
        '<w:pict><v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        '<v:shape id="TextBox1" o:spid="_x0000_s1026" type="#_x0000_t202" '
        f'style="position:absolute;margin-left:0;margin-top:0;width:{width_pt:.0f}pt;'
        f'height:{height_pt:.0f}pt;z-index:251659264;mso-position-horizontal:center;'
        'mso-position-horizontal-relative:margin;mso-wrap-style:square;v-text-anchor:top" '
        'filled="f" stroked="f"><v:textbox inset="0,0,0,0"><w:txbxContent/></v:textbox>'
        '<w10:wrap xmlns:w10="urn:schemas-microsoft-com:office:word" type="topAndBottom"/>'
        '</v:shape></w:pict>'
    )
    if style == "vml":
        xml = f"<w:r {TEXTBOX_NS}>{vml}</w:r>"
    else:
        cx, cy = int(width_pt * 12700), int(height_pt * 12700)
        xml = (
            f'<w:r {TEXTBOX_NS}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
            '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" '
            'relativeHeight="251659264" behindDoc="0" locked="0" layoutInCell="1" '
            'allowOverlap="1"><wp:simplePos x="0" y="0"/>'
            '<wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
            '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset>'
            f'</wp:positionV><wp:extent cx="{cx}" cy="{cy}"/>'
            '<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapTopAndBottom/>'
            '<wp:docPr id="1" name="文本框 1"/><wp:cNvGraphicFramePr/>'
            '<a:graphic><a:graphicData '
            'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
            '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/>'
            f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
            '</a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
            '<wps:txbx><w:txbxContent/></wps:txbx>'
            '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" '
            'anchor="t"><a:noAutofit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic>'
            '</wp:anchor></w:drawing></mc:Choice>'
            f'<mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>'
        )
    run = etree.fromstring(xml)
    for content in run.iter(f"{{{W_NS}}}txbxContent"):
        for p in paragraphs:
            content.append(copy.deepcopy(p))
    from docx.oxml import parse_xml

    return parse_xml(etree.tostring(run))


# ---------------------------------------------------------------------------------------------
# .pdf renderer (reportlab)
# ---------------------------------------------------------------------------------------------

PDF_FONTS = ("STSong-Light", "WQY")
WQY_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
_registered: set[str] = set()


def _register(font: str) -> str:
    from reportlab.pdfbase import pdfmetrics

    if font in _registered:
        return font
    if font == "STSong-Light":
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    else:
        from reportlab.pdfbase.ttfonts import TTFont

        if not os.path.exists(WQY_PATH):
            return _register("STSong-Light")
        pdfmetrics.registerFont(TTFont("WQY", WQY_PATH, subfontIndex=0))
    _registered.add(font)
    return font


class _PdfLayout:
    PAGE_W, PAGE_H = 595.28, 841.89
    LEFT = 28 / 25.4 * 72
    TOP = 37 / 25.4 * 72
    BOTTOM = 35 / 25.4 * 72
    W = TEXT_WIDTH_PT
    LINE: ClassVar[dict[str, float]] = {
        "body": 28.9, "title": 36.0, "mark": 50.0, "banji": 24.0, "portal": 17.0,
        "cover_head": 36.0, "cover": 20.0, "small": 18.0}

    def __init__(self, font: str, page_numbers: bool, compact: bool,
                 scans: Sequence[Any] = ()) -> None:
        """`scans`: page images to lay under invisible text, as an OCR'd scan is made."""
        from reportlab.pdfgen import canvas

        self.font = _register(font)
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=(self.PAGE_W, self.PAGE_H), invariant=1)
        self.page_numbers = page_numbers
        self.header: PageHeader | None = None
        self.page = 1
        self.top = 60.0 if compact else self.TOP
        self.y = self.PAGE_H - self.top
        self.scans = list(scans)
        self._begin_page()

    def _begin_page(self) -> None:
        if self.page <= len(self.scans):
            from reportlab.lib.utils import ImageReader

            self.c.drawImage(ImageReader(self.scans[self.page - 1]), 0, 0, width=self.PAGE_W,
                             height=self.PAGE_H)

    def width(self, text: str, size: float) -> float:
        from reportlab.pdfbase import pdfmetrics

        return pdfmetrics.stringWidth(text, self.font, size)

    def wrap(self, text: str, size: float, first_w: float, rest_w: float) -> list[str]:
        lines, cur, avail = [], "", first_w
        for ch in text:
            if cur and self.width(cur + ch, size) > avail:
                lines.append(cur)
                cur, avail = "", rest_w
            cur += ch
        lines.append(cur)
        return lines

    def need(self, h: float) -> None:
        if self.y - h < self.BOTTOM:
            self.new_page()

    def _decorate(self) -> None:
        c = self.c
        if self.header and self.header.text:
            c.setFont(self.font, 12)
            c.setFillColorRGB(0, 0, 0)
            w = self.width(self.header.text, 12)
            x = self.LEFT + (self.W - w if self.header.align == "right" else (self.W - w) / 2)
            c.drawString(x, self.PAGE_H - 60, self.header.text)
        if self.page_numbers:
            c.setFont(self.font, 14)
            c.setFillColorRGB(0, 0, 0)
            label = f"— {self.page} —"
            w = self.width(label, 14)
            x = self.LEFT + self.W - w if self.page % 2 else self.LEFT
            c.drawString(x, self.BOTTOM - 40, label)

    def new_page(self) -> None:
        self._decorate()
        self.c.showPage()
        self.page += 1
        self.y = self.PAGE_H - self.top
        self._begin_page()

    def text(self, x: float, baseline: float, s: str, size: float, red: bool = False) -> None:
        if self.scans:  # OCR text: invisible (render mode 3) over the page image
            t = self.c.beginText(x, baseline)
            t.setTextRenderMode(3)
            t.setFont(self.font, size)
            t.textOut(s)
            self.c.drawText(t)
            return
        self.c.setFont(self.font, size)
        if red:
            self.c.setFillColorRGB(1, 0, 0)
        else:
            self.c.setFillColorRGB(0, 0, 0)
        self.c.drawString(x, baseline, s)

    def para(self, b: Para) -> None:
        if REVISION.search(b.text):
            b = dataclasses.replace(b, text=accepted(b.text))
        size = role_size(b.role, b.text)
        lh = max(self.LINE[b.role], size * 1.3)
        indent_l, indent_r = b.left_indent * size, b.right_indent * size
        if b.role == "portal":  # leading spaces of a web page export are indentation
            stripped = b.text.lstrip(" ")
            indent_l += (len(b.text) - len(stripped)) * size * 0.5
            text = stripped
        else:
            text = b.text
        lines: list[str] = []
        for part in text.split("\n"):
            first_w = self.W - indent_l - indent_r - b.first_indent * size
            lines += self.wrap(part, size, first_w, self.W - indent_l - indent_r)
        for k, line in enumerate(lines):
            self.need(lh)
            self.y -= lh
            w = self.width(line, size)
            if b.align == "center":
                x = self.LEFT + (self.W - w) / 2
            elif b.align == "right":
                x = self.LEFT + self.W - indent_r - w
            else:
                x = self.LEFT + indent_l + (b.first_indent * size if k == 0 else 0)
            if b.role == "portal" and line.startswith("• "):
                # Web bullets print as drawn dots, not as text.
                self.c.setFillColorRGB(0, 0, 0)
                self.c.circle(x + size * 0.3, self.y + size * 0.35, size * 0.15, fill=1, stroke=0)
                line, x = line[2:], x + size
            self.text(x, self.y + lh * 0.25, line, size, red=b.red)

    def split(self, b: Split) -> None:
        size = role_size(b.role)
        lh = self.LINE[b.role]
        self.need(lh)
        self.y -= lh
        self.text(self.LEFT + size, self.y + lh * 0.25, b.left, size)
        w = self.width(b.right, size)
        self.text(self.LEFT + self.W - size - w, self.y + lh * 0.25, b.right, size)

    def rule(self, b: Rule) -> None:
        self.need(12)
        self.y -= 8
        c = self.c
        if self.scans:  # the scan's image already shows the rule
            self.y -= 4
            return
        c.setStrokeColorRGB(1, 0, 0) if b.red else c.setStrokeColorRGB(0, 0, 0)
        c.setLineWidth(1.5 if b.red else 0.75)
        c.line(self.LEFT, self.y, self.LEFT + self.W, self.y)
        if b.double:
            c.setLineWidth(0.75)
            c.line(self.LEFT, self.y - 3, self.LEFT + self.W, self.y - 3)
        self.y -= 4

    def table(self, b: Table) -> None:
        size = DOCX_FONTS[b.role][1]
        lh = size * 1.45
        pad = 4.0
        col_w = [f * self.W for f in b.cols]
        for row in b.rows:
            widths = [*col_w[:len(row) - 1], sum(col_w[len(row) - 1:])]
            wrapped = [self.wrap(t, size, w - 2 * pad, w - 2 * pad) for t, w in zip(row, widths,
                                                                                   strict=True)]
            h = max(len(w) for w in wrapped) * lh + 2 * pad
            self.need(h)
            x = self.LEFT
            for cell_lines, w in zip(wrapped, widths, strict=True):
                if b.borders and not self.scans:
                    self.c.setStrokeColorRGB(0, 0, 0)
                    self.c.setLineWidth(0.75)
                    self.c.rect(x, self.y - h, w, h, stroke=1, fill=0)
                for k, line in enumerate(cell_lines):
                    lw = self.width(line, size)
                    if b.align == "center":
                        tx = x + (w - lw) / 2
                    elif b.align == "right":
                        tx = x + w - pad - lw - 4 * size  # 右空四字
                    else:
                        tx = x + pad
                    self.text(tx, self.y - pad - (k + 1) * lh + lh * 0.3, line, size)
                x += w
            self.y -= h

    def render(self, blocks: Sequence[Block]) -> bytes:
        for b in blocks:
            if isinstance(b, PageHeader):
                self.header = b
        for b in blocks:
            if isinstance(b, Para):
                self.para(b)
            elif isinstance(b, Blank):
                self.y -= self.LINE[b.role] * (0.6 if b.role == "body" else 1)
            elif isinstance(b, Split):
                self.split(b)
            elif isinstance(b, Rule):
                self.rule(b)
            elif isinstance(b, Table):
                self.table(b)
            elif isinstance(b, TextBox | Control):
                self.render_inner(b.blocks)
            elif isinstance(b, PageBreak):
                self.new_page()
        self._decorate()
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()

    def render_inner(self, blocks: Sequence[Para | Split | Rule | Blank]) -> None:
        for b in blocks:
            if isinstance(b, Para):
                self.para(b)
            elif isinstance(b, Blank):
                self.y -= self.LINE["body"] * 0.6
            elif isinstance(b, Split):
                self.split(b)
            elif isinstance(b, Rule):
                self.rule(b)


def render_pdf(blocks: Sequence[Block], font: str = "STSong-Light", *,
               page_numbers: bool = True, compact: bool = False) -> bytes:
    return _PdfLayout(font, page_numbers, compact).render(blocks)


def _scan_pages(pdf: bytes, max_pages: int, dpi: int) -> list[Any]:
    """The pages of `pdf` as a scanner gives them: 1-bit images."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(pdf)
    try:
        return [src[k].render(scale=dpi / 72).to_pil().convert("L")
                .point(lambda v: 255 if v > 160 else 0, mode="1")
                for k in range(min(len(src), max_pages))]
    finally:
        src.close()


def render_image_pdf(pdf: bytes, max_pages: int = 1, dpi: int = 96) -> bytes:
    """A scan: each page of `pdf` rasterised to a 1-bit image; the PDF holds no text at all."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    out = canvas.Canvas(buf, pagesize=(_PdfLayout.PAGE_W, _PdfLayout.PAGE_H), invariant=1)
    for image in _scan_pages(pdf, max_pages, dpi):
        out.drawImage(ImageReader(image), 0, 0, width=_PdfLayout.PAGE_W,
                      height=_PdfLayout.PAGE_H)
        out.showPage()
    out.save()
    return buf.getvalue()


def render_ocr_scan_pdf(blocks: Sequence[Block], font: str, dpi: int = 96) -> bytes:
    """A scanned document after OCR: page images with the recognised text laid invisibly
    over them (what scanners' "searchable PDF" makes). It has a text layer."""
    scans = _scan_pages(render_pdf(blocks, font), max_pages=99, dpi=dpi)
    return _PdfLayout(font, page_numbers=True, compact=False, scans=scans).render(blocks)


# ---------------------------------------------------------------------------------------------
# LibreOffice
# ---------------------------------------------------------------------------------------------


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_with_libreoffice(docx_files: Sequence[Path], out_dir: Path,
                             timeout: float = 900) -> None:
    """Convert all files in ONE soffice run (start-up is the slow part), with a private
    profile so parallel runs do not collide."""
    exe = soffice_path()
    if exe is None:
        raise GeneratorError("LibreOffice (soffice) is not on PATH: install "
                             "libreoffice-writer-nogui to build the LibreOffice-made PDFs")
    with tempfile.TemporaryDirectory(prefix="gongkai-lo-") as profile:
        cmd = [exe, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, docx_files)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    missing = [f for f in docx_files if not (out_dir / (f.stem + ".pdf")).exists()]
    if proc.returncode != 0 or missing:
        raise GeneratorError(f"LibreOffice failed (exit {proc.returncode}) for "
                             f"{[m.name for m in missing]}: {proc.stderr.strip()[:500]}")


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------

# (category, producer, default count). Categories name the layout, producers the tool.
PLAN: tuple[tuple[str, Producer, int], ...] = (
    ("red_header", "python-docx", 30),
    ("signer_line", "python-docx", 12),
    ("number_table", "python-docx", 10),
    ("textbox", "python-docx", 12),
    ("page_header", "python-docx", 8),
    ("letter", "python-docx", 6),
    ("no_number", "python-docx", 8),
    ("tracked_changes", "python-docx", 5),
    ("oa_template", "python-docx", 5),
    ("hidden_text", "python-docx", 3),
    ("conflict", "python-docx", 4),
    ("cover_sheet", "python-docx", 6),
    ("cover_sheet_with_body", "python-docx", 6),
    ("portal_export", "python-docx", 5),
    ("red_header", "reportlab", 20),
    ("signer_line", "reportlab", 8),
    ("number_table", "reportlab", 4),
    ("page_header", "reportlab", 4),
    ("letter", "reportlab", 4),
    ("no_number", "reportlab", 4),
    ("cover_sheet", "reportlab", 4),
    ("conflict", "reportlab", 2),
    ("portal_export", "reportlab", 5),
    ("red_header", "libreoffice", 8),
    ("signer_line", "libreoffice", 4),
    ("number_table", "libreoffice", 3),
    ("textbox", "libreoffice", 6),
    ("page_header", "libreoffice", 3),
    ("no_number", "libreoffice", 2),
    ("cover_sheet_with_body", "libreoffice", 3),
    ("oa_template", "libreoffice", 2),
    ("portal_export", "libreoffice", 1),
    ("image_only", "image", 6),
    ("red_header", "ocr", 3),
    ("signer_line", "ocr", 1),
    # Issue 12: documents as real offices make them (appended: the documents above keep
    # their indices, so they stay what they were).
    ("long_title", "python-docx", 9),
    ("long_title", "libreoffice", 6),
    ("joint", "python-docx", 8),
    ("joint", "libreoffice", 6),
    ("no_signature", "python-docx", 5),
    ("no_signature", "libreoffice", 3),
    ("attachment_only", "python-docx", 4),
    ("attachment_only", "libreoffice", 3),
    ("template", "python-docx", 4),
    ("template", "libreoffice", 2),
    ("web_export", "python-docx", 7),
    ("web_export", "libreoffice", 5),
    ("web_export", "reportlab", 2),
    ("portal_print", "libreoffice", 1),
    ("portal_print", "reportlab", 1),
)
DEFAULT_COUNT = sum(n for _, _, n in PLAN)
CATEGORIES = tuple(dict.fromkeys(c for c, _, _ in PLAN))
PRODUCERS: tuple[Producer, ...] = ("python-docx", "reportlab", "libreoffice", "image", "ocr")


@dataclass
class GeneratedDoc:
    name: str  # file name without extension
    category: str
    producer: Producer
    blocks: list[Block]
    expected: dict[str, Any]
    features: list[str]
    font: str = "STSong-Light"
    written: dict[str, Any] = field(default_factory=dict)
    # The document contradicts itself about its attribute: it must be reported in
    # `conflicts` and never read as active; `expected["disclosure"]` is then None.
    conflict: bool = False

    def __post_init__(self) -> None:
        # One organ unless a joint document names several; no placeholders unless a template.
        issuer = self.expected.get("issuer")
        if not self.expected.get("issuers"):
            self.expected["issuers"] = [issuer] if issuer else []
        if not self.expected.get("placeholders"):
            self.expected["placeholders"] = []

    @property
    def fmt(self) -> str:
        return "docx" if self.producer == "python-docx" else "pdf"


def _scaled_plan(count: int) -> list[tuple[str, Producer, int]]:
    """The plan scaled to about `count` documents, keeping one of every group at least."""
    if count == DEFAULT_COUNT:
        return list(PLAN)
    factor = count / DEFAULT_COUNT
    return [(c, p, max(1, round(n * factor))) for c, p, n in PLAN]


def make_document(seed: int, index: int, category: str, producer: Producer,
                  nth: int = 1) -> GeneratedDoc:
    """Document number `index` of the corpus; `nth` is its position among the documents of
    the same category and producer (the first portal export of each producer is the real
    hongshan export)."""
    rng = random.Random(f"{seed}:{index}:{category}:{producer}")
    name = f"{index:03d}-{category}-{producer}"
    font = PDF_FONTS[index % 2]
    if category == "portal_export":
        if nth == 0:
            lines, expected = hongshan_lines()
            features, written = ["hongshan"], {"file_number": "鸿政〔2020〕53号"}
        else:
            content = make_content(rng, index, "down", issuer=ISSUERS[index % len(ISSUERS)])
            lines, expected = portal_lines_from_content(content, rng, index)
            features = [f for f in content.features if f.startswith("spelling")]
            features.append(f"portal_disclosure:{expected['disclosure']}")
            written = {"file_number": content.number_written}
        return GeneratedDoc(name, category, producer, portal_blocks(lines), expected,
                            features, font="WQY", written=written)
    if category == "image_only":
        content = make_content(rng, index, "down")
        blocks = layout_red_header(content, rng, "centered")
        expected = {f: ([] if f in LIST_FIELDS else None) for f in EXPECTED_FIELDS}
        expected.update(source_kind="document", text_layer=False)
        return GeneratedDoc(name, category, producer, blocks, expected, ["image"], font=font)
    if category in ("cover_sheet", "cover_sheet_with_body"):
        content = make_content(rng, index, "up" if index % 3 == 0 else "down")
        marks = ("☑", "☐") if producer == "python-docx" and index % 2 else ("■", "□")
        attribute = 6 if (category, nth) == ("cover_sheet", 4) else index  # 6: nothing ticked
        blocks, expected = layout_cover_sheet(content, rng, attribute,
                                              with_body=category == "cover_sheet_with_body",
                                              checkbox_marks=marks, checkbox=nth % 3 == 1)
        features = [f for f in content.features
                    if f.split(":")[0] in ("spelling", "date", "title_lines", "security",
                                           "urgency")]
        features.append(f"cover_disclosure:{expected['disclosure']}")
        if any(m in str(blocks) for m in "☑■"):
            features.append("cover_checkboxes")
        elif "☐" in str(blocks) or "□" in str(blocks):
            features.append("cover_checkboxes_none_ticked")
        return GeneratedDoc(name, category, producer, blocks, expected, features, font=font,
                            written={"file_number": content.number_written})
    if category in ISSUE_12_KINDS:
        return ISSUE_12_KINDS[category](name, rng, index, nth, producer)
    if category == "portal_print":
        return _portal_print_document(name, producer)
    if category == "tracked_changes":
        return _tracked_changes_document(name, rng, index, nth)
    if category == "conflict":
        return _conflict_document(name, rng, index, nth, producer, font)
    if category == "hidden_text":
        return _hidden_text_document(name, rng, index, nth)
    if category == "oa_template":
        content = make_content(rng, index, "down")
        date_field = producer == "python-docx" and nth % 2 == 0
        if date_field:  # Word's date field prints Arabic numerals, right-aligned
            content.date_written = write_date(content.date, "arabic")
            content.features = [f for f in content.features if not f.startswith("date:")]
            content.features.append("date:arabic")
            content.signature_layout = "aligned"
        blocks = _oa_template(layout_red_header(content, rng, "centered"), content,
                              date_field=date_field)
        return GeneratedDoc(name, category, producer, blocks, content.expected(),
                            [*content.features, "content_controls"], font=font,
                            written=content.as_written())
    kind = {"signer_line": "up", "letter": "letter", "no_number": "plain"}.get(category, "down")
    if category in ("number_table", "textbox") and index % 3 == 0:
        kind = "up"  # 文号 and 签发人 side by side in the table / text box
    content = make_content(rng, index, kind, with_number=category != "no_number")
    placement = {"red_header": "centered", "number_table": "table",
                 "no_number": "none"}.get(category, category)
    if category == "no_number":
        blocks = _plain_blocks(content, rng)
    else:
        blocks = layout_red_header(content, rng, placement)
    return GeneratedDoc(name, category, producer, blocks, content.expected(), content.features,
                        font=font, written=content.as_written())


# ---------------------------------------------------------------------------------------------
# Documents as real offices make them (issue 12): long titles, joint documents, reports
# without a 署名, attachments without their cover, templates, web exports
# ---------------------------------------------------------------------------------------------

# Titles printed over two to three lines, broken where drafters break them: a version note
# (`（第九版）的通知`), inside 《…》, before `的实施意见`, after a line that already looks whole.
LONG_TITLES: tuple[tuple[str, ...], ...] = (
    ("关于印发{p}新冠肺炎疫情防控方案", "（第九版）的通知"),
    ("关于印发{p}传染病诊疗方案", "（试行第十版）"),
    ("{org}关于印发《{p}政务公开标准化", "规范化工作方案》的通知"),
    ("{org}关于进一步深化预算管理制度改革", "的实施意见"),
    ("关于印发《{p}重大行政决策程序", "规定（试行）》的通知"),
    ("{org}关于{y}年上半年财政预算", "执行情况的报告"),
    ("关于印发{p}突发公共卫生事件应急预案", "（{y}年修订）的通知"),
    ("{org}", "关于印发《{p}进一步优化营商环境", "若干措施》的通知"),
    ("{org}关于印发《{p}农村人居环境整治提升", "五年行动实施方案（{y}—{y2}年）》", "的通知"),
)
SEAL_ISSUER = ("石狮市应对新冠肺炎疫情工作领导小组办公室", "狮疫情办", "石狮市卫生健康局")

# 联合行文: (organ, 机关代字) in signing order; the first is the lead office.
JOINT_GROUPS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("中共石狮市委办公室", "狮委办"), ("石狮市人民政府办公室", "狮政办")),
    (("石狮市财政局", "狮财"), ("石狮市教育局", "狮教")),
    (("泉州市财政局", "泉财"), ("泉州市生态环境局", "泉环"), ("泉州市教育局", "泉教")),
    (("福建省财政厅", "闽财"), ("福建省教育厅", "闽教")),
    (("石狮市住房和城乡建设局", "狮建"), ("石狮市财政局", "狮财"), ("石狮市民政局", "狮民")),
    (("中共石狮市鸿山镇委员会", "鸿委"), ("石狮市鸿山镇人民政府", "鸿政")),
)
JOINT_HEADS = ("table", "lines", "cell")  # organs and 文件: table rows, lines, one cell (WPS)

NO_SIGNATURE_TITLES = ("{org}{y}年政府信息公开工作年度报告", "{org}{y}年度部门决算",
                       "{org}{y}年政务公开事项标准目录", "{org}{y}年度行政许可事项名录")
ANNUAL_PARAGRAPHS = (
    "本报告根据《中华人民共和国政府信息公开条例》和《{cite}》（{cite_no}）要求编制。",
    "{y}年，{org}坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开。",
    "全年主动公开政府信息{n}条，其中政策文件{m}件，未发生因政府信息公开引起的行政复议。",
)
ATTACHMENT_HEADINGS = (("{p}政务公开事项标准目录", "（{y}年版）"), ("{y}年度政务公开工作考核细则",),
                       ("{org}{y}年农村危房改造对象名单",), ("工作任务分解表",))
# page_cell: the whole page in one table cell, as Word saves a web page
WEB_HEADS = ("gov_lines", "gov_table", "markdown", "record", "page_cell")
TOPICS = ("综合政务\\政务公开", "财政、金融、审计\\财政", "卫生、体育\\卫生", "教育\\其他")


def _with_title(c: Content, lines: Sequence[str]) -> None:
    c.title_lines = list(lines)
    c.title = "".join(lines)
    c.features = [f for f in c.features if not f.startswith("title_lines:")]
    c.features.append(f"title_lines:{len(lines)}")


def _replace_block(blocks: list[Block], match: Any, new: Sequence[Block]) -> None:
    k = next(k for k, b in enumerate(blocks) if match(b))
    blocks[k:k + 1] = list(new)


def _signature_para(c: Content) -> Any:
    return lambda b: isinstance(b, Para) and b.text == c.signature and b.align == "right"


def _long_title_document(name: str, rng: random.Random, index: int, nth: int,
                         producer: Producer) -> GeneratedDoc:
    """A title over two or three lines; every third one signed `XX办公室（XX局代章）`."""
    seal = nth % 3 == 2
    base = ISSUERS[(index * 5) % len(ISSUERS)]
    issuer = dataclasses.replace(base, name=SEAL_ISSUER[0], codes=(SEAL_ISSUER[1],)) \
        if seal else base
    c = make_content(rng, index, "down", issuer=issuer)
    c.signature_layout = "aligned"
    y = c.date.year
    lines = [t.format(org=issuer.name, p=issuer.place, y=y, y2=y + 4)
             for t in LONG_TITLES[(index + nth) % len(LONG_TITLES)]]
    _with_title(c, lines)
    features = [*c.features, "long_title"]
    blocks = layout_red_header(c, rng, "centered")
    if producer == "libreoffice" and nth % 2:
        # One paragraph: LibreOffice wraps it where the line is full.
        _replace_block(blocks, lambda b: isinstance(b, Para) and b.role == "title",
                       [Para(c.title, role="title", align="center")])
        blocks = [b for b in blocks if not (isinstance(b, Para) and b.role == "title"
                                            and b.text in lines[1:])]
        features.append("title:wrapped")
    if seal:
        blocks = [b for b in blocks if not (isinstance(b, Para) and b.role == "mark")]
        _replace_block(blocks, _signature_para(c), [
            Para(c.signature, align="right", right_indent=4),
            Para(f"（{SEAL_ISSUER[2]}代章）", align="right", right_indent=4)])
        features.append("seal_note")
    return GeneratedDoc(name, "long_title", producer, blocks, c.expected(), features,
                        written=c.as_written())


def _joint_issuer(organs: Sequence[tuple[str, str]]) -> Issuer:
    lead, code = organs[0]
    base = next((i for i in ISSUERS if i.place[:2] in lead), ISSUERS[2])
    return dataclasses.replace(base, name=lead, codes=(code,), letter_code=f"{code}函")


def _joint_head(names: Sequence[str], style: str) -> list[Block]:
    """The 发文机关标志 of a joint document: 文件 to the right of the organs (GB/T 9704 7.2.4)."""
    if style == "table":
        rows = [[n, "文件" if k == 0 else ""] for k, n in enumerate(names)]
        return [Table(rows, cols=[0.78, 0.22], borders=False, role="mark", align="center",
                      red=True, merge_last_column=True)]
    if style == "cell":
        return [Table([["\n".join(names), "文件"]], cols=[0.78, 0.22], borders=False,
                      role="mark", align="center", red=True)]
    return [*(Para(n, role="mark", align="center", red=True) for n in names),
            Para("文件", role="mark", align="center", red=True)]


def _joint_document(name: str, rng: random.Random, index: int, nth: int,
                    producer: Producer) -> GeneratedDoc:
    """联合行文: several organs in the 版头 and in the 署名, the lead office's 文号."""
    organs = JOINT_GROUPS[(index + nth) % len(JOINT_GROUPS)]
    names = [n for n, _ in organs]
    c = make_content(rng, index, "down", issuer=_joint_issuer(organs))
    c.signature_layout = "aligned"
    if c.title.startswith(c.issuer.name):
        title = c.title[len(c.issuer.name):]
        _with_title(c, _split_title(title, 1 if len(title) <= 20 else 2))
    head = JOINT_HEADS[nth % len(JOINT_HEADS)]
    blocks = layout_red_header(c, rng, "centered")
    _replace_block(blocks, lambda b: isinstance(b, Para) and b.role == "mark",
                   _joint_head(names, head))
    if (nth // len(JOINT_HEADS)) % 2:  # two organs side by side on a line, as sealed
        rows = ["　　".join(names[k:k + 2]) for k in range(0, len(names), 2)]
        signature = "side"
    else:
        rows, signature = names, "lines"
    _replace_block(blocks, _signature_para(c),
                   [Para(r, align="right", right_indent=4) for r in rows])
    expected = c.expected()
    expected.update(issuer=" ".join(names), issuers=names)
    features = [*c.features, f"joint:{head}", f"joint_signature:{signature}",
                f"joint:{len(names)}"]
    return GeneratedDoc(name, "joint", producer, blocks, expected, features,
                        written=c.as_written())


def _stats_table() -> Table:
    return Table([["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
                  ["规章", "0", "0", "0"], ["行政规范性文件", "3", "1", "12"]],
                 cols=[0.4, 0.2, 0.2, 0.2], borders=True, role="small", align="center")


def _no_signature_document(name: str, rng: random.Random, index: int, nth: int,
                           producer: Producer) -> GeneratedDoc:
    """An annual report, a 决算, a list: no 文号, no 署名 or 成文日期, no 附注; its title begins
    with the organ that made it."""
    issuer = ISSUERS[(index * 3 + nth) % len(ISSUERS)]
    year = rng.randint(2015, 2024)
    title = NO_SIGNATURE_TITLES[(index + nth) % len(NO_SIGNATURE_TITLES)].format(
        org=issuer.name, y=year)
    lines = _split_title(title, 2) if producer == "python-docx" and nth % 2 else [title]
    cite_title, code, cite_year, serial = CITED_POOL[(index + nth) % len(CITED_POOL)]
    cited = canonical_number(code, cite_year, serial)
    paragraphs = [p.format(cite=cite_title, cite_no=cited, y=year, org=issuer.name,
                           n=rng.randint(80, 900), m=rng.randint(3, 40))
                  for p in ANNUAL_PARAGRAPHS]
    blocks: list[Block] = [Blank(), *(Para(t, role="title", align="center") for t in lines),
                           Blank(), Para(paragraphs[0], first_indent=2), Para("一、总体情况"),
                           Para(paragraphs[1], first_indent=2), _stats_table(),
                           Para("二、主动公开政府信息情况"), Para(paragraphs[2], first_indent=2)]
    expected = {f: ([] if f in LIST_FIELDS else None) for f in EXPECTED_FIELDS}
    expected.update(title=title, issuer=issuer.name, issuers=[issuer.name],
                    cited_file_numbers=[cited], source_kind="document", text_layer=True)
    return GeneratedDoc(name, "no_signature", producer, blocks, expected,
                        ["no_signature", f"title_lines:{len(lines)}"])


def _attachment_only_document(name: str, rng: random.Random, index: int, nth: int,
                              producer: Producer) -> GeneratedDoc:
    """An attachment handed over without its cover document: `附件2`, then its heading."""
    issuer = ISSUERS[(index + nth) % len(ISSUERS)]
    year = rng.randint(2015, 2024)
    heading = [h.format(p=issuer.place, y=year, org=issuer.name)
               for h in ATTACHMENT_HEADINGS[(index + nth) % len(ATTACHMENT_HEADINGS)]]
    label = ("附件2", "附件1", "附件", "附件3：")[(index + nth) % 4]
    cite_title, code, cite_year, serial = CITED_POOL[(index * 3 + nth) % len(CITED_POOL)]
    cited = canonical_number(code, cite_year, serial)
    blocks: list[Block] = [Para(label), Blank(),
                           *(Para(h, role="title", align="center") for h in heading), Blank(),
                           Para(f"根据《{cite_title}》（{cited}）要求，制定本{heading[0][-2:]}。",
                                first_indent=2),
                           *(Para(p.format(y=year + 1), first_indent=2) for p in ATTACHMENT_BODY)]
    title = "".join(heading)
    from_title = re.match(r"^(.+?)(?:19|20)[0-9]{2}年", title)
    issuer_name = issuer.name if from_title and from_title.group(1) == issuer.name else None
    expected = {f: ([] if f in LIST_FIELDS else None) for f in EXPECTED_FIELDS}
    expected.update(title=title, issuer=issuer_name,
                    issuers=[issuer_name] if issuer_name else [],
                    cited_file_numbers=[cited], source_kind="document", text_layer=True)
    return GeneratedDoc(name, "attachment_only", producer, blocks, expected,
                        ["attachment_only", f"attachment_label:{label}"])


TEMPLATE_NUMBERS = ("XX发〔20XX〕XX号", "〔20XX〕XX号", "{code}〔{y}〕　号")
TEMPLATE_TITLES = ("XXXX人民政府关于XXXX的通知", "关于XXXXXX的通知")
TEMPLATE_DATES = ("20XX年X月X日", "年　月　日")


def _template_document(name: str, rng: random.Random, index: int, nth: int,
                       producer: Producer) -> GeneratedDoc:
    """A blank red-header template: placeholders where the values belong. Its fields stay
    empty and `placeholders` names each one: 版头 lines, then the 成文日期, then the fields
    (title, issuer, recipients, cc, print_issuer)."""
    base = ISSUERS[index % len(ISSUERS)]
    issuer = dataclasses.replace(base, name="XXXX人民政府", print_office="XXXX人民政府办公室")
    c = make_content(rng, index, "down", issuer=issuer)
    c.security = c.security_written = None
    c.urgency = None
    c.copy_number = "{{份号}}" if nth % 2 else None
    number = TEMPLATE_NUMBERS[nth % len(TEMPLATE_NUMBERS)].format(code=base.codes[0],
                                                                  y=c.date.year)
    c.number_written, c.number_canonical = number, None
    _with_title(c, [TEMPLATE_TITLES[nth % len(TEMPLATE_TITLES)]])
    c.recipients, c.cc = "各XX", "XXXX，XXXX"
    c.date_written = TEMPLATE_DATES[nth % len(TEMPLATE_DATES)]
    c.note_lines = ["（此件主动公开）"]
    c.banji_disclosure, c.disclosure = None, "active"
    c.attachments, c.attachment_lines = [], []
    c.cited = list(c.body_cited)
    c.signature_layout = "aligned"
    blocks = layout_red_header(c, rng, "centered")
    expected = c.expected()
    found = (["版头: {{份号}}"] if c.copy_number else []) + [
        f"file_number: {number}", f"date: {c.date_written}"]
    if "XX" in c.title:
        found.append(f"title: {c.title}")
    found += ["issuer: XXXX人民政府", "recipients: 各XX", "cc: XXXX，XXXX",
              "print_issuer: XXXX人民政府办公室"]
    expected.update(file_number=None, title=None, issuer=None, issuers=[], date=None,
                    recipients=None, cc=None, print_issuer=None, copy_number=None,
                    placeholders=found)
    return GeneratedDoc(name, "template", producer, blocks, expected,
                        ["template", f"template_number:{nth % len(TEMPLATE_NUMBERS)}"],
                        written=c.as_written())


def _web_head(c: Content, style: str, index_number: str, publish: str) -> list[Block]:
    """The record header a portal page prints above a document (国务院 style or a plain one)."""
    number = c.number_written or ""
    written = f"{c.date.year}年{c.date.month:02d}月{c.date.day:02d}日"
    topic = TOPICS[len(c.title) % len(TOPICS)]
    if style == "gov_table":
        rows = [["索 引 号：", index_number], ["主题分类：", topic], ["发文机关：", c.issuer.name],
                ["成文日期：", written], ["标　　题：", c.title], ["发文字号：", number],
                ["发布日期：", publish]]
        return [Table(rows, cols=[0.18, 0.82], borders=True, role="small"), Blank()]
    if style == "gov_lines":
        lines = [f"索 引 号：{index_number}　　主题分类：{topic}",
                 f"发文机关：{c.issuer.name}　　成文日期：{written}", f"标　　题：{c.title}",
                 f"发文字号：{number}　　发布日期：{publish}"]
    elif style == "markdown":
        lines = [f"**标题：**{c.title}", f"**文 号：**{number}", f"**发文机关：**{c.issuer.name}",
                 f"**成文日期：**{c.date.isoformat()}", f"**发布日期：**{publish}", "---"]
    else:
        lines = [f"标题：{c.title}", f"文号：{number}", f"发文机关：{c.issuer.name}",
                 f"成文日期：{written}"]
    return [*(Para(t, role="small") for t in lines), Blank()]


def _web_export_document(name: str, rng: random.Random, index: int, nth: int,
                         producer: Producer) -> GeneratedDoc:
    """A document saved from a portal's page: the record's labels, then the text."""
    c = make_content(rng, index, "down", issuer=ISSUERS[(index + nth) % len(ISSUERS)])
    c.security = c.security_written = c.copy_number = c.urgency = None  # a page has none
    style = WEB_HEADS[nth % len(WEB_HEADS)]
    index_number = f"{c.issuer.index_code}-3000-{c.date.year}-{rng.randint(1, 400):05d}"
    publish = (c.date + dt.timedelta(days=rng.randint(0, 9))).isoformat()
    gov = style in ("gov_lines", "gov_table", "page_cell")
    blocks = _web_head(c, "gov_lines" if style == "page_cell" else style, index_number, publish)
    blocks.append(Para(c.title, role="title", align="center"))
    if style in ("gov_lines", "page_cell"):  # breadcrumbs above, the 文号 under the title
        blocks.insert(0, Para("首页 > 政府信息公开 > 政策文件库", role="small"))
        blocks.append(Para(c.number_written or "", align="center"))
    blocks += [Blank(), Para(c.recipients + "："),
               *(Para(p, first_indent=2) for p in c.paragraphs), Blank(),
               Para(c.signature, align="right", right_indent=4),
               Para(c.date_written, align="right", right_indent=4),
               *(Para(n, first_indent=2) for n in c.note_lines)]
    if c.banji_disclosure:
        blocks.append(Para(c.banji_disclosure, left_indent=1))
    if style == "page_cell":
        page = "\n".join(b.text for b in blocks if isinstance(b, Para))
        blocks = [Table([[page]], cols=[1.0], borders=False, role="small")]
    portal_labels = style != "record"
    expected = c.expected()
    expected.update(
        source_kind="portal_export", attachments=[], cc=None, print_issuer=None,
        print_date=None, copy_number=None, security_level=None, security_period=None,
        urgency=None, signer=None, cited_file_numbers=list(c.body_cited),
        index_number=index_number if gov else None,
        publish_date=publish if portal_labels else None,
    )
    written = c.as_written()
    return GeneratedDoc(name, "web_export", producer, blocks, expected,
                        ["web_export", f"web_export:{style}"], font="WQY", written=written)


def _portal_print_document(name: str, producer: Producer) -> GeneratedDoc:
    """The project's source document as its portal page printed to PDF: large enough that
    the 标题 label's value and the title wrap."""
    lines, expected = hongshan_lines()
    return GeneratedDoc(name, "portal_print", producer, portal_blocks(lines, role="body"),
                        expected, ["hongshan", "portal_print"], font="WQY",
                        written={"file_number": "鸿政〔2020〕53号"})


ISSUE_12_KINDS = {"long_title": _long_title_document, "joint": _joint_document,
                  "no_signature": _no_signature_document,
                  "attachment_only": _attachment_only_document,
                  "template": _template_document, "web_export": _web_export_document}


# (attribute before review, attribute after review, truth): the reviewer's tracked change.
TRACKED_ATTRIBUTES: tuple[tuple[str, str | None, str | None], ...] = (
    ("此件主动公开", "此件不予公开", "withheld"),
    ("此件主动公开", None, None),
    ("此件主动公开", "此件依申请公开", "on_request"),
    ("此件不予公开", "此件主动公开", "active"),
    ("此件主动公开", "此件删减后公开", "partial"),
)


def _tracked_changes_document(name: str, rng: random.Random, index: int,
                              nth: int) -> GeneratedDoc:
    """A draft handed over with a reviewer's tracked changes still in it (w:del/w:ins) and a
    comment. The truth is the text with the changes accepted: a deleted （此件主动公开） is
    not the attribute."""
    c = make_content(rng, index, "down")
    old, new, value = TRACKED_ATTRIBUTES[nth % len(TRACKED_ATTRIBUTES)]
    code, year, serial = re.fullmatch(r"(.+)〔(\d{4})〕(\d+)号", c.number_canonical or "").groups()
    c.number_written = f"{code}〔{year}〕[-{int(serial) + 1}-][+{serial}+]号"
    extra = [line for line in c.note_lines if not _is_attribute_line(line)]
    c.note_lines = [f"[-（{old}）-]" + (f"[+（{new}）+]" if new else ""), *extra]
    c.banji_disclosure, c.disclosure = None, value
    blocks = layout_red_header(c, rng, "centered")
    first_title = next(b for b in blocks if isinstance(b, Para) and b.role == "title")
    first_title.comment = f"建议{old}" if rng.random() < 0.5 else "标题是否再精简？"
    written = c.as_written()
    written.update(file_number=accepted(c.number_written),
                   notes=[accepted(n) for n in c.note_lines])
    features = [*c.features, "tracked_changes", f"tracked:{old}->{new}"]
    return GeneratedDoc(name, "tracked_changes", "python-docx", blocks, c.expected(), features,
                        written=written)


HIDDEN_ATTRIBUTES: tuple[tuple[str, str | None, str | None], ...] = (
    ("此件主动公开", "此件不予公开", "withheld"),
    ("此件主动公开", None, None),
    ("此件主动公开", "此件依申请公开", "on_request"),
)


def _hidden_text_document(name: str, rng: random.Random, index: int,
                          nth: int) -> GeneratedDoc:
    """A drafter hid (w:vanish) the old 附注 instead of deleting it: hidden text is not
    printed and is not the attribute."""
    c = make_content(rng, index, "down")
    hidden, shown, value = HIDDEN_ATTRIBUTES[nth % len(HIDDEN_ATTRIBUTES)]
    extra = [line for line in c.note_lines if not _is_attribute_line(line)]
    c.note_lines = [f"[~（{hidden}）~]" + (f"（{shown}）" if shown else ""), *extra]
    c.banji_disclosure, c.disclosure = None, value
    blocks = layout_red_header(c, rng, "centered")
    written = c.as_written()
    written["notes"] = [accepted(n) for n in c.note_lines]
    return GeneratedDoc(name, "hidden_text", "python-docx", blocks, c.expected(),
                        [*c.features, "hidden_text"], written=written)


def _conflict_document(name: str, rng: random.Random, index: int, nth: int,
                       producer: Producer, font: str) -> GeneratedDoc:
    """A document that contradicts itself about its attribute: the cover sheet says 不予公开
    and the 附注 says 主动公开, or the 附注 and the 版记 disagree."""
    c = make_content(rng, index, "down")
    c.security = c.security_written = c.copy_number = None
    c.note_lines = [line for line in c.note_lines if not _is_attribute_line(line)]
    if nth % 2 == 0:
        c.banji_disclosure = None
        blocks, expected = layout_cover_sheet(c, rng, 2, with_body=True,
                                              body_attribute="（此件主动公开）")
        features = ["conflict", "conflict:cover_vs_note"]
    else:
        c.note_lines.insert(0, "（此件主动公开）")
        c.banji_disclosure = rng.choice(("公开方式：不予公开", "公开属性：依申请公开"))
        blocks = layout_red_header(c, rng, "centered")
        expected = c.expected()
        features = ["conflict", "conflict:note_vs_banji"]
    expected["disclosure"] = None
    return GeneratedDoc(name, "conflict", producer, blocks, expected, features, font=font,
                        written=c.as_written(), conflict=True)


def _oa_template(blocks: list[Block], c: Content, date_field: bool = False) -> list[Block]:
    """The document as an OA system's template fills it: 文号, 标题, 成文日期 and 附注 are
    content controls (w:sdt), which python-docx's `paragraphs` does not see. `date_field`:
    the 成文日期 is instead a CREATEDATE field with its printed value cached (LibreOffice
    would recompute it, so only for .docx)."""
    out: list[Block] = []
    titles: list[Para] = []
    for b in blocks:
        if isinstance(b, Para) and b.role == "title":
            titles.append(b)
            continue
        if titles:
            out.append(Control(titles, "标题"))
            titles = []
        if isinstance(b, Para):
            if b.text == c.number_written:
                b.control = "发文字号"
            elif b.text == c.date_written and date_field and c.date_written[:4].isdigit():
                picture = "yyyy年MM月dd日" if "年0" in b.text or "月0" in b.text else "yyyy年M月d日"
                b.field = f' CREATEDATE \\@ "{picture}" '
                c.features.append("date_field")
            elif b.text == c.date_written:
                b.control = "成文日期"
            elif b.text in c.note_lines:
                b.control = "附注"
        out.append(b)
    return out


def _plain_blocks(c: Content, rng: random.Random) -> list[Block]:
    """A document with no 文号 of its own (e.g. an office notice); its body cites others."""
    blocks: list[Block] = _masthead(c)
    if rng.random() < 0.5:
        blocks.append(Para(c.mark, role="mark", align="center", red=True))
        blocks.append(Rule())
    return blocks + _body_blocks(c, rng)


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT,
             libreoffice: bool = True) -> list[GeneratedDoc]:
    docs: list[GeneratedDoc] = []
    index = 0
    for category, producer, n in _scaled_plan(count):
        if producer == "libreoffice" and not libreoffice:
            index += n
            continue
        for nth in range(n):
            docs.append(make_document(seed, index, category, producer, nth))
            index += 1
    return docs


def write_documents(docs: Sequence[GeneratedDoc], out_dir: Path, *, truth_files: bool = True,
                    manifest: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, dict[str, Any]]] = []
    lo_jobs: list[GeneratedDoc] = []
    for d in docs:
        if d.producer == "python-docx":
            data = render_docx(d.blocks)
        elif d.producer == "reportlab":
            data = render_pdf(d.blocks, d.font, page_numbers=d.category != "portal_export",
                              compact=d.category == "portal_export")
        elif d.producer == "ocr":
            data = render_ocr_scan_pdf(d.blocks, d.font)
        elif d.producer == "image":
            data = render_image_pdf(render_pdf(d.blocks, d.font), max_pages=1 + (len(d.name) % 2))
        else:
            lo_jobs.append(d)
            continue
        (out_dir / f"{d.name}.{d.fmt}").write_bytes(data)
    if lo_jobs:
        with tempfile.TemporaryDirectory(prefix="gongkai-lo-src-") as src:
            sources = []
            for d in lo_jobs:
                path = Path(src) / f"{d.name}.docx"
                path.write_bytes(render_docx(d.blocks))
                sources.append(path)
            convert_with_libreoffice(sources, out_dir)
    manifest_path, truths = manifest, []
    for d in docs:
        path = out_dir / f"{d.name}.{d.fmt}"
        truth = {"file": path.name, "category": d.category, "producer": d.producer,
                 "format": d.fmt, "features": d.features, "as_written": d.written,
                 "conflict": d.conflict, "expected": d.expected}
        if truth_files:
            (out_dir / f"{d.name}.truth.json").write_text(
                json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        truths.append(truth)
        written.append((path, truth))
    (manifest_path or out_dir / "manifest.json").write_text(
        json.dumps(truths, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return written


def build_corpus(out_dir: Path, *, seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT,
                 libreoffice: bool = True) -> list[tuple[Path, dict[str, Any]]]:
    """Generate and write the corpus; returns (path, truth) for every document."""
    return write_documents(generate(seed, count, libreoffice), out_dir)


def source_fingerprint() -> str:
    """Changes whenever the generator or its data changes (the corpus cache key)."""
    h = hashlib.sha256(Path(__file__).read_bytes())
    h.update(HONGSHAN_TXT.read_bytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------------------------
# Samples shipped in the repository
# ---------------------------------------------------------------------------------------------

SAMPLE_SEED = 9704


def _with_disclosure(c: Content, phrase: str | None, value: str | None) -> Content:
    c.note_lines = [f"（{phrase}）"] if phrase else []
    c.banji_disclosure = None
    c.disclosure = value
    return c


SAMPLES_TRUTH = Path(__file__).resolve().parent / "data" / "samples-truth.json"


def build_samples(out_dir: Path, *, manifest: Path | None = None
                  ) -> list[tuple[Path, dict[str, Any]]]:
    """About eight small documents of mixed dispositions, for the README's first command.

    Their truth goes to `manifest` (the repository keeps it in tests/data/, so that samples/
    holds only documents and `gongkai ingest samples/` reads nothing else)."""
    rng = random.Random(SAMPLE_SEED)
    hongshan, issuers = ISSUERS[0], ISSUERS
    docs: list[GeneratedDoc] = []

    def doc(name: str, category: str, producer: Producer, c: Content, placement: str) -> None:
        c.security = c.security if c.security_written else None
        blocks = layout_red_header(c, rng, placement)
        docs.append(GeneratedDoc(name, category, producer, blocks, c.expected(), [],
                                 written=c.as_written()))

    def plain(c: Content) -> Content:
        c.security, c.security_written, c.copy_number, c.urgency = None, None, None, None
        c.signer = c.signer if c.upward else None
        return c

    c = _with_disclosure(plain(make_content(rng, 1, "down", issuer=hongshan)), "此件主动公开",
                         "active")
    doc("01-active-red-header", "red_header", "python-docx", c, "centered")
    c = _with_disclosure(plain(make_content(rng, 2, "up", issuer=issuers[2])), "此件不予公开",
                         "withheld")
    doc("02-withheld-request-signer", "signer_line", "reportlab", c, "signer_line")
    c = _with_disclosure(plain(make_content(rng, 3, "down", issuer=issuers[7])), "此件依申请公开",
                         "on_request")
    doc("03-on-request-textbox", "textbox", "python-docx", c, "textbox")
    c = _with_disclosure(plain(make_content(rng, 4, "down", issuer=issuers[9])), "此件删减后公开",
                         "partial")
    doc("04-partial-red-header", "red_header", "reportlab", c, "centered")
    c = _with_disclosure(make_content(rng, 7, "down", issuer=issuers[5]), "此件不予公开",
                         "withheld")
    doc("05-secret-marked-withheld", "red_header", "python-docx", c, "centered")
    c = _with_disclosure(plain(make_content(rng, 6, "down", issuer=issuers[3])), None, None)
    doc("06-no-attribute", "red_header", "reportlab", c, "centered")
    lines, expected = hongshan_lines()
    docs.append(GeneratedDoc("07-hongshan-portal-export", "portal_export", "python-docx",
                             portal_blocks(lines), expected, ["hongshan"], font="WQY"))
    c = plain(make_content(rng, 9, "down", issuer=issuers[6]))
    blocks, expected = layout_cover_sheet(c, rng, 2, with_body=False)
    docs.append(GeneratedDoc("08-withheld-cover-sheet", "cover_sheet", "python-docx", blocks,
                             expected, [], written={"file_number": c.number_written}))
    return write_documents(docs, out_dir, truth_files=False, manifest=manifest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write the corpus into this folder")
    target.add_argument("--samples", type=Path, help="write the repository samples here")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT,
                        help=f"about this many documents (default {DEFAULT_COUNT}); every "
                             "layout and producer keeps at least one")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-libreoffice", action="store_true",
                        help="skip the PDFs made by LibreOffice")
    args = parser.parse_args(argv)
    try:
        if args.samples:
            written = build_samples(args.samples, manifest=SAMPLES_TRUTH)
        else:
            written = build_corpus(args.out, seed=args.seed, count=args.count,
                                   libreoffice=not args.no_libreoffice)
    except GeneratorError as exc:
        print(f"generator: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(written)} documents to {args.samples or args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
