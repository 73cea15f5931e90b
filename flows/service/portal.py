"""The public portal's reads (政府信息公开专栏): published documents by year and issuer, search,
and one record as the public sees it (only its public fields and public text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gongkai.flows import render
from gongkai.flows.public_body import Block, public_body
from gongkai.flows.service.context import Context
from gongkai.flows.service.public_view import public_view
from gongkai.storage.catalog import FindQuery
from gongkai.storage.retrieval import AccessDenied, Role, count_documents, find_documents


@dataclass(frozen=True)
class PortalPage:
    records: list[render.PublicRecord]  # without their text
    total: int
    issuers: list[str]
    years: list[int]


def listing(
    ctx: Context, *, year: int | None = None, issuer: str | None = None,
    text: str | None = None, limit: int = 20, offset: int = 0,
) -> PortalPage:  # fmt: skip
    """A page of published documents (in catalog order) matching year (of 成文日期), issuer
    and text, as the public sees them, their total, and the years and issuers there are."""
    query = FindQuery(
        issuer=issuer or None, text=text or None, limit=limit, offset=offset,
        date_from=date(year, 1, 1) if year else None, date_to=date(year, 12, 31) if year else None,
    )  # fmt: skip
    records = [public_view(ctx, r, with_text=False)
               for r in find_documents(ctx.catalog, query, Role.PUBLIC)]  # fmt: skip
    total = count_documents(ctx.catalog, query, Role.PUBLIC)
    issuers, years = ctx.catalog.published_facets()
    return PortalPage(records, total, issuers, years)


def public_document(ctx: Context, doc_id: int) -> tuple[render.PublicRecord, list[Block]]:
    """One published document as the public sees it, and the blocks of its body (AccessDenied
    for anything not published: its existence is not disclosed)."""
    record = ctx.catalog.get(doc_id)
    if record.state != "published" or record.published_at is None:
        raise AccessDenied(f"document {doc_id} is not public")
    public = public_view(ctx, record)
    return public, public_body(public.text, title=public.title, file_number=public.file_number)
