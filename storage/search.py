"""The grams of SQLite's short-term search index (documents_grams, migration 0004).

FTS5's trigram tokenizer answers terms of three characters or more. For one- and
two-character terms the catalog indexes every character and every pair of adjacent characters
of a document's title and text, ASCII letters lower-cased as SQLite's LIKE compares them. Each
gram is written as the hex of its code points (6 digits a character), so FTS5's `ascii`
tokenizer keeps it whole whatever it is made of (Chinese, punctuation, spaces, % and _).

Pure: strings in, strings out. Changing the encoding needs a migration that rebuilds the index
(the triggers delete a document's old grams by computing them again).
"""

from __future__ import annotations

import itertools

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
SHORT_TERM = 2  # terms of at most this many characters are answered from the grams


def fold(value: str) -> str:
    """The case folding of SQLite's LIKE: ASCII letters only."""
    return value.translate(_ASCII_LOWER)


def _codes(value: str) -> list[str]:
    return [f"{ord(c):06x}" for c in fold(value)]


def document_grams(title: str | None, text: str | None) -> str:
    """Every character and adjacent pair of `title` and of `text`, once each, as FTS5 tokens
    (sorted: the same value for the same document in every process)."""
    grams: set[str] = set()
    for part in (title, text):
        if part:
            codes = _codes(part)
            grams.update(codes)
            grams.update(a + b for a, b in itertools.pairwise(codes))
    return " ".join(sorted(grams))


def term_gram(term: str) -> str:
    """The one gram a document containing the 1-2 character `term` has: an FTS5 phrase."""
    if not 1 <= len(term) <= SHORT_TERM:
        raise ValueError(f"a gram is one or two characters, not {term!r}")
    return '"' + "".join(_codes(term)) + '"'
