"""Retrieval with access control: the one layer the CLI and the HTTP API both go through.

Only published documents are public. Everything else (received, withheld, quarantined,
exception, on_request, needs_redaction) is for staff alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
from enum import StrEnum

from gongkai.storage.archive import Archive
from gongkai.storage.catalog import Catalog, DocumentRecord, FindPage, FindQuery
from gongkai.storage.objects import ChecksumMismatch

PUBLIC_STATES: frozenset[str] = frozenset({"published"})


class Role(StrEnum):
    PUBLIC = "public"
    STAFF = "staff"


class AccessDenied(PermissionError):
    pass


def _may_see(record: DocumentRecord, role: Role) -> bool:
    return role is Role.STAFF or record.state in PUBLIC_STATES


def visible_query(query: FindQuery, role: Role) -> FindQuery | None:
    """The query as `role` may run it: the public's finds published documents only (filtered
    in the query, so limits, offsets and totals count visible documents), and its text search
    leaves out documents published through a redacted version (the catalog's full text is
    the original's: words redacted out of it must not find it). None: nothing is visible."""
    if Role(role) is Role.STAFF:
        return query
    if query.state is not None and query.state not in PUBLIC_STATES:
        return None
    redacted = False if query.text and query.text.strip() else query.redacted
    return dataclasses.replace(query, state="published", redacted=redacted)


def find_documents(catalog: Catalog, query: FindQuery, role: Role) -> list[DocumentRecord]:
    """Matching documents (whole records) that the role may see."""
    visible = visible_query(query, role)
    return [] if visible is None else catalog.find(visible)


def find_page(catalog: Catalog, query: FindQuery, role: Role) -> FindPage:
    """One page of the matching documents the role may see (list columns only), and how many
    there are in all."""
    visible = visible_query(query, role)
    if visible is None:
        return FindPage(0, [], query.limit, query.offset)
    return catalog.find_page(visible)


def count_documents(catalog: Catalog, query: FindQuery, role: Role) -> int:
    """How many documents find_documents would give without limit and offset."""
    visible = visible_query(query, role)
    return 0 if visible is None else catalog.count(visible)


def get_document(catalog: Catalog, doc_id: int, role: Role) -> DocumentRecord:
    """The record (DocumentNotFound if none); AccessDenied if the role may not see it."""
    role = Role(role)
    record = catalog.get(doc_id)
    if not _may_see(record, role):
        raise AccessDenied(f"document {doc_id} is not public")
    return record


def get_original(
    catalog: Catalog, archive: Archive, doc_id: int, role: Role
) -> tuple[DocumentRecord, bytes]:
    """The record and its original bytes, verified against the catalog's sha256
    (ChecksumMismatch, and nothing returned, on a difference).

    A document published through a redacted version keeps its original non-public: the public
    gets AccessDenied for it (the redacted version is what the public site carries)."""
    record = get_document(catalog, doc_id, role)
    if Role(role) is Role.PUBLIC and record.redacted_key is not None:
        raise AccessDenied(f"document {doc_id} is published redacted; its original is not public")
    data = archive.read_original(record.original_key, sha256=record.sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != record.sha256:
        raise ChecksumMismatch(
            f"document {doc_id}: the original hashes to {actual}, the catalog says {record.sha256}"
        )
    return record, data
