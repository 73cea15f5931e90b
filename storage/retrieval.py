"""Retrieval with access control: the one layer the CLI and the HTTP API both go through.

Only published documents are public. Everything else (received, withheld, quarantined,
exception, on_request, needs_redaction) is for staff alone.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from gongkai.storage.archive import Archive
from gongkai.storage.catalog import Catalog, DocumentRecord, FindQuery
from gongkai.storage.objects import ChecksumMismatch

PUBLIC_STATES: frozenset[str] = frozenset({"published"})


class Role(StrEnum):
    PUBLIC = "public"
    STAFF = "staff"


class AccessDenied(PermissionError):
    pass


def _may_see(record: DocumentRecord, role: Role) -> bool:
    return role is Role.STAFF or record.state in PUBLIC_STATES


def find_documents(catalog: Catalog, query: FindQuery, role: Role) -> list[DocumentRecord]:
    """Matching documents; the public sees published ones only (filtered in the query, so
    limits and offsets count visible documents)."""
    role = Role(role)
    if role is Role.PUBLIC:
        if query.state is not None and query.state not in PUBLIC_STATES:
            return []
        query = FindQuery(**{**query.__dict__, "state": "published"})
        records = catalog.find(query)
        if query.text:
            # The catalog's full text is the original's. A document published through a
            # redacted version must not be found by the words that were redacted out of it.
            records = [r for r in records if r.redacted_key is None]
        return records
    return catalog.find(query)


def count_documents(catalog: Catalog, query: FindQuery, role: Role) -> int:
    """How many documents find_documents would give without limit and offset."""
    role = Role(role)
    unpaged = FindQuery(**{**query.__dict__, "limit": None, "offset": 0})
    if role is Role.PUBLIC and query.text:
        return len(find_documents(catalog, unpaged, role))  # filtered after the query
    if role is Role.PUBLIC:
        if query.state is not None and query.state not in PUBLIC_STATES:
            return 0
        unpaged.state = "published"
    return catalog.count(unpaged)


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
