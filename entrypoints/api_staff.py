"""The staff endpoints of the HTTP API: exceptions, reviews, redaction, status, fixity, a
document's history and versions, users and tokens. They only translate: each calls one
function of the service layer (gongkai.flows.service) as the calling principal, whose role
gongkai.flows.access checks; the actor of every audit row is that principal.

Included by gongkai.entrypoints.api.create_app (same paths style, same errors).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gongkai.entrypoints.api import (
    FILE_FIELD,
    LIST_FIELDS,
    ApiError,
    Ctx,
    DocId,
    Offset,
    _principal,
    _view,
    page,
)
from gongkai.entrypoints.upload import UploadError, read_upload
from gongkai.flows import service
from gongkai.flows.access import Action, Principal, require
from gongkai.flows.service import people, reading
from gongkai.storage.catalog import DocumentRecord
from gongkai.storage.identities import TokenRecord, UserRecord

MAX_PAGE = 1000
CONFIRM_FIELD = "confirm_difference"  # redaction: why a differing 文号 or title is right


def acting(action: Action) -> Callable[[Request], Principal]:
    """A dependency: the caller, if its role allows `action` (401 / 403 otherwise)."""

    def dependency(request: Request) -> Principal:
        return require(_principal(request), action)

    return dependency


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


class Resolution(BaseModel):
    disclosure: str = Field(description="active | on_request | withheld | partial, or 主动公开 …")
    reason: str
    title: str | None = None
    file_number: str | None = Field(None, description="any spelling: 狮政[2021]12号")
    issuer: str | None = None
    date: str | None = Field(None, description="2021-01-01 or 2021年1月1日")


class Decision(BaseModel):
    decision: Literal["release", "keep", "partial"]
    reason: str


class Withdrawal(BaseModel):
    reason: str = Field(description="why it is taken back (audited, not public)")


class NewUser(BaseModel):
    name: str
    role: Literal["clerk", "reviewer", "archivist", "admin"]
    password: str | None = Field(None, description="none: a one-time initial one is returned")


class NewToken(BaseModel):
    user: str | None = None
    system: str | None = None
    role: Literal["submitter", "clerk", "reviewer", "archivist", "admin"] | None = None


def _listed(shown: list[DocumentRecord], total: int, request: Request, limit: int,
            offset: int, **extra: Any) -> dict[str, Any]:  # fmt: skip
    """A page of documents read by the catalog (`shown`, of `total`)."""
    return {"documents": [{**_view(r, LIST_FIELDS), **{k: f(r) for k, f in extra.items()}}
                          for r in shown],
            **page(request, total, limit, offset)}  # fmt: skip


def _full(record: DocumentRecord) -> dict[str, Any]:
    return _view(record, None)


router = APIRouter()


@router.get("/exceptions", tags=["staff"])
def list_exceptions(
    request: Request, ctx: Ctx, _: Annotated[Principal, Depends(acting(Action.READ_ARCHIVE))],
    limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Documents waiting for a person, with the reason (`exception_reason`)."""
    return _listed(ctx.catalog.by_state("exception", limit=limit, offset=offset, with_text=False),
                   ctx.catalog.count_in_state("exception"), request, limit, offset,
                   exception_reason=lambda r: r.exception_reason)  # fmt: skip


@router.post("/documents/{doc_id}/resolution", tags=["staff"])
def resolve(
    doc_id: DocId, body: Resolution, ctx: Ctx,
    who: Annotated[Principal, Depends(acting(Action.RESOLVE))],
) -> dict[str, Any]:
    """Resolve an exception: the attribute a person decided, and the fields corrected."""
    corrections = {"title": body.title, "file_number": body.file_number,
                   "issuer": body.issuer, "date": body.date}  # fmt: skip
    record = service.resolve(ctx, doc_id, body.disclosure, reason=body.reason,
                             actor=who.actor, corrections=corrections)  # fmt: skip
    return {"document": _full(record)}


@router.get("/reviews", tags=["staff"])
def list_reviews(
    request: Request, ctx: Ctx, _: Annotated[Principal, Depends(acting(Action.READ_ARCHIVE))],
    due: bool = False, limit: Limit = 100, offset: Offset = 0,
) -> dict[str, Any]:
    """Withheld documents and their next review dates (`due=true`: those due today)."""
    if due:
        records = service.due_reviews(ctx, limit=limit, offset=offset)
        total = service.count_due_reviews(ctx)
    else:
        records = ctx.catalog.by_state("withheld", limit=limit, offset=offset, with_text=False)
        total = ctx.catalog.count_in_state("withheld")
    return _listed(records, total, request, limit, offset,
                   next_review_at=lambda r: r.next_review_at.isoformat()
                   if r.next_review_at else None,
                   disclosure_reason=lambda r: r.disclosure_reason)  # fmt: skip


@router.post("/documents/{doc_id}/review", tags=["staff"])
def decide(
    doc_id: DocId, body: Decision, ctx: Ctx,
    who: Annotated[Principal, Depends(acting(Action.REVIEW))],
) -> dict[str, Any]:
    """A reviewer's decision on a withheld document: release, keep or partial."""
    record = service.decide_review(ctx, doc_id, body.decision, reason=body.reason,
                                   reviewer=who.actor)  # fmt: skip
    return {"document": _full(record)}


@router.post("/documents/{doc_id}/withdraw", tags=["staff"])
def withdraw(
    doc_id: int, body: Withdrawal, ctx: Ctx,
    who: Annotated[Principal, Depends(acting(Action.WITHDRAW))],
) -> dict[str, Any]:
    """撤回: take a published document back from the public (page, JSON record, index
    entries; the feed marks it deleted). It stays archived; only a reviewer's release
    (`POST /documents/{id}/review`, decision release) publishes it again."""
    record = service.withdraw(ctx, doc_id, reason=body.reason, actor=who.actor)
    return {"document": _full(record)}


@router.post(
    "/documents/{doc_id}/redaction", tags=["staff"],
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": [FILE_FIELD],
                   "properties": {FILE_FIELD: {"type": "string", "format": "binary"},
                                  CONFIRM_FIELD: {"type": "string"}}}}}}},
)  # fmt: skip
async def redaction(doc_id: DocId, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Upload the redacted version (docx, pdf or txt) of a document waiting for one: it is
    archived beside the original and published; the original stays non-public."""
    who = require(await run_in_threadpool(_principal, request), Action.REDACT)
    try:
        upload = await read_upload(
            request.headers.get("content-type"), request.stream(),
            file_field=FILE_FIELD, max_file_bytes=ctx.settings.max_file_bytes,
            text_fields=(CONFIRM_FIELD,),
        )  # fmt: skip
    except UploadError as exc:
        raise ApiError(exc.status, str(exc)) from exc
    try:
        record = await run_in_threadpool(
            service.redact, ctx, doc_id, upload.data, upload.filename or "redacted",
            actor=who.actor, confirm_difference=upload.fields.get(CONFIRM_FIELD) or None,
        )  # fmt: skip
    finally:
        upload.close()
    return {"document": _full(record)}


@router.get("/status", tags=["staff"])
def status(ctx: Ctx, _: Annotated[Principal, Depends(acting(Action.STATUS))]) -> dict[str, Any]:
    """Counts by state, deadlines overdue and at risk, due reviews, fixity failures."""
    return service.status(ctx).to_json()


@router.post("/fixity", tags=["staff"])
def fixity(ctx: Ctx, who: Annotated[Principal, Depends(acting(Action.FIXITY))]) -> dict[str, Any]:
    """Re-hash every archival package now (the weekly fixity flow's work), audited."""
    report = service.fixity(ctx, actor=who.actor)
    return {"checked": report.checked, "failed": {str(k): v for k, v in report.failed.items()}}


@router.get("/documents/{doc_id}/history", tags=["documents"])
def history(doc_id: DocId, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Every audit row of the document with its actor (staff, and its submitter)."""
    events = reading.history(ctx, doc_id, _principal(request))
    return {"history": [e.to_json() for e in events], "total": len(events)}


@router.get("/documents/{doc_id}/versions", tags=["documents"])
def versions(doc_id: DocId, request: Request, ctx: Ctx) -> dict[str, Any]:
    """The documents carrying the same 文号, oldest first."""
    records = reading.versions(ctx, doc_id, _principal(request))
    return {"versions": [_view(r, LIST_FIELDS) for r in records], "total": len(records)}


# -- users and tokens (admin) ------------------------------------------------------------------

Admin = Annotated[Principal, Depends(acting(Action.MANAGE_PEOPLE))]


def _json_page(key: str, records: Sequence[UserRecord] | Sequence[TokenRecord],
               request: Request, limit: int, offset: int) -> dict[str, Any]:  # fmt: skip
    """One page of users or tokens under `key`, with the paging part."""
    return {key: [r.to_json() for r in records[offset:offset + limit]],
            **page(request, len(records), limit, offset)}  # fmt: skip


@router.get("/users", tags=["people"])
def list_users(request: Request, ctx: Ctx, _: Admin, limit: Limit = 100,
               offset: Offset = 0) -> dict[str, Any]:  # fmt: skip
    return _json_page("users", people.list_users(ctx), request, limit, offset)


@router.post("/users", tags=["people"], status_code=201)
def add_user(body: NewUser, ctx: Ctx, who: Admin) -> JSONResponse:
    """Add a person; without a password the one-time initial one is in the answer."""
    record, initial = people.add_user(ctx, body.name, body.role, password=body.password,
                                      actor=who.actor)  # fmt: skip
    return JSONResponse({"user": record.to_json(), "initial_password": initial}, 201,
                        headers={"Location": f"/users/{quote(record.name)}"})  # fmt: skip


@router.post("/users/{name}/disable", tags=["people"])
def disable_user(name: str, ctx: Ctx, who: Admin) -> dict[str, Any]:
    return {"user": people.disable_user(ctx, name, actor=who.actor).to_json()}


@router.get("/tokens", tags=["people"])
def list_tokens(request: Request, ctx: Ctx, _: Admin, limit: Limit = 100,
                offset: Offset = 0) -> dict[str, Any]:  # fmt: skip
    return _json_page("tokens", people.list_tokens(ctx), request, limit, offset)


@router.post("/tokens", tags=["people"], status_code=201)
def create_token(body: NewToken, ctx: Ctx, who: Admin) -> JSONResponse:
    """A token of a user or a system; the secret is in this answer only."""
    record, secret = people.create_token(ctx, user=body.user, system=body.system,
                                         role=body.role, actor=who.actor)  # fmt: skip
    return JSONResponse({**record.to_json(), "token": secret}, 201)


@router.delete("/tokens/{token_id}", tags=["people"])
def revoke_token(token_id: int, ctx: Ctx, who: Admin) -> dict[str, Any]:
    return {"token": people.revoke_token(ctx, str(token_id), actor=who.actor).to_json()}
