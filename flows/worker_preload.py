"""Imported once by the worker pool's fork server (service.WorkerPool), before any worker
forks from it: the readers and the service layer, then the heap frozen.

Frozen (gc.freeze), these tens of thousands of module objects are never walked again by the
cyclic garbage collector, neither in the fork server nor in the workers forked from it, which
also keeps the pages they share with the fork server from being copied by the collector's
writes. Nothing here opens a connection or starts a thread: the fork server must stay safe
to fork from.
"""

from __future__ import annotations

import gc

import docx  # noqa: F401
import pdfplumber  # noqa: F401

import gongkai.extractors
import gongkai.extractors.docx
import gongkai.extractors.pdf
import gongkai.flows.service  # noqa: F401

gc.freeze()
