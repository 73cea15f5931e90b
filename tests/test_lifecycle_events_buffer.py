"""BufferedEventSink: events held before Prefect is ready go out in order, also when they are
handed over from a background thread while new events keep coming."""

from __future__ import annotations

import threading

from gongkai.flows.events import BufferedEventSink, MemoryEventSink


class SlowSink(MemoryEventSink):
    """A target whose emit waits for a gate, so that events arrive during the hand-over."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    def emit(self, event, *, resource_id, payload, resource_name=None) -> None:  # type: ignore[no-untyped-def]
        self.gate.wait(timeout=10)
        super().emit(event, resource_id=resource_id, payload=payload,
                     resource_name=resource_name)  # fmt: skip


def test_attach_in_background_keeps_order_and_delivers_everything() -> None:
    buffered = BufferedEventSink()
    for n in range(50):
        buffered.emit("held", resource_id=f"r.{n}", payload={"n": n})
    gate = threading.Event()
    target = SlowSink(gate)
    buffered.attach_in_background(target)
    # Emitted while the held ones are still being handed over: they queue behind them.
    for n in range(50, 80):
        buffered.emit("during", resource_id=f"r.{n}", payload={"n": n})
    gate.set()
    buffered.wait_attached()
    buffered.emit("after", resource_id="r.80", payload={"n": 80})
    assert [e.payload["n"] for e in target.events] == list(range(81))
    assert buffered.held == 0


def test_discard_returns_the_held_events_and_sends_nothing() -> None:
    buffered = BufferedEventSink()
    buffered.emit("gongkai.document.duplicate_submission", resource_id="r.1", payload={})
    assert [e.event for e in buffered.discard()] == ["gongkai.document.duplicate_submission"]
    assert buffered.held == 0
