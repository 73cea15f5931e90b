"""The outbox relay's throughput against a bare `emit_event` loop, in the same run.

    python benchmarks/relay.py [--events 2000] [--rounds 2] [--database-url URL]

Starts `prefect server start` on a free port (its own home and SQLite database in a temporary
folder), registers `--events` documents in a catalog (a temporary SQLite one unless
`--database-url`), then per round: one relay pass over their `received` rows (gongkai.flows.
relay.Relay.run_once: read, map, send through Prefect's events client, cursor moved) and, as
the baseline, as many `prefect.events.emit_event` calls followed by `EventsWorker.drain_all`
(Prefect's fire-and-forget path that the service used before the outbox). Prints events/s of
each and their ratio. Prefect is imported before anything is timed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(root / "prefect"), PREFECT_UI_ENABLED="false",
               PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{root / 'p.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=(root / "server.log").open("wb"),
        stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(api + "/health", timeout=5):
                return process, api
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("prefect server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="gongkai-relay-bench-"))
    process, api = start_server(root)
    os.environ.update(PREFECT_API_URL=api, GONGKAI_HOME=str(root / "home"),
                      GONGKAI_RELAY_START="end")
    if args.database_url:
        os.environ["GONGKAI_DATABASE_URL"] = args.database_url
    try:
        run(args.events, args.rounds)
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


def run(count: int, rounds: int) -> None:
    from prefect.events import emit_event
    from prefect.events.clients import get_events_client  # noqa: F401 - imported before timing
    from prefect.events.worker import EventsWorker

    from gongkai.config import load_settings
    from gongkai.flows.relay import Relay
    from gongkai.storage.catalog import Registration

    relay = Relay(load_settings())
    relay.run_once()  # the cursor, at the end
    for round_ in range(1, rounds + 1):
        relay.catalog.register_many([
            Registration(sha256=hashlib.sha256(f"{time.time_ns()} {i}".encode()).hexdigest(),
                         size=1, filename=f"{i}.docx", content_type="x", original_key="k",
                         source="bench", actor="bench")
            for i in range(count)
        ])  # fmt: skip
        started = time.perf_counter()
        report = relay.run_once()
        relayed = time.perf_counter() - started
        assert report.sent == count, report
        started = time.perf_counter()
        for i in range(count):
            emit_event(event="gongkai.bench.bare", resource={"prefect.resource.id":
                                                             f"gongkai.bench.{i}"},
                       payload={"state": "received", "document_id": i})  # fmt: skip
        EventsWorker.drain_all(timeout=600)
        bare = time.perf_counter() - started
        print(f"round {round_}: relay {count / relayed:.0f} events/s ({relayed:.2f} s), "
              f"bare emit_event+drain {count / bare:.0f} events/s ({bare:.2f} s), "
              f"relay/bare time {relayed / bare:.2f}x", flush=True)  # fmt: skip
    relay.close()


if __name__ == "__main__":
    main()
