"""Settings are checked before work starts: a value that cannot be used is refused by
load_settings with one line naming the variable, and every command stops on it before it
takes anything in."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gongkai.config import SettingsError, load_settings
from gongkai.entrypoints.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

BAD = [
    ("GONGKAI_REVIEW_MONTHS", "default=0"),
    ("GONGKAI_REVIEW_MONTHS", "default=twelve"),
    ("GONGKAI_REVIEW_MONTHS", "过程性信息"),
    ("GONGKAI_REVIEW_MONTHS", "default=12=3"),
    ("GONGKAI_MAX_FILE_BYTES", "50MB"),
    ("GONGKAI_MAX_FILE_BYTES", "0"),
    ("GONGKAI_ORG_CODE", "QZ-05908"),
    ("GONGKAI_INFO_CLASS", "30 00"),
    ("GONGKAI_STORE", "ftp"),
    ("GONGKAI_S3_SECURE", "maybe"),
    ("GONGKAI_TIMEZONE", "Beijing"),
    ("GONGKAI_DATABASE_URL", "/var/lib/gongkai.db"),
    ("GONGKAI_WORKERS", "two"),
    ("GONGKAI_PREFECT_PORT", "70000"),
    ("GONGKAI_SWEEP_BATCH", "0"),
    ("GONGKAI_CLAIM_LEASE_S", "soon"),
    ("GONGKAI_SWEEP_SIBLINGS", "-1"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_setting_is_refused_naming_the_variable(name: str, value: str) -> None:
    env = {"GONGKAI_HOME": "/tmp/unused", "GONGKAI_S3_ENDPOINT": "localhost:9000", name: value}
    if name != "GONGKAI_S3_SECURE":
        env.pop("GONGKAI_S3_ENDPOINT")
    with pytest.raises(SettingsError) as refused:
        load_settings(env)
    assert refused.value.variable == name
    message = str(refused.value)
    assert message.startswith(f"{name}=") and "\n" not in message


def test_good_settings_load() -> None:
    settings = load_settings({"GONGKAI_HOME": "/tmp/unused",
                              "GONGKAI_REVIEW_MONTHS": "default=6, 过程性信息=2",
                              "GONGKAI_TIMEZONE": "Asia/Urumqi", "GONGKAI_S3_SECURE": "off",
                              "GONGKAI_MAX_FILE_BYTES": "1000"})  # fmt: skip
    assert settings.review_months == {"default": 6, "过程性信息": 2}
    assert settings.timezone == "Asia/Urumqi" and settings.max_file_bytes == 1000
    assert load_settings({"GONGKAI_HOME": "/tmp/unused"}).timezone == "Asia/Shanghai"


def test_ingest_with_a_bad_setting_takes_nothing_in(
    gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_REVIEW_MONTHS", "default=0")
    result = CliRunner().invoke(main, ["ingest", str(SAMPLES)])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "GONGKAI_REVIEW_MONTHS" in lines[0], result.output
    # Nothing was taken in: no catalog, no stored original.
    assert not Path(gongkai_env["GONGKAI_HOME"]).exists()


def test_show_prints_times_in_the_offices_time_zone(
    gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from zoneinfo import ZoneInfo

    from gongkai.flows import service

    with service.Context.open(load_settings()) as ctx:
        data = (SAMPLES / "01-active-red-header.docx").read_bytes()
        record = service.intake(ctx, data, "a.docx", source="test", actor="t").record
    runner = CliRunner()
    for zone in ("Asia/Shanghai", "America/New_York"):
        monkeypatch.setenv("GONGKAI_TIMEZONE", zone)
        shown = runner.invoke(main, ["show", str(record.id)]).output
        local = record.received_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
        assert local in shown, (zone, shown)
        assert record.received_at.isoformat() not in shown  # not the stored UTC
