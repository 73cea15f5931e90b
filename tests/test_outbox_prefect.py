"""The outbox relay against a REAL Prefect server (tests/plugin_prefect.py), on SQLite and
PostgreSQL catalogs: audit rows become events with their deterministic ids, visible through the
API's events filter; a relay killed after delivering a batch but before moving its cursor sends
it again on its next start, and Prefect's triggers start no second flow run for it (they skip
an event id they have seen), while an event with a new id does start one.

The relay runs as processes of its own (`gongkai relay`, and a relay killed with os._exit
between delivery and cursor), as in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from catalog_steps import register
from lifecycle_docs import make_docx
from plugin_prefect import PrefectServer, api_json, filter_events, wait_for

from gongkai.flows.events import CATALOG_LABEL, catalog_id
from gongkai.flows.service.outbox import RELAY_NAME, event_id
from gongkai.storage.catalog import Catalog, RelayPosition

pytestmark = pytest.mark.slow

# A relay that delivers its first batch and dies before its cursor moves.
KILLED_AFTER_SENDING = """
import os
from gongkai.flows.relay import Relay, send_to_prefect

def send_then_die(events):
    send_to_prefect(events)
    os._exit(3)

Relay(send=send_then_die).run_once()
"""


def gongkai_env(server: PrefectServer, tmp_path: Path, database_url: str) -> dict[str, str]:
    env = server.client_env(tmp_path / "prefect-client")
    env.update(GONGKAI_HOME=str(tmp_path / "home"), GONGKAI_DATABASE_URL=database_url,
               GONGKAI_RELAY_START="beginning", GONGKAI_RELAY_LEASE_S="3")  # fmt: skip
    for key in ("GONGKAI_S3_ENDPOINT", "GONGKAI_STORE"):
        env.pop(key, None)
    return env


def relay(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", "relay", *args],
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip


def probe_deployment(api: str, label: str) -> str:
    """A deployment (no runner needed: its runs stay scheduled) and an automation that runs
    it for every `gongkai.document.received` of catalog `label` (no window: each event that
    the triggers act on is one run)."""
    flow = api_json(api, "POST", "/flows/", {"name": f"outbox-probe-{label}"})
    assert isinstance(flow, dict)
    deployment = api_json(api, "POST", "/deployments/",
                          {"name": "probe", "flow_id": flow["id"]})  # fmt: skip
    assert isinstance(deployment, dict)
    api_json(api, "POST", "/automations/", {
        "name": f"outbox probe {label}", "enabled": True,
        "trigger": {"type": "event", "posture": "Reactive", "threshold": 1, "within": 0,
                    "expect": ["gongkai.document.received"],
                    "match": {"prefect.resource.id": "gongkai.document.*",
                              CATALOG_LABEL: label}},
        "actions": [{"type": "run-deployment", "source": "selected",
                     "deployment_id": deployment["id"], "parameters": {}}],
    })  # fmt: skip
    return str(deployment["id"])


def runs_of(api: str, deployment_id: str) -> list[dict]:
    runs = api_json(api, "POST", "/flow_runs/filter",
                    {"deployments": {"id": {"any_": [deployment_id]}}})  # fmt: skip
    assert isinstance(runs, list)
    return runs


def stored_ids(api: str, label: str, doc_ids: list[int]) -> dict[str, list[str]]:
    """Event name -> ids of the events stored for these documents of catalog `label` (the
    other catalog's tests share the server, and their documents' ids)."""
    found: dict[str, list[str]] = {}
    for doc_id in doc_ids:
        for event in filter_events(api, resource_id=f"gongkai.document.{doc_id}"):
            if event["resource"].get(CATALOG_LABEL) == label:
                found.setdefault(event["event"], []).append(event["id"])
    return found


def test_audit_rows_reach_prefect_once_with_their_ids(
    prefect_server: PrefectServer, tmp_path: Path, database_url: str
) -> None:
    api = prefect_server.api_url
    label = catalog_id(database_url)
    env = gongkai_env(prefect_server, tmp_path, database_url)
    probe = probe_deployment(api, label)
    with Catalog.open(database_url) as catalog:
        first = register(catalog, 3, f"first {uuid.uuid4()}")
        catalog.transition(first[0], "exception", actor="t", expected_from="received",
                           exception_reason="unreadable")  # fmt: skip
        rows = [r for i in first for r in catalog.history(i)]

    # Killed after its batch was delivered, before the cursor moved.
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_SENDING], env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert killed.returncode == 3, killed.stderr
    with Catalog.open(database_url) as catalog:
        assert catalog.relay_cursor(RELAY_NAME) == RelayPosition(0, 0)  # not moved
    wait_for(lambda: len(runs_of(api, probe)) >= 3, "a run for each received event",
             timeout=120)  # fmt: skip

    # The next relay takes over once the killed one's lease expired, and sends the batch
    # again: the same events.
    def taken_over() -> dict | None:
        done = relay(env, "--json")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        return None if report["held_elsewhere"] else report

    assert wait_for(taken_over, "the killed relay's lease to expire", timeout=60) == {
        "rows": len(rows), "sent": len(rows), "held_elsewhere": False}
    # An event with an id of its own is acted on (the probe works): sent after the resend,
    # its run shows that the triggers have come past the resent events.
    with Catalog.open(database_url) as catalog:
        (fresh,) = register(catalog, 1, f"fresh {uuid.uuid4()}")
        fresh_row = catalog.history(fresh)[0]
    after = relay(env, "--json")
    assert json.loads(after.stdout)["sent"] == 1, after.stderr
    wait_for(lambda: len(runs_of(api, probe)) >= 4, "the run of the fresh event", timeout=120)
    time.sleep(5)  # anything the resend would start has had its time
    runs = runs_of(api, probe)
    assert len(runs) == 4, [r["name"] for r in runs]

    # Each row is one event in the server, under the id made of catalog and row.
    def all_stored() -> dict[str, list[str]] | None:
        found = stored_ids(api, label, [*first, fresh])
        return found if sum(map(len, found.values())) >= len(rows) + 1 else None

    found = wait_for(all_stored, "the events stored", timeout=120)
    assert sorted(found["gongkai.document.received"]) == sorted(
        str(event_id(label, r.id)) for r in [*rows, fresh_row] if r.kind == "received")
    assert found["gongkai.document.exception"] == [
        str(event_id(label, r.id)) for r in rows if r.kind == "state"]
    assert sum(map(len, found.values())) == len(rows) + 1  # the resend stored nothing twice
    # Nothing left: a further pass sends nothing.
    assert json.loads(relay(env, "--json").stdout)["sent"] == 0


def test_a_fresh_relay_sends_what_was_handed_over_before_any_relay_ran(
    prefect_server: PrefectServer, tmp_path: Path, database_url: str
) -> None:
    """Work-pool set-up: documents are submitted while no relay runs (no Prefect API at all),
    then a relay is started for the first time, with its default start. Their `received`
    events reach the Prefect server (what a work pool's ingest trigger waits for); the
    catalog's history before the oldest waiting document is not replayed."""
    api = prefect_server.api_url
    label = catalog_id(database_url)
    with Catalog.open(database_url) as catalog:
        (history,) = register(catalog, 1, f"history {uuid.uuid4()}")
        catalog.transition(history, "exception", actor="t", expected_from="received",
                           exception_reason="unreadable")  # fmt: skip
    offline = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    offline.update(GONGKAI_HOME=str(tmp_path / "home"), GONGKAI_DATABASE_URL=database_url,
                   PREFECT_HOME=str(tmp_path / "prefect-offline"))  # fmt: skip
    files = []
    for serial in (1, 2, 3):
        data, truth = make_docx(serial, disclosure="active")
        files.append(tmp_path / truth.filename)
        files[-1].write_bytes(data)
    submitted = subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "submit", "--json", *map(str, files)],
        env=offline, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    with Catalog.open(database_url) as catalog:
        waiting = [r.id for r in catalog.claim_pending("test", 10)]
        assert len(waiting) == 3 and history not in waiting
        catalog.release_claims("test")
        assert catalog.relay_cursor(RELAY_NAME) is None  # no relay has run

    env = gongkai_env(prefect_server, tmp_path, database_url)
    del env["GONGKAI_RELAY_START"]  # the default: a new cursor
    done = relay(env, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"rows": 3, "sent": 3, "held_elsewhere": False}

    def all_stored() -> dict[str, list[str]] | None:
        found = stored_ids(api, label, waiting)
        return found if len(found.get("gongkai.document.received", [])) >= 3 else None

    found = wait_for(all_stored, "the received events of the waiting documents", timeout=120)
    with Catalog.open(database_url) as catalog:
        rows = [r for i in waiting for r in catalog.history(i) if r.kind == "received"]
    assert sorted(found["gongkai.document.received"]) == sorted(
        str(event_id(label, r.id)) for r in rows)
    assert stored_ids(api, label, [history]) == {}  # history is not replayed


# The HTTP app with or without its own relay, in a process of its own (Prefect configured from
# its environment), taking one document in.
APP_WITH_OR_WITHOUT_RELAY = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, create_app

app = create_app(load_settings(), tokens=Tokens(staff="staff", intake=None),
                 relay=sys.argv[1] == "relay")
with TestClient(app) as client:
    sent = client.post("/documents", files={"file": ("a.docx", Path(sys.argv[2]).read_bytes())},
                       headers={"Authorization": "Bearer staff"})
    assert sent.status_code == 201, sent.text
print(sent.json()["id"])
"""


@pytest.mark.parametrize("relay", ["relay", "no-relay"])
def test_the_http_app_relays_unless_its_process_has_a_relay(
    prefect_server: PrefectServer, tmp_path: Path, relay: str
) -> None:
    """create_app runs the outbox relay where a Prefect API listens; relay=False (serve, whose
    process runs one already) starts none: no cursor taken, nothing sent by the app."""
    database_url = f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite3'}"
    env = gongkai_env(prefect_server, tmp_path, database_url)
    data, truth = make_docx(5, disclosure="active")
    (tmp_path / truth.filename).write_bytes(data)
    app = subprocess.run([sys.executable, "-c", APP_WITH_OR_WITHOUT_RELAY, relay,
                          str(tmp_path / truth.filename)],
                         env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert app.returncode == 0, app.stderr[-3000:]
    doc = int(app.stdout.split()[-1])
    with Catalog.open(database_url) as catalog:
        cursor = catalog.relay_cursor(RELAY_NAME)
    label = catalog_id(database_url)
    if relay == "no-relay":
        assert cursor is None
        time.sleep(2)
        assert stored_ids(prefect_server.api_url, label, [doc]) == {}
        return
    assert cursor is not None
    wait_for(lambda: stored_ids(prefect_server.api_url, label, [doc]), "the received event",
             timeout=120)  # fmt: skip


def test_gongkai_relay_says_in_chinese_when_no_prefect_listens(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(GONGKAI_HOME=str(tmp_path / "home"), PREFECT_HOME=str(tmp_path / "p"))
    env.pop("GONGKAI_DATABASE_URL", None)
    done = relay(env)
    assert done.returncode == 1
    assert "没有可用的 Prefect API" in done.stderr
