"""Benchmark: `gongkai ingest` of N generated documents on a fresh GONGKAI_HOME against
`gongkai extract` of the same files, both as subprocesses, in the same run (wall time).

Targets (issue 4): ingest <= 1.5 x extract, and >= 100 documents/s on a 2-core machine.

    .venv/bin/python benchmarks/ingest.py [-n 1000] [--rounds 3] [--keep DIR] [--dir DIR]

Each round runs `gongkai extract`, `gongkai ingest` on a fresh home and `gongkai extract` again,
back to back, and compares the ingest with the mean of the two extracts around it: on a shared
host whose speed drifts from minute to minute (one extract here took 12.8 s and the next 19.1
s), both sides of every ratio are measured under the same load. The median round is reported
with the spread, in wall time and in CPU seconds. Every round has a home of its own (home-1,
home-2 ...), and the homes are deleted only after the last round: on this VM's ext4 (mounted
with `discard`), deleting the ~11,000 files a round made durable and creating as many again
under the same path made the next round's file creation cost seconds of kernel CPU (a 8,000-file
tree rewritten in place: 0.3 s of system time the first time, 2.8 s the third, 5.4 s the fourth;
under a new path 0.3-0.5 s), a cost of the benchmark's own cleanup, not of an ingest into a new
home. The slowness follows the part of the disk rather than the path: a folder whose neighbours
were deleted recently (pytest's temporary folders under /tmp, an earlier run's homes) is slow
too. So the work folder is made in the current folder (`--dir`), where `gongkai` keeps its home
by default, and a file-system probe before the rounds shows how fast files are created there.

A new home's Prefect database is migrated by its server only where no migrated template is
kept (flows/prefect_database.py): the run has a template folder of its own, empty at first, so
round 1 migrates as a first run on a new machine does and later rounds start from its copy
(`--prefect-template DIR` to use another). Each round prints which, and where the ingest's time
went (intake, the server's start, reading, the end) from what the home recorded.

The machine's own parallel capacity is measured too (the same files read by
two `gongkai extract` processes at once, a half each, against one process reading all): on a
shared 2-vCPU machine it is well under 2, and it bounds what any parallel ingest can gain.

Documents come from tests/generator.py (realistic, with truth) when it is there, otherwise from
tests/lifecycle_docs.py; a mix of every disclosure attribute and a few security markings.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def generate(folder: Path, count: int) -> int:
    """Helper B's realistic corpus (docx from python-docx, PDFs from reportlab, image-only
    PDFs; LibreOffice left out to keep generation quick), scaled to `count`."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import generator
    except ImportError:
        generator = None
    if generator is not None:
        # The plan scales with `count`; without LibreOffice a few categories drop out, so
        # ask for more until there are enough, then keep `count` of them.
        asked = count
        docs = generator.generate(count=asked, libreoffice=False)
        while len(docs) < count:
            asked = asked * count // max(1, len(docs)) + 1
            docs = generator.generate(count=asked, libreoffice=False)
        docs = docs[:count]
        generator.write_documents(docs, folder, truth_files=False)
        for stray in folder.glob("*.json"):  # the generator's index of what it wrote
            stray.unlink()
        return len(docs)
    from lifecycle_docs import make_docx

    cycle = ["active"] * 6 + ["on_request", "withheld", "partial", None]
    for serial in range(1, count + 1):
        disclosure = cycle[serial % len(cycle)]
        security = "秘密" if serial % 97 == 0 else None
        data, truth = make_docx(serial, disclosure=disclosure, security=security,
                                year=2019 + serial % 6)  # fmt: skip
        (folder / truth.filename).write_bytes(data)
    return count


def run(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", *args],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(args[:1])} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return elapsed, result


def children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its waited-for
    descendants: the difference around a command is the command's whole CPU."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_extract(docs: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of `gongkai extract` of the documents."""
    cpu = children_cpu()
    wall, _ = run(["extract", str(docs), "--json"], env)
    return wall, children_cpu() - cpu


def compile_bytecode(roots: tuple[Path, ...] = (ROOT,)) -> str:
    """Where PYTHONDONTWRITEBYTECODE is set (this workplace's machines set it), Python never
    keeps the bytecode of gongkai's own modules (installed editable, from the source tree):
    every command compiles them again, about 0.8 s of CPU for all of them on this machine,
    and ingest imports four times more of them than extract does. An installed package has
    its bytecode from its first run on, so it is compiled here once, before the rounds."""
    if not sys.flags.dont_write_bytecode:
        return "written by Python as usual"
    import compileall

    skip = re.compile(r"[/\\](\.venv|\.git|tests|benchmarks)([/\\]|$)")
    for root in roots:
        compileall.compile_dir(root, quiet=1, rx=skip)
    warm_import_caches()
    return ("PYTHONDONTWRITEBYTECODE is set: gongkai's modules were compiled, and the Prefect "
            "server's imports run once with bytecode writing on, before the rounds")


def warm_import_caches() -> None:
    """Import what the Prefect server imports once, in a process that may write bytecode.
    pip compiles a package's modules when it installs them, but some bytecode is only written
    at the first import: py-key-value (which Prefect's server imports through docket) has
    beartype rewrite its modules as they are imported and caches the result beside them. With
    PYTHONDONTWRITEBYTECODE set that cache is never written, and every server start rewrites
    and compiles those modules again (~0.3-0.5 s of CPU); an installed system has it after its
    first run."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import prefect.server.api.server"], env=env,
                   capture_output=True, check=False)  # fmt: skip


def file_system_probe(work: Path, folders: int = 1000) -> tuple[float, float]:
    """Wall and kernel CPU seconds to write `folders` folders of four small files each, made
    durable with syncfs every 40 folders, as an archive's packages are: how fast this file
    system creates files here, now. On this VM's ext4 the same probe takes 0.3-0.5 s on a
    quiet part of the disk and 1-3 s where many durable files were deleted recently (pytest's
    temporary folders, earlier benchmark runs): a slow reading explains a slow ingest."""
    probe = work / "fs-probe"  # left in place: deleting it now would slow the rounds down
    probe.mkdir(parents=True)
    syncfs = getattr(ctypes.CDLL(None), "syncfs", None) if sys.platform == "linux" else None
    started, times = time.perf_counter(), os.times()
    for n in range(folders):
        folder = probe / f"{n % 10}" / f"{n}-文号〔2020〕{n}号"
        folder.mkdir(parents=True)
        for name in ("original.docx", "text.txt", "metadata.json", "manifest.json"):
            (folder / name).write_bytes(b"x" * (20_000 if name == "original.docx" else 500))
        if syncfs is not None and n % 40 == 39:
            fd = os.open(probe, os.O_RDONLY)
            syncfs(fd)
            os.close(fd)
    return time.perf_counter() - started, os.times().system - times.system


def parallel_capacity(docs: Path, work: Path, env: dict[str, str]) -> float:
    """How many times faster two extract processes (a half of the files each) finish than one
    process reading them all: the machine's usable parallelism for this kind of work."""
    files = sorted(docs.iterdir())
    halves = [work / "half-1", work / "half-2"]
    for half, part in zip(halves, (files[: len(files) // 2], files[len(files) // 2 :]),
                          strict=True):  # fmt: skip
        shutil.rmtree(half, ignore_errors=True)
        half.mkdir()
        for path in part:
            (half / path.name).symlink_to(path)
    one_s, _ = run(["extract", str(docs), "--json"], env)
    command = [sys.executable, "-m", "gongkai.entrypoints.cli", "extract"]
    started = time.perf_counter()
    both = [subprocess.Popen([*command, str(half), "--json"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env) for half in halves]  # fmt: skip
    for process in both:
        process.wait()
    two_s = time.perf_counter() - started
    for half in halves:
        shutil.rmtree(half, ignore_errors=True)
    return one_s / two_s


class CpuSampler:
    """CPU seconds of a process and its descendants, by role (Linux /proc; elsewhere
    nothing): the ingest's main process, its worker processes and its Prefect server. Each
    process's last reading is kept, so a process that ended still counts."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, root_pid: int) -> None:
        self.root_pid = root_pid
        self.seen: dict[tuple[int, int], tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _stat(pid: int) -> tuple[int, int, float] | None:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = raw[raw.rfind(")") + 2 :].split()
        return int(fields[1]), int(fields[19]), (int(fields[11]) + int(fields[12]))

    def _role(self, pid: int) -> str:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return "other"
        if pid == self.root_pid:
            return "main"
        if "prefect_server" in command or "prefect server start" in command:
            return "Prefect server"
        if "multiprocessing" in command:
            return "workers"
        return "other"

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        readings: dict[int, tuple[int, float]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (stat := self._stat(int(entry))) is not None:
                parents[int(entry)] = stat[0]
                readings[int(entry)] = (stat[1], stat[2] / self.TICK)
        for pid, (started, cpu) in readings.items():
            ancestor, hops = pid, 0
            while ancestor not in (self.root_pid, 0, 1) and hops < 20:
                ancestor, hops = parents.get(ancestor, 0), hops + 1
            if ancestor == self.root_pid:
                role = self.seen.get((pid, started), (self._role(pid), 0.0))[0]
                self.seen[(pid, started)] = (role, cpu)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.2)

    def __enter__(self) -> CpuSampler:
        if Path("/proc/self/stat").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def by_role(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for role, cpu in self.seen.values():
            totals[role] = totals.get(role, 0.0) + cpu
        return {role: round(cpu, 1) for role, cpu in sorted(totals.items())}


def sampled_ingest(docs: Path, env: dict[str, str]) -> tuple[float, int, str, str,
                                                             dict[str, float]]:  # fmt: skip
    """`gongkai ingest --json` of the documents: wall seconds, exit status, stdout, stderr and
    CPU seconds by process (the command, its workers, its Prefect server). Sampled, not from
    rusage: the fork server the workers come from is not waited for by the ingest process, so
    its CPU and theirs never reach the ingest's children's rusage."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "ingest", str(docs), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    with CpuSampler(process.pid) as sampler:
        stdout, stderr = process.communicate()
    return time.perf_counter() - started, process.returncode, stdout, stderr, sampler.by_role()


def _utc(text: str | None) -> float | None:
    from datetime import UTC, datetime

    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def phases(home: Path, started_at: float, ended_at: float) -> dict[str, float]:
    """Where the ingest's wall time went, in seconds, from what the home recorded: the
    catalog's audit rows (intake, the first and last document read) and the Prefect
    database's flow runs (the sweep's start and end). `started_at`/`ended_at`: the command's
    process start and end (epoch seconds)."""
    import sqlite3

    with sqlite3.connect(home / "catalog.sqlite3") as db:
        received = db.execute("SELECT min(at), max(at) FROM events WHERE kind = 'received'"
                              ).fetchone()  # fmt: skip
        read = db.execute("SELECT min(at), max(at) FROM events WHERE kind = 'extracted'"
                          ).fetchone()  # fmt: skip
    with sqlite3.connect(home / "prefect" / "prefect.db") as db:
        sweep = db.execute("SELECT min(start_time), max(end_time) FROM flow_run").fetchone()
    marks = {"intake starts": _utc(received[0]), "intake ends": _utc(received[1]),
             "the flow starts": _utc(sweep[0]), "first read": _utc(read[0]),
             "last read": _utc(read[1]), "the flow ends": _utc(sweep[1])}  # fmt: skip
    shown = {name: round(at - started_at, 1) for name, at in marks.items() if at is not None}
    shown["the command ends"] = round(ended_at - started_at, 1)
    return shown


def template_ready(env: dict[str, str]) -> bool:
    """Whether a new home's Prefect database will be a copy of the migrated template
    (flows/prefect_database.py) rather than migrated by the server at its start."""
    template = Path(env["GONGKAI_PREFECT_TEMPLATE_DIR"])
    return any(template.glob("prefect-*.db"))


def one_round(docs: Path, home: Path, env: dict[str, str]) -> dict[str, Any]:
    """`gongkai extract`, `gongkai ingest` on a new home, `gongkai extract` again: the ingest
    is compared with the mean of the two extracts around it, so that a change of the machine's
    speed during the round (other tenants of a shared host) weighs on both sides."""
    if home.exists():
        sys.exit(f"{home} exists: every round needs a new home (see the module docstring)")
    env = {**env, "GONGKAI_HOME": str(home)}
    before_s, before_cpu = timed_extract(docs, env)
    seeded = template_ready(env)
    started_at = time.time()
    ingest_s, returncode, stdout, stderr, cpu = sampled_ingest(docs, env)
    timeline = phases(home, started_at, time.time())
    ingest_cpu = sum(cpu.values())
    if returncode not in (0, 1):
        sys.exit(f"ingest failed ({returncode}):\n{stderr[-3000:]}")
    after_s, after_cpu = timed_extract(docs, env)
    extract_s, extract_cpu = (before_s + after_s) / 2, (before_cpu + after_cpu) / 2
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "extract_s": extract_s, "extract_range": (before_s, after_s), "ingest_s": ingest_s,
        "ratio": ingest_s / extract_s, "cpu_ratio": ingest_cpu / extract_cpu,
        "ingest_cpu": ingest_cpu, "extract_cpu": extract_cpu,
        "summary": summary, "load": os.getloadavg()[0], "cpu": cpu,
        "noisy": [w for w in ("Traceback", "database is locked") if w in stderr],
        "timeline": timeline, "seeded": seeded,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep the documents and this run's homes here")
    parser.add_argument("--dir", type=Path, default=Path.cwd(),
                        help="where the work folder is made (default: the current folder, "
                             "where `gongkai` keeps its home by default)")  # fmt: skip
    parser.add_argument("--prefect-template", type=Path,
                        help="where new homes' migrated Prefect database is kept (default: "
                             "a new folder of this run's: round 1 migrates one)")  # fmt: skip
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="gongkai-bench-", dir=options.dir))
    docs = work / "docs"
    # This run's homes, under a folder of their own; an earlier run's (kept by --keep) are
    # deleted at the end, after the measurements.
    earlier = sorted(work.glob("homes-*"))
    homes = work / f"homes-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    started = time.perf_counter()
    count = len(list(docs.iterdir())) if docs.exists() else generate(docs, options.documents)
    print(f"{count} documents generated in {time.perf_counter() - started:.1f} s ({docs})")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    # A template of this run's own (none at first): round 1 migrates a new Prefect database
    # as a first run on a new machine does, the later rounds start from its copy.
    env["GONGKAI_PREFECT_TEMPLATE_DIR"] = str(
        options.prefect_template or homes / "prefect-template")
    print(f"bytecode: {compile_bytecode()}")
    probe_s, probe_kernel_s = file_system_probe(homes)
    print(f"file system at {work}: 4,000 small files in 1,000 folders, made durable in "
          f"batches, took {probe_s:.2f} s ({probe_kernel_s:.2f} s kernel CPU)")  # fmt: skip
    capacity = parallel_capacity(docs, work, {**env, "GONGKAI_HOME": str(homes / "extract")})
    print(f"parallel capacity: two extract processes finish {capacity:.2f} x faster than one")

    rounds = []
    for number in range(1, max(1, options.rounds) + 1):
        result = one_round(docs, homes / f"home-{number}", env)
        rounds.append(result)
        before_s, after_s = result["extract_range"]
        print(f"round {number}: extract {result['extract_s']:6.2f} s (before {before_s:.2f}, "
              f"after {after_s:.2f}), ingest {result['ingest_s']:6.2f} s = "
              f"{result['ratio']:.2f} x, {count / result['ingest_s']:5.1f} documents/s, "
              f"load {result['load']:.2f}")  # fmt: skip
        print(f"         CPU seconds: extract {result['extract_cpu']:.1f}, ingest "
              f"{result['ingest_cpu']:.1f} = {result['cpu_ratio']:.2f} x; by process "
              f"{result['cpu']}")  # fmt: skip
        database = ("a copy of the migrated template" if result["seeded"]
                    else "migrated by the server at its start")  # fmt: skip
        print(f"         Prefect database: {database}; seconds into the ingest: "
              f"{result['timeline']}")  # fmt: skip
    median = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
    ratios = [r["ratio"] for r in rounds]
    speeds = [count / r["ingest_s"] for r in rounds]
    print(f"extract: {median['extract_s']:7.2f} s  {count / median['extract_s']:7.1f} documents/s"
          "  (median round)")
    print(f"ingest:  {median['ingest_s']:7.2f} s  {count / median['ingest_s']:7.1f} documents/s  "
          f"(ratio {median['ratio']:.2f} x extract; targets <= 1.5 x and >= 100/s)")
    print(f"over {len(rounds)} rounds: ratio {min(ratios):.2f}-{max(ratios):.2f} x "
          f"(median {statistics.median(ratios):.2f}), {min(speeds):.0f}-{max(speeds):.0f} "
          "documents/s")  # fmt: skip
    cpu_ratios = [r["cpu_ratio"] for r in rounds]
    print(f"CPU seconds, ingest against extract: {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f} x "
          f"(median {statistics.median(cpu_ratios):.2f}); with the parallel capacity "
          f"{capacity:.2f}, a ratio of {statistics.median(cpu_ratios) / capacity:.2f} x if "
          "both cores were kept busy throughout")  # fmt: skip
    print(f"by state: {median['summary']['by_state']}")
    noisy = sorted({w for r in rounds for w in r["noisy"]})
    if noisy:
        print(f"WARNING: ingest stderr contains {noisy}")
    again_s, again = run(["ingest", str(docs), "--json"],
                         {**env, "GONGKAI_HOME": str(homes / f"home-{len(rounds)}")})  # fmt: skip
    second = json.loads(again.stdout.strip().splitlines()[-1])
    print(f"second ingest (nothing new): {again_s:.2f} s, new={second['new']}, "
          f"processed={second['processed']}")
    for stale in earlier:
        shutil.rmtree(stale, ignore_errors=True)
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
