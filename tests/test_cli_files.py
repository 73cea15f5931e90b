"""Which files of a folder are taken in (entrypoints/files.py): documents, not lock files,
hidden or system files, gongkai's own home or a site it exported; everything left out is named
with its reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gongkai.config import PUBLIC_SITE_MARKER
from gongkai.entrypoints.files import (
    HIDDEN,
    LINKED_FOLDER,
    NOT_A_FILE,
    OWN_FOLDER,
    PUBLIC_SITE,
    SYSTEM,
    TEMPORARY,
    documents_in,
    not_a_document,
)
from gongkai.entrypoints.watch import is_candidate


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("鸿政〔2020〕53号.docx", None), ("通知.pdf", None), ("readme.txt", None),
        ("~$鸿政〔2020〕53号.docx", TEMPORARY), ("~WRL0001.tmp", TEMPORARY),
        (".~lock.通知.docx#", HIDDEN), (".DS_Store", HIDDEN), ("通知.pdf.crdownload", TEMPORARY),
        ("Thumbs.db", SYSTEM), ("desktop.ini", SYSTEM),
    ],
)  # fmt: skip
def test_names_that_are_not_documents(name: str, why: str | None) -> None:
    assert not_a_document(name) == why
    assert is_candidate(Path(name)) is (why is None)  # the watched inbox, by the same rule


def test_a_folder_walk_takes_documents_and_names_what_it_leaves_out(tmp_path: Path) -> None:
    folder = tmp_path / "公文"
    for relative in ("a.docx", "b/c.pdf", "b/d/e.docx", "readme.txt", "b/~$c.docx",
                     "Thumbs.db", ".git/HEAD", "b/.hidden/x.docx", "home/catalog.sqlite3",
                     "home/objects/originals/ab/abc.docx", "site/index.html",
                     f"site/{PUBLIC_SITE_MARKER}"):  # fmt: skip
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (folder / "gone.pdf").symlink_to(tmp_path / "nowhere.pdf")
    (folder / "b" / "loop").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "b" / "pipe.docx")  # reading it would block

    found = documents_in([folder], own_folders=[folder / "home"])
    # In the order of sorted(folder.rglob("*")), as before there were rules.
    assert [p.relative_to(folder).as_posix() for p in found.files] == [
        "a.docx", "b/c.pdf", "b/d/e.docx", "readme.txt"]  # fmt: skip
    assert {p.relative_to(folder).as_posix(): why for p, why in found.left_out.items()} == {
        ".git": HIDDEN, "Thumbs.db": SYSTEM, "b/.hidden": HIDDEN, "b/~$c.docx": TEMPORARY,
        "b/pipe.docx": NOT_A_FILE, "gone.pdf": NOT_A_FILE, "home": OWN_FOLDER,
        "site": PUBLIC_SITE, "b/loop": LINKED_FOLDER,
    }  # fmt: skip

    # A file named itself is taken as given; a folder inside the home named itself is walked.
    named = documents_in([folder / "b" / "~$c.docx", folder / "home" / "objects"],
                         own_folders=[folder / "home"])  # fmt: skip
    assert named.files == [folder / "b" / "~$c.docx",
                           folder / "home" / "objects" / "originals" / "ab" / "abc.docx"]
    assert named.left_out == {}


def test_a_folder_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tests run as root, whom permissions do not stop: the refusal is made here.
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.docx").write_bytes(b"x")
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    found = documents_in([tmp_path])
    assert found.files == [tmp_path / "ok" / "a.docx"]
    assert found.left_out == {
        tmp_path / "locked": "a folder that cannot be read (Permission denied)"}
