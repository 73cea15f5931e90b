"""Settings from the environment, with embedded defaults that need no set-up.

Embedded default: SQLite catalog and a local-folder object store, both under GONGKAI_HOME
(default ./.gongkai). Production: GONGKAI_DATABASE_URL (PostgreSQL) and GONGKAI_S3_* (MinIO/S3).
Pure: reads a mapping, returns a frozen value. Nothing here imports Prefect or opens anything.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# Written into every folder `gongkai public export` fills, so that `gongkai ingest` of a folder
# around it leaves the exported pages out (they are gongkai's output, not documents).
PUBLIC_SITE_MARKER = ".gongkai-public-site"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


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
            secure=_flag(env.get("GONGKAI_S3_SECURE"), True),
            region=env.get("GONGKAI_S3_REGION") or None,
            timeout_s=float(env.get("GONGKAI_S3_TIMEOUT") or 30),
        )
    store = env.get("GONGKAI_STORE") or ("s3" if s3 else "local")
    if store not in {"local", "s3"}:
        raise ValueError(f"GONGKAI_STORE must be 'local' or 's3', not {store!r}")
    if store == "s3" and s3 is None:
        raise ValueError("GONGKAI_STORE=s3 needs GONGKAI_S3_ENDPOINT (and access/secret keys)")
    review_months = {"default": 12, "过程性信息": 3}
    if env.get("GONGKAI_REVIEW_MONTHS"):
        # "default=12,过程性信息=3,内部事务信息=6"
        for part in env["GONGKAI_REVIEW_MONTHS"].split(","):
            reason, _, months = part.partition("=")
            review_months[reason.strip()] = int(months)
    holidays = env.get("GONGKAI_HOLIDAYS_DIR")
    return Settings(
        home=home,
        database_url=database_url,
        store=store,
        s3=s3,
        archive_bucket=env.get("GONGKAI_S3_ARCHIVE_BUCKET") or "gongkai-archive",
        public_bucket=env.get("GONGKAI_S3_PUBLIC_BUCKET") or "gongkai-public",
        max_file_bytes=int(env.get("GONGKAI_MAX_FILE_BYTES") or DEFAULT_MAX_FILE_BYTES),
        org_code=env.get("GONGKAI_ORG_CODE") or "QZ05908",
        info_class=env.get("GONGKAI_INFO_CLASS") or "3000",
        review_months=review_months,
        holidays_dir=Path(holidays) if holidays else home / "holidays",
        tools=ExternalTools(
            tesseract=env.get("GONGKAI_TESSERACT") or "tesseract",
            soffice=env.get("GONGKAI_SOFFICE") or "soffice",
        ),
    )
