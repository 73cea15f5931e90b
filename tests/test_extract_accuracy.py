"""Accuracy of `gongkai.extractors.extract` over the generated corpus (see generator.py).

- every field must be read exactly (lists compared as lists) in at least 99% of documents;
- no document may be read as `active` (主动公开) unless its truth is `active`: a wrong
  `active` publishes a document that must not be published;
- the corpus itself must have the variety the extractor is judged on, and its truth must
  really be in the files (checked with the raw libraries, independently of the extractor).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import generator
import pytest

THRESHOLD = 0.99
MIN_DOCUMENTS = 150
SHOW_MISMATCHES = 40

Result = tuple[dict[str, Any], dict[str, Any] | None, str | None]  # truth, metadata, error


@pytest.fixture(scope="module")
def results(corpus: list[tuple[Path, dict[str, Any]]]) -> dict[str, Result]:
    """Runs the extractor once over every document: name -> (truth, metadata dict, error)."""
    from gongkai.extractors import extract
    from gongkai.extractors.model import ExtractionError

    out: dict[str, Result] = {}
    for path, truth in corpus:
        try:
            meta = extract(path.read_bytes(), path.name)
        except ExtractionError as exc:
            out[path.name] = (truth, None, f"ExtractionError({exc.reason}): {exc}")
        else:
            out[path.name] = (truth, meta.to_dict(), None)
    return out


def _mismatches(results: dict[str, Result]) -> dict[str, list[tuple[str, Any, Any]]]:
    by_field: dict[str, list[tuple[str, Any, Any]]] = defaultdict(list)
    for name, (truth, meta, error) in results.items():
        for fld, expected in truth["expected"].items():
            got = error if meta is None else meta.get(fld)
            if isinstance(got, tuple):
                got = list(got)
            if fld == "disclosure" and truth.get("conflict"):
                # A self-contradicting attribute is right when reported, and never `active`.
                if meta is None or not meta.get("conflicts") or got == "active":
                    by_field[fld].append((name, "a conflict, not active",
                                          (got, meta and meta.get("conflicts"))))
            elif got != expected:
                by_field[fld].append((name, expected, got))
    return by_field


def test_per_field_accuracy(results: dict[str, Result], capsys: pytest.CaptureFixture[str]) -> None:
    total = len(results)
    mismatches = _mismatches(results)
    producers = sorted({t["producer"] for t, _, _ in results.values()})
    per_producer = Counter(t["producer"] for t, _, _ in results.values())
    lines = [f"extraction accuracy over {total} generated documents",
             f"{'field':<20}{'all':>8}" + "".join(f"{p:>13}" for p in producers)]
    failing: list[str] = []
    for fld in generator.EXPECTED_FIELDS:
        wrong = mismatches.get(fld, [])
        acc = 1 - len(wrong) / total
        wrong_by_producer = Counter(results[name][0]["producer"] for name, _, _ in wrong)
        cells = "".join(f"{1 - wrong_by_producer[p] / per_producer[p]:>13.1%}" for p in producers)
        lines.append(f"{fld:<20}{acc:>8.1%}{cells}")
        if acc < THRESHOLD:
            failing.append(f"{fld} {acc:.1%}")
    shown = 0
    lines.append("first mismatches (document, field, expected, got):")
    for fld in generator.EXPECTED_FIELDS:
        for name, expected, got in mismatches.get(fld, []):
            if shown >= SHOW_MISMATCHES:
                break
            written = results[name][0].get("as_written", {})
            hint = f"  [as written: {written.get(fld)!r}]" if written.get(fld) else ""
            lines.append(f"  {name}  {fld}: expected {expected!r}, got {got!r}{hint}")
            shown += 1
    report = "\n".join(lines)
    with capsys.disabled():
        print("\n" + report)
    assert not failing, f"fields below {THRESHOLD:.0%}: {', '.join(failing)}\n{report}"


def test_nothing_read_as_active_unless_it_is(results: dict[str, Result]) -> None:
    """The safety property: a wrong `active` would publish a document that must not be."""
    wrong = [(name, truth["expected"]["disclosure"])
             for name, (truth, meta, _) in results.items()
             if meta is not None and meta.get("disclosure") == "active"
             and truth["expected"]["disclosure"] != "active"]
    assert not wrong, f"read as active but not active: {wrong}"


HONGSHAN_TITLE = "石狮市鸿山镇人民政府关于印发《鸿山镇政务公开标准化规范化工作方案》的通知"


def test_the_source_document_is_read_whole_in_every_rendering(results: dict[str, Result]) -> None:
    """鸿政〔2020〕53号's portal page as a .docx, as PDFs (LibreOffice, reportlab) and printed
    large enough that its 标题 label and its title wrap: the 文号 and the whole title."""
    hongshan = {name: meta for name, (truth, meta, _) in results.items()
                if "hongshan" in truth["features"]}
    made_by = {ending for n in hongshan
               for ending in ("python-docx.docx", "libreoffice.pdf", "reportlab.pdf")
               if n.endswith(ending)}
    assert len(made_by) == 3, sorted(hongshan)
    assert any("portal_print" in n for n in hongshan)
    for name, meta in hongshan.items():
        assert meta is not None, name
        assert meta["file_number"] == "鸿政〔2020〕53号", name
        assert meta["title"] == HONGSHAN_TITLE, name
        assert meta["conflicts"] == [], name


def test_every_document_is_read_without_error(results: dict[str, Result]) -> None:
    errors = {name: error for name, (_, _, error) in results.items() if error}
    assert not errors, f"{len(errors)} documents raised: {list(errors.items())[:10]}"


# --- the corpus itself ---------------------------------------------------------------------

REQUIRED_FEATURES = (
    *(f"spelling:{s}" for s in generator.NUMBER_SPELLINGS),
    *(f"date:{s}" for s in set(generator.DATE_STYLES)),
    *(f"phrase:{p}" for _, p, _ in generator.DISCLOSURE_MODES if _ == "note"),
    "parens:ascii", "parens:fullwidth", "disclosure:banji", "disclosure:none",
    "disclosure:extra_note_only", "note:extra", "note:contact",
    "title_lines:1", "title_lines:2", "title_lines:3",
    "security:秘密", "security:机密", "security:绝密", "urgency:特急", "urgency:加急",
    "attachments:1", "attachments:2", "cited_in_attachment", "hongshan", "image",
    *(f"cover_disclosure:{v}" for _, v in generator.COVER_DISCLOSURE),
    "portal_disclosure:active", "portal_disclosure:None", "cover_checkboxes",
    "cover_checkboxes_none_ticked", "body_quotes_attribute", "signature:spaces",
    "signature:table", "attachment_body", "banji:subject_words", "tracked_changes",
    "content_controls", "conflict:cover_vs_note", "conflict:note_vs_banji", "hidden_text",
    "date_field",
    # issue 12: documents as real offices make them
    "long_title", "title:wrapped", "seal_note", "joint:table", "joint:lines", "joint:cell",
    "joint_signature:lines", "joint_signature:side", "joint:3", "no_signature",
    "attachment_only", "template", *(f"template_number:{k}" for k in range(3)),
    *(f"web_export:{s}" for s in generator.WEB_HEADS), "portal_print",
)


def test_corpus_has_the_variety(corpus: list[tuple[Path, dict[str, Any]]]) -> None:
    assert len(corpus) >= MIN_DOCUMENTS
    categories = Counter(t["category"] for _, t in corpus)
    assert set(categories) == set(generator.CATEGORIES), categories
    producers = {t["producer"] for _, t in corpus}
    expected_producers = set(generator.PRODUCERS)
    if generator.soffice_path() is None:  # the fixture already failed in CI in that case
        expected_producers.discard("libreoffice")
    assert producers == expected_producers
    formats = Counter(t["format"] for _, t in corpus)
    assert formats["docx"] >= 50 and formats["pdf"] >= 50, formats
    features = {f for _, t in corpus for f in t["features"]}
    missing = [f for f in REQUIRED_FEATURES if f not in features]
    assert not missing, f"features missing from the corpus: {missing}"
    dispositions = Counter(t["expected"]["disclosure"] for _, t in corpus)
    assert all(dispositions[v] >= 8 for v in ("active", "on_request", "withheld", "partial",
                                              None)), dispositions
    assert sum(1 for _, t in corpus
               if t["expected"]["file_number"] is None and t["expected"]["cited_file_numbers"]
               ) >= 8, "documents with no number of their own but citing others"


def _raw_text(path: Path, layout: bool = False) -> str:
    """All text the file holds, by the raw libraries, whitespace removed. pypdfium2 is fast
    but moves glyphs drawn from a fallback font (LibreOffice's ○) out of line; pdfplumber
    (`layout=True`) orders characters by position."""
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            xml = "".join(z.read(n).decode("utf-8") for n in z.namelist()
                          if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n))
        text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))
    elif layout:
        import pdfplumber

        with pdfplumber.open(path) as pdf:
            text = "".join(page.extract_text() or "" for page in pdf.pages)
    else:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path.read_bytes())
        try:
            text = "".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    text = re.sub(r"\s+", "", text)
    return re.sub(r"—\d+—", "", text)  # page numbers interrupt text that runs over a page


def test_truth_is_really_in_the_files(corpus: list[tuple[Path, dict[str, Any]]]) -> None:
    """The truth must be readable from the file: the generator checked without the extractor."""
    problems: list[str] = []
    for path, truth in corpus:
        exp, written = truth["expected"], truth.get("as_written", {})
        text = _raw_text(path)
        if not exp["text_layer"]:
            if text:
                problems.append(f"{path.name}: image-only PDF has text {text[:30]!r}")
            continue
        wanted = [exp["title"], exp["issuer"], exp["recipients"], exp["cc"], exp["signer"],
                  exp["index_number"], exp["disclosure_reason"], exp["print_issuer"],
                  *exp["attachments"]]
        if written.get("file_number"):
            wanted.append(written["file_number"])
        wanted += [written.get(k) for k in ("date", "security", "banji_disclosure")]
        wanted += [*written.get("notes", []), exp["urgency"], exp["copy_number"]]
        wanted = [re.sub(r"\s+", "", v) for v in wanted if v]
        if path.suffix == ".pdf" and any(v not in text for v in wanted):
            text = _raw_text(path, layout=True)
        problems += [f"{path.name}: {v!r} not in the file" for v in wanted if v not in text]
    assert not problems, "\n".join(problems[:30])


def test_generation_is_deterministic() -> None:
    first = [(d.name, d.expected, d.features) for d in generator.generate(seed=7, count=40)]
    again = [(d.name, d.expected, d.features) for d in generator.generate(seed=7, count=40)]
    assert first == again
    other = [d.expected for d in generator.generate(seed=8, count=40)]
    assert other != [e for _, e, _ in first]


SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_samples_are_current_and_read_exactly(tmp_path: Path) -> None:
    """The committed samples are what the generator makes today, and are read exactly."""
    from gongkai.extractors import extract

    committed = json.loads(generator.SAMPLES_TRUTH.read_text("utf-8"))
    assert sorted(p.name for p in SAMPLES.iterdir()) == sorted(t["file"] for t in committed)
    generator.build_samples(tmp_path)
    fresh = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert committed == fresh, "samples/ is stale: run python tests/generator.py --samples samples/"
    wrong = []
    for truth in committed:
        path = SAMPLES / truth["file"]
        assert path.stat().st_size < 100_000, path
        meta = extract(path.read_bytes(), path.name).to_dict()
        wrong += [(truth["file"], f, v, meta.get(f)) for f, v in truth["expected"].items()
                  if meta.get(f) != v]
    assert not wrong, wrong


def test_truth_is_consistent(corpus: list[tuple[Path, dict[str, Any]]]) -> None:
    """The truth obeys the contracts it judges the extractor by."""
    canonical = re.compile(r"[\u4e00-\u9fff]+〔\d{4}〕[1-9]\d*号")
    for path, truth in corpus:
        exp = truth["expected"]
        assert set(exp) == set(generator.EXPECTED_FIELDS), path.name
        numbers = [exp["file_number"]] if exp["file_number"] else []
        numbers += exp["cited_file_numbers"]
        assert all(canonical.fullmatch(n) for n in numbers), (path.name, numbers)
        assert len(set(numbers)) == len(numbers), (path.name, "cited twice or cites itself")
        assert exp["disclosure"] in (None, "active", "on_request", "withheld", "partial")
        assert exp["security_level"] in (None, "秘密", "机密", "绝密")
        for key in ("date", "print_date", "publish_date"):
            if exp[key]:
                dt.date.fromisoformat(exp[key])
