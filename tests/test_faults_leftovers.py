"""Nothing is left behind: a `gongkai ingest` killed outright (kill -9, what the OOM killer
does) leaves no process running, and the temporary files of writes it was in the middle of
are removed by the next run, while a file a live process is writing stays."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from faults import (
    CatalogProbe,
    assert_whole,
    descendants,
    gongkai_env,
    run,
    running,
    start,
    temporaries,
    wait_for,
    write_documents,
)

pytestmark = pytest.mark.slow


def test_kill_9_of_the_main_process_leaves_no_process_behind(tmp_path: Path) -> None:
    documents = write_documents(tmp_path / "in", 80)
    env = gongkai_env(tmp_path / "home")
    ingest = start(env, "ingest", str(tmp_path / "in"), "--workers", "2")
    probe = CatalogProbe(env)
    try:
        # The workers are reading: the first documents are recorded as read.
        wait_for(lambda: probe.events("extracted") > 0 or ingest.poll() is not None)
        assert ingest.poll() is None, "the ingest ended before it could be killed"
        children = descendants(ingest.pid)
        assert len(children) >= 3, children  # fork server, workers, Prefect's server ...
        ingest.send_signal(signal.SIGKILL)
        ingest.wait()
        wait_for(lambda: not running(children), timeout=20, step=0.2)
    finally:
        probe.close()
        for pid in running(descendants(ingest.pid)):
            os.kill(pid, signal.SIGKILL)
    rerun = run(env, "ingest", str(tmp_path / "in"))
    assert rerun.returncode == 0, rerun.stderr
    assert_whole(env, len(documents))


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from gongkai.storage.local import LocalStore, PutRequest
    store = LocalStore(Path(sys.argv[1]), "gongkai-archive", write_once=True)
    store.put_many([PutRequest(f"big/{n}", bytes(4 << 20)) for n in range(400)])
""")


def test_temporary_files_of_a_killed_writer_are_removed_by_the_next_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    objects = home / "objects"
    # A real writer, killed outright in the middle of a batch: its temporary files stay.
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(objects)])
    try:
        wait_for(lambda: len(temporaries(objects)) >= 4 or writer.poll() is not None)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    left = temporaries(objects)
    assert left, "the writer was killed before it wrote anything"
    # A file a live process is writing (this one's) must survive the cleaning.
    live = objects / "gongkai-archive" / f".~gongkai-{os.getpid()}-0123abcd-1.tmp"
    live.write_bytes(b"being written")
    write_documents(tmp_path / "in", 3)
    result = run(gongkai_env(home), "ingest", str(tmp_path / "in"))
    assert result.returncode == 0, result.stderr
    assert temporaries(objects) == [live]
