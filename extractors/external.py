"""Running an external program (Tesseract, LibreOffice) on untrusted input, bounded in time.

The program runs in a session of its own, so that a time-out ends it and everything it
started (LibreOffice's soffice.bin behind its oosplash launcher), not only the first process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Finished", "ProgramMissing", "TimedOut", "run_bounded"]


class ProgramMissing(Exception):
    """The command is not installed (or not executable) here."""


class TimedOut(Exception):
    """The program ran past its time limit and was ended."""


@dataclass(frozen=True, slots=True)
class Finished:
    returncode: int
    stdout: bytes
    stderr: bytes


def _end(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.communicate(timeout=5)


def run_bounded(
    command: Sequence[str],
    *,
    seconds: float,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> Finished:
    """Run `command`, feed it `stdin`, and return what it wrote. Raises ProgramMissing when
    the command does not exist, TimedOut (after ending its whole process group) when it runs
    longer than `seconds`. Any exception in between (the extraction's own hard time limit)
    ends the program too."""
    try:
        process = subprocess.Popen(
            list(command), stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise ProgramMissing(f"{command[0]}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = process.communicate(stdin, timeout=max(0.1, seconds))
    except subprocess.TimeoutExpired:
        _end(process)
        raise TimedOut(f"{command[0]} ran longer than {seconds:g} s") from None
    except BaseException:
        _end(process)
        raise
    return Finished(process.returncode, stdout, stderr)
