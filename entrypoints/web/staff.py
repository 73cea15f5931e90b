"""The staff app under /staff/: login, 待办, a document's page with the actions the viewer's
role allows, archive search. Every page and action calls the service layer
(gongkai.flows.service) as the logged-in person; this module only translates forms and
pages. Every POST form carries the session's CSRF token."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from gongkai.entrypoints.api import content_disposition
from gongkai.entrypoints.web.pages import templates
from gongkai.entrypoints.web.session import Session, Sessions, csrf_ok
from gongkai.entrypoints.web.throttle import LoginThrottle
from gongkai.extractors.model import ExtractionError
from gongkai.flows import labels, service
from gongkai.flows.access import Action, NotAllowed, Principal, may, require
from gongkai.flows.service import correction, people, reading
from gongkai.flows.service.people import LoginRefused
from gongkai.flows.service.public_view import public_text
from gongkai.flows.service.todo import todo
from gongkai.storage.catalog import DocumentNotFound, FindQuery
from gongkai.storage.retrieval import AccessDenied

PAGE_SIZE = 20
router = APIRouter(prefix="/staff", include_in_schema=False)


class LoginRequired(Exception):
    """No logged-in person: the page answers with a redirect to the login."""


class CsrfRefused(Exception):
    pass


class PasswordChangeRequired(Exception):
    """Logged in with a one-time password: the person sets their own first."""


PASSWORD_PAGE = "/staff/password"


def _sessions(request: Request) -> Sessions:
    return request.app.state.sessions


def _session(request: Request) -> Session | None:
    return _sessions(request).read(request)


def viewer(request: Request) -> tuple[Principal, Session]:
    """The logged-in person and the session (LoginRequired without one)."""
    session = _session(request)
    if session is None or session.user is None:
        raise LoginRequired
    principal = people.person(request.app.state.ctx, session.user)
    if principal is None:  # disabled since, or gone
        raise LoginRequired
    if request.url.path != PASSWORD_PAGE and people.must_change_password(
            request.app.state.ctx, principal.name):  # fmt: skip
        raise PasswordChangeRequired
    return principal, session


async def _form(request: Request) -> dict[str, Any]:
    """The posted form, its CSRF token checked (CsrfRefused otherwise)."""
    form = await request.form()
    if not csrf_ok(_session(request), form.get("csrf")):
        raise CsrfRefused
    return dict(form)


def _page(request: Request, name: str, who: tuple[Principal, Session] | None,
          status_code: int = 200, **values: Any) -> HTMLResponse:  # fmt: skip
    principal, session = who if who else (None, _session(request))
    return templates.TemplateResponse(request, name, {
        "viewer": principal, "csrf": session.csrf if session else "", **values,
    }, status_code=status_code)  # fmt: skip


# -- login ------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/staff/") -> HTMLResponse:
    session = _session(request) or Sessions.new()
    response = templates.TemplateResponse(request, "login.html", {
        "viewer": None, "csrf": session.csrf, "next": _local(next), "error": None})
    _sessions(request).write(response, session)
    return response


def _local(target: str) -> str:
    """Only paths of this site (no open redirect)."""
    return target if target.startswith("/staff/") and not target.startswith("//") \
        else "/staff/"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await _form(request)
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    try:
        wait = throttle.retry_after(address)
        if wait is not None:
            raise LoginRefused(f"此地址登录失败次数过多，请 {wait} 秒后再试", retry_after=wait)
        try:
            principal = await run_in_threadpool(people.login, request.app.state.ctx, name,
                                                password)  # fmt: skip
        except LoginRefused:
            throttle.failed(address)
            raise
    except LoginRefused as exc:
        session = _session(request) or Sessions.new()
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        response = templates.TemplateResponse(request, "login.html", {
            "viewer": None, "csrf": session.csrf, "next": _local(str(form.get("next", ""))),
            "error": str(exc), "name": name}, status_code=429 if exc.retry_after else 401,
            headers=headers)  # fmt: skip
        return response
    response = RedirectResponse(_local(str(form.get("next", "/staff/"))), status_code=303)
    _sessions(request).write(response, Sessions.new(principal.name))  # a fresh CSRF token
    return response


@router.get("/password", response_class=HTMLResponse)
def password_form(request: Request) -> HTMLResponse:
    who = viewer(request)
    return _page(request, "password.html", who, error=None,
                 required=people.must_change_password(request.app.state.ctx, who[0].name))


@router.post("/password", response_class=HTMLResponse)
async def change_password(request: Request) -> Response:
    who = viewer(request)
    form = await _form(request)
    new = str(form.get("new", ""))
    ctx = request.app.state.ctx
    try:
        if new != str(form.get("repeat", "")):
            raise ValueError("两次输入的新密码不一致")
        await run_in_threadpool(people.change_password, ctx, who[0].name,
                                str(form.get("current", "")), new)  # fmt: skip
    except (ValueError, LoginRefused) as exc:
        return _page(request, "password.html", who, status_code=422, error=str(exc),
                     required=people.must_change_password(ctx, who[0].name))
    return RedirectResponse("/staff/?done=password", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    response = RedirectResponse("/staff/login", status_code=303)
    Sessions.clear(response)
    return response


# -- 待办 ---------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def todo_page(request: Request) -> HTMLResponse:
    who = viewer(request)
    require(who[0], Action.STATUS)
    return _page(request, "todo.html", who, todo=todo(request.app.state.ctx),
                 done=request.query_params.get("done"))


# -- a document ---------------------------------------------------------------------------------


def _document_values(request: Request, principal: Principal, doc_id: int) -> dict[str, Any]:
    ctx = request.app.state.ctx
    require(principal, Action.READ_ARCHIVE)
    record = reading.visible_document(ctx, doc_id, principal)
    provenance = dict(record.metadata.get("provenance") or {})
    corrected = correction.corrected_by(ctx, doc_id)
    fields = [(name, getattr(record, name),
               f"人工更正（{corrected[name]}）" if name in corrected else provenance.get(name, ""))
              for name in ("title", "file_number", "issuer", "date", "disclosure",
                           "disclosure_reason", "index_number", "security_level", "signer",
                           "recipients")]  # fmt: skip
    may_original = may(principal, Action.READ_QUARANTINED if record.state == "quarantined"
                       or record.security_level else Action.READ_ORIGINAL) \
        or reading.is_public_original(record)  # fmt: skip
    return {
        "record": record, "fields": fields, "text": record.metadata.get("text") or "",
        "public_text": public_text(ctx, record) if record.redacted_key else None,
        "history": ctx.catalog.history(doc_id),
        "versions": reading.versions(ctx, doc_id, principal),
        "decisions": ctx.catalog.review_decisions(doc_id), "may_original": may_original,
        "can": {
            "resolve": record.state == "exception" and may(principal, Action.RESOLVE),
            "review": record.state in ("withheld", "withdrawn")
            and may(principal, Action.REVIEW),
            "withdraw": record.state == "published" and may(principal, Action.WITHDRAW),
            "redact": record.state == "needs_redaction" and may(principal, Action.REDACT),
        },
        "disclosures": labels.DISCLOSURE_LABELS, "done": request.query_params.get("done"),
    }  # fmt: skip


@router.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: int) -> HTMLResponse:
    who = viewer(request)
    return _page(request, "document.html", who, **_document_values(request, who[0], doc_id))


@router.get("/documents/{doc_id}/original")
def document_original(request: Request, doc_id: int) -> Response:
    principal, _ = viewer(request)
    record, data = reading.original(request.app.state.ctx, doc_id, principal)
    return Response(data, media_type=record.content_type,
                    headers={"Content-Disposition": content_disposition(record.filename)})


async def _act(request: Request, doc_id: int, done: str, action: Any) -> Response:
    """Run one service call for the logged-in person; back to the document's page, with the
    error on it if the call was refused."""
    who = viewer(request)
    form = await _form(request)
    try:
        await action(who[0], form)
    except (service.LifecycleError, ValueError, ExtractionError) as exc:
        values = _document_values(request, who[0], doc_id)
        return _page(request, "document.html", who, status_code=409 if isinstance(
            exc, service.LifecycleError) else 422, error=str(exc), **values)  # fmt: skip
    return RedirectResponse(f"/staff/documents/{doc_id}?done={quote(done)}", status_code=303)


@router.post("/documents/{doc_id}/resolve")
async def resolve(request: Request, doc_id: int) -> Response:
    async def act(principal: Principal, form: dict[str, Any]) -> None:
        require(principal, Action.RESOLVE)
        fields = {name: str(form.get(name, "")) for name in correction.CORRECTABLE}
        await run_in_threadpool(
            service.resolve, request.app.state.ctx, doc_id, str(form.get("disclosure", "")),
            reason=str(form.get("reason", "")), actor=principal.actor, corrections=fields)

    return await _act(request, doc_id, "已处理例外", act)


@router.post("/documents/{doc_id}/review")
async def review(request: Request, doc_id: int) -> Response:
    async def act(principal: Principal, form: dict[str, Any]) -> None:
        require(principal, Action.REVIEW)
        await run_in_threadpool(
            service.decide_review, request.app.state.ctx, doc_id, str(form.get("decision", "")),
            reason=str(form.get("reason", "")), reviewer=principal.actor)

    return await _act(request, doc_id, "已作出审核决定", act)


@router.post("/documents/{doc_id}/withdraw")
async def withdraw(request: Request, doc_id: int) -> Response:
    async def act(principal: Principal, form: dict[str, Any]) -> None:
        require(principal, Action.WITHDRAW)
        await run_in_threadpool(service.withdraw, request.app.state.ctx, doc_id,
                                reason=str(form.get("reason", "")), actor=principal.actor)

    return await _act(request, doc_id, "已撤回，公开页面已删除", act)


@router.post("/documents/{doc_id}/redact")
async def redact(request: Request, doc_id: int) -> Response:
    async def act(principal: Principal, form: dict[str, Any]) -> None:
        require(principal, Action.REDACT)
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValueError("请选择删减后的文件（docx、pdf 或 txt）")
        data = await upload.read()
        confirm = str(form.get("confirm_difference", "")).strip() or None
        await run_in_threadpool(service.redact, request.app.state.ctx, doc_id, data,
                                upload.filename, actor=principal.actor,
                                confirm_difference=confirm)  # fmt: skip

    return await _act(request, doc_id, "已上传删减版本并发布", act)


# -- archive search -----------------------------------------------------------------------------


def _day(value: str | None) -> date | None:
    if not value or not value.strip():
        return None
    from gongkai.extractors.dates import parse_date

    iso = parse_date(value)
    if iso is None:
        raise ValueError(f"日期 {value!r} 无法识别（如 2021年1月1日 或 2021-01-01）")
    return date.fromisoformat(iso)


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    file_number: str = "", index_number: str = "", title: str = "", text: str = "",
    issuer: str = "", date_from: str = "", date_to: str = "", state: str = "",
    disclosure: str = "", page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    who = viewer(request)
    require(who[0], Action.READ_ARCHIVE)
    ctx = request.app.state.ctx
    form = {"file_number": file_number, "index_number": index_number, "title": title,
            "text": text, "issuer": issuer, "date_from": date_from, "date_to": date_to,
            "state": state, "disclosure": disclosure}  # fmt: skip
    error, records, total = None, [], 0
    try:
        query = FindQuery(
            file_number=file_number or None, index_number=index_number or None,
            title=title or None, text=text or None, issuer=issuer or None,
            date_from=_day(date_from), date_to=_day(date_to), state=state or None,
            disclosure=disclosure or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        )  # fmt: skip
        found = ctx.catalog.find_page(query)  # the list columns only, and the total
        records, total = found.documents, found.total
    except ValueError as exc:
        error = str(exc)
    searched = any(form.values())
    pages = max(1, -(-total // PAGE_SIZE))
    links = {n: str(request.url.include_query_params(page=n)) for n in (page - 1, page + 1)}
    return _page(request, "search.html", who, form=form, records=records, total=total,
                 page=page, pages=pages, links=links, error=error, searched=searched,
                 states=labels.STATE_LABELS, disclosures=labels.DISCLOSURE_LABELS)  # fmt: skip


def install_handlers(app: Any) -> None:
    """Staff pages answer a missing login with the login page, a refused role or an unknown
    document with a page in Chinese (the API's JSON errors stay for the API)."""

    def is_page(request: Request) -> bool:
        return request.url.path.startswith("/staff/") or request.url.path == "/staff"

    async def login_required(request: Request, exc: Exception) -> Response:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return RedirectResponse(f"/staff/login?next={target}", status_code=303)

    async def csrf_refused(request: Request, exc: Exception) -> Response:
        return _page(request, "error.html", None, status_code=403,
                     message="表单已过期或来源不明（CSRF 校验失败），请返回重新提交。")

    async def password_required(request: Request, exc: Exception) -> Response:
        return RedirectResponse(PASSWORD_PAGE, status_code=303)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, password_required)
    app.add_exception_handler(CsrfRefused, csrf_refused)
    previous = dict(app.exception_handlers)

    def page_or(kind: type[Exception], status: int, message: str) -> None:
        fallback = previous.get(kind)

        async def handler(request: Request, exc: Exception) -> Response:
            if is_page(request) or (status == 404 and request.url.path.startswith("/records/")):
                return _page(request, "error.html", None, status_code=status,
                             message=message if status == 404 else str(exc))
            assert fallback is not None
            return await fallback(request, exc)

        app.add_exception_handler(kind, handler)

    page_or(NotAllowed, 403, "")
    page_or(DocumentNotFound, 404, "没有这份文件，或您无权查看。")
    page_or(AccessDenied, 404, "没有这份文件，或您无权查看。")
