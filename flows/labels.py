"""What a Chinese office reads for gongkai's codes (states, attributes, audit rows), and the
Chinese spellings a clerk types for them. Pure; the codes themselves stay the API's and --json's."""

from __future__ import annotations

from gongkai.flows.policy import DISCLOSURE_LABELS, normalize_declared

STATE_LABELS: dict[str, str] = {
    "received": "已接收",
    "to_publish": "待发布",
    "published": "已发布",
    "needs_redaction": "待删减",
    "on_request": "依申请公开",
    "withheld": "不予公开",
    "quarantined": "涉密隔离",
    "exception": "待人工处理",
    "withdrawn": "已撤回",
    "superseded": "已由新版本取代",
}

EVENT_LABELS: dict[str, str] = {
    "received": "接收",
    "duplicate_submission": "重复报送",
    "extracted": "读取元数据",
    "state": "状态变更",
    "resolved": "人工处理例外",
    "corrected": "人工更正字段",
    "redacted": "上传删减版本",
    "review_decision": "审核决定",
    "review_brought_forward": "提前审核",
    "fixity": "固定性校验",
    "original_retrieved": "下载原件",
    "processing_failed": "处理失败",
    "original_restored": "补存原件",
    "index_number_assigned": "分配索引号",
    "review_due": "到期待审核",
    "review_kept": "审核后继续不予公开",
}

DECISION_LABELS: dict[str, str] = {"release": "公开", "keep": "继续不予公开",
                                   "partial": "删减后公开"}  # fmt: skip

FIELD_LABELS: dict[str, str] = {
    "title": "标题", "file_number": "文号", "issuer": "发文机关", "date": "成文日期",
    "disclosure": "公开属性", "disclosure_reason": "不公开理由", "index_number": "索引号",
    "security_level": "密级", "signer": "签发人", "recipients": "主送机关",
    "archive_key": "归档包", "routed_at": "分流时间", "next_review_at": "下次审核",
    "exception_reason": "例外原因", "redacted_key": "删减版本", "published_at": "发布时间",
    "publish_deadline": "公开期限", "withdrawn_at": "撤回时间", "state": "状态",
    "deadline_provisional": "期限暂定",
    # What `gongkai show` lists besides (the record's other columns).
    "id": "编号", "sha256": "SHA-256", "filename": "文件名", "size": "大小（字节）",
    "content_type": "文件类型", "format": "格式", "source": "来源",
    "declared_disclosure": "报送时申明的公开属性", "original_key": "原件",
    "security_period": "保密期限", "urgency": "紧急程度", "page_count": "页数",
    "text_layer": "有文字层", "received_at": "接收时间", "version_of": "前一版本",
    "cited_file_numbers": "引用文号", "text": "全文",
}  # fmt: skip


def state_label(code: str | None) -> str:
    return STATE_LABELS.get(code or "", code or "")


def disclosure_label(code: str | None) -> str:
    return DISCLOSURE_LABELS.get(code or "", code or "未载明")


def parse_state(value: str) -> str:
    """A state by its code or its Chinese name (已发布 -> published)."""
    text = value.strip()
    if text in STATE_LABELS:
        return text
    for code, label in STATE_LABELS.items():
        if text == label:
            return code
    raise ValueError(f"未知状态 {value!r}：可用 " + "、".join(
        f"{label}（{code}）" for code, label in STATE_LABELS.items()))  # fmt: skip


def parse_disclosure(value: str) -> str:
    """An attribute by its code or its Chinese phrase (主动公开 -> active)."""
    code = normalize_declared(value)
    if not code:
        raise ValueError(f"未知公开属性 {value!r}：可用 " + "、".join(
            f"{label}（{code}）" for code, label in DISCLOSURE_LABELS.items()))  # fmt: skip
    return code
