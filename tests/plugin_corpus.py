"""Session fixture `corpus`: the generated official documents with their truth.

The default corpus is built once and cached under the system temp dir (or
``$GONGKAI_CORPUS_CACHE``), keyed by a hash of generator.py and its data plus the seed, so
repeated runs reuse it and any change to the generator rebuilds it. The PDFs made by
LibreOffice need ``soffice`` on PATH: without it a CI run (CI=true) fails, a local run leaves
those documents out with a warning.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import generator
import pytest

CorpusEntry = tuple[Path, dict[str, Any]]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def corpus_cache_dir(seed: int, with_libreoffice: bool) -> Path:
    root = Path(os.environ.get("GONGKAI_CORPUS_CACHE")
                or Path(tempfile.gettempdir()) / "gongkai-corpus")
    variant = "lo" if with_libreoffice else "nolo"
    return root / f"{generator.source_fingerprint()}-s{seed}-{variant}"


def _load(target: Path) -> list[CorpusEntry] | None:
    manifest = target / "manifest.json"
    if not manifest.is_file():
        return None
    entries = [(target / t["file"], t) for t in json.loads(manifest.read_text("utf-8"))]
    if not all(path.is_file() for path, _ in entries):
        return None  # a damaged cache is rebuilt, never half-used
    return entries


def load_or_build_corpus(seed: int = generator.DEFAULT_SEED,
                         with_libreoffice: bool = True) -> list[CorpusEntry]:
    target = corpus_cache_dir(seed, with_libreoffice)
    cached = _load(target)
    if cached is not None:
        return cached
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: a concurrent session never sees a half-built corpus.
    staging = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}"
    try:
        generator.build_corpus(staging, seed=seed, libreoffice=with_libreoffice)
        with contextlib.suppress(OSError):  # another session finished first: use its corpus
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    built = _load(target)
    if built is None:
        raise RuntimeError(f"corpus at {target} is incomplete after building it")
    _remove_stale(target)
    return built


def _remove_stale(current: Path, max_age_s: float = 3600) -> None:
    """Corpora of older generator versions are dead weight: drop those unused for an hour."""
    now = time.time()
    for sibling in current.parent.iterdir():
        if sibling != current and sibling.is_dir() and now - sibling.stat().st_mtime > max_age_s:
            shutil.rmtree(sibling, ignore_errors=True)


@pytest.fixture(scope="session")
def corpus() -> list[CorpusEntry]:
    """(path, truth) for every document of the default corpus; see generator.py for truth."""
    with_libreoffice = generator.soffice_path() is not None
    if not with_libreoffice:
        if _in_ci():
            pytest.fail("LibreOffice (soffice) is required in CI to build the LibreOffice-made "
                        "PDFs of the corpus: install libreoffice-writer-nogui")
        warnings.warn("LibreOffice (soffice) not on PATH: the corpus leaves out the PDFs made "
                      "by LibreOffice", stacklevel=1)
    try:
        return load_or_build_corpus(generator.DEFAULT_SEED, with_libreoffice)
    except generator.GeneratorError as exc:
        pytest.fail(f"cannot build the document corpus: {exc}")
