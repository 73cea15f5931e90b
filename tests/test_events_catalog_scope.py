"""Events are scoped to the catalog they come from (issue 14): the label every event carries,
the match of the ingest trigger (work pools) and the filter serve's sweeper listens with, so two
catalogs sharing a Prefect server do not wake each other's services. (tests/test_service_events.py
shows the sweeper waking on its own catalog's events through a real Prefect server.)"""

from __future__ import annotations

from datetime import timedelta

from gongkai.deployments.triggers import received_trigger
from gongkai.flows.events import CATALOG_LABEL, catalog_id
from gongkai.flows.sweeper import received_filter


def test_a_catalog_is_named_the_same_every_time_and_apart_from_others() -> None:
    office = "postgresql+psycopg://gongkai@db.example:5432/office"
    assert catalog_id(office) == catalog_id(office)
    assert catalog_id(office) != catalog_id("postgresql+psycopg://gongkai@db.example:5432/other")
    assert catalog_id("sqlite:////srv/a/catalog.sqlite3") != catalog_id(
        "sqlite:////srv/b/catalog.sqlite3")
    # The password is not part of the name (nor readable from it): rotating it changes nothing.
    assert catalog_id("postgresql+psycopg://gongkai:old@db.example:5432/office") == catalog_id(
        "postgresql+psycopg://gongkai:new@db.example:5432/office") == catalog_id(office)


def test_the_ingest_trigger_hears_only_its_own_catalog() -> None:
    mine = catalog_id("sqlite:////srv/a/catalog.sqlite3")
    trigger = received_trigger(timedelta(seconds=2), mine)
    assert trigger.match.model_dump() == {"prefect.resource.id": "gongkai.document.*",
                                          CATALOG_LABEL: mine}  # fmt: skip
    assert received_trigger(timedelta(seconds=2)).match.model_dump() == {
        "prefect.resource.id": "gongkai.document.*"}


def test_the_sweeper_listens_only_for_its_own_catalogs_received_events() -> None:
    """The filter as Prefect's server applies it to the event stream (its own filter model)."""
    import uuid
    from datetime import UTC, datetime

    from prefect.server.events.filters import EventFilter
    from prefect.server.events.schemas.events import ReceivedEvent

    mine, other = catalog_id("sqlite:////srv/a/catalog.sqlite3"), catalog_id("sqlite:////srv/b")
    stream = EventFilter.model_validate(received_filter(mine).model_dump(mode="json"))

    def event(name: str, catalog: str) -> ReceivedEvent:
        # (The subscriber sets the filter's time window itself: an event of a minute ago.)
        occurred = datetime.now(UTC) - timedelta(minutes=1)
        return ReceivedEvent(id=uuid.uuid4(), occurred=occurred, event=name,
                             resource={"prefect.resource.id": "gongkai.document.7",
                                       CATALOG_LABEL: catalog})  # fmt: skip

    assert stream.includes(event("gongkai.document.received", mine))
    assert not stream.includes(event("gongkai.document.received", other))
    assert not stream.includes(event("gongkai.document.published", mine))
