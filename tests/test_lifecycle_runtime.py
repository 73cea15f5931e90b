"""The local Prefect runtime's settings for one-shot runs (flows/runtime.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongkai.config import load_settings
from gongkai.flows import runtime


@pytest.mark.parametrize(
    ("purpose", "heartbeats"), [("batch", False), ("service", True), (None, True)]
)
def test_one_shot_runs_send_heartbeats_only_where_a_server_outlives_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, purpose: str | None, heartbeats: bool
) -> None:
    from prefect.settings import get_current_settings

    monkeypatch.setenv("GONGKAI_HOME", str(tmp_path))
    server = (runtime.LocalPrefectServer(load_settings(), purpose=purpose)  # type: ignore[arg-type]
              if purpose else None)  # fmt: skip
    mode = runtime.PrefectMode(local=server is not None, api_url=None, prefect_home=None,
                               server=server)  # fmt: skip
    before = get_current_settings().flows.heartbeat_frequency
    assert before is not None  # Prefect's default: heartbeats on
    with runtime.one_shot_runs(mode):
        inside = get_current_settings().flows.heartbeat_frequency
    assert (inside is not None) is heartbeats
    assert get_current_settings().flows.heartbeat_frequency == before


def test_a_new_home_is_told_by_its_missing_sqlite_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongkai.entrypoints.cli_lifecycle import _catalog_is_new
    from gongkai.storage.catalog import Catalog

    monkeypatch.setenv("GONGKAI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GONGKAI_DATABASE_URL", raising=False)
    settings = load_settings()
    assert _catalog_is_new(settings)  # ingest starts Prefect's server and workers at once
    (tmp_path / "home").mkdir()
    Catalog.open(settings.database_url).close()
    assert not _catalog_is_new(settings)  # a known home: they wait for a new document
    monkeypatch.setenv("GONGKAI_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")
    assert not _catalog_is_new(load_settings())  # a server database is not guessed at
