"""The MinIO/S3 object store on the minio SDK.

- The bucket is created if missing; the archive bucket gets versioning turned on.
- Every object carries its sha256 in user metadata (x-amz-meta-sha256); reads verify it at EOF.
- Uploads: one PUT up to `part_size`, multipart beyond it (and for streams of unknown length).
  Streams are never loaded whole into memory: one part at a time. A stream put without a
  sha256 is first spooled to a temporary file, because the sha256 must be sent with the
  metadata before the first byte.
- Write-once: a stat before uploading (cheap refusal) and a conditional write
  (`If-None-Match: *` on PutObject / CompleteMultipartUpload, honoured by AWS S3, MinIO and
  moto) so two concurrent writers cannot both win. minio-py's put_object has no way to send
  that header (it turns unknown headers into x-amz-meta-*), so the upload requests are issued
  through the client's request layer (`Minio._execute` and the multipart helpers).
- Transient failures (connection errors, 5xx, SlowDown) are retried twice over: urllib3 retries
  refused connections and 5xx responses inside the client made by `make_minio_client`, and each
  request is retried here with exponential backoff and jitter. Every request body is bytes in
  memory, so a retried request resends exactly the same bytes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO, TypeVar

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.datatypes import CompleteMultipartUploadResult
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.time import from_http_header
from minio.versioningconfig import VersioningConfig

from gongkai.config import S3Settings
from gongkai.storage.common import (
    CHUNK_SIZE,
    HashingReader,
    VerifyingReader,
    check_bucket,
    check_content_type,
    check_key,
    check_metadata,
    check_prefix,
    check_sha256,
    checked_sha256,
)
from gongkai.storage.objects import (
    ObjectExists,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StorageError,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest multipart part (except the last)
DEFAULT_PART_SIZE = 16 * 1024 * 1024
DEFAULT_SPOOL_BYTES = 8 * 1024 * 1024
META_PREFIX = "x-amz-meta-"
SHA256_HEADER = META_PREFIX + "sha256"
# S3 error codes that mean "try again later", whatever the HTTP status.
TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "OperationAborted",
        "XMinioServerNotInitialized",
    }
)
# Metadata values travel as HTTP headers: printable ASCII only. Everything else (Chinese file
# names, spaces, '%') is percent-encoded as UTF-8 and decoded on the way back.
_SAFE_METADATA_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


def make_minio_client(
    settings: S3Settings,
    *,
    retries: int = 5,
    backoff_factor: float = 0.2,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Minio:
    """A minio client whose connection pool retries refused connections and 5xx answers
    (including 503 SlowDown) with exponential backoff, honouring Retry-After.

    Read errors (the request reached the server, the answer was lost) are left to S3Store,
    which knows whether a conditional write may already have landed."""
    retry = urllib3.Retry(
        total=retries,
        connect=retries,
        read=0,
        status=retries,
        other=0,
        backoff_factor=backoff_factor,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,  # every S3 request we send is safe to repeat after a 5xx
        raise_on_status=False,  # let minio parse the final error body (S3Error with its code)
        respect_retry_after_header=True,
    )
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout or min(10.0, settings.timeout_s),
                                read=read_timeout or settings.timeout_s),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=retry,
    )
    return Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
        http_client=http,
    )


def _encode_metadata_value(value: str) -> str:
    return urllib.parse.quote(value, safe=_SAFE_METADATA_CHARS)


def _decode_metadata_value(value: str) -> str:
    return urllib.parse.unquote(value)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the server was busy or unreachable, not a refusal."""
    if isinstance(exc, S3Error):
        status = getattr(exc.response, "status", 0) or 0
        return exc.code in TRANSIENT_CODES or (status >= 500 and status != 501)
    if isinstance(exc, ServerError):
        return exc.status_code != 501  # 501 Not Implemented will not change on a retry
    if isinstance(exc, InvalidResponseError):
        return exc._code >= 500 and exc._code != 501
    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError)


class S3Store(ObjectStore):
    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        write_once: bool,
        versioning: bool = False,
        part_size: int = DEFAULT_PART_SIZE,
        retries: int = 4,
        backoff: float = 0.25,
        spool_bytes: int = DEFAULT_SPOOL_BYTES,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        self.client = client
        self.bucket = check_bucket(bucket)
        self.write_once = write_once
        self.versioning = versioning
        self.part_size = part_size
        self.retries = retries
        self.backoff = backoff
        self.spool_bytes = spool_bytes
        self._ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Store({self.bucket!r}, write_once={self.write_once})"

    # -- plumbing ------------------------------------------------------------------------

    def _retry(self, what: str, request: Callable[[], T]) -> T:
        """Run one request, retrying transient failures with exponential backoff + jitter."""
        for attempt in range(self.retries + 1):
            try:
                return request()
            except Exception as exc:
                if attempt == self.retries or not is_transient(exc):
                    raise
                delay = self.backoff * (2**attempt) * (0.5 + random.random() / 2)
                log.warning("对象存储请求失败（%s %s：%s），%.2f 秒后重试（%d/%d）", what,
                            self.bucket, type(exc).__name__, delay, attempt + 1, self.retries)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, exc: Exception, key: str | None = None) -> StorageError:
        where = f"{self.bucket}/{key}" if key else self.bucket
        if isinstance(exc, S3Error):
            if exc.code in {"NoSuchKey", "NoSuchVersion"}:
                return ObjectNotFound(where)
            if exc.code == "PreconditionFailed":
                return ObjectExists(f"{where} exists and this store is write-once")
            return StorageError(f"{where}: {exc.code}: {exc.message}")
        if isinstance(exc, MinioException | urllib3.exceptions.HTTPError | OSError):
            return StorageError(f"{where}: {type(exc).__name__}: {exc}")
        raise exc

    def _ensure_bucket(self) -> None:
        try:
            if not self._retry("bucket_exists", lambda: self.client.bucket_exists(self.bucket)):
                try:
                    self._retry("make_bucket", lambda: self.client.make_bucket(self.bucket))
                except S3Error as exc:
                    # Another process created it between our check and our request.
                    if exc.code != "BucketAlreadyOwnedByYou":
                        raise
            if self.versioning:
                current = self._retry(
                    "get_bucket_versioning",
                    lambda: self.client.get_bucket_versioning(self.bucket),
                )
                if current.status != ENABLED:
                    self._retry(
                        "set_bucket_versioning",
                        lambda: self.client.set_bucket_versioning(
                            self.bucket, VersioningConfig(ENABLED)
                        ),
                    )
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc) from exc

    def _info_from_headers(self, key: str, headers: Mapping[str, str]) -> ObjectInfo:
        lowered = {name.lower(): value for name, value in headers.items()}
        sha256 = lowered.get(SHA256_HEADER)
        if not sha256:
            raise StorageError(
                f"{self.bucket}/{key} has no sha256 in its metadata: it was not written by "
                "gongkai and cannot be verified"
            )
        metadata = {
            name[len(META_PREFIX) :]: _decode_metadata_value(value)
            for name, value in lowered.items()
            if name.startswith(META_PREFIX) and name != SHA256_HEADER
        }
        last_modified = None
        if lowered.get("last-modified"):
            last_modified = from_http_header(lowered["last-modified"])
        return ObjectInfo(
            key=key,
            size=int(lowered.get("content-length", 0)),
            sha256=sha256,
            content_type=lowered.get("content-type", "application/octet-stream"),
            metadata=metadata,
            last_modified=last_modified,
            version_id=lowered.get("x-amz-version-id") or None,
        )

    def _stat_headers(self, key: str) -> Mapping[str, str]:
        stat = self._retry("stat_object", lambda: self.client.stat_object(self.bucket, key))
        return stat.metadata  # minio keeps every response header here

    # -- writing -------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str = "application/octet-stream",
        sha256: str | None = None,
        metadata: Mapping[str, str] | None = None,
        length: int | None = None,
    ) -> ObjectInfo:
        check_key(key)
        content_type = check_content_type(content_type)
        user_metadata = check_metadata(metadata)
        expected = check_sha256(sha256)
        with contextlib.ExitStack() as cleanup:
            source: BinaryIO
            if isinstance(data, bytes | bytearray | memoryview):
                data = bytes(data)
                if length is not None and length != len(data):
                    raise StorageError(f"{key}: length {length} given for {len(data)} bytes")
                digest = checked_sha256(key, data, expected)
                source, length = _BytesSource(data), len(data)
            elif expected is None:
                # The sha256 goes out with the metadata before the first byte: spool first.
                spool = cleanup.enter_context(
                    tempfile.SpooledTemporaryFile(max_size=self.spool_bytes)
                )
                reader = HashingReader(data, key=key, sha256=None, length=length)
                while chunk := reader.read(CHUNK_SIZE):
                    spool.write(chunk)
                spool.seek(0)
                digest, length = reader.hexdigest(), reader.size
                source = spool  # type: ignore[assignment]
            else:
                # The sha256 is known: stream straight through; a mismatch is detected when
                # the last byte is read, before the upload is completed, and aborts it.
                digest = expected
                source = HashingReader(data, key=key, sha256=expected, length=length)  # type: ignore[assignment]
            try:
                if self.write_once and self._exists_raw(key):
                    raise ObjectExists(f"{self.bucket}/{key} exists and this store is write-once")
                headers: dict[str, str] = {"Content-Type": content_type, SHA256_HEADER: digest}
                for name, value in user_metadata.items():
                    headers[META_PREFIX + name] = _encode_metadata_value(value)
                version_id = self._upload(key, source, length, headers, digest)
            except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise self._error(exc, key) from exc
        size = length if length is not None else getattr(source, "size", 0)
        return ObjectInfo(
            key=key,
            size=size,
            sha256=digest,
            content_type=content_type,
            metadata=user_metadata,
            version_id=version_id,
        )

    def _exists_raw(self, key: str) -> bool:
        try:
            self._stat_headers(key)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchVersion"}:
                return False
            raise
        return True

    def _upload(
        self,
        key: str,
        source: BinaryIO,
        length: int | None,
        headers: dict[str, str],
        digest: str,
    ) -> str | None:
        """One PUT if the data fits in a part, multipart otherwise. Returns the version id."""
        conditional = {"If-None-Match": "*"} if self.write_once else {}
        first = _read_part(source, self.part_size)
        second = _read_part(source, self.part_size) if len(first) == self.part_size else b""
        if not second:
            response = self._conditional_request(
                key,
                digest,
                lambda: self.client._execute(
                    "PUT", self.bucket, key, body=first, headers={**headers, **conditional}
                ),
            )
            return response.headers.get("x-amz-version-id") if response is not None else None

        upload_id = self._retry(
            "create_multipart_upload",
            lambda: self.client._create_multipart_upload(self.bucket, key, dict(headers)),
        )
        try:
            etags: list[str] = []
            part = first
            while part:
                number = len(etags) + 1
                body = part
                etags.append(
                    self._retry(
                        "upload_part",
                        lambda body=body, number=number: self.client._upload_part(
                            self.bucket, key, body, None, upload_id, number
                        ),
                    )
                )
                if second:
                    part, second = second, b""
                else:
                    part = _read_part(source, self.part_size)
            body = _complete_body(etags)
            response = self._conditional_request(
                key,
                digest,
                lambda: self.client._execute(
                    "POST",
                    self.bucket,
                    key,
                    body=body,
                    headers={"Content-Type": "application/xml", **conditional},
                    query_params={"uploadId": upload_id},
                ),
            )
        except BaseException:
            with contextlib.suppress(Exception):
                self.client._abort_multipart_upload(self.bucket, key, upload_id)
            raise
        if response is None:
            return None
        return CompleteMultipartUploadResult(response).version_id

    def _conditional_request(
        self, key: str, digest: str, request: Callable[[], urllib3.BaseHTTPResponse]
    ) -> urllib3.BaseHTTPResponse | None:
        """A (possibly conditional) write request. If a retry of it is refused with 412, the
        earlier attempt may have landed with its answer lost: when the stored object is ours
        (same sha256), that is success, and None is returned."""
        attempts = 0

        def counted() -> urllib3.BaseHTTPResponse:
            nonlocal attempts
            attempts += 1
            return request()

        try:
            return self._retry("write", counted)
        except S3Error as exc:
            if exc.code == "PreconditionFailed" and attempts > 1:
                stored = {k.lower(): v for k, v in self._stat_headers(key).items()}
                if stored.get(SHA256_HEADER) == digest:
                    return None
            raise

    # -- reading -------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        try:
            response = self._retry(
                "get_object", lambda: self.client.get_object(self.bucket, key)
            )
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc, key) from exc
        try:
            info = self._info_from_headers(key, response.headers)
        except StorageError:
            response.close()
            response.release_conn()
            raise
        return VerifyingReader(  # type: ignore[return-value]
            _ResumingSource(self, key, response, info.size),
            key=key,
            sha256=info.sha256,
            size=info.size,
        )

    def delete(self, key: str) -> None:
        check_key(key)
        if self.write_once:
            raise StorageError(f"{self.bucket}/{key}: this store is write-once, nothing is "
                               "deleted from it")  # fmt: skip
        try:
            self._retry("remove_object", lambda: self.client.remove_object(self.bucket, key))
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc, key) from exc

    def head(self, key: str) -> ObjectInfo:
        check_key(key)
        try:
            headers = self._stat_headers(key)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc, key) from exc
        return self._info_from_headers(key, headers)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        # ListObjectsV2 returns keys in UTF-8 byte order but without user metadata, so each
        # listed object is stat'ed for its sha256 and content type.
        try:
            for entry in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if entry.is_dir or entry.object_name is None:
                    continue
                try:
                    yield self.head(entry.object_name)
                except ObjectNotFound:
                    continue  # deleted between the listing and the stat
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc) from exc

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        try:  # one request per thousand keys, no stat of each
            for entry in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if not entry.is_dir and entry.object_name is not None:
                    yield entry.object_name
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._error(exc) from exc


class _BytesSource:
    """A minimal reader over bytes that does not copy them again."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._position = 0
        self.size = len(data)

    def read(self, size: int = -1) -> bytes:
        end = self.size if size < 0 else min(self.size, self._position + size)
        chunk = bytes(self._view[self._position : end])
        self._position = end
        return chunk


class _ResumingSource:
    """The body of a GET as a plain reader. If the connection breaks part-way, the rest is
    fetched with a ranged GET pinned to the same object (If-Match on its ETag), with backoff,
    so a long read survives a transient network failure without starting over; if the object
    was replaced meanwhile, that is an error rather than a splice of two objects."""

    def __init__(
        self, store: S3Store, key: str, response: urllib3.BaseHTTPResponse, size: int
    ) -> None:
        self._store = store
        self._key = key
        self._response = response
        self._size = size
        self._etag = response.headers.get("etag")
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        # Bounded reads: urllib3 drops what it had buffered of a read that breaks, so this
        # bounds what a resumption fetches twice.
        amount = CHUNK_SIZE if size < 0 else min(size, CHUNK_SIZE)
        for attempt in range(self._store.retries + 1):
            try:
                data = self._response.read(amount)
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if attempt == self._store.retries or self._etag is None:
                    raise StorageError(f"{self._key}: reading the object failed: {exc}") from exc
                delay = self._store.backoff * (2**attempt) * (0.5 + random.random() / 2)
                log.warning("read %s/%s broke at byte %d: %s; resuming in %.2fs",
                            self._store.bucket, self._key, self._position, exc, delay)
                time.sleep(delay)
                if not self._resume():
                    return b""
                continue
            self._position += len(data)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def _resume(self) -> bool:
        """Reopen at the current position; False when nothing is left to fetch."""
        self._release()
        if self._position >= self._size:
            return False
        store = self._store
        try:
            self._response = store._retry(
                "get_object",
                lambda: store.client.get_object(
                    store.bucket, self._key, offset=self._position,
                    request_headers={"If-Match": self._etag},
                ),
            )
        except S3Error as exc:
            if exc.code == "PreconditionFailed":
                raise StorageError(
                    f"{store.bucket}/{self._key} was replaced while it was being read"
                ) from exc
            raise store._error(exc, self._key) from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise store._error(exc, self._key) from exc
        return True

    def _release(self) -> None:
        with contextlib.suppress(Exception):
            self._response.close()
            self._response.release_conn()

    def close(self) -> None:
        self._release()


def _read_part(source: BinaryIO | _BytesSource, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = source.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _complete_body(etags: list[str]) -> bytes:
    parts = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>\"{etag}\"</ETag></Part>"
        for number, etag in enumerate(etags, start=1)
    )
    return f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
