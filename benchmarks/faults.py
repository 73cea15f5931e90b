"""The Reliability table of the README: faults injected into the real `gongkai` and what they
left, and hostile inputs and whether each was contained.

    .venv/bin/python benchmarks/faults.py [--only NAME]

Runs the fault-injection tests (tests/test_faults_*.py: kill -9 at each step, the object store
restarted empty, paused and out, PostgreSQL unreachable and cut mid-run, two ingests at once,
a real full tmpfs) and the hostile-input tests (tests/test_extract_hostile.py) through pytest,
then prints one row per fault: how often it was injected, how often the documents came
through whole (tests/faults.py assert_whole: each once, in a final state, archived, published
ones with page and index entries, `gongkai verify` clean), documents lost and false
publications (pages of documents the catalog does not say are published), counted by every
whole-check. Needs PostgreSQL at 127.0.0.1:5432 and root for the tmpfs (else those rows say
skipped). A few minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# test (file::function, parameters folded) -> the fault it injects, as the table names it
FAULTS = {
    "test_faults_kill.py::test_kill_9_at_each_step_then_a_rerun_finishes_the_work_once":
        "kill -9 of `gongkai ingest` at intake, reading, archiving, recording, publishing "
        "(SQLite, local store)",
    "test_faults_kill.py::test_kill_9_while_publishing_on_postgresql_and_s3":
        "kill -9 while publishing (PostgreSQL, S3)",
    "test_faults_kill.py::test_a_published_document_without_its_page_is_reported_and_repaired":
        "a published page and the index lost from the public store",
    "test_faults_kill.py::test_two_ingests_of_the_same_folder_at_once":
        "two ingests of the same folder at once",
    "test_faults_leftovers.py::test_kill_9_of_the_main_process_leaves_no_process_behind":
        "kill -9 of the main process alone (no process left running)",
    "test_faults_leftovers.py::test_temporary_files_of_a_killed_writer_are_removed_by_the_next_run":
        "a writer killed mid-write (its temporary files removed by the next run)",
    "test_faults_store.py::test_originals_the_store_lost_are_stored_again_by_a_rerun":
        "the object store restarted empty (originals lost)",
    "test_faults_store.py::test_a_store_paused_while_publishing_is_waited_for":
        "the object store paused (SIGSTOP) 3 s while publishing",
    "test_faults_store.py::test_a_store_out_for_longer_than_the_retries":
        "the object store out for longer than the retries",
    "test_faults_catalog.py::test_an_unreachable_catalog_is_retried_then_named_in_one_line":
        "PostgreSQL unreachable",
    "test_faults_catalog.py::test_a_missing_catalog_database_is_named":
        "PostgreSQL database missing",
    "test_faults_catalog.py::test_connections_cut_mid_run_are_retried_and_nothing_is_lost":
        "PostgreSQL connections cut mid-run (pg_terminate_backend)",
    "test_faults_disk.py::test_a_disk_that_fills_during_intake":
        "the disk full during intake (tmpfs)",
    "test_faults_disk.py::test_a_disk_that_fills_while_packages_are_written":
        "the disk full while packages are written (tmpfs)",
}  # fmt: skip
HOSTILE = "test_extract_hostile.py"


def _key(case: ElementTree.Element) -> str:
    classname = case.get("classname", "").rsplit(".", 1)[-1]
    return f"{classname}.py::{case.get('name', '').split('[')[0]}"


def run_tests(only: str | None) -> tuple[dict[str, list[str]], list[dict[str, int | str]]]:
    """Outcome of each test case by test, and every whole-check's counts."""
    with tempfile.TemporaryDirectory(prefix="gongkai-faults-") as work:
        junit, counts = Path(work) / "junit.xml", Path(work) / "counts.jsonl"
        files = sorted({k.split("::")[0] for k in FAULTS} | {HOSTILE})
        selection = [f"tests/{f}" for f in files if only is None or only in f]
        env = {**os.environ, "GONGKAI_FAULTS_REPORT": str(counts)}
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={junit}", *selection], cwd=ROOT, env=env, check=False)
        outcomes: dict[str, list[str]] = defaultdict(list)
        for case in ElementTree.parse(junit).iter("testcase"):
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped") is not None
            outcomes[_key(case)].append("failed" if failed else "skipped" if skipped else "ok")
        checks = [json.loads(line) for line in counts.read_text().splitlines()] \
            if counts.exists() else []  # fmt: skip
    return outcomes, checks


def table(outcomes: dict[str, list[str]], checks: list[dict[str, int | str]]) -> list[str]:
    by_test: dict[str, list[dict[str, int | str]]] = defaultdict(list)
    for check in checks:
        path, _, name = str(check["test"]).partition("::")
        by_test[f"{Path(path).name}::{name.split('[')[0]}"].append(check)
    lines = ["| fault injected | runs | survived | documents | lost | false publications |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for key, fault in FAULTS.items():
        runs = outcomes.get(key, [])
        if not runs or all(r == "skipped" for r in runs):
            lines.append(f"| {fault} | {'skipped' if runs else 'not run'} | | | | |")
            continue
        found = by_test.get(key, [])
        documents = sum(int(c["handed_over"]) for c in found)
        lost = sum(int(c["lost"]) for c in found)
        false = sum(int(c["false_publications"]) for c in found)
        survived = sum(1 for r in runs if r == "ok")
        lines.append(f"| {fault} | {len(runs)} | {survived} | {documents or '–'} | "
                     f"{lost if found else '–'} | {false if found else '–'} |")  # fmt: skip
    hostile = [r for k, rs in outcomes.items() if k.startswith(HOSTILE) for r in rs]
    if hostile:
        contained = sum(1 for r in hostile if r == "ok")
        lines.append(f"| hostile inputs (zip bombs, XML entities, encrypted, truncated, stuck "
                     f"readers …) | {len(hostile)} | {contained} contained | | | |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only the test files whose name contains this")
    options = parser.parse_args()
    outcomes, checks = run_tests(options.only)
    print("\n".join(table(outcomes, checks)))
    return 0 if all(r != "failed" for rs in outcomes.values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
