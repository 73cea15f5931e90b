"""The work-pool setup of deployments/README.md through real processes (issue 14): gongkai
built with `pip wheel` and installed apart from the checkout, a real `prefect server`, the
process work pool, `prefect deploy` of the installed prefect.yaml from a folder without
gongkai's code, real `prefect worker start` processes, a PostgreSQL catalog, S3 on moto, and
`gongkai submit` for the burst.

- Two workers share one burst: the triggered sweep asks for a sibling run, which the other
  worker takes; the first worker's machine hangs (SIGSTOP) holding a claim and is then killed
  (-9, with its flow runs), its claim expires (a short lease), the surviving sweep finishes the
  batch; every document is routed exactly once.
- Two catalogs deployed from the same prefect.yaml on one Prefect server: a document
  submitted to one starts a sweep of that catalog's ingest deployment only."""

from __future__ import annotations

import re
import sys
import time
import uuid
from pathlib import Path

import pytest
from catalog_steps import query
from lifecycle_docs import make_docx
from plugin_prefect import PrefectServer, api_json, wait_for
from workpool import (
    Worker,
    deploy,
    descendants,
    freeze_machine,
    install_wheel,
    kill_machine,
    pool_env,
    run,
    start_relay,
    start_worker,
    stop_worker,
    submit,
    thaw_machine,
)

pytestmark = pytest.mark.slow

DOCUMENTS = 40
BATCH = 5
LEASE_S = 8


def write_documents(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True)
    files = []
    for serial in range(1, count + 1):
        data, truth = make_docx(serial, disclosure="active")
        (folder / truth.filename).write_bytes(data)
        files.append(folder / truth.filename)
    return files



def routed_once(database_url: str) -> list:
    """(documents still waiting or claimed, routing audit rows per document as a set)."""
    waiting = query(database_url, "SELECT count(*) FROM documents WHERE state = 'received' "
                                  "OR claimed_by IS NOT NULL")[0][0]  # fmt: skip
    counts = query(database_url, "SELECT document_id, count(*) FROM events "
                                 "WHERE kind = 'extracted' GROUP BY document_id")  # fmt: skip
    return [waiting, len(counts), {count for _, count in counts}]


def claims_of(worker: Worker, database_url: str) -> int:
    """How many documents the sweeps run by `worker` hold (their claimant names the pid)."""
    pids = {worker.process.pid, *descendants(worker.process.pid)}
    names = query(database_url, "SELECT claimed_by FROM documents WHERE claimed_by IS NOT NULL")
    return sum(int(re.search(r"pid (\d+)", name)[1]) in pids for (name,) in names)


def hang_holding_a_claim(worker: Worker, database_url: str) -> None:
    """Freeze `worker`'s machine at a moment its sweep holds a claim (between two rounds, or
    while it publishes, it holds none): thawed and frozen again until it does."""
    for _ in range(200):
        freeze_machine(worker)
        if claims_of(worker, database_url):
            return
        thaw_machine(worker)
        time.sleep(0.1)
    pytest.fail(f"{worker.name} never held a claim\n{worker.output()[-3000:]}")


def deployment_runs(api_url: str, deployment_name: str) -> list[dict]:
    """The runs of a deployment that its trigger (or a sweep) asked for; the 5-minute
    schedule's runs, which Prefect's scheduler makes ahead, are left out."""
    deployments = api_json(api_url, "POST", "/deployments/filter",
                           {"deployments": {"name": {"any_": [deployment_name]}}})  # fmt: skip
    assert isinstance(deployments, list) and len(deployments) == 1, deployments
    runs = api_json(api_url, "POST", "/flow_runs/filter",
                    {"flow_runs": {"deployment_id": {"any_": [deployments[0]["id"]]}}})
    assert isinstance(runs, list)
    return [r for r in runs if not r["auto_scheduled"]]


def test_two_workers_share_a_burst_and_one_killed_is_finished_by_the_other(
    tmp_path: Path, prefect_server: PrefectServer, postgres_url: str, moto_s3_endpoint: str
) -> None:
    env = pool_env(api_url=prefect_server.api_url, prefect_home=tmp_path / "prefect",
                   gongkai_home=tmp_path / "home", database_url=postgres_url,
                   s3_endpoint=moto_s3_endpoint, label=uuid.uuid4().hex[:12],
                   site=install_wheel(tmp_path), GONGKAI_SWEEP_BATCH=str(BATCH),
                   GONGKAI_SWEEP_SIBLINGS="1", GONGKAI_CLAIM_LEASE_S=str(LEASE_S),
                   GONGKAI_WORKERS="1")  # fmt: skip
    files = write_documents(tmp_path / "burst", DOCUMENTS)
    queue = deploy(env, tmp_path)
    # The workers run gongkai as built and installed, not the checkout.
    assert run([sys.executable, "-c", "import gongkai; print(gongkai.__file__)"], env,
               tmp_path).startswith(str(tmp_path / "site"))  # fmt: skip
    workers = [start_worker(name, queue, env, tmp_path) for name in ("w1", "w2")]
    relay = start_relay(env, tmp_path)
    try:
        submit(files, env, tmp_path)
        diagnostics = lambda: "\n\n".join(f"{w.name}:\n{w.output()[-3000:]}"  # noqa: E731
                                          for w in [*workers, relay])  # fmt: skip
        # The triggered sweep, finding more than its batch, asks for a sibling. Its machine
        # then hangs holding its claim (frozen): the burst cannot be over before the sibling
        # starts, however slow the sibling's process is to start here.
        victim = wait_for(lambda: next((w for w in workers if "asked for 1 sibling" in
                                        w.output()), None),
                          "the triggered sweep asking for a sibling", timeout=240,
                          on_timeout=diagnostics)  # fmt: skip
        hang_holding_a_claim(victim, postgres_url)
        (survivor,) = [w for w in workers if w is not victim]
        # The other worker takes the sibling run and works on the documents still free:
        # both workers ran a sweep of the one burst.
        wait_for(lambda: "round 1:" in survivor.output(), "the sibling sweep's first round",
                 timeout=240, on_timeout=diagnostics)  # fmt: skip
        kill_machine(victim)
        # The victim's claim outlives it; the survivor waits for it to expire and finishes.
        wait_for(lambda: routed_once(postgres_url)[0] == 0, "every document routed",
                 timeout=240, on_timeout=diagnostics)  # fmt: skip
        assert routed_once(postgres_url) == [0, DOCUMENTS, {1}]
        assert survivor.process.poll() is None
    finally:
        for worker in [*workers, relay]:
            stop_worker(worker)


def test_two_catalogs_deployed_from_prefect_yaml_do_not_wake_each_other(
    tmp_path: Path, prefect_server: PrefectServer
) -> None:
    offices = {}
    for office in ("a", "b"):
        env = pool_env(api_url=prefect_server.api_url, prefect_home=tmp_path / "prefect",
                       gongkai_home=tmp_path / office,
                       database_url=f"sqlite:///{tmp_path / office / 'catalog.sqlite3'}",
                       s3_endpoint=None, label=office)  # fmt: skip
        (tmp_path / office).mkdir()
        offices[office] = (env, deploy(env, tmp_path))
    env_a, id_a = offices["a"]
    env_b, id_b = offices["b"]
    assert id_a != id_b
    # Each catalog's relay sends its rows; only a's has any.
    relays = [start_relay(env_a, tmp_path, "relay-a"), start_relay(env_b, tmp_path, "relay-b")]
    try:
        submit(write_documents(tmp_path / "docs", 1), env_a, tmp_path)
        wait_for(lambda: deployment_runs(prefect_server.api_url, f"gongkai-ingest-{id_a}"),
                 "a sweep of office a's ingest deployment", timeout=120,
                 on_timeout=lambda: "\n".join(r.output()[-2000:] for r in relays))  # fmt: skip
        time.sleep(5)  # time for a wrong trigger to fire as well
        assert deployment_runs(prefect_server.api_url, f"gongkai-ingest-{id_b}") == []
        (run,) = deployment_runs(prefect_server.api_url, f"gongkai-ingest-{id_a}")
        assert run["work_queue_name"] == id_a
    finally:
        for relay in relays:
            stop_worker(relay)
