"""Helpers shared by the object-store backends: key rules, metadata rules, verified streams.

Both backends apply the same key and metadata rules so that a key accepted by the local store
is accepted by the S3 store and vice versa (the archive may move between them).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import BinaryIO

from gongkai.storage.objects import ChecksumMismatch, StorageError, UnsafeKey

CHUNK_SIZE = 1024 * 1024
MAX_KEY_BYTES = 1024  # S3's limit on an object key (UTF-8)
MAX_SEGMENT_BYTES = 255  # a file name on common filesystems
# Segments starting with this belong to the local store's temporary files.
RESERVED_SEGMENT_PREFIX = ".~gongkai-"
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
METADATA_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_METADATA_KEYS = frozenset({"sha256"})
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket(bucket: str) -> str:
    """S3's bucket naming rules, applied to both backends."""
    if not isinstance(bucket, str) or not BUCKET_RE.match(bucket) or ".." in bucket:
        raise ValueError(
            f"bucket name {bucket!r} must be 3-63 lower-case letters, digits, '.' or '-' "
            "(S3 naming rules)"
        )
    return bucket


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative '/'-separated key, else raise UnsafeKey."""
    if not isinstance(key, str) or key == "":
        raise UnsafeKey(f"empty or non-string key: {key!r}")
    if "\x00" in key:
        raise UnsafeKey(f"key contains NUL: {key!r}")
    if "\\" in key:
        raise UnsafeKey(f"key contains a backslash: {key!r}")
    if key.startswith("/"):
        raise UnsafeKey(f"absolute key: {key!r}")
    for char in key:
        if unicodedata.category(char) in {"Cc", "Cs"}:
            raise UnsafeKey(f"key contains a control character {char!r}: {key!r}")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise UnsafeKey(f"key longer than {MAX_KEY_BYTES} bytes: {key!r}")
    for segment in key.split("/"):
        if segment == "":
            raise UnsafeKey(f"key has an empty segment (leading, trailing or double '/'): {key!r}")
        if segment in {".", ".."}:
            raise UnsafeKey(f"key has a {segment!r} segment: {key!r}")
        if segment.startswith(RESERVED_SEGMENT_PREFIX):
            raise UnsafeKey(f"key segment uses the reserved prefix {RESERVED_SEGMENT_PREFIX}")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise UnsafeKey(f"key segment longer than {MAX_SEGMENT_BYTES} bytes: {segment!r}")
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: '' or the start of a key (it may end in '/' or mid-segment)."""
    if prefix == "":
        return prefix
    if not isinstance(prefix, str) or "\x00" in prefix or "\\" in prefix:
        raise UnsafeKey(f"unsafe prefix: {prefix!r}")
    if prefix.startswith("/") or ".." in prefix.split("/"):
        raise UnsafeKey(f"unsafe prefix: {prefix!r}")
    return prefix


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """User metadata: lower-case ASCII keys (S3 folds case), string values, 'sha256' reserved."""
    checked: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not METADATA_KEY_RE.match(name):
            raise ValueError(
                f"metadata key {name!r} must be lower-case ASCII letters, digits, '_' and '-'"
            )
        if name in RESERVED_METADATA_KEYS:
            raise ValueError(f"metadata key {name!r} is reserved (pass sha256= instead)")
        if not isinstance(value, str):
            raise ValueError(f"metadata value for {name!r} must be a string, not {type(value)}")
        checked[name] = value
    return checked


def check_sha256(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    if not isinstance(sha256, str) or not SHA256_RE.match(sha256.lower()):
        raise ValueError(f"sha256 must be 64 hex digits, not {sha256!r}")
    return sha256.lower()


def check_content_type(content_type: str) -> str:
    if not isinstance(content_type, str) or not content_type or not content_type.isascii():
        raise ValueError(f"content type must be a non-empty ASCII string: {content_type!r}")
    if any(c in content_type for c in "\r\n\x00"):
        raise ValueError(f"content type contains a line break or NUL: {content_type!r}")
    return content_type


class VerifyingReader(io.RawIOBase):
    """Reads `source`, hashing as it goes. Once the recorded number of bytes has been read the
    sha256 must match, and the stream must end there; otherwise the read raises
    ChecksumMismatch, and so does every read after it."""

    def __init__(
        self,
        source: BinaryIO,
        *,
        key: str,
        sha256: str,
        size: int,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._source = source
        self._key = key
        self._expected_sha256 = sha256
        self._expected_size = size
        self._on_close = on_close
        self._hash = hashlib.sha256()
        self._read = 0
        self._hash_checked = False
        self._failure: ChecksumMismatch | None = None

    @property
    def expected_sha256(self) -> str:
        """The sha256 the store recorded for this object (what the stream is checked against)."""
        return self._expected_sha256

    def readable(self) -> bool:
        return True

    def _account(self, data: bytes) -> None:
        """Hash `data`; check the digest as soon as the recorded size is reached (so a reader
        that reads exactly `size` bytes is verified too) or at the end of the stream."""
        if self._failure is not None:
            raise self._failure
        self._hash.update(data)
        self._read += len(data)
        if self._read > self._expected_size:
            self._failure = ChecksumMismatch(
                f"{self._key}: longer than the {self._expected_size} bytes the store recorded"
            )
        elif not data and self._read < self._expected_size:
            self._failure = ChecksumMismatch(
                f"{self._key}: ended after {self._read} bytes, the store recorded "
                f"{self._expected_size}"
            )
        elif self._read == self._expected_size and not self._hash_checked:
            self._hash_checked = True
            actual = self._hash.hexdigest()
            if actual != self._expected_sha256:
                self._failure = ChecksumMismatch(
                    f"{self._key}: content hashes to {actual}, the store recorded "
                    f"{self._expected_sha256}"
                )
        if self._failure is not None:
            raise self._failure

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._failure is not None:
            raise self._failure
        view = memoryview(buffer).cast("B")
        data = self._source.read(len(view))
        self._account(data)
        view[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        # Ask for everything that is left plus one byte (which reveals an object longer than
        # recorded): usually a single read and no joining copy.
        chunks = []
        while True:
            data = self._source.read(max(self._expected_size - self._read, 0) + 1)
            self._account(data)
            if not data:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            chunks.append(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._source.close()
            if self._on_close is not None:
                self._on_close()
        finally:
            super().close()


class HashingReader(io.RawIOBase):
    """Wraps an upload source: hashes what is read, enforces the declared length, and checks
    the expected sha256 the moment the last byte is read -- before the upload is completed,
    so a mismatch aborts the upload and nothing is stored."""

    def __init__(
        self, source: BinaryIO, *, key: str, sha256: str | None, length: int | None
    ) -> None:
        super().__init__()
        self._source = source
        self._key = key
        self._expected_sha256 = sha256
        self._length = length
        self.hash = hashlib.sha256()
        self.size = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def _check_end(self) -> None:
        if self._checked:
            return
        self._checked = True
        if self._length is not None:
            if self.size != self._length:
                raise StorageError(
                    f"{self._key}: the stream ended after {self.size} bytes, length said "
                    f"{self._length}"
                )
            if self._source.read(1):
                raise StorageError(
                    f"{self._key}: the stream is longer than the declared length {self._length}"
                )
        actual = self.hash.hexdigest()
        if self._expected_sha256 is not None and actual != self._expected_sha256:
            raise checksum_mismatch(self._key, actual, self._expected_sha256)

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        if size is None or size < 0:
            size = CHUNK_SIZE
            chunks = []
            while chunk := self.read(size):
                chunks.append(chunk)
            return b"".join(chunks)
        if self._length is not None:
            size = min(size, self._length - self.size)
        data = self._source.read(size) if size > 0 else b""
        if data:
            self.hash.update(data)
            self.size += len(data)
        if not data or (self._length is not None and self.size == self._length):
            self._check_end()
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checked_sha256(key: str, data: bytes, expected: str | None) -> str:
    """The sha256 of `data`; ChecksumMismatch if an `expected` one was given and differs."""
    digest = sha256_of(data)
    if expected is not None and digest != expected:
        raise checksum_mismatch(key, digest, expected)
    return digest


def checksum_mismatch(key: str, actual: str, expected: str) -> ChecksumMismatch:
    return ChecksumMismatch(f"{key}: data hashes to {actual}, expected {expected}")
