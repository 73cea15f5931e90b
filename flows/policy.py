"""The routing policy: where a document goes, as a table of named rules. Pure: values in and out.

`route()` evaluates `RULES` in order; the first rule that applies decides, and the decision
carries the rule's name and a reason in Chinese and English. The order is the safety argument:

1. security_marking   秘密/机密/绝密                      -> quarantined, whatever else it says
2. ocr_unavailable    a scan, and no OCR installed here   -> exception, saying what to install
3. read_by_ocr        the fields were read by OCR         -> exception: a person confirms them
4. no_text_layer      a scan without text                 -> exception
5. template           placeholders where values belong (XX发〔20XX〕XX号) -> exception
6. conflict           the document contradicts itself     -> exception
7. index_number_taken its 索引号 is held by another document -> exception
8. declared_mismatch  drafting system declared another attribute (or an unknown one) -> exception
9. no_attribute       no 公开属性 stated: a person decides, it is never guessed -> exception
10. unknown_attribute a value outside the four            -> exception
11. active            主动公开                             -> published
12. partial           删减后公开                           -> needs_redaction
13. on_request        依申请公开                           -> on_request
14. withheld          不予公开                             -> withheld, next review date by reason

After the table, a new version of a 文号 already decided (`precedent.standing`) whose route
differs from the standing decision, or whose 文号 was withdrawn, goes to exception
(`version_conflict`): a decision on a 文号 sticks.

So `published` is reachable only through rule 11: read as active from the file's own text (not
by OCR), no security marking, not a template, nothing in conflict, no 索引号 of another
document, and a declaration (if any) that agrees. A reviewer's `release` (`decide_review`) and
a person's `resolve_exception` are the only other ways, and both still refuse a security-marked
document.

Review periods for withheld documents come from `review_months` (reason -> months, "default"
12, "过程性信息" 3), matched loosely against the stated 不公开理由, see `review_period`.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from gongkai.extractors.dates import find_dates
from gongkai.extractors.fields import normalize_disclosure
from gongkai.extractors.model import DISCLOSURE_VALUES, DocumentMetadata
from gongkai.extractors.ocr import INSTALL_HINT as OCR_INSTALL_HINT
from gongkai.flows.lifecycle import State

RoutedState = Literal[
    "published", "needs_redaction", "on_request", "withheld", "quarantined", "exception"
]
ReviewDecision = Literal["release", "keep", "partial"]
REVIEW_DECISIONS: tuple[str, ...] = ("release", "keep", "partial")
SECURITY_LEVELS: tuple[str, ...] = ("秘密", "机密", "绝密")

DEFAULT_REVIEW_MONTHS = 12

# Categories of reasons for withholding (《政府信息公开条例》art. 14-16) and the words that
# say them. `review_months` is keyed by these category names (or by any literal text); a stated
# reason that names any of the words falls in the category. 过程性信息 covers the four kinds of
# process information art. 16 lists: 讨论记录、过程稿、磋商信函、请示报告.
REASON_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "过程性信息": ("过程性信息", "过程信息", "讨论记录", "过程稿", "磋商信函", "请示报告"),
    "内部事务信息": ("内部事务", "人事管理", "后勤管理", "内部工作流程", "内部管理"),
    "行政执法案卷信息": ("行政执法案卷", "执法案卷"),
    "国家秘密": ("国家秘密", "涉密"),
    "三安全一稳定": ("国家安全", "公共安全", "经济安全", "社会稳定"),
    "商业秘密": ("商业秘密",),
    "个人隐私": ("个人隐私", "个人信息"),
}


class PolicyRefusal(ValueError):
    """A decision the policy does not allow (e.g. releasing a security-marked document)."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    state: RoutedState
    rule: str  # name of the rule that decided
    reason: str  # for people: Chinese, then English
    disclosure: str | None  # the attribute the decision rests on (as read, or as a person said)
    next_review_at: date | None = None  # withheld only
    exception_reason: str | None = None  # exception only: what a person has to decide


@dataclass(frozen=True, slots=True)
class StandingDecision:
    """The decision standing on a 文号 (and issuer): where its latest decided version went."""

    document_id: int
    file_number: str
    state: str  # published, withheld, on_request, needs_redaction, quarantined, withdrawn
    decided_on: date


@dataclass(frozen=True, slots=True)
class Precedent:
    """What the catalog already holds that bears on a document, handed in as values (the
    policy reads no database)."""

    # Another document (not an earlier version of this one) holds the 索引号 read from it.
    index_number_holder: int | None = None
    # The document is a new version of a 文号 already decided: that decision.
    standing: StandingDecision | None = None


NO_PRECEDENT = Precedent()


@dataclass(frozen=True, slots=True)
class RouteInput:
    """What a rule looks at."""

    metadata: DocumentMetadata
    declared: str | None  # the drafting system's declaration, normalised (None: none made)
    declared_raw: str | None  # as handed over, for the reason text
    review_months: Mapping[str, int]
    today: date
    precedent: Precedent = NO_PRECEDENT


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    applies: Callable[[RouteInput], bool]
    state: RoutedState
    reason: Callable[[RouteInput], str]


# --------------------------------------------------------------------------------------------
# helpers


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def reason_categories(reason: str | None) -> list[str]:
    """The REASON_CATEGORIES a stated reason falls in, in table order."""
    if not reason:
        return []
    text = re.sub(r"\s+", "", reason)
    return [name for name, words in REASON_CATEGORIES.items() if any(w in text for w in words)]


def review_period(reason: str | None, review_months: Mapping[str, int]) -> tuple[int, str]:
    """(months, which key decided) for a stated reason.

    A key of `review_months` matches when the reason contains it literally or when the reason
    falls in the category of that name (so "讨论记录" finds "过程性信息"). Several matches: the
    shortest period wins (the document is looked at again sooner, never later). No match:
    "default" (12 months if not configured)."""
    text = re.sub(r"\s+", "", reason or "")
    categories = set(reason_categories(text))
    matches = [
        (months, key)
        for key, months in review_months.items()
        if key != "default" and key and (key in text or key in categories)
    ]
    if matches:
        return min(matches)
    return int(review_months.get("default", DEFAULT_REVIEW_MONTHS)), "default"


def next_review_date(reason: str | None, *, review_months: Mapping[str, int], today: date) -> date:
    months, _ = review_period(reason, review_months)
    return add_months(today, months)


def _check_review_months(review_months: Mapping[str, int]) -> None:
    for key, months in review_months.items():
        if not isinstance(months, int) or isinstance(months, bool) or months < 1:
            raise ValueError(f"review_months[{key!r}] must be a whole number of months ≥ 1, "
                             f"not {months!r}")  # fmt: skip


def normalize_declared(value: str | None) -> str | None:
    """A declaration as handed over -> active/on_request/withheld/partial, "" for a value that
    is not an attribute, None when nothing was declared. Accepts the canonical values and the
    Chinese phrases (主动公开, 依申请公开, 不予公开, 删减后公开 ...)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.lower() in DISCLOSURE_VALUES:
        return text.lower()
    return normalize_disclosure(text) or ""


# The Chinese name of each attribute (flows/labels.py shows them to a clerk).
DISCLOSURE_LABELS: dict[str, str] = {
    "active": "主动公开", "on_request": "依申请公开", "withheld": "不予公开",
    "partial": "删减后公开",
}  # fmt: skip
_ZH = DISCLOSURE_LABELS


def _zh(value: str | None) -> str:
    return _ZH.get(value or "", repr(value))


# --------------------------------------------------------------------------------------------
# the rules


def _declared_mismatch(i: RouteInput) -> bool:
    return i.declared is not None and i.declared != i.metadata.disclosure


def _declared_reason(i: RouteInput) -> str:
    stated = i.metadata.disclosure
    if i.declared == "":
        return (
            f"报送系统申报的公开属性无法识别（{i.declared_raw}）；"
            f"the drafting system declared {i.declared_raw!r}, which is not an attribute"
        )
    return (f"报送系统申报“{_zh(i.declared)}”，文件载明“{_zh(stated) if stated else '无'}”；"
            f"the drafting system declared {i.declared}, the document states "
            f"{stated or 'none'}")  # fmt: skip


def _placeholder_values(metadata: DocumentMetadata) -> list[str]:
    """`XX发〔20XX〕XX号` of `file_number: XX发〔20XX〕XX号`: what a clerk sees in the file."""
    return [found.split(": ", 1)[-1] for found in metadata.placeholders]


RULES: tuple[Rule, ...] = (
    Rule(
        "security_marking",
        lambda i: bool(i.metadata.security_level),
        "quarantined",
        lambda i: (
            f"文件标有密级“{i.metadata.security_level}”，一律不予发布；"
            f"carries the security marking {i.metadata.security_level}: never published"
        ),
    ),
    Rule(
        "ocr_unavailable",
        lambda i: i.metadata.ocr == "unavailable",
        "exception",
        lambda i: (
            "扫描件须经文字识别（OCR），本机未安装 Tesseract 或其中文模型，请安装："
            f"{OCR_INSTALL_HINT}，然后重新处理；a scan needs OCR, and Tesseract with its "
            f"chi_sim model is not installed here: {OCR_INSTALL_HINT}"
        ),
    ),
    Rule(
        "read_by_ocr",
        lambda i: i.metadata.ocr == "read",
        "exception",
        lambda i: "文字经OCR识别，请人工核对各项信息；read by OCR, confirm the fields",
    ),
    Rule(
        "no_text_layer",
        lambda i: not i.metadata.text_layer,
        "exception",
        lambda i: "文件无文字层（扫描件），无法读取；no text layer (a scan): it cannot be read",
    ),
    Rule(
        "template",
        lambda i: bool(i.metadata.placeholders),
        "exception",
        lambda i: (
            "文件为模板（含占位符：" + "、".join(_placeholder_values(i.metadata)) + "），"
            "并非已印发的公文，不予发布；template, not an issued document: placeholders in "
            + ", ".join(i.metadata.placeholders)
        ),
    ),
    Rule(
        "conflict",
        lambda i: bool(i.metadata.conflicts),
        "exception",
        lambda i: (
            "文件内容自相矛盾，由人工确定；the document contradicts itself: "
            + "; ".join(i.metadata.conflicts)
        ),
    ),
    Rule(
        "index_number_taken",
        lambda i: i.precedent.index_number_holder is not None,
        "exception",
        lambda i: (
            f"索引号“{i.metadata.index_number}”已由文档 {i.precedent.index_number_holder} 使用，"
            f"由人工确定；the 索引号 {i.metadata.index_number} is already held by document "
            f"{i.precedent.index_number_holder}: a person decides"
        ),
    ),
    Rule("declared_mismatch", _declared_mismatch, "exception", _declared_reason),
    Rule(
        "no_attribute",
        lambda i: i.metadata.disclosure is None,
        "exception",
        lambda i: (
            "文件未载明公开属性，由人工确定，不作推定；"
            "no disclosure attribute stated: a person decides, it is never guessed"
        ),
    ),
    Rule(
        "unknown_attribute",
        lambda i: i.metadata.disclosure not in DISCLOSURE_VALUES,
        "exception",
        lambda i: (
            f"公开属性“{i.metadata.disclosure}”无法识别；"
            f"{i.metadata.disclosure!r} is not a disclosure attribute"
        ),
    ),
    Rule(
        "active",
        lambda i: i.metadata.disclosure == "active",
        "published",
        lambda i: "此件主动公开，无密级、无矛盾；stated active (主动公开), no marking, no conflict",
    ),
    Rule(
        "partial",
        lambda i: i.metadata.disclosure == "partial",
        "needs_redaction",
        lambda i: (
            "删减后公开：待人工提供删减稿；"
            "partial disclosure: published once a person supplies the redacted version"
        ),
    ),
    Rule(
        "on_request",
        lambda i: i.metadata.disclosure == "on_request",
        "on_request",
        lambda i: "依申请公开：登记备查；on request (依申请公开): registered for requests",
    ),
    Rule(
        "withheld",
        lambda i: i.metadata.disclosure == "withheld",
        "withheld",
        lambda i: _withheld_reason(i.metadata.disclosure_reason, i.review_months, i.today),
    ),
)


def withholding_reason(decided: str | None, stated: str | None) -> str | None:
    """The reason a document is withheld for: a person's (`decided`) and the document's own
    (`stated`, its 附注 or cover sheet), both kept when they differ."""
    parts = [p.strip() for p in (decided, stated) if p and p.strip()]
    return "；".join(dict.fromkeys(parts)) or None


def _withheld_reason(stated: str | None, review_months: Mapping[str, int], today: date) -> str:
    months, key = review_period(stated, review_months)
    due = add_months(today, months)
    why = f"（理由：{stated}）" if stated else "（未说明理由）"
    return (
        f"不予公开{why}，{months}个月后（{due.isoformat()}）定期评估审查；withheld, "
        f"reviewed again in {months} months on {due.isoformat()} (period: {key})"
    )


def _decide(rule: Rule, i: RouteInput, disclosure: str | None) -> RoutingDecision:
    reason = rule.reason(i)
    next_review = None
    if rule.state == "withheld":
        next_review = next_review_date(
            i.metadata.disclosure_reason, review_months=i.review_months, today=i.today
        )
    return RoutingDecision(
        state=rule.state,
        rule=rule.name,
        reason=reason,
        disclosure=disclosure,
        next_review_at=next_review,
        exception_reason=reason if rule.state == "exception" else None,
    )


def _today(today: date) -> date:
    return today.date() if isinstance(today, datetime) else today


def route(
    metadata: DocumentMetadata,
    *,
    declared_disclosure: str | None = None,
    review_months: Mapping[str, int],
    today: date,
    precedent: Precedent = NO_PRECEDENT,
) -> RoutingDecision:
    """Where a document goes, from what was read of it, what the drafting system declared
    at hand-over (`declared_disclosure`: a canonical value or a Chinese phrase; None if the
    hand-over declared nothing) and what the catalog already holds (`precedent`). First
    matching rule of RULES wins."""
    _check_review_months(review_months)
    facts = RouteInput(
        metadata=metadata,
        declared=normalize_declared(declared_disclosure),
        declared_raw=declared_disclosure,
        review_months=review_months,
        today=_today(today),
        precedent=precedent,
    )
    for rule in RULES:
        if rule.applies(facts):
            return against_standing(_decide(rule, facts, metadata.disclosure), precedent)
    # Unreachable while RULES ends with the four attributes after `unknown_attribute`; kept so
    # that an edit of the table can never fall through to publication.
    return RoutingDecision("exception", "no_rule", "没有规则适用；no rule applies", None,
                           exception_reason="no rule applies")  # fmt: skip


_STATE_ZH = {
    "published": "已发布", "withheld": "不予公开", "on_request": "依申请公开",
    "needs_redaction": "删减后公开", "quarantined": "涉密隔离", "withdrawn": "已撤回",
}  # fmt: skip


def against_standing(decision: RoutingDecision, precedent: Precedent) -> RoutingDecision:
    """A new version of a decided 文号 goes where the standing decision sent the 文号, or to a
    person: a route that differs from it (and any route of a withdrawn 文号, which only a
    reviewer releases again) is an exception. A security marking still quarantines, and an
    exception stays one."""
    standing = precedent.standing
    if standing is None or decision.state in ("quarantined", "exception"):
        return decision
    if standing.state != "withdrawn" and decision.state == standing.state:
        return decision
    day = standing.decided_on.isoformat()
    reason = (
        f"与文号 {standing.file_number} 于 {day} 的决定不一致（文档 {standing.document_id}："
        f"{_STATE_ZH.get(standing.state, standing.state)}；本件将为"
        f"{_STATE_ZH.get(decision.state, decision.state)}），由人工确定；conflicts with the "
        f"decision on 文号 {standing.file_number} of {day} (document {standing.document_id}: "
        f"{standing.state}; this version would be {decision.state}): a person decides"
    )
    return RoutingDecision("exception", "version_conflict", reason, decision.disclosure,
                           exception_reason=reason)  # fmt: skip


def _refuse_publishing_a_template(metadata: DocumentMetadata | None) -> None:
    if metadata is not None and metadata.placeholders:
        raise PolicyRefusal(
            "模板不是已印发的公文，不能发布，请报送正式印发的文件；a template is not an issued "
            "document and is never published: submit the issued document instead"
        )


def decide_review(
    decision: str,
    *,
    reason: str,
    disclosure_reason: str | None = None,
    review_months: Mapping[str, int],
    today: date,
    metadata: DocumentMetadata | None = None,
    security_level: str | None = None,
    record_state: str = State.WITHHELD,
) -> RoutingDecision:
    """A reviewer's decision on a withheld document (art. 18 periodic review), or the release
    of a withdrawn (撤回) one again (`record_state` withdrawn: release only).

    release -> published; keep -> withheld with the next review date (by the reviewer's reason
    and the stated 不公开理由, the shorter period wins); partial -> needs_redaction.
    Raises PolicyRefusal for a release of a security-marked document (from `metadata` or
    `security_level`), a document that is not withheld, an unknown decision or an empty
    reason."""
    _check_review_months(review_months)
    if decision not in REVIEW_DECISIONS:
        raise PolicyRefusal(
            f"unknown review decision {decision!r}; it is one of {', '.join(REVIEW_DECISIONS)}"
        )
    if record_state == State.WITHDRAWN:
        if decision != "release":
            raise PolicyRefusal(f"a withdrawn document is released again or stays withdrawn "
                                f"(撤回的文件只能重新公开), not {decision!r}")  # fmt: skip
    elif record_state != State.WITHHELD:
        raise PolicyRefusal(f"only withheld documents are reviewed (and withdrawn ones "
                            f"released again); this one is {record_state}")  # fmt: skip
    if not reason or not reason.strip():
        raise PolicyRefusal("a review decision needs a reason (审查意见)")
    marking = security_level or (metadata.security_level if metadata is not None else None)
    stated = disclosure_reason
    if stated is None and metadata is not None:
        stated = metadata.disclosure_reason
    today = _today(today)
    if decision in ("release", "partial"):
        _refuse_publishing_a_template(metadata)
    if decision == "release":
        if marking:
            raise PolicyRefusal(f"a document marked {marking} is never released for publication "
                                "(密级文件须先依法解密)")  # fmt: skip
        return RoutingDecision("published", "review_release",
                               f"审查决定公开：{reason}；released by review: {reason}",
                               "active")  # fmt: skip
    if decision == "partial":
        return RoutingDecision("needs_redaction", "review_partial",
                               f"审查决定删减后公开：{reason}；partial release by review: {reason}",
                               "partial")  # fmt: skip
    months, key = review_period(f"{reason} {stated or ''}", review_months)
    due = add_months(today, months)
    return RoutingDecision(
        "withheld", "review_keep",
        f"审查决定继续不予公开：{reason}，{due.isoformat()}再审；kept withheld: {reason}; "
        f"next review {due.isoformat()} ({months} months, period: {key})",
        "withheld", next_review_at=due,
    )  # fmt: skip


def resolve_exception(
    metadata: DocumentMetadata | None,
    disclosure: str,
    *,
    review_months: Mapping[str, int],
    today: date,
    reason: str | None = None,
) -> RoutingDecision:
    """Route an exception again with the attribute a person states (canonical or Chinese),
    for the person's `reason`: a withheld document is reviewed after the period of that reason
    or of the one the document states, whichever is shorter.

    The person's attribute settles missing attributes, conflicts and mismatched declarations;
    it never overrides a security marking (-> quarantined). A document without readable text
    (unreadable, or no text layer) that a person declares active or partial goes to
    needs_redaction: a person supplies the text to publish (`gongkai redact`)."""
    _check_review_months(review_months)
    value = normalize_declared(disclosure)
    if not value:
        raise PolicyRefusal(f"{disclosure!r} is not a disclosure attribute; use one of "
                            f"{', '.join(DISCLOSURE_VALUES)}")  # fmt: skip
    today = _today(today)
    if metadata is not None and metadata.security_level:
        rule = RULES[0]
        facts = RouteInput(metadata, value, disclosure, review_months, today)
        return RoutingDecision("quarantined", rule.name, rule.reason(facts), value)
    if value in ("active", "partial"):
        _refuse_publishing_a_template(metadata)
    # A scan read by OCR stays without readable text: OCR's text is not published as the
    # document's; a person supplies the text (the fields were confirmed by this resolution).
    readable = metadata is not None and metadata.text_layer
    if value in ("active", "partial") and not readable:
        return RoutingDecision(
            "needs_redaction", "resolved_unreadable",
            f"人工认定“{_zh(value)}”，但文件无可读文字，待人工提供公开文本；a person stated "
            f"{value}, but no text could be read: a person supplies the text to publish",
            value,
        )  # fmt: skip
    if value == "withheld":
        stated = withholding_reason(reason, metadata.disclosure_reason if metadata else None)
        return RoutingDecision(
            "withheld", "resolved_withheld", _withheld_reason(stated, review_months, today),
            value, next_review_at=next_review_date(stated, review_months=review_months,
                                                   today=today),
        )  # fmt: skip
    state: RoutedState = {
        "active": "published",
        "partial": "needs_redaction",
        "on_request": "on_request",
    }[value]  # type: ignore[assignment]
    return RoutingDecision(state, f"resolved_{value}",
                           f"人工认定“{_zh(value)}”；a person stated {value}", value)  # fmt: skip


# --------------------------------------------------------------------------------------------
# lapsed withholding (for the review flow)

_CN_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                "九": 9, "十": 10}  # fmt: skip
_PERIOD = re.compile(r"(?P<n>\d+|[一二两三四五六七八九十]{1,3})\s*(?P<unit>年|个月|月)")
_UNTIL_BEFORE = ("至", "到", "截至", "截止", "截止到", "截至到")
_UNTIL_AFTER = ("前", "之前", "以前", "止", "为止")


def _small_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):  # 十二
        return 10 + _CN_NUMERALS.get(text[1:], 0) if len(text) == 2 else None
    if len(text) == 1:
        return _CN_NUMERALS.get(text)
    if len(text) == 2 and text[1] == "十":  # 二十
        return _CN_NUMERALS.get(text[0], 0) * 10 or None
    if len(text) == 3 and text[1] == "十":  # 二十五
        return (_CN_NUMERALS.get(text[0], 0) * 10 + _CN_NUMERALS.get(text[2], 0)) or None
    return None


def _end_dates(text: str) -> list[date]:
    """Dates the text states as an end: 至2023年12月31日, 2023年12月31日前 ..."""
    ends: list[date] = []
    for iso, start, stop in find_dates(text):
        if iso is None:
            continue
        before = text[max(0, start - 4) : start].rstrip()
        after = text[stop : stop + 3].lstrip()
        if before.endswith(_UNTIL_BEFORE) or after.startswith(_UNTIL_AFTER):
            ends.append(date.fromisoformat(iso))
    return ends


def security_period_end(period: str | None, start: date) -> date | None:
    """When a 保密期限 as written runs out, counted from `start`: "5年", "六个月", "1年6个月",
    or an end date ("至2025年1月1日"). None when it states no end (长期, 解密时间另定, unparsed)."""
    if not period:
        return None
    text = re.sub(r"\s+", "", period)
    ends = _end_dates(text) or [date.fromisoformat(iso) for iso, _, _ in find_dates(text) if iso]
    if ends:
        return min(ends)
    if "长期" in text:
        return None
    months = 0
    for m in _PERIOD.finditer(text):
        n = _small_number(m.group("n"))
        if n is None:
            return None
        months += n * 12 if m.group("unit") == "年" else n
    return add_months(start, months) if months else None


def lapsed_withholding(
    metadata: DocumentMetadata, *, today: date, received: date | None = None
) -> str | None:
    """Why a withheld document's grounds have run out by `today`, or None if they have not (or
    nothing says when they would). Two grounds are looked at: a 保密期限 counted from the
    成文日期 (or from `received` when the date is unknown), and an end date in the stated
    不公开理由 ("2023年12月31日前不予公开", "至2023-12-31"). The review flow brings such a
    document forward; it does not release it (a reviewer decides)."""
    today = _today(today)
    start = None
    if metadata.date:
        try:
            start = date.fromisoformat(metadata.date)
        except ValueError:
            start = None
    start = start or received
    if start is not None:
        end = security_period_end(metadata.security_period, start)
        if end is not None and end <= today:
            return (
                f"保密期限“{metadata.security_period}”已于{end.isoformat()}届满；"
                f"the secrecy period {metadata.security_period} ran out on {end.isoformat()}"
            )
    if metadata.disclosure_reason:
        ends = _end_dates(re.sub(r"\s+", "", metadata.disclosure_reason))
        if ends and max(ends) <= today:
            end = max(ends)
            return (
                f"不公开理由所述期限已于{end.isoformat()}届满；the stated reason for "
                f"withholding ran until {end.isoformat()}"
            )
    return None
