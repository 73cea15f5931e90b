"""Benchmark: one worker against two on the documented work-pool setup (issue 14).

    .venv/bin/python benchmarks/scaleout.py [-n 1000] [--order 1,2] [--batch 100] [--live]
        [--json FILE]

The setup of deployments/README.md, each part a real process: gongkai built with `pip wheel`
and installed apart from the checkout (`pip install --target`, on PYTHONPATH), a `prefect
server` on a fresh PostgreSQL database (PREFECT_API_DATABASE_CONNECTION_URL), the process work
pool, `prefect deploy --all` of the packaged prefect.yaml from a folder without gongkai's
code, a PostgreSQL catalog (a fresh database per round), S3 on moto (its server in this
process, its own buckets per round). For each round in `--order` (a number of workers), that
many `prefect worker start --limit 1`, worker k pinned with `taskset -c k` (it and the flow
runs it starts inherit the CPU: two workers stand for two one-core machines; the one-worker
baseline has one core too, GONGKAI_WORKERS=1 in both), with GONGKAI_SWEEP_BATCH=`--batch`,
GONGKAI_SWEEP_SIBLINGS = workers - 1, PREFECT_WORKER_QUERY_SECONDS=1. The N generated
documents (tests/generator.py, as benchmarks/ingest.py builds them) are submitted the
documented way, one `gongkai submit FILE...` (unpinned, as are the Prefect server, moto and
PostgreSQL: those run beside the workers in both rounds):
- default (drain): submitted before the workers start (the trigger's runs wait on the pool);
  timed from the workers' start (their start and the flow runs' included) until no document is
  `received` or claimed: the time a waiting burst takes;
- `--live`: submitted once the workers poll; timed from the submit's start until all routed
  (the intake's own speed then bounds both).

Reported per round: the submit's duration, the wall time above, from the catalog's audit rows
the time from the last document taken in to the last one routed (live mode) and from the
first document routed to the last (the workers' start left out), the documents/s,
and per worker the flow runs it started and the sweep rounds they ran. The ratio is one
worker's time over two workers' (> 1: two are faster), in the same run.

Every process started is stopped (also on errors); every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from catalog_steps import query  # noqa: E402
from ingest import compile_bytecode, generate  # noqa: E402
from plugin_prefect import free_port, stop_process_group  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from workpool import (  # noqa: E402
    deploy,
    install_wheel,
    pool_env,
    start_relay,
    start_worker,
    stop_worker,
    submit,
)

PG_ADMIN = os.environ.get("GONGKAI_TEST_PG_ADMIN_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")  # fmt: skip
START_S = 240.0
ROUND_S = 1800.0


def create_database(label: str) -> str:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"gongkai_bench_{label}_{uuid.uuid4().hex[:8]}"
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    engine.dispose()



def prefect_server(root: Path, database: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env.update({
        "PREFECT_HOME": str(root / "server"),
        "PREFECT_API_DATABASE_CONNECTION_URL": database.replace("+psycopg", "+asyncpg"),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_SERVER_LEVEL": "WARNING",
    })  # fmt: skip
    with (root / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + START_S
    while True:
        try:
            import urllib.request

            with urllib.request.urlopen(api + "/health", timeout=5):
                return process, api
        except OSError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process_group(process)
                raise RuntimeError(f"prefect server did not start: {root}/server.log") from exc
            time.sleep(0.5)


def wait(predicate: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.25)


def one_round(workers: int, files: list[Path], api: str, s3: str, root: Path,
              batch: int, site: Path, drain: bool) -> dict[str, Any]:  # fmt: skip
    folder = root / f"round-{workers}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    catalog = create_database(f"w{workers}")
    env = pool_env(api_url=api, prefect_home=folder / "prefect", gongkai_home=folder / "home",
                   database_url=catalog, s3_endpoint=s3, label=uuid.uuid4().hex[:12],
                   site=site, GONGKAI_SWEEP_BATCH=str(batch),
                   GONGKAI_SWEEP_SIBLINGS=str(workers - 1), GONGKAI_WORKERS="1")  # fmt: skip
    queue = deploy(env, folder)
    # Workers write audit rows only: the relay sends them to Prefect as the trigger's events.
    relay = start_relay(env, folder)
    left = "SELECT count(*) FROM documents WHERE state = 'received' OR claimed_by IS NOT NULL"
    started: list[Any] = []
    try:
        submitted = 0.0
        if drain:  # the burst waits (its trigger's runs scheduled) before any worker is up
            begin = time.monotonic()
            ids = submit(files, env, folder)
            submitted = time.monotonic() - begin
        begin = time.monotonic()
        started = [start_worker(f"w{k}", queue, env, folder, cpu=k) for k in range(workers)]
        wait(lambda: all("started!" in w.output() for w in started), "workers polling",
             START_S)  # fmt: skip
        if not drain:
            begin = time.monotonic()
            ids = submit(files, env, folder)
            submitted = time.monotonic() - begin
        wait(lambda: query(catalog, left)[0][0] == 0, "all routed", ROUND_S)
        wall = time.monotonic() - begin
        # From the catalog's audit rows: the last document taken in -> the last one read
        # and routed (`extracted` is written with the routing, in one transaction).
        tail = query(catalog, "SELECT extract(epoch FROM max(at) FILTER (WHERE kind = "
                              "'extracted') - max(at) FILTER (WHERE kind = 'received')) "
                              "FROM events")[0][0]  # fmt: skip
        # The first document routed -> the last (the workers' and flow runs' start left out).
        span = query(catalog, "SELECT extract(epoch FROM max(at) - min(at)) FROM events "
                              "WHERE kind = 'extracted'")[0][0]  # fmt: skip
        runs = {w.name: w.output().count("submitted to infrastructure") for w in started}
        rounds = {w.name: w.output().count(" received document(s)") for w in started}
        return {"workers": workers, "mode": "drain" if drain else "live",
                "documents": len(ids), "submit_s": round(submitted, 2),
                "wall_s": round(wall, 2), "after_intake_s": round(float(tail or 0), 2),
                "routing_span_s": round(float(span or 0), 2),
                "docs_per_s": round(len(ids) / wall, 2), "flow_runs": runs,
                "sweep_rounds": rounds}  # fmt: skip
    finally:
        for worker in [*started, relay]:
            stop_worker(worker)
        drop_database(catalog)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--order", default="1,2", help="workers per round, in order")
    parser.add_argument("--batch", type=int, default=100, help="GONGKAI_SWEEP_BATCH")
    parser.add_argument("--live", action="store_true",
                        help="submit while the workers run (default: submit, then start them)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per S3 request
    bytecode = compile_bytecode()
    root = Path(tempfile.mkdtemp(prefix="gongkai-scaleout-"))
    site = install_wheel(root)
    generate(root / "docs", args.n)
    files = sorted(p for p in (root / "docs").iterdir() if p.is_file())
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    server_db = create_database("prefect")
    server, api = prefect_server(root, server_db)
    results: list[dict[str, Any]] = []
    try:
        for workers in (int(w) for w in args.order.split(",")):
            results.append(one_round(workers, files, api, f"{host}:{port}", root, args.batch,
                                     site, not args.live))
            print(json.dumps(results[-1]), flush=True)
    finally:
        stop_process_group(server)
        moto.stop()
        drop_database(server_db)
    by_workers = {r["workers"]: r for r in results}
    report: dict[str, Any] = {"documents": args.n, "batch": args.batch, "bytecode": bytecode,
                              "rounds": results}  # fmt: skip
    if 1 in by_workers and 2 in by_workers:
        one, two = by_workers[1], by_workers[2]
        report["ratio_wall"] = round(one["wall_s"] / two["wall_s"], 2)
        report["ratio_after_intake"] = round(
            one["after_intake_s"] / max(two["after_intake_s"], 0.01), 2)
        report["ratio_routing_span"] = round(
            one["routing_span_s"] / max(two["routing_span_s"], 0.01), 2)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
