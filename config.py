"""Settings from the environment, with embedded defaults that need no set-up.

Embedded default: SQLite catalog and a local-folder object store, both under GONGKAI_HOME
(default ./.gongkai). Production: GONGKAI_DATABASE_URL (PostgreSQL) and GONGKAI_S3_* (MinIO/S3).
Pure: reads a mapping, returns a frozen value. Nothing here imports Prefect or opens anything.
A value that cannot be used is refused here, before any work starts, with SettingsError: one
line naming the variable (every command loads the settings first).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T", int, float)

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# Written into every folder `gongkai public export` fills, so that `gongkai ingest` of a folder
# around it leaves the exported pages out (they are gongkai's output, not documents).
PUBLIC_SITE_MARKER = ".gongkai-public-site"


DEFAULT_TIMEZONE = "Asia/Shanghai"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
_CODE = re.compile(r"[0-9A-Za-z]+")


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line naming the variable."""

    def __init__(self, variable: str, value: str, problem: str) -> None:
        super().__init__(f"{variable}={value!r}: {problem}")
        self.variable = variable


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        raise SettingsError(name, env[name], "must be one of true/false, yes/no, on/off, 1/0")
    return value in _TRUE


def _number(env: Mapping[str, str], name: str, default: T, kind: Callable[[str], T],
            minimum: float) -> T:  # fmt: skip
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SettingsError(name, raw, f"must be a number (≥ {minimum:g})") from None
    if value < minimum:
        raise SettingsError(name, raw, f"must be at least {minimum:g}")
    return value


def _code(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name) or default
    if not _CODE.fullmatch(value):
        raise SettingsError(name, value, "must be letters and digits only (it goes into 索引号)")
    return value


def _review_months(env: Mapping[str, str]) -> dict[str, int]:
    """'default=12,过程性信息=3,内部事务信息=6': whole months ≥ 1 by reason."""
    name = "GONGKAI_REVIEW_MONTHS"
    months_by_reason = {"default": 12, "过程性信息": 3}
    raw = env.get(name)
    if not raw:
        return months_by_reason
    for part in raw.split(","):
        reason, equals, months = (p.strip() for p in part.partition("="))
        if not equals or not reason or "=" in months:
            raise SettingsError(name, raw, f"{part.strip()!r} is not REASON=MONTHS "
                                           "(e.g. default=12,过程性信息=3)")  # fmt: skip
        if not months.isdigit() or int(months) < 1:
            raise SettingsError(name, raw, f"the months of {reason!r} must be a whole number "
                                           f"≥ 1, not {months!r}")  # fmt: skip
        months_by_reason[reason] = int(months)
    return months_by_reason


# Read where they are used (flows/runtime.py), checked here with the rest: name -> (kind,
# lowest, highest).
_RUNTIME_NUMBERS: dict[str, tuple[Callable[[str], float], float, float]] = {
    "GONGKAI_WORKERS": (int, 0, 1024),
    "GONGKAI_PREFECT_PORT": (int, 1, 65535),
    "GONGKAI_PREFECT_STARTUP_TIMEOUT": (float, 1, 86400),
    "GONGKAI_RELAY_LEASE_S": (float, 1, 86400),
    "GONGKAI_RELAY_POLL_S": (float, 0.01, 3600),
}


def _check_runtime_numbers(env: Mapping[str, str]) -> None:
    for name, (kind, low, high) in _RUNTIME_NUMBERS.items():
        raw = env.get(name)
        if not raw:
            continue
        try:
            value = kind(raw.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise SettingsError(name, raw, f"must be a number from {low:g} to {high:g}")


def _timezone(env: Mapping[str, str]) -> str:
    value = env.get("GONGKAI_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("GONGKAI_TIMEZONE", value,
                            "is not a time zone name (e.g. Asia/Shanghai)") from None  # fmt: skip
    return value


@dataclass(frozen=True, slots=True)
class S3Settings:
    endpoint: str  # host:port, no scheme (the minio SDK's form)
    access_key: str
    secret_key: str
    secure: bool = True
    region: str | None = None
    # Seconds a request may wait for the server's next bytes (or to connect) before it is
    # retried: a store that hangs (paused, overloaded) is given up on within a bound.
    timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class ExternalTools:
    """The programs extraction may run for formats Python cannot read itself: Tesseract for
    scans (OCR, with its simplified Chinese model) and LibreOffice for .doc/.wps. Commands
    are names on PATH or paths; a command that is not there makes a scan an exception that
    says what to install (and a .doc an unreadable file that says so), never a crash."""

    tesseract: str = "tesseract"
    soffice: str = "soffice"
    ocr_languages: str = "chi_sim"


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    store: str  # "local" | "s3"
    s3: S3Settings | None
    archive_bucket: str = "gongkai-archive"
    public_bucket: str = "gongkai-public"
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # 索引号 assigned to documents that have none: {org_code}-{info_class}-{year}-{serial:05d}
    org_code: str = "QZ05908"
    info_class: str = "3000"
    # Re-review interval for withheld documents, months, by stated reason; "default" otherwise.
    review_months: Mapping[str, int] = field(
        default_factory=lambda: {"default": 12, "过程性信息": 3}
    )
    holidays_dir: Path | None = None  # extra State Council arrangements, one JSON per year
    tools: ExternalTools = field(default_factory=ExternalTools)
    # Where a person reads a time (tables, show, status, pages): the office's time zone.
    # Times are stored in UTC.
    timezone: str = DEFAULT_TIMEZONE
    # A sweep round claims up to sweep_batch waiting documents for claim_lease_s seconds
    # (Catalog.claim_pending): sweeps at once share a burst; a killed sweep's claim expires.
    sweep_batch: int = 2000
    claim_lease_s: float = 300.0
    # A sweep run as a deployment that finds more waiting than its batch asks for up to this
    # many sibling runs of its deployment, so that workers on other machines share the burst.
    sweep_siblings: int = 0

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def objects_root(self) -> Path:
        return self.home / "objects"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    home = Path(env.get("GONGKAI_HOME") or ".gongkai").expanduser().resolve()
    database_url = env.get("GONGKAI_DATABASE_URL") or f"sqlite:///{home / 'catalog.sqlite3'}"
    s3: S3Settings | None = None
    if env.get("GONGKAI_S3_ENDPOINT"):
        s3 = S3Settings(
            endpoint=env["GONGKAI_S3_ENDPOINT"],
            access_key=env.get("GONGKAI_S3_ACCESS_KEY", ""),
            secret_key=env.get("GONGKAI_S3_SECRET_KEY", ""),
            secure=_flag(env, "GONGKAI_S3_SECURE", True),
            region=env.get("GONGKAI_S3_REGION") or None,
            timeout_s=_number(env, "GONGKAI_S3_TIMEOUT", 30.0, float, 0.001),
        )
    store = env.get("GONGKAI_STORE") or ("s3" if s3 else "local")
    if store not in {"local", "s3"}:
        raise SettingsError("GONGKAI_STORE", store, "must be 'local' or 's3'")
    if store == "s3" and s3 is None:
        raise SettingsError("GONGKAI_STORE", store,
                            "needs GONGKAI_S3_ENDPOINT (and access/secret keys)")  # fmt: skip
    _check_runtime_numbers(env)
    if "://" not in database_url:
        raise SettingsError("GONGKAI_DATABASE_URL", database_url,
                            "is not a database URL (postgresql://user@host:5432/db)")  # fmt: skip
    holidays = env.get("GONGKAI_HOLIDAYS_DIR")
    return Settings(
        home=home,
        database_url=database_url,
        store=store,
        s3=s3,
        archive_bucket=env.get("GONGKAI_S3_ARCHIVE_BUCKET") or "gongkai-archive",
        public_bucket=env.get("GONGKAI_S3_PUBLIC_BUCKET") or "gongkai-public",
        max_file_bytes=_number(env, "GONGKAI_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES, int, 1),
        org_code=_code(env, "GONGKAI_ORG_CODE", "QZ05908"),
        info_class=_code(env, "GONGKAI_INFO_CLASS", "3000"),
        review_months=_review_months(env),
        holidays_dir=Path(holidays) if holidays else home / "holidays",
        tools=ExternalTools(
            tesseract=env.get("GONGKAI_TESSERACT") or "tesseract",
            soffice=env.get("GONGKAI_SOFFICE") or "soffice",
        ),
        timezone=_timezone(env),
        sweep_batch=_number(env, "GONGKAI_SWEEP_BATCH", 2000, int, 1),
        claim_lease_s=_number(env, "GONGKAI_CLAIM_LEASE_S", 300.0, float, 1),
        sweep_siblings=_number(env, "GONGKAI_SWEEP_SIBLINGS", 0, int, 0),
    )
