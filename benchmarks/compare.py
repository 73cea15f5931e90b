"""Compare `gongkai ingest` of this checkout with another revision's, run side by side.

    .venv/bin/python benchmarks/compare.py REV [--rounds 4] [-n 1000] [--keep DIR] [--dir DIR]

These machines are shared 2-vCPU VMs whose speed drifts by tens of percent from one minute to
the next: two ingests of the same documents run one after the other differed by 0.82-1.12 x
(4 rounds, same code). A change worth a few percent cannot be seen that way. Here both
versions ingest the same documents at the same moment, each into a new home of its own, so
that whatever the host does weighs on both alike; their ratio per round spread over
0.96-0.99 x where the sequential rounds had 0.82-1.12 x. Both compete for the two cores, so
the wall times are not those of an ingest alone (benchmarks/ingest.py measures that); the CPU
seconds by process (the command, its worker processes, its Prefect server) are what changed.

REV is checked out in a git worktree under the work folder and imported through PYTHONPATH (a
folder holding a `gongkai` link to it, ahead of the editable install); which of the two starts
first alternates from round to round. Documents come from benchmarks/ingest.py's generator.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from ingest import (  # benchmarks/ingest.py, beside this file
    ROOT,
    compile_bytecode,
    generate,
    sampled_ingest,
)

ROLES = ("main", "workers", "Prefect server")


def checkout(revision: str, work: Path) -> Path:
    """REV in a worktree, importable as `gongkai` from the returned PYTHONPATH folder."""
    tree = work / "revision"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(tree),
                    revision], check=True, capture_output=True)  # fmt: skip
    path = work / "pythonpath"
    path.mkdir()
    (path / "gongkai").symlink_to(tree)
    return path


def ingest(docs: Path, env: dict[str, str], into: dict[str, Any]) -> None:
    """One `gongkai ingest --json` with its wall time and CPU seconds by process."""
    into["wall"], into["returncode"], stdout, stderr, into["cpu"] = sampled_ingest(docs, env)
    into["stderr"] = stderr[-2000:]
    lines = stdout.strip().splitlines()
    into["summary"] = json.loads(lines[-1]) if lines else {}


def one_round(docs: Path, homes: Path, envs: dict[str, dict[str, str]], first: str,
              number: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    results: dict[str, dict[str, Any]] = {name: {} for name in envs}
    threads = [
        threading.Thread(target=ingest, args=(
            docs, {**envs[name], "GONGKAI_HOME": str(homes / f"{name}-{number}")},
            results[name]))
        for name in sorted(envs, key=lambda name: name != first)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, result in results.items():
        if result["returncode"] not in (0, 1):
            sys.exit(f"{name}: ingest failed ({result['returncode']}):\n{result['stderr']}")
    return results


def figures(result: dict[str, Any]) -> dict[str, float]:
    cpu = result["cpu"]
    return {"wall": result["wall"], "cpu": sum(cpu.values()),
            **{role: cpu.get(role, 0.0) for role in ROLES}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="the revision to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("-n", "--documents", type=int, default=1000)
    parser.add_argument("--keep", type=Path,
                        help="keep the documents here (and use those already there)")
    parser.add_argument("--dir", type=Path, default=Path.cwd(),
                        help="where the work folder is made (default: the current folder)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gongkai-compare-", dir=options.dir))
    docs = (options.keep or work) / "docs"
    count = len(list(docs.iterdir())) if docs.exists() else generate(docs, options.documents)
    path = checkout(options.revision, work)
    try:
        # Neither side pays for compiling itself (see ingest.compile_bytecode).
        print(f"bytecode: {compile_bytecode((ROOT, path / 'gongkai'))}")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
        envs = {"this": env, options.revision: {**env, "PYTHONPATH": str(path)}}
        print(f"{count} documents; this checkout against {options.revision}, side by side, "
              f"{options.rounds} rounds")  # fmt: skip
        ratios: list[dict[str, float]] = []
        for number in range(options.rounds):
            first = ("this", options.revision)[number % 2]
            results = one_round(docs, work / "homes", envs, first, number)
            ours, theirs = figures(results["this"]), figures(results[options.revision])
            ratio = {k: ours[k] / theirs[k] for k in ours if theirs[k]}
            ratios.append(ratio)
            print(f"round {number + 1}: " + ", ".join(
                f"{k} {ours[k]:.1f}/{theirs[k]:.1f} = {ratio[k]:.3f}" for k in ratio))
            for name, result in results.items():
                if result["summary"].get("by_state") != results["this"]["summary"].get(
                        "by_state"):  # fmt: skip
                    print(f"  WARNING: {name} routed differently: {result['summary']}")
        print("median, this checkout against " + options.revision + ": " + ", ".join(
            f"{k} {statistics.median(r[k] for r in ratios):.3f} x "
            f"({min(r[k] for r in ratios):.3f}-{max(r[k] for r in ratios):.3f})"
            for k in ratios[0]))
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                        str(work / "revision")], capture_output=True)  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)  # the documents stay if they are in --keep


if __name__ == "__main__":
    main()
