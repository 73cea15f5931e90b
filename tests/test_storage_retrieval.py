"""Retrieval enforces the caller's role and verifies originals (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gongkai.extractors.model import DocumentMetadata
from gongkai.storage.archive import Archive
from gongkai.storage.catalog import Catalog, DocumentNotFound, FindQuery
from gongkai.storage.local import LocalStore
from gongkai.storage.objects import ChecksumMismatch, ObjectNotFound
from gongkai.storage.retrieval import (
    AccessDenied,
    Role,
    find_documents,
    get_document,
    get_original,
)

NOT_PUBLIC = ("received", "needs_redaction", "on_request", "withheld", "quarantined", "exception")


@pytest.fixture
def catalog(database_url: str):
    opened = Catalog.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "objects", "gongkai-archive", write_once=True)


@pytest.fixture
def archive(store: LocalStore) -> Archive:
    return Archive(store)


@pytest.fixture
def documents(catalog: Catalog, archive: Archive) -> dict[str, int]:
    """One document per state, each with its original in the archive store."""
    ids: dict[str, int] = {}
    for state in ("published", *NOT_PUBLIC):
        data = f"《关于{state}事项的通知》正文".encode()
        sha = hashlib.sha256(data).hexdigest()
        key = archive.put_original(data, sha256=sha, filename=f"{state}.pdf",
                                   content_type="application/pdf")  # fmt: skip
        record, _ = catalog.register(sha256=sha, size=len(data), filename=f"{state}.pdf",
                                     content_type="application/pdf", original_key=key,
                                     source="cli", actor="t")  # fmt: skip
        catalog.update(record.id, actor="t", kind="fields", title=f"关于{state}事项的通知")
        if state != "received":
            catalog.transition(record.id, state, actor="t")
        ids[state] = record.id
    return ids


def test_the_public_finds_published_documents_only(catalog: Catalog, documents: dict[str, int]):
    public = find_documents(catalog, FindQuery(), Role.PUBLIC)
    assert [r.id for r in public] == [documents["published"]]
    assert find_documents(catalog, FindQuery(state="withheld"), Role.PUBLIC) == []
    assert find_documents(catalog, FindQuery(title="事项", limit=1), "public") == public  # type: ignore[arg-type]
    staff = find_documents(catalog, FindQuery(), Role.STAFF)
    assert sorted(r.id for r in staff) == sorted(documents.values())
    assert [r.id for r in find_documents(catalog, FindQuery(state="withheld"), Role.STAFF)] == [
        documents["withheld"]
    ]


@pytest.mark.parametrize("state", NOT_PUBLIC)
def test_documents_that_are_not_public_are_for_staff_only(
    catalog: Catalog, archive: Archive, documents: dict[str, int], state: str
):
    doc_id = documents[state]
    with pytest.raises(AccessDenied):
        get_document(catalog, doc_id, Role.PUBLIC)
    with pytest.raises(AccessDenied):
        get_original(catalog, archive, doc_id, Role.PUBLIC)
    assert get_document(catalog, doc_id, Role.STAFF).state == state
    record, data = get_original(catalog, archive, doc_id, Role.STAFF)
    assert hashlib.sha256(data).hexdigest() == record.sha256


def test_published_originals_are_public_and_verified(
    catalog: Catalog, archive: Archive, documents: dict[str, int]
):
    record, data = get_original(catalog, archive, documents["published"], Role.PUBLIC)
    assert data == "《关于published事项的通知》正文".encode()
    assert record.state == "published"
    with pytest.raises(DocumentNotFound):
        get_document(catalog, 987_654, Role.STAFF)


def test_a_changed_original_is_an_error_and_nothing_is_returned(
    catalog: Catalog, archive: Archive, store: LocalStore, documents: dict[str, int]
):
    record = catalog.get(documents["published"])
    (store.root / "gongkai-archive" / record.original_key).write_bytes(b"tampered bytes")
    with pytest.raises(ChecksumMismatch):
        get_original(catalog, archive, record.id, Role.STAFF)


def test_a_missing_original_is_an_error(
    catalog: Catalog, archive: Archive, store: LocalStore, documents: dict[str, int]
):
    record = catalog.get(documents["withheld"])
    (store.root / ".gongkai-meta" / "gongkai-archive" / record.original_key).unlink()
    with pytest.raises(ObjectNotFound):
        get_original(catalog, archive, record.id, Role.STAFF)


def test_a_document_published_redacted_keeps_its_original_and_words_from_the_public(
    catalog: Catalog, archive: Archive, store: LocalStore
):
    original = "关于某事项的通知。联系人：张三，身份证号 350581199001011234。".encode()
    sha = hashlib.sha256(original).hexdigest()
    key = archive.put_original(original, sha256=sha, filename="a.pdf",
                               content_type="application/pdf")  # fmt: skip
    record, _ = catalog.register(sha256=sha, size=len(original), filename="a.pdf",
                                 content_type="application/pdf", original_key=key,
                                 source="cli", actor="t")  # fmt: skip
    catalog.save_extraction(record.id, DocumentMetadata(
        format="pdf", title="关于某事项的通知", text=original.decode()), actor="t")
    catalog.transition(record.id, "needs_redaction", actor="t")
    catalog.transition(record.id, "published", actor="t", redacted_key="redacted/a.txt")
    record_id = record.id
    with pytest.raises(AccessDenied):
        get_original(catalog, archive, record_id, Role.PUBLIC)
    assert get_original(catalog, archive, record_id, Role.STAFF)[1] == original
    # Found by its title, never by the words redacted out of it.
    assert [r.id for r in find_documents(catalog, FindQuery(title="某事项"), Role.PUBLIC)] == [
        record_id
    ]
    secret = FindQuery(text="350581199001011234")
    assert [r.id for r in find_documents(catalog, secret, Role.STAFF)] == [record_id]
    assert find_documents(catalog, secret, Role.PUBLIC) == []
