"""Events are scoped to the catalog they come from (issue 14): the label every event carries
and the match of the ingest trigger, so two catalogs sharing a Prefect server do not wake each
other's services. (tests/test_service_events.py shows the trigger firing on its own catalog's
events through a real Prefect server.)"""

from __future__ import annotations

from datetime import timedelta

from gongkai.deployments.triggers import received_trigger
from gongkai.flows.events import CATALOG_LABEL, catalog_id


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
