"""A service that finds itself (issue 14): `gongkai serve` on the embedded default, as processes.

- Documents handed over while no service ran wait in `received`; serve sweeps them when it
  starts, without any new event.
- `gongkai api`, started once, keeps reaching serve's Prefect server after serve restarts
  (serve listens on a fixed port, GONGKAI_PREFECT_PORT): the API's next submission is routed.
- The Prefect UI of serve's server asks the API it is served by (PREFECT_UI_API_URL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from plugin_prefect import free_port, log_tail, stop_process_group, wait_for
from service_docs import make_docx

from gongkai.storage.catalog import Catalog

pytestmark = pytest.mark.slow

WAIT_S = 240.0
TOKEN = "drafting-system-token"


class Home:
    """One GONGKAI_HOME and the gongkai processes started on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.prefect_port = free_port()
        self.api_port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
        self.env.update({"GONGKAI_HOME": str(self.home), "GONGKAI_INTAKE_TOKEN": TOKEN,
                         "GONGKAI_PREFECT_PORT": str(self.prefect_port)})  # fmt: skip
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.root / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gongkai.entrypoints.cli", *args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", *args],
                              env=self.env, capture_output=True, text=True, timeout=300)

    def serve(self) -> subprocess.Popen[bytes]:
        return self.start("serve", "serve", "--batch-window", "2", "--publish-interval", "0")

    def states(self, ids: list[int]) -> dict[int, str]:
        with Catalog.open(f"sqlite:///{self.home / 'catalog.sqlite3'}") as catalog:
            return catalog.states_of(ids)

    def diagnostics(self) -> str:
        logs = [f"--- {p.name} ---\n{log_tail(p, 60)}" for p in sorted(self.root.glob("*.log"))]
        return "\n".join(logs)

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process_group(process)


def served(home: Home) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{home.prefect_port}/api/deployments/filter",
            data=b"{}", timeout=5,
        ) as response:  # fmt: skip
            names = {d["name"] for d in json.loads(response.read())}
    except OSError:
        return False
    return "gongkai-ingest" in names


def api_up(home: Home) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{home.api_port}/health", timeout=5):
            return True
    except OSError:
        return False


def post_document(port: int, name: str, data: bytes) -> int:
    import httpx

    response = httpx.post(f"http://127.0.0.1:{port}/documents", files={"file": (name, data)},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)  # fmt: skip
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def routed(home: Home, ids: list[int]) -> bool:
    return all(state not in ("received", "to_publish") for state in home.states(ids).values())


def test_serve_sweeps_at_start_and_is_found_again_after_a_restart(tmp_path: Path) -> None:
    home = Home(tmp_path)
    try:
        drop = tmp_path / "drop"
        drop.mkdir()
        waiting = []
        for serial, disclosure in ((81, "active"), (82, "withheld")):
            path = drop / f"doc-{serial}.docx"
            path.write_bytes(make_docx(serial=serial, disclosure=disclosure))
            submitted = home.run("submit", str(path), "--json")
            assert submitted.returncode == 0, submitted.stderr
            waiting.append(int(json.loads(submitted.stdout.splitlines()[-1])["id"]))
        assert set(home.states(waiting).values()) == {"received"}  # nobody listened

        first = home.serve()
        wait_for(lambda: routed(home, waiting), "the start-up sweep",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        assert home.states(waiting) == {waiting[0]: "published", waiting[1]: "withheld"}

        # The UI of serve's server asks its own API.
        with urllib.request.urlopen(f"http://127.0.0.1:{home.prefect_port}/ui-settings",
                                    timeout=10) as response:  # fmt: skip
            ui = json.loads(response.read())
        assert ui["api_url"] == f"http://127.0.0.1:{home.prefect_port}/api"

        home.start("api", "api", "--port", str(home.api_port))
        wait_for(lambda: served(home) and api_up(home), "the deployments and the API",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        before = post_document(home.api_port, "before.docx", make_docx(serial=83))
        wait_for(lambda: routed(home, [before]), "the API's submission",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip

        stop_process_group(first)
        assert first.returncode is not None
        home.serve()
        wait_for(lambda: served(home), "the deployments after the restart",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        after = post_document(home.api_port, "after.docx", make_docx(serial=84))
        wait_for(lambda: routed(home, [after]), "the API's submission after the restart",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        assert home.states([before, after]) == {before: "published", after: "published"}
    finally:
        home.stop()


def prefect_post(home: Home, path: str, body: dict[str, object]) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{home.prefect_port}/api{path}", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        found = json.loads(response.read())
    assert isinstance(found, list)
    return found


def submit(home: Home, paths: list[Path]) -> list[int]:
    submitted = home.run("submit", "--json", *map(str, paths))
    assert submitted.returncode == 0, submitted.stderr
    return [int(json.loads(line)["id"]) for line in submitted.stdout.splitlines()]


def test_serve_sweeps_each_arrival_itself_without_a_trigger(tmp_path: Path) -> None:
    """serve's sweeper (flows/sweeper.py): a document handed over by `gongkai submit` (its
    received event), one POSTed to serve's own web app (its intake wakes the sweeper) and a
    burst of 50 are routed with no automation and no run of the ingest deployment; each sweep
    is a flow run of `ingest-received` on serve's server. After a restart the next submission
    is routed too."""
    home = Home(tmp_path)
    web_port = free_port()
    drop = tmp_path / "drop"
    drop.mkdir()

    def docx(serial: int) -> Path:
        path = drop / f"doc-{serial}.docx"
        path.write_bytes(make_docx(serial=serial))
        return path

    def serve() -> subprocess.Popen[bytes]:
        return home.start("serve", "serve", "--publish-interval", "0",
                          "--web-port", str(web_port))  # fmt: skip

    def web_up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/health", timeout=5):
                return True
        except OSError:
            return False

    try:
        first = serve()
        wait_for(lambda: served(home) and web_up(), "the deployments and the web app",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        single = submit(home, [docx(91)])
        wait_for(lambda: routed(home, single), "the submitted document",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        posted = [post_document(web_port, "web.docx", make_docx(serial=92))]
        wait_for(lambda: routed(home, posted), "the document POSTed to serve's web app",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        burst = submit(home, [docx(serial) for serial in range(100, 150)])
        assert len(burst) == 50
        wait_for(lambda: routed(home, burst), "the burst of 50",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        states = home.states([*single, *posted, *burst])
        assert set(states.values()) == {"published"}, states

        # No trigger fired: serve's ingest deployment has no automation and no run; the
        # sweeps are flow runs of the ingest-received flow of this process.
        ingest = prefect_post(home, "/deployments/filter",
                              {"deployments": {"name": {"any_": ["gongkai-ingest"]}}})
        assert len(ingest) == 1
        automations = prefect_post(home, "/automations/filter", {})
        assert not [a for a in automations for act in a["actions"]  # type: ignore[union-attr]
                    if act.get("deployment_id") == ingest[0]["id"]], automations  # fmt: skip
        sweeps = prefect_post(home, "/flow_runs/filter",
                              {"flows": {"name": {"any_": ["ingest-received"]}}})
        assert sweeps and all(r["deployment_id"] is None for r in sweeps), sweeps
        # Their rounds are task runs of theirs, not flow runs of their own.
        rounds = prefect_post(home, "/task_runs/filter",
                              {"flow_runs": {"id": {"any_": [r["id"] for r in sweeps]}}})
        assert [r for r in rounds if r["name"].startswith("round ")], rounds
        assert not prefect_post(home, "/flow_runs/filter",
                                {"flows": {"name": {"any_": ["ingest"]}}})

        stop_process_group(first)
        assert first.returncode is not None
        serve()
        wait_for(lambda: served(home) and web_up(), "serve after the restart",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        after = submit(home, [docx(93)])
        wait_for(lambda: routed(home, after), "the submission after the restart",
                 on_timeout=home.diagnostics, timeout=WAIT_S)  # fmt: skip
        assert home.states(after) == {after[0]: "published"}
        assert "Traceback" not in (tmp_path / "serve.log").read_text(errors="replace")
    finally:
        home.stop()
