"""The local Prefect server's SQLite database: migrated once per Prefect version, not per start.

A Prefect server migrates its database every time it starts (Alembic: 116 revisions for a new
database, about 7 CPU seconds here; a check of the revision for one already at the head, about
0.6). So:

- A database that a start of this Prefect version left at the head is marked so (a small file
  beside it, `prefect.db.migrated`, naming the version), and the next start on that home skips
  the check (PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false, a setting Prefect ships).
- A new home's database starts as a copy of a migrated, empty one: the first server on this
  machine that migrated a new database for this Prefect version keeps a copy of it, taken
  when it was ready and before any flow ran (SQLite's backup of a database with no row but
  Alembic's revision), in the user's cache folder (GONGKAI_PREFECT_TEMPLATE_DIR, default
  $XDG_CACHE_HOME/gongkai or ~/.cache/gongkai), one file per Prefect version.

Nothing of Prefect is imported or copied here: the database is the one Prefect's own migration
made; gongkai only copies that file (sqlite3's backup API, safe on a live database).

    migrate_on_start(home) -> bool          # before the server starts
    seed(home) -> bool                      # a new home's database from the template
    after_ready(home, migrated)             # mark it; keep a template if there is none
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DATABASE = "prefect.db"
MARKER = "prefect.db.migrated"


def prefect_version() -> str:
    try:
        return version("prefect")
    except PackageNotFoundError:  # pragma: no cover - Prefect is a dependency
        return "unknown"


def template_dir() -> Path:
    given = os.environ.get("GONGKAI_PREFECT_TEMPLATE_DIR")
    if given:
        return Path(given).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "gongkai"


def template_path() -> Path:
    return template_dir() / f"prefect-{prefect_version()}.db"


def _stamp() -> str:
    return f"prefect {prefect_version()}\n"


def migrate_on_start(home: Path) -> bool:
    """False if the database under `home` is at this Prefect version's head already."""
    database, marker = home / DATABASE, home / MARKER
    try:
        return not (database.exists() and marker.read_text() == _stamp())
    except OSError:
        return True


def seed(home: Path) -> bool:
    """A home without a database gets a copy of the template, if there is one (True)."""
    database, template = home / DATABASE, template_path()
    if database.exists() or not template.exists():
        return False
    try:
        _copy(template, database)
    except (OSError, sqlite3.Error):
        return False
    (home / MARKER).write_text(_stamp())
    return True


def after_ready(home: Path, migrated: bool) -> None:
    """The server on `home` is ready. `migrated`: it ran Prefect's migration at its start, so
    the database is at the head now (marked), and, if no template exists yet and no flow has
    run, it becomes the template."""
    if not migrated:
        return
    database = home / DATABASE
    with contextlib.suppress(OSError):
        (home / MARKER).write_text(_stamp())
    template = template_path()
    if template.exists() or not database.exists():
        return
    with contextlib.suppress(OSError, sqlite3.Error):
        template.parent.mkdir(parents=True, exist_ok=True)
        _copy(database, template, only_if_empty=True)


def _empty(db: sqlite3.Connection) -> bool:
    """No row in any table but Alembic's revision: nothing has run on this database yet."""
    tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    if "alembic_version" not in tables:
        return False
    for table in tables:
        if table != "alembic_version" and db.execute(
                f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():  # fmt: skip
            return False
    return True


def _copy(source: Path, target: Path, *, only_if_empty: bool = False) -> None:
    """`source` copied to `target` through SQLite's backup (a consistent snapshot even while
    a server writes to it), written beside `target` first and renamed into place."""
    fd, partial = tempfile.mkstemp(prefix=target.name + ".", suffix=".partial",
                                   dir=target.parent)  # fmt: skip
    os.close(fd)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
                contextlib.closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
            if only_if_empty and not _empty(dst):
                raise sqlite3.DatabaseError(f"{source} has rows: not a template")
            # One file at rest (Prefect's server turns WAL on again when it connects).
            dst.execute("PRAGMA journal_mode = DELETE")
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
