"""The review and fixity flows (the scheduled ones) against a real Prefect server (the session's
`prefect_server`), run in a subprocess so that this test process never configures Prefect."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from plugin_prefect import PrefectServer, filter_events

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    sys.path.insert(0, {tests!r})
    from lifecycle_docs import make_docx

    from gongkai.config import load_settings
    from gongkai.flows import runtime, service
    from gongkai.flows.events import AuditOnlyEventSink

    runtime.configure()
    from gongkai.flows.fixity import fixity_check
    from gongkai.flows.ingest import ingest_documents
    from gongkai.flows.review import review_due

    ctx = service.Context.open(load_settings())
    ids = []
    for serial, disclosure in enumerate(["withheld", "withheld", "active"], 1):
        data, truth = make_docx(serial, disclosure=disclosure)
        ids.append(service.intake(ctx, data, truth.filename, source="test",
                                  actor="t").record.id)
    with runtime.use_context(ctx):
        ingested = ingest_documents(ids)
        ctx.clock = lambda: datetime.now(UTC) + timedelta(days=800)
        reviewed = review_due()
        # Corrupt one package member behind the store's back, then check the archive.
        record = ctx.catalog.get(ids[2])
        member = (ctx.settings.objects_root / ctx.settings.archive_bucket
                  / record.archive_key / "text.txt")
        member.write_bytes(member.read_bytes() + b"x")
        checked = fixity_check()
    # The flows wrote audit rows; the relay sends them (the first relay of this catalog, from
    # its beginning), as `gongkai relay --from beginning` would.
    from gongkai.flows.relay import Relay
    relay = Relay(load_settings(), start="beginning")
    relay.run_once()
    relay.close()
    print(json.dumps({{"ids": ids, "ingested": ingested, "reviewed": reviewed,
                      "checked": checked}}, ensure_ascii=False))
    """
)


def test_review_and_fixity_flows_emit_their_events(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    script = SCRIPT.format(tests=str(Path(__file__).parent))
    out = prefect_server.run_script(script, tmp_path)
    ids = out["ids"]
    assert out["ingested"]["by_state"] == {"withheld": 2, "to_publish": 1}
    assert out["ingested"]["published"] == 1
    assert sorted(out["reviewed"]["due"]) == sorted(ids[:2])
    assert out["checked"]["checked"] == 3 and list(out["checked"]["failed"]) == [str(ids[2])]

    # The events reached the server (stored by its event persister, in batches: wait a little).
    wanted_due = {f"gongkai.document.{i}" for i in ids[:2]}
    deadline = time.monotonic() + 60
    while True:
        due = filter_events(prefect_server.api_url, prefix="gongkai.review.due")
        names = [e["event"] for e in filter_events(
            prefect_server.api_url, resource_id=f"gongkai.document.{ids[2]}")]
        done = ({e["resource"]["prefect.resource.id"] for e in due} >= wanted_due
                and {"gongkai.document.published", "gongkai.document.fixity_failed"}
                <= set(names))  # fmt: skip
        if done or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert {e["resource"]["prefect.resource.id"] for e in due} >= wanted_due
    assert "gongkai.document.published" in names
    assert "gongkai.document.fixity_failed" in names
