"""Benchmark: scans read by OCR, in pages per second, and what scans cost an ingest.

    .venv/bin/python benchmarks/ocr.py [--pages 6] [--text-docs 60] [--scans 6] [--dir DIR]

1. OCR speed. `--pages` generated 公文 (tests/generator.py, red headers) are printed to PDF
   and their first pages rendered at 200 dpi in colour, as a scanner gives them, then read by
   `extract(..., tools=ExternalTools())` as PNG and as an image-only PDF, in one process. In the
   same run: bare `tesseract stdin stdout tsv` on the same page images (the floor: OCR alone),
   and `extract()` of the same documents as text PDFs (what reading costs when there is text).
   Also how many titles and 文号 OCR read right.
2. Ingest. `gongkai ingest` (a subprocess, fresh home each) of a folder of `--text-docs`
   generated documents with a text layer, against the same folder plus `--scans` scanned
   pages, in the same run: wall and CPU seconds, and the cost per scan.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def scanned_documents(count: int) -> list[tuple[bytes, object, dict]]:
    """(text PDF, image of its first page, truth) of `count` generated 公文: the first page
    holds the 版头, 文号 and title, what OCR is checked on."""
    import generator
    from formats_docs import scanned_page

    out = []
    for index in range(1, count + 1):
        doc = generator.make_document(generator.DEFAULT_SEED, index, "red_header", "reportlab")
        pdf = generator.render_pdf(doc.blocks, doc.font)
        out.append((pdf, scanned_page(pdf=pdf), doc.expected))
    return out


def cpu_now() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, items):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), cpu_now()
    results = [fn(item) for item in items]
    return time.perf_counter() - wall, cpu_now() - cpu, results


def bare_tesseract(image: object) -> str:
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PPM")  # type: ignore[attr-defined]
    return subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "chi_sim", "--dpi", "200", "tsv"],
        input=buffer.getvalue(), capture_output=True, check=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    ).stdout.decode()  # fmt: skip


def ocr_speed(pages: int) -> None:
    from formats_docs import image_bytes, image_only_pdf

    from gongkai.config import ExternalTools
    from gongkai.extractors import extract

    tools = ExternalTools()
    docs = scanned_documents(pages)
    pngs = [image_bytes(image, "PNG") for _, image, _ in docs]
    scans = [image_only_pdf(image) for _, image, _ in docs]
    extract(pngs[0], "warm.png", tools=tools)  # imports, Tesseract's version check
    rows = [
        ("bare tesseract (floor)", *timed(bare_tesseract, [image for _, image, _ in docs])),
        ("extract .png (OCR)", *timed(lambda d: extract(d, "s.png", tools=tools), pngs)),
        ("extract scan .pdf (OCR)", *timed(lambda d: extract(d, "s.pdf", tools=tools), scans)),
        ("extract text .pdf (whole)", *timed(lambda d: extract(d, "t.pdf"),
                                             [p for p, _, _ in docs])),
    ]
    floor = rows[0][1]
    print(f"OCR speed, first pages of {pages} 公文 at 200 dpi, one process (the text PDFs: "
          "whole documents, 2-3 pages)")
    print(f"{'':<26}{'pages/s':>9}{'s/page':>9}{'CPU s/page':>12}{'x floor':>9}")
    for name, wall, cpu, _ in rows:
        print(f"{name:<26}{pages / wall:>9.2f}{wall / pages:>9.2f}{cpu / pages:>12.2f}"
              f"{wall / floor:>9.2f}")
    for name, _, _, results in rows[1:3]:
        titles = sum(m.title == t["title"] for m, (_, _, t) in zip(results, docs, strict=True))
        numbers = sum(m.file_number == t["file_number"]
                      for m, (_, _, t) in zip(results, docs, strict=True))  # fmt: skip
        issuers = sum(m.issuer == t["issuer"] for m, (_, _, t) in zip(results, docs, strict=True))
        print(f"{name}: title right {titles}/{pages}, 文号 right {numbers}/{pages}, "
              f"issuer right {issuers}/{pages}")


def ingest(folder: Path, home: Path) -> tuple[float, dict]:
    """Wall seconds and summary of one `gongkai ingest`. (Not CPU: the worker processes fork
    from a fork server, so getrusage of this process's children does not see them.)"""
    env = {**os.environ, "GONGKAI_HOME": str(home)}
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", "ingest",
                             str(folder), "--json"], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"ingest failed:\n{result.stderr[-3000:]}")
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


def ingest_cost(text_docs: int, scans: int, work: Path) -> None:
    import generator
    from formats_docs import image_bytes, image_only_pdf

    plain = work / "text"
    docs = [d for d in generator.generate(count=text_docs * 2, libreoffice=False)
            if d.category != "image_only"][:text_docs]  # fmt: skip
    generator.write_documents(docs, plain, truth_files=False)
    for stray in plain.glob("*.json"):
        stray.unlink()
    mixed = work / "with-scans"
    shutil.copytree(plain, mixed)
    for k, (_, image, _) in enumerate(scanned_documents(scans)):
        if k % 2:
            (mixed / f"scan-{k}.png").write_bytes(image_bytes(image, "PNG"))
        else:
            (mixed / f"scan-{k}.pdf").write_bytes(image_only_pdf(image, stamp="扫描全能王创建"))
    base_wall, base = ingest(plain, work / "home-text")
    mixed_wall, summary = ingest(mixed, work / "home-scans")
    again_wall, _ = ingest(plain, work / "home-text-again")  # the drift of the machine
    print(f"\ningest, {text_docs} text documents, then the same with {scans} scans "
          f"(half PNG, half stamped image-only PDF), fresh home each, workers: default")
    print(f"{'':<24}{'docs':>6}{'wall s':>9}  by state")
    print(f"{'text only':<24}{base['documents']:>6}{base_wall:>9.1f}  {base['by_state']}")
    print(f"{'with scans':<24}{summary['documents']:>6}{mixed_wall:>9.1f}  {summary['by_state']}")
    print(f"{'text only, again':<24}{base['documents']:>6}{again_wall:>9.1f}")
    text_only = (base_wall + again_wall) / 2
    print(f"cost per scan: {(mixed_wall - text_only) / scans:.2f} s wall; ingest with scans / "
          f"text only (mean of the two around it): {mixed_wall / text_only:.2f} x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--text-docs", type=int, default=60)
    parser.add_argument("--scans", type=int, default=6)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: temp)")
    args = parser.parse_args(argv)
    if shutil.which("tesseract") is None:
        sys.exit("tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-chi-sim")
    if args.pages:
        ocr_speed(args.pages)
    if args.scans:
        with tempfile.TemporaryDirectory(prefix="gongkai-bench-ocr-", dir=args.dir) as work:
            ingest_cost(args.text_docs, args.scans, Path(work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
