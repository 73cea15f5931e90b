"""Benchmark: ms per document for `gongkai.extractors.extract` against the raw library parse of
the same files, in the same run.

Baselines: python-docx opening the file and reading every paragraph and every table cell;
pdfplumber `extract_text` on every page. Targets (issue 2): docx <= 1.5 x raw python-docx,
pdf (metadata and full text) <= 0.5 x pdfplumber.

    .venv/bin/python benchmarks/extract.py [--dir FOLDER] [-n 200] [--libreoffice] [--rounds 3]

Without --dir the documents come from tests/generator.py (helper B's realistic 公文 with red
headers, text boxes, tables, cover sheets, portal exports, image-only scans), written to a
temporary folder; with --libreoffice its LibreOffice-made PDFs are included too (slow to make).
Each side runs `--rounds` times over all files; the best round counts (least disturbed by
other work on the machine).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

TARGETS = {"docx": 1.5, "pdf": 0.5}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="benchmark the .docx/.pdf files in FOLDER")
    parser.add_argument("-n", "--count", type=int, default=200, help="documents to generate")
    parser.add_argument("--libreoffice", action="store_true",
                        help="include LibreOffice-made PDFs (generation is slow)")
    parser.add_argument("--rounds", type=int, default=3)
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
            raw_docx(data)
            ours(data)
        for data in groups["pdf"][:3]:
            raw_pdf(data)
            ours(data)

        print(f"{'set':<22}{'docs':>6}{'raw ms/doc':>12}{'ours ms/doc':>13}{'reader':>9}"
              f"{'ratio':>8}{'target':>8}")
        failed = False
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
            target = TARGETS[fmt]
            ok = ratio <= target
            failed |= overall and not ok
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
