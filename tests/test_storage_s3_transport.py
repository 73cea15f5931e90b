"""The S3 store's behaviour on the wire, against moto over real HTTP through a proxy that
records requests and injects faults: multipart, aborts, retries with backoff, lost answers."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import uuid
from dataclasses import replace

import pytest
from minio import Minio

from gongkai.config import S3Settings
from gongkai.storage.objects import ChecksumMismatch, ObjectExists, StorageError
from gongkai.storage.s3 import S3Store, make_minio_client

MiB = 1024 * 1024
PART = 5 * MiB


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bucket() -> str:
    return f"gk-wire-{uuid.uuid4().hex[:16]}"


class UnknownLength(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._source = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._source.readinto(buffer)


@pytest.fixture
def via_proxy(moto_s3_settings: S3Settings, flaky_proxy) -> S3Settings:
    return replace(moto_s3_settings, endpoint=flaky_proxy.endpoint)


def test_large_stream_goes_up_in_parts(via_proxy: S3Settings, flaky_proxy) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True, part_size=PART)
    data = bytes(range(256)) * (11 * MiB // 256)
    store.put("big.bin", UnknownLength(data), sha256=sha(data))
    assert flaky_proxy.outcomes("POST", "?uploads") == ["200"]  # CreateMultipartUpload
    assert flaky_proxy.outcomes("PUT", "partNumber=") == ["200", "200", "200"]  # 5 + 5 + 1 MiB
    assert flaky_proxy.outcomes("POST", "uploadId=") == ["200"]  # CompleteMultipartUpload
    stat = Minio(via_proxy.endpoint, "test", "test", secure=False).stat_object(
        store.bucket, "big.bin"
    )
    assert re.fullmatch(r"[0-9a-f]{32}-3", stat.etag)  # S3's mark of a 3-part object
    assert store.get_bytes("big.bin") == data


def test_small_object_is_one_put(via_proxy: S3Settings, flaky_proxy) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=False, part_size=PART)
    store.put("small.bin", UnknownLength(b"x" * 1000))
    assert flaky_proxy.outcomes("PUT", "small.bin") == ["200"]
    assert flaky_proxy.outcomes("POST") == []


def test_wrong_sha256_aborts_the_multipart_upload(via_proxy: S3Settings, flaky_proxy) -> None:
    client = make_minio_client(via_proxy)
    store = S3Store(client, bucket(), write_once=True, part_size=PART)
    data = b"\x5a" * (11 * MiB)
    with pytest.raises(ChecksumMismatch):
        store.put("big.bin", UnknownLength(data), sha256=sha(b"something else"))
    assert flaky_proxy.outcomes("POST", "uploadId=") == []  # never completed
    assert flaky_proxy.outcomes("DELETE", "uploadId=") == ["204"]  # aborted
    assert not store.exists("big.bin")


def test_503_slowdown_is_retried_by_the_connection_pool(
    via_proxy: S3Settings, flaky_proxy
) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True)
    flaky_proxy.add_faults("PUT", "503", count=2)
    flaky_proxy.add_faults("GET", "503", count=2)
    store.put("doc.pdf", b"%PDF-1.7 bytes", content_type="application/pdf")
    assert flaky_proxy.outcomes("PUT", "/doc.pdf") == ["503", "503", "200"]
    assert store.get_bytes("doc.pdf") == b"%PDF-1.7 bytes"
    assert flaky_proxy.outcomes("GET", "doc.pdf") == ["503", "503", "200"]


def test_store_retries_with_growing_backoff_when_the_client_does_not(
    via_proxy: S3Settings, flaky_proxy, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_minio_client(via_proxy, retries=0)  # the pool gives up at once
    store = S3Store(client, bucket(), write_once=True, retries=4, backoff=0.01)
    flaky_proxy.add_faults("PUT", "503", count=3)
    with caplog.at_level(logging.WARNING, logger="gongkai.storage.s3"):
        store.put("doc.txt", "公文".encode())
    assert flaky_proxy.outcomes("PUT", "/doc.txt") == ["503", "503", "503", "200"]
    delays = [float(m) for m in re.findall(r"([0-9.]+) 秒后重试（\d+/\d+）", caplog.text)]
    assert len(delays) == 3
    assert delays == sorted(delays)  # exponential: each wait at least as long as the last
    assert store.get_bytes("doc.txt") == "公文".encode()


def test_dropped_connection_is_retried(via_proxy: S3Settings, flaky_proxy) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=False, backoff=0.01)
    flaky_proxy.add_faults("PUT", "drop")
    flaky_proxy.add_faults("GET", "drop", path_contains="page.html")
    store.put("page.html", b"<p>hi</p>", content_type="text/html")
    assert flaky_proxy.outcomes("PUT", "/page.html") == ["drop", "200"]
    assert store.get_bytes("page.html") == b"<p>hi</p>"
    assert flaky_proxy.outcomes("GET", "/page.html") == ["drop", "200"]


def test_a_read_cut_off_mid_body_resumes_where_it_broke(
    via_proxy: S3Settings, flaky_proxy
) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True, backoff=0.01)
    data = bytes(range(256)) * (3 * MiB // 256)
    store.put("long.bin", data)
    flaky_proxy.add_faults("GET", "cut-body", path_contains="long.bin")
    assert store.get_bytes("long.bin") == data
    # The second request asked only for the rest: 206 Partial Content.
    assert flaky_proxy.outcomes("GET", "long.bin") == ["cut-body", "206"]


def test_an_object_replaced_during_a_broken_read_is_an_error(
    via_proxy: S3Settings, flaky_proxy, moto_s3_settings: S3Settings
) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=False, backoff=0.01)
    store.put("index.html", b"<p>first</p>" * 50_000)
    flaky_proxy.add_faults("GET", "cut-body", path_contains="index.html")
    with store.open("index.html") as stream:  # the proxy has cut this body already
        direct = S3Store(make_minio_client(moto_s3_settings), store.bucket, write_once=False)
        direct.put("index.html", b"<p>second</p>" * 50_000)
        with pytest.raises(StorageError, match="replaced while it was being read"):
            stream.read()


def test_lost_answer_to_a_conditional_put_is_not_mistaken_for_a_conflict(
    via_proxy: S3Settings, flaky_proxy
) -> None:
    """The first PUT lands but its answer is lost; the retry meets 412 (the key exists).
    The stored object is ours (same sha256), so the put succeeds."""
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True, backoff=0.01)
    flaky_proxy.add_faults("PUT", "lose-answer")
    info = store.put("original.docx", b"docx", content_type="application/msword")
    assert flaky_proxy.outcomes("PUT", "/original.docx") == ["lose-answer", "412"]
    assert info.sha256 == sha(b"docx")
    assert store.get_bytes("original.docx") == b"docx"


def test_lost_answer_to_complete_multipart(via_proxy: S3Settings, flaky_proxy) -> None:
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True, part_size=PART,
                    backoff=0.01)
    data = b"\x01" * (6 * MiB)
    flaky_proxy.add_faults("POST", "lose-answer", path_contains="uploadId=")
    store.put("big.bin", UnknownLength(data), sha256=sha(data))
    assert flaky_proxy.outcomes("POST", "uploadId=")[0] == "lose-answer"
    assert store.get_bytes("big.bin") == data


def test_a_real_conflict_after_a_retry_is_still_refused(
    via_proxy: S3Settings, flaky_proxy, moto_s3_settings: S3Settings
) -> None:
    """The answer is lost, and meanwhile another writer's object is there: not ours -> refused."""
    store = S3Store(make_minio_client(via_proxy), bucket(), write_once=True, backoff=0.01)
    store.put("taken", b"first writer")
    direct = S3Store(make_minio_client(moto_s3_settings), store.bucket, write_once=True)
    flaky_proxy.add_faults("PUT", "drop")
    with pytest.raises(ObjectExists):
        store.put("taken", b"second writer")
    assert direct.get_bytes("taken") == b"first writer"


def test_persistent_failure_ends_in_a_storage_error(via_proxy: S3Settings, flaky_proxy) -> None:
    store = S3Store(make_minio_client(via_proxy, retries=1, backoff_factor=0.01), bucket(),
                    write_once=False, retries=2, backoff=0.01)
    flaky_proxy.add_faults("PUT", "503", count=50)
    with pytest.raises(StorageError, match="SlowDown"):
        store.put("never", b"x")
    # (1 try + 1 pool retry) x (1 try + 2 store retries)
    assert flaky_proxy.outcomes("PUT", "/never") == ["503"] * 6


def test_unreachable_endpoint_is_a_storage_error() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = S3Settings(f"127.0.0.1:{port}", "test", "test", secure=False, region="us-east-1")
    with pytest.raises(StorageError):
        S3Store(make_minio_client(settings, retries=1, backoff_factor=0.01), bucket(),
                write_once=False, retries=1, backoff=0.01)


def test_objects_without_a_sha256_are_not_served_unverified(
    moto_s3_settings: S3Settings,
) -> None:
    store = S3Store(make_minio_client(moto_s3_settings), bucket(), write_once=False)
    raw = Minio(moto_s3_settings.endpoint, "test", "test", secure=False, region="us-east-1")
    raw.put_object(store.bucket, "foreign.txt", io.BytesIO(b"put by someone else"), 19)
    with pytest.raises(StorageError, match="no sha256"):
        store.head("foreign.txt")
    with pytest.raises(StorageError, match="no sha256"):
        store.get_bytes("foreign.txt")


def test_metadata_values_travel_as_ascii_headers(moto_s3_settings: S3Settings) -> None:
    store = S3Store(make_minio_client(moto_s3_settings), bucket(), write_once=False)
    store.put("doc.docx", b"x", metadata={"filename": "鸿政〔2020〕53号 方案.docx"})
    raw = Minio(moto_s3_settings.endpoint, "test", "test", secure=False, region="us-east-1")
    header = raw.stat_object(store.bucket, "doc.docx").metadata["x-amz-meta-filename"]
    assert header.isascii() and " " not in header
    assert store.head("doc.docx").metadata["filename"] == "鸿政〔2020〕53号 方案.docx"
