"""The object store interface that the local-folder and MinIO/S3 backends both implement.

A store is one bucket. The archive store is write-once (an existing key is never replaced);
the public store may be rewritten (the public index changes with every publication).
Every object carries its sha256 in metadata, and reads verify it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO


class StorageError(Exception):
    """Base of every object-store error."""


class ObjectNotFound(StorageError):
    pass


class ObjectExists(StorageError):
    """A write-once store refused to replace an existing key."""


class ChecksumMismatch(StorageError):
    """What was read (or written) does not hash to the sha256 it should have."""


class UnsafeKey(StorageError):
    """A key that is empty, absolute, or would escape the store (.., backslashes, NUL)."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None
    version_id: str | None = None


class ObjectStore(abc.ABC):
    """One bucket of objects. Keys are '/'-separated relative paths of printable characters."""

    bucket: str
    write_once: bool

    @abc.abstractmethod
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
        """Store `data` under `key`. If `sha256` is given, the bytes must hash to it
        (ChecksumMismatch otherwise, nothing stored). On a write-once store an existing key
        raises ObjectExists."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable stream of the object. Reading it to the end verifies the sha256 and raises
        ChecksumMismatch on a difference. Close it (it is a context manager)."""

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """ObjectNotFound if absent."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in key order."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; an absent key is no error (as in S3). A write-once store refuses
        (StorageError): what is archived stays."""

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """The keys list() would give, in the same order, without reading each object's
        metadata (backends list keys far more cheaply than they describe objects)."""
        return (info.key for info in self.list(prefix))

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    def get_bytes(self, key: str) -> bytes:
        """The whole object, verified against its sha256."""
        with self.open(key) as stream:
            return stream.read()

    def remove_stale_temporaries(self) -> int:
        """Remove what writers killed mid-write left behind (a folder store's temporary
        files); how many. A store whose writes leave nothing half-done has nothing to do."""
        return 0
