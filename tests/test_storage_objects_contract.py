"""The object-store contract: every backend (local folder, S3 on moto over HTTP, real MinIO when
configured) must pass these same tests. Backend-specific checks are at the end."""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import multiprocessing.queues
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongkai.storage.local import LocalStore
from gongkai.storage.objects import (
    ChecksumMismatch,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    UnsafeKey,
)

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part size: keeps the multipart cases quick
CHINESE_KEY = "2020/石狮市鸿山镇人民政府/1-鸿政〔2020〕53号/original.docx"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def patterned(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes (no two parts alike)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest() * 64
        counter += 1
    return bytes(out[:size])


class TrickleStream(io.RawIOBase):
    """A non-seekable stream of unknown length that hands out at most `step` bytes a read."""

    def __init__(self, data: bytes, step: int = 300_000) -> None:
        self._data = memoryview(data)
        self._position = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._step, len(self._data) - self._position)
        buffer[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)) * 4, b"", b"\x00", "公开 text\r\n\x00".encode()],
    ids=["all-256-byte-values", "empty", "nul", "text-crlf"],
)
def test_bytes_round_trip_is_byte_identical(store_backend, data: bytes) -> None:
    store = store_backend.make(write_once=True)
    info = store.put("a/object.bin", data)
    assert (info.key, info.size, info.sha256) == ("a/object.bin", len(data), sha(data))
    assert store.get_bytes("a/object.bin") == data
    head = store.head("a/object.bin")
    assert (head.size, head.sha256, head.content_type) == (
        len(data), sha(data), "application/octet-stream"
    )


def test_multi_megabyte_object_round_trip(store_backend) -> None:
    store = store_backend.make(write_once=True, part_size=PART)
    data = patterned(12 * MiB + 7)  # more than two parts when given as bytes
    store.put("big/bytes.bin", data, sha256=sha(data))
    with store.open("big/bytes.bin") as stream:
        chunks = []
        while chunk := stream.read(MiB):
            chunks.append(chunk)
    assert b"".join(chunks) == data
    assert store.head("big/bytes.bin").size == len(data)


@pytest.mark.parametrize("give_sha", [True, False], ids=["sha-given", "sha-computed"])
def test_streamed_put_beyond_part_size_of_unknown_length(store_backend, give_sha: bool) -> None:
    store = store_backend.make(write_once=True, part_size=PART)
    data = patterned(11 * MiB, seed=1)
    info = store.put(
        "big/streamed.bin",
        TrickleStream(data),
        sha256=sha(data) if give_sha else None,
        content_type="application/pdf",
    )
    assert (info.size, info.sha256) == (len(data), sha(data))
    assert store.get_bytes("big/streamed.bin") == data
    head = store.head("big/streamed.bin")
    assert (head.size, head.sha256, head.content_type) == (len(data), sha(data), "application/pdf")


def test_streamed_put_of_exactly_one_part(store_backend) -> None:
    store = store_backend.make(write_once=False, part_size=PART)
    data = patterned(PART, seed=2)
    store.put("edge/one-part.bin", TrickleStream(data), sha256=sha(data))
    assert store.get_bytes("edge/one-part.bin") == data


def test_stream_with_declared_length(store_backend) -> None:
    store = store_backend.make(write_once=False)
    data = patterned(100_000, seed=3)
    store.put("s/with-length.bin", io.BytesIO(data), length=len(data))
    assert store.get_bytes("s/with-length.bin") == data


@pytest.mark.parametrize("declared", [99_999, 100_001])
def test_stream_whose_length_differs_from_the_declared_one_is_refused(
    store_backend, declared: int
) -> None:
    store = store_backend.make(write_once=False)
    data = patterned(100_000, seed=4)
    with pytest.raises(StorageError, match="length"):
        store.put("s/bad-length.bin", io.BytesIO(data), length=declared)
    assert not store.exists("s/bad-length.bin")


def test_content_type_and_metadata_round_trip(store_backend) -> None:
    store = store_backend.make(write_once=True)
    metadata = {
        "filename": "石狮市鸿山镇 工作方案 100%.docx",
        "document-id": "42",
        "source_system": "oa",
        "note": "  leading and trailing spaces  ",
    }
    content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    put = store.put("m/doc.docx", b"docx bytes", content_type=content_type, metadata=metadata)
    for info in (put, store.head("m/doc.docx"), next(iter(store.list("m/")))):
        assert info.content_type == content_type
        assert dict(info.metadata) == metadata
        assert "sha256" not in info.metadata  # it has its own field
        assert info.sha256 == sha(b"docx bytes")


@pytest.mark.parametrize(
    "metadata", [{"Filename": "x"}, {"sha256": "0" * 64}, {"bad key": "x"}, {"n": 1}]
)
def test_bad_metadata_is_refused_before_anything_is_stored(store_backend, metadata) -> None:
    store = store_backend.make(write_once=False)
    with pytest.raises(ValueError):
        store.put("m/x", b"x", metadata=metadata)
    assert not store.exists("m/x")


def test_chinese_key_with_spaces_round_trip_and_listing(store_backend) -> None:
    store = store_backend.make(write_once=True)
    spaced = "2020/石狮市鸿山镇人民政府/2-关于 印发 方案 的通知/text.txt"
    store.put(CHINESE_KEY, b"original")
    store.put(spaced, "正文".encode())
    assert store.get_bytes(CHINESE_KEY) == b"original"
    assert store.get_bytes(spaced) == "正文".encode()
    assert [i.key for i in store.list("2020/石狮市")] == [CHINESE_KEY, spaced]
    assert [i.key for i in store.list("2020/石狮市鸿山镇人民政府/2-关于 印发")] == [spaced]
    assert store.head(CHINESE_KEY).size == len(b"original")


# -- integrity ---------------------------------------------------------------------------


def test_sha256_is_recorded_and_a_corrupted_object_fails_on_read(store_backend) -> None:
    store = store_backend.make(write_once=True)
    data = bytes(range(256)) * 16
    store.put("c/doc.bin", data, sha256=sha(data))
    assert store.head("c/doc.bin").sha256 == sha(data)
    tampered = bytearray(data)
    tampered[1000] ^= 0x01  # one bit, same length
    store_backend.corrupt(store, "c/doc.bin", bytes(tampered))
    with pytest.raises(ChecksumMismatch):
        store.get_bytes("c/doc.bin")
    with store.open("c/doc.bin") as stream, pytest.raises(ChecksumMismatch):
        while stream.read(1000):
            pass


def test_a_truncated_object_fails_on_read(store_backend) -> None:
    store = store_backend.make(write_once=True)
    data = patterned(50_000, seed=5)
    store.put("c/truncated.bin", data)
    store_backend.corrupt(store, "c/truncated.bin", data[:-1])
    with pytest.raises(ChecksumMismatch):
        store.get_bytes("c/truncated.bin")


def test_reading_exactly_the_recorded_size_is_verified(store_backend) -> None:
    store = store_backend.make(write_once=True)
    data = patterned(70_000, seed=8)
    store.put("c/exact.bin", data)
    store_backend.corrupt(store, "c/exact.bin", data[:-1] + b"?")
    with store.open("c/exact.bin") as stream, pytest.raises(ChecksumMismatch):
        stream.read(len(data))


def test_an_object_longer_than_recorded_fails_on_read(store_backend) -> None:
    store = store_backend.make(write_once=True)
    data = patterned(20_000, seed=9)
    store.put("c/longer.bin", data)
    store_backend.corrupt(store, "c/longer.bin", data + b"appended")
    with pytest.raises(ChecksumMismatch):
        store.get_bytes("c/longer.bin")


def test_partial_reads_do_not_claim_verification(store_backend) -> None:
    """The check happens at the end: a reader that stops early has read unverified bytes."""
    store = store_backend.make(write_once=True)
    data = patterned(10_000, seed=6)
    store.put("c/partial.bin", data)
    with store.open("c/partial.bin") as stream:
        assert stream.read(10) == data[:10]


@pytest.mark.parametrize("form", ["bytes", "stream", "multipart-stream"])
def test_wrong_sha256_on_put_stores_nothing(store_backend, form: str) -> None:
    store = store_backend.make(write_once=True, part_size=PART)
    data = patterned(11 * MiB if form == "multipart-stream" else 1000, seed=7)
    wrong = sha(data + b"!")
    source = data if form == "bytes" else TrickleStream(data)
    with pytest.raises(ChecksumMismatch):
        store.put("w/doc.bin", source, sha256=wrong)
    assert not store.exists("w/doc.bin")
    assert list(store.list()) == []
    # The key is still free: the refused write claimed nothing.
    store.put("w/doc.bin", data, sha256=sha(data))
    assert store.get_bytes("w/doc.bin") == data


def test_malformed_sha256_is_refused(store_backend) -> None:
    store = store_backend.make(write_once=True)
    with pytest.raises(ValueError):
        store.put("w/x", b"x", sha256="not-a-digest")
    assert not store.exists("w/x")


# -- head, exists, list, not found ------------------------------------------------------


def test_head_exists_and_list_by_prefix(store_backend) -> None:
    store = store_backend.make(write_once=True)
    keys = [
        "2021/b/doc-2/manifest.json",
        "2020/a/doc-1/original.pdf",
        "2020/a/doc-1/manifest.json",
        "2020/a-b/doc-9/text.txt",  # '-' sorts before '/': a prefix trap for folder walks
        "2020/ab/doc-3/text.txt",
        "2020/a/doc-10/text.txt",
        "top.txt",
    ]
    for index, key in enumerate(keys):
        store.put(key, f"object {index}".encode())
    assert [i.key for i in store.list()] == sorted(keys)
    assert [i.key for i in store.list("2020/a/")] == [
        "2020/a/doc-1/manifest.json",
        "2020/a/doc-1/original.pdf",
        "2020/a/doc-10/text.txt",
    ]
    assert [i.key for i in store.list("2020/a")] == [
        "2020/a-b/doc-9/text.txt",
        "2020/a/doc-1/manifest.json",
        "2020/a/doc-1/original.pdf",
        "2020/a/doc-10/text.txt",
        "2020/ab/doc-3/text.txt",
    ]
    assert [i.key for i in store.list("2020/a/doc-1")] == [
        "2020/a/doc-1/manifest.json",
        "2020/a/doc-1/original.pdf",
        "2020/a/doc-10/text.txt",
    ]
    assert [i.key for i in store.list("2020/a/doc-1/")] == [
        "2020/a/doc-1/manifest.json",
        "2020/a/doc-1/original.pdf",
    ]
    assert list(store.list("1999/")) == []
    listed = {i.key: i for i in store.list("2021/")}
    assert listed["2021/b/doc-2/manifest.json"].sha256 == sha(b"object 0")
    assert listed["2021/b/doc-2/manifest.json"].size == len(b"object 0")
    assert store.exists("top.txt")
    assert not store.exists("top")
    assert not store.exists("2020/a")  # a "folder" is not an object
    assert store.head("2020/ab/doc-3/text.txt").size == len(b"object 4")


def test_missing_objects_raise_object_not_found(store_backend) -> None:
    store = store_backend.make(write_once=True)
    store.put("present/x", b"x")
    for key in ("absent", "present", "present/x/deeper", "present/y"):
        with pytest.raises(ObjectNotFound):
            store.head(key)
        with pytest.raises(ObjectNotFound):
            store.get_bytes(key)
        with pytest.raises(ObjectNotFound):
            store.open(key)
        assert not store.exists(key)


# -- write once and rewritable -------------------------------------------------------------


@pytest.mark.parametrize("form", ["bytes", "stream"])
def test_write_once_store_refuses_to_replace(store_backend, form: str) -> None:
    store = store_backend.make(write_once=True)
    store.put("o/original.pdf", b"first", content_type="application/pdf")
    second = b"second" if form == "bytes" else io.BytesIO(b"second")
    with pytest.raises(ObjectExists):
        store.put("o/original.pdf", second)
    with pytest.raises(ObjectExists):
        store.put("o/original.pdf", b"first")  # not even with the same bytes
    assert store.get_bytes("o/original.pdf") == b"first"
    assert store.head("o/original.pdf").content_type == "application/pdf"


def test_rewritable_store_replaces(store_backend) -> None:
    store = store_backend.make(write_once=False)
    store.put("index.html", b"<p>one</p>", content_type="text/html", metadata={"rev": "1"})
    store.put("index.html", b"<p>two</p>", content_type="text/html; charset=utf-8",
              metadata={"rev": "2"})
    assert store.get_bytes("index.html") == b"<p>two</p>"
    head = store.head("index.html")
    assert (head.sha256, head.content_type, dict(head.metadata)) == (
        sha(b"<p>two</p>"), "text/html; charset=utf-8", {"rev": "2"}
    )
    assert [i.key for i in store.list()] == ["index.html"]


def test_concurrent_writers_of_one_write_once_key(store_backend) -> None:
    store = store_backend.make(write_once=True)
    writers = 6
    start = threading.Barrier(writers)
    outcomes: dict[int, str] = {}

    def write(index: int) -> None:
        data = f"writer {index}".encode() * 1000
        start.wait()
        try:
            store.put("race/original.bin", data, sha256=sha(data))
            outcomes[index] = "stored"
        except ObjectExists:
            outcomes[index] = "refused"

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [i for i, outcome in outcomes.items() if outcome == "stored"]
    assert len(outcomes) == writers
    assert len(winners) == 1, outcomes
    assert store.get_bytes("race/original.bin") == f"writer {winners[0]}".encode() * 1000


def test_archive_bucket_has_versioning(store_backend) -> None:
    if store_backend.versioning_enabled is None:
        pytest.skip(f"{store_backend.name} has no bucket versioning")
    archive = store_backend.make(write_once=True, versioning=True)
    public = store_backend.make(write_once=False)
    assert store_backend.versioning_enabled(archive)
    assert not store_backend.versioning_enabled(public)
    # Opening the store again on an existing versioned bucket keeps it so.
    again = store_backend.make(write_once=True, versioning=True, bucket=archive.bucket)
    assert store_backend.versioning_enabled(again)
    assert archive.put("v/x", b"x").version_id


# -- unsafe keys ---------------------------------------------------------------------------

UNSAFE_KEYS = [
    "",
    "/etc/passwd",
    "../escape",
    "a/../../escape",
    "a/./b",
    "a//b",
    "a/",
    "a\\b",
    "..\\escape",
    "nul\x00byte",
    "line\nbreak",
    ".~gongkai-reserved.tmp",
    "x" * 256,
]


@pytest.mark.parametrize("key", UNSAFE_KEYS, ids=range(len(UNSAFE_KEYS)))
def test_unsafe_keys_are_refused(store_backend, key: str) -> None:
    store = store_backend.make(write_once=False)
    with pytest.raises(UnsafeKey):
        store.put(key, b"x")
    with pytest.raises(UnsafeKey):
        store.head(key)
    with pytest.raises(UnsafeKey):
        store.open(key)
    assert list(store.list()) == []


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../b", "a\\b"])
def test_unsafe_list_prefixes_are_refused(store_backend, prefix: str) -> None:
    store = store_backend.make(write_once=False)
    with pytest.raises(UnsafeKey):
        list(store.list(prefix))


# -- local folder specifics ------------------------------------------------------------------


def _local(tmp_path: Path, *, write_once: bool = True) -> LocalStore:
    return LocalStore(tmp_path / "objects", "gongkai-archive", write_once=write_once)


def test_local_layout_keeps_metadata_out_of_the_key_space(tmp_path: Path) -> None:
    store = _local(tmp_path)
    store.put(CHINESE_KEY, b"original", metadata={"filename": "鸿政〔2020〕53号.docx"})
    data_file = tmp_path / "objects" / "gongkai-archive" / CHINESE_KEY
    assert data_file.read_bytes() == b"original"  # a person can find and open it
    files = sorted(p.relative_to(tmp_path / "objects").as_posix()
                   for p in (tmp_path / "objects").rglob("*") if p.is_file())
    assert files == [
        ".gongkai-locks/gongkai-archive",
        f".gongkai-meta/gongkai-archive/{CHINESE_KEY}",
        f"gongkai-archive/{CHINESE_KEY}",
    ]
    assert [i.key for i in store.list()] == [CHINESE_KEY]


def test_local_failed_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = _local(tmp_path)
    with pytest.raises(ChecksumMismatch):
        store.put("a/b.bin", b"data", sha256=sha(b"other"))
    leftovers = [p for p in (tmp_path / "objects").rglob("*")
                 if p.is_file() and ".gongkai-locks" not in p.parts]
    assert leftovers == []


def test_local_bytes_without_sidecar_are_not_an_object(tmp_path: Path) -> None:
    """A crash between writing the bytes and the sidecar leaves nothing visible, and the key
    can still be written once."""
    store = _local(tmp_path)
    orphan = store.data_dir / "crashed" / "original.pdf"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"half-written")
    assert not store.exists("crashed/original.pdf")
    assert list(store.list()) == []
    store.put("crashed/original.pdf", b"complete")
    assert store.get_bytes("crashed/original.pdf") == b"complete"


def test_local_symlink_out_of_the_store_is_refused(tmp_path: Path) -> None:
    store = _local(tmp_path, write_once=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, store.data_dir / "link")
    with pytest.raises(UnsafeKey):
        store.put("link/planted.txt", b"x")
    assert list(outside.iterdir()) == []


def test_local_key_under_an_existing_object_is_refused(tmp_path: Path) -> None:
    store = _local(tmp_path, write_once=False)
    store.put("a", b"file")
    with pytest.raises(ObjectExists):
        store.put("a/b", b"x")
    store.put("c/d", b"x")
    with pytest.raises(ObjectExists):
        store.put("c", b"x")
    assert store.get_bytes("a") == b"file"


def test_local_concurrent_processes_on_one_write_once_key(tmp_path: Path) -> None:
    """Separate processes (not just threads) race for one key: one wins."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [
        context.Process(target=_put_in_process, args=(str(tmp_path / "objects"), i, results))
        for i in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    outcomes = sorted(results.get(timeout=5) for _ in processes)
    assert outcomes.count("stored") == 1, outcomes
    assert outcomes.count("refused") == 3, outcomes


def _put_in_process(root: str, index: int, results: multiprocessing.queues.Queue) -> None:
    store = LocalStore(Path(root), "gongkai-archive", write_once=True)
    try:
        store.put("race/original.bin", f"process {index}".encode())
        results.put("stored")
    except ObjectExists:
        results.put("refused")


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.lists(st.sampled_from([*"ab./\\\x00 -~石〔〕", "..", "%2e", ".~gongkai-"]),
                    min_size=1, max_size=16).map("".join))
def test_local_keys_never_leave_the_bucket_folder(tmp_path: Path, key: str) -> None:
    """Whatever the key: refused as unsafe, or stored at a path inside the bucket folder."""
    store = _local(tmp_path, write_once=False)
    try:
        store.put(key, b"x")
    except UnsafeKey:
        return
    except ObjectExists:
        return  # a file/folder clash with an earlier example's key, not an escape
    stored = (store.data_dir / key).resolve()
    assert stored.is_relative_to(store.data_dir.resolve())
    assert stored.read_bytes() == b"x"
    assert store.exists(key)


def test_delete_removes_an_object_and_write_once_stores_refuse(store_backend) -> None:
    store = store_backend.make(write_once=False)
    store.put("pages/1.json", b"{}")
    store.put("pages/2.json", b"[]")
    store.delete("pages/1.json")
    store.delete("pages/1.json")  # absent: no error
    assert not store.exists("pages/1.json")
    assert [i.key for i in store.list("pages/")] == ["pages/2.json"]
    archive = store_backend.make(write_once=True)
    archive.put("kept.bin", b"original")
    with pytest.raises(StorageError, match="write-once"):
        archive.delete("kept.bin")
    assert archive.get_bytes("kept.bin") == b"original"
