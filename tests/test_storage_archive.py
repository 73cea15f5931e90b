"""Archival packages on the local write-once store: content-addressed originals, package layout,
manifest revisions, and verification that finds every kind of damage."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest

from gongkai.storage.archive import Archive, original_extension, sanitize_segment
from gongkai.storage.catalog import Catalog, DocumentRecord
from gongkai.storage.local import LocalStore
from gongkai.storage.objects import ChecksumMismatch, ObjectExists

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BUCKET = "gongkai-archive"
ORIGINAL = "鸿山镇人民政府文件\n鸿政〔2020〕53号\n".encode() * 50 + b"\x00\x01binary tail"
SHA = hashlib.sha256(ORIGINAL).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects", BUCKET, write_once=True)


@pytest.fixture
def archive(store: LocalStore) -> Archive:
    return Archive(store)


@pytest.fixture
def catalog(sqlite_url: str):
    opened = Catalog.open(sqlite_url)
    yield opened
    opened.close()


def make_record(
    catalog: Catalog,
    archive: Archive,
    data: bytes = ORIGINAL,
    *,
    filename: str = "鸿政〔2020〕53号 工作方案.DOCX",
    **fields: object,
) -> DocumentRecord:
    sha = hashlib.sha256(data).hexdigest()
    key = archive.put_original(data, sha256=sha, filename=filename, content_type=DOCX)
    record, _ = catalog.register(
        sha256=sha,
        size=len(data),
        filename=filename,
        content_type=DOCX,
        original_key=key,
        source="cli",
        actor="t",
    )
    values: dict[str, object] = {
        "issuer": "鸿山镇人民政府",
        "file_number": "鸿政〔2020〕53号",
        "date": date(2020, 9, 15),
        "title": "工作方案",
    }
    values.update(fields)
    return catalog.update(record.id, actor="t", kind="test_fields", **values)  # fmt: skip


def data_path(store: LocalStore, key: str) -> Path:
    return store.root / BUCKET / key


def sidecar_path(store: LocalStore, key: str) -> Path:
    return store.root / ".gongkai-meta" / BUCKET / key


# -- originals --------------------------------------------------------------------------------


def test_originals_are_content_addressed_and_idempotent(archive: Archive, store: LocalStore):
    key = archive.put_original(ORIGINAL, sha256=SHA, filename="方案.DOCX", content_type=DOCX)
    assert key == f"originals/{SHA[:2]}/{SHA}.docx"
    again = archive.put_original(ORIGINAL, sha256=SHA.upper(), filename="别名.docx",
                                 content_type=DOCX)  # fmt: skip
    assert again == key
    assert [info.key for info in store.list("originals/")] == [key]
    assert archive.read_original(key, sha256=SHA) == ORIGINAL


def test_an_original_that_does_not_hash_to_its_sha256_is_refused(archive: Archive,
                                                                  store: LocalStore):  # fmt: skip
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(ChecksumMismatch):
        archive.put_original(ORIGINAL, sha256=wrong, filename="a.pdf", content_type="x")
    assert list(store.list("")) == []


def test_read_original_refuses_bytes_that_differ_from_the_catalog(archive: Archive,
                                                                   store: LocalStore):  # fmt: skip
    key = archive.put_original(ORIGINAL, sha256=SHA, filename="a.pdf", content_type="x")
    with pytest.raises(ChecksumMismatch):
        archive.read_original(key, sha256=hashlib.sha256(b"catalog says").hexdigest())
    # Bytes changed on disk behind the store's back: the read fails, nothing is returned.
    data_path(store, key).write_bytes(ORIGINAL[:-1] + b"X")
    with pytest.raises(ChecksumMismatch):
        archive.read_original(key, sha256=SHA)


def test_extensions_come_from_the_name_or_the_content_type():
    assert original_extension("通知.PDF", "application/octet-stream") == ".pdf"
    assert original_extension("通知", "application/pdf") == ".pdf"
    assert original_extension("通知", "application/octet-stream") == ""
    assert original_extension("bad.ext with space", DOCX) == ".docx"


# -- packages ---------------------------------------------------------------------------------


def test_package_prefix_is_readable_and_sanitised(catalog: Catalog, archive: Archive):
    record = make_record(catalog, archive)
    assert archive.package_prefix(record) == f"2020/鸿山镇人民政府/{record.id}-鸿政〔2020〕53号"
    odd = make_record(catalog, archive, b"other bytes", issuer="市政府/办公室\n法制科",
                      file_number="鸿政/2021/1号")  # fmt: skip
    assert archive.package_prefix(odd) == f"2020/市政府_办公室 法制科/{odd.id}-鸿政_2021_1号"
    bare = make_record(catalog, archive, b"bare bytes", issuer=None, file_number=None, date=None)
    prefix = archive.package_prefix(bare)
    assert prefix == f"{bare.received_at.year}/未知发文机关/{bare.id}-{bare.sha256[:12]}"
    assert sanitize_segment(" .. ") == ""


def test_write_package_holds_every_member_and_a_manifest(catalog: Catalog, archive: Archive,
                                                         store: LocalStore):  # fmt: skip
    record = make_record(catalog, archive)
    routing = {"extracted": {"title": "工作方案"}, "route": {"to": "published"}}
    prefix = archive.write_package(record, original=ORIGINAL, metadata=routing, text="正文全文")
    keys = sorted(info.key.removeprefix(prefix + "/") for info in store.list(prefix + "/"))
    assert keys == ["manifest.json", "metadata.json", "original.docx", "text.txt"]
    assert store.get_bytes(f"{prefix}/original.docx") == ORIGINAL
    assert store.get_bytes(f"{prefix}/text.txt").decode() == "正文全文"
    package_metadata = json.loads(store.get_bytes(f"{prefix}/metadata.json"))
    assert package_metadata["metadata"] == routing
    assert package_metadata["record"]["sha256"] == SHA
    assert package_metadata["record"]["file_number"] == "鸿政〔2020〕53号"
    manifest = json.loads(store.get_bytes(f"{prefix}/manifest.json"))
    assert manifest["revision"] == 1 and manifest["document_id"] == record.id
    for name in ("original.docx", "metadata.json", "text.txt"):
        data = store.get_bytes(f"{prefix}/{name}")
        assert manifest["members"][name] == {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    # Idempotent: a second call changes nothing (the store is write-once).
    assert archive.write_package(record, original=ORIGINAL, metadata={}, text="x") == prefix
    assert len(list(store.list(prefix + "/"))) == 4
    report = archive.verify(prefix)
    assert report.ok and report.checked == 3 and report.problems == []


def test_write_package_refuses_an_original_that_is_not_the_document(catalog: Catalog,
                                                                    archive: Archive):  # fmt: skip
    record = make_record(catalog, archive)
    with pytest.raises(ChecksumMismatch):
        archive.write_package(record, original=b"not it", metadata={}, text="")


def test_an_interrupted_package_is_completed(catalog: Catalog, archive: Archive,
                                             store: LocalStore):  # fmt: skip
    record = make_record(catalog, archive)
    prefix = archive.package_prefix(record)
    # A crash after two members: no manifest, so the package is not complete yet.
    store.put(f"{prefix}/original.docx", ORIGINAL, content_type=DOCX)
    store.put(f"{prefix}/text.txt", "先前写入的正文".encode(), content_type="text/plain")
    assert not archive.verify(prefix).ok
    assert archive.write_package(record, original=ORIGINAL, metadata={}, text="新正文") == prefix
    report = archive.verify(prefix)
    assert report.ok, report.problems
    assert store.get_bytes(f"{prefix}/text.txt").decode() == "先前写入的正文"


def test_add_members_writes_a_new_manifest_revision(catalog: Catalog, archive: Archive,
                                                    store: LocalStore):  # fmt: skip
    record = make_record(catalog, archive)
    prefix = archive.write_package(record, original=ORIGINAL, metadata={}, text="正文")
    first_manifest = store.get_bytes(f"{prefix}/manifest.json")
    redacted = "删减后的正文".encode()
    key = archive.add_members(prefix, {"redacted.txt": redacted})
    assert key == f"{prefix}/manifest.r2.json"
    assert store.get_bytes(f"{prefix}/manifest.json") == first_manifest  # never rewritten
    manifest = json.loads(store.get_bytes(key))
    assert manifest["revision"] == 2 and manifest["previous"] == "manifest.json"
    assert set(manifest["members"]) == {"original.docx", "metadata.json", "text.txt",
                                        "redacted.txt"}  # fmt: skip
    assert manifest["members"]["redacted.txt"]["sha256"] == hashlib.sha256(redacted).hexdigest()
    # The same member again is a no-op; other bytes under the same name are refused.
    assert archive.add_members(prefix, {"redacted.txt": redacted}) == key
    with pytest.raises(ObjectExists):
        archive.add_members(prefix, {"redacted.txt": b"different"})
    third = archive.add_members(prefix, {"review-2027-01-01.json": b'{"decision": "keep"}'})
    assert third == f"{prefix}/manifest.r3.json"
    report = archive.verify(prefix)
    assert report.ok and report.checked == 5
    for bad in ("manifest.r9.json", "a/b", ".."):
        with pytest.raises(ValueError):
            archive.add_members(prefix, {bad: b"x"})


# -- verification -----------------------------------------------------------------------------


@pytest.fixture
def package(catalog: Catalog, archive: Archive) -> str:
    record = make_record(catalog, archive)
    return archive.write_package(record, original=ORIGINAL, metadata={"k": "v"}, text="正文")


def test_verify_reports_bytes_changed_behind_the_store(archive: Archive, store: LocalStore,
                                                       package: str):  # fmt: skip
    path = data_path(store, f"{package}/text.txt")
    path.write_bytes("篡改".encode())  # same size as 正文, other bytes
    report = archive.verify(package)
    assert not report.ok
    assert len(report.problems) == 1 and report.problems[0].startswith("text.txt:")


def test_verify_reports_a_member_replaced_with_consistent_store_metadata(
    archive: Archive, store: LocalStore, package: str
):
    key = f"{package}/metadata.json"
    forged = b'{"forged": true}'
    data_path(store, key).write_bytes(forged)
    sidecar = json.loads(sidecar_path(store, key).read_text())
    sidecar.update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
    sidecar_path(store, key).write_text(json.dumps(sidecar))
    problems = archive.verify(package).problems
    assert any(p.startswith("metadata.json: size") for p in problems)
    assert any(p.startswith("metadata.json: sha256") for p in problems)


def test_verify_reports_missing_members_and_strays(archive: Archive, store: LocalStore,
                                                   package: str):  # fmt: skip
    key = f"{package}/original.docx"
    data_path(store, key).unlink()
    sidecar_path(store, key).unlink()
    store.put(f"{package}/stray.bin", b"not listed")
    report = archive.verify(package)
    assert not report.ok
    assert "original.docx: missing" in report.problems
    assert any(p.startswith("stray.bin: present but not in manifest.json") for p in report.problems)


def test_verify_reports_an_unreadable_or_absent_manifest(archive: Archive, store: LocalStore,
                                                         package: str):  # fmt: skip
    store.put(f"{package}/manifest.r2.json", b"{not json", content_type="application/json")
    report = archive.verify(package)
    assert not report.ok and "unreadable manifest" in report.problems[0]
    nothing = archive.verify("2020/无此机关/1-none")
    assert not nothing.ok and "no manifest" in nothing.problems[0]


def test_archive_round_trip_on_every_store_backend(store_backend, catalog: Catalog):
    """The same package operations over the local folder, moto's S3 server and (when
    configured) a real MinIO: Chinese keys, write-once manifests, verification."""
    store = store_backend.make(write_once=True, versioning=True)
    archive = Archive(store)
    record = make_record(catalog, archive)
    assert archive.read_original(record.original_key, sha256=SHA) == ORIGINAL
    prefix = archive.write_package(record, original=ORIGINAL, metadata={"route": "withheld"},
                                   text="正文")  # fmt: skip
    assert prefix.startswith("2020/鸿山镇人民政府/")
    assert archive.write_package(record, original=ORIGINAL, metadata={}, text="") == prefix
    assert archive.add_members(prefix, {"redacted.txt": "删减稿".encode()}).endswith(
        "manifest.r2.json"
    )
    assert archive.verify(prefix) == archive.verify(prefix + "/")
    report = archive.verify(prefix)
    assert report.ok and report.checked == 4, report.problems
    store_backend.corrupt(store, f"{prefix}/redacted.txt", "篡改稿".encode())
    damaged = archive.verify(prefix)
    assert not damaged.ok
    assert [p.split(":")[0] for p in damaged.problems] == ["redacted.txt"]
