"""The object store out: moto's S3 server in a process of its own, restarted empty (it lost
everything), paused (SIGSTOP) for a while and resumed, or paused for longer than gongkai
retries. The real `gongkai` command each time."""

from __future__ import annotations

import time
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
