"""The HTTP API in-process (FastAPI TestClient) on the embedded defaults: intake, retrieval,
roles, originals byte for byte, bad uploads on record, the streaming size limit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from service_docs import make_docx
from service_run import outbox

from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, content_disposition, create_app
from gongkai.flows import render, service
from gongkai.flows.events import MemoryEventSink

STAFF = "staff-token-for-tests"
INTAKE = "drafting-system-token"
LIMIT = 300_000
STAFF_H = {"Authorization": f"Bearer {STAFF}"}
INTAKE_H = {"Authorization": f"Bearer {INTAKE}"}


@pytest.fixture
def sink() -> MemoryEventSink:
    return MemoryEventSink()


@pytest.fixture
def client(gongkai_env, monkeypatch, sink) -> Iterator[TestClient]:
    monkeypatch.setenv("GONGKAI_MAX_FILE_BYTES", str(LIMIT))
    app = create_app(load_settings(), tokens=Tokens(staff=STAFF, intake=INTAKE),
                     relay=False)  # fmt: skip
    with TestClient(app) as test_client:
        yield test_client


def _ctx(client: TestClient) -> service.Context:
    return client.app.state.ctx


def _upload(client: TestClient, data: bytes, name: str = "doc.docx",
            headers: dict[str, str] | None = None, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/documents", files={"file": (name, data)}, data=fields,
                       headers=INTAKE_H if headers is None else headers)  # fmt: skip


def _ingest(client: TestClient, doc_id: int) -> str:
    """What the ingest flow does for one document, through the service layer."""
    ctx = _ctx(client)
    outcomes = service.process(ctx, [doc_id])
    if any(o.to_publish for o in outcomes):
        service.publish(ctx, [doc_id])
    return ctx.catalog.get(doc_id).state


def test_upload_returns_identity_and_emits_received(client, sink) -> None:
    data = make_docx(serial=12)
    response = _upload(client, data, "狮政〔2021〕12号.docx")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["state"] == "received" and body["created"] is True
    assert body["filename"] == "狮政〔2021〕12号.docx"
    assert response.headers["location"] == f"/documents/{body['id']}"
    sent = outbox(client.app.state.ctx)  # its audit row, the event the relay sends
    assert sent.names() == ["gongkai.document.received"]
    assert sent.events[0].resource_id == f"gongkai.document.{body['id']}"
    record = _ctx(client).catalog.get(body["id"])
    assert record.source == "http" and record.size == len(data)

    again = _upload(client, data, "copy.docx", headers=STAFF_H)
    assert again.status_code == 200
    assert again.json()["id"] == body["id"] and again.json()["created"] is False
    kinds = [e.kind for e in _ctx(client).catalog.history(body["id"])]
    assert "duplicate_submission" in kinds


def test_declared_disclosure_is_kept_and_validated(client) -> None:
    ok = _upload(client, make_docx(serial=3), declared_disclosure="active")
    assert ok.status_code == 201
    assert _ctx(client).catalog.get(ok.json()["id"]).declared_disclosure == "active"
    bad = _upload(client, make_docx(serial=4), declared_disclosure="public-ish")
    assert bad.status_code == 422
    assert "public-ish" in bad.json()["error"]
    assert sum(_ctx(client).catalog.counts_by_state().values()) == 1


def test_roles_public_sees_published_only(client) -> None:
    published_data = make_docx(serial=21, disclosure="active")
    withheld_data = make_docx(serial=22, disclosure="withheld")
    pub_id = _upload(client, published_data).json()["id"]
    wh_id = _upload(client, withheld_data).json()["id"]
    assert _ingest(client, pub_id) == "published"
    assert _ingest(client, wh_id) == "withheld"

    public = client.get("/documents").json()
    assert [d["id"] for d in public["documents"]] == [pub_id]
    # The public sees the public view only: no state, sha256 or file name of the original.
    assert tuple(public["documents"][0]) == render.PUBLIC_FIELDS
    staff = client.get("/documents", headers=STAFF_H).json()
    assert sorted(d["id"] for d in staff["documents"]) == sorted([pub_id, wh_id])
    # The public asking for a state it may not see gets nothing, not an error.
    assert client.get("/documents", params={"state": "withheld"}).json()["documents"] == []
    staff_withheld = client.get("/documents", params={"state": "withheld"}, headers=STAFF_H)
    assert [d["id"] for d in staff_withheld.json()["documents"]] == [wh_id]

    # A withheld document does not exist for the public; staff see it with its history.
    assert client.get(f"/documents/{wh_id}").status_code == 404
    assert client.get(f"/documents/{wh_id}/original").status_code == 404
    shown = client.get(f"/documents/{wh_id}", headers=STAFF_H)
    assert shown.status_code == 200
    assert shown.json()["document"]["state"] == "withheld"
    history = [e["kind"] for e in shown.json()["history"]]
    assert history[0] == "received" and "state" in history
    # The public's view of a published document has no history and no internal fields.
    public_view = client.get(f"/documents/{pub_id}").json()
    assert "history" not in public_view and "original_key" not in public_view["document"]
    assert public_view["document"]["file_number"] == "狮政〔2021〕21号"

    # Wrong or malformed tokens are refused, never silently treated as the public.
    assert client.get("/documents", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/documents", headers={"Authorization": "Basic x"}).status_code == 401


def test_find_filters_like_the_cli(client) -> None:
    ids = {}
    for serial in (30, 31, 32):
        ids[serial] = _upload(client, make_docx(serial=serial)).json()["id"]
        assert _ingest(client, ids[serial]) == "published"
    # Any spelling of the file number finds the canonical one.
    for spelling in ("狮政[2021]31号", "狮政【2021】31号", "狮政〔2021〕第31号"):
        found = client.get("/documents", params={"file_number": spelling}).json()["documents"]
        assert [d["id"] for d in found] == [ids[31]], spelling
    by_title = client.get("/documents", params={"title": "第32批"}).json()["documents"]
    assert [d["id"] for d in by_title] == [ids[32]]
    by_text = client.get("/documents", params={"text": "第30批事项"}).json()["documents"]
    assert [d["id"] for d in by_text] == [ids[30]]
    page = client.get("/documents", params={"limit": 2, "offset": 0}).json()
    assert page["count"] == 2
    bad_date = client.get("/documents", params={"date_from": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["error"] == "invalid request"


def test_original_byte_for_byte_with_chinese_filename(client) -> None:
    data = make_docx(serial=40)
    name = "石狮市关于印发通知.docx"
    doc_id = _upload(client, data, name).json()["id"]
    assert _ingest(client, doc_id) == "published"
    for headers in ({}, STAFF_H):
        response = client.get(f"/documents/{doc_id}/original", headers=headers)
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["x-content-sha256"] == hashlib.sha256(data).hexdigest()
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        encoded = disposition.split("filename*=UTF-8''", 1)[1]
        assert unquote(encoded) == name
        assert response.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_content_disposition_is_ascii_safe() -> None:
    header = content_disposition('公文 "a".docx')
    header.encode("latin-1")  # a header value must be encodable
    assert 'filename="__ _a_.docx"' in header


def test_unreadable_upload_is_kept_and_becomes_an_exception(client) -> None:
    junk = b"this is not a document at all \x00\x01\x02"
    response = _upload(client, junk, "broken.docx")
    assert response.status_code == 201
    body = response.json()
    assert "warning" in body and "exception" in body["warning"]
    assert _ingest(client, body["id"]) == "exception"
    shown = client.get(f"/documents/{body['id']}", headers=STAFF_H).json()
    assert shown["document"]["state"] == "exception"
    assert shown["document"]["exception_reason"]
    # Nothing lost: the bytes come back exactly.
    original = client.get(f"/documents/{body['id']}/original", headers=STAFF_H)
    assert original.content == junk


def test_bad_requests_get_clear_json_errors(client) -> None:
    no_file = client.post("/documents", data={"declared_disclosure": "active"},
                          files={"attachment": ("a.docx", b"x")}, headers=INTAKE_H)  # fmt: skip
    assert no_file.status_code == 422 and "file" in no_file.json()["error"]
    not_multipart = client.post("/documents", content=b"raw", headers={
        **INTAKE_H, "Content-Type": "application/octet-stream"})  # fmt: skip
    assert not_multipart.status_code == 415
    assert "multipart" in not_multipart.json()["error"]
    broken = client.post("/documents", content=b"--xyz\r\nnonsense", headers={
        **INTAKE_H, "Content-Type": "multipart/form-data; boundary=xyz"})  # fmt: skip
    assert broken.status_code in (400, 422) and broken.json()["error"]
    assert client.get("/documents/999999", headers=STAFF_H).status_code == 404
    assert client.get("/documents/999999").json() == {"error": "no document 999999"}
    assert sum(_ctx(client).catalog.counts_by_state().values()) == 0


def test_a_filename_sent_in_gbk_is_read(client) -> None:
    # An older drafting system on Chinese Windows writes the multipart filename in GBK.
    data = make_docx(serial=13)
    body = (b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + "狮政〔2021〕13号.docx".encode("gbk") + b"\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--xyz--\r\n")
    response = client.post("/documents", content=body, headers={
        **INTAKE_H, "Content-Type": "multipart/form-data; boundary=xyz"})  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == "狮政〔2021〕13号.docx"


def test_intake_needs_a_token(client, gongkai_env, sink) -> None:
    data = make_docx(serial=50)
    assert _upload(client, data, headers={}).status_code == 401
    assert _upload(client, data, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert sum(_ctx(client).catalog.counts_by_state().values()) == 0
    closed = create_app(load_settings(), tokens=Tokens(staff=None, intake=None),
                        relay=False)  # fmt: skip
    with TestClient(closed) as no_tokens:
        refused = _upload(no_tokens, data, headers={})
        assert refused.status_code == 401 and "needs a token" in refused.json()["error"]
        staff = no_tokens.get("/documents", headers=STAFF_H)
        assert staff.status_code == 401 and "invalid token" in staff.json()["error"]


def test_environment_tokens_stop_once_the_first_admin_exists(client) -> None:
    from gongkai.flows.service import people

    data = make_docx(serial=51)
    assert _upload(client, data).status_code == 201
    _, submitter = people.create_token(_ctx(client), system="起草系统", actor="test")
    people.add_user(_ctx(client), "admin1", "admin", password="admin-password", actor="test")
    assert _upload(client, make_docx(serial=52)).status_code == 401
    assert client.get("/documents", headers=STAFF_H).status_code == 401
    taken = _upload(client, make_docx(serial=52), headers={"Authorization": f"Bearer {submitter}"})
    assert taken.status_code == 201
    history = _ctx(client).catalog.history(taken.json()["id"])
    assert history[0].actor == "起草系统"
    # A submitter's token is not a staff token: it sees what the public sees.
    listed = client.get("/documents", headers={"Authorization": f"Bearer {submitter}"})
    assert listed.status_code == 200 and listed.json()["count"] == 0


def test_size_limit_is_enforced_while_streaming(client) -> None:
    big = b"x" * (LIMIT + 1)
    declared = _upload(client, big, "big.pdf")
    assert declared.status_code == 413
    assert str(LIMIT) in declared.json()["error"]

    # A chunked body without Content-Length: refused once the file part passes the limit.
    boundary = "gongkaiboundary"

    def body() -> Iterator[bytes]:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"huge.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        for _ in range(100):  # 100 x 64 KiB = 6.4 MB, far past the limit
            yield b"%" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = client.post("/documents", content=body(), headers={
        **INTAKE_H, "Content-Type": f"multipart/form-data; boundary={boundary}"})  # fmt: skip
    assert chunked.status_code == 413
    assert sum(_ctx(client).catalog.counts_by_state().values()) == 0
    # Exactly at the limit is fine.
    at_limit = _upload(client, b"%PDF-" + b"0" * (LIMIT - 5), "edge.pdf")
    assert at_limit.status_code == 201


def test_health_and_openapi(client) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert {"/documents", "/documents/{doc_id}", "/documents/{doc_id}/original",
            "/health"} <= set(schema["paths"])  # fmt: skip
    upload_schema = schema["paths"]["/documents"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_schema
