"""Benchmark: `gongkai ingest` of N generated documents on a fresh GONGKAI_HOME against
`gongkai extract` of the same files, both as subprocesses, in the same run (wall time).

Targets (issue 4): ingest <= 1.5 x extract, and >= 100 documents/s on a 2-core machine.

    .venv/bin/python benchmarks/ingest.py [-n 1000] [--keep DIR]

Documents come from tests/generator.py (realistic, with truth) when it is there, otherwise from
tests/lifecycle_docs.py; a mix of every disclosure attribute and a few security markings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--documents", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="keep the documents and home here")
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="gongkai-bench-"))
    docs, home = work / "docs", work / "home"
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    count = len(list(docs.iterdir())) if docs.exists() else generate(docs, options.documents)
    print(f"{count} documents generated in {time.perf_counter() - started:.1f} s ({docs})")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env["GONGKAI_HOME"] = str(home)
    # A fresh home's Prefect database is copied from a template made once per Prefect version
    # (flows/prefect_server.py); say whether this run had it or makes it.
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gongkai"
    templates = sorted(cache.glob("prefect-*.db"))
    print(f"Prefect database template: {templates[-1] if templates else 'none yet (made now)'}")
    extract_s, _extracted = run(["extract", str(docs), "--json"], env)
    ingest_s, ingested = run(["ingest", str(docs), "--json"], env)
    summary = json.loads(ingested.stdout.strip().splitlines()[-1])
    noisy = [w for w in ("Traceback", "database is locked") if w in ingested.stderr]

    print(f"extract: {extract_s:7.2f} s  {count / extract_s:7.1f} documents/s")
    print(f"ingest:  {ingest_s:7.2f} s  {count / ingest_s:7.1f} documents/s  "
          f"(ratio {ingest_s / extract_s:.2f} x extract; targets <= 1.5 x and >= 100/s)")
    print(f"ingest stages (s): {summary.get('timings')}")
    print(f"machine load while measuring (1-minute average): {os.getloadavg()[0]:.2f}")
    print(f"by state: {summary['by_state']}")
    if noisy:
        print(f"WARNING: ingest stderr contains {noisy}")
    again_s, again = run(["ingest", str(docs), "--json"], env)
    second = json.loads(again.stdout.strip().splitlines()[-1])
    print(f"second ingest (nothing new): {again_s:.2f} s, new={second['new']}, "
          f"processed={second['processed']}")
    if not options.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
