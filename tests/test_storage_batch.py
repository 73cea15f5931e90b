"""Group commit and grouped durability: the batch methods write exactly what their one-at-a-time
counterparts write (rows, audit events, objects, packages), each item succeeding or failing on
its own, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gongkai.extractors.model import DocumentMetadata
from gongkai.storage.archive import Archive, PackageRequest
from gongkai.storage.catalog import (
    Catalog,
    FindQuery,
    Outcome,
    Registration,
    StaleState,
    with_extraction,
)
from gongkai.storage.common import RESERVED_SEGMENT_PREFIX
from gongkai.storage.local import LocalStore, PutRequest
from gongkai.storage.objects import ChecksumMismatch, ObjectExists, UnsafeKey

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def registration(label: str, **extra: object) -> Registration:
    data = label.encode()
    return Registration(
        sha256=sha(data), size=len(data), filename=f"{label}.docx", content_type=DOCX,
        original_key=f"originals/{sha(data)[:2]}/{sha(data)}.docx", source="cli",
        actor="tester", **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def read(**fields: object) -> DocumentMetadata:
    base: dict[str, object] = {
        "format": "docx", "file_number": "鸿政〔2020〕53号", "title": "关于印发实施方案的通知",
        "issuer": "鸿山镇人民政府", "date": "2020-09-15", "disclosure": "active",
        "text": "各村（社区）：现将实施方案印发给你们。",
        "cited_file_numbers": ["狮政办[2019]120号", "国办发〔2019〕54号"], "page_count": 3,
    }  # fmt: skip
    base.update(fields)
    return DocumentMetadata(**base)  # type: ignore[arg-type]


@pytest.fixture
def catalog(database_url: str):
    with Catalog.open(database_url) as opened:
        yield opened


# -- catalog ---------------------------------------------------------------------------------


def test_register_many_matches_register_one_by_one(catalog: Catalog) -> None:
    (known, _), = catalog.register_many([registration("known")])
    results = catalog.register_many(
        [registration("a"), registration("known"), registration("b"), registration("a")]
    )
    assert [new for _, new in results] == [True, False, True, False]
    assert results[3][0].id == results[0][0].id and results[1][0].id == known.id
    assert {r.state for r, _ in results} == {"received"}
    assert [e.kind for e in catalog.history(results[0][0].id)] == [
        "received", "duplicate_submission"]  # fmt: skip
    assert [e.kind for e in catalog.history(known.id)] == ["received", "duplicate_submission"]
    first = catalog.history(results[2][0].id)[0]
    assert first.detail == {"filename": "b.docx", "source": "cli", "size": 1,
                            "sha256": sha(b"b")}  # fmt: skip


def test_record_outcomes_writes_what_save_extraction_and_transition_write(
    catalog: Catalog,
) -> None:
    (one, _), (two, _), (three, _) = catalog.register_many(
        [registration("one"), registration("two"), registration("three")]
    )
    # The one-at-a-time way, for comparison.
    catalog.save_extraction(one.id, read(), actor="ingest")
    single = catalog.transition(one.id, "withheld", actor="ingest", expected_from="received",
                                detail={"rule": "withheld"}, archive_key="p/1")  # fmt: skip
    catalog.transition(three.id, "exception", actor="someone", expected_from="received")
    results = catalog.record_outcomes([
        Outcome(two.id, "ingest", read(), "withheld", detail={"rule": "withheld"},
                changes={"archive_key": "p/2"}),
        Outcome(three.id, "ingest", read(), "withheld"),
    ])  # fmt: skip
    batch, stale = results
    assert isinstance(stale, StaleState)
    assert not isinstance(batch, StaleState)
    assert catalog.get(three.id).state == "exception"  # nothing written for the stale one
    assert [e.kind for e in catalog.history(three.id)] == ["received", "state"]
    assert batch.state == "withheld" and batch.archive_key == "p/2"
    assert batch.cited_file_numbers == single.cited_file_numbers == (
        "狮政办〔2019〕120号", "国办发〔2019〕54号")  # fmt: skip
    for name in ("file_number", "title", "issuer", "date", "disclosure", "metadata"):
        assert getattr(batch, name) == getattr(single, name), name
    batch_events = catalog.history(two.id)
    single_events = catalog.history(one.id)
    assert [e.kind for e in batch_events] == [e.kind for e in single_events]
    assert batch_events[-1].detail["from"] == "received"
    assert batch_events[-1].detail["changes"] == {"archive_key": "p/2"}
    assert batch_events[1].detail == single_events[1].detail  # the "extracted" event
    assert with_extraction(two, read()).file_number == batch.file_number
    # The searchable text went in with the bulk statements too (FTS triggers on SQLite).
    found = {r.id for r in catalog.find(FindQuery(text="实施方案印发"))}
    assert {one.id, two.id} <= found


def test_record_outcomes_routing_without_state_change(catalog: Catalog) -> None:
    (doc, _), = catalog.register_many([registration("routed")])
    (record,) = catalog.record_outcomes([
        Outcome(doc.id, "ingest", read(), None, "routed", {"to": "published"},
                {"archive_key": "p/x"}),
    ])  # fmt: skip
    assert not isinstance(record, StaleState)
    assert record.state == "received" and record.archive_key == "p/x"
    assert [e.kind for e in catalog.history(doc.id)] == ["received", "extracted", "routed"]
    with pytest.raises(ValueError, match="unknown state"):
        catalog.record_outcomes([Outcome(doc.id, "x", None, "nowhere")])


def test_record_outcomes_unrouted_leaves_a_routed_document_alone(catalog: Catalog) -> None:
    # Two runs read the same new document; the second to record it finds it routed already.
    (doc, _), (other, _) = catalog.register_many([registration("raced"), registration("new")])
    routing = Outcome(doc.id, "ingest", read(), None, "routed", {"to": "published"},
                      {"archive_key": "p/r", "routed_at": datetime(2026, 1, 5, tzinfo=UTC)})
    catalog.record_outcomes([routing], unrouted=True)
    history = catalog.history(doc.id)
    late, fresh = catalog.record_outcomes(
        [dataclasses.replace(routing, changes={"archive_key": "p/again"}),
         Outcome(other.id, "ingest", read(), "withheld")],
        unrouted=True,
    )  # fmt: skip
    assert isinstance(late, StaleState) and "routed already" in str(late)
    assert not isinstance(fresh, StaleState) and fresh.state == "withheld"
    assert catalog.history(doc.id) == history and catalog.get(doc.id).archive_key == "p/r"
    # Without `unrouted` (the publish step's use), a routed document is still `received`.
    (moved,) = catalog.record_outcomes([Outcome(doc.id, "publish", None, "published")])
    assert not isinstance(moved, StaleState) and moved.state == "published"


def test_assign_index_numbers_is_gap_free_and_keeps_existing(catalog: Catalog) -> None:
    docs = [r for r, _ in catalog.register_many([registration(f"d{i}") for i in range(4)])]
    catalog.update(docs[0].id, actor="t", kind="index_number_assigned", index_number="KEEP-1")
    numbered = catalog.assign_index_numbers(
        [(docs[0].id, 2020), (docs[1].id, 2020), (docs[2].id, 2021), (docs[3].id, 2020)],
        org_code="QZ", info_class="30", actor="publish",
        number=lambda year, serial: f"QZ-30-{year}-{serial:05d}",
    )  # fmt: skip
    assert [numbered[d.id].index_number for d in docs] == [
        "KEEP-1", "QZ-30-2020-00001", "QZ-30-2021-00001", "QZ-30-2020-00002"]  # fmt: skip
    assert catalog.next_index_serial("QZ", "30", 2020) == 3
    assert catalog.history(docs[1].id)[-1].kind == "index_number_assigned"


# -- objects and packages --------------------------------------------------------------------


def test_put_many_each_request_on_its_own(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, "archive", write_once=True)
    store.put("taken", b"first")
    results = store.put_many([
        PutRequest("a/one", b"1", "text/plain", sha(b"1")),
        PutRequest("taken", b"second"),
        PutRequest("a/bad", b"2", sha256=sha(b"not 2")),
        PutRequest("b/two", b"22"),
    ])  # fmt: skip
    assert isinstance(results[1], ObjectExists)
    assert isinstance(results[2], ChecksumMismatch)
    assert [r.key for r in (results[0], results[3])] == ["a/one", "b/two"]  # type: ignore[union-attr]
    assert store.get_bytes("a/one") == b"1" and store.get_bytes("b/two") == b"22"
    assert store.get_bytes("taken") == b"first"
    assert not store.exists("a/bad")
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_put_many_overwrites_where_the_store_allows(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, "public", write_once=False)
    store.put("index.json", b"old")
    (info,) = store.put_many([PutRequest("index.json", b"new")])
    assert not isinstance(info, Exception) and info.sha256 == sha(b"new")
    assert store.get_bytes("index.json") == b"new"


def test_write_packages_matches_write_package_and_is_idempotent(
    tmp_path: Path, sqlite_url: str
) -> None:
    archive = Archive(LocalStore(tmp_path / "objects", "archive", write_once=True))
    with Catalog.open(sqlite_url) as catalog:
        originals = [f"original {i}".encode() for i in range(3)]
        records = [
            with_extraction(r, read(file_number=f"鸿政〔2020〕{i + 1}号"))
            for i, (r, _) in enumerate(catalog.register_many([
                Registration(sha256=sha(o), size=len(o), filename=f"{i}.docx",
                             content_type=DOCX, original_key="k", source="cli", actor="t")
                for i, o in enumerate(originals)
            ]))
        ]  # fmt: skip
    alone = archive.write_package(records[0], original=originals[0], metadata={"m": 0},
                                  text="正文")  # fmt: skip
    requests = [PackageRequest(r, o, {"m": i}, "正文")
                for i, (r, o) in enumerate(zip(records, originals, strict=True))]
    requests.append(PackageRequest(records[2], b"not the original", {}, ""))
    results = archive.write_packages(requests)
    assert results[0] == alone  # complete already: left as it is
    assert isinstance(results[3], ChecksumMismatch)
    for prefix in results[:3]:
        assert isinstance(prefix, str)
        report = archive.verify(prefix)
        assert report.ok and report.checked == 3, report.problems
    names = sorted(i.key.rsplit("/", 1)[1] for i in archive.store.list(f"{results[1]}/"))
    assert names == ["manifest.json", "metadata.json", "original.docx", "text.txt"]
    again = archive.write_packages(requests[:3])
    assert again == results[:3]
    assert not any("manifest.r" in i.key for i in archive.store.list(""))


def test_put_originals_content_addressed(tmp_path: Path) -> None:
    archive = Archive(LocalStore(tmp_path, "archive", write_once=True))
    data = b"the same bytes"
    first = archive.put_original(data, sha256=sha(data), filename="a.pdf",
                                 content_type="application/pdf")  # fmt: skip
    results = archive.put_originals([
        (data, sha(data), "a.pdf", "application/pdf"),
        (b"other", sha(b"other"), "b.pdf", "application/pdf"),
        (b"lies", sha(b"truth"), "c.pdf", "application/pdf"),
    ])  # fmt: skip
    assert results[0] == first
    assert results[1] == f"originals/{sha(b'other')[:2]}/{sha(b'other')}.pdf"
    assert isinstance(results[2], ChecksumMismatch)
    assert archive.read_original(results[1], sha256=sha(b"other")) == b"other"


def test_put_many_refuses_a_key_behind_a_planted_symlink(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root", "archive", write_once=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.data_dir / "escape").symlink_to(outside, target_is_directory=True)
    results = store.put_many([PutRequest("escape/x", b"1"), PutRequest("safe/x", b"2")])
    assert isinstance(results[0], UnsafeKey)
    assert not isinstance(results[1], Exception)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("tree", ["data", "meta"])
def test_put_many_refuses_keys_under_a_symlinked_folder_deeper_down(
    tmp_path: Path, tree: str
) -> None:
    # The batch resolves folders from its cache one level at a time: a symlink two levels
    # down, in either tree, must still be seen, for every key of the batch under it.
    store = LocalStore(tmp_path / "root", "archive", write_once=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    base = store.data_dir if tree == "data" else store.meta_dir
    (base / "2020" / "issuer").mkdir(parents=True)
    (base / "2020" / "issuer" / "escape").symlink_to(outside, target_is_directory=True)
    results = store.put_many([
        PutRequest("2020/issuer/fine/x", b"0"),
        PutRequest("2020/issuer/escape/x", b"1"),
        PutRequest("2020/issuer/escape/deeper/y", b"2"),
        PutRequest("2020/issuer/fine/z", b"3"),
    ])  # fmt: skip
    assert isinstance(results[1], UnsafeKey) and isinstance(results[2], UnsafeKey)
    assert not isinstance(results[0], Exception) and not isinstance(results[3], Exception)
    assert list(outside.iterdir()) == []
    assert store.get_bytes("2020/issuer/fine/z") == b"3"


@pytest.mark.parametrize("tree", ["data", "meta"])
def test_put_many_refuses_a_key_that_is_itself_a_planted_symlink(tmp_path: Path, tree: str) -> None:
    # In a folder that was there before the batch, the key's own name is looked at too.
    store = LocalStore(tmp_path / "root", "archive", write_once=False)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not the store's")
    store.put_many([PutRequest("2020/other", b"0")])  # the folder exists before the batch
    base = store.data_dir if tree == "data" else store.meta_dir
    (base / "2020" / "x").symlink_to(outside)
    results = store.put_many([PutRequest("2020/x", b"1"), PutRequest("2020/y", b"2")])
    assert isinstance(results[0], UnsafeKey)
    assert not isinstance(results[1], Exception)
    assert outside.read_bytes() == b"not the store's"


@pytest.mark.parametrize("write_once", [True, False])
def test_put_many_refuses_a_key_where_a_folder_or_a_shorter_object_is(
    tmp_path: Path, write_once: bool
) -> None:
    store = LocalStore(tmp_path, "archive", write_once=write_once)
    store.put("a/b", b"object under folder a")
    store.put("c", b"object c")
    results = store.put_many([
        PutRequest("a", b"where folder a is"),
        PutRequest("c/d", b"under object c"),
        PutRequest("e", b"fine"),
    ])  # fmt: skip
    assert isinstance(results[0], ObjectExists)
    assert isinstance(results[1], ObjectExists)
    assert not isinstance(results[2], Exception)
    assert store.get_bytes("a/b") == b"object under folder a"
    assert store.get_bytes("c") == b"object c"
    # Nothing half-written is left behind: no temporary files in either tree.
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(RESERVED_SEGMENT_PREFIX)]
    assert leftovers == []


def test_put_many_overwrites_on_a_mutable_store_and_refuses_on_a_write_once_one(
    tmp_path: Path,
) -> None:
    mutable = LocalStore(tmp_path / "m", "public", write_once=False)
    once = LocalStore(tmp_path / "o", "archive", write_once=True)
    for store in (mutable, once):
        store.put_many([PutRequest("k", b"first")])
    again_mutable = mutable.put_many([PutRequest("k", b"second")])
    again_once = once.put_many([PutRequest("k", b"second")])
    assert not isinstance(again_mutable[0], Exception) and mutable.get_bytes("k") == b"second"
    assert isinstance(again_once[0], ObjectExists) and once.get_bytes("k") == b"first"
