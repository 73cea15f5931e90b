"""Property: nothing reaches `published` or any public output unless it was read as `active`
without a security marking, or a reviewer released it (or a person redacted it)."""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifecycle_docs import SECRET_SENTENCE, make_docx

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.service import Context

DISCLOSURES = st.sampled_from(["active", "on_request", "withheld", "partial", None])
SECURITY = st.sampled_from([None, None, "秘密", "机密", "绝密"])
DOCUMENT = st.tuples(DISCLOSURES, SECURITY, st.sampled_from([None, "active", "withheld"]))
DECISION = st.sampled_from([None, "release", "keep", "partial"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(st.tuples(DOCUMENT, DECISION), min_size=1, max_size=6))
def test_only_active_unmarked_or_released_documents_are_public(
    documents: list[tuple[tuple[str | None, str | None, str | None], str | None]],
) -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {"GONGKAI_HOME": str(Path(home) / "home")}
        with Context.open(load_settings(env)) as ctx:
            now = datetime(2021, 3, 20, tzinfo=UTC)
            ctx.clock = lambda: now
            ids: dict[int, tuple[str | None, str | None, str | None, str | None]] = {}
            for serial, ((disclosure, security, declared), decision) in enumerate(documents, 1):
                data, truth = make_docx(serial, disclosure=disclosure, security=security)
                record = service.intake(ctx, data, truth.filename, source="test", actor="t",
                                        declared_disclosure=declared).record  # fmt: skip
                ids[record.id] = (disclosure, security, declared, decision)
            outcomes = service.process(ctx, list(ids))
            service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])

            # A reviewer then decides on every withheld document (much later).
            now += timedelta(days=400)
            for doc_id, (*_, decision) in ids.items():
                if decision and ctx.catalog.get(doc_id).state == "withheld":
                    service.decide_review(ctx, doc_id, decision, reason="评估", reviewer="r")

            released = {
                d for d in ids
                if any(x["decision"] == "release" for x in ctx.catalog.review_decisions(d))
            }
            public = {info.key for info in ctx.public.list("")}
            for doc_id, (disclosure, security, declared, _decision) in ids.items():
                record = ctx.catalog.get(doc_id)
                read_active = (disclosure == "active" and security is None
                               and declared in (None, "active"))  # fmt: skip
                allowed = read_active or (doc_id in released and security is None)
                is_public = f"documents/{doc_id}.json" in public
                if record.state == "published" or is_public:
                    assert allowed, (record.state, disclosure, security, declared)
                    assert record.state == "published" and is_public
                if security is not None:
                    assert record.state == "quarantined"
                if read_active:
                    assert record.state == "published"
            # The index lists exactly the published documents.
            if public:
                listed = ctx.public.get_bytes("index.json").decode("utf-8")
                for doc_id in ids:
                    record = ctx.catalog.get(doc_id)
                    if record.state != "published" and record.index_number:
                        assert record.index_number not in listed
                index_text = json.dumps(json.loads(listed), ensure_ascii=False)
                assert SECRET_SENTENCE not in index_text


# --- redaction, the public view and withdrawal ---------------------------------------------

NOTES = {"active": "（此件主动公开）", "partial": "（此件删减后公开）",
         "withheld": "（此件不予公开）", "on_request": "（此件依申请公开）"}  # fmt: skip
REDACTION = st.sampled_from([None, "own", "other"])  # for a partial one: which version
WITHDRAW = st.booleans()  # a published one is taken back
SECOND = st.sampled_from([None, *NOTES])  # a later version of the same 文号, marked so
PLAN = st.tuples(st.sampled_from(list(NOTES)), REDACTION, WITHDRAW, SECOND)


def _private(serial: int) -> tuple[str, str]:
    """What only the original of document `serial` says: a body sentence, an attachment."""
    return f"内部联系人{serial}号电话1380000{serial:04d}", f"第{serial}号个人信息清单"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans=st.lists(PLAN, min_size=1, max_size=5))
def test_only_redacted_versions_and_the_public_view_are_ever_public(
    plans: list[tuple[str, str | None, bool, str | None]],
) -> None:
    from official_docs import official

    from gongkai.flows import render

    with tempfile.TemporaryDirectory() as home:
        env = {"GONGKAI_HOME": str(Path(home) / "home")}
        with Context.open(load_settings(env)) as ctx:
            ctx.clock = lambda: datetime(2021, 3, 20, tzinfo=UTC)
            serial_of: dict[int, int] = {}
            for serial, (disclosure, *_) in enumerate(plans, 1):
                sentence, attachment = _private(serial)
                data = official(serial, note=NOTES[disclosure], body=sentence,
                                attachments=(attachment, "公开附件"))  # fmt: skip
                record = service.intake(ctx, data, f"原件{serial}.docx", source="test",
                                        actor="t").record  # fmt: skip
                serial_of[record.id] = serial
            outcomes = service.process(ctx, list(serial_of))
            service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
            # Later versions of the same 文号 (same issuer, other bytes): one marked otherwise
            # than the decision standing on the 文号 must never publish.
            conflicting: set[int] = set()
            for serial, (disclosure, _, _, second) in enumerate(plans, 1):
                if second is None:
                    continue
                data = official(serial, note=NOTES[second], body="（第二稿）",
                                attachments=("公开附件",))  # fmt: skip
                later = service.intake(ctx, data, f"第二稿{serial}.docx", source="test",
                                       actor="t").record.id  # fmt: skip
                outcomes = service.process(ctx, [later])
                service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
                if second != disclosure:
                    conflicting.add(later)

            redacted: set[int] = set()
            for doc_id, serial in serial_of.items():
                disclosure, version, *_ = plans[serial - 1]
                if disclosure != "partial" or version is None:
                    continue
                # "own": this document without its private parts; "other": another document
                # in full (picked by mistake), which must never be published in its place.
                other = serial + 100
                data = (official(serial, attachments=("公开附件",)) if version == "own" else
                        official(other, body=_private(other)[0]))  # fmt: skip
                try:
                    service.redact(ctx, doc_id, data, "删减稿.docx", actor="r")
                    redacted.add(doc_id)
                except service.LifecycleError:
                    assert version == "other"
            withdrawn = set()
            for doc_id, serial in serial_of.items():
                if plans[serial - 1][2] and ctx.catalog.get(doc_id).state == "published":
                    service.withdraw(ctx, doc_id, reason="发现错误", actor="r")
                    withdrawn.add(doc_id)

            public = {i.key: ctx.public.get_bytes(i.key).decode("utf-8")
                      for i in ctx.public.list("")}  # fmt: skip
            everything = "\n".join(public.values())
            for doc_id in conflicting:
                assert ctx.catalog.get(doc_id).state != "published"
                assert f"documents/{doc_id}.json" not in public
            for doc_id, serial in serial_of.items():
                record = ctx.catalog.get(doc_id)
                if record.state == "superseded":  # replaced on the site by a later version
                    continue
                disclosure, version, *_ = plans[serial - 1]
                is_public = f"documents/{doc_id}.json" in public
                # Redaction: only the redacted version of a partial document is ever public.
                if disclosure == "partial":
                    assert is_public == (doc_id in redacted and doc_id not in withdrawn)
                    assert (doc_id in redacted) == (version == "own")
                if disclosure == "partial" or not is_public:
                    for private in _private(serial):
                        assert private not in everything, (doc_id, private)
                # Withdrawal: a withdrawn document is in no public output.
                if doc_id in withdrawn:
                    assert record.state == "withdrawn" and not is_public
                    assert record.title not in everything
                # The public view: nothing of the original file, in any output.
                for private in (record.sha256, record.filename):
                    assert private not in everything
                if is_public:
                    page = json.loads(public[f"documents/{doc_id}.json"])
                    assert tuple(page) == render.PUBLIC_RECORD_FIELDS
                elif record.state != "withdrawn":
                    assert record.title not in everything
            for other in range(101, 106):
                assert _private(other)[0] not in everything
            if "index.json" in public:
                for entry in json.loads(public["index.json"])["latest"]:
                    assert tuple(entry) == render.PUBLIC_FIELDS
