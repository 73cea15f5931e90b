"""The document lifecycle as data: its states, the moves allowed between them, and event names.

Pure: no Prefect, no database. The flows ask `check_transition` before every state change and
name their events with `event_name` / `resource_id`, so every part of the system agrees on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class State(StrEnum):
    RECEIVED = "received"  # taken in, stored, not yet routed
    TO_PUBLISH = "to_publish"  # 待发布: routed to publication, not yet published
    PUBLISHED = "published"  # on the public portal
    NEEDS_REDACTION = "needs_redaction"  # 删减后公开: waits for a person's redacted version
    ON_REQUEST = "on_request"  # 依申请公开: in the register, given out on request
    WITHHELD = "withheld"  # 不予公开: in the periodic review queue
    QUARANTINED = "quarantined"  # carries a security marking: never published (terminal)
    EXCEPTION = "exception"  # unreadable, no attribute or a conflict: a person decides
    WITHDRAWN = "withdrawn"  # 撤回: taken back from the portal, still archived
    SUPERSEDED = "superseded"  # replaced by a newer version of its 文号 (final)


STATES: tuple[str, ...] = tuple(s.value for s in State)

# The states a routing decision can send a document to (not `received`; `withdrawn` is only
# ever a person's act on a published document).
ROUTED_STATES: frozenset[State] = frozenset(State) - {
    State.RECEIVED, State.WITHDRAWN, State.SUPERSEDED}  # fmt: skip

TERMINAL_STATES: frozenset[State] = frozenset({State.QUARANTINED, State.SUPERSEDED})

# from -> the states it may move to. Anything not listed is an error.
TRANSITIONS: Mapping[State, frozenset[State]] = {
    # routing: publication goes through `to_publish` (the publish step numbers and renders it)
    State.RECEIVED: ROUTED_STATES - {State.PUBLISHED},
    # publishing checks the 文号's standing decision again: a conflict goes to a person
    State.TO_PUBLISH: frozenset({State.PUBLISHED, State.EXCEPTION}),
    # a reviewer releases it, keeps it (a new review date) or sends it to redaction; a newer
    # version of its 文号, withheld too, takes its place in the review queue
    State.WITHHELD: frozenset({State.PUBLISHED, State.WITHHELD, State.NEEDS_REDACTION,
                               State.SUPERSEDED}),
    # only the redacted version is ever published
    State.NEEDS_REDACTION: frozenset({State.PUBLISHED}),
    # a person states the attribute; the document is routed again (never back to received)
    State.EXCEPTION: ROUTED_STATES,
    # a later decision on a request: disclose it to everyone, or withhold it; a newer version
    # of its 文号, on request too, takes its place in the register
    State.ON_REQUEST: frozenset({State.PUBLISHED, State.WITHHELD, State.SUPERSEDED}),
    # 撤回: taken back from the public (a reviewer, with a reason)
    # a newer version of the same 文号 replaces it on the portal (it stays archived)
    State.PUBLISHED: frozenset({State.WITHDRAWN, State.SUPERSEDED}),
    # only a reviewer's release publishes it again; nothing automatic does
    State.WITHDRAWN: frozenset({State.PUBLISHED}),
    State.QUARANTINED: frozenset(),
    State.SUPERSEDED: frozenset(),
}


class IllegalTransition(ValueError):
    """A state change the lifecycle does not allow. `message` says which and what is allowed."""

    def __init__(self, from_state: str, to_state: str, message: str) -> None:
        super().__init__(message)
        self.from_state = from_state
        self.to_state = to_state
        self.message = message


def as_state(value: str | State) -> State:
    """The State for a value, or ValueError naming the known states."""
    try:
        return State(value)
    except ValueError:
        raise ValueError(
            f"unknown document state {value!r}; states are {', '.join(STATES)}"
        ) from None


def recorded_state(routed_to: str | State) -> State:
    """The state a document is recorded in when routing sends it to `routed_to`: publication
    is the publish step's (it assigns the 索引号 and writes the public pages), so a document
    routed there waits in `to_publish` until then."""
    target = as_state(routed_to)
    return State.TO_PUBLISH if target is State.PUBLISHED else target


def allowed_from(state: str | State) -> frozenset[State]:
    return TRANSITIONS[as_state(state)]


def can_transition(from_state: str | State, to_state: str | State) -> bool:
    return as_state(to_state) in allowed_from(from_state)


def check_transition(from_state: str | State, to_state: str | State) -> None:
    """Return quietly if the move is allowed; raise IllegalTransition (or ValueError for an
    unknown state name) otherwise."""
    source, target = as_state(from_state), as_state(to_state)
    allowed = TRANSITIONS[source]
    if target in allowed:
        return
    if not allowed:
        message = f"a {source} document cannot change state ({source} is final)"
    else:
        options = ", ".join(s.value for s in State if s in allowed)
        message = (
            f"a {source} document cannot move to {target}; from {source} it may go to: {options}"
        )
    raise IllegalTransition(source.value, target.value, message)


EVENT_PREFIX = "gongkai.document"


def event_name(state: str | State) -> str:
    """`gongkai.document.<state>`, the event emitted when a document enters `state`."""
    return f"{EVENT_PREFIX}.{as_state(state).value}"


def resource_id(doc_id: int | str) -> str:
    """`gongkai.document.<id>`, the Prefect event resource of one document."""
    text = str(doc_id).strip()
    if not text:
        raise ValueError("a document id is needed for its resource id")
    return f"{EVENT_PREFIX}.{text}"


# What an event may say of a document that is not published: its id (the resource), states,
# attribute and routing rule. Its 文号, issuer and title are public only once it is published:
# events can be read by any local process from the Prefect API, and with a shared Prefect
# server they leave the host. File names are never in an event.
PUBLISHED_ONLY_KEYS: tuple[str, ...] = ("file_number", "issuer", "title")
NEVER_IN_EVENTS: frozenset[str] = frozenset({"filename", "submitted_filename"})


def event_payload(
    *,
    file_number: str | None,
    issuer: str | None,
    disclosure: str | None,
    state: str | State,
    title: str | None = None,
    rule: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The payload every document event carries: its state, its attribute and (where a routing
    rule decided the move) which rule; who issued what under which title only for a published
    document (PUBLISHED_ONLY_KEYS, None otherwise). `extra` adds event-specific keys; file
    names are dropped from them."""
    published = as_state(state) is State.PUBLISHED
    described = {"file_number": file_number, "issuer": issuer, "title": title}
    payload: dict[str, Any] = {
        **{key: described[key] if published else None for key in PUBLISHED_ONLY_KEYS},
        "disclosure": disclosure,
        "state": as_state(state).value,
        "rule": rule,
    }
    payload.update((k, v) for k, v in extra.items() if k not in NEVER_IN_EVENTS)
    return payload
