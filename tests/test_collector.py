"""The garbage collector's thresholds in gongkai's own processes (flows/collector.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from gongkai.flows.collector import YOUNG_THRESHOLD

THRESHOLDS_AFTER = """
import gc, json, sys
gc.set_threshold(*map(int, sys.argv[1].split(",")))
from gongkai.flows.collector import collect_less_often
collect_less_often()
print(json.dumps(gc.get_threshold()))
"""

COMMAND_THRESHOLDS = """
import gc, json, sys
from gongkai.entrypoints import cli
sys.argv = ["gongkai", "--version"]
before = gc.get_threshold()
try:
    cli.run()
except SystemExit:
    pass
print(json.dumps({"before": before, "during": gc.get_threshold()}))
"""


def _run(script: str, *args: str) -> object:
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_young_generation_is_collected_less_often_and_the_others_as_before() -> None:
    assert _run(THRESHOLDS_AFTER, "700,10,10") == [YOUNG_THRESHOLD, 10, 10]
    assert _run(THRESHOLDS_AFTER, "700,5,7") == [YOUNG_THRESHOLD, 5, 7]
    # A process that collects less often still already is left alone.
    assert _run(THRESHOLDS_AFTER, f"{YOUNG_THRESHOLD * 2},10,10") == [YOUNG_THRESHOLD * 2, 10, 10]


def test_the_gongkai_command_sets_it_before_its_command_runs() -> None:
    thresholds = _run(COMMAND_THRESHOLDS)
    assert thresholds == {"before": [700, 10, 10], "during": [YOUNG_THRESHOLD, 10, 10]}
