"""Full-text search answers from its indexes exactly what a plain substring scan answers, on
SQLite and PostgreSQL: 1-character, 2-character and longer terms, Chinese mixed with ASCII
letters of either case, LIKE's metacharacters % _ and \\, after new documents and after a
document's text changed."""

from __future__ import annotations

import hashlib
import random

import pytest
from catalog_steps import migrate
from sqlalchemy import text

from gongkai.extractors.model import DocumentMetadata
from gongkai.storage.catalog import Catalog, FindQuery

ALPHABET = "政务公开标准化规范工作方案通知镇村的了一二三，。、（）《》 \n" + "AbCdxyZ" + "%_\\"


def _string(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))


def _plain_scan(catalog: Catalog, needle: str) -> list[int]:
    """The substring search without any index: LIKE (SQLite) / ILIKE (PostgreSQL) on every
    title and text."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    like = "ILIKE" if catalog.dialect == "postgresql" else "LIKE"
    with catalog.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT id FROM documents WHERE title {like} :p ESCAPE '\\' "
                 f"OR text {like} :p ESCAPE '\\' ORDER BY id"),
            {"p": f"%{escaped}%"},
        )  # fmt: skip
        return [row[0] for row in rows]


def _python_scan(documents: dict[int, tuple[str, str]], needle: str) -> list[int]:
    # ASCII letters are the only cased characters of the alphabet: both LIKE and ILIKE fold them.
    wanted = needle.lower()
    return sorted(i for i, (title, body) in documents.items()
                  if wanted in title.lower() or wanted in body.lower())  # fmt: skip


def _add(catalog: Catalog, label: str, title: str, body: str) -> int:
    sha = hashlib.sha256(label.encode()).hexdigest()
    record, _ = catalog.register(sha256=sha, size=1, filename=f"{label}.docx",
                                 content_type="x", original_key=f"k/{sha}", source="cli",
                                 actor="t")  # fmt: skip
    catalog.save_extraction(record.id, DocumentMetadata(format="docx", title=title, text=body),
                            actor="t")  # fmt: skip
    return record.id


def _needles(rng: random.Random, documents: dict[int, tuple[str, str]]) -> list[str]:
    needles = ["%", "_", "\\", "a%", "%_", "\\%", "b", "B", "Cd", "cD", "政", "政务", "务公开",
               "xyz", "的了", "，。", "《》", "未有", "qq"]  # fmt: skip
    sources = [part for pair in documents.values() for part in pair if part.strip()]
    for length in (1, 2, 2, 3, 5):
        for _ in range(12):
            source = rng.choice(sources)
            start = rng.randrange(len(source))
            needles.append(source[start : start + length])
        needles.append(_string(rng, length, length))  # mostly absent
    return [n for n in needles if n.strip()]


def _check(catalog: Catalog, documents: dict[int, tuple[str, str]], needles: list[str]) -> None:
    for needle in needles:
        got = [d.id for d in catalog.find_page(FindQuery(text=needle)).documents]
        expected = _plain_scan(catalog, needle.strip())
        assert got == expected, (needle, got, expected)
        assert got == _python_scan(documents, needle.strip()), needle
        assert catalog.count(FindQuery(text=needle)) == len(expected)


def test_search_answers_what_a_substring_scan_answers(database_url: str) -> None:
    rng = random.Random(14)
    with Catalog.open(database_url) as catalog:
        documents: dict[int, tuple[str, str]] = {}
        for i in range(120):
            title, body = _string(rng, 4, 20), _string(rng, 0, 160)
            documents[_add(catalog, f"d{i}", title, body)] = (title, body)
        needles = _needles(rng, documents)
        assert any(len(n.strip()) == 1 for n in needles) and any(len(n) > 3 for n in needles)
        _check(catalog, documents, needles)
        # A document read again (new title and text): the index follows.
        for doc_id in rng.sample(sorted(documents), 30):
            title, body = _string(rng, 4, 20), _string(rng, 0, 160)
            catalog.save_extraction(doc_id, DocumentMetadata(format="docx", title=title,
                                                             text=body), actor="t")  # fmt: skip
            documents[doc_id] = (title, body)
        _check(catalog, documents, needles + _needles(rng, documents))


def test_short_terms_are_answered_from_the_gram_index(database_url: str) -> None:
    with Catalog.open(database_url) as catalog:
        doc_id = _add(catalog, "one", "关于政务公开的通知", "现印发给你们。")
        query = FindQuery(text="政务")
        assert [d.id for d in catalog.find_page(query).documents] == [doc_id]
        statement = str(catalog._full_text("政务").compile(catalog.engine))
        postgresql = catalog.dialect == "postgresql"
        assert ("gongkai_gram_matches" if postgresql else "documents_grams") in statement
        if postgresql:  # the function's lookup, planned with sequential scans off (0015)
            with catalog.engine.connect() as conn:
                conn.exec_driver_sql("SET enable_seqscan = off")
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                    "EXPLAIN SELECT document_id FROM documents_grams "
                    "WHERE grams @> gongkai_needle_grams('政务')"))  # fmt: skip
            assert "ix_documents_grams" in plan


@pytest.mark.parametrize("term", ["政", "政务"])
def test_a_catalog_migrated_with_documents_builds_its_gram_index(
    database_url: str, term: str
) -> None:
    """The migration builds the index for the documents already there."""
    with Catalog.open(database_url) as catalog:
        doc_id = _add(catalog, "old", "关于政务公开的通知", "现印发给你们。")
        migrate(catalog, "0003", down=True)
        catalog.upgrade()
        assert [d.id for d in catalog.find_page(FindQuery(text=term)).documents] == [doc_id]


def test_every_page_tells_the_total_of_all_matches(database_url: str) -> None:
    """A page short of its limit gives the total without a count; any page, full or empty,
    past the end or not, still says how many match and holds its slice of them."""
    with Catalog.open(database_url) as catalog:
        ids = [_add(catalog, f"p{i}", f"通知{i}", "政务公开") for i in range(5)]
        _add(catalog, "other", "批复", "无关")
        for limit in (None, 0, 1, 2, 5, 6):
            for offset in (0, 1, 4, 5, 7):
                page = catalog.find_page(FindQuery(text="政务", limit=limit, offset=offset))
                end = None if limit is None else offset + limit
                assert page.total == 5, (limit, offset, page.total)
                assert [d.id for d in page.documents] == ids[offset:end], (limit, offset)
