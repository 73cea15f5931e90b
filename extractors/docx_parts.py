"""The parts of a .docx the reader walks, and its styles read once per template.

python-docx, handed a whole package, inflates every part and parses every XML part it knows:
Word's 350 kB styles.xml (most of a .docx's reading time), settings, numbering, core
properties, besides blobs it never parses (a 438 kB stylesWithEffects.xml, the theme, the
thumbnail). The reader walks only the main document part, its headers and footers, and a few
facts of the styles part. So python-docx is handed a package of those parts alone (`walked`),
and the styles part is read here: a styles part seen again is kept as a table (`StylesCache`),
because an office's documents come from a few templates and carry the same styles part byte
for byte. Figures: benchmarks/RESULTS.md (issue 12, extract speed).
"""

from __future__ import annotations

import io
import posixpath
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lxml import etree

from gongkai.extractors.safety import SafeZip, parse_xml

_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
OFFICE_DOCUMENT, HEADER, FOOTER, STYLES = (
    f"{_RT}officeDocument", f"{_RT}header", f"{_RT}footer", f"{_RT}styles",
)
CONTENT_TYPES = "[Content_Types].xml"
PACKAGE_RELS = "_rels/.rels"


@dataclass(frozen=True)
class WalkedPackage:
    """A package of the parts the reader walks (`data`, a zip for python-docx) and the name
    of the styles part in the original package (None: the document has none)."""

    data: bytes
    styles: str | None


def rels_name(part: str) -> str:
    """The relationships part of `part` (OPC: `<folder>/_rels/<name>.rels`)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def target(source: str, relationship: etree._Element) -> str:
    """The entry name a relationship of `source` points at, resolved as python-docx resolves
    it (relative to the source part's folder, or absolute from the package root)."""
    ref = relationship.get("Target") or ""
    base = "/" if source == "" else posixpath.dirname(f"/{source}")
    return posixpath.normpath(posixpath.join(base, ref)).lstrip("/")


def _internal(rels: etree._Element) -> list[etree._Element]:
    return [r for r in rels.iter(_REL) if r.get("TargetMode") != "External"]


def walked(package: SafeZip) -> WalkedPackage | None:
    """The package python-docx needs for the reader: [Content_Types].xml as it is, the
    package relationship to the main document part, that part, its relationships to headers
    and footers, and those parts. None when the package is not laid out as OPC says (no
    package relationships, no main part, a relationships part that does not parse): the
    whole package then goes to python-docx, which names what is wrong as it always has."""
    try:
        return _walked(package)
    except Exception:  # anything unusual: python-docx reads the file whole, as before
        return None


def _walked(package: SafeZip) -> WalkedPackage | None:
    if not (package.has(CONTENT_TYPES) and package.has(PACKAGE_RELS)):
        return None
    root_rels = parse_xml(package.read(PACKAGE_RELS), PACKAGE_RELS)
    main_rel = next((r for r in _internal(root_rels) if r.get("Type") == OFFICE_DOCUMENT), None)
    if main_rel is None:
        return None
    main = target("", main_rel)
    if not package.has(main):
        return None
    for relationship in list(root_rels):
        if relationship.get("Type") != OFFICE_DOCUMENT:
            root_rels.remove(relationship)
    parts = {CONTENT_TYPES: package.read(CONTENT_TYPES), PACKAGE_RELS: _serialise(root_rels),
             main: package.read(main)}  # fmt: skip
    styles = None
    main_rels_name = rels_name(main)
    if package.has(main_rels_name):
        main_rels = parse_xml(package.read(main_rels_name), main_rels_name)
        for relationship in list(main_rels):
            kind = relationship.get("Type")
            internal = relationship.get("TargetMode") != "External"
            if internal and kind == STYLES and styles is None:
                styles = target(main, relationship)
            if not (internal and kind in (HEADER, FOOTER)):
                main_rels.remove(relationship)
                continue
            name = target(main, relationship)
            if package.has(name) and name not in parts:
                parts[name] = package.read(name)
        parts[main_rels_name] = _serialise(main_rels)
    return WalkedPackage(_zip(parts), styles)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _zip(parts: dict[str, bytes]) -> bytes:
    """The parts as a zip python-docx opens: stored, not deflated (nothing to squeeze: it is
    read once, in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


T = TypeVar("T")


class StylesCache(Generic[T]):
    """What a styles part gives, kept for the last `size` distinct styles parts seen twice.
    The first time a part is seen, `once` reads it (a lookup in the parsed tree, which is
    dropped with the document: no cost beyond what reading the whole package had); the second
    time, `kept` makes what is kept (a table of every style, no tree); later documents of that
    template parse nothing. A hit is the same bytes (CRC and length find the entry, the bytes
    are compared), so a kept value is exactly what parsing the part again would give. Shared
    by the reader threads of one process."""

    def __init__(self, once: Callable[[etree._Element], T], kept: Callable[[etree._Element], T],
                 size: int = 16) -> None:  # fmt: skip
        self._once = once
        self._kept = kept
        self._size = size
        # (CRC, length) -> (the part's bytes, what is kept; None: seen once)
        self._entries: OrderedDict[tuple[int, int], tuple[bytes, T | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, package: SafeZip, name: str) -> T:
        data = package.read(name)
        key = (package.info(name).CRC, len(data))
        with self._lock:
            entry = self._entries.get(key)
            seen = entry is not None and entry[0] == data
            if seen and entry[1] is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        root = parse_xml(data, name)
        if not seen:
            self._remember(key, data, None)
            return self._once(root)
        value = self._kept(root)
        self._remember(key, data, value)
        return value

    def _remember(self, key: tuple[int, int], data: bytes, value: T | None) -> None:
        with self._lock:
            self._entries[key] = (data, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0
