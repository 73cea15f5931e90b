"""The object store out: moto's S3 server in a process of its own, restarted empty (it lost
everything), paused (SIGSTOP) for a while and resumed, or paused for longer than gongkai
retries. The real `gongkai` command each time."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from faults import (
    CatalogProbe,
    assert_told,
    assert_whole,
    gongkai_env,
    moto_process,
    run,
    start,
    wait_for,
    write_documents,
)

pytestmark = pytest.mark.slow


def test_originals_the_store_lost_are_stored_again_by_a_rerun(tmp_path: Path) -> None:
    documents = write_documents(tmp_path / "in", 12)
    with moto_process() as moto:
        env = gongkai_env(tmp_path / "home", **moto.settings_env())
        submitted = run(env, "submit", *map(str, documents))
        assert submitted.returncode == 0, submitted.stderr
        moto.stop()
        moto.start()  # the same endpoint, empty: every original is gone
        result = run(env, "ingest", str(tmp_path / "in"), "--json")
        assert result.returncode == 0, result.stderr
        assert_whole(env, len(documents))
        probe = CatalogProbe(env)
        try:
            assert probe.events("original_restored") == len(documents)
            assert probe.events("processing_failed") == 0
        finally:
            probe.close()


def test_a_store_paused_while_publishing_is_waited_for(tmp_path: Path) -> None:
    documents = write_documents(tmp_path / "in", 24)
    with moto_process() as moto:
        env = gongkai_env(tmp_path / "home", **moto.settings_env(), GONGKAI_S3_TIMEOUT="1")
        probe = CatalogProbe(env)
        ingest = start(env, "ingest", str(tmp_path / "in"))
        try:
            wait_for(lambda: probe.in_state("published") > 0 or ingest.poll() is not None)
            moto.pause()  # hangs: requests get no answer until it resumes
            time.sleep(3)
            moto.resume()
            _out, err = ingest.communicate(timeout=300)
        finally:
            probe.close()
        assert ingest.returncode == 0, err
        assert "Traceback" not in err
        assert_whole(env, len(documents))


def test_a_store_out_for_longer_than_the_retries(tmp_path: Path) -> None:
    """Paused as publication begins and left paused: the ingest ends with the summary of what
    was done and one line naming the store; resumed, the same command finishes the work."""
    documents = write_documents(tmp_path / "in", 24)
    with moto_process() as moto:
        env = gongkai_env(tmp_path / "home", **moto.settings_env(), GONGKAI_S3_TIMEOUT="1")
        probe = CatalogProbe(env)
        # One worker: the documents are recorded in one batch, so the first one `to_publish`
        # means that processing is done and publication is next.
        ingest = start(env, "ingest", str(tmp_path / "in"), "--workers", "1")
        try:
            wait_for(lambda: probe.in_state("to_publish") > 0 or ingest.poll() is not None,
                     step=0.005)  # fmt: skip
            assert ingest.poll() is None, "the ingest ended before publication began"
            moto.pause()
            out, err = ingest.communicate(timeout=300)
        finally:
            moto.resume()
            probe.close()
        ended = subprocess.CompletedProcess(ingest.args, ingest.returncode, out, err)
        assert_told(ended, "无法访问对象存储", moto.endpoint, "再次运行同一命令")
        assert "按状态" in out and "合计" in out  # what was done, before what to do
        rerun = run(env, "ingest", str(tmp_path / "in"))
        assert rerun.returncode == 0, rerun.stderr
        assert_whole(env, len(documents))
