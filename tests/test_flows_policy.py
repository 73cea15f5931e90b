"""The routing policy: the rule table, reviewers' decisions, exceptions resolved by a person,
review periods by reason, and lapsed withholding. A property test guards publication."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongkai.extractors.model import DocumentMetadata
from gongkai.flows import policy
from gongkai.flows.policy import (
    PolicyRefusal,
    add_months,
    decide_review,
    lapsed_withholding,
    resolve_exception,
    review_period,
    route,
)

MONTHS = {"default": 12, "过程性信息": 3}
TODAY = date(2026, 11, 24)
D = date.fromisoformat


def hongshan(**changes: object) -> DocumentMetadata:
    """鸿政〔2020〕53号 as the extractor reads it from the portal export."""
    meta = DocumentMetadata(
        format="docx",
        file_number="鸿政〔2020〕53号",
        disclosure="active",
        title="石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        issuer="石狮市鸿山镇人民政府",
        date="2020-09-15",
        text="各村委会，镇机关各办（中心、站、所）：……",
    )
    return replace(meta, **changes)


def routed(meta: DocumentMetadata, declared: str | None = None) -> policy.RoutingDecision:
    return route(meta, declared_disclosure=declared, review_months=MONTHS, today=TODAY)


def test_active_is_published() -> None:
    decision = routed(hongshan())
    assert (decision.state, decision.rule, decision.disclosure) == ("published", "active", "active")
    assert decision.next_review_at is None and decision.exception_reason is None
    assert "主动公开" in decision.reason and "active" in decision.reason


@pytest.mark.parametrize(
    ("changes", "state", "rule"),
    [
        ({"disclosure": "partial"}, "needs_redaction", "partial"),
        ({"disclosure": "on_request"}, "on_request", "on_request"),
        ({"disclosure": "withheld"}, "withheld", "withheld"),
        ({"disclosure": None}, "exception", "no_attribute"),
        ({"disclosure": "公开"}, "exception", "unknown_attribute"),
        ({"text_layer": False}, "exception", "no_text_layer"),
        ({"placeholders": ["file_number: XX发〔20XX〕XX号"]}, "exception", "template"),
        ({"conflicts": ["date: 成文日期 says 2020-09-15, 标题块 says 2020-09-16"]}, "exception",
         "conflict"),
        ({"security_level": "秘密"}, "quarantined", "security_marking"),
        ({"security_level": "绝密", "security_period": "30年"}, "quarantined", "security_marking"),
    ],
)  # fmt: skip
def test_each_rule(changes: dict[str, object], state: str, rule: str) -> None:
    decision = routed(hongshan(**changes))
    assert (decision.state, decision.rule) == (state, rule)
    assert (decision.exception_reason is not None) == (state == "exception")
    assert decision.reason


def test_a_security_marking_wins_over_everything() -> None:
    meta = hongshan(security_level="机密", text_layer=False, conflicts=["x"], disclosure=None)
    decision = routed(meta, declared="active")
    assert (decision.state, decision.rule) == ("quarantined", "security_marking")
    assert "机密" in decision.reason


def test_a_template_is_an_exception_never_published() -> None:
    meta = hongshan(file_number=None, issuer=None, placeholders=[
        "file_number: XX发〔20XX〕XX号", "issuer: XXXX人民政府"])  # fmt: skip
    decision = routed(meta, declared="active")
    assert (decision.state, decision.rule) == ("exception", "template")
    assert decision.exception_reason == decision.reason
    assert decision.reason.startswith("文件为模板（含占位符：XX发〔20XX〕XX号、XXXX人民政府）")
    assert "template, not an issued document" in decision.reason
    # A security marking still quarantines a template.
    assert routed(replace(meta, security_level="秘密")).rule == "security_marking"
    # A person cannot resolve it into publication either; withheld or on request they may.
    for value in ("active", "partial"):
        with pytest.raises(PolicyRefusal, match="模板不是已印发的公文"):
            resolve_exception(meta, value, review_months=MONTHS, today=TODAY)
    assert resolve_exception(meta, "on_request", review_months=MONTHS,
                             today=TODAY).state == "on_request"


def test_rule_order() -> None:
    assert [r.name for r in policy.RULES] == [
        "security_marking", "ocr_unavailable", "read_by_ocr", "no_text_layer", "template",
        "conflict", "index_number_taken", "declared_mismatch", "no_attribute",
        "unknown_attribute", "active", "partial", "on_request", "withheld",
    ]  # fmt: skip
    # Only one rule of the table publishes.
    assert [r.name for r in policy.RULES if r.state == "published"] == ["active"]
    # A scan with a conflict is reported as a scan first.
    assert routed(hongshan(text_layer=False, conflicts=["x"])).rule == "no_text_layer"


def test_a_number_another_document_holds_is_for_a_person() -> None:
    taken = policy.Precedent(index_number_holder=7)
    decision = policy.route(hongshan(index_number="QZ05908-3000-2020-00010"),
                            review_months={"default": 12}, today=date(2021, 1, 1),
                            precedent=taken)  # fmt: skip
    assert decision.state == "exception" and decision.rule == "index_number_taken"
    assert "索引号“QZ05908-3000-2020-00010”已由文档 7 使用" in decision.reason
    # A security marking still quarantines first.
    marked = policy.route(hongshan(security_level="秘密"), review_months={"default": 12},
                          today=date(2021, 1, 1), precedent=taken)  # fmt: skip
    assert marked.state == "quarantined"


def test_fields_read_by_ocr_go_to_a_person_with_the_fields_filled_in() -> None:
    meta = hongshan(text_layer=False, ocr="read", format="png")
    decision = routed(meta, declared="active")
    assert (decision.state, decision.rule) == ("exception", "read_by_ocr")
    assert "OCR" in decision.reason and "人工核对" in decision.reason
    assert "confirm the fields" in decision.exception_reason
    assert decision.disclosure == "active"  # what was read stays, as a suggestion
    # A security marking OCR read still quarantines.
    assert routed(replace(meta, security_level="秘密")).state == "quarantined"


def test_a_scan_where_ocr_is_not_installed_says_what_to_install() -> None:
    decision = routed(hongshan(text_layer=False, ocr="unavailable", disclosure=None))
    assert (decision.state, decision.rule) == ("exception", "ocr_unavailable")
    assert "apt-get install tesseract-ocr tesseract-ocr-chi-sim" in decision.reason


def test_a_person_confirming_an_ocr_read_scan_still_supplies_the_text() -> None:
    """OCR's text is never published as the document's: active -> needs_redaction."""
    meta = hongshan(text_layer=False, ocr="read")
    decision = resolve_exception(meta, "active", review_months=MONTHS, today=TODAY)
    assert decision.state == "needs_redaction"


@pytest.mark.parametrize("declared", ["active", "ACTIVE", "主动公开", "此件公开发布", None, "  "])
def test_a_declaration_that_agrees(declared: str | None) -> None:
    assert routed(hongshan(), declared).state == "published"


def test_a_declaration_that_disagrees() -> None:
    decision = routed(hongshan(), "withheld")
    assert (decision.state, decision.rule) == ("exception", "declared_mismatch")
    assert "报送系统申报“不予公开”，文件载明“主动公开”" in decision.reason
    # The drafting system declared one, the document states none.
    nothing = routed(hongshan(disclosure=None), "主动公开")
    assert (nothing.state, nothing.rule) == ("exception", "declared_mismatch")
    assert "states none" in nothing.reason
    junk = routed(hongshan(), "yes please")
    assert junk.rule == "declared_mismatch" and "not an attribute" in junk.reason
    assert routed(hongshan(disclosure="withheld"), "不予公开").state == "withheld"


@pytest.mark.parametrize(
    ("reason", "months"),
    [
        (None, 12),
        ("涉及商业秘密", 12),
        ("过程性信息", 3),
        ("属于讨论记录", 3),
        ("过程稿", 3),
        ("磋商信函", 3),
        ("请示报告，不予公开", 3),
        ("内部事务信息（人事管理）", 12),
    ],
)
def test_review_period_by_reason(reason: str | None, months: int) -> None:
    decision = routed(hongshan(disclosure="withheld", disclosure_reason=reason))
    assert decision.state == "withheld"
    assert decision.next_review_at == add_months(TODAY, months)
    assert f"{months}个月" in decision.reason


def test_review_periods_are_configurable() -> None:
    months = {"default": 24, "过程性信息": 3, "内部事务信息": 6, "个人隐私": 18}
    assert review_period("人事管理", months) == (6, "内部事务信息")  # by category words
    assert review_period("内部事务信息", months) == (6, "内部事务信息")  # by the key itself
    assert review_period("含个人信息", months) == (18, "个人隐私")
    assert review_period("讨论记录，且含个人隐私", months) == (3, "过程性信息")  # the shorter
    assert review_period("其他", months) == (24, "default")
    assert review_period("其他", {"过程性信息": 3}) == (12, "default")
    with pytest.raises(ValueError, match="whole number of months"):
        route(hongshan(), review_months={"default": 0}, today=TODAY)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2026-11-30", 3, "2027-02-28"),
        ("2026-08-31", 12, "2027-08-31"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2026-12-15", 1, "2027-01-15"),
        ("2026-03-31", -1, "2026-02-28"),
    ],
)
def test_add_months(day: str, months: int, expected: str) -> None:
    assert add_months(D(day), months) == D(expected)


def test_route_accepts_a_datetime_as_today() -> None:
    from datetime import datetime

    decision = route(hongshan(disclosure="withheld"), review_months=MONTHS,
                     today=datetime(2024, 1, 31, 10, 0))  # fmt: skip
    assert decision.next_review_at == D("2025-01-31")


# -- reviewers ---------------------------------------------------------------------------------


def review(decision: str, **kw: object) -> policy.RoutingDecision:
    args: dict[str, object] = {"reason": "情况变化，可以公开", "review_months": MONTHS,
                               "today": TODAY}  # fmt: skip
    args.update(kw)
    return decide_review(decision, **args)  # type: ignore[arg-type]


def test_release_keep_partial() -> None:
    released = review("release")
    assert (released.state, released.rule, released.disclosure) == (
        "published", "review_release", "active")  # fmt: skip
    kept = review("keep", reason="仍属过程稿")
    assert (kept.state, kept.next_review_at) == ("withheld", D("2027-02-24"))
    kept_default = review("keep", reason="仍不宜公开")
    assert kept_default.next_review_at == D("2027-11-24")
    # The stated 不公开理由 counts too.
    by_stated = review("keep", reason="维持", disclosure_reason="请示报告")
    assert by_stated.next_review_at == D("2027-02-24")
    by_metadata = review("keep", reason="维持", metadata=hongshan(disclosure_reason="讨论记录"))
    assert by_metadata.next_review_at == D("2027-02-24")
    partial = review("partial", reason="涉及个人信息部分删除后公开")
    assert (partial.state, partial.disclosure) == ("needs_redaction", "partial")


def test_release_never_publishes_a_security_marked_document() -> None:
    with pytest.raises(PolicyRefusal, match="机密"):
        review("release", metadata=hongshan(security_level="机密"))
    with pytest.raises(PolicyRefusal, match="秘密"):
        review("release", security_level="秘密")
    # keeping it is fine
    assert review("keep", security_level="秘密").state == "withheld"


def test_bad_review_decisions() -> None:
    with pytest.raises(PolicyRefusal, match="unknown review decision 'publish'"):
        review("publish")
    with pytest.raises(PolicyRefusal, match="needs a reason"):
        review("keep", reason="  ")
    with pytest.raises(PolicyRefusal, match="this one is published"):
        review("release", record_state="published")


# -- exceptions resolved by a person ----------------------------------------------------------


def resolve(meta: DocumentMetadata | None, disclosure: str) -> policy.RoutingDecision:
    return resolve_exception(meta, disclosure, review_months=MONTHS, today=TODAY)


def test_resolving_an_exception() -> None:
    missing = hongshan(disclosure=None)
    assert routed(missing).state == "exception"
    assert resolve(missing, "active").state == "published"
    assert resolve(missing, "依申请公开").state == "on_request"
    assert resolve(hongshan(conflicts=["x"]), "partial").state == "needs_redaction"
    withheld = resolve(hongshan(disclosure_reason="磋商信函"), "不予公开")
    assert (withheld.state, withheld.next_review_at) == ("withheld", D("2027-02-24"))
    assert resolve(missing, "active").rule == "resolved_active"


def test_a_person_cannot_resolve_a_marked_document_into_publication() -> None:
    decision = resolve(hongshan(security_level="秘密"), "active")
    assert (decision.state, decision.rule) == ("quarantined", "security_marking")


def test_an_unreadable_document_needs_its_text_from_a_person() -> None:
    assert resolve(None, "active").state == "needs_redaction"
    assert resolve(hongshan(text_layer=False), "active").state == "needs_redaction"
    assert resolve(None, "on_request").state == "on_request"


def test_resolving_with_no_attribute_is_refused() -> None:
    with pytest.raises(PolicyRefusal, match="not a disclosure attribute"):
        resolve(hongshan(), "maybe")
    with pytest.raises(PolicyRefusal):
        resolve(hongshan(), "")


# -- lapsed withholding -------------------------------------------------------------------------


def withheld(**changes: object) -> DocumentMetadata:
    return hongshan(disclosure="withheld", **changes)


def test_a_secrecy_period_runs_out() -> None:
    meta = withheld(security_period="5年")
    assert lapsed_withholding(meta, today=D("2025-09-14")) is None
    why = lapsed_withholding(meta, today=D("2025-09-15"))
    assert why is not None and "2025-09-15" in why and "5年" in why
    assert lapsed_withholding(withheld(security_period="六个月"), today=D("2021-03-15"))
    assert not lapsed_withholding(withheld(security_period="六个月"), today=D("2021-03-14"))
    assert lapsed_withholding(withheld(security_period="1年6个月"), today=D("2022-03-15"))
    assert not lapsed_withholding(withheld(security_period="1年6个月"), today=D("2022-03-14"))
    assert not lapsed_withholding(withheld(security_period="长期"), today=D("2090-01-01"))
    assert not lapsed_withholding(withheld(security_period="解密时间另行通知"), today=TODAY)


def test_the_received_date_stands_in_for_an_unknown_document_date() -> None:
    meta = withheld(date=None, security_period="1年")
    assert lapsed_withholding(meta, today=TODAY) is None  # nothing to count from
    assert lapsed_withholding(meta, today=TODAY, received=D("2025-11-24"))
    assert not lapsed_withholding(meta, today=TODAY, received=D("2025-11-25"))


def test_a_stated_reason_with_an_end_date() -> None:
    meta = withheld(disclosure_reason="涉及招标程序，2023年12月31日前不予公开")
    assert lapsed_withholding(meta, today=D("2023-12-30")) is None
    assert "2023-12-31" in (lapsed_withholding(meta, today=D("2023-12-31")) or "")
    until = withheld(disclosure_reason="过程性信息，不公开至二〇二四年六月三十日")
    assert lapsed_withholding(until, today=D("2024-06-30"))
    # A date that is not an end (the date of a meeting) is no ground.
    meeting = withheld(disclosure_reason="2023年5月6日会议讨论记录")
    assert lapsed_withholding(meeting, today=TODAY) is None
    assert lapsed_withholding(withheld(), today=TODAY) is None


# -- the property -------------------------------------------------------------------------------

_text = st.one_of(st.none(), st.text(max_size=12))
_attribute = st.one_of(
    st.none(), st.sampled_from(["active", "on_request", "withheld", "partial"]), st.text(max_size=6)
)
metadata_strategy = st.builds(
    DocumentMetadata,
    format=st.sampled_from(["docx", "pdf"]),
    file_number=_text,
    disclosure=_attribute,
    disclosure_reason=st.one_of(
        st.none(),
        st.sampled_from(["讨论记录", "过程性信息", "人事管理", "2023年1月1日前"]),
        st.text(),
    ),
    title=_text,
    issuer=_text,
    date=st.one_of(st.none(), st.dates().map(date.isoformat), st.text(max_size=10)),
    security_level=st.one_of(
        st.none(), st.sampled_from(["秘密", "机密", "绝密"]), st.text(max_size=3)
    ),
    security_period=st.one_of(st.none(), st.sampled_from(["5年", "六个月", "长期"]), st.text()),
    text=st.text(max_size=40),
    text_layer=st.booleans(),
    conflicts=st.lists(st.text(max_size=10), max_size=2),
    placeholders=st.lists(st.sampled_from(["file_number: XX发〔20XX〕XX号", "版头: {{份号}}"]),
                          max_size=1),
)
review_months_strategy = st.dictionaries(
    st.one_of(st.sampled_from(["default", "过程性信息", "内部事务信息"]), st.text(max_size=4)),
    st.integers(min_value=1, max_value=120),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    meta=metadata_strategy,
    declared=_attribute,
    months=review_months_strategy,
    today=st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 1, 1)),
)
def test_published_only_if_read_active_unmarked_readable_consistent(
    meta: DocumentMetadata, declared: str | None, months: dict[str, int], today: date
) -> None:
    decision = route(meta, declared_disclosure=declared, review_months=months, today=today)
    assert decision.state in {"published", "needs_redaction", "on_request", "withheld",
                              "quarantined", "exception"}  # fmt: skip
    if decision.state == "published":
        assert meta.disclosure == "active"
        assert not meta.security_level  # None (or an empty value: no marking)
        assert not meta.conflicts
        assert not meta.placeholders
        assert meta.text_layer
        assert (
            declared is None
            or not declared.strip()
            or policy.normalize_declared(declared) == ("active")
        )
    if meta.security_level:
        assert decision.state == "quarantined"
    assert (decision.next_review_at is not None) == (decision.state == "withheld")
    if decision.state == "withheld":
        assert decision.next_review_at > today
    # Whatever a lapsed-withholding check meets, it answers and does not raise.
    lapsed_withholding(meta, today=today, received=today)
