"""The outbox without Prefect: the mapping of audit rows to events and one relay pass over a
real catalog (SQLite and PostgreSQL), with a send that keeps or refuses what it is given.
(tests/test_outbox_prefect.py sends to a real Prefect server.)"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from catalog_steps import register

from gongkai.flows.service.outbox import (
    RELAY_NAME,
    OutboxEvent,
    event_id,
    event_of,
    relay_once,
)
from gongkai.storage.catalog import Catalog

LABEL = "test-catalog"


@pytest.fixture
def catalog(database_url: str) -> Iterator[Catalog]:
    with Catalog.open(database_url) as opened:
        yield opened


class Kept:
    def __init__(self, refuse: bool = False) -> None:
        self.events: list[OutboxEvent] = []
        self.refuse = refuse

    def __call__(self, events: Sequence[OutboxEvent]) -> None:
        if self.refuse:
            raise ConnectionError("Prefect away")
        self.events += events


def test_a_row_makes_the_event_the_service_used_to_emit(catalog: Catalog) -> None:
    (doc,) = register(catalog, 1, "mapped")
    catalog.transition(doc, "published", actor="t", expected_from="received",
                       file_number="狮政〔2021〕1号", issuer="某某县人民政府", title="通知",
                       disclosure="active")  # fmt: skip
    received, published = catalog.history(doc)
    first = event_of(received, LABEL)
    assert first is not None and first.event == "gongkai.document.received"
    assert first.id == event_id(LABEL, received.id) and first.occurred == received.at
    assert first.resource == {"prefect.resource.id": f"gongkai.document.{doc}",
                              "prefect.resource.name": f"document {doc}",
                              "gongkai.catalog": LABEL}  # fmt: skip
    assert first.payload["file_number"] is None and first.payload["source"] == "test"
    event = event_of(published, LABEL)
    assert event is not None and event.event == "gongkai.document.published"
    assert event.resource["prefect.resource.name"] == "狮政〔2021〕1号"
    assert event.payload == {
        "file_number": "狮政〔2021〕1号", "issuer": "某某县人民政府", "title": "通知",
        "disclosure": "active", "state": "published", "rule": None, "document_id": doc,
        "previous_state": "received",
    }  # fmt: skip


def test_a_pass_sends_after_the_cursor_and_again_what_was_not_delivered(
    catalog: Catalog,
) -> None:
    ids = register(catalog, 3, "relayed")
    refused = Kept(refuse=True)
    with pytest.raises(ConnectionError):
        relay_once(catalog, refused, catalog_label=LABEL, holder="a", start="beginning")
    start = catalog.relay_cursor(RELAY_NAME)
    kept, woken = Kept(), Kept()
    report = relay_once(catalog, kept, catalog_label=LABEL, holder="a", batch=2,
                        on_relayed=woken)  # fmt: skip
    assert (report.rows, report.sent) == (3, 3)
    assert [e.resource_id for e in kept.events] == [f"gongkai.document.{i}" for i in ids]
    assert woken.events == kept.events  # the hook saw each delivered batch
    assert catalog.relay_cursor(RELAY_NAME) > start  # type: ignore[operator]
    # Nothing new: nothing sent. Another holder waits while "a" holds the cursor.
    assert relay_once(catalog, kept, catalog_label=LABEL, holder="a").sent == 0
    assert relay_once(catalog, kept, catalog_label=LABEL, holder="b").held_elsewhere
    assert len(kept.events) == 3


def test_a_first_relay_starts_at_the_oldest_document_still_waiting(catalog: Catalog) -> None:
    """A new cursor (`end`, the default) does not replay history, but starts no later than the
    `received` row of the oldest document still in `received`: documents handed over before
    any relay ran get their event (a work pool's trigger would never sweep them otherwise)."""
    (done,) = register(catalog, 1, "history")
    catalog.transition(done, "exception", actor="t", expected_from="received",
                       exception_reason="unreadable")  # fmt: skip
    (waiting,) = register(catalog, 1, "waiting")
    (later,) = register(catalog, 1, "routed meanwhile")
    catalog.transition(later, "exception", actor="t", expected_from="received",
                       exception_reason="unreadable")  # fmt: skip
    (last,) = register(catalog, 1, "waiting too")
    kept = Kept()
    report = relay_once(catalog, kept, catalog_label=LABEL, holder="a")
    assert [(e.event, e.resource_id) for e in kept.events] == [
        ("gongkai.document.received", f"gongkai.document.{waiting}"),
        ("gongkai.document.received", f"gongkai.document.{later}"),
        ("gongkai.document.exception", f"gongkai.document.{later}"),
        ("gongkai.document.received", f"gongkai.document.{last}"),
    ]  # nothing of `done`: history before the oldest waiting document
    assert report.sent == 4
    assert catalog.relay_cursor(RELAY_NAME) == catalog.audit_end()


def test_a_first_relay_with_nothing_waiting_starts_at_the_end(catalog: Catalog) -> None:
    (done,) = register(catalog, 1, "history")
    catalog.transition(done, "exception", actor="t", expected_from="received",
                       exception_reason="unreadable")  # fmt: skip
    kept = Kept()
    assert relay_once(catalog, kept, catalog_label=LABEL, holder="a").sent == 0
    assert kept.events == []
    (fresh,) = register(catalog, 1, "fresh")
    relay_once(catalog, kept, catalog_label=LABEL, holder="a")
    assert [e.resource_id for e in kept.events] == [f"gongkai.document.{fresh}"]
