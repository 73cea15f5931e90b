"""Benchmark: submit -> routed latency of `gongkai serve` over HTTP (issue 14).

Targets: submit -> routed p50 <= 3 s for a single document, and for 500 documents POSTed at
>= 20 documents/s, p95 <= 10 s.

    .venv/bin/python benchmarks/service.py [--singles 10] [-n 500] [--rate 20] [--threads 4]
        [--via serve|api] [--postgres] [--setting GONGKAI_X=VALUE] [--json FILE] [--keep DIR]
        [--dir DIR]

One `gongkai serve` is started on a fresh GONGKAI_HOME (a free port for its Prefect server,
GONGKAI_PREFECT_PORT, and for its web app), with the bootstrap submitter token
GONGKAI_INTAKE_TOKEN; `--via api` POSTs to a separate `gongkai api` instead of serve's own web
app. After the four deployments are served and /health answers:

(a) `--singles` documents one at a time, each when no sweep is running or waiting (no flow
    run of `ingest-received`, serve's sweeper's or a deployment's): each POSTed, then the
    catalog polled (every 0.1 s) until its state is no longer `received`: the submit ->
    routed latency;
(b) a burst of N generated documents (tests/generator.py, as benchmarks/ingest.py builds its
    corpus) POSTed at `--rate` documents/s from `--threads` threads; each submit time and the
    time its state left `received` (polled every 0.25 s) are recorded: achieved submit rate,
    p50/p95/max latency and the time until all are routed.

Baselines in the same run: the bare HTTP round trip of the POST itself (its p50), and
`gongkai extract` of the same N files (the reading floor, measured before the service starts),
its wall time and its CPU time. The burst's CPU time is read from /proc for every process of
the service (serve, api, the Prefect server, the reader workers; a program they waited for,
Tesseract or LibreOffice, counts in its parent) and for this script, and set against the
extract's CPU.
Where the time goes is read afterwards from the catalog's audit rows (received -> extracted ->
routed) and from the Prefect server's flow runs of the sweeps (created -> started).

Every process started is stopped (also on Ctrl-C and on errors); every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from ingest import compile_bytecode, generate  # noqa: E402

TOKEN = "benchmark-intake-token"
START_S = 240.0  # serve's start (Prefect server, deployments, web app)
SINGLE_S = 120.0  # one document routed
BURST_S = 600.0  # the whole burst routed
SWEEP_FLOW = "ingest-received"  # the flow of every sweep (flows/ingest.py)
PG_ADMIN_URL = os.environ.get("GONGKAI_TEST_PG_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")  # fmt: skip


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


class Service:
    """`gongkai serve` (and `gongkai api` with --via api) on one home, as process groups."""

    def __init__(self, work: Path, database_url: str | None, via: str,
                 settings: dict[str, str] | None = None) -> None:  # fmt: skip
        self.work = work
        self.home = work / "home"
        self.prefect_port, self.web_port = free_port(), free_port()
        self.via = via
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PREFECT_", "GONGKAI_"))}  # fmt: skip
        self.env.update({"GONGKAI_HOME": str(self.home), "GONGKAI_INTAKE_TOKEN": TOKEN,
                         "GONGKAI_PREFECT_PORT": str(self.prefect_port)})  # fmt: skip
        self.env.update(settings or {})
        self.database_url = database_url or f"sqlite:///{self.home / 'catalog.sqlite3'}"
        if database_url:
            self.env["GONGKAI_DATABASE_URL"] = database_url
        self.processes: list[subprocess.Popen[bytes]] = []
        self.api_port = self.web_port if via == "serve" else free_port()

    def start(self) -> None:
        self._start("serve", "serve", "--web-port", str(self.web_port))
        if self.via == "api":
            self._wait(self._served, "the deployments")
            self._start("api", "api", "--port", str(self.api_port), "--log-level", "warning")
        self._wait(lambda: self._served() and self._healthy(), "the deployments and /health")

    def _start(self, name: str, *args: str) -> None:
        with (self.work / f"{name}.log").open("ab") as log:
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "gongkai.entrypoints.cli", *args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            ))  # fmt: skip

    def _wait(self, ready: Any, what: str) -> None:
        deadline = time.monotonic() + START_S
        while not ready():
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[3]} exited ({process.returncode}) "
                                       f"waiting for {what}; see {self.work}/*.log")  # fmt: skip
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {START_S:.0f} s waiting for {what}")
            time.sleep(0.5)

    def prefect(self, path: str, body: dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.prefect_port}/api{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def _served(self) -> bool:
        try:
            names = {d["name"] for d in self.prefect("/deployments/filter", {})}
        except OSError:
            return False
        return "gongkai-ingest" in names

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/health", timeout=5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except ProcessLookupError:
                continue
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


class Submitter:
    """POSTs documents to /documents as the bootstrap submitter."""

    def __init__(self, port: int) -> None:
        import httpx

        self.url = f"http://127.0.0.1:{port}/documents"
        self.client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)

    def post(self, path: Path) -> tuple[int, float, float]:
        """Document id, wall time before the POST, seconds the POST took."""
        sent = time.time()
        response = self.client.post(self.url, files={"file": (path.name, path.read_bytes())})
        took = time.time() - sent
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST {path.name}: {response.status_code} {response.text[:300]}")
        return int(response.json()["id"]), sent, took


class Poller:
    """When each document's state left `received`, seen from the catalog every `every` s."""

    def __init__(self, database_url: str, every: float) -> None:
        from gongkai.storage.catalog import Catalog

        self.catalog = Catalog.open(database_url)
        self.every = every
        self.waiting: set[int] = set()
        self.routed_at: dict[int, float] = {}
        self.lock = threading.Lock()

    def add(self, doc_id: int) -> None:
        with self.lock:
            self.waiting.add(doc_id)

    def poll(self) -> None:
        with self.lock:
            ids = sorted(self.waiting)
        if not ids:
            return
        states = self.catalog.states_of(ids)
        now = time.time()
        with self.lock:
            for doc_id, state in states.items():
                if state != "received" and doc_id in self.waiting:
                    self.waiting.discard(doc_id)
                    self.routed_at[doc_id] = now

    def until_routed(self, ids: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while any(i not in self.routed_at for i in ids):
            if time.monotonic() > deadline:
                missing = [i for i in ids if i not in self.routed_at]
                raise RuntimeError(f"{len(missing)} document(s) not routed after {timeout:.0f} "
                                   f"s, e.g. {missing[:5]}")  # fmt: skip
            self.poll()
            time.sleep(self.every)


def idle(service: Service) -> None:
    """Until no sweep is running or waiting: each single document then arrives at an idle
    service (else the previous sweep, still going, would take it without a new one)."""
    deadline = time.monotonic() + SINGLE_S
    while any(r["state"] in ("RUNNING", "PENDING", "SCHEDULED") for r in flow_runs(service)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"a sweep still runs after {SINGLE_S:.0f} s")
        time.sleep(0.5)


def singles(service: Service, files: list[Path], poller: Poller) -> list[dict[str, float]]:
    submitter = Submitter(service.api_port)
    results = []
    for path in files:
        idle(service)
        doc_id, sent, took = submitter.post(path)
        poller.add(doc_id)
        poller.until_routed([doc_id], SINGLE_S)
        results.append({"id": doc_id, "sent": sent, "post_s": took,
                        "latency_s": poller.routed_at[doc_id] - sent})  # fmt: skip
    return results


def burst(service: Service, files: list[Path], poller: Poller, rate: float,
          threads: int) -> tuple[list[dict[str, float]], float, float]:  # fmt: skip
    """Each file POSTed at its planned time (start + i / rate) by one of `threads` threads."""
    plan: queue.Queue[tuple[float, Path]] = queue.Queue()
    start = time.time() + 0.5
    for number, path in enumerate(files):
        plan.put((start + number / rate, path))
    sent: list[dict[str, float]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        submitter = Submitter(service.api_port)
        while True:
            try:
                at, path = plan.get_nowait()
            except queue.Empty:
                return
            time.sleep(max(0.0, at - time.time()))
            try:
                doc_id, when, took = submitter.post(path)
            except Exception as exc:  # recorded, the burst goes on
                with lock:
                    errors.append(f"{path.name}: {exc}")
                continue
            poller.add(doc_id)
            with lock:
                sent.append({"id": doc_id, "sent": when, "post_s": took})

    workers = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            poller.poll()
            stop.wait(poller.every)

    polling = threading.Thread(target=poll, daemon=True)
    polling.start()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=BURST_S)
    submitted_s = max(s["sent"] + s["post_s"] for s in sent) - start
    stop.set()
    polling.join(timeout=30)
    if errors:
        print(f"WARNING: {len(errors)} POST(s) failed, e.g. {errors[:3]}")
    poller.until_routed([s["id"] for s in sent], BURST_S)
    for item in sent:
        item["latency_s"] = poller.routed_at[item["id"]] - item["sent"]
    all_routed_s = max(poller.routed_at[s["id"]] for s in sent) - start
    return sent, submitted_s, all_routed_s


def audit_split(database_url: str, ids: list[int]) -> dict[str, float]:
    """Medians from the audit rows: received -> extracted, extracted -> next transition."""
    from gongkai.storage.catalog import Catalog

    waits, routes = [], []
    with Catalog.open(database_url) as catalog:
        for doc_id in ids:
            at = {}
            for event in catalog.history(doc_id):
                at.setdefault(event.kind, event.at)
                if "extracted" in at and event.kind not in ("received", "extracted"):
                    at.setdefault("routed", event.at)
            if {"received", "extracted", "routed"} <= at.keys():
                waits.append((at["extracted"] - at["received"]).total_seconds())
                routes.append((at["routed"] - at["extracted"]).total_seconds())
    if not waits:
        return {}
    return {"received_to_extracted_p50_s": statistics.median(waits),
            "received_to_extracted_max_s": max(waits),
            "extracted_to_routed_p50_s": statistics.median(routes)}  # fmt: skip


def single_split(database_url: str, one: list[dict[str, float]],
                 runs: list[dict[str, Any]]) -> dict[str, float]:  # fmt: skip
    """Medians over the single documents: POST -> the sweep's run created (the event's way to
    the sweeper, or a trigger), created -> started (a runner's poll and flow-run process, if a
    deployment run), started -> the audit's "extracted" (claim and reading)."""
    from gongkai.storage.catalog import Catalog

    parts: dict[str, list[float]] = {"trigger_s": [], "run_start_s": [], "reading_s": []}
    with Catalog.open(database_url) as catalog:
        for item in one:
            run = next((r for r in runs if r["created"] and r["start"]
                        and r["created"] >= item["sent"] - 0.5), None)  # fmt: skip
            extracted = next((e.at.timestamp() for e in catalog.history(int(item["id"]))
                              if e.kind == "extracted"), None)  # fmt: skip
            if run is None or extracted is None:
                continue
            parts["trigger_s"].append(run["created"] - item["sent"])
            parts["run_start_s"].append(run["start"] - run["created"])
            parts["reading_s"].append(extracted - run["start"])
    return {k: round(statistics.median(v), 2) for k, v in parts.items() if v}


def flow_runs(service: Service) -> list[dict[str, Any]]:
    """The sweeps' flow runs (serve's sweeper's and the ingest deployment's): created, start
    and end (epoch s)."""
    found = service.prefect("/flow_runs/filter", {
        "flows": {"name": {"any_": [SWEEP_FLOW]}}, "sort": "START_TIME_ASC",
    })  # fmt: skip

    def epoch(value: str | None) -> float | None:
        return datetime.fromisoformat(value).timestamp() if value else None

    return [{"name": r["name"], "state": r["state_type"], "created": epoch(r["created"]),
             "start": epoch(r["start_time"]), "end": epoch(r["end_time"])}
            for r in found]  # fmt: skip


def timed_extract(docs: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, its OCR and LibreOffice children included)."""
    started, cpu = time.perf_counter(), _children_cpu()
    result = subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", "extract",
                             str(docs), "--json"], env=env, capture_output=True, text=True,
                            timeout=600)  # fmt: skip
    if result.returncode not in (0, 1):
        raise RuntimeError(f"extract failed ({result.returncode}): {result.stderr[-2000:]}")
    return time.perf_counter() - started, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


TICKS = os.sysconf("SC_CLK_TCK")


def _label(pid: int, comm: str) -> str:
    """Which part of the service a process is, from its command line."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return comm
    line = " ".join(a.decode(errors="replace") for a in args)
    if "prefect" in line and "server" in line:
        return "Prefect server"
    if "gongkai.entrypoints.cli serve" in line:
        return "serve (sweeper, relay)"
    if "gongkai.entrypoints.cli api" in line:
        return "api (intake)"
    if "forkserver" in line or "multiprocessing" in line:
        return "reader workers"
    return comm


def process_cpu(roots: list[int]) -> dict[int, tuple[str, float]]:
    """pid -> (label, CPU seconds, the children it waited for included) of `roots` and all
    their descendants now (from /proc)."""
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        stats[int(entry.name)] = (int(fields[1]), comm, ticks / TICKS)
    wanted = set(roots)
    grew = True
    while grew:
        more = {pid for pid, (ppid, _, _) in stats.items() if ppid in wanted} - wanted
        wanted |= more
        grew = bool(more)
    return {pid: (_label(pid, stats[pid][1]), stats[pid][2]) for pid in wanted if pid in stats}


def cpu_by_part(before: dict[int, tuple[str, float]],
                after: dict[int, tuple[str, float]]) -> dict[str, float]:  # fmt: skip
    """CPU seconds spent between two process_cpu() readings, by part (a process that ended in
    between is counted in its parent, which waited for it)."""
    parts: dict[str, float] = {}
    for pid, (label, seconds) in after.items():
        spent = seconds - before.get(pid, (label, 0.0))[1]
        parts[label] = parts.get(label, 0.0) + spent
    return dict(sorted(parts.items(), key=lambda item: -item[1]))


class PostgresDatabase:
    """A database gongkai_bench_<random> on the test server, dropped afterwards."""

    def __init__(self) -> None:
        import sqlalchemy

        self.admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.name = f"gongkai_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        self.url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


def summary(items: list[dict[str, float]]) -> dict[str, float]:
    latencies = [i["latency_s"] for i in items]
    posts = [i["post_s"] for i in items]
    return {"count": len(items), "p50_s": statistics.median(latencies),
            "p95_s": percentile(latencies, 0.95), "max_s": max(latencies),
            "min_s": min(latencies), "post_p50_s": statistics.median(posts),
            "post_p95_s": percentile(posts, 0.95)}  # fmt: skip


def report(result: dict[str, Any]) -> None:
    one, many = result["singles"], result["burst"]
    print(f"\nconditions: {result['conditions']}")
    print(f"{'':34}{'p50':>8}{'p95':>8}{'max':>8}   target")
    print(f"{'single document, submit -> routed':34}{one['p50_s']:8.2f}{one['p95_s']:8.2f}"
          f"{one['max_s']:8.2f}   p50 <= 3 s ({one['count']} documents)")
    print(f"{'burst, submit -> routed':34}{many['p50_s']:8.2f}{many['p95_s']:8.2f}"
          f"{many['max_s']:8.2f}   p95 <= 10 s ({many['count']} documents)")
    print(f"{'baseline: the POST round trip':34}{many['post_p50_s']:8.2f}{many['post_p95_s']:8.2f}"
          f"{'':8}   (burst; singles p50 {one['post_p50_s']:.3f} s)")
    print(f"burst: submitted at {result['achieved_rate']:.1f} documents/s (target >= 20/s, "
          f"asked {result['conditions']['rate']}), all routed {result['all_routed_s']:.1f} s "
          f"after the first POST = {result['burst_rate']:.1f} documents/s")  # fmt: skip
    print(f"baseline: gongkai extract of the same {many['count']} files "
          f"{result['extract_s']:.1f} s = {many['count'] / result['extract_s']:.1f} documents/s;"
          f" all routed / extract = {result['all_routed_s'] / result['extract_s']:.2f} x")
    total = sum(result["burst_cpu_s"].values())
    print(f"CPU of the burst (from the first POST until the sweeps were idle), by part, against "
          f"the CPU of `gongkai extract` of the same files ({result['extract_cpu_s']:.1f} s): "
          f"total {total:.1f} s = {total / result['extract_cpu_s']:.2f} x")
    for part, seconds in result["burst_cpu_s"].items():
        print(f"  {part:34}{seconds:8.1f} s  {seconds / result['extract_cpu_s']:6.2f} x")
    print(f"audit (burst): {result['audit_burst']}")
    print(f"audit (singles): {result['audit_singles']}")
    print(f"singles, medians (trigger: POST -> run created; run_start: created -> started; "
          f"reading: started -> extracted): {result['single_split']}")
    print("sweeps, flow runs (s after the burst's first POST: created, started, ended):")
    origin = result["burst_start"]
    for run in result["flow_runs"]:
        times = [f"{t - origin:7.1f}" if t else "      -" for t in
                 (run["created"], run["start"], run["end"])]  # fmt: skip
        print(f"  {run['name'][:40]:40} {run['state']:10} {' '.join(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--singles", type=int, default=10)
    parser.add_argument("-n", "--documents", type=int, default=500)
    parser.add_argument("--rate", type=float, default=20.0, help="POSTs per second (burst)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--via", choices=("serve", "api"), default="api",
                        help="POST to serve's own web app, or to a separate `gongkai api`")
    parser.add_argument("--postgres", action="store_true",
                        help="the catalog on a new PostgreSQL database (dropped afterwards)")
    parser.add_argument("--setting", action="append", default=[], metavar="GONGKAI_X=VALUE",
                        help="a setting for the service's processes (repeatable), e.g. "
                             "GONGKAI_WORKERS=3")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--keep", type=Path, help="keep documents, home and logs here")
    parser.add_argument("--dir", type=Path, default=Path.cwd(),
                        help="where the work folder is made (default: the current folder)")
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="gongkai-service-", dir=options.dir))
    work.mkdir(parents=True, exist_ok=True)
    docs, extra = work / "docs", work / "singles"
    if not docs.exists():  # one corpus, split: a resubmitted file would be no new document
        # Asked for more than needed: without LibreOffice a few categories drop out.
        generate(docs, options.documents + 2 * options.singles + 10)
        extra.mkdir()
        files = sorted(docs.iterdir())
        for path in files[options.documents : options.documents + options.singles]:
            path.rename(extra / path.name)
        for path in files[options.documents + options.singles :]:
            path.unlink()
    burst_files = sorted(docs.iterdir())
    single_files = sorted(extra.iterdir())
    print(f"bytecode: {compile_bytecode()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    extract_s, extract_cpu_s = timed_extract(docs, {**env,
                                                    "GONGKAI_HOME": str(work / "extract-home")})
    print(f"gongkai extract of {len(burst_files)} files: {extract_s:.1f} s "
          f"(CPU {extract_cpu_s:.1f} s)")

    database = PostgresDatabase() if options.postgres else None
    settings = dict(item.split("=", 1) for item in options.setting)
    service = Service(work, database.url if database else None, options.via, settings)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        started = time.perf_counter()
        service.start()
        print(f"serve ready in {time.perf_counter() - started:.1f} s "
              f"(Prefect on port {service.prefect_port}, POST to port {service.api_port})")
        poller = Poller(service.database_url, every=0.1)
        one = singles(service, single_files, poller)
        print(f"singles: {[round(s['latency_s'], 2) for s in one]}")
        poller.every = 0.25
        idle(service)  # the burst's first document starts a sweep, as the singles did
        load_before = os.getloadavg()
        roots = [process.pid for process in service.processes]
        cpu_before, own_before = process_cpu(roots), resource.getrusage(resource.RUSAGE_SELF)
        many, submitted_s, all_routed_s = burst(service, burst_files, poller, options.rate,
                                                options.threads)  # fmt: skip
        burst_start = min(s["sent"] for s in many)
        try:  # the sweep's tail (publishing, the public store) ends before serve is stopped
            idle(service)
        except RuntimeError as exc:
            print(f"WARNING: {exc}")
        cpu = cpu_by_part(cpu_before, process_cpu(roots))
        own = resource.getrusage(resource.RUSAGE_SELF)
        cpu["this benchmark (POSTs, polling)"] = (own.ru_utime + own.ru_stime
                                                  - own_before.ru_utime - own_before.ru_stime)
        result = {
            "conditions": {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "catalog": "postgresql" if database else "sqlite", "store": "local",
                "via": options.via, "rate": options.rate, "threads": options.threads,
                "settings": settings,
                "cores": os.cpu_count(), "load_before_burst": [round(x, 2) for x in load_before],
                "load_after_burst": [round(x, 2) for x in os.getloadavg()],
            },
            "extract_s": extract_s, "extract_cpu_s": extract_cpu_s, "burst_cpu_s": cpu,
            "singles": summary(one), "burst": summary(many),
            "achieved_rate": len(many) / submitted_s, "all_routed_s": all_routed_s,
            "burst_rate": len(many) / all_routed_s, "burst_start": burst_start,
            "audit_singles": audit_split(service.database_url, [s["id"] for s in one]),
            "audit_burst": audit_split(service.database_url, [s["id"] for s in many]),
            "flow_runs": flow_runs(service),
        }  # fmt: skip
        result["single_split"] = single_split(service.database_url, one, result["flow_runs"])
        poller.catalog.close()
    finally:
        service.stop()
        signal.signal(signal.SIGTERM, previous)
        if database is not None:
            database.drop()
    report(result)
    if options.json:
        options.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
