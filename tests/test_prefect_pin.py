"""The Prefect release CI installs (constraints.txt) lies in pyproject.toml's range, and is the
one installed: a pin and a range that disagree fail the run instead of testing another
Prefect than the one named."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt pins exact versions only: {line!r}"
            pins[name.strip().lower()] = version.strip()
    return pins


def _ranges() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (Requirement(r) for r in project["dependencies"])
    return {r.name.lower(): r for r in requirements}


def test_prefect_is_pinned_inside_the_range_pyproject_allows() -> None:
    pins, ranges = _pins(), _ranges()
    assert "prefect" in pins
    for name, version in pins.items():
        assert name in ranges, f"constraints.txt pins {name}, which pyproject does not need"
        assert ranges[name].specifier.contains(version), (
            f"constraints.txt pins {name}=={version} outside pyproject's {ranges[name]}"
        )


def test_the_installed_prefect_is_the_pinned_one() -> None:
    assert importlib.metadata.version("prefect") == _pins()["prefect"]
