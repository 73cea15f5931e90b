"""The worker pool's fork server, from a module that imports nothing heavy.

`gongkai ingest` on a new home starts it first thing (`start()`), before its own imports of
the service layer and Prefect: the fork server imports the readers in its own process
(flows/worker_preload.py) meanwhile, and the worker processes fork from it ready to read.
Measured: the first documents reached the workers 1.6 s into a 1,000-document ingest when
the fork server was started after those imports.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import signal
import threading
import time
from multiprocessing.context import ForkServerContext

PRELOAD = ("gongkai.flows.worker_preload",)


def context() -> ForkServerContext:
    """The forkserver start method, with the readers preloaded. Never fork a process that
    has Prefect's threads running: workers fork from the fork server instead."""
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(list(PRELOAD))
    return mp  # type: ignore[return-value]


def start() -> None:
    """Start the fork server now, if it is not running (returns at once; its imports run in
    its own process)."""
    context()
    from multiprocessing import forkserver

    forkserver.ensure_running()


def die_with(pid: int) -> None:
    """End this process the moment process `pid` ends, however it ends (kill -9, the OOM
    killer). For the workers: each holds the write end of its pool's call queue and of the
    fork server's liveness pipe, so once the main process is gone without closing the pool
    nothing else would ever end them, nor the fork server and resource tracker they keep open.
    With them gone, those two see their pipes close and exit by themselves."""
    try:
        watched = os.pidfd_open(pid)  # Linux 5.3+: readable once the process has ended
    except (AttributeError, OSError):
        watched = None

    def watch() -> None:
        if watched is not None:
            select.select([watched], [], [])
        else:
            with contextlib.suppress(ProcessLookupError):
                while True:
                    os.kill(pid, 0)
                    time.sleep(1)
        os.kill(os.getpid(), signal.SIGKILL)  # nobody is left to take this process's results

    threading.Thread(target=watch, name="gongkai-die-with-parent", daemon=True).start()
