"""A sweep of serve's sweeper with a burst waiting (flows/ingest.py ingest_received, run on a
parallel worker pool as flows/sweeper.py runs it, against the session's real Prefect server):
its rounds read the next batch ahead and publish once per several rounds, not after each, and
every document still ends `published`; a lone document is published by its own sweep."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from plugin_prefect import SCRIPT_PRELUDE, PrefectServer, api_json

pytestmark = pytest.mark.slow

BURST = 24
BATCH = 4
PUBLISH_EVERY = 3

SCRIPT = SCRIPT_PRELUDE + textwrap.dedent(
    """
    from gongkai.flows.ingest import ingest_received

    burst = take_in(ctx, range(1, {burst} + 1))
    with service.WorkerPool(2) as pool, runtime.use_context(ctx), runtime.use_workers(pool):
        swept = ingest_received(triggered_by="burst", max_batch={batch}, max_rounds=40,
                                publish_every={every})
        lone = take_in(ctx, [{burst} + 1])
        alone = ingest_received(triggered_by="lone", max_batch={batch})
    states = ctx.catalog.states_of(burst + lone)
    claimed = [r.id for r in ctx.catalog.claim_pending("check", 100)]
    print(json.dumps({{"swept": swept, "alone": alone, "claimed": claimed,
                       "states": {{str(k): v for k, v in states.items()}}}}))
    """
)


def test_a_burst_is_published_once_per_several_rounds(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    script = SCRIPT.format(tests=str(Path(__file__).parent), burst=BURST, batch=BATCH,
                           every=PUBLISH_EVERY)  # fmt: skip
    out = prefect_server.run_script(script, tmp_path)
    swept, alone = out["swept"], out["alone"]
    assert set(out["states"].values()) == {"published"}, out["states"]
    assert out["claimed"] == []  # nothing left waiting, no claim left behind
    assert swept["rounds"] == BURST // BATCH and swept["published"] == BURST
    assert alone["rounds"] == 1 and alone["published"] == 1

    runs = api_json(prefect_server.api_url, "POST", "/flow_runs/filter", {
        "flow_runs": {"name": {"any_": ["sweep after burst"]}}})  # fmt: skip
    assert len(runs) == 1
    # Its rounds and publications are task runs of the sweep (no flow run of their own).
    tasks = api_json(prefect_server.api_url, "POST", "/task_runs/filter", {
        "flow_runs": {"id": {"any_": [runs[0]["id"]]}},
    })  # fmt: skip
    names = sorted(r["name"] for r in tasks)
    rounds = [n for n in names if n.startswith("round ")]
    publications = [n for n in names if n.startswith("publish documents ")]
    assert len(rounds) == BURST // BATCH, names
    # Every third round and the last: fewer publications than rounds, none of them empty.
    assert 1 <= len(publications) <= -(-len(rounds) // PUBLISH_EVERY), names
    assert sum(int(n.split()[-1]) for n in publications) == BURST, names
    children = api_json(prefect_server.api_url, "POST", "/flow_runs/filter", {
        "flow_runs": {"parent_flow_run_id": {"any_": [runs[0]["id"]]}},
    })  # fmt: skip
    assert children == [], [r["name"] for r in children]
