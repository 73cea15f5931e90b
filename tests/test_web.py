"""The web app over HTTP without a browser (FastAPI TestClient): sessions, CSRF, the login's
rate limit, role checks on pages and forms, and the portal's public-only pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.entrypoints.web import create_web_app, throttle
from gongkai.entrypoints.web.session import COOKIE
from gongkai.flows import service
from gongkai.flows.service import people

PLAN = {"published": ("active", None), "withheld": ("withheld", None),
        "exception": (None, None), "secret": ("active", "秘密")}  # fmt: skip


@pytest.fixture
def web(gongkai_env) -> Iterator[tuple[TestClient, dict[str, int]]]:
    app = create_web_app(load_settings(), relay=False, secret="s3cret")
    with TestClient(app, follow_redirects=False) as client:
        ctx = app.state.ctx
        people.add_user(ctx, "clerk1", "clerk", password="clerk-password", actor="setup")
        people.add_user(ctx, "reviewer1", "reviewer", password="reviewer-password",
                        actor="setup")  # fmt: skip
        ids = {}
        for serial, (key, (disclosure, security)) in enumerate(PLAN.items(), start=1):
            data, truth = make_docx(serial, disclosure=disclosure, security=security)
            doc_id = service.intake(ctx, data, truth.filename, source="t", actor="t").record.id
            outcomes = service.process(ctx, [doc_id])
            service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
            ids[key] = doc_id
        yield client, ids


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _login(client: TestClient, name: str, password: str) -> str:
    csrf = _csrf(client.get("/staff/login").text)
    response = client.post("/staff/login", data={"csrf": csrf, "name": name,
                                                 "password": password, "next": "/staff/"})
    assert response.status_code == 303, response.text
    return _csrf(client.get("/staff/").text)


def test_staff_pages_need_a_login(web) -> None:
    client, ids = web
    for path in ("/staff/", f"/staff/documents/{ids['exception']}", "/staff/search"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/staff/login?next=")
    client.cookies.set(COOKIE, "forged.value.sig")
    assert client.get("/staff/").status_code == 303


def test_every_form_needs_the_sessions_csrf_token(web) -> None:
    client, ids = web
    assert client.post("/staff/login", data={"name": "clerk1",
                                             "password": "clerk-password"}).status_code == 403
    csrf = _login(client, "clerk1", "clerk-password")
    path = f"/staff/documents/{ids['exception']}/resolve"
    form = {"disclosure": "active", "reason": "核对"}
    assert client.post(path, data=form).status_code == 403
    assert client.post(path, data={**form, "csrf": "not-the-token"}).status_code == 403
    done = client.post(path, data={**form, "csrf": csrf})
    assert done.status_code == 303 and "done=" in done.headers["location"]


def test_failed_logins_are_rate_limited(web) -> None:
    client, _ = web
    csrf = _csrf(client.get("/staff/login").text)
    statuses = [client.post("/staff/login", data={"csrf": csrf, "name": "clerk1",
                                                  "password": "nope"}).status_code
                for _ in range(people.FREE_FAILURES)]  # fmt: skip
    assert statuses[:-1] == [401] * (people.FREE_FAILURES - 1) and statuses[-1] == 429
    locked = client.post("/staff/login", data={"csrf": csrf, "name": "clerk1",
                                               "password": "clerk-password"})  # fmt: skip
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "秒后再试" in locked.text


def test_one_address_trying_every_account_is_stopped_too(web) -> None:
    client, _ = web
    for n in range(1, 4):  # accounts none of whose own locks the spraying reaches
        people.add_user(client.app.state.ctx, f"clerk{n + 1}", "clerk",
                        password=f"clerk{n + 1}-password", actor="setup")  # fmt: skip
    csrf = _csrf(client.get("/staff/login").text)
    limit = throttle.FAILURES_PER_ADDRESS
    names = [f"clerk{1 + n % 4}" for n in range(limit - 8)] + [f"nobody{n}" for n in range(8)]
    statuses = [client.post("/staff/login", data={"csrf": csrf, "name": name,
                                                  "password": "guess"}).status_code
                for name in names]  # fmt: skip
    assert statuses == [401] * limit  # no account reached its own lock (5 each)
    refused = client.post("/staff/login", data={"csrf": csrf, "name": "reviewer1",
                                                "password": "reviewer-password"})  # fmt: skip
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "此地址登录失败次数过多" in refused.text
    assert people.login(client.app.state.ctx, "reviewer1", "reviewer-password")  # not locked


def test_the_address_limit_counts_failures_in_its_window() -> None:
    now = [1000.0]
    limit = throttle.LoginThrottle(3, 60.0, max_addresses=2, clock=lambda: now[0])
    for _ in range(3):
        assert limit.retry_after("10.0.0.1") is None
        limit.failed("10.0.0.1")
        now[0] += 10
    assert limit.retry_after("10.0.0.1") == 30  # the first failure leaves the window at 1060
    assert limit.retry_after("10.0.0.2") is None
    now[0] = 1060.0
    assert limit.retry_after("10.0.0.1") is None  # one of three has left the window
    limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") == 10
    limit.failed("10.0.0.2")
    limit.failed("10.0.0.3")  # a third address: the least recently failing is forgotten
    assert limit.retry_after("10.0.0.1") is None


def test_pages_show_and_allow_only_the_viewers_actions(web) -> None:
    client, ids = web
    csrf = _login(client, "reviewer1", "reviewer-password")
    page = client.get(f"/staff/documents/{ids['withheld']}").text
    assert 'id="review"' in page and 'id="resolve"' not in page
    refused = client.post(f"/staff/documents/{ids['exception']}/resolve",
                          data={"csrf": csrf, "disclosure": "active", "reason": "x"})
    assert refused.status_code == 403 and "无权处理例外" in refused.text
    # A quarantined original: no link, and the download is refused (archivist only).
    secret = client.get(f"/staff/documents/{ids['secret']}").text
    assert "下载原件" not in secret
    assert client.get(f"/staff/documents/{ids['secret']}/original").status_code == 403
    withheld = client.get(f"/staff/documents/{ids['withheld']}/original")
    assert withheld.status_code == 200 and withheld.content[:2] == b"PK"
    retrieved = [e.actor for e in client.app.state.ctx.catalog.history(ids["withheld"])
                 if e.kind == "original_retrieved"]  # fmt: skip
    assert retrieved == ["reviewer1"]
    # A disabled user's session ends at once.
    people.disable_user(client.app.state.ctx, "reviewer1", actor="admin")
    assert client.get("/staff/").status_code == 303


def test_the_portal_shows_published_documents_only(web) -> None:
    client, ids = web
    index = client.get("/")
    assert index.status_code == 200 and "共 1 条" in index.text
    assert f"/records/{ids['published']}" in index.text
    assert f"/records/{ids['withheld']}" not in index.text
    record = client.get(f"/records/{ids['published']}")
    assert record.status_code == 200 and "鸿政〔2021〕1号" in record.text
    for key in ("withheld", "exception", "secret"):
        hidden = client.get(f"/records/{ids[key]}")
        assert hidden.status_code == 404 and "没有这份文件" in hidden.text
    assert client.get("/?year=&issuer=").status_code == 200
    assert "共 0 条" in client.get("/?year=2019").text


def test_a_reviewer_withdraws_a_publication_from_its_page(web) -> None:
    client, ids = web
    doc_id = ids["published"]
    assert client.get(f"/records/{doc_id}").status_code == 200
    csrf = _login(client, "clerk1", "clerk-password")
    assert 'id="withdraw"' not in client.get(f"/staff/documents/{doc_id}").text
    refused = client.post(f"/staff/documents/{doc_id}/withdraw",
                          data={"csrf": csrf, "reason": "x"})  # fmt: skip
    assert refused.status_code == 403
    client.cookies.clear()
    csrf = _login(client, "reviewer1", "reviewer-password")
    assert 'id="withdraw"' in client.get(f"/staff/documents/{doc_id}").text
    empty = client.post(f"/staff/documents/{doc_id}/withdraw", data={"csrf": csrf, "reason": " "})
    assert empty.status_code == 409 and "理由" in empty.text
    done = client.post(f"/staff/documents/{doc_id}/withdraw",
                       data={"csrf": csrf, "reason": "内容有误，需更正后重发"})  # fmt: skip
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert "已撤回" in page and 'id="review"' in page  # a release publishes it again
    assert client.get(f"/records/{doc_id}").status_code == 404
    history = client.app.state.ctx.catalog.history(doc_id)
    assert [e.actor for e in history if e.detail.get("to") == "withdrawn"] == ["reviewer1"]


def test_a_review_decision_is_never_preselected(web) -> None:
    # One click with any reason must not publish: the reviewer chooses the decision.
    client, ids = web
    doc_id = ids["withheld"]
    csrf = _login(client, "reviewer1", "reviewer-password")
    page = client.get(f"/staff/documents/{doc_id}").text
    form = page[page.index('id="review"'):]
    form = form[:form.index("</form>")]
    assert '<option value="" selected disabled>请选择</option>' in form
    assert re.search(r'<option value="(release|keep|partial)"[^>]*selected', form) is None
    unchosen = client.post(f"/staff/documents/{doc_id}/review",
                           data={"csrf": csrf, "reason": "情况变化"})  # fmt: skip
    assert unchosen.status_code == 422, unchosen.text
    assert client.app.state.ctx.catalog.get(doc_id).state == "withheld"


def test_the_portal_lists_by_year_and_issuer(web) -> None:
    client, ids = web
    ctx = client.app.state.ctx
    data, truth = make_docx(31, disclosure="active", year=2020, issuer="鸿山镇党政办公室",
                            code="鸿政办")  # fmt: skip
    doc_id = service.intake(ctx, data, truth.filename, source="t", actor="t").record.id
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    assert ctx.catalog.published_facets() == (["鸿山镇人民政府", "鸿山镇党政办公室"], [2021, 2020])
    by_year = client.get("/?year=2020").text
    assert "共 1 条" in by_year and f"/records/{doc_id}" in by_year
    by_issuer = client.get("/", params={"issuer": "鸿山镇人民政府"}).text
    assert "共 1 条" in by_issuer and f"/records/{ids['published']}" in by_issuer
    searched = client.get("/", params={"q": "第31批"}).text
    assert "共 1 条" in searched and f"/records/{doc_id}" in searched


def test_a_one_time_password_is_changed_at_the_first_login(web) -> None:
    client, _ = web
    ctx = client.app.state.ctx
    _, initial = people.add_user(ctx, "新人", "clerk", password=None, actor="admin")
    assert initial is not None
    csrf = _csrf(client.get("/staff/login").text)
    logged = client.post("/staff/login", data={"csrf": csrf, "name": "新人",
                                               "password": initial, "next": "/staff/"})
    assert logged.status_code == 303
    # Every staff page leads to the password page until a password of one's own is set.
    for path in ("/staff/", "/staff/search"):
        assert client.get(path).headers["location"] == "/staff/password"
    form = client.get("/staff/password")
    assert form.status_code == 200 and "一次性初始密码" in form.text
    csrf = _csrf(form.text)
    mismatch = client.post("/staff/password", data={
        "csrf": csrf, "current": initial, "new": "my-own-password", "repeat": "other-one"})
    assert mismatch.status_code == 422 and "不一致" in mismatch.text
    wrong = client.post("/staff/password", data={
        "csrf": csrf, "current": "not-it", "new": "my-own-password", "repeat": "my-own-password"})
    assert wrong.status_code == 422 and "不正确" in wrong.text
    done = client.post("/staff/password", data={
        "csrf": csrf, "current": initial, "new": "my-own-password", "repeat": "my-own-password"})
    assert done.status_code == 303 and "密码已修改" in client.get(done.headers["location"]).text
    assert not people.must_change_password(ctx, "新人")
    assert people.login(ctx, "新人", "my-own-password").name == "新人"
    # An admin's reset gives a one-time password again.
    again = people.reset_password(ctx, "新人", password=None)
    assert again and people.must_change_password(ctx, "新人")
