"""`gongkai db`, `find`, `get`, `show`, `verify` against an isolated GONGKAI_HOME, seeded through
the Catalog and Archive API."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.entrypoints.cli import main
from gongkai.extractors.model import DocumentMetadata
from gongkai.storage.archive import Archive
from gongkai.storage.catalog import Catalog, Registration
from gongkai.storage.migrations import HEAD_REVISION
from gongkai.storage.stores import open_stores

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REQUIRED_KEYS = {"id", "file_number", "title", "issuer", "date", "disclosure", "state", "sha256",
                 "filename", "index_number", "received_at", "archive_key"}  # fmt: skip

SEED = [
    # filename, state, metadata
    ("鸿山镇工作方案.docx", "published", DocumentMetadata(
        format="docx", file_number="鸿政〔2020〕53号", issuer="鸿山镇人民政府",
        title="关于印发鸿山镇全面推进基层政务公开标准化规范化工作实施方案的通知",
        date="2020-09-15", disclosure="active", index_number="QZ05908-3000-2020-00010",
        text="各村（社区）：现将实施方案印发给你们，请认真贯彻执行。")),
    ("预算报告.pdf", "withheld", DocumentMetadata(
        format="pdf", file_number="狮政〔2021〕12号", issuer="石狮市人民政府",
        title="石狮市2021年财政预算执行情况的报告", date="2021-03-02", disclosure="withheld",
        disclosure_reason="内部事务信息",
        text="本报告涉及内部管理事项，预算执行率为百分之九十八。")),
    ("防汛通知.docx", "on_request", DocumentMetadata(
        format="docx", file_number="鸿政〔2020〕7号", issuer="鸿山镇人民政府",
        title="关于做好防汛工作的通知", date="2020-05-20", disclosure="on_request",
        text="防汛抗旱指挥部要求各村做好准备。")),
]  # fmt: skip


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def seeded(gongkai_env: dict[str, str]) -> dict[str, int]:
    """Three documents, each archived with its package, as the ingest flow would leave them."""
    settings = load_settings()
    archive = Archive(open_stores(settings).archive)
    ids: dict[str, int] = {}
    with Catalog.open(settings.database_url) as catalog:
        for filename, state, read in SEED:
            data = f"{filename}的原始字节".encode() + bytes(range(256))
            sha = hashlib.sha256(data).hexdigest()
            key = archive.put_original(data, sha256=sha, filename=filename, content_type=DOCX)
            record, _ = catalog.register(sha256=sha, size=len(data), filename=filename,
                                         content_type=DOCX, original_key=key, source="cli",
                                         actor="clerk")  # fmt: skip
            record = catalog.save_extraction(record.id, read, actor="ingest")
            prefix = archive.write_package(record, original=data, metadata=read.to_dict(),
                                           text=read.text)  # fmt: skip
            catalog.transition(record.id, state, actor="ingest", expected_from="received",
                               archive_key=prefix)  # fmt: skip
            ids[state] = record.id
    from gongkai.flows.service import Context, repair_public

    with Context.open(settings) as ctx:
        repair_public(ctx)  # the published one's page and the index, as publication writes them
    return ids


def found(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_db_upgrade_and_current(gongkai_env: dict[str, str]):
    first = run("db", "upgrade")
    assert first.exit_code == 0 and f"from empty to {HEAD_REVISION}" in first.output
    assert f"already at revision {HEAD_REVISION}" in run("db", "upgrade").output
    current = run("db", "current")
    assert current.exit_code == 0 and f"current: {HEAD_REVISION}" in current.output
    assert "up to date" in current.output
    assert (Path(gongkai_env["GONGKAI_HOME"]) / "catalog.sqlite3").exists()


def test_find_on_an_empty_home_creates_the_catalog_and_finds_nothing(gongkai_env):
    assert found(run("find", "--json")) == []
    assert "共 0 条" in run("find").output


def test_find_lists_everything_without_filters(seeded: dict[str, int]):
    rows = found(run("find", "--json"))
    assert [r["id"] for r in rows] == sorted(seeded.values())
    assert all(set(r) >= REQUIRED_KEYS for r in rows)
    first = rows[0]
    assert first["file_number"] == "鸿政〔2020〕53号" and first["date"] == "2020-09-15"
    assert first["filename"] == "鸿山镇工作方案.docx" and first["state"] == "published"
    assert first["archive_key"].startswith("2020/鸿山镇人民政府/")
    assert first["index_number"] == "QZ05908-3000-2020-00010"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--file-number", "狮政[2021]12号"), ["withheld"]),
        (("--file-number", "狮政（２０２１）第12号"), ["withheld"]),
        (("--index-number", "QZ05908-3000-2020-00010"), ["published"]),
        (("--title", "防汛"), ["on_request"]),
        (("--text", "防汛抗旱指挥部"), ["on_request"]),
        (("--text", "预算"), ["withheld"]),
        (("--issuer", "鸿山镇"), ["published", "on_request"]),
        (("--from", "2020-06-01", "--to", "2020-12-31"), ["published"]),
        (("--from", "2020年6月1日", "--to", "二〇二〇年十二月三十一日"), ["published"]),
        (("--state", "withheld"), ["withheld"]),
        (("--state", "不予公开"), ["withheld"]),
        (("--disclosure", "on_request"), ["on_request"]),
        (("--disclosure", "依申请公开"), ["on_request"]),
        (("--state", "已发布", "--disclosure", "主动公开"), ["published"]),
        (("--issuer", "鸿山镇", "--limit", "1"), ["published"]),
        (("--title", "不存在的标题"), []),
    ],
)
def test_find_filters(seeded: dict[str, int], args: tuple[str, ...], expected: list[str]):
    assert [r["id"] for r in found(run("find", "--json", *args))] == [seeded[s] for s in expected]


def test_find_table_and_bad_options(seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich folds cells to the terminal width
    table = run("find", "--issuer", "石狮市")
    assert table.exit_code == 0
    assert re.search(r"^\s*共 1 条\s*$", table.output, re.M)
    assert "狮政〔2021〕12号" in table.output and "石狮市人民政府" in table.output
    assert "不予公开" in table.output  # the state, as a clerk reads it
    bad_date = run("find", "--from", "某年某月")
    assert bad_date.exit_code == 2 and "无法识别" in bad_date.output
    bad_state = run("find", "--state", "lost")
    assert bad_state.exit_code == 2 and "已发布（published）" in bad_state.output


def test_find_shows_the_first_50_and_the_total(gongkai_env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch):
    with Catalog.open(load_settings().database_url) as catalog:
        registered = catalog.register_many([
            Registration(sha256=hashlib.sha256(f"{i}".encode()).hexdigest(), size=1,
                         filename=f"第{i}号.docx", content_type=DOCX, original_key=f"k/{i}",
                         source="cli", actor="clerk")
            for i in range(120)
        ])  # fmt: skip
        ids = [record.id for record, _ in registered]
    monkeypatch.setenv("COLUMNS", "200")
    table = run("find")
    assert table.exit_code == 0, table.output
    assert "共 120 条，显示前 50 条" in table.output
    assert "第49号.docx" in table.output and "第50号.docx" not in table.output
    limited = CliRunner().invoke(main, ["find", "--json", "--limit", "7"])
    assert [json.loads(line)["id"] for line in limited.stdout.splitlines()] == ids[:7]
    assert "共 120 条，显示前 7 条" in limited.stderr
    everything = CliRunner().invoke(main, ["find", "--json", "--all"])
    assert [json.loads(line)["id"] for line in everything.stdout.splitlines()] == ids
    assert everything.stderr == ""
    assert "共 120 条" in run("find", "--all").output
    assert "显示前" not in run("find", "--all").output


def test_get_writes_the_verified_original(seeded: dict[str, int], tmp_path: Path):
    out = tmp_path / "取出" / "原件.docx"
    out.parent.mkdir()
    result = run("get", str(seeded["withheld"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == "预算报告.pdf的原始字节".encode() + bytes(range(256))
    assert "verified" in result.output
    refused = run("get", str(seeded["withheld"]), "--out", str(out))
    assert refused.exit_code == 1 and "exists" in refused.output
    assert run("get", str(seeded["withheld"]), "--out", str(out), "--force").exit_code == 0
    missing = run("get", "424242", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 1 and "no document 424242" in missing.output
    # Each taking of this non-public original is on record, with the OS user as the actor.
    with Catalog.open(load_settings().database_url) as catalog:
        taken = [e for e in catalog.history(seeded["withheld"]) if e.kind == "original_retrieved"]
    assert len(taken) == 2 and taken[0].actor == getpass.getuser()
    refused = run("get", str(seeded["withheld"]), "--out", str(out), "--force",
                  "--actor", "nobody")  # fmt: skip
    assert refused.exit_code == 1 and "no such gongkai user" in refused.output


def test_get_writes_nothing_when_the_original_changed(seeded: dict[str, int], tmp_path: Path,
                                                      gongkai_env: dict[str, str]):  # fmt: skip
    settings = load_settings()
    with Catalog.open(settings.database_url) as catalog:
        record = catalog.get(seeded["published"])
    (settings.objects_root / settings.archive_bucket / record.original_key).write_bytes(b"evil")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = run("get", str(record.id), "--out", str(out_dir / "a.docx"))
    assert result.exit_code == 1
    assert "Error" in result.output
    assert list(out_dir.iterdir()) == []  # neither the file nor a temporary one


def test_show_prints_metadata_and_the_whole_history(seeded: dict[str, int]):
    doc_id = seeded["withheld"]
    result = run("show", str(doc_id), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["document"]["file_number"] == "狮政〔2021〕12号"
    assert payload["document"]["metadata"]["disclosure_reason"] == "内部事务信息"
    assert [e["kind"] for e in payload["history"]] == ["received", "extracted", "state"]
    assert payload["history"][-1]["detail"]["to"] == "withheld"
    table = run("show", str(doc_id))
    assert table.exit_code == 0
    # A clerk's table: Chinese labels, the state's code beside its name.
    for text in (f"文件 {doc_id}", "狮政〔2021〕12号", "文号", "接收", "读取元数据",
                 "不予公开（withheld）", "全部记录", "操作人"):
        assert text in table.output
    assert f"document {doc_id}" not in table.output
    assert run("show", "424242").exit_code == 1


def test_verify_all_then_a_damaged_package(seeded: dict[str, int], gongkai_env):
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert "已校验 3 份文件，有问题 0 份" in result.output
    settings = load_settings()
    with Catalog.open(settings.database_url) as catalog:
        record = catalog.get(seeded["on_request"])
    member = settings.objects_root / settings.archive_bucket / record.archive_key / "text.txt"
    member.write_bytes(b"rewritten text")
    damaged = run("verify")
    assert damaged.exit_code == 1
    assert f"{record.id}：{record.archive_key}：text.txt:" in damaged.output
    assert run("verify", str(seeded["published"])).exit_code == 0
    assert run("verify", str(seeded["on_request"])).exit_code == 1
    assert run("verify", "424242").exit_code == 1


def test_the_gongkai_command_runs_as_a_process(seeded: dict[str, int], gongkai_env):
    env = {**os.environ, **gongkai_env}
    completed = subprocess.run(
        [sys.executable, "-m", "gongkai.entrypoints.cli", "find", "--json",
         "--file-number", "鸿政[2020]53号"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [r["id"] for r in rows] == [seeded["published"]]


def test_status_names_the_calendar_and_a_holiday_file_it_could_not_use(gongkai_env):
    holidays = Path(gongkai_env["GONGKAI_HOME"]) / "holidays"
    holidays.mkdir(parents=True)
    (holidays / "2027.json").write_text('{"year": 2027, "holidays": ["2027-02-06"]}',
                                        encoding="utf-8")  # fmt: skip
    (holidays / "2028.json").write_text("{not json", encoding="utf-8")
    result = run("status")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # rich may wrap a long line
    assert "来自 chinese-calendar" in text and f"2027 来自 {holidays / '2027.json'}" in text
    assert f"未采用的节假日文件：{holidays / '2028.json'}: not valid UTF-8 JSON" in text


def test_ingest_says_which_holiday_file_it_could_not_use(gongkai_env, tmp_path: Path):
    holidays = Path(gongkai_env["GONGKAI_HOME"]) / "holidays"
    holidays.mkdir(parents=True)
    (holidays / "2027.json").write_text('{"year": 2027}', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "empty"), "--json"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stderr.split())
    assert f"holiday file not used: {holidays / '2027.json'}" in text
    assert json.loads(result.stdout.splitlines()[-1])["documents"] == 0


def test_a_gbk_file_name_from_windows_is_stored_and_printed_readably(gongkai_env, tmp_path):
    # A folder copied from a Chinese Windows machine without converting the names: on Linux
    # they are GBK bytes. They must not crash a command, and are shown as their authors wrote.
    folder = tmp_path / "拷贝"
    folder.mkdir()
    data, _truth = make_docx(7, disclosure="active")

    def gbk(name: str) -> str:
        return os.fsdecode(name.encode("gbk"))

    (folder / gbk("关于印发工作方案的通知.docx")).write_bytes(data)
    (folder / gbk("~$关于印发工作方案的通知.docx")).write_bytes(b"\x04Li Si" + b"\x00" * 155)
    extracted = CliRunner().invoke(main, ["extract", str(folder), "--json"])
    assert extracted.exit_code == 0, extracted.output
    (record,) = [json.loads(line) for line in extracted.stdout.splitlines()]
    assert record["file"] == str(folder / "关于印发工作方案的通知.docx")
    # Intake through the service (as ingest, submit, watch and the API do) stores the name;
    # processed here too, so that nothing waits.
    from gongkai.flows.service import Context, intake, process, publish

    with Context.open(load_settings()) as ctx:
        stored = intake(ctx, data, str(folder / gbk("关于印发工作方案的通知.docx")),
                        source="cli", actor="t")  # fmt: skip
        if any(o.to_publish for o in process(ctx, [stored.record.id])):
            publish(ctx, [stored.record.id])
    assert stored.record.filename == "关于印发工作方案的通知.docx"
    # Nothing new to process: ingest does not start Prefect (in this test's process, where
    # it could run only if nothing had imported Prefect before, and would leave its PREFECT_*
    # settings to the tests after), and prints what it left out.
    ingested = CliRunner().invoke(main, ["ingest", str(folder), "--json"])
    assert ingested.exit_code == 0, ingested.output
    summary = json.loads(ingested.stdout.splitlines()[-1])
    assert summary["prefect"] is False and summary["nothing_new"] is True
    assert summary["left_out"] == {
        str(folder / "~$关于印发工作方案的通知.docx"): "a temporary or lock file"}
    assert "~$关于印发工作方案的通知.docx: a temporary or lock file" in ingested.stderr
