"""Alembic migrations of the catalog: the only way its schema is made (SQLite and PostgreSQL)."""

# The newest revision in versions/. Catalog.open compares the database's revision with it by
# one plain query, so a process opening an up-to-date catalog (every worker process, every CLI
# command) does not import Alembic and read the scripts. tests/test_storage_catalog.py keeps it
# equal to Alembic's own head.
HEAD_REVISION = "0015"
