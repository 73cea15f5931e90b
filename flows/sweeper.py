"""serve's sweeper: the ingest sweep run in serve's own process whenever documents may wait.

    Sweeper(settings, options=SweeperOptions()).start() / wake(reason) / stop()
    with Sweeper(...) as sweeper: ...
    received_filter(catalog) -> EventFilter        # the events that wake it

A thread of `gongkai serve` that calls the `ingest-received` flow (flows/ingest.py) itself, so
each sweep is still a flow run on serve's Prefect server (the UI shows it, with its rounds as
task runs of it), but no event trigger, no runner poll and no new flow-run process stand
between a document and its sweep. It sweeps when it is woken:
- at start: whatever waits (documents an interrupted run left, or handed over while no service
  listened; routed ones still to publish);
- by a `gongkai.document.received` event of its own catalog, heard from serve's Prefect server
  with Prefect's events subscriber (`prefect.events.clients.get_events_subscriber`): the
  events of `gongkai submit`, `gongkai api`, `gongkai watch` and serve's own web app;
- by `wake()`, for code in this process that knows a document arrived (serve's outbox relay,
  on each `received` row it has sent: serve's own web app's intake among them);
- by a periodic check of the catalog (`check_every_s`): a document whose event was lost is
  swept then, and documents a sweep could not route are tried again after `retry_after_s`.

A sweep takes small rounds (`batch` documents each), so a document that arrives during a
burst waits for one round, not for everything that was waiting before it, and keeps going
while documents wait; its worker pool reads the next round's batch while a round records, and
what the rounds route to publication is published once per few rounds (flows/ingest.py).
Before a woken sweep the catalog is asked whether anything new waits, so
a burst of events that one sweep already covered starts no empty flow runs. The sweeper's
flow runs share one Context and one worker pool for the whole service (no start-up per run)
and send no heartbeats (serve's own process runs them; a serve that dies leaves its claims to
the next start, flows/ingest.py release_claims_of_dead_sweeps).

Sweeps of the sweeper and deployment runs of the same flow (a manual run, a work-pool worker
on the same catalog) share the documents through their claims (Catalog.claim_pending).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gongkai.config import Settings
from gongkai.flows import runtime
from gongkai.flows.events import CATALOG_LABEL, catalog_id
from gongkai.flows.lifecycle import EVENT_PREFIX, event_name

if TYPE_CHECKING:
    from gongkai.flows.service import Context

log = logging.getLogger("gongkai.sweeper")

RECEIVED_EVENT = event_name("received")
STARTED = "gongkai serve start"
CHECK = "the periodic check"
LISTEN_RETRY_S = 5.0  # the events subscriber gave up (server restarting): listen again after
RESTART_S = 5.0  # the sweeper failed (the catalog unreachable): it starts over after
STOP_WAIT_S = 15.0  # a sweep still running at stop is left to its claims after this


@dataclass(frozen=True)
class SweeperOptions:
    batch: int = 25  # documents a round claims (benchmarks/service.py: p95 at 20 documents/s)
    max_rounds: int = 40  # rounds a sweep takes before the sweeper asks the catalog again
    chunk_size: int = 100
    check_every_s: float = 30.0
    retry_after_s: float = 600.0
    listen: bool = True  # hear `received` events from the Prefect server


Sweep = Callable[[str], Mapping[str, Any]]


class Sweeper:
    """One sweeping thread and one listening thread; `wake()` from any thread."""

    def __init__(self, settings: Settings, options: SweeperOptions | None = None,
                 sweep: Sweep | None = None) -> None:  # fmt: skip
        self.settings = settings
        self.options = options or SweeperOptions()
        self.catalog = catalog_id(settings.database_url)
        self._sweep = sweep
        self._woken = threading.Event()
        self._stopping = threading.Event()
        self._reason = STARTED
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._listener: tuple[asyncio.AbstractEventLoop, asyncio.Task[None]] | None = None
        self._opened: Context | None = None
        self._left = 0  # documents the last sweep left in `received` (it could not route them)
        self._last_sweep = 0.0
        self.sweeps = 0

    # -- control ------------------------------------------------------------------------------

    def start(self) -> Sweeper:
        # Opened here, before the threads (and serve's web app) start: opening a catalog
        # migrates its schema, and two migrations at once in one process clash (Alembic's
        # context is per process).
        self._opened = self._open_context()
        self._threads = [threading.Thread(target=self._run, name="gongkai-sweeper", daemon=True)]
        if self.options.listen:
            self._threads.append(threading.Thread(target=self._listen, name="gongkai-listener",
                                                  daemon=True))  # fmt: skip
        for thread in self._threads:
            thread.start()
        return self

    def wake(self, reason: str = "wake") -> None:
        """Sweep soon: a document may wait (the reason names it in the sweep's run name)."""
        with self._lock:
            if not self._woken.is_set():
                self._reason = reason
            self._woken.set()

    def stop(self) -> None:
        self._stopping.set()
        self._woken.set()
        if self._listener is not None:
            loop, task = self._listener
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(task.cancel)
        deadline = time.monotonic() + STOP_WAIT_S
        for thread in self._threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            log.warning("a sweep still runs at stop: its documents are taken again at the next "
                        "start (their claims)")  # fmt: skip

    def __enter__(self) -> Sweeper:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sweeping -----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                with self._runs() as ctx:
                    reason: str | None = STARTED
                    while not self._stopping.is_set():
                        if reason is not None and self._worth_sweeping(ctx, reason):
                            reason = self._sweep_now(reason)
                            continue
                        reason = self._next_reason()
            except Exception:  # the catalog or a worker failed: start over (what waits)
                log.exception("the sweeper failed; starting again in %.0f s", RESTART_S)
                self._stopping.wait(RESTART_S)

    def _next_reason(self) -> str | None:
        """Wait for a wake (its reason) or the periodic check; None when stopping."""
        woken = self._woken.wait(self.options.check_every_s)
        with self._lock:
            self._woken.clear()
            reason = self._reason if woken else CHECK
        return None if self._stopping.is_set() else reason

    def _worth_sweeping(self, ctx: Any, reason: str) -> bool:
        counts = ctx.catalog.counts_by_state()
        received, to_publish = counts.get("received", 0), counts.get("to_publish", 0)
        if reason == STARTED:
            return received + to_publish > 0
        if received > self._left:
            return True  # something arrived since the last sweep
        retry_due = time.monotonic() - self._last_sweep >= self.options.retry_after_s
        return retry_due and received + to_publish > 0

    def _sweep_now(self, reason: str) -> str | None:
        """One sweep; the reason for another one at once (it stopped at max_rounds), or None."""
        started = time.monotonic()
        try:
            result = self._call_sweep(reason)
        except Exception:
            log.exception("the sweep after %s failed", reason)
            result = {}
        self._last_sweep = time.monotonic()
        self.sweeps += 1
        self._left = len(result.get("failed") or {})
        rounds = int(result.get("rounds") or 0)
        log.info("sweep after %s: %s document(s) in %d round(s), %.1f s", reason,
                 result.get("documents", 0), rounds, self._last_sweep - started)  # fmt: skip
        return "more documents waiting" if rounds >= self.options.max_rounds else None

    def _call_sweep(self, reason: str) -> Mapping[str, Any]:
        if self._sweep is not None:
            return self._sweep(reason)
        from gongkai.flows.ingest import ingest_received

        return ingest_received(triggered_by=reason, chunk_size=self.options.chunk_size,
                               max_batch=self.options.batch,
                               max_rounds=self.options.max_rounds)  # fmt: skip

    @contextlib.contextmanager
    def _runs(self) -> Iterator[Any]:
        """The Context and worker pool every sweep of this thread shares, heartbeats off."""
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from gongkai.flows.service import WorkerPool

        workers = int(os.environ.get("GONGKAI_WORKERS") or 0) or os.cpu_count() or 1
        opened, self._opened = self._opened, None
        with (
            opened or self._open_context() as ctx,
            # One OCR process: the other cores stay with the documents that arrive.
            WorkerPool(workers, ocr_workers=1) as pool,
            runtime.use_context(ctx),
            runtime.use_workers(pool),
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        ):
            pool.warm()
            yield ctx

    def _open_context(self) -> Context:
        from gongkai.flows.service import Context

        return Context.open(self.settings)

    # -- listening ----------------------------------------------------------------------------

    def _listen(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(self._hear_received())
            self._listener = (loop, task)
            if self._stopping.is_set():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
        finally:
            loop.close()

    async def _hear_received(self) -> None:
        from prefect.events.clients import get_events_subscriber

        while not self._stopping.is_set():
            try:
                async with get_events_subscriber(filter=received_filter(self.catalog)) as sub:
                    log.info("listening for %s of catalog %s", RECEIVED_EVENT, self.catalog)
                    async for event in sub:
                        self.wake(event.resource.id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the server is restarting or gone: listen again
                log.warning("the events subscriber stopped (%s); listening again in %.0f s",
                            exc, LISTEN_RETRY_S)  # fmt: skip
                self.wake("the events subscriber's restart")  # what it missed meanwhile
            await asyncio.sleep(LISTEN_RETRY_S)

def received_filter(catalog: str) -> Any:
    """The events that wake a sweeper: `gongkai.document.received` of `catalog` only
    (events.catalog_id), so two catalogs sharing a Prefect server do not wake each other."""
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
    from prefect.events.schemas.events import ResourceSpecification

    return EventFilter(
        event=EventNameFilter(name=[RECEIVED_EVENT]),
        resource=EventResourceFilter(
            id_prefix=[f"{EVENT_PREFIX}."],
            labels=ResourceSpecification({CATALOG_LABEL: catalog}),
        ),
    )  # fmt: skip

