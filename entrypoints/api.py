"""The HTTP intake and retrieval API (FastAPI). It only translates: intake is
gongkai.flows.service.intake, retrieval is gongkai.storage.retrieval (the same access layer as
the CLI), and roles come from a bearer token.

Callers (gongkai.flows.access has the roles and what each may do):
- the public (no Authorization header) sees published documents only; anything else is
  answered 404, exactly like a document that does not exist (existence is not disclosed);
- people and systems send `Authorization: Bearer <token>` (`gongkai token create`); an
  unknown, revoked or disabled user's token is refused (401), a role that may not do what
  is asked gets 403;
- until the first admin exists, the environment tokens are the bootstrap: GONGKAI_STAFF_TOKEN
  acts as the operator, GONGKAI_INTAKE_TOKEN as a submitter (compared in constant time).

Every error is JSON: {"error": "<what went wrong>", ...}.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from gongkai import __version__
from gongkai.config import Settings, load_settings
from gongkai.entrypoints.tables import printable
from gongkai.entrypoints.upload import FORM_ALLOWANCE_BYTES, Upload, UploadError, read_upload
from gongkai.flows import render
from gongkai.flows.access import Action, NotAllowed, NotAuthenticated, Principal, may
from gongkai.flows.service import (
    Context,
    IntakeRejected,
    LifecycleError,
    intake,
    people,
    public_view,
    reading,
)
from gongkai.flows.service.people import BootstrapTokens
from gongkai.storage.catalog import DocumentNotFound, DocumentRecord, DocumentSummary, FindQuery
from gongkai.storage.identities import TokenNotFound, UserExists, UserNotFound
from gongkai.storage.objects import ChecksumMismatch, StorageError
from gongkai.storage.retrieval import (
    PUBLIC_STATES,
    AccessDenied,
    Role,
    count_documents,
    find_documents,
    find_page,
)

log = logging.getLogger("gongkai.api")
BEARER = HTTPBearer(auto_error=False, description="a token from `gongkai token create`")

FILE_FIELD = "file"
DISCLOSURE_FIELD = "declared_disclosure"
MAX_PAGE = 1000
DEFAULT_PAGE = 50  # as `gongkai find`

# Ids and offsets are 64-bit in the catalog: a larger id names no document (404), a larger
# offset is a bad request (422).
MAX_ID = 2**63 - 1
DocId = Annotated[int, Path(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]
# The public sees the public view (flows.render.PUBLIC_FIELDS, built by
# flows.service.public_view); staff see the whole record (and LIST_FIELDS in a list).
# What a submitter reads back of a document it handed over that is not public.
SUBMITTER_FIELDS: tuple[str, ...] = (
    "id", "sha256", "filename", "state", "file_number", "index_number", "title",
    "received_at", "published_at", "exception_reason",
)  # fmt: skip
LIST_FIELDS: tuple[str, ...] = (
    "id", "file_number", "index_number", "title", "issuer", "date", "disclosure",
    "state", "sha256", "filename", "received_at", "published_at",
)  # fmt: skip


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


class ErrorBody(BaseModel):
    error: str = Field(description="what went wrong, for a person to read")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Every operation may answer these (OpenAPI lists them on each).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("no token where one is needed, or an unknown, revoked or disabled one"),
    403: _error("the caller's role does not allow this"),
    404: _error("no such document, or not one the caller may see"),
    405: _error("method not allowed (the Allow header lists those that are)"),
    409: _error("the document is not in a state that allows this"),
    422: _error("invalid request"),
    500: _error("stored data failed verification or could not be read"),
}


def page(request: Request, total: int, limit: int, offset: int) -> dict[str, Any]:
    """The paging part of a list: total, limit, offset, and the link to the next page."""
    following = offset + limit
    nxt = str(request.url.include_query_params(offset=following)) if following < total else None
    return {"total": total, "limit": limit, "offset": offset, "next": nxt}


# The bootstrap environment tokens (GONGKAI_STAFF_TOKEN, GONGKAI_INTAKE_TOKEN).
Tokens = BootstrapTokens


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "send the token as 'Authorization: Bearer <token>'")
    return token.strip()


def content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the real (e.g. Chinese) name per RFC 5987/6266."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return (f'attachment; filename="{fallback or "document"}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}")  # fmt: skip


def _shown(view: dict[str, Any]) -> dict[str, Any]:
    """A file name as it may be printed (stored as given; controls and bidi overrides shown
    as escapes, like the CLI's tables)."""
    if isinstance(view.get("filename"), str):
        view["filename"] = printable(view["filename"])
    return view


def _view(record: DocumentRecord, fields: tuple[str, ...] | None) -> dict[str, Any]:
    full = record.to_json()
    if fields is None:
        return _shown(full)
    return _shown({name: full[name] for name in fields})


def _list_view(summary: DocumentSummary) -> dict[str, Any]:
    full = summary.to_json()
    return _shown({name: full[name] for name in LIST_FIELDS})


def _context(request: Request) -> Context:
    return request.app.state.ctx


def _principal(request: Request) -> Principal | None:
    """Who is calling: None without a token (the public); 401 for a token that is unknown,
    revoked, of a disabled user, or an environment token after the first admin exists."""
    token = _bearer(request.headers.get("authorization"))
    if token is None:
        return None
    principal = people.authenticate_token(_context(request), token, request.app.state.tokens)
    if principal is None:
        raise ApiError(401, "invalid token")
    return principal


def _role(request: Request) -> Role:
    """What the caller may see: STAFF for a role that reads the archive, else PUBLIC."""
    principal = _principal(request)
    return Role.STAFF if may(principal, Action.READ_ARCHIVE) else Role.PUBLIC


def _submitter(request: Request) -> str:
    """The actor recorded for an HTTP submission; refuses callers whose role may not submit."""
    principal = _principal(request)
    if principal is None:
        raise ApiError(401, "submitting needs a token: 'Authorization: Bearer <token>'")
    if not may(principal, Action.SUBMIT):
        raise ApiError(403, f"{principal.name} may not submit documents")
    return principal.actor


# Module-level so that FastAPI can resolve them (annotations are strings here).
Ctx = Annotated[Context, Depends(_context)]
Caller = Annotated[Role, Depends(_role)]


def create_app(
    settings: Settings | None = None,
    *,
    tokens: Tokens | None = None,
    relay: bool = True,
) -> FastAPI:
    """The ASGI app; the service context is opened at start-up and closed at shutdown.
    `relay`: the app runs the outbox relay while a Prefect API listens (its audit rows sent as
    events); False where the process runs one of its own already (`gongkai serve`)."""
    settings = settings or load_settings()
    tokens = tokens or Tokens.from_env(os.environ)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = await run_in_threadpool(Context.open, settings)
        app.state.ctx = ctx
        with contextlib.ExitStack() as relaying_here:
            if relay:  # the audit rows relayed to Prefect while it listens
                from gongkai.entrypoints.service_support import relaying

                await run_in_threadpool(relaying_here.enter_context, relaying(settings))
            try:
                yield
            finally:
                ctx.close()
                # The relay's last pass sends what was written last (blocking: off the loop).
                await run_in_threadpool(relaying_here.close)

    app = FastAPI(
        title="gongkai",
        version=__version__,
        description="Intake, retrieval and the staff's work on official documents (公文). "
                    "Send `Authorization: Bearer <token>` (`gongkai token create`); without "
                    "one you are the public.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        dependencies=[Depends(BEARER)],  # declares the security scheme on every operation
    )  # fmt: skip
    app.state.tokens = tokens
    _error_handlers(app)
    from gongkai.entrypoints.api_staff import router

    app.include_router(router)

    @app.get("/health")
    def health(ctx: Ctx) -> dict[str, Any]:
        """Readiness: the catalog answers. Nothing about the documents it holds."""
        try:
            ctx.catalog.counts_by_state()
        except Exception as exc:
            raise ApiError(503, "not ready: the catalog is unavailable") from exc
        return {"status": "ok"}

    @app.post(
        "/documents",
        status_code=201,
        responses={200: {"description": "these bytes were already known (recorded)"},
                   201: {"description": "a new document"},
                   413: {"description": "larger than the limit"},
                   422: {"description": "no file, or a bad declared_disclosure"}},
        openapi_extra={"requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {
                "type": "object", "required": [FILE_FIELD],
                "properties": {
                    FILE_FIELD: {"type": "string", "format": "binary"},
                    DISCLOSURE_FIELD: {
                        "type": "string",
                        "enum": ["active", "on_request", "withheld", "partial"],
                        "description": "the attribute the drafting system declared",
                    },
                },
            }}}}},
    )  # fmt: skip
    async def submit(request: Request, ctx: Ctx) -> JSONResponse:
        """Hand over one document (multipart field `file`). The size limit is enforced while
        the body streams in. Any file within the limit is stored and registered: one that
        cannot be read becomes an `exception` document when it is ingested."""
        actor = _submitter(request)
        limit = ctx.settings.max_file_bytes
        length = request.headers.get("content-length")
        # A declared body far past the limit is refused before reading it (form overhead
        # allowed); an undeclared or lying one is cut off by the streaming parser.
        if length and length.isdigit() and int(length) > limit + FORM_ALLOWANCE_BYTES:
            raise ApiError(413, f"the file is larger than the limit of {limit} bytes",
                           limit=limit)  # fmt: skip
        try:
            upload = await read_upload(
                request.headers.get("content-type"), request.stream(),
                file_field=FILE_FIELD, max_file_bytes=limit, text_fields=(DISCLOSURE_FIELD,),
            )  # fmt: skip
        except UploadError as exc:
            raise ApiError(exc.status, str(exc)) from exc
        declared = upload.fields.get(DISCLOSURE_FIELD) or None
        try:
            result = await run_in_threadpool(
                _intake_upload, ctx, upload, source="http", actor=actor,
                declared_disclosure=declared,
            )  # fmt: skip
        except IntakeRejected as exc:
            status = 413 if exc.reason == "too_large" else 422
            raise ApiError(status, exc.message, reason=exc.reason) from exc
        except ValueError as exc:  # a declared_disclosure that is not one of the values
            raise ApiError(422, str(exc)) from exc
        record = result.record
        body = {
            "id": record.id,
            "sha256": record.sha256,
            "state": record.state,
            "created": result.new,
            "filename": printable(record.filename),
            "size": record.size,
            "format": record.format,
        }
        if record.content_type == "application/octet-stream":
            # Stored and on record, but not a document gongkai can read: say so now.
            body["warning"] = ("not a format gongkai reads (docx, pdf, doc, wps, ofd, png, "
                               "jpeg, tiff): it is kept and will be an exception document for "
                               "a person to decide")  # fmt: skip
        return JSONResponse(body, status_code=201 if result.new else 200,
                            headers={"Location": f"/documents/{record.id}"})  # fmt: skip

    @app.get("/documents")
    def list_documents(
        request: Request,
        ctx: Ctx,
        caller: Caller,
        file_number: str | None = None,
        index_number: str | None = None,
        title: str | None = None,
        text: str | None = None,
        issuer: str | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        state: str | None = None,
        disclosure: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        """Find documents (the filters of `gongkai find`), a page at a time with the total.
        The public sees published ones."""
        query = FindQuery(
            file_number=file_number, index_number=index_number, title=title, text=text,
            issuer=issuer, date_from=date_from, date_to=date_to, state=state,
            disclosure=disclosure, limit=limit, offset=offset,
        )  # fmt: skip
        try:
            if caller is Role.PUBLIC:  # the public view of a page of published documents
                documents = [render.record_to_dict(public_view(ctx, r, with_text=False),
                                                   with_text=False, zone=ctx.settings.zone)
                             for r in find_documents(ctx.catalog, query, caller)]  # fmt: skip
                total = count_documents(ctx.catalog, query, caller)
            else:  # staff: the list columns only
                found = find_page(ctx.catalog, query, caller)
                documents = [_list_view(r) for r in found.documents]
                total = found.total
        except ValueError as exc:
            raise ApiError(422, str(exc)) from exc
        return {
            "documents": documents,
            "count": len(documents),
            **page(request, total, limit, offset),
        }

    @app.get("/documents/{doc_id}")
    def show_document(doc_id: DocId, request: Request, ctx: Ctx) -> dict[str, Any]:
        """Metadata; staff also get the whole history and review decisions; the submitter of
        a document reads back its state."""
        principal = _principal(request)
        record = reading.visible_document(ctx, doc_id, principal)
        if reading.sees_archive(principal):
            return {
                "document": _view(record, None),
                "history": [e.to_json() for e in ctx.catalog.history(doc_id)],
                "review_decisions": ctx.catalog.review_decisions(doc_id),
                "versions": [_view(v, LIST_FIELDS) for v in ctx.catalog.versions_of(doc_id)],
            }
        if record.state not in PUBLIC_STATES:  # its submitter's read-back
            return {"document": _view(record, SUBMITTER_FIELDS)}
        return {"document": render.record_to_dict(public_view(ctx, record),
                                                  zone=ctx.settings.zone)}

    @app.get("/documents/{doc_id}/original", response_class=Response)
    def original(doc_id: DocId, request: Request, ctx: Ctx) -> Response:
        """The original byte for byte, verified against its sha256 before it is sent. A
        non-public one is for the roles that may read it (a quarantined one: archivist), and
        each retrieval is audited."""
        try:
            record, data = reading.original(ctx, doc_id, _principal(request))
        except ChecksumMismatch as exc:
            log.error("document %s: stored original fails verification: %s", doc_id, exc)
            raise ApiError(500, "the stored original fails verification; staff are alerted",
                           id=doc_id) from exc  # fmt: skip
        except StorageError as exc:
            log.error("document %s: original not readable: %s", doc_id, exc)
            raise ApiError(500, "the stored original cannot be read", id=doc_id) from exc
        return Response(
            content=data,
            media_type=record.content_type,
            headers={
                "Content-Disposition": content_disposition(record.filename),
                "ETag": f'"{record.sha256}"',
                "X-Content-SHA256": record.sha256,
                "Repr-Digest": f"sha-256=:{_b64(hashlib.sha256(data).digest())}:",
            },
        )

    return app


def _error_handlers(app: FastAPI) -> None:
    """Every error as JSON {"error": ...} with its status."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"error": exc.message, **exc.extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(tuple(e.get("loc", ())) == ("path", "doc_id") for e in exc.errors()):
            # Not a document id at all (past 2^63-1, or not positive): no such document.
            return JSONResponse({"error": f"no document {request.path_params.get('doc_id')}"},
                                404)  # fmt: skip
        details = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg")}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid request", "details": details}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's 405 names the allowed methods in its headers (Allow): kept.
        return JSONResponse({"error": str(exc.detail)}, exc.status_code,
                            headers=getattr(exc, "headers", None))

    statuses: tuple[tuple[type[Exception], int], ...] = (
        (NotAuthenticated, 401), (NotAllowed, 403), (DocumentNotFound, 404),
        (AccessDenied, 404), (UserNotFound, 404), (TokenNotFound, 404),
        (LifecycleError, 409), (UserExists, 409), (ValueError, 422),
    )  # fmt: skip
    for kind, code in statuses:
        app.add_exception_handler(kind, _status_handler(code))


def _status_handler(code: int) -> Callable[[Request, Exception], Any]:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, AccessDenied | DocumentNotFound):
            # Existence of a document the caller may not see is not disclosed.
            return JSONResponse({"error": f"no document {request.path_params.get('doc_id')}"},
                                404)  # fmt: skip
        if isinstance(exc, UserExists):
            return JSONResponse({"error": f"user {exc} already exists"}, code)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse({"error": str(exc)}, code, headers=headers)

    return handler


def _intake_upload(ctx: Context, upload: Upload, **kwargs: Any) -> Any:
    """Intake of an uploaded file, read from its spool once, the spool closed after."""
    try:
        return intake(ctx, upload.data, upload.filename or "upload", **kwargs)
    finally:
        upload.close()


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")


