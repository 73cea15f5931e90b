"""The CLI where a clerk types Chinese values (主动公开, 已发布, 2021年1月1日) and reads Chinese
tables and messages; --json keeps the codes. Real catalog and stores on the embedded home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lifecycle_docs import make_docx

pytestmark = pytest.mark.slow


def gongkai(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env["GONGKAI_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip


def test_a_clerk_resolves_an_exception_in_chinese(tmp_path: Path) -> None:
    home, docs = tmp_path / "home", tmp_path / "docs"
    docs.mkdir()
    for serial, disclosure in ((1, None), (2, "withheld")):
        data, truth = make_docx(serial, disclosure=disclosure)
        (docs / truth.filename).write_bytes(data)
    assert gongkai(home, "ingest", str(docs)).returncode == 0
    assert gongkai(home, "user", "add", "张文书", "--role", "文书", "--password-stdin",
                   stdin="clerk-password\n").returncode == 0  # fmt: skip

    listed = gongkai(home, "exceptions")
    assert "待人工处理 1 份" in listed.stdout and "原因" in listed.stdout
    codes = json.loads(gongkai(home, "exceptions", "--json").stdout)
    assert {"id", "filename", "file_number", "reason"} <= set(codes[0])
    withheld = gongkai(home, "review", "list")
    assert "不予公开 1 份" in withheld.stdout and "下次审核" in withheld.stdout

    doc_id = str(codes[0]["id"])
    refused = gongkai(home, "resolve", doc_id, "--disclosure", "随便公开", "--reason", "x")
    assert refused.returncode == 2 and "主动公开（active）" in refused.stderr
    resolved = gongkai(home, "resolve", doc_id, "--disclosure", "主动公开", "--reason",
                       "核对原件", "--date", "2021年1月1日", "--actor", "张文书")  # fmt: skip
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.split("\t")[1:] == ["published", "已发布\n"]
    shown = json.loads(gongkai(home, "show", doc_id, "--json").stdout)
    assert shown["document"]["date"] == "2021-01-01"
    actors = {(e["kind"], e["actor"]) for e in shown["history"]}
    assert {("corrected", "张文书"), ("resolved", "张文书")} <= actors

    found = gongkai(home, "find", "--state", "已发布", "--disclosure", "主动公开", "--json")
    assert [json.loads(line)["id"] for line in found.stdout.splitlines()] == [int(doc_id)]
    status = gongkai(home, "status")
    assert "已发布" in status.stdout and "合计" in status.stdout and "工作日历" in status.stdout
