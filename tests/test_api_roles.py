"""Every staff endpoint of the HTTP API for every role: allowed, refused (401 without a
token, 403 for a role that may not), and the real actor in the audit row. In-process
(FastAPI TestClient) on the embedded defaults, real catalog, real stores, real extractors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.flows import service
from gongkai.flows.service import people

ROLES = ("public", "submitter", "clerk", "reviewer", "archivist", "admin")
ACTOR = {"submitter": "起草系统", "clerk": "张文书", "reviewer": "李审核",
         "archivist": "王档案", "admin": "赵管理"}  # fmt: skip


@dataclass
class Office:
    client: TestClient
    headers: dict[str, dict[str, str]]
    ids: dict[str, int]

    @property
    def ctx(self) -> service.Context:
        return self.client.app.state.ctx

    def call(self, role: str, method: str, path: str, **kwargs: object):  # type: ignore[no-untyped-def]
        return self.client.request(method, path, headers=self.headers[role], **kwargs)

    def actors(self, doc_id: int, kind: str) -> list[str]:
        return [e.actor for e in self.ctx.catalog.history(doc_id) if e.kind == kind]


def _ingest(ctx: service.Context, data: bytes, name: str, actor: str) -> int:
    doc_id = service.intake(ctx, data, name, source="http", actor=actor).record.id
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


@pytest.fixture
def office(gongkai_env) -> Iterator[Office]:
    app = create_app(load_settings(), tokens=Tokens(staff=None, intake=None),
                     relay=False)  # fmt: skip
    with TestClient(app) as client:
        ctx = client.app.state.ctx
        headers: dict[str, dict[str, str]] = {"public": {}}
        for role, name in ACTOR.items():
            if role == "submitter":
                _, secret = people.create_token(ctx, system=name, actor="setup")
            else:
                people.add_user(ctx, name, role, password=f"{role}-password", actor="setup")
                _, secret = people.create_token(ctx, user=name, actor="setup")
            headers[role] = {"Authorization": f"Bearer {secret}"}
        plan = {"published": ("active", None), "withheld": ("withheld", None),
                "withheld2": ("withheld", None), "partial": ("partial", None),
                "exception": (None, None), "exception2": (None, None),
                "secret": ("active", "秘密"), "on_request": ("on_request", None)}  # fmt: skip
        ids = {}
        for serial, (key, (disclosure, security)) in enumerate(plan.items(), start=1):
            data, truth = make_docx(serial, disclosure=disclosure, security=security)
            ids[key] = _ingest(ctx, data, truth.filename, ACTOR["submitter"])
        yield Office(client, headers, ids)


def _expected(role: str, allowed: set[str]) -> int | None:
    if role in allowed:
        return None  # a success (checked by the caller)
    return 401 if role == "public" else 403


STAFF = {"clerk", "reviewer", "archivist", "admin"}
READS = [
    ("GET", "/exceptions", STAFF),
    ("GET", "/reviews", STAFF),
    ("GET", "/reviews?due=true", STAFF),
    ("GET", "/status", STAFF),
    ("GET", "/users", {"admin"}),
    ("GET", "/tokens", {"admin"}),
]


@pytest.mark.parametrize("role", ROLES)
def test_read_endpoints_by_role(office: Office, role: str) -> None:
    for method, path, allowed in READS:
        response = office.call(role, method, path)
        expected = _expected(role, allowed)
        if expected is None:
            assert response.status_code == 200, (path, response.text)
        else:
            assert response.status_code == expected, (path, role, response.text)
            assert "error" in response.json()
            if expected == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"


def test_lists_have_a_total_and_a_next_link(office: Office) -> None:
    first = office.call("clerk", "GET", "/exceptions?limit=1").json()
    assert first["total"] == 2 and len(first["documents"]) == 1
    assert first["documents"][0]["exception_reason"]
    following = office.client.get(first["next"], headers=office.headers["clerk"]).json()
    assert following["offset"] == 1 and following["next"] is None
    assert following["documents"][0]["id"] != first["documents"][0]["id"]
    reviews = office.call("reviewer", "GET", "/reviews?limit=1").json()
    withheld = office.ctx.catalog.ids_in_state("withheld")
    assert reviews["total"] == len(withheld) >= 2
    assert [d["id"] for d in reviews["documents"]] == withheld[:1]
    rest = office.client.get(reviews["next"], headers=office.headers["reviewer"]).json()
    assert [d["id"] for d in rest["documents"]] == withheld[1:2]
    found = office.call("clerk", "GET", "/documents?limit=3").json()
    assert found["total"] == len(office.ids) and found["count"] == 3 and found["next"]
    public = office.call("public", "GET", "/documents").json()
    assert public["total"] == 1 and public["next"] is None


def test_resolve_with_corrected_fields_by_the_clerk_only(office: Office) -> None:
    doc_id = office.ids["exception"]
    body = {"disclosure": "主动公开", "reason": "核对原件，属主动公开", "title": "更正后的标题",
            "file_number": "鸿政[2021]99号", "date": "2021年1月1日"}  # fmt: skip
    for role in ("public", "submitter", "reviewer", "archivist", "admin"):
        refused = office.call(role, "POST", f"/documents/{doc_id}/resolution", json=body)
        assert refused.status_code == _expected(role, {"clerk"}), role
    done = office.call("clerk", "POST", f"/documents/{doc_id}/resolution", json=body)
    assert done.status_code == 200, done.text
    document = done.json()["document"]
    assert document["state"] == "published" and document["title"] == "更正后的标题"
    assert document["file_number"] == "鸿政〔2021〕99号" and document["date"] == "2021-01-01"
    assert office.actors(doc_id, "corrected") == ["张文书"]
    assert office.actors(doc_id, "resolved") == ["张文书"]
    again = office.call("clerk", "POST", f"/documents/{doc_id}/resolution", json=body)
    assert again.status_code == 409
    bad = office.call("clerk", "POST", f"/documents/{office.ids['exception2']}/resolution",
                      json={**body, "date": "某日"})  # fmt: skip
    assert bad.status_code == 422 and "日期" in bad.json()["error"]


def test_review_decision_by_the_reviewer_only(office: Office) -> None:
    doc_id = office.ids["withheld"]
    body = {"decision": "release", "reason": "情况变化，可以公开"}
    for role in ("public", "submitter", "clerk", "archivist", "admin"):
        refused = office.call(role, "POST", f"/documents/{doc_id}/review", json=body)
        assert refused.status_code == _expected(role, {"reviewer"}), role
    done = office.call("reviewer", "POST", f"/documents/{doc_id}/review", json=body)
    assert done.status_code == 200 and done.json()["document"]["state"] == "published"
    assert [d["reviewer"] for d in office.ctx.catalog.review_decisions(doc_id)] == ["李审核"]
    kept = office.call("reviewer", "POST", f"/documents/{office.ids['withheld2']}/review",
                       json={"decision": "keep", "reason": "仍在讨论"})  # fmt: skip
    assert kept.json()["document"]["state"] == "withheld"
    invalid = office.call("reviewer", "POST", f"/documents/{doc_id}/review",
                          json={"decision": "maybe", "reason": "x"})  # fmt: skip
    assert invalid.status_code == 422


def test_redaction_upload_by_the_clerk_only(office: Office) -> None:
    doc_id = office.ids["partial"]
    text = "关于做好第4批政务公开标准化工作的通知\n正文（个人信息已删除）".encode()
    files = {"file": ("删减版.txt", text)}
    for role in ("public", "submitter", "reviewer", "archivist", "admin"):
        refused = office.call(role, "POST", f"/documents/{doc_id}/redaction", files=files)
        assert refused.status_code == _expected(role, {"clerk"}), role
    # Without the original's 文号 and title it is refused, unless the clerk confirms why.
    differs = office.call("clerk", "POST", f"/documents/{doc_id}/redaction", files=files)
    assert differs.status_code == 409 and "删减稿与原件不符" in differs.json()["error"]
    done = office.call("clerk", "POST", f"/documents/{doc_id}/redaction", files=files,
                       data={"confirm_difference": "删减稿只录正文"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["document"]["state"] == "published"
    assert office.actors(doc_id, "redacted") == ["张文书"]


def test_fixity_by_the_archivist_only(office: Office) -> None:
    for role in ("public", "submitter", "clerk", "reviewer", "admin"):
        assert office.call(role, "POST", "/fixity").status_code == _expected(role, set())
    done = office.call("archivist", "POST", "/fixity")
    assert done.status_code == 200 and done.json() == {"checked": len(office.ids), "failed": {}}
    assert office.actors(office.ids["published"], "fixity") == ["王档案"]


def test_originals_by_role_and_every_non_public_download_audited(office: Office) -> None:
    secret, withheld, public = (office.ids[k] for k in ("secret", "withheld", "published"))
    expect = {"public": 404, "submitter": 404, "clerk": 403, "reviewer": 403,
              "archivist": 200, "admin": 403}  # fmt: skip
    for role, status in expect.items():
        got = office.call(role, "GET", f"/documents/{secret}/original")
        assert got.status_code == status, (role, got.text)
    assert office.actors(secret, "original_retrieved") == ["王档案"]
    expect = {"public": 404, "submitter": 404, "clerk": 200, "reviewer": 200,
              "archivist": 200, "admin": 403}  # fmt: skip
    for role, status in expect.items():
        assert office.call(role, "GET", f"/documents/{withheld}/original").status_code == status
    assert office.actors(withheld, "original_retrieved") == ["张文书", "李审核", "王档案"]
    assert office.call("public", "GET", f"/documents/{public}/original").status_code == 200
    assert office.actors(public, "original_retrieved") == []


def test_history_versions_and_the_submitters_read_back(office: Office) -> None:
    doc_id = office.ids["exception"]
    for role in ("clerk", "reviewer", "archivist", "admin", "submitter"):
        history = office.call(role, "GET", f"/documents/{doc_id}/history")
        assert history.status_code == 200, role
        assert history.json()["history"][0]["actor"] == "起草系统"
    assert office.call("public", "GET", f"/documents/{doc_id}/history").status_code == 404
    own = office.call("submitter", "GET", f"/documents/{doc_id}")
    assert own.status_code == 200
    assert own.json()["document"]["state"] == "exception" and "text" not in own.json()["document"]
    # Another system sees nothing of it.
    _, other = people.create_token(office.ctx, system="另一系统", actor="setup")
    assert office.client.get(f"/documents/{doc_id}", headers={
        "Authorization": f"Bearer {other}"}).status_code == 404  # fmt: skip
    versions = office.call("clerk", "GET", f"/documents/{office.ids['published']}/versions")
    assert versions.status_code == 200 and versions.json()["total"] == 1


def test_users_and_tokens_by_the_admin_only(office: Office) -> None:
    body = {"name": "新文书", "role": "clerk"}
    for role in ("public", "submitter", "clerk", "reviewer", "archivist"):
        assert office.call(role, "POST", "/users", json=body).status_code == _expected(role, set())
    made = office.call("admin", "POST", "/users", json=body)
    assert made.status_code == 201, made.text
    assert made.status_code == 201 and made.json()["initial_password"]
    assert made.json()["user"]["created_by"] == "赵管理"
    assert office.call("admin", "POST", "/users", json=body).status_code == 409
    token = office.call("admin", "POST", "/tokens", json={"user": "新文书"})
    assert token.status_code == 201 and token.json()["token"].startswith("gk_")
    mine = {"Authorization": f"Bearer {token.json()['token']}"}
    assert office.client.get("/exceptions", headers=mine).status_code == 200
    revoked = office.call("admin", "DELETE", f"/tokens/{token.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["token"]["revoked_at"]
    assert office.client.get("/exceptions", headers=mine).status_code == 401
    for role in ("public", "submitter", "clerk", "reviewer", "archivist"):
        expected = _expected(role, set())
        assert office.call(role, "POST", "/users/张文书/disable").status_code == expected
        assert office.call(role, "DELETE", f"/tokens/{token.json()['id']}").status_code == expected
        assert office.call(role, "POST", "/tokens", json={"user": "新文书"}).status_code == expected
    disabled = office.call("admin", "POST", "/users/张文书/disable")
    assert disabled.status_code == 200 and disabled.json()["user"]["enabled"] is False
    assert office.call("clerk", "GET", "/exceptions").status_code == 401
    assert office.call("admin", "POST", "/users/无此人/disable").status_code == 404


def test_405_carries_allow_and_openapi_declares_security_and_errors(office: Office) -> None:
    wrong = office.call("admin", "PUT", "/exceptions")
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    spec = office.client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert {"HTTPBearer": []} in operation["security"], (path, method)
            assert {"401", "403", "404", "422"} <= set(operation["responses"]), (path, method)


def test_withdrawal_by_the_reviewer_only(office: Office) -> None:
    doc_id = office.ids["published"]
    body = {"reason": "内容有误"}
    for role in ("public", "submitter", "clerk", "archivist", "admin"):
        refused = office.call(role, "POST", f"/documents/{doc_id}/withdraw", json=body)
        assert refused.status_code == _expected(role, {"reviewer"}), role
    done = office.call("reviewer", "POST", f"/documents/{doc_id}/withdraw", json=body)
    assert done.status_code == 200 and done.json()["document"]["state"] == "withdrawn"
    moved = [e.actor for e in office.ctx.catalog.history(doc_id) if e.kind == "state"
             and e.detail.get("to") == "withdrawn"]  # fmt: skip
    assert moved == ["李审核"]
    assert office.call("public", "GET", f"/documents/{doc_id}").status_code == 404
