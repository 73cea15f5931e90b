"""Reading documents as someone: what a principal may see, their originals (non-public ones
audited), their history and versions.

The public (principal None) sees published documents; staff roles read the whole archive; a
submitter reads back the state of what it submitted itself. Quarantined (classified)
originals are for archivists alone; every retrieval of a non-public original is an audit row
(`original_retrieved`) naming who took it.
"""

from __future__ import annotations

from gongkai.flows.access import Action, NotAllowed, Principal, may, require
from gongkai.flows.service.context import Context
from gongkai.storage.catalog import DocumentRecord, EventRecord
from gongkai.storage.retrieval import PUBLIC_STATES, AccessDenied, Role, get_original

RETRIEVED_EVENT = "original_retrieved"


def submitted_by(ctx: Context, doc_id: int) -> str | None:
    """Who handed the document over (the actor of its first audit row)."""
    history = ctx.catalog.history(doc_id)
    return history[0].actor if history else None


def _own(ctx: Context, record: DocumentRecord, principal: Principal | None) -> bool:
    return (principal is not None and may(principal, Action.READ_OWN)
            and submitted_by(ctx, record.id) == principal.name)  # fmt: skip


def sees_archive(principal: Principal | None) -> bool:
    return may(principal, Action.READ_ARCHIVE)


def visible_document(ctx: Context, doc_id: int, principal: Principal | None) -> DocumentRecord:
    """The record, if the principal may see it (AccessDenied otherwise; DocumentNotFound)."""
    record = ctx.catalog.get(doc_id)
    if sees_archive(principal) or record.state in PUBLIC_STATES or _own(ctx, record, principal):
        return record
    raise AccessDenied(f"document {doc_id} is not public")


def is_public_original(record: DocumentRecord) -> bool:
    return record.state in PUBLIC_STATES and record.redacted_key is None


def original(
    ctx: Context, doc_id: int, principal: Principal | None
) -> tuple[DocumentRecord, bytes]:
    """The original, verified against its sha256. A non-public one needs a role that may read
    it (a quarantined one: archivist), and its retrieval is audited with the actor."""
    record = ctx.catalog.get(doc_id)
    if is_public_original(record):
        return get_original(ctx.catalog, ctx.archive, doc_id, Role.PUBLIC)
    if principal is None:
        raise AccessDenied(f"document {doc_id} is not public")
    needed = Action.READ_QUARANTINED if record.state == "quarantined" or record.security_level \
        else Action.READ_ORIGINAL
    try:
        require(principal, needed)
    except NotAllowed:
        if not sees_archive(principal):
            raise AccessDenied(f"document {doc_id} is not public") from None
        raise
    record, data = get_original(ctx.catalog, ctx.archive, doc_id, Role.STAFF)
    ctx.catalog.record_event(doc_id, RETRIEVED_EVENT, actor=principal.actor, detail={
        "role": principal.role.value if principal.role else principal.kind,
        "state": record.state, "sha256": record.sha256})  # fmt: skip
    return record, data


def history(ctx: Context, doc_id: int, principal: Principal | None) -> list[EventRecord]:
    """The whole audit trail: staff, and the submitter of the document."""
    record = ctx.catalog.get(doc_id)
    if not (sees_archive(principal) or _own(ctx, record, principal)):
        raise AccessDenied(f"document {doc_id}: history is for staff")
    return ctx.catalog.history(doc_id)


def versions(ctx: Context, doc_id: int, principal: Principal | None) -> list[DocumentRecord]:
    """The document's versions: every document of its 文号 and issuer (itself included),
    oldest first; the public sees the published ones only."""
    record = visible_document(ctx, doc_id, principal)
    same = ctx.catalog.versions_of(record.id)
    return [r for r in same if sees_archive(principal) or r.state in PUBLIC_STATES
            or r.id == record.id]  # fmt: skip
