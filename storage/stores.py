"""The store factory: the archive store (write-once, versioned on S3) and the public store."""

from __future__ import annotations

from dataclasses import dataclass

from gongkai.config import Settings
from gongkai.storage.objects import ObjectStore


@dataclass(frozen=True, slots=True)
class Stores:
    archive: ObjectStore  # write-once: originals and archival packages
    public: ObjectStore  # rewritable: what is published


def open_stores(settings: Settings) -> Stores:
    """Both stores for the configured backend: folders under settings.objects_root ("local"),
    or buckets on settings.s3 ("s3"), created if missing."""
    if settings.archive_bucket == settings.public_bucket:
        raise ValueError(
            f"the archive and public buckets must differ (both {settings.archive_bucket!r})"
        )
    if settings.store == "local":
        from gongkai.storage.local import LocalStore

        root = settings.objects_root
        return Stores(
            archive=LocalStore(root, settings.archive_bucket, write_once=True),
            public=LocalStore(root, settings.public_bucket, write_once=False),
        )
    if settings.store == "s3":
        if settings.s3 is None:
            raise ValueError("store 's3' needs S3 settings (GONGKAI_S3_ENDPOINT and keys)")
        # Imported here so that the embedded default never loads the minio SDK.
        from gongkai.storage.s3 import S3Store, make_minio_client

        client = make_minio_client(settings.s3)
        return Stores(
            archive=S3Store(client, settings.archive_bucket, write_once=True, versioning=True),
            public=S3Store(client, settings.public_bucket, write_once=False),
        )
    raise ValueError(f"unknown object store {settings.store!r}: expected 'local' or 's3'")
