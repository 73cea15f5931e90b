"""python-docx is handed only the parts the reader walks, and the styles are read once per
template (extractors/docx_parts.py): what is read must be exactly what reading the whole
package gives, on every kind of .docx the tests make — tests/generator.py's corpus, the
office layouts, the samples, LibreOffice's own .docx — and a package laid out oddly is read
whole."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import generator
import pytest
from office_variants import render_docx as render_variant
from office_variants import variants

from gongkai.extractors import docx as docx_reader
from gongkai.extractors.docx_parts import StylesCache, walked
from gongkai.extractors.model import ExtractionError
from gongkai.extractors.safety import DEFAULT_LIMITS, Deadline, SafeZip

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def whole(data: bytes) -> tuple[list, list[str]]:
    docx_reader._checked_package(data, DEFAULT_LIMITS)
    parsed = docx_reader.read_whole(data, Deadline(DEFAULT_LIMITS.max_seconds))
    return parsed.lines, parsed.warnings


def walked_read(data: bytes) -> tuple[list, list[str]]:
    parsed = docx_reader.read_docx(data)
    return parsed.lines, parsed.warnings


def generated_docx() -> dict[str, bytes]:
    return {d.name: generator.render_docx(d.blocks)
            for d in generator.generate(count=120, libreoffice=False)
            if d.producer == "python-docx"}  # fmt: skip


def test_the_generated_corpus_reads_the_same_as_the_whole_package() -> None:
    files = generated_docx()
    assert len(files) > 50
    for name, data in files.items():
        assert walked_read(data) == whole(data), name


def test_the_office_layouts_and_samples_read_the_same() -> None:
    files = {v.name: render_variant(v.blocks) for v in variants() if v.producer == "python-docx"}
    files.update({p.name: p.read_bytes() for p in SAMPLES.glob("*.docx")})
    assert len(files) >= 25
    for name, data in files.items():
        assert walked_read(data) == whole(data), name


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_docx_written_by_libreoffice_reads_the_same(tmp_path: Path) -> None:
    """LibreOffice lays its packages out its own way (its own styles, settings, fontTable)."""
    source = tmp_path / "source"
    source.mkdir()
    for sample in sorted(SAMPLES.glob("*.docx"))[:3]:
        (source / sample.name).write_bytes(sample.read_bytes())
    out = tmp_path / "out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out),
                    *map(str, sorted(source.iterdir()))],
                   check=True, capture_output=True, timeout=240)  # fmt: skip
    made = sorted(out.glob("*.docx"))
    assert len(made) == 3
    for path in made:
        data = path.read_bytes()
        assert walked_read(data) == whole(data), path.name
        assert walked_read(data)[0], path.name


def test_python_docx_gets_the_main_part_headers_and_footers_only() -> None:
    data = generated_docx().popitem()[1]
    parts = walked(SafeZip(data))
    assert parts is not None and parts.styles == "word/styles.xml"
    names = set(zipfile.ZipFile(io.BytesIO(parts.data)).namelist())
    assert {"[Content_Types].xml", "_rels/.rels", "word/document.xml",
            "word/_rels/document.xml.rels"} <= names  # fmt: skip
    assert not names & {"word/styles.xml", "word/stylesWithEffects.xml", "word/settings.xml",
                        "word/numbering.xml", "docProps/thumbnail.jpeg"}  # fmt: skip
    assert all(n.startswith(("word/header", "word/footer")) for n in names - {
        "[Content_Types].xml", "_rels/.rels", "word/document.xml",
        "word/_rels/document.xml.rels"})  # fmt: skip


def test_a_template_seen_twice_is_kept_and_other_styles_are_not_mistaken_for_it() -> None:
    cache = StylesCache(docx_reader._Styles, docx_reader._Styles.table)
    same = generated_docx()
    first, second, third = list(same.values())[:3]
    # Seen once: read through the tree, nothing kept but the bytes; twice: a table is kept.
    once = cache.get(SafeZip(first), "word/styles.xml")
    a = cache.get(SafeZip(second), "word/styles.xml")
    assert once is not a and once._root is not None and a._root is None
    assert cache.get(SafeZip(third), "word/styles.xml") is a
    assert (cache.hits, cache.misses) == (1, 2)
    # Another template: python-docx's styles with the Normal style's size changed.
    document = docx.Document(io.BytesIO(first))
    document.styles["Normal"].font.size = docx.shared.Pt(17)
    out = io.BytesIO()
    document.save(out)
    c = cache.get(SafeZip(out.getvalue()), "word/styles.xml")
    assert c is not a and cache.misses == 3
    assert c.get(None).size == 17 and a.get(None).size != 17


def test_the_cached_table_is_the_lookup_in_the_tree() -> None:
    from gongkai.extractors.safety import parse_xml

    data = generated_docx().popitem()[1]
    root = parse_xml(SafeZip(data).read("word/styles.xml"), "word/styles.xml")
    table, lookup = docx_reader._Styles.table(root), docx_reader._Styles(root)
    ids = [s.get(docx_reader.W_STYLEID) for s in root.iterchildren(docx_reader.W_STYLE)]
    assert len(ids) > 100
    for style_id in [*ids, None, "NoSuchStyle"]:
        assert table.get(style_id) == lookup.get(style_id), style_id


def _rezip(data: bytes, drop: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            if name != drop:
                archive.writestr(name, source.read(name))
    return out.getvalue()


def test_a_package_without_its_relationships_is_read_whole_and_refused_as_before() -> None:
    broken = _rezip(generated_docx().popitem()[1], "_rels/.rels")
    assert walked(SafeZip(broken)) is None
    with pytest.raises(ExtractionError) as error:
        docx_reader.read_docx(broken)
    assert error.value.reason == "corrupt"


def test_a_styles_part_named_but_missing_is_damage() -> None:
    broken = _rezip(generated_docx().popitem()[1], "word/styles.xml")
    with pytest.raises(ExtractionError) as error:
        docx_reader.read_docx(broken)
    assert error.value.reason == "corrupt"
