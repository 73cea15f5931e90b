"""Alembic migrations of the catalog: the only way its schema is made (SQLite and PostgreSQL)."""
