"""A full disk, for real: the object store's folder is a small tmpfs that fills during intake
(then during processing), and is given room afterwards. The real `gongkai ingest`; nothing is
lost, and the same command finishes the work once there is room. Needs root (mount)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import assert_told, assert_whole, gongkai_env, run, temporaries, write_documents

pytestmark = pytest.mark.slow

COUNT = 30  # about 1.1 MB of originals


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """home/objects on a tmpfs of its own (resized with `resize`), unmounted afterwards."""
    objects = tmp_path / "home" / "objects"
    objects.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(objects)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield objects
    finally:
        subprocess.run(["umount", "-l", str(objects)], check=False)


def resize(mount: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def test_a_disk_that_fills_during_intake(tmp_path: Path, small_disk: Path) -> None:
    write_documents(tmp_path / "in", COUNT)
    env = gongkai_env(tmp_path / "home")
    full = run(env, "ingest", str(tmp_path / "in"))
    assert_told(full, "磁盘已满", "No space left on device", "再次运行同一命令")
    assert "份文件：新收" in full.stdout  # the summary of what was done before it filled
    resize(small_disk, "64m")
    again = run(env, "ingest", str(tmp_path / "in"))
    assert again.returncode == 0, again.stderr
    assert_whole(env, COUNT)
    assert not temporaries(small_disk)


def test_a_disk_that_fills_while_packages_are_written(tmp_path: Path, small_disk: Path) -> None:
    write_documents(tmp_path / "in", COUNT)
    resize(small_disk, "1600k")  # the originals fit, their packages do not
    env = gongkai_env(tmp_path / "home")
    full = run(env, "ingest", str(tmp_path / "in"))
    assert full.returncode != 0
    assert "Traceback" not in full.stderr
    assert "No space left on device" in full.stderr
    resize(small_disk, "64m")
    again = run(env, "ingest", str(tmp_path / "in"))
    assert again.returncode == 0, again.stderr
    assert_whole(env, COUNT)
