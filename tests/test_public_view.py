"""The public view of a document: one set of fields (render.PUBLIC_FIELDS) in the anonymous
API, documents/<id>.json, index.json, the HTML pages and the feed; and a redacted publication
shown from its redacted version alone. Real catalog (SQLite), real local stores, real
extractors, the API in-process (FastAPI TestClient)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from official_docs import official

from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.flows import render, service
from gongkai.flows.service import Context

STAFF_H = {"Authorization": "Bearer staff"}
PRIVATE_ATTACHMENT = "张三家庭住址清单"
PRIVATE_SENTENCE = "联系人李四身份证号350581199001011234"


@pytest.fixture
def client(gongkai_env: dict[str, str]) -> Iterator[TestClient]:
    app = create_app(load_settings(), tokens=Tokens(staff="staff", intake=None),
                     relay=False)  # fmt: skip
    with TestClient(app) as test_client:
        yield test_client


def _ctx(client: TestClient) -> Context:
    return client.app.state.ctx


def _ingest(ctx: Context, data: bytes, name: str) -> int:
    doc_id = service.intake(ctx, data, name, source="test", actor="t").record.id
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


def _public_outputs(client: TestClient, doc_id: int) -> dict[str, str]:
    """Every public output that can mention the document, as text."""
    ctx = _ctx(client)
    outputs = {info.key: ctx.public.get_bytes(info.key).decode("utf-8")
               for info in ctx.public.list("")}  # fmt: skip
    outputs["GET /documents"] = client.get("/documents").text
    outputs[f"GET /documents/{doc_id}"] = client.get(f"/documents/{doc_id}").text
    return outputs


def test_every_public_output_has_the_one_public_view(client: TestClient) -> None:
    ctx = _ctx(client)
    data = official(1, note="（此件主动公开）", attachments=("补助名单",))
    doc_id = _ingest(ctx, data, "狮政-1.docx")
    record = ctx.catalog.get(doc_id)
    assert record.state == "published"

    shown = client.get(f"/documents/{doc_id}").json()["document"]
    assert tuple(shown) == render.PUBLIC_RECORD_FIELDS
    # The API's record is the published JSON record, field for field.
    assert shown == json.loads(ctx.public.get_bytes(f"documents/{doc_id}.json"))
    listed = client.get("/documents").json()["documents"]
    index = json.loads(ctx.public.get_bytes("index.json"))["latest"]
    assert listed == index and tuple(index[0]) == render.PUBLIC_FIELDS
    assert shown["attachments"] == ["补助名单"] and shown["file_number"] == "鸿政〔2021〕1号"
    # Facts of the original file are not part of the public view, in any output.
    for where, text in _public_outputs(client, doc_id).items():
        for private in (record.sha256, record.filename, "page_count", "cited_file_numbers",
                        "disclosure"):  # fmt: skip
            assert private not in text, (where, private)


def test_a_redacted_version_of_another_document_is_refused(client: TestClient) -> None:
    ctx = _ctx(client)
    partial = _ingest(ctx, official(4), "4.docx")
    other = official(5, note="（此件不予公开）", body=PRIVATE_SENTENCE)
    with pytest.raises(service.LifecycleError, match="删减稿与原件不符"):
        service.redact(ctx, partial, other, "5.docx", actor="王五")
    assert ctx.catalog.get(partial).state == "needs_redaction"
    assert not ctx.public.exists(f"documents/{partial}.json")

    # A plain text without the 文号 is refused too, naming what is missing.
    with pytest.raises(service.LifecycleError, match="未载明文号"):
        service.redact(ctx, partial, "鸿山镇人民政府关于做好第4批政务公开标准化工作的通知\n正文"
                       .encode(), "4.txt", actor="王五")  # fmt: skip

    # A person who confirms the difference, with a reason, publishes it; it is audited.
    title = "鸿山镇人民政府关于做好第4批政务公开标准化工作的通知（删减稿）"
    renamed = official(4, title=title)
    published = service.redact(ctx, partial, renamed, "4-删减.docx", actor="王五",
                               confirm_difference="标题按删减稿公开")  # fmt: skip
    assert published.state == "published"
    event = next(e for e in ctx.catalog.history(partial) if e.kind == "redacted")
    assert event.actor == "王五" and event.detail["difference_confirmed"] == "标题按删减稿公开"
    assert any("标题" in d for d in event.detail["differences"])
    # The confirmation travels with the archival package too, beside the version.
    package = ctx.archive.store.list(f"{published.archive_key}/")
    notes = [i.key for i in package if "/redaction-" in i.key]
    assert len(notes) == 1 and "标题按删减稿公开" in ctx.archive.store.get_bytes(notes[0]).decode()
    assert ctx.archive.verify(published.archive_key).ok
    assert client.get(f"/documents/{partial}").json()["document"]["title"] == title


def test_a_redacted_publication_shows_only_the_redacted_version(client: TestClient) -> None:
    redacted_only(client)


@pytest.mark.postgres
def test_a_redacted_publication_on_postgresql(
    postgres_url: str, gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", postgres_url)
    app = create_app(load_settings(), tokens=Tokens(staff="staff", intake=None),
                     relay=False)  # fmt: skip
    with TestClient(app) as test_client:
        redacted_only(test_client)


def redacted_only(client: TestClient) -> None:
    ctx = _ctx(client)
    original = official(6, attachments=(PRIVATE_ATTACHMENT, "补助名单"), body=PRIVATE_SENTENCE)
    doc_id = _ingest(ctx, original, "原件-张三.docx")
    record = ctx.catalog.get(doc_id)
    assert record.state == "needs_redaction"
    assert PRIVATE_ATTACHMENT in record.metadata["attachments"]

    redacted = official(6, attachments=("补助名单",))
    published = service.redact(ctx, doc_id, redacted, "删减稿.docx", actor="王五")
    assert published.state == "published"

    outputs = _public_outputs(client, doc_id)
    for where, text in outputs.items():
        for private in (PRIVATE_ATTACHMENT, PRIVATE_SENTENCE, record.sha256, record.filename,
                        str(record.size)):  # fmt: skip
            assert private not in text, (where, private)
    shown = client.get(f"/documents/{doc_id}").json()["document"]
    assert shown["attachments"] == ["补助名单"]
    assert (shown["file_number"], shown["title"]) == (record.file_number, record.title)
    assert "补助名单" in outputs[f"documents/{doc_id}.html"]
    # The original itself stays non-public.
    assert client.get(f"/documents/{doc_id}/original").status_code == 404
