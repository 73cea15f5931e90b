"""S3 fixtures: moto's S3 server over real HTTP, an optional real MinIO, a fault-injecting proxy,
and `store_backend`, which runs a test on every object-store backend.

- `moto_s3_endpoint` (session): moto's threaded S3 server on 127.0.0.1, on a port the OS picks.
- `real_minio_settings`: S3Settings from GONGKAI_TEST_S3_ENDPOINT / _ACCESS_KEY / _SECRET_KEY
  (/ _SECURE), or a skip when they are not set.
- `store_backend`: parametrised over "local", "s3-moto", "s3-minio"; each make() gets a fresh
  bucket (S3) or folder (local).
- `flaky_proxy`: an HTTP proxy in front of moto that answers 503, drops connections, or loses
  answers for the requests it is told to, then forwards the rest unchanged.
"""

from __future__ import annotations

import http.client
import http.server
import io
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gongkai.config import S3Settings
from gongkai.storage.objects import ObjectStore

if TYPE_CHECKING:
    from minio import Minio

ACCESS_KEY = "test"
SECRET_KEY = "test"  # moto accepts any credentials
TEST_REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    """host:port of a moto S3 server running in this process for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request log lines
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_s3_settings(moto_s3_endpoint: str) -> S3Settings:
    return S3Settings(
        endpoint=moto_s3_endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        secure=False,
        region=TEST_REGION,
    )


@pytest.fixture
def real_minio_settings() -> S3Settings:
    endpoint = os.environ.get("GONGKAI_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.skip("no real MinIO: set GONGKAI_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY")
    return S3Settings(
        endpoint=endpoint,
        access_key=os.environ.get("GONGKAI_TEST_S3_ACCESS_KEY", ""),
        secret_key=os.environ.get("GONGKAI_TEST_S3_SECRET_KEY", ""),
        secure=os.environ.get("GONGKAI_TEST_S3_SECURE", "").lower() in {"1", "true", "yes"},
        region=os.environ.get("GONGKAI_TEST_S3_REGION") or None,
    )


def unique_bucket(label: str = "t") -> str:
    return f"gk-{label}-{uuid.uuid4().hex[:16]}"


def remove_bucket_completely(client: Minio, bucket: str) -> None:
    """Delete every version of every object, then the bucket (real MinIO keeps them)."""
    if not client.bucket_exists(bucket):
        return
    for entry in client.list_objects(bucket, recursive=True, include_version=True):
        client.remove_object(bucket, entry.object_name, version_id=entry.version_id)
    client.remove_bucket(bucket)


@dataclass
class StoreBackend:
    """One backend under test. make() returns a store on a fresh bucket."""

    name: str
    make: Callable[..., ObjectStore]
    # Replace an object's bytes behind the store's back, keeping its recorded sha256.
    corrupt: Callable[[ObjectStore, str, bytes], None]
    # Whether the store's bucket keeps versions; None where the backend has no such notion.
    versioning_enabled: Callable[[ObjectStore], bool] | None
    made: list[ObjectStore] = field(default_factory=list)


def _local_backend(tmp_path: Path) -> StoreBackend:
    from gongkai.storage.local import LocalStore

    root = tmp_path / "objects"

    def make(*, write_once: bool, versioning: bool = False, part_size: int | None = None,
             bucket: str | None = None) -> ObjectStore:
        del versioning, part_size  # a folder has neither
        return LocalStore(root, bucket or unique_bucket(), write_once=write_once)

    def corrupt(store: ObjectStore, key: str, data: bytes) -> None:
        assert isinstance(store, LocalStore)
        (store.data_dir / key).write_bytes(data)

    return StoreBackend("local", make, corrupt, None)


def _s3_backend(name: str, settings: S3Settings) -> StoreBackend:
    from minio import Minio

    from gongkai.storage.s3 import S3Store, make_minio_client

    client = make_minio_client(settings)
    # A plain client, as an outsider would use it, for tampering behind the store's back.
    raw = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
    )
    backend: StoreBackend

    def make(*, write_once: bool, versioning: bool = False, part_size: int | None = None,
             bucket: str | None = None) -> ObjectStore:
        extra = {"part_size": part_size} if part_size else {}
        store = S3Store(client, bucket or unique_bucket(), write_once=write_once,
                        versioning=versioning, **extra)
        backend.made.append(store)
        return store

    def corrupt(store: ObjectStore, key: str, data: bytes) -> None:
        info = store.head(key)
        raw.put_object(
            store.bucket, key, io.BytesIO(data), len(data),
            content_type=info.content_type, metadata={"sha256": info.sha256},
        )

    def versioning_enabled(store: ObjectStore) -> bool:
        return raw.get_bucket_versioning(store.bucket).status == "Enabled"

    backend = StoreBackend(name, make, corrupt, versioning_enabled)
    backend.raw_client = raw  # type: ignore[attr-defined]
    return backend


@pytest.fixture(params=["local", "s3-moto", "s3-minio"])
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreBackend]:
    if request.param == "local":
        yield _local_backend(tmp_path)
        return
    if request.param == "s3-moto":
        yield _s3_backend("s3-moto", request.getfixturevalue("moto_s3_settings"))
        return
    backend = _s3_backend("s3-minio", request.getfixturevalue("real_minio_settings"))
    try:
        yield backend
    finally:
        for store in backend.made:
            remove_bucket_completely(backend.raw_client, store.bucket)  # type: ignore[attr-defined]


# -- a proxy that injects transient faults -----------------------------------------------

FAULTS = ("503", "drop", "lose-answer", "cut-body")
SLOW_DOWN_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Fault:
    method: str  # the HTTP method it applies to; "*" for any
    kind: str  # "503": answer 503 SlowDown; "drop": close without forwarding;
    # "lose-answer": forward, then close without answering (the request took effect);
    # "cut-body": forward, answer with the full Content-Length but only half the body
    path_contains: str = ""  # only requests whose path (with query) contains this


class FlakyProxy:
    """Forwards HTTP requests to `upstream`; the first requests matching queued faults get
    the fault instead."""

    def __init__(self, upstream: str) -> None:
        self.upstream_host, port = upstream.rsplit(":", 1)
        self.upstream_port = int(port)
        self.faults: list[Fault] = []
        self.served: list[tuple[str, str, str]] = []  # (method, path, outcome)
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = proxy._take_fault(self.command, self.path)
                if fault is not None and fault.kind == "503":
                    proxy._record(self.command, self.path, "503")
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN_BODY)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOW_DOWN_BODY)
                    return
                if fault is not None and fault.kind == "drop":
                    proxy._record(self.command, self.path, "drop")
                    self.close_connection = True
                    return
                status, headers, answer = proxy._forward(
                    self.command, self.path, self.headers.items(), body
                )
                if fault is not None and fault.kind == "lose-answer":
                    proxy._record(self.command, self.path, "lose-answer")
                    self.close_connection = True
                    return
                cut = fault is not None and fault.kind == "cut-body"
                proxy._record(self.command, self.path, "cut-body" if cut else str(status))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                if self.command == "HEAD":
                    length_header = dict((n.lower(), v) for n, v in headers).get("content-length")
                    self.send_header("Content-Length", length_header or "0")
                else:
                    self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                if cut:
                    self.wfile.write(answer[: len(answer) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                elif self.command != "HEAD":
                    self.wfile.write(answer)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def add_faults(self, method: str, kind: str, count: int = 1, path_contains: str = "") -> None:
        assert kind in FAULTS
        with self._lock:
            self.faults.extend(Fault(method, kind, path_contains) for _ in range(count))

    def outcomes(self, method: str | None = None, path_contains: str = "") -> list[str]:
        """What each matching request got, in order: a status code, "drop", "lose-answer"."""
        with self._lock:
            return [outcome for m, path, outcome in self.served
                    if method in (None, m) and path_contains in path]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.method in ("*", method) and fault.path_contains in path:
                    return self.faults.pop(index)
        return None

    def _record(self, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self.served.append((method, path, outcome))

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port,
                                                timeout=60)
        try:
            # Headers go through unchanged (Host included: the signature covers it).
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body if body else None)
            response = connection.getresponse()
            answer = response.read()
            return response.status, response.getheaders(), answer
        finally:
            connection.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


@pytest.fixture
def flaky_proxy(moto_s3_endpoint: str) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(moto_s3_endpoint)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
