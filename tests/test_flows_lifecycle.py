"""The lifecycle state machine, as data: states, allowed moves, event names and payloads."""

from __future__ import annotations

import itertools

import pytest

from gongkai.flows import lifecycle
from gongkai.flows.lifecycle import IllegalTransition, State, check_transition

ROUTED = {"published", "needs_redaction", "on_request", "withheld", "quarantined", "exception",
          "to_publish"}  # fmt: skip

# The transitions issue 4 asks for, written out independently of the module's table. Routing
# sends a document to publication through `to_publish` (待发布, issue 14): the publish step
# moves it on.
EXPECTED = {
    "received": ROUTED - {"published"},
    # publishing checks the 文号's standing decision again (issue 13): a conflict to a person
    "to_publish": {"published", "exception"},
    # a newer version of its 文号 that agrees takes its place in the queue (issue 13)
    "withheld": {"published", "withheld", "needs_redaction", "superseded"},
    "needs_redaction": {"published"},
    "exception": ROUTED,
    "on_request": {"published", "withheld", "superseded"},
    "quarantined": set(),
    # 撤回 (issue 13): taken back, and released again only by a reviewer
    "published": {"withdrawn", "superseded"},
    "withdrawn": {"published"},
    # a newer version of its 文号 took its place on the portal, in the queue or the register
    "superseded": set(),
}


def test_the_nine_states() -> None:
    assert set(lifecycle.STATES) == set(EXPECTED)
    assert State.NEEDS_REDACTION == "needs_redaction"  # a StrEnum: compares with catalog strings
    assert {State.QUARANTINED, State.SUPERSEDED} == lifecycle.TERMINAL_STATES


@pytest.mark.parametrize(("source", "target"), list(itertools.product(EXPECTED, EXPECTED)))
def test_every_pair_of_states(source: str, target: str) -> None:
    allowed = target in EXPECTED[source]
    assert lifecycle.can_transition(source, target) is allowed
    if allowed:
        check_transition(source, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            check_transition(source, target)
        assert caught.value.from_state == source
        assert caught.value.to_state == target
        assert source in str(caught.value)


def test_nothing_goes_back_to_received() -> None:
    for source in EXPECTED:
        assert not lifecycle.can_transition(source, "received")


def test_messages_say_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition, match=r"may go to: published$"):
        check_transition("needs_redaction", "withheld")
    with pytest.raises(IllegalTransition, match="quarantined is final"):
        check_transition(State.QUARANTINED, State.PUBLISHED)


def test_an_unknown_state_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown document state 'archived'"):
        check_transition("received", "archived")
    with pytest.raises(ValueError, match="states are received, to_publish, published"):
        lifecycle.event_name("draft")


def test_event_names_and_resource_ids() -> None:
    assert lifecycle.event_name("withheld") == "gongkai.document.withheld"
    assert lifecycle.event_name(State.QUARANTINED) == "gongkai.document.quarantined"
    assert lifecycle.resource_id(42) == "gongkai.document.42"
    assert lifecycle.resource_id("7") == "gongkai.document.7"
    with pytest.raises(ValueError):
        lifecycle.resource_id(" ")


def test_event_payload() -> None:
    payload = lifecycle.event_payload(
        file_number="鸿政〔2020〕53号",
        issuer="石狮市鸿山镇人民政府",
        disclosure="active",
        state=State.PUBLISHED,
        title="关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        rule="active",
        previous_state="received",
    )
    assert payload == {
        "file_number": "鸿政〔2020〕53号",
        "issuer": "石狮市鸿山镇人民政府",
        "disclosure": "active",
        "title": "关于印发《鸿山镇政务公开标准化规范化工作方案》的通知",
        "state": "published",
        "rule": "active",
        "previous_state": "received",
    }


def test_event_payload_of_a_document_not_published_names_nothing() -> None:
    payload = lifecycle.event_payload(
        file_number="鸿政〔2020〕54号", issuer="石狮市鸿山镇人民政府", disclosure="withheld",
        state=State.WITHHELD, title="关于某某人事任免的请示", rule="withheld",
        filename="人事任免.docx", submitted_filename="copy.docx", document_id=7,
    )  # fmt: skip
    assert payload == {"file_number": None, "issuer": None, "title": None,
                       "disclosure": "withheld", "state": "withheld", "rule": "withheld",
                       "document_id": 7}  # fmt: skip
