"""The service layer of the document lifecycle: plain functions over a `Context`. No Prefect here.

The Prefect flows (flows/ingest.py, publish.py, review.py, fixity.py), the CLI and the HTTP API
all call these functions; they hold every rule of *how* a document moves, while the pure policy
(flows/policy.py) says *where* it goes and flows/lifecycle.py which moves are allowed.

Public API (stable; F2's deployments, HTTP API and inbox build on it):

    Context.open(settings=None, *, events: EventSink) -> Context     # close() / with-block
    intake(ctx, data, filename, *, source, actor, declared_disclosure=None) -> IntakeResult
    intake_files(ctx, paths, *, source, actor, declared_disclosure=None, threads=8,
                 on_done=None) -> list[IntakeItem]           # many files, threads overlap I/O
        # sniff type & size, sha256, store the original, register; its audit row is the event
        # gongkai.document.received (new) or gongkai.document.duplicate_submission (known bytes)
        # (every event is an audit row: outbox.event_of makes it, flows/relay.py sends it).
        # IntakeRejected for a file over Settings.max_file_bytes (nothing stored).
    process(ctx, document_ids, *, actor="ingest", pool=None, on_done=None)
        -> list[ProcessOutcome]
        # extract -> route -> archival package -> state + audit row (= event). Only documents in
        # `received` and not routed yet are touched (idempotent, also against a concurrent
        # run). Documents routed to publication stay `received` with their routing recorded
        # until publish() moves them (outcome.to_publish, also when a later run finds them).
        # In batches: prepare(ctx, records) -> list[Prepared] reads, routes and writes the
        # packages (durable together; in worker processes with a parallel WorkerPool), then
        # record_prepared(ctx, batch, actor=...) records the batch in one catalog transaction.
    publish(ctx, document_ids, *, actor="publish", update_index=True) -> PublishReport
        # only what the policy allows, checked again here; assigns 索引号, transitions to
        # `published`, then renders HTML + JSON under documents/<id>.*, updates the public
        # index. A batch: one transaction for the 索引号, one for the states, one barrier.
    update_public_index(ctx, document_ids) -> int
        # the root index and the year lists of these (just published) documents only
    rebuild_public_index(ctx) -> int                      # every year: the repair path
    public_view(ctx, record, *, with_text=True) -> render.PublicRecord
        # THE public view of a published document (fields: render.PUBLIC_FIELDS), from the
        # redacted version alone where there is one; every public output is built from it.
    review_due(ctx, *, actor="review") -> ReviewReport       # lapsed brought forward, events
    due_reviews(ctx, on=None, limit=None, offset=0) -> list[DocumentRecord]
    count_due_reviews(ctx, on=None) -> int
    decide_review(ctx, doc_id, decision, *, reason, reviewer) -> DocumentRecord
    redact(ctx, doc_id, data, filename, *, actor, confirm_difference=None) -> DocumentRecord
        # only a version carrying the original's 文号 and title (or a confirmed difference)
    withdraw(ctx, doc_id, *, reason, actor) -> DocumentRecord    # 撤回: published -> withdrawn
    resolve(ctx, doc_id, disclosure, *, reason, actor, corrections=None) -> DocumentRecord
        # corrections: title / file_number / issuer / date the extractor misread (correction.py)
    fixity(ctx, *, actor="fixity") -> FixityReport
    status(ctx) -> StatusReport
    todo.todo(ctx) -> Todo                                   # 待办 of the web app, on status()

People and reading as someone (gongkai.flows.access has the roles and what each may do):

    people.add_user / list_users / disable_user / login / create_token / list_tokens /
        revoke_token / authenticate_token(ctx, token, bootstrap) -> Principal | None
    reading.visible_document / original (non-public ones audited) / history / versions
        (ctx, doc_id, principal)
    portal.listing(ctx, year=, issuer=, text=) / portal.public_document(ctx, doc_id)
    export_public(ctx, dest: Path) -> int
    pending_ids(ctx) -> list[int]                            # documents still `received`
    publishable_ids(ctx) -> list[int]                        # received, routed to publication
"""

from gongkai.flows.service.context import (  # noqa: F401
    CONTENT_TYPES,
    UNKNOWN_CONTENT_TYPE,
    Context,
    IntakeRejected,
    LifecycleError,
    _jsonable,
    _transition,
    utc_now,
)
from gongkai.flows.service.fixity import (  # noqa: F401
    FixityReport,
    fixity,
)
from gongkai.flows.service.intake import (  # noqa: F401
    INTAKE_BATCH_BYTES,
    INTAKE_BATCH_FILES,
    IntakeItem,
    IntakeResult,
    _check_declared,
    _content_type,
    _intake_batch,
    _too_large,
    clean_filename,
    intake,
    intake_files,
    pending_ids,
    remove_leftovers,
    sniff_format,
)
from gongkai.flows.service.processing import (  # noqa: F401
    _CATALOG_WRITES,
    OCR_NICENESS,
    PREPARE_BATCH,
    ExtractResult,
    Prepared,
    ProcessOutcome,
    WorkerPool,
    _Carried,
    _carry,
    _deadline_changes,
    _deadline_for,
    _init_worker,
    _left_alone,
    _package_metadata,
    _prepare_in_worker,
    _TurnTakingCatalog,
    _uncarry,
    _unreadable,
    _warm_worker,
    _worker,
    _worker_context,
    _worker_write_lock,
    extract_one,
    prepare,
    process,
    record_prepared,
    waits_for_processing,
)
from gongkai.flows.service.public_repair import (  # noqa: F401
    PublicGaps,
    public_gaps,
    repair_public,
    repair_public_changes,
)
from gongkai.flows.service.public_view import (  # noqa: F401
    public_record,
    public_text,
    public_view,
)
from gongkai.flows.service.publication import (  # noqa: F401
    PublicationBasis,
    PublishReport,
    _latest_event,
    _put_public,
    _write_public_pages_many,
    export_public,
    publication_basis,
    publish,
    publishable_ids,
    rebuild_public_index,
    update_public_index,
)
from gongkai.flows.service.redaction import (  # noqa: F401
    RedactedVersion,
    _archive_note,
    read_redacted,
    redact,
)
from gongkai.flows.service.resolution import (  # noqa: F401
    resolve,
)
from gongkai.flows.service.review import (  # noqa: F401
    ReviewReport,
    count_due_reviews,
    decide_review,
    due_reviews,
    review_due,
    review_months_of,
)
from gongkai.flows.service.status import (  # noqa: F401
    DeadlineItem,
    StatusReport,
    status,
    todo_action,
)
from gongkai.flows.service.withdrawal import (  # noqa: F401
    take_down,
    withdraw,
)
