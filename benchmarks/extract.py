"""Benchmark: ms per document for `gongkai.extractors.extract` against the bare parse of the
same files (the floor), in the same run.

The floor (issue 12): for a .docx, unzip it (zipfile) and lxml-parse word/document.xml,
word/styles.xml and every header and footer part; for a PDF, pypdfium2's text of every page.
Target (issue 12): extract <= 1.5 x the floor, per format and over all documents. Every round
times the floor and extract back to back over the same files (which goes first alternates from
round to round), so both sides of a round's ratio ran under the same load on a shared host;
the median round is reported with the spread, in wall time and in CPU time (process time, the
steadier figure when other work shares the cores).

Extra rows (issue 2's older targets, no verdict unless --legacy): python-docx opening the file
and reading every paragraph and table cell (docx <= 1.5 x), pdfplumber `extract_text` on every
page (pdf <= 0.5 x), best round of each.

    .venv/bin/python benchmarks/extract.py [--dir FOLDER] [-n 200] [--libreoffice] [--rounds 5]
        [--components]

--components adds what the fixed stack costs by itself against the same floor, paired the same
way: bare python-docx `Document()` on the .docx, pdfplumber's table finder on the cover-sheet
pages of the PDFs that have one (pdfminer's layout of the page: what extractors/pdf.py did
until it read the rulings from PDFium), the table finder on PDFium's rulings of those pages
(what it does now), and extract on the PDFs with and without a cover sheet apart.

Without --dir the documents come from tests/generator.py (helper B's realistic 公文 with red
headers, text boxes, tables, cover sheets, portal exports, image-only scans), written to a
temporary folder; with --libreoffice its LibreOffice-made PDFs are included too (slow to make).
OCR is not measured here (`extract()` without `tools` reads no scan): benchmarks/ocr.py
reports it apart, in pages per second.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

FLOOR_TARGET = 1.5
LEGACY_TARGETS = {"docx": 1.5, "pdf": 0.5}
_HEADER_FOOTER = re.compile(r"word/(header|footer)\d*\.xml")


def floor_docx(data: bytes) -> int:
    """The bare parse of a .docx: unzip, lxml-parse the document, styles, headers, footers."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        parts = ["word/document.xml", "word/styles.xml"]
        parts += [n for n in names if _HEADER_FOOTER.fullmatch(n)]
        elements = 0
        for name in parts:
            if name in names:
                elements += len(etree.fromstring(archive.read(name), parser))
    return elements


def floor_pdf(data: bytes) -> int:
    """The bare parse of a PDF: pypdfium2's text of every page."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        chars = 0
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
        return chars
    finally:
        document.close()


def raw_docx(data: bytes) -> int:
    import docx

    document = docx.Document(io.BytesIO(data))
    chars = sum(len(p.text) for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                chars += len(cell.text)
    return chars


def raw_pdf(data: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return sum(len(page.extract_text() or "") for page in pdf.pages)


def ours(data: bytes) -> int:
    from gongkai.extractors import extract

    return len(extract(data, "").text)


def ours_new_template(data: bytes) -> int:
    """extract with the styles cache emptied first: every document of its own template (the
    worst case for extractors/docx_parts.py; an office's documents share a few templates)."""
    from gongkai.extractors import docx

    docx._STYLES.clear()
    return ours(data)


def reader_only(data: bytes) -> int:
    from gongkai.extractors import parse

    return len(parse(data).lines)


def _generate(folder: Path, count: int, libreoffice: bool) -> dict[str, str]:
    import generator

    docs = generator.generate(count=count, libreoffice=libreoffice)
    generator.write_documents(docs, folder, truth_files=False)
    return {f"{d.name}.{d.fmt}": d.producer for d in docs}


def _best_round(fn: Callable[[bytes], int], files: list[bytes], rounds: int) -> float:
    """Seconds for one pass over all files: the best of `rounds`."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for data in files:
            fn(data)
        times.append(time.perf_counter() - started)
    return min(times)


def _pass(fn: Callable[[bytes], int], files: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds of one pass over all files."""
    wall, cpu = time.perf_counter(), time.process_time()
    for data in files:
        fn(data)
    return time.perf_counter() - wall, time.process_time() - cpu


def docx_open(data: bytes) -> int:
    """python-docx opening the package, nothing read from it: what `Document()` costs, the
    package freed at once as extractors/docx.py frees it (`_release`; left to the cyclic
    collector, its trees are freed later and colder, which costs more)."""
    import docx

    from gongkai.extractors.docx import _release

    document = docx.Document(io.BytesIO(data))
    try:
        return len(document.element.body)
    finally:
        _release(document)


def docx_open_walked(data: bytes) -> int:
    """What the reader hands python-docx: the package of the walked parts (docx_parts.walked,
    built from the checked zip), opened by `Document()`, freed as the reader frees it."""
    import docx

    from gongkai.extractors.docx import _release
    from gongkai.extractors.docx_parts import walked
    from gongkai.extractors.safety import SafeZip

    parts = walked(SafeZip(data))
    assert parts is not None
    document = docx.Document(io.BytesIO(parts.data))
    try:
        return len(document.element.body)
    finally:
        _release(document)


_FORM_PAGES: dict[int, list[int]] = {}  # id(file bytes) -> its cover-sheet pages


def form_tables(data: bytes) -> int:
    """pdfplumber's table finder on a PDF's drafting cover sheet pages (the pages
    extractors/pdf.py reads again with it, found beforehand), cells extracted: its share of
    such a PDF."""
    import pdfplumber

    cells = 0
    with pdfplumber.open(io.BytesIO(data), pages=_FORM_PAGES[id(data)]) as pdf:
        for page in pdf.pages:
            cells += sum(len(row) for table in page.find_tables() for row in table.extract())
    return cells


def form_rulings(data: bytes) -> int:
    """What extractors/pdf.py now does instead on the same pages: PDFium's ruling lines and
    characters (`_ruling`, the page loaded again here) handed to pdfplumber's table finder,
    cells extracted."""
    import pypdfium2 as pdfium

    from gongkai.extractors.pdf import _ruling

    cells = 0
    document = pdfium.PdfDocument(data)
    try:
        for number in _FORM_PAGES[id(data)]:
            page = document[number - 1]
            ruling = _ruling(page, page.get_textpage())
            tables = ruling.tables() if ruling is not None else []
            cells += sum(len(row) for table in tables for row in table.extract())
    finally:
        document.close()
    return cells


def form_tables_present(data: bytes) -> bool:
    """True if the PDF has a cover-sheet page (noting which, for `form_tables`)."""
    from gongkai.extractors import parse
    from gongkai.extractors.pdf import _is_form_page

    pages: dict[int, list] = {}
    for line in parse(data).lines:
        pages.setdefault(line.page or 0, []).append(line)
    _FORM_PAGES[id(data)] = sorted(n for n, lines in pages.items() if _is_form_page(lines))
    return bool(_FORM_PAGES[id(data)])


def paired_rounds(
    floor: Callable[[bytes], int], files: list[bytes], rounds: int,
    subject: Callable[[bytes], int] = ours,
) -> list[dict[str, float]]:
    """Each round: the floor and extract (or `subject`) over the same files, back to back,
    the order alternating, so a round's ratio compares two passes made under the same load."""
    out = []
    for number in range(rounds):
        if number % 2 == 0:
            floor_s, floor_cpu = _pass(floor, files)
            ours_s, ours_cpu = _pass(subject, files)
        else:
            ours_s, ours_cpu = _pass(subject, files)
            floor_s, floor_cpu = _pass(floor, files)
        out.append({"floor_s": floor_s, "floor_cpu": floor_cpu, "ours_s": ours_s,
                    "ours_cpu": ours_cpu, "wall": ours_s / floor_s, "cpu": ours_cpu / floor_cpu})
    return out


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def floor_table(groups: dict[str, list[bytes]], rounds: int) -> bool:
    """Extract against the floor per format and over all documents; True if a target missed.
    'all' sums the two formats' passes of the same round."""
    print(f"\nagainst the floor, {rounds} paired rounds; median (min-max) of the rounds' ratios")
    print(f"{'set':<8}{'docs':>6}{'floor ms/doc':>14}{'extract ms/doc':>16}"
          f"{'wall ratio':>20}{'CPU ratio':>20}{'target':>9}")
    per_format = {fmt: paired_rounds(floor_docx if fmt == "docx" else floor_pdf, files, rounds)
                  for fmt, files in groups.items() if files}
    new_template = (paired_rounds(floor_docx, groups["docx"], rounds, ours_new_template)
                    if groups["docx"] else None)  # fmt: skip
    if len(per_format) > 1:
        per_format["all"] = [
            {key: sum(r[i][key] for r in per_format.values()) for key in
             ("floor_s", "floor_cpu", "ours_s", "ours_cpu")} for i in range(rounds)
        ]
        for r in per_format["all"]:
            r["wall"], r["cpu"] = r["ours_s"] / r["floor_s"], r["ours_cpu"] / r["floor_cpu"]
    failed = False
    for name, result in per_format.items():
        docs = sum(len(f) for f in groups.values()) if name == "all" else len(groups[name])
        cpu = [r["cpu"] for r in result]
        ok = statistics.median(cpu) <= FLOOR_TARGET
        failed |= not ok
        floor_ms = statistics.median(r["floor_cpu"] for r in result) / docs * 1000
        ours_ms = statistics.median(r["ours_cpu"] for r in result) / docs * 1000
        print(f"{name:<8}{docs:>6}{floor_ms:>14.2f}{ours_ms:>16.2f}"
              f"{_spread([r['wall'] for r in result]):>20}{_spread(cpu):>20}"
              f"{'<= ' + str(FLOOR_TARGET):>9}{'  ok' if ok else '  MISSED'}")
    if new_template:
        # The worst case, shown beside the verdict, not in it: no two documents share a template.
        cpu = [r["cpu"] for r in new_template]
        ok = statistics.median(cpu) <= FLOOR_TARGET
        floor_ms = statistics.median(r["floor_cpu"] for r in new_template) / len(groups["docx"])
        ours_ms = statistics.median(r["ours_cpu"] for r in new_template) / len(groups["docx"])
        print(f"{'docx, each its own template':<30}{floor_ms * 1000:>4.2f}{ours_ms * 1000:>16.2f}"
              f"{_spread([r['wall'] for r in new_template]):>20}{_spread(cpu):>20}"
              f"{'<= ' + str(FLOOR_TARGET):>9}{'  ok' if ok else '  missed'}")
    print("(ms/doc in CPU time, median round; the verdict is on the median CPU ratio; 'each its "
          "own template': the styles cache emptied before every document, not in the verdict)")
    return failed


def component_table(groups: dict[str, list[bytes]], form_pdfs: list[bytes], rounds: int) -> None:
    """What the fixed stack costs by itself against the same floor, paired as above: bare
    python-docx `Document()` (.docx), and pdfplumber's table finder on the cover-sheet pages
    of the PDFs that have one (timed against PDFium's text of those whole PDFs); extract on
    the PDFs with and without a cover sheet apart."""
    print(f"\nthe readers' own floors, {rounds} paired rounds; CPU ratio to the bare parse")
    plain_pdfs = [d for d in groups["pdf"] if all(d is not f for f in form_pdfs)]
    rows = [("docx: python-docx Document()", floor_docx, docx_open, groups["docx"]),
            ("docx: Document() on the walked parts", floor_docx, docx_open_walked,
             groups["docx"]),
            ("pdf without a cover sheet: extract", floor_pdf, ours, plain_pdfs),
            ("pdf with a cover sheet: extract", floor_pdf, ours, form_pdfs),
            ("  pdfplumber find_tables on it", floor_pdf, form_tables, form_pdfs),
            ("  PDFium rulings + table finder", floor_pdf, form_rulings, form_pdfs)]
    for name, floor, subject, files in rows:
        if not files:
            continue
        result = paired_rounds(floor, files, rounds, subject)
        ms = statistics.median(r["ours_cpu"] for r in result) / len(files) * 1000
        print(f"{name:<36}{len(files):>5} docs {ms:>8.2f} ms/doc"
              f"{_spread([r['cpu'] for r in result]):>20}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="benchmark the .docx/.pdf files in FOLDER")
    parser.add_argument("-n", "--count", type=int, default=200, help="documents to generate")
    parser.add_argument("--libreoffice", action="store_true",
                        help="include LibreOffice-made PDFs (generation is slow)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--legacy", action="store_true",
                        help="judge the python-docx / pdfplumber rows against issue 2's targets")
    parser.add_argument("--no-legacy-rows", action="store_true",
                        help="leave out the python-docx / pdfplumber rows")
    parser.add_argument("--components", action="store_true",
                        help="also time the readers' own floors: python-docx Document(), "
                             "pdfplumber's table finder on cover sheets")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="gongkai-bench-extract-") as scratch:
        folder = args.dir
        producers: dict[str, str] = {}
        if folder is None:
            folder = Path(scratch)
            started = time.perf_counter()
            producers = _generate(folder, args.count, args.libreoffice)
            print(f"generated {len(producers)} documents in {time.perf_counter() - started:.1f} s"
                  f" (tests/generator.py)")
        elif (folder / "manifest.json").exists():
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            producers = {m["file"]: m["producer"] for m in manifest}
        paths = sorted(p for p in folder.iterdir() if p.suffix in (".docx", ".pdf"))
        groups: dict[str, list[bytes]] = {"docx": [], "pdf": []}
        by_producer: dict[str, list[bytes]] = {}
        for path in paths:
            data = path.read_bytes()
            fmt = path.suffix[1:]
            groups[fmt].append(data)
            if fmt == "pdf" and path.name in producers:
                by_producer.setdefault(f"pdf ({producers[path.name]})", []).append(data)

        # Warm up imports and caches on both sides before timing anything.
        for data in groups["docx"][:3]:
            floor_docx(data)
            raw_docx(data)
            ours(data)
        for data in groups["pdf"][:3]:
            floor_pdf(data)
            raw_pdf(data)
            ours(data)

        failed = floor_table(groups, args.rounds)
        if args.components:
            form_pdfs = [d for d in groups["pdf"] if form_tables_present(d)]
            component_table(groups, form_pdfs, args.rounds)
        if args.no_legacy_rows:
            return 1 if failed else 0
        print("\nextra rows: against the libraries' own reading (best round of each)")
        print(f"{'set':<22}{'docs':>6}{'raw ms/doc':>12}{'ours ms/doc':>13}{'reader':>9}"
              f"{'ratio':>8}{'target':>8}")
        rows: list[tuple[str, list[bytes], str]] = [
            ("docx (python-docx)", groups["docx"], "docx"), ("pdf (all)", groups["pdf"], "pdf"),
        ]
        rows += [(name, files, "pdf") for name, files in sorted(by_producer.items())
                 if len(by_producer) > 1]
        for name, files, fmt in rows:
            if not files:
                continue
            raw = _best_round(raw_docx if fmt == "docx" else raw_pdf, files, args.rounds)
            mine = _best_round(ours, files, args.rounds)
            reader = _best_round(reader_only, files, args.rounds)
            ratio = mine / raw
            # The targets are for all documents of a format; producer rows are for insight
            # (an image-only scan costs both sides under 2 ms: its ratio is noise-prone).
            overall = name in ("docx (python-docx)", "pdf (all)")
            target = LEGACY_TARGETS[fmt]
            ok = ratio <= target
            failed |= overall and args.legacy and not ok
            verdict = ("  ok" if ok else "  MISSED") if overall else ""
            print(f"{name:<22}{len(files):>6}{raw / len(files) * 1000:>12.2f}"
                  f"{mine / len(files) * 1000:>13.2f}{reader / len(files) * 1000:>9.2f}"
                  f"{ratio:>8.2f}{'<= ' + str(target) if overall else '':>8}{verdict}")
        sizes = [len(d) for d in groups["docx"] + groups["pdf"]]
        if sizes:
            print(f"file sizes: median {statistics.median(sizes) / 1024:.0f} kB, "
                  f"max {max(sizes) / 1024:.0f} kB; 'reader' = parse() without the fields")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
