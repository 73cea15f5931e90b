"""The public portal (政府信息公开专栏): no login, only public fields, ever. It calls
gongkai.flows.service.portal and renders what it returns."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from gongkai.entrypoints.web.pages import templates
from gongkai.flows.service import portal

PAGE_SIZE = 20
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index(
    request: Request,
    year: Annotated[str, Query(pattern=r"^(\d{4})?$")] = "",
    issuer: str | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    ctx = request.app.state.ctx
    listed = portal.listing(ctx, year=int(year) if year else None, issuer=issuer, text=q,
                            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)  # fmt: skip
    pages = max(1, -(-listed.total // PAGE_SIZE))
    return templates.TemplateResponse(request, "portal_index.html", {
        "listed": listed, "year": int(year) if year else None, "issuer": issuer or "", "q": q or "",
        "page": page, "pages": pages,
    })  # fmt: skip


@router.get("/records/{doc_id}", response_class=HTMLResponse)
def record(request: Request, doc_id: int) -> HTMLResponse:
    public, blocks = portal.public_document(request.app.state.ctx, doc_id)
    return templates.TemplateResponse(request, "portal_record.html",
                                      {"record": public, "blocks": blocks})  # fmt: skip
