"""The documented work-pool setup (deployments/README.md), driven through real processes, for
tests/test_scaleout_workers.py and benchmarks/scaleout.py: `pip wheel` + `pip install` of
gongkai, `prefect work-pool create`, `prefect deploy` of the packaged prefect.yaml, `prefect
worker start` per worker (optionally pinned to a CPU with `taskset`), `gongkai submit` for the
burst. Plain functions, no pytest: the benchmark uses them too."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import gongkai.deployments

POOL = "gongkai"  # deployments/prefect.yaml
REPO = Path(gongkai.deployments.__file__).resolve().parents[1]
BIN = str(Path(sys.executable).parent)  # gongkai and prefect of this environment


def install_wheel(folder: Path) -> Path:
    """gongkai as the README's machines get it: `pip wheel` of the repository, installed
    with `pip install --target` into `folder`/site (its dependencies are this environment's).
    Put on PYTHONPATH, it is imported before the editable checkout; the site folder."""
    wheels, site = folder / "wheels", folder / "site"
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True,
                   capture_output=True, timeout=600, cwd=folder)  # fmt: skip
    (wheel,) = wheels.glob("gongkai-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600, cwd=folder)  # fmt: skip
    return site


def prefect_yaml(site: Path | None) -> Path:
    """The prefect.yaml shipped in the package (the installed one, with `site`)."""
    root = site / "gongkai" if site else REPO
    return root / "deployments" / "prefect.yaml"


def pool_env(*, api_url: str, prefect_home: Path, gongkai_home: Path, database_url: str,
             s3_endpoint: str | None, label: str, site: Path | None = None,
             **settings: str) -> dict[str, str]:  # fmt: skip
    """The environment every command of the setup runs with: the production settings
    (PostgreSQL catalog, S3; without `s3_endpoint` the local store under `gongkai_home`), the
    Prefect API, and `settings` (GONGKAI_SWEEP_SIBLINGS, ...); with `site`
    (install_wheel), gongkai is imported from there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env.update({
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",  # a sibling run is picked up about at once
        "GONGKAI_HOME": str(gongkai_home),
        "GONGKAI_DATABASE_URL": database_url,
        **settings,
    })  # fmt: skip
    if site is not None:
        env["PYTHONPATH"] = str(site)
    if s3_endpoint:
        env.update({
            "GONGKAI_S3_ENDPOINT": s3_endpoint,
            "GONGKAI_S3_ACCESS_KEY": "test",
            "GONGKAI_S3_SECRET_KEY": "test",
            "GONGKAI_S3_SECURE": "false",
            "GONGKAI_S3_REGION": "us-east-1",
            "GONGKAI_S3_ARCHIVE_BUCKET": f"gk-archive-{label}",
            "GONGKAI_S3_PUBLIC_BUCKET": f"gk-public-{label}",
        })  # fmt: skip
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n"
                           f"{done.stderr}")  # fmt: skip
    return done.stdout


def catalog_queue(env: dict[str, str], cwd: Path) -> str:
    """The catalog's id (`gongkai db id`): the work queue its deployments use."""
    return run(["gongkai", "db", "id"], env, cwd).strip()


def deploy(env: dict[str, str], cwd: Path) -> str:
    """`prefect work-pool create` (if missing) and `prefect deploy --all` of the packaged
    prefect.yaml (the installed one where env has PYTHONPATH), from a folder that holds no
    gongkai code; the catalog's work queue."""
    run(["gongkai", "db", "upgrade"], env, cwd)
    pools = run(["prefect", "work-pool", "ls"], env, cwd)
    if POOL not in pools.split():
        run(["prefect", "work-pool", "create", POOL, "--type", "process"], env, cwd)
    site = Path(env["PYTHONPATH"]) if env.get("PYTHONPATH") else None
    run(["prefect", "--no-prompt", "deploy", "--all", "--prefect-file",
         str(prefect_yaml(site))], env, cwd)  # fmt: skip
    return catalog_queue(env, cwd)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_worker(name: str, queue: str, env: dict[str, str], cwd: Path, *,
                 cpu: int | None = None, limit: int = 1) -> Worker:  # fmt: skip
    """`prefect worker start --pool gongkai --work-queue <catalog> --limit 1`, in its own
    process group; `cpu`: pinned (with the flow runs it starts) to that CPU by taskset."""
    log = cwd / f"worker-{name}.log"
    pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*pin, "prefect", "worker", "start", "--pool", POOL, "--work-queue", queue,
             "--limit", str(limit), "--name", name, "--type", "process"],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    return Worker(name, process, log)


def start_relay(env: dict[str, str], cwd: Path, name: str = "relay") -> Worker:
    """`gongkai relay --follow --from beginning`: workers write audit rows only, and the relay
    sends them to Prefect as the events the ingest trigger hears (deployments/README.md). From
    the beginning: the catalog is new, and its first rows may be written before the relay's
    first pass. Stopped like a worker (stop_worker)."""
    log = cwd / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["gongkai", "relay", "--follow", "--from", "beginning"], env=env, cwd=cwd,
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    return Worker(name, process, log)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc), children first found first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def kill_machine(worker: Worker) -> None:
    """SIGKILL the worker and every process it started (its flow runs run in sessions of
    their own): the machine is lost."""
    _signal([worker.process.pid, *descendants(worker.process.pid)], signal.SIGKILL)
    worker.process.wait(timeout=30)


def freeze_machine(worker: Worker) -> None:
    """SIGSTOP the worker and every process it started: a machine that hangs, holding what
    it holds (its claims, its connections), until it is killed (kill_machine)."""
    _signal([worker.process.pid, *descendants(worker.process.pid)], signal.SIGSTOP)


def thaw_machine(worker: Worker) -> None:
    """SIGCONT what freeze_machine stopped."""
    _signal([worker.process.pid, *descendants(worker.process.pid)], signal.SIGCONT)


def stop_worker(worker: Worker, grace_s: float = 20) -> None:
    """SIGTERM the worker's process group and its flow runs; SIGKILL what lingers."""
    if worker.process.poll() is not None:
        return
    below = descendants(worker.process.pid)
    _signal([worker.process.pid], signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.process.wait(timeout=grace_s)
    _signal([worker.process.pid, *below], signal.SIGKILL)
    worker.process.wait(timeout=10)


def submit(files: list[Path], env: dict[str, str], cwd: Path) -> list[int]:
    """`gongkai submit --json FILE...` (the documented intake): the new documents' ids."""
    import json

    out = run(["gongkai", "submit", "--json", *map(str, files)], env, cwd, timeout=900)
    return [json.loads(line)["id"] for line in out.splitlines() if line.startswith("{")]
