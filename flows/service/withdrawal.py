"""撤回: a published document taken back from the public. Its record page, JSON record and
index entries go, the feed says it was deleted (RFC 6721), the original stays archived, and
only a reviewer's `release` (decide_review) publishes it again."""

from __future__ import annotations

from gongkai.flows import lifecycle
from gongkai.flows.service.context import Context, LifecycleError, _transition
from gongkai.flows.service.publication import update_public_index
from gongkai.flows.service.redaction import _archive_note
from gongkai.storage.catalog import DocumentRecord


def withdraw(ctx: Context, doc_id: int, *, reason: str, actor: str) -> DocumentRecord:
    """Take a published document back, with the reason, audited as `actor`'s. The catalog says
    `withdrawn` before anything leaves the public store; withdrawing a withdrawn document
    again finishes a withdrawal cut short (its public objects and index) and changes nothing
    else."""
    if not reason.strip():
        raise LifecycleError("撤回需要说明理由；a withdrawal needs a reason (--reason)")
    record = ctx.catalog.get(doc_id)
    if record.state != lifecycle.State.WITHDRAWN:
        if record.state != lifecycle.State.PUBLISHED:
            raise LifecycleError(
                f"文档 {doc_id} 的状态是 {record.state}，只有已发布的文档可以撤回；document "
                f"{doc_id} is {record.state}: only a published document is withdrawn"
            )
        record = _transition(ctx, record, lifecycle.State.WITHDRAWN, actor=actor,
                             detail={"reason": reason}, withdrawn_at=ctx.now())  # fmt: skip
        _archive_note(ctx, record, "withdrawal", {"reason": reason, "actor": actor,
                                                  "withdrawn_at": record.withdrawn_at.isoformat()
                                                  if record.withdrawn_at else None})  # fmt: skip
    take_down(ctx, record)
    return record


def take_down(ctx: Context, record: DocumentRecord) -> None:
    """Remove a document's public objects and write the index entries it was in again (both
    under the public index lock: update_public_index takes down what is no longer
    published)."""
    update_public_index(ctx, [record.id])
