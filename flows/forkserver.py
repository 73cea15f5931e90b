"""The worker pool's fork server, from a module that imports nothing heavy.

`gongkai ingest` on a new home starts it first thing (`start()`), before its own imports of
the service layer and Prefect: the fork server imports the readers in its own process
(flows/worker_preload.py) meanwhile, and the worker processes fork from it ready to read.
Measured: the first documents reached the workers 1.6 s into a 1,000-document ingest when
the fork server was started after those imports.
"""

from __future__ import annotations

import multiprocessing
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
