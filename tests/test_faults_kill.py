"""kill -9 of a real `gongkai ingest` at each step of the pipeline, then the same command again:
every document ends exactly once, in its state, with its archival package, and when published
with its page and its entries in the public index (tests/faults.py assert_whole).

The moment is found from outside, by watching what the run writes (the catalog's rows and
audit rows, the archive's package manifests), and the process is killed at once: no hook in
gongkai. Also here: two ingests of the same folder at once."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from faults import (
    CatalogProbe,
    assert_whole,
    gongkai_env,
    moto_process,
    run,
    start,
    wait_for,
    write_documents,
)

pytestmark = pytest.mark.slow

COUNT = 30


def _manifests(home: Path) -> int:
    return sum(1 for _ in (home / "objects" / "gongkai-archive").rglob("manifest.json"))


# step -> what shows the run is in the middle of it
STEPS: dict[str, Callable[[CatalogProbe, Path], bool]] = {
    "intake": lambda probe, _home: int(probe.scalar("SELECT count(*) FROM documents") or 0) > 0,
    "reading": lambda probe, _home: probe.events("extracted") > 0,
    "archiving": lambda _probe, home: _manifests(home) > 0,
    "recording": lambda probe, _home: probe.events("state") > 0,
    "publishing": lambda probe, _home: probe.in_state("published") > 0,
}


def kill_at(env: dict[str, str], folder: Path, reached: Callable[[], bool]) -> bool:
    """Start an ingest of `folder`, SIGKILL it the moment `reached()`; False if it ended first."""
    ingest = start(env, "ingest", str(folder))
    wait_for(lambda: reached() or ingest.poll() is not None, timeout=300, step=0.005)
    killed = ingest.poll() is None
    ingest.send_signal(signal.SIGKILL)
    ingest.communicate()
    return killed


@pytest.mark.parametrize("step", list(STEPS))
def test_kill_9_at_each_step_then_a_rerun_finishes_the_work_once(
    tmp_path: Path, step: str
) -> None:
    write_documents(tmp_path / "in", COUNT)
    home = tmp_path / "home"
    env = gongkai_env(home)
    probe = CatalogProbe(env)
    try:
        assert kill_at(env, tmp_path / "in", lambda: STEPS[step](probe, home)), (
            f"the ingest finished before it reached {step}")
    finally:
        probe.close()
    rerun = run(env, "ingest", str(tmp_path / "in"), "--json")
    assert rerun.returncode == 0, rerun.stderr
    assert "Traceback" not in rerun.stderr
    assert_whole(env, COUNT)


def test_kill_9_while_publishing_on_postgresql_and_s3(tmp_path: Path, postgres_url: str) -> None:
    write_documents(tmp_path / "in", COUNT)
    with moto_process() as moto:
        env = gongkai_env(tmp_path / "home", GONGKAI_DATABASE_URL=postgres_url,
                          **moto.settings_env())  # fmt: skip
        probe = CatalogProbe(env)
        try:
            assert kill_at(env, tmp_path / "in", lambda: probe.in_state("published") > 0)
        finally:
            probe.close()
        rerun = run(env, "ingest", str(tmp_path / "in"))
        assert rerun.returncode == 0, rerun.stderr
        assert_whole(env, COUNT)


def test_a_published_document_without_its_page_is_reported_and_repaired(tmp_path: Path) -> None:
    """What a kill between the state change and the page leaves, made by hand: a page and the
    index gone from the public store."""
    write_documents(tmp_path / "in", 8)
    home = tmp_path / "home"
    env = gongkai_env(home)
    assert run(env, "ingest", str(tmp_path / "in")).returncode == 0
    public = home / "objects" / "gongkai-public"
    pages = sorted((public / "documents").glob("*.json"))
    lost = pages[0].stem
    for path in (pages[0], public / "index.json"):
        path.unlink()
        (home / "objects" / ".gongkai-meta" / "gongkai-public" /
         path.relative_to(public)).unlink()  # fmt: skip
    checked = run(env, "verify")
    assert checked.returncode == 1
    assert f"{lost}：已发布，但公开页面缺失" in checked.stderr
    assert "index.json 缺失" in checked.stderr
    assert "公开站点与目录不符" in run(env, "status").stdout
    repaired = run(env, "public", "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "补写 1 件" in repaired.stderr
    assert_whole(env, 8)
    again = run(env, "ingest", str(tmp_path / "in"))  # nothing new, nothing to repair
    assert "公开站点已修复" not in again.stderr


def test_two_ingests_of_the_same_folder_at_once(tmp_path: Path) -> None:
    write_documents(tmp_path / "in", COUNT)
    env = gongkai_env(tmp_path / "home")
    first, second = (start(env, "ingest", str(tmp_path / "in")) for _ in range(2))
    for ingest in (first, second):
        _out, err = ingest.communicate(timeout=600)
        assert ingest.returncode == 0, err
        assert "Traceback" not in err
    assert_whole(env, COUNT)
