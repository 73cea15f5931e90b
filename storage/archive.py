"""Archival packages in the (write-once) archive store.

Originals are content-addressed: originals/<sha[:2]>/<sha256><ext>. Each document also gets one
package whose key a person can read, {year}/{issuer}/{id}-{文号 or sha[:12]}/, holding

    original.<ext>     the submitted bytes, byte-identical
    metadata.json      the catalog record plus whatever the caller passes (extraction, routing)
    text.txt           the text that was read
    manifest.json      sha256 and size of every member; written last, so its presence means
                       the package is complete

Nothing in a package is ever overwritten. Members added later (a redacted version, review
decisions) come with a new manifest revision, manifest.r2.json, manifest.r3.json, ..., each
listing every member of the package; the highest revision is the one that counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from gongkai.storage.catalog import DocumentRecord
from gongkai.storage.objects import (
    ChecksumMismatch,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    StorageError,
)

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "gongkai-manifest/1"
METADATA_FORMAT = "gongkai-package/1"
_MANIFEST_REVISION_RE = re.compile(r"^manifest(?:\.r([1-9][0-9]*))?\.json$")
_MEMBER_NAME_RE = re.compile(r"^[^/\\\x00]+$")
_EXTENSION_RE = re.compile(r"^\.[a-z0-9]{1,10}$")
_CONTENT_TYPE_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/vnd.ms-works": ".wps",
    "application/ofd": ".ofd",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
    "application/vnd.oasis.opendocument.text": ".odt",
    "text/plain": ".txt",
}
# Characters kept out of a key segment: separators, and what common filesystems refuse.
_UNSAFE_SEGMENT_CHARS = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_SEGMENT_MAX_CHARS = 60  # CJK is 3 bytes in UTF-8; keys stay well inside 255-byte segments
_READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PackageRequest:
    """One document's package for Archive.write_packages (the arguments of write_package)."""

    record: DocumentRecord
    original: bytes
    metadata: dict[str, Any]
    text: str


@dataclass(frozen=True)
class VerifyReport:
    prefix: str
    ok: bool
    checked: int
    problems: list[str]


def original_extension(filename: str, content_type: str) -> str:
    """The real extension of an original, lower-case with its dot ('' if none is known)."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if _EXTENSION_RE.match(suffix):
        return suffix
    return _CONTENT_TYPE_EXTENSIONS.get(content_type.split(";")[0].strip().lower(), "")


def original_key(*, sha256: str, filename: str, content_type: str) -> str:
    """The content address of an original: originals/<sha[:2]>/<sha256><ext>."""
    sha256 = sha256.lower()
    return f"originals/{sha256[:2]}/{sha256}{original_extension(filename, content_type)}"


def sanitize_segment(text: str | None) -> str:
    """One key segment from free text: no '/', no control characters, Chinese kept."""
    if not text:
        return ""
    cleaned = unicodedata.normalize("NFC", text)
    cleaned = re.sub(r"\s+", " ", cleaned)
    cleaned = _UNSAFE_SEGMENT_CHARS.sub("_", cleaned).strip(" .")
    return cleaned[:_SEGMENT_MAX_CHARS].strip(" .")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(value: Any) -> bytes:
    """A package's JSON files: one line per top-level key (sorted), each value compact. The
    lines keep a package readable in a text editor and its diffs small; an indented dump
    would be about a quarter of the CPU of writing a package, since `indent` makes Python's
    json leave its C encoder for a pure-Python one."""
    if not isinstance(value, dict) or not value or not all(isinstance(k, str) for k in value):
        return _compact_json(value).encode()
    lines = (f"  {_compact_json(key)}: {_compact_json(item)}"
             for key, item in sorted(value.items()))  # fmt: skip
    return ("{\n" + ",\n".join(lines) + "\n}").encode()


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


class Archive:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # -- originals --------------------------------------------------------------------------

    def original_key(self, *, sha256: str, filename: str, content_type: str) -> str:
        return original_key(sha256=sha256, filename=filename, content_type=content_type)

    def put_original(self, data: bytes, *, sha256: str, filename: str, content_type: str) -> str:
        """Store the original under its content address; the same bytes again are a no-op."""
        key = self.original_key(sha256=sha256, filename=filename, content_type=content_type)
        try:
            # The store hashes what it writes and refuses bytes that do not match sha256.
            self.store.put(key, data, content_type=content_type, sha256=sha256.lower())
        except ObjectExists:
            existing = self.store.head(key)
            if existing.sha256 != sha256.lower():
                raise ChecksumMismatch(
                    f"{key} holds sha256 {existing.sha256}, not {sha256}"
                ) from None
        return key

    def put_originals(
        self, originals: Sequence[tuple[bytes, str, str, str]]
    ) -> list[str | Exception]:
        """put_original() for many (data, sha256, filename, content_type), each key or error in
        its place; on a store with `put_many` with one pair of durability barriers in all."""
        put_many = getattr(self.store, "put_many", None)
        if put_many is None:
            results: list[str | Exception] = []
            for data, sha256, filename, content_type in originals:
                try:
                    results.append(self.put_original(data, sha256=sha256, filename=filename,
                                                     content_type=content_type))  # fmt: skip
                except Exception as exc:
                    results.append(exc)
            return results
        from gongkai.storage.local import PutRequest

        keys = [self.original_key(sha256=sha, filename=name, content_type=kind)
                for _data, sha, name, kind in originals]  # fmt: skip
        requests = [PutRequest(key, data, kind, sha.lower())
                    for key, (data, sha, _name, kind) in zip(keys, originals, strict=True)]
        out: list[str | Exception] = []
        for key, (_data, sha, _name, _kind), result in zip(
            keys, originals, put_many(requests), strict=True
        ):
            if isinstance(result, ObjectExists):
                # Content-addressed: the same bytes stored before (or twice in this batch).
                try:
                    existing = self.store.head(key)
                except Exception as exc:
                    out.append(exc)
                    continue
                if existing.sha256 != sha.lower():
                    out.append(ChecksumMismatch(f"{key} holds sha256 {existing.sha256}, "
                                                f"not {sha}"))  # fmt: skip
                    continue
                out.append(key)
            elif isinstance(result, Exception):
                out.append(result)
            else:
                out.append(key)
        return out

    def read_original(self, key: str, *, sha256: str) -> bytes:
        """The bytes at `key`, verified to hash to `sha256` (ChecksumMismatch otherwise)."""
        with self.store.open(key) as stream:
            # Both backends' streams carry the store's recorded sha256: no separate HEAD
            # (a sidecar read locally, an HTTP round trip on S3) before reading.
            recorded = getattr(stream, "expected_sha256", None) or self.store.head(key).sha256
            if recorded != sha256.lower():
                raise ChecksumMismatch(
                    f"{key}: the store holds sha256 {recorded}, expected {sha256}"
                )
            # Reading to the end verifies the bytes against `recorded`, the expected sha256.
            return stream.read()

    # -- packages ---------------------------------------------------------------------------

    def package_prefix(self, record: DocumentRecord) -> str:
        """{year}/{issuer}/{id}-{文号 or sha[:12]}: year of the 成文日期 (else of receipt)."""
        year = (record.date or record.received_at).year
        issuer = sanitize_segment(record.issuer) or "未知发文机关"
        name = sanitize_segment(record.file_number) or record.sha256[:12]
        return f"{year:04d}/{issuer}/{record.id}-{name}"

    def write_package(
        self, record: DocumentRecord, *, original: bytes, metadata: dict[str, Any], text: str
    ) -> str:
        """Write the document's package and return its prefix. Idempotent: a complete package
        is left as it is; an interrupted one is completed (members already written are kept and
        the manifest records them as they are)."""
        if _digest(original) != record.sha256:
            raise ChecksumMismatch(
                f"document {record.id}: the original given does not hash to {record.sha256}"
            )
        prefix = self.package_prefix(record)
        if self._manifest_keys(prefix):
            return prefix
        members = self._package_members(record, original, metadata, text)
        entries: dict[str, dict[str, Any]] = {}
        for name, (data, content_type) in members.items():
            entries[name] = self._put_member(prefix, name, data, content_type, keep_existing=True)
        manifest = self._first_manifest(record, prefix, entries)
        # ObjectExists: another writer completed the same package first
        with contextlib.suppress(ObjectExists):
            self.store.put(
                f"{prefix}/{MANIFEST_NAME}", _json_bytes(manifest), content_type="application/json"
            )
        return prefix

    @staticmethod
    def _package_members(
        record: DocumentRecord, original: bytes, metadata: dict[str, Any], text: str
    ) -> dict[str, tuple[bytes, str]]:
        ext = original_extension(record.filename, record.content_type)
        package_metadata = {
            "format": METADATA_FORMAT,
            "written_at": datetime.now(UTC).isoformat(),
            "record": record.to_json(),
            "metadata": metadata,
        }
        return {
            f"original{ext}": (original, record.content_type),
            "metadata.json": (_json_bytes(package_metadata), "application/json"),
            "text.txt": (text.encode("utf-8"), "text/plain; charset=utf-8"),
        }

    @staticmethod
    def _first_manifest(
        record: DocumentRecord, prefix: str, entries: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "revision": 1,
            "prefix": prefix,
            "document_id": record.id,
            "document_sha256": record.sha256,
            "created_at": datetime.now(UTC).isoformat(),
            "previous": None,
            "members": entries,
        }

    def write_packages(self, packages: Sequence[PackageRequest]) -> list[str | Exception]:
        """write_package() for many documents, each result (prefix or error) in its place. On
        a store with `put_many` (the local folder) the members of all packages are written
        with one pair of durability barriers, then their manifests with another: a manifest
        still appears only once every member it lists is durable. Other stores get
        write_package() one by one (an S3 PUT is durable when it returns)."""
        put_many = getattr(self.store, "put_many", None)
        if put_many is None:
            results: list[str | Exception] = []
            for p in packages:
                try:
                    results.append(self.write_package(p.record, original=p.original,
                                                      metadata=p.metadata, text=p.text))
                except Exception as exc:  # reported in its place; the others go on
                    results.append(exc)
            return results
        from gongkai.storage.local import PutRequest

        outcome: list[str | Exception | None] = [None] * len(packages)
        manifests: dict[int, tuple[str, dict[str, Any], dict[str, tuple[bytes, str]]]] = {}
        requests: list[PutRequest] = []
        owners: list[tuple[int, str]] = []
        for position, package in enumerate(packages):
            record = package.record
            try:
                if _digest(package.original) != record.sha256:
                    raise ChecksumMismatch(
                        f"document {record.id}: the original given does not hash to "
                        f"{record.sha256}"
                    )
                prefix = self.package_prefix(record)
                if self._manifest_keys(prefix):
                    outcome[position] = prefix  # complete already: left as it is
                    continue
                members = self._package_members(record, package.original, package.metadata,
                                                package.text)  # fmt: skip
            except Exception as exc:
                outcome[position] = exc
                continue
            manifests[position] = (prefix, {}, members)
            for name, (data, content_type) in members.items():
                # The store hashes what it writes and the manifest records that hash; the
                # original is also held to the sha256 checked above while it is written.
                expected = record.sha256 if data is package.original else None
                requests.append(PutRequest(f"{prefix}/{name}", data, content_type, expected))
                owners.append((position, name))
        for (position, name), result in zip(owners, put_many(requests), strict=True):
            if position not in manifests:
                continue
            prefix, entries, members = manifests[position]
            try:
                if isinstance(result, ObjectExists):
                    # Left by an interrupted earlier attempt: recorded as it is (write_package
                    # keeps existing members too), re-hashed on read.
                    size, digest = self._hash_object(f"{prefix}/{name}")
                    entries[name] = {"sha256": digest, "size": size}
                elif isinstance(result, Exception):
                    raise result
                else:
                    entries[name] = {"sha256": result.sha256, "size": result.size}
            except Exception as exc:
                outcome[position] = exc
                del manifests[position]
        manifest_requests: list[PutRequest] = []
        positions: list[int] = []
        for position, (prefix, entries, _members) in manifests.items():
            manifest = self._first_manifest(packages[position].record, prefix, entries)
            manifest_requests.append(PutRequest(f"{prefix}/{MANIFEST_NAME}",
                                                _json_bytes(manifest), "application/json"))
            positions.append(position)
        for position, result in zip(positions, put_many(manifest_requests), strict=True):
            prefix = manifests[position][0]
            # ObjectExists: another writer completed the same package first
            if isinstance(result, Exception) and not isinstance(result, ObjectExists):
                outcome[position] = result
            else:
                outcome[position] = prefix
        return [o if o is not None else StorageError("not written") for o in outcome]

    def add_members(self, prefix: str, members: Mapping[str, bytes]) -> str:
        """Add members to a complete package under a new manifest revision; nothing is
        overwritten. Returns the key of the manifest now in force (unchanged if every member
        is already there with the same bytes)."""
        prefix = prefix.rstrip("/")
        for name in members:
            if not _MEMBER_NAME_RE.match(name) or name in {".", ".."}:
                raise ValueError(f"member name {name!r} must be a plain file name")
            if _MANIFEST_REVISION_RE.match(name):
                raise ValueError(f"member name {name!r} is reserved for manifests")
        for _attempt in range(10):
            manifest_key, manifest = self._latest_manifest(prefix)
            entries: dict[str, dict[str, Any]] = dict(manifest["members"])
            new: dict[str, bytes] = {}
            for name, data in members.items():
                listed = entries.get(name)
                if listed is None:
                    new[name] = data
                elif listed["sha256"] != _digest(data) or listed["size"] != len(data):
                    raise ObjectExists(
                        f"{prefix}/{name} is already in the package with other content"
                    )
            if not new:
                return manifest_key
            for name, data in new.items():
                entries[name] = self._put_member(
                    prefix, name, data, "application/octet-stream", keep_existing=False
                )
            revision = int(manifest["revision"]) + 1
            next_key = f"{prefix}/manifest.r{revision}.json"
            next_manifest = {
                **manifest,
                "revision": revision,
                "created_at": datetime.now(UTC).isoformat(),
                "previous": manifest_key.rsplit("/", 1)[1],
                "members": entries,
            }
            try:
                self.store.put(
                    next_key, _json_bytes(next_manifest), content_type="application/json"
                )
            except ObjectExists:
                continue  # a concurrent revision took that number: re-read and retry
            return next_key
        raise StorageError(f"{prefix}: could not write a new manifest revision (contention)")

    def verify(self, prefix: str) -> VerifyReport:
        """Recompute every member's sha256 and size against the latest manifest."""
        prefix = prefix.rstrip("/")
        problems: list[str] = []
        try:
            listed = {info.key: info for info in self.store.list(prefix + "/")}
        except StorageError as exc:
            return VerifyReport(prefix, False, 0, [f"cannot list the package: {exc}"])
        try:
            manifest_key, manifest = self._latest_manifest(prefix, listed=list(listed))
        except (ObjectNotFound, ValueError, StorageError) as exc:
            return VerifyReport(prefix, False, 0, [str(exc)])
        checked = 0
        for name, entry in sorted(manifest["members"].items()):
            key = f"{prefix}/{name}"
            checked += 1
            if key not in listed:
                problems.append(f"{name}: missing")
                continue
            try:
                size, digest = self._hash_object(key)
            except ChecksumMismatch as exc:
                problems.append(f"{name}: content does not match the store's checksum ({exc})")
                continue
            except StorageError as exc:
                problems.append(f"{name}: unreadable ({exc})")
                continue
            if size != entry["size"]:
                problems.append(f"{name}: size {size}, manifest says {entry['size']}")
            if digest != entry["sha256"]:
                problems.append(f"{name}: sha256 {digest}, manifest says {entry['sha256']}")
        members = {f"{prefix}/{name}" for name in manifest["members"]}
        for key in sorted(listed):
            name = key[len(prefix) + 1 :]
            if key not in members and not _MANIFEST_REVISION_RE.match(name):
                problems.append(f"{name}: present but not in {manifest_key.rsplit('/', 1)[1]}")
        return VerifyReport(prefix, not problems, checked, problems)

    # -- helpers ----------------------------------------------------------------------------

    def _put_member(
        self, prefix: str, name: str, data: bytes, content_type: str, *, keep_existing: bool
    ) -> dict[str, Any]:
        key = f"{prefix}/{name}"
        digest = _digest(data)
        try:
            info = self.store.put(key, data, content_type=content_type, sha256=digest)
            return {"sha256": info.sha256, "size": info.size}
        except ObjectExists:
            existing = self.store.head(key)
            if existing.sha256 == digest or keep_existing:
                # Left by an interrupted earlier attempt: recorded as it is, re-hashed on read.
                size, stored_digest = self._hash_object(key)
                return {"sha256": stored_digest, "size": size}
            raise ObjectExists(f"{key} exists with other content") from None

    def _hash_object(self, key: str) -> tuple[int, str]:
        digest = hashlib.sha256()
        size = 0
        with self.store.open(key) as stream:
            while chunk := stream.read(_READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def _manifest_keys(self, prefix: str, listed: list[str] | None = None) -> list[tuple[int, str]]:
        keys = listed if listed is not None else [i.key for i in self.store.list(prefix + "/")]
        revisions: list[tuple[int, str]] = []
        for key in keys:
            name = key[len(prefix) + 1 :]
            match = _MANIFEST_REVISION_RE.match(name)
            if match:
                revisions.append((int(match.group(1) or 1), key))
        return sorted(revisions)

    def _latest_manifest(
        self, prefix: str, listed: list[str] | None = None
    ) -> tuple[str, dict[str, Any]]:
        revisions = self._manifest_keys(prefix, listed)
        if not revisions:
            raise ObjectNotFound(f"{prefix}: no manifest (no package, or an incomplete one)")
        revision, key = revisions[-1]
        try:
            manifest = json.loads(self.store.get_bytes(key))
        except (StorageError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{key.rsplit('/', 1)[1]}: unreadable manifest ({exc})") from exc
        members = manifest.get("members") if isinstance(manifest, dict) else None
        if (
            not isinstance(members, dict)
            or manifest.get("format") != MANIFEST_FORMAT
            or manifest.get("revision") != revision
            or not all(
                isinstance(e, dict)
                and isinstance(e.get("sha256"), str)
                and isinstance(e.get("size"), int)
                for e in members.values()
            )
        ):
            raise ValueError(
                f"{key.rsplit('/', 1)[1]}: unreadable manifest (not a gongkai "
                f"manifest of revision {revision})"
            )
        return key, manifest
