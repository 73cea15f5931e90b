"""What a command says when something it depends on is out (storage/outages.py): one line in
Chinese naming what is unreachable or full and what to do, instead of a traceback.

Every write of gongkai's is a batch recorded whole or not at all, so what was done before the
outage stays on record and the same command, run again once the part is back, goes on from
there; each message says so. A bug (anything that is not an outage) keeps its traceback.

    explain(exc) -> Explanation | None     # the outage and the line to print
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gongkai.storage.outages import Outage, outage_of

AGAIN = "恢复后再次运行同一命令即可从中断处继续，已完成的工作不会重复"


@dataclass(frozen=True)
class Explanation:
    outage: Outage
    message: str  # one line, Chinese, for stderr


def _database_shown(url: str) -> str:
    """The database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _where(outage: Outage) -> str:
    """The part named in the message, from the settings (nothing if they do not load)."""
    from gongkai.config import load_settings

    try:
        settings = load_settings()
    except Exception:  # settings that do not load: the detail alone says it
        return ""
    if outage.kind.startswith("catalog"):
        return f" {_database_shown(settings.database_url)}"
    if outage.kind == "store_unreachable" and settings.s3 is not None:
        return f" {settings.s3.endpoint}"
    return ""


def message(outage: Outage) -> str:
    where, detail = _where(outage), outage.detail
    if outage.kind == "disk_full":
        return (f"错误：磁盘已满或只读（{detail}）。已接收的文件均已保存并登记，正在写入的一批未"
                f"登记，没有丢失。请腾出空间（或把 GONGKAI_HOME 移到别处），{AGAIN}。")
    if outage.kind == "catalog_missing":
        return (f"错误：目录数据库{where} 不存在（{detail}）。请先创建该数据库，或改正 "
                "GONGKAI_DATABASE_URL，然后再运行。")
    if outage.kind == "catalog_unreachable":
        return (f"错误：无法连接目录数据库{where}（已重试；{detail}）。请确认 PostgreSQL 已启动且"
                f" GONGKAI_DATABASE_URL 正确，{AGAIN}。")
    if outage.kind == "store_unreachable":
        return (f"错误：无法访问对象存储{where}（已重试；{detail}）。请确认 MinIO/S3 服务可用且 "
                f"GONGKAI_S3_* 设置正确，{AGAIN}。")
    return f"错误：Prefect 服务器不可用（{detail}），{AGAIN}。"


def _home_disk_full(min_free: int = 1 << 20) -> str | None:
    """GONGKAI_HOME's disk, if it has (almost) no room left: a failure there can reach us
    without an errno (Prefect's server, whose database is in the home, answers 500)."""
    from gongkai.config import load_settings

    try:
        folder: Path = load_settings().home
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        free = shutil.disk_usage(folder).free
    except Exception:  # settings that do not load, a folder gone: no verdict
        return None
    return f"{folder} 所在磁盘只剩 {free} 字节" if free < min_free else None


def explain(exc: BaseException) -> Explanation | None:
    """The outage `exc` reports, with its message; None for anything else (a bug)."""
    outage = outage_of(exc)
    if outage is None and (full := _home_disk_full()) is not None:
        outage = Outage("disk_full", f"{full}；失败的是 {type(exc).__name__}: {str(exc)[:200]}")
    return Explanation(outage, message(outage)) if outage is not None else None
