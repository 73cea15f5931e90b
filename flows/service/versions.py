"""Versions of a 文号: a document whose 文号 (and issuer) is already known is a new version of
it. It is linked to the first one (documents.version_of), routed against the decision standing
on the 文号 (handed to the pure policy as a value: policy.StandingDecision), and, published,
it takes the place of the version on the public site (catalog.supersede: one public record per
文号 and issuer, with the 索引号 of the record it replaces)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

from gongkai.extractors.model import DocumentMetadata
from gongkai.flows import policy
from gongkai.flows.lifecycle import STATES, State
from gongkai.flows.service.context import Context
from gongkai.storage.catalog import DocumentRecord, StaleState

# States that are a decision on a 文号 (received and exception are not decided yet;
# superseded is an earlier version's, replaced by a later one).
DECIDED_STATES: frozenset[str] = frozenset(STATES) - {
    State.RECEIVED, State.EXCEPTION, State.SUPERSEDED}  # fmt: skip

LineageKey = tuple[str, str | None]  # canonical 文号, issuer


@dataclass
class BatchMemory:
    """What the documents read earlier in the same batch claimed (not in the catalog yet)."""

    numbers: dict[str, int] = field(default_factory=dict)  # 索引号 -> document
    versions: dict[LineageKey, tuple[int, str]] = field(default_factory=dict)  # -> (id, route)

    def decided(self, record: DocumentRecord, state: str) -> None:
        if record.file_number:
            self.versions.setdefault((record.file_number, record.issuer), (record.id, state))


@dataclass(frozen=True)
class Known:
    """What the catalog holds that bears on one document being read."""

    precedent: policy.Precedent = policy.NO_PRECEDENT
    version_of: int | None = None  # the first document of its 文号, if it is a later version
    index_number_taken: bool = False  # its 索引号 is held by another document (not stored)


def standing_decision(
    records: list[DocumentRecord], zone: tzinfo
) -> policy.StandingDecision | None:
    """The decision standing on a 文号: the state of its latest decided version, dated in the
    office's time zone (`zone`, GONGKAI_TIMEZONE)."""
    decided = [r for r in records if r.state in DECIDED_STATES and r.file_number]
    if not decided:
        return None
    latest = decided[-1]
    moment = latest.withdrawn_at or latest.published_at or latest.routed_at or latest.received_at
    # Routed to publication (待发布) is the decision to publish, as the policy says it.
    state = "published" if latest.state == "to_publish" else latest.state
    return policy.StandingDecision(latest.id, str(latest.file_number), state,
                                   moment.astimezone(zone).date())  # fmt: skip


def known_for(
    ctx: Context, record: DocumentRecord, metadata: DocumentMetadata,
    batch: BatchMemory | None = None,
) -> Known:  # fmt: skip
    """`record` as read (canonical 文号 and issuer, e.g. catalog.with_extraction's)."""
    others: list[DocumentRecord] = []
    if record.file_number:
        others = [r for r in ctx.catalog.same_file_number(record.file_number, record.issuer)
                  if r.id != record.id]  # fmt: skip
    lineage = {r.id for r in others}
    roots = [r.version_of or r.id for r in others]
    standing = standing_decision(others, ctx.settings.zone)
    first = batch.versions.get((record.file_number, record.issuer)) if batch and \
        record.file_number else None  # fmt: skip
    if first is not None and first[0] != record.id:
        lineage.add(first[0])
        roots.append(first[0])
        if standing is None and first[1] in DECIDED_STATES:
            standing = policy.StandingDecision(first[0], str(record.file_number), first[1],
                                               ctx.today())  # fmt: skip
    holder = _index_number_holder(ctx, record.id, metadata.index_number, batch)
    return Known(
        policy.Precedent(holder if holder not in lineage else None, standing),
        min(roots) if roots else None,
        holder is not None,
    )


def _index_number_holder(
    ctx: Context, doc_id: int, number: str | None, batch: BatchMemory | None
) -> int | None:
    """The other document holding (or, in this batch, first reading) this 索引号."""
    if not number:
        return None
    holder = batch.numbers.get(number) if batch is not None else None
    if holder is None:
        holder = ctx.catalog.index_number_holders([number]).get(number)
    if holder is None or holder == doc_id:
        if batch is not None:
            batch.numbers[number] = doc_id
        return None
    return holder


def published_predecessor(ctx: Context, record: DocumentRecord) -> DocumentRecord | None:
    """The version of the same 文号 and issuer on the public site now, other than `record`."""
    return predecessor_in(ctx, record, State.PUBLISHED)


def predecessor_in(ctx: Context, record: DocumentRecord, state: str) -> DocumentRecord | None:
    """The version of the same 文号 and issuer in `state` now, other than `record`."""
    if not record.file_number:
        return None
    for other in ctx.catalog.same_file_number(record.file_number, record.issuer):
        if other.id != record.id and other.state == state:
            return other
    return None


def _older_in(ctx: Context, record: DocumentRecord, state: str) -> DocumentRecord | None:
    old = predecessor_in(ctx, record, state)
    return old if old is not None and old.id < record.id else None


# States a newer version that agrees with it replaces an older one in at routing (the review
# queue, the register): one document of a 文号 and issuer in each. Publication replaces the
# published one when it publishes (publication._take_place).
REPLACED_AT_ROUTING: frozenset[str] = frozenset({State.WITHHELD, State.ON_REQUEST})


def replace_predecessor(ctx: Context, record: DocumentRecord, *, actor: str) -> int | None:
    """A newer version just routed to a state of REPLACED_AT_ROUTING takes the place of the
    version of its 文号 and issuer in that state (which goes `superseded`). Returns the id
    replaced, if any."""
    if record.state not in REPLACED_AT_ROUTING or record.version_of is None:
        return None
    old = _older_in(ctx, record, record.state)  # the newest version is the one kept
    if old is None:
        return None
    try:
        ctx.catalog.supersede(old.id, record.id, actor=actor, expected_from=record.state)
    except StaleState:
        return None  # it moved meanwhile (a reviewer's decision): nothing to replace
    return old.id


def conflict_at_publication(ctx: Context, record: DocumentRecord) -> policy.RoutingDecision | None:
    """The exception a document routed to publication goes to instead, if the decision now
    standing on its 文号 differs (another version recorded after this one was read, e.g. by
    a parallel worker); None when publishing it agrees."""
    if not record.file_number:
        return None
    others = [r for r in ctx.catalog.same_file_number(record.file_number, record.issuer)
              if r.id != record.id]  # fmt: skip
    standing = standing_decision(others, ctx.settings.zone)
    if standing is None:
        return None
    publishing = policy.RoutingDecision("published", "read_active", "", record.disclosure)
    decided = policy.against_standing(publishing, policy.Precedent(standing=standing))
    return decided if decided.state == "exception" else None
