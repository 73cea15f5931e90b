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
from gongkai.flows.events import MemoryEventSink
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
        with Context.open(load_settings(env), events=MemoryEventSink()) as ctx:
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
