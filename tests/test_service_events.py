"""Event-driven gongkai against a REAL Prefect server (tests/plugin_prefect.py).

`gongkai serve` runs as a subprocess on an isolated GONGKAI_HOME; documents are handed over
with `gongkai submit`; the `gongkai.document.received` events reach the server, serve's
sweeper (flows/sweeper.py) hears them and sweeps, and the documents reach their states. The
test reads the outcome from the catalog and the events from the server (POST
/api/events/filter).
Every wait is bounded; every process is stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from plugin_prefect import (
    PrefectServer,
    api_json,
    filter_events,
    free_port,
    log_tail,
    stop_process_group,
    wait_for,
)
from service_docs import make_docx

from gongkai.flows.events import catalog_id
from gongkai.storage.catalog import Catalog, FindQuery

pytestmark = pytest.mark.slow

FINAL_STATES = {"published", "withheld", "on_request", "needs_redaction", "quarantined",
                "exception"}  # fmt: skip
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class Service:
    """`gongkai serve` as a subprocess talking to the test's Prefect server."""

    def __init__(self, server: PrefectServer, root: Path) -> None:
        self.server = server
        self.home = root / "gongkai-home"
        self.log = root / "serve.log"
        self.env = server.client_env(root / "prefect-client")
        self.env["GONGKAI_HOME"] = str(self.home)
        for key in ("GONGKAI_DATABASE_URL", "GONGKAI_S3_ENDPOINT", "GONGKAI_STORE"):
            self.env.pop(key, None)
        self.process: subprocess.Popen[bytes] | None = None
        self.web_port = free_port()
        self.started_at = ""
        self.catalog = catalog_id(f"sqlite:///{self.home / 'catalog.sqlite3'}")

    def start(self) -> None:
        # The server is the session's: flow runs of earlier tests (a worker killed mid-run
        # leaves one RUNNING for ever) are not this service's.
        self.started_at = datetime.now(UTC).isoformat()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gongkai.entrypoints.cli", "serve",
                 "--batch-window", "3", "--publish-interval", "0",
                 "--web-port", str(self.web_port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            )  # fmt: skip

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process)

    def diagnostics(self) -> str:
        server_log = log_tail(self.server.log) if self.server.log else "(external server)"
        return (f"--- gongkai serve log ---\n{log_tail(self.log, 80)}\n"
                f"--- prefect server log ---\n{server_log}")

    def gongkai(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gongkai.entrypoints.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip


@pytest.fixture
def service(prefect_server: PrefectServer, tmp_path: Path) -> Iterator[Service]:
    running = Service(prefect_server, tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def deployments_ready(service: Service) -> bool:
    assert service.process is not None
    if service.process.poll() is not None:
        pytest.fail(f"gongkai serve exited early\n{service.diagnostics()}")
    found = api_json(service.server.api_url, "POST", "/deployments/filter",
                     {"deployments": {"tags": {"all_": ["gongkai"]}}})  # fmt: skip
    assert isinstance(found, list)
    return {d["name"] for d in found} >= {"gongkai-ingest", "gongkai-publish", "gongkai-review",
                                          "gongkai-fixity"}  # fmt: skip


def ingest_runs(service: Service) -> list[dict]:
    """The sweeps since this service started: flow runs of `ingest-received` that serve's
    sweeper ran in its process (no deployment) or that a trigger would have started on serve's
    own ingest deployment. Other tests' deployments of the flow on the session's server (a
    work pool's, with their 5-minute schedules) are not this service's."""
    runs = api_json(service.server.api_url, "POST", "/flow_runs/filter",
                    {"flows": {"name": {"any_": ["ingest-received"]}},
                     "flow_runs": {"expected_start_time": {"after_": service.started_at}}})
    deployments = api_json(service.server.api_url, "POST", "/deployments/filter",
                           {"deployments": {"name": {"any_": ["gongkai-ingest"]}}})
    assert isinstance(runs, list) and isinstance(deployments, list)
    mine = {None, *(d["id"] for d in deployments)}
    return [r for r in runs if r["deployment_id"] in mine]


def runs_seen(service: Service) -> str:
    """What the server holds of the sweeps, for a failure's message."""
    return "\n".join(f"{r['name']}: {r['state_type']} (deployment {r['deployment_id']})"
                     for r in ingest_runs(service)) or "(no ingest-received runs)"


def test_received_events_drive_ingest_and_publish(service: Service, tmp_path: Path) -> None:
    wait_for(lambda: deployments_ready(service), "the four deployments to be served",
             on_timeout=service.diagnostics)  # fmt: skip
    drop = tmp_path / "drop"
    drop.mkdir()
    plan = {"active-1.docx": ("active", 71), "active-2.docx": ("active", 72),
            "withheld.docx": ("withheld", 73), "no-attribute.docx": (None, 74)}  # fmt: skip
    for name, (disclosure, serial) in plan.items():
        (drop / name).write_bytes(make_docx(serial=serial, disclosure=disclosure))

    submitted = service.gongkai("submit", "--json", *(str(drop / n) for n in plan))
    assert submitted.returncode == 0, submitted.stderr
    assert "Traceback" not in submitted.stderr, submitted.stderr
    ids = {Path(item["file"]).name: item["id"]
           for item in map(json.loads, submitted.stdout.splitlines())}  # fmt: skip
    assert set(ids) == set(plan)

    catalog = Catalog(f"sqlite:///{service.home / 'catalog.sqlite3'}")
    try:
        def settled() -> dict[str, str] | None:
            states = {r.filename: r.state for r in catalog.find(FindQuery())}
            return states if set(states.values()) <= FINAL_STATES else None

        states = wait_for(settled, "the documents to leave `received`",
                          on_timeout=service.diagnostics)  # fmt: skip
        assert states == {"active-1.docx": "published", "active-2.docx": "published",
                          "withheld.docx": "withheld", "no-attribute.docx": "exception"}
        published = catalog.get(ids["active-1.docx"])
        assert published.index_number and published.published_at is not None
        history = [e.kind for e in catalog.history(ids["active-1.docx"])]
        assert history[0] == "received" and "extracted" in history
    finally:
        catalog.close()

    # The same process serves the web app: the portal lists what was published.
    with urllib.request.urlopen(f"http://127.0.0.1:{service.web_port}/", timeout=30) as page:
        portal = page.read().decode("utf-8")
    assert "共 2 条" in portal and f"/records/{ids['active-1.docx']}" in portal

    # One burst of four received events: one sweep (two at most if an event woke the sweeper
    # while it was claiming), never one run per document; no trigger started any.
    def finished() -> list[dict] | None:
        runs = ingest_runs(service)
        return runs if runs and all(r["state_type"] in TERMINAL for r in runs) else None

    runs = wait_for(finished, "the ingest sweep to finish", timeout=120,
                    on_timeout=lambda: f"{runs_seen(service)}\n{service.diagnostics()}")
    assert 1 <= len(runs) <= 2, [r["name"] for r in runs]
    assert all(r["deployment_id"] is None for r in runs), runs
    assert all(r["state_type"] == "COMPLETED" for r in runs), [r["state_name"] for r in runs]

    # The lifecycle's events for each document are in the server.
    def events_for(doc_id: int) -> list[str]:
        return [e["event"] for e in filter_events(service.server.api_url,
                                                  catalog=service.catalog,
                                                  resource_id=f"gongkai.document.{doc_id}")]

    expected = {"active-1.docx": "gongkai.document.published",
                "withheld.docx": "gongkai.document.withheld",
                "no-attribute.docx": "gongkai.document.exception"}  # fmt: skip
    for name, final_event in expected.items():
        seen = wait_for(lambda n=name, f=final_event: (lambda ev: ev if f in ev else None)(
            events_for(ids[n])), f"{final_event} for {name}", timeout=60,
            on_timeout=service.diagnostics)  # fmt: skip
        assert seen[0] == "gongkai.document.received", seen
    stored = filter_events(service.server.api_url, catalog=service.catalog,
                           resource_id=f"gongkai.document.{ids['active-1.docx']}")  # fmt: skip
    announced = next(e for e in stored if e["event"] == "gongkai.document.published")
    assert announced["payload"]["file_number"] == "狮政〔2021〕71号"
    assert announced["payload"]["disclosure"] == "active"
    assert announced["payload"]["issuer"]
    # What the server holds of the documents that are not public names none of them: ids,
    # states and attributes only; no title, 文号 or file name leaves by the events.
    for name in ("withheld.docx", "no-attribute.docx"):
        kept = filter_events(service.server.api_url, catalog=service.catalog,
                             resource_id=f"gongkai.document.{ids[name]}")
        said = json.dumps(kept, ensure_ascii=False)
        serial = plan[name][1]
        assert f"〔2021〕{serial}号" not in said and f"第{serial}批" not in said, said
        assert name not in said, said

    # Submitting the same bytes again is a recorded duplicate, not a new document or run.
    again = service.gongkai("submit", "--json", str(drop / "active-1.docx"))
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[0])["new"] is False

    # The HTTP API as a front door of the same service: its events reach the sweeper too.
    doc_id = upload_through_api(service, tmp_path, make_docx(serial=75), "经由接口.docx")
    catalog = Catalog(f"sqlite:///{service.home / 'catalog.sqlite3'}")
    try:
        def diagnostics() -> str:
            # Did the API process deliver its `received` event before it stopped? Its log
            # and the server's events for the document tell.
            stored = filter_events(service.server.api_url, catalog=service.catalog,
                                   resource_id=f"gongkai.document.{doc_id}")
            return (f"{service.diagnostics()}\n--- gongkai api log ---\n"
                    f"{log_tail(tmp_path / 'api.log')}\n--- events stored for the document "
                    f"---\n{[e['event'] for e in stored]}")  # fmt: skip

        wait_for(lambda: catalog.get(doc_id).state == "published",
                 "the document sent over HTTP to be published", on_timeout=diagnostics)
    finally:
        catalog.close()
    assert "Traceback" not in service.log.read_text(errors="replace"), service.diagnostics()
    wait_for(lambda: "gongkai.document.published" in [
        e["event"] for e in filter_events(service.server.api_url, catalog=service.catalog,
                                          resource_id=f"gongkai.document.{doc_id}")],
        "its published event in the server", timeout=60)  # fmt: skip


def upload_through_api(service: Service, tmp_path: Path, data: bytes, name: str) -> int:
    """Start `gongkai api` on a free port, POST one document, stop it; the document's id."""
    import httpx
    from plugin_prefect import free_port

    port = free_port()
    env = {**service.env, "GONGKAI_INTAKE_TOKEN": "intake-token"}
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "gongkai.entrypoints.cli", "api", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> bool:
            if api.poll() is not None:
                pytest.fail(f"gongkai api exited early:\n{log_tail(log)}")
            try:
                return httpx.get(f"{base}/health", timeout=5).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, "gongkai api to answer", timeout=120, on_timeout=lambda: log_tail(log))
        response = httpx.post(f"{base}/documents", files={"file": (name, data)},
                              headers={"Authorization": "Bearer intake-token"}, timeout=60)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])
    finally:
        # SIGTERM: uvicorn shuts down, the app's lifespan flushes the queued events.
        stop_process_group(api)


def test_prefect_yaml_deploys_to_a_work_pool(prefect_server: PrefectServer, tmp_path: Path) -> None:
    """deployments/prefect.yaml, as `prefect deploy --all` reads it, against the real server,
    from a folder without gongkai's code (module-path entrypoints, no pull step). Names get a
    suffix so that this test never touches the deployments `gongkai serve` makes."""
    import os
    import uuid

    import yaml

    from gongkai.flows.events import CATALOG_LABEL, catalog_id

    repo = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((repo / "deployments" / "prefect.yaml").read_text(encoding="utf-8"))
    suffix = uuid.uuid4().hex[:6]
    pool = f"gongkai-{suffix}"
    for deployment in config["deployments"]:
        deployment["name"] = f"{deployment['name']}-{suffix}"
        deployment["work_pool"]["name"] = pool
    prefect_file = tmp_path / "prefect.yaml"
    prefect_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    env = prefect_server.client_env(tmp_path / "prefect-client")
    env = {k: v for k, v in env.items() if not k.startswith("GONGKAI_")}
    env["GONGKAI_HOME"] = str(tmp_path / "home")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    catalog = catalog_id(f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite3'}")
    prefect = [sys.executable, "-m", "prefect"]
    created = subprocess.run([*prefect, "work-pool", "create", pool, "--type", "process"],
                             env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run(
        [*prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]

    api = prefect_server.api_url
    found = api_json(api, "POST", "/deployments/filter",
                     {"work_pools": {"name": {"any_": [pool]}}})  # fmt: skip
    assert isinstance(found, list)
    # Named for the catalog (the build step's `gongkai db id`), on its work queue.
    by_name = {d["name"].removesuffix(f"-{catalog}-{suffix}"): d for d in found}
    assert set(by_name) == {"gongkai-ingest", "gongkai-publish", "gongkai-review",
                            "gongkai-fixity"}  # fmt: skip
    schedules = {name: [s["schedule"] for s in d["schedules"]] for name, d in by_name.items()}
    assert schedules["gongkai-review"][0]["cron"] == "0 6 * * *"
    assert schedules["gongkai-fixity"][0]["cron"] == "0 3 * * 0"
    assert schedules["gongkai-review"][0]["timezone"] == "Asia/Shanghai"
    assert schedules["gongkai-publish"][0]["interval"] == 3600
    # The ingest safety net: a sweep every 5 minutes, without the trigger's settling window
    # (a document whose event was lost waits at most that long; an empty sweep ends at once).
    assert [s["interval"] for s in schedules["gongkai-ingest"]] == [300]
    (net,) = by_name["gongkai-ingest"]["schedules"]
    assert net["parameters"]["settle_s"] == 0 and net["active"]
    for name, d in by_name.items():
        assert d["pull_steps"] == [] and d["work_queue_name"] == catalog
        assert d["entrypoint"].startswith("gongkai.flows.")
        if name != "gongkai-ingest":
            assert d["concurrency_options"]["collision_strategy"] == "ENQUEUE"
    # Sweeps overlap on a pool (claims, siblings): no limit on the ingest deployment.
    assert by_name["gongkai-ingest"]["concurrency_limit"] is None

    automations = api_json(api, "POST", "/automations/filter", {})
    assert isinstance(automations, list)
    ingest_id = by_name["gongkai-ingest"]["id"]
    mine = [a for a in automations
            if any(act.get("deployment_id") == ingest_id for act in a["actions"])]  # fmt: skip
    assert len(mine) == 1
    trigger, action = mine[0]["trigger"], mine[0]["actions"][0]
    assert trigger["expect"] == ["gongkai.document.received"]
    assert trigger["match"] == {"prefect.resource.id": "gongkai.document.*",
                                CATALOG_LABEL: catalog}  # fmt: skip
    assert trigger["threshold"] == 1 and trigger["within"] == 10
    # The sweep starts at once and takes the window's documents itself (settle_s).
    assert action["schedule_after"] == 0
    assert by_name["gongkai-ingest"]["parameters"]["settle_s"] == 10
    # The template survives deployment and is rendered by the server when the trigger fires.
    assert action["parameters"] == {"triggered_by": "{{ event.resource.id }}"}
