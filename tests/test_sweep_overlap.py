"""A sweep with a backlog (flows/ingest.py ingest_received): it claims the next round while a
round runs, so serve's worker pool reads ahead, and publishes once for several rounds. Every
document is still recorded once and in order (received -> extracted -> to_publish -> published),
only what its routing sends to publication is published, and no claim is left behind. Run in
a subprocess against the session's Prefect server, with a worker pool of two processes as
serve's sweeper has (runtime.use_workers)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from plugin_prefect import PrefectServer

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from datetime import UTC, datetime
    sys.path.insert(0, {tests!r})
    from lifecycle_docs import make_docx

    from gongkai.config import load_settings
    from gongkai.flows import runtime, service

    runtime.configure()
    from prefect import get_client, tags
    from prefect.client.schemas.filters import (
        FlowRunFilter, FlowRunFilterTags, TaskRunFilter, TaskRunFilterName)

    from gongkai.flows import ingest
    from gongkai.flows.ingest import ingest_received

    # No round leaves a document to the next here (test_lifecycle_service tests that), so
    # the rounds are the same however loaded the machine is.
    ingest.PATIENCE_S = 600.0
    # The session's server also runs other tests' deployments and automations: count only the
    # runs this sweep made, which carry its tag.
    marker = "sweep-overlap-" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")

    ctx = service.Context.open(load_settings())
    ids = []
    for serial in range(1, 13):
        data, truth = make_docx(serial, disclosure="active" if serial % 3 else "withheld")
        ids.append(service.intake(ctx, data, truth.filename, source="test",
                                  actor="t").record.id)
    with (service.WorkerPool(2) as pool, runtime.use_context(ctx), runtime.use_workers(pool),
          tags(marker)):
        swept = ingest_received(triggered_by="a test", max_batch=5, max_rounds=10)
    events = {{i: [e.detail["to"] if e.kind == "state" else e.kind
                   for e in ctx.catalog.history(i)] for i in ids}}
    states = {{r.id: r.state for r in ctx.catalog.get_many(ids)}}
    claimed = list(ctx.catalog.claimants())
    with get_client(sync_client=True) as client:
        runs = {{name: len(client.read_task_runs(
                    task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=name)),
                    flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[marker]))))
                for name in ("round", "publish documents")}}
    print(json.dumps({{"swept": swept, "events": events, "states": states,
                      "claimed": claimed, "runs": runs}}))
    """
)


def test_a_backlog_sweep_reads_ahead_and_publishes_once_in_order(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    script = SCRIPT.format(tests=str(Path(__file__).parent))
    out = prefect_server.run_script(script, tmp_path)
    swept = out["swept"]
    assert swept["rounds"] == 3  # 5 + 5 + 2
    assert swept["documents"] == 12 and not swept["failed"]
    states = {int(k): v for k, v in out["states"].items()}
    active = [i for i, serial in zip(sorted(states), range(1, 13), strict=True) if serial % 3]
    assert {states[i] for i in active} == {"published"}
    assert {v for i, v in states.items() if i not in active} == {"withheld"}
    assert swept["published"] == len(active)
    assert out["claimed"] == []
    for doc_id, kinds in out["events"].items():
        assert kinds.count("extracted") == 1, (doc_id, kinds)
        assert kinds.index("received") < kinds.index("extracted"), (doc_id, kinds)
        if int(doc_id) in active:
            assert [k for k in kinds if k in ("to_publish", "published")] == [
                "to_publish", "published"], (doc_id, kinds)
            assert kinds.index("extracted") < kinds.index("to_publish"), (doc_id, kinds)
    # Three rounds, one publication: the two rounds with a backlog left theirs to the last.
    assert out["runs"]["round"] == 3
    assert out["runs"]["publish documents"] == 1
