"""Which files in a folder are documents handed over, shared by `gongkai ingest`, `gongkai
extract` and the watched inbox.

A folder an office points gongkai at holds more than documents: Word's and WPS's lock files
(`~$通知.docx`, 162 bytes, written beside every document open in Word), LibreOffice's
`.~lock.通知.docx#`, half-copied downloads, the system's Thumbs.db, version-control folders,
and, when gongkai runs in that folder on its defaults, gongkai's own home (`.gongkai`, with its
catalog and archive) or a public site it exported (marked by config.PUBLIC_SITE_MARKER). None
of them is a document, and taking them in would turn each into an exception for a person to
clear, or archive the archive. They are left out, and said so: the caller reports every one
(nothing is dropped unseen). A file named on the command line is taken as given, whatever its
name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.config import PUBLIC_SITE_MARKER
from gongkai.extractors.text import readable_name

# Names that are somebody's temporary or lock file, not a document handed over ("~" covers
# Word's and WPS's "~$" lock files and Word's "~WRL" temporaries).
TEMPORARY_PREFIXES = ("~",)
TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".error.txt")
SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini", "ehthumbs.db"})

HIDDEN = "hidden (its name starts with a dot)"
TEMPORARY = "a temporary or lock file"
SYSTEM = "a file the operating system keeps"
OWN_FOLDER = "gongkai's own folder (GONGKAI_HOME)"
PUBLIC_SITE = "a public site gongkai exported (gongkai public export)"
NOT_A_FILE = "not a regular file (a broken link, a pipe or a device)"
LINKED_FOLDER = "a link to a folder (not followed: it may lead anywhere, even back here)"
UNREADABLE = "a folder that cannot be read"


def not_a_document(name: str) -> str | None:
    """Why a file or folder of this name is not a document handed over (None: it may be)."""
    if name.startswith("."):
        return HIDDEN
    lowered = name.lower()
    if name.startswith(TEMPORARY_PREFIXES) or lowered.endswith(TEMPORARY_SUFFIXES):
        return TEMPORARY
    if lowered in SYSTEM_NAMES:
        return SYSTEM
    return None


def _not_walked(folder: Path, own: set[Path]) -> str | None:
    """Why a folder found in a walk is not walked into, beyond its name (None: it is)."""
    if folder.is_symlink():
        return LINKED_FOLDER
    if folder.resolve() in own:
        return OWN_FOLDER
    if (folder / PUBLIC_SITE_MARKER).is_file():
        return PUBLIC_SITE
    return None


def shown(path: Path | str) -> str:
    """A path as it is printed and put in JSON: names that were not UTF-8 on disk (GBK from
    Windows) decoded, so that printing them cannot fail (extractors/text.py)."""
    return readable_name(str(path))


@dataclass
class FolderContents:
    files: list[Path] = field(default_factory=list)
    # What was not taken, with the reason: files, and folders not walked into (once each).
    left_out: dict[Path, str] = field(default_factory=dict)

    def unreadable(self, error: OSError) -> None:
        """os.walk's onerror: without it, a folder it cannot list is skipped silently."""
        self.left_out[Path(str(error.filename))] = f"{UNREADABLE} ({error.strerror or error})"


def documents_in(paths: Iterable[Path], *, own_folders: Sequence[Path] = ()) -> FolderContents:
    """The files under `paths` that may be documents, in a stable order (folders walked
    recursively, names sorted), and what was left out. A path that is a file is taken as
    given. `own_folders` (gongkai's home) are left out where they lie inside a folder walked;
    a folder inside them that was named itself is walked (the caller asked for it)."""
    own = {folder.resolve() for folder in own_folders}
    contents = FolderContents()
    for path in paths:
        if not path.is_dir():
            contents.files.append(path)
            continue
        found: list[Path] = []
        for top, folders, names in os.walk(path, onerror=contents.unreadable):
            here = Path(top)
            kept = []
            for name in folders:
                why = _not_walked(here / name, own) or not_a_document(name)
                if why is None:
                    kept.append(name)
                else:
                    contents.left_out[here / name] = why
            folders[:] = kept  # os.walk descends only into these
            for name in names:
                why = not_a_document(name)
                if why is None and not (here / name).is_file():
                    why = NOT_A_FILE
                if why is None:
                    found.append(here / name)
                else:
                    contents.left_out[here / name] = why
        contents.files.extend(sorted(found))  # the order of sorted(path.rglob("*"))
    contents.left_out = dict(sorted(contents.left_out.items()))
    return contents
