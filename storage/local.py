"""The local-folder object store: the embedded default under GONGKAI_HOME.

Layout under `root`:
    {bucket}/{key}                       the object's bytes, exactly as given
    .gongkai-meta/{bucket}/{key}         JSON sidecar: sha256, size, content type, metadata
    .gongkai-locks/{bucket}              lock file serialising commits (fcntl.flock)

The sidecar tree mirrors the data tree path for path, so it never shows up in the key space and
two keys collide in it exactly when they collide as files. An object exists once its sidecar
exists: the sidecar is written last, so a crash mid-write leaves no half object visible.

Writes: bytes go to a temporary file in the destination directory (hashed while written,
fsynced), then under the bucket's exclusive lock the key is checked (write-once), the temporary
file is renamed over the key, the sidecar is written the same way, and the directories are
fsynced. Readers take the shared lock only for the instant they open the data file and read the
sidecar, so a reader never pairs new bytes with an old sidecar.

put_many() writes a batch with the same steps but one durability barrier (syncfs on Linux)
for all the temporary files before any rename, and one after the renames, instead of four
fsyncs per object.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import io
import json
import os
import stat
import sys
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from gongkai.storage.common import (
    CHUNK_SIZE,
    RESERVED_SEGMENT_PREFIX,
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
    UnsafeKey,
)

META_DIR = ".gongkai-meta"
LOCK_DIR = ".gongkai-locks"
SIDECAR_VERSION = 1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs_function() -> Callable[[int], int] | None:
    """Linux's syncfs(2) (one call makes everything written on the file system durable, and
    reports write-back errors since Linux 5.8), or None where the C library lacks it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


_SYNCFS = _syncfs_function() if sys.platform.startswith("linux") else None


def _make_durable(
    files: Collection[str | Path], directories: Collection[str | Path]
) -> None:
    """A durability barrier for many writes at once: the files' contents and the directories'
    entries are on disk when this returns. One syncfs on Linux, else an fsync of each."""
    if not files and not directories:
        return
    anchor = next(iter(directories), None) or os.path.dirname(next(iter(files)))
    if _SYNCFS is not None:
        fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if _SYNCFS(fd) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"syncfs: {os.strerror(error)}")
        finally:
            os.close(fd)
        return
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    for directory in directories:
        _fsync_dir(directory)


def _new_sidecar(
    key: str, sha256: str, size: int, content_type: str, metadata: Mapping[str, str]
) -> dict[str, Any]:
    """What an object's sidecar records, written last when the object is stored."""
    return {
        "version": SIDECAR_VERSION, "key": key, "sha256": sha256, "size": size,
        "content_type": content_type, "metadata": metadata,
        "last_modified": datetime.now(UTC).isoformat(),
    }  # fmt: skip


def _sidecar_bytes(sidecar: Mapping[str, Any]) -> bytes:
    return json.dumps(sidecar, ensure_ascii=False, sort_keys=True).encode()


# A temporary file is named after the process writing it (.~gongkai-<pid>-...tmp): one left by
# a process that is gone (killed mid-write) is removed by remove_stale_temporaries(), one of a
# live process never. A name without a pid (written before names had one), or one whose pid
# has been reused, is removed once it is older than these.
TEMP_WITHOUT_PID_MAX_AGE_S = 3600
TEMP_MAX_AGE_S = 24 * 3600


def _temp_prefix() -> str:
    return f"{RESERVED_SEGMENT_PREFIX}{os.getpid()}-"


def _writer_alive(name: str) -> bool | None:
    """Whether the process named in a temporary file's name still runs (None: no pid in it)."""
    pid, dash, _rest = name.removeprefix(RESERVED_SEGMENT_PREFIX).partition("-")
    if not dash or not pid.isdigit() or len(pid) > 10:
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _stale(path: str, name: str, now: float) -> bool:
    alive = _writer_alive(name)
    try:
        age = now - os.stat(path).st_mtime
    except FileNotFoundError:
        return False  # renamed into place or removed meanwhile
    if alive is None:
        return age > TEMP_WITHOUT_PID_MAX_AGE_S
    return not alive or age > TEMP_MAX_AGE_S


@dataclass(frozen=True)
class PutRequest:
    """One object for LocalStore.put_many."""

    key: str
    data: bytes
    content_type: str = "application/octet-stream"
    sha256: str | None = None
    metadata: Mapping[str, str] | None = None


class _Batch:
    """One put_many call's folders and temporary files. A folder is resolved, checked to be
    inside the store and made once per batch; `new_parents` are the folders whose entries
    changed (made durable with the batch), `temps` the temporary files not yet renamed."""

    def __init__(self) -> None:
        self.new_parents: set[Path] = set()
        self.created: set[Path] = set()
        self.temps: set[str] = set()
        self._resolved: dict[Path, Path] = {}
        self._folders: dict[tuple[Path, str], tuple[str, bool]] = {}
        self._token = uuid.uuid4().hex
        self._serial = 0

    def folder(self, base: Path, base_real: Path, relative: str, key: str) -> tuple[str, bool]:
        """The folder `relative` under `base`, made if missing, as a str; True if this batch
        made it (then nothing is in it but this batch's own objects)."""
        known = self._folders.get((base, relative))
        if known is not None:
            return known
        directory = base / relative if relative else base
        real = LocalStore._real_dir(directory, base, base_real, self._resolved)
        if not real.is_relative_to(base_real):
            raise UnsafeKey(f"key {key!r} resolves outside the store")
        LocalStore._make_dirs(directory, key, self.new_parents, self.created)
        known = (str(directory), directory in self.created)
        self._folders[(base, relative)] = known
        return known

    def temp_path(self, directory: str) -> str:
        # One random token per batch and a serial: unique names without a uuid per file
        # (and opened with O_EXCL, so a clash could only fail, never overwrite).
        self._serial += 1
        temp = f"{directory}/{_temp_prefix()}{self._token}-{self._serial}.tmp"
        self.temps.add(temp)
        return temp


class LocalStore(ObjectStore):
    def __init__(self, root: Path, bucket: str, *, write_once: bool) -> None:
        self.root = Path(root)
        # S3 naming rules also keep bucket names clear of the two dot-directories.
        self.bucket = check_bucket(bucket)
        self.write_once = write_once
        self.data_dir = self.root / bucket
        self.meta_dir = self.root / META_DIR / bucket
        lock_dir = self.root / LOCK_DIR
        for directory in (self.data_dir, self.meta_dir, lock_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self._lock_path = lock_dir / bucket
        self._lock_path.touch(exist_ok=True)
        # Resolved once: every key's final path must stay under these.
        self._data_real = self.data_dir.resolve()
        self._meta_real = self.meta_dir.resolve()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r}, {self.bucket!r}, write_once={self.write_once})"

    # -- paths and locking ---------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, Path]:
        """The data and sidecar paths of `key`, each checked to resolve inside the store (a
        symlink planted inside the tree must not lead outside it). put_many checks a batch's
        folders once instead (_Batch.folder)."""
        check_key(key)
        data_path = self.data_dir / key
        meta_path = self.meta_dir / key
        for path, base_real in ((data_path, self._data_real), (meta_path, self._meta_real)):
            if not path.resolve().is_relative_to(base_real):
                raise UnsafeKey(f"key {key!r} resolves outside the store")
        return data_path, meta_path

    @staticmethod
    def _real_dir(
        directory: Path, base: Path, base_real: Path, cache: dict[Path, Path]
    ) -> Path:
        """`directory` (under `base`) with symlinks resolved, memoised per folder in `cache`.
        A folder that is no symlink (or does not exist yet) resolves to its parent's real
        path plus its name; a symlink is resolved in full."""
        real = cache.get(directory)
        if real is not None:
            return real
        if directory == base:
            real = base_real
        elif directory.is_symlink():
            real = directory.resolve()
        else:
            real = LocalStore._real_dir(directory.parent, base, base_real, cache) / directory.name
        cache[directory] = real
        return real

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        # A new descriptor per use: flock locks belong to the open file description, so this
        # serialises threads of one process as well as separate processes.
        fd = os.open(self._lock_path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _read_sidecar(self, key: str, meta_path: Path) -> dict[str, Any]:
        try:
            raw = meta_path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(f"{self.bucket}/{key}") from None
        try:
            sidecar = json.loads(raw)
        except ValueError as exc:
            raise StorageError(f"{self.bucket}/{key}: damaged metadata sidecar: {exc}") from exc
        if not isinstance(sidecar, dict) or {"sha256", "size", "content_type"} - sidecar.keys():
            raise StorageError(f"{self.bucket}/{key}: metadata sidecar lacks required fields")
        return sidecar

    def _info(self, key: str, sidecar: Mapping[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=int(sidecar["size"]),
            sha256=str(sidecar["sha256"]),
            content_type=str(sidecar["content_type"]),
            metadata=dict(sidecar.get("metadata") or {}),
            last_modified=datetime.fromisoformat(sidecar["last_modified"])
            if sidecar.get("last_modified")
            else None,
        )

    @staticmethod
    def _temp_path(directory: Path) -> Path:
        return directory / f"{_temp_prefix()}{uuid.uuid4().hex}.tmp"

    @staticmethod
    def _make_dirs(
        directory: Path,
        key: str,
        new_parents: set[Path] | None = None,
        created: set[Path] | None = None,
    ) -> None:
        """Create the key's folders; fsync the parent of each new one so that the folder
        entries survive a crash as well as the files in them (or, with `new_parents`, collect
        those parents for the caller's own durability barrier). `created` collects the
        folders this call made."""
        missing: list[Path] = []
        probe = directory
        while not probe.is_dir():
            if probe.exists() or probe.is_symlink():
                # Key "a/b" while an object "a" exists: a folder cannot also be a file.
                raise ObjectExists(
                    f"key {key!r} needs a folder where an object of a shorter key is stored"
                )
            missing.append(probe)
            probe = probe.parent
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except FileExistsError:
                if not folder.is_dir():
                    raise ObjectExists(
                        f"key {key!r} needs a folder where an object of a shorter key is stored"
                    ) from None
                continue  # a concurrent writer made it
            if created is not None:
                created.add(folder)
            if new_parents is not None:
                new_parents.add(folder.parent)
            else:
                _fsync_dir(folder.parent)

    # -- the interface -------------------------------------------------------------------

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
        data_path, meta_path = self._paths(key)
        content_type = check_content_type(content_type)
        user_metadata = check_metadata(metadata)
        expected = check_sha256(sha256)
        if self.write_once and meta_path.exists():
            raise ObjectExists(f"{self.bucket}/{key} exists and this store is write-once")
        if isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data)
            if length is not None and length != len(data):
                raise StorageError(f"{key}: length {length} given for {len(data)} bytes")
            length = len(data)

        self._make_dirs(data_path.parent, key)
        self._make_dirs(meta_path.parent, key)
        temp_data = self._temp_path(data_path.parent)
        temp_meta = self._temp_path(meta_path.parent)
        try:
            size, digest = self._write_temp(temp_data, key, data, expected, length)
            sidecar = _new_sidecar(key, digest, size, content_type, user_metadata)
            with open(temp_meta, "xb") as meta_file:
                meta_file.write(_sidecar_bytes(sidecar))
                meta_file.flush()
                os.fsync(meta_file.fileno())
            with self._locked(exclusive=True):
                if self.write_once and meta_path.exists():
                    raise ObjectExists(f"{self.bucket}/{key} exists and this store is write-once")
                if data_path.is_dir() or meta_path.is_dir():
                    raise ObjectExists(f"key {key!r} is a folder of other objects")
                # Bytes first, sidecar last: the sidecar's appearance is the commit.
                os.replace(temp_data, data_path)
                os.replace(temp_meta, meta_path)
            _fsync_dir(data_path.parent)
            _fsync_dir(meta_path.parent)
        finally:
            for temp in (temp_data, temp_meta):
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        return self._info(key, sidecar)

    def put_many(self, requests: Sequence[PutRequest]) -> list[ObjectInfo | StorageError]:
        """put() for many objects with two durability barriers for the whole batch instead of
        four fsyncs per object. The crash reasoning of put() holds: (1) every object's bytes and
        sidecar go to temporary files, then one barrier makes them durable; (2) under the
        bucket's lock each is checked (write-once) and renamed into place, bytes before
        sidecar, so no object becomes visible before its bytes are on disk; (3) a second
        barrier makes the renames durable before this returns, so a caller that records the
        objects afterwards (the catalog) never points at objects a crash could take back.
        Each request gets its ObjectInfo or its own error (ObjectExists, ChecksumMismatch ...)
        in the same position; one failing request does not stop the others.

        Folders are checked (resolved inside the store) and made once per batch, not once per
        object; in a folder this batch made, nothing can be in the way, so its objects' own
        paths are not looked at again before the commit."""
        results: list[ObjectInfo | StorageError | None] = [None] * len(requests)
        staged: list[tuple[int, str, str, str, str, dict[str, Any]]] = []
        batch = _Batch()
        try:
            for position, request in enumerate(requests):
                try:
                    staged.append((position, *self._stage(request, batch)))
                except StorageError as exc:
                    results[position] = exc
            if staged:
                _make_durable([p for s in staged for p in (s[3], s[4])], batch.new_parents)
            touched: set[str | Path] = set(batch.new_parents)
            with self._locked(exclusive=True):
                for position, data_path, meta_path, temp_data, temp_meta, sidecar in staged:
                    key = requests[position].key
                    refusal = self._commit_refusal(key, meta_path)
                    if refusal is None:
                        try:
                            os.replace(temp_data, data_path)
                        except IsADirectoryError:  # a folder of other objects is in the way
                            refusal = ObjectExists(f"key {key!r} is a folder of other objects")
                    if refusal is not None:
                        results[position] = refusal
                        continue
                    batch.temps.discard(temp_data)
                    os.replace(temp_meta, meta_path)
                    batch.temps.discard(temp_meta)
                    touched.add(data_path.rpartition("/")[0])
                    touched.add(meta_path.rpartition("/")[0])
                    results[position] = self._info(key, sidecar)
            _make_durable([], touched)
        finally:
            for temp in batch.temps:  # those not renamed into place
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        return [r if r is not None else StorageError("not written") for r in results]

    def _stage(
        self, request: PutRequest, batch: _Batch
    ) -> tuple[str, str, str, str, dict[str, Any]]:
        """Check one request, write its bytes and sidecar to temporary files (not yet durable)
        and return (data path, sidecar path, their temporary files, the sidecar)."""
        key = check_key(request.key)
        content_type = check_content_type(request.content_type)
        user_metadata = check_metadata(request.metadata)
        expected = check_sha256(request.sha256)
        folder, _, name = key.rpartition("/")
        data_dir, data_new = batch.folder(self.data_dir, self._data_real, folder, key)
        meta_dir, meta_new = batch.folder(self.meta_dir, self._meta_real, folder, key)
        data_path, meta_path = f"{data_dir}/{name}", f"{meta_dir}/{name}"
        if not (data_new and meta_new):
            # Something may be there already: a symlink planted as the key's own name must
            # not lead outside the store, and a write-once store refuses early (the check
            # under the lock at commit is the one that counts).
            for path, base_real in ((data_path, self._data_real), (meta_path, self._meta_real)):
                if os.path.islink(path) and not Path(path).resolve().is_relative_to(base_real):
                    raise UnsafeKey(f"key {key!r} resolves outside the store")
            if self.write_once and os.path.exists(meta_path):
                raise ObjectExists(f"{self.bucket}/{key} exists and this store is write-once")
        data = bytes(request.data)
        digest = checked_sha256(key, data, expected)
        sidecar = _new_sidecar(key, digest, len(data), content_type, user_metadata)
        temp_data = batch.temp_path(data_dir)
        with open(temp_data, "xb") as out:
            out.write(data)
        temp_meta = batch.temp_path(meta_dir)
        with open(temp_meta, "xb") as out:
            out.write(_sidecar_bytes(sidecar))
        return data_path, meta_path, temp_data, temp_meta, sidecar

    def _commit_refusal(self, key: str, meta_path: str) -> ObjectExists | None:
        """Why `key` cannot be committed now (held under the bucket's lock), or None. One
        stat of the sidecar decides write-once and "a folder is there"; a folder at the data
        path makes the rename of the bytes fail (IsADirectoryError), before the sidecar's."""
        try:
            meta_is_dir = stat.S_ISDIR(os.stat(meta_path).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if meta_is_dir:
            return ObjectExists(f"key {key!r} is a folder of other objects")
        if self.write_once:
            return ObjectExists(f"{self.bucket}/{key} exists and this store is write-once")
        return None

    def _write_temp(
        self,
        temp: Path,
        key: str,
        data: bytes | BinaryIO,
        expected: str | None,
        length: int | None,
    ) -> tuple[int, str]:
        """Write the bytes to `temp`, hashing as they pass; ChecksumMismatch before anything
        becomes visible."""
        source: BinaryIO
        source = io.BytesIO(data) if isinstance(data, bytes) else data
        reader = HashingReader(source, key=key, sha256=expected, length=length)
        with open(temp, "xb") as out:
            while chunk := reader.read(CHUNK_SIZE):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return reader.size, reader.hexdigest()

    def remove_stale_temporaries(self) -> int:
        """Remove the temporary files that writers killed mid-write left in this bucket (its
        data and sidecar trees); a file a live process is writing is left alone. Returns how
        many were removed."""
        removed, now = 0, time.time()
        for tree in (self.data_dir, self.meta_dir):
            for dirpath, _dirnames, filenames in os.walk(tree):
                for name in filenames:
                    path = os.path.join(dirpath, name)
                    if name.startswith(RESERVED_SEGMENT_PREFIX) and _stale(path, name, now):
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(path)
                            removed += 1
        return removed

    def open(self, key: str) -> BinaryIO:
        data_path, meta_path = self._paths(key)
        with self._locked(exclusive=False):
            sidecar = self._read_sidecar(key, meta_path)
            try:
                source = open(data_path, "rb")  # noqa: SIM115 -- closed by the reader
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise StorageError(
                    f"{self.bucket}/{key}: metadata present but the bytes are missing"
                ) from None
        return VerifyingReader(  # type: ignore[return-value]
            source, key=key, sha256=sidecar["sha256"], size=int(sidecar["size"])
        )

    def delete(self, key: str) -> None:
        data_path, meta_path = self._paths(key)
        if self.write_once:
            raise StorageError(f"{self.bucket}/{key}: this store is write-once, nothing is "
                               "deleted from it")  # fmt: skip
        with self._locked(exclusive=True):
            # The sidecar first: the object is gone the moment it is.
            for path in (meta_path, data_path):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    path.unlink()
        for directory in (meta_path.parent, data_path.parent):
            with contextlib.suppress(FileNotFoundError):
                _fsync_dir(directory)

    def head(self, key: str) -> ObjectInfo:
        _, meta_path = self._paths(key)
        return self._info(key, self._read_sidecar(key, meta_path))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for key in self.list_keys(prefix):
            try:
                yield self.head(key)
            except ObjectNotFound:
                continue  # deleted behind our back between the walk and now

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        check_prefix(prefix)
        # Walk only the folder the prefix names; the rest of the prefix filters names.
        folder = prefix.rpartition("/")[0]
        start = self.meta_dir / folder if folder else self.meta_dir
        if not start.is_dir():
            return  # no such folder: nothing to list (and nothing to resolve)
        if not start.resolve().is_relative_to(self._meta_real):
            raise UnsafeKey(f"prefix {prefix!r} resolves outside the store")
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            relative_dir = Path(dirpath).relative_to(self.meta_dir).as_posix()
            base = "" if relative_dir == "." else relative_dir + "/"
            dirnames[:] = [d for d in dirnames if (base + d + "/").startswith(prefix)
                           or prefix.startswith(base + d + "/")]
            for name in filenames:
                if name.startswith(RESERVED_SEGMENT_PREFIX):
                    continue
                key = base + name
                if key.startswith(prefix):
                    keys.append(key)
        # Code-point order of str is UTF-8 byte order, the order S3 lists in.
        yield from sorted(keys)
