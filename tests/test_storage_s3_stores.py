"""open_stores: the archive and public stores for the configured backend."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from minio import Minio

from gongkai.config import S3Settings, load_settings
from gongkai.storage.local import LocalStore
from gongkai.storage.objects import ObjectExists
from gongkai.storage.s3 import S3Store
from gongkai.storage.stores import open_stores


def test_local_stores_live_under_gongkai_home(tmp_path: Path) -> None:
    settings = load_settings({"GONGKAI_HOME": str(tmp_path / "home")})
    stores = open_stores(settings)
    assert isinstance(stores.archive, LocalStore) and isinstance(stores.public, LocalStore)
    assert (stores.archive.write_once, stores.public.write_once) == (True, False)
    stores.archive.put("originals/ab/doc.pdf", b"%PDF")
    stores.public.put("index.html", b"<p>1</p>")
    stores.public.put("index.html", b"<p>2</p>")
    with pytest.raises(ObjectExists):
        stores.archive.put("originals/ab/doc.pdf", b"%PDF")
    objects = tmp_path / "home" / "objects"
    assert (objects / "gongkai-archive" / "originals/ab/doc.pdf").read_bytes() == b"%PDF"
    assert (objects / "gongkai-public" / "index.html").read_bytes() == b"<p>2</p>"


def test_s3_stores_create_buckets_with_versioning_on_the_archive(
    moto_s3_settings: S3Settings,
) -> None:
    suffix = uuid.uuid4().hex[:12]
    env = {
        "GONGKAI_HOME": "/nonexistent-home-not-used-by-s3",
        "GONGKAI_S3_ENDPOINT": moto_s3_settings.endpoint,
        "GONGKAI_S3_ACCESS_KEY": "test",
        "GONGKAI_S3_SECRET_KEY": "test",
        "GONGKAI_S3_SECURE": "false",
        "GONGKAI_S3_REGION": "us-east-1",
        "GONGKAI_S3_ARCHIVE_BUCKET": f"archive-{suffix}",
        "GONGKAI_S3_PUBLIC_BUCKET": f"public-{suffix}",
    }
    stores = open_stores(load_settings(env))
    assert isinstance(stores.archive, S3Store) and isinstance(stores.public, S3Store)
    raw = Minio(moto_s3_settings.endpoint, "test", "test", secure=False, region="us-east-1")
    assert raw.get_bucket_versioning(f"archive-{suffix}").status == "Enabled"
    assert raw.get_bucket_versioning(f"public-{suffix}").status != "Enabled"
    stores.archive.put("2020/鸿山镇/original.docx", b"docx", sha256=None)
    with pytest.raises(ObjectExists):
        stores.archive.put("2020/鸿山镇/original.docx", b"docx")
    stores.public.put("index.html", b"<p>1</p>")
    stores.public.put("index.html", b"<p>2</p>")
    assert stores.public.get_bytes("index.html") == b"<p>2</p>"
    # Opening again finds the buckets already there.
    again = open_stores(load_settings(env))
    assert again.archive.get_bytes("2020/鸿山镇/original.docx") == b"docx"


def test_archive_and_public_buckets_must_differ(tmp_path: Path) -> None:
    settings = load_settings({
        "GONGKAI_HOME": str(tmp_path),
        "GONGKAI_S3_ARCHIVE_BUCKET": "same-bucket",
        "GONGKAI_S3_PUBLIC_BUCKET": "same-bucket",
    })
    with pytest.raises(ValueError, match="must differ"):
        open_stores(settings)
