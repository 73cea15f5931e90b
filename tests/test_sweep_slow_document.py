"""A sweep of serve's sweeper (flows/ingest.py ingest_received on a parallel worker pool, as
flows/sweeper.py runs it, against the session's real Prefect server) does not hold the
documents that arrive while one document is still being read: a scan's OCR takes seconds, and
a round records what is read within PATIENCE_S, so documents handed over during the OCR are
claimed, read and routed before the scan (which is routed too, once read)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from plugin_prefect import SCRIPT_PRELUDE, PrefectServer

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tesseract") is None,
                                 reason="Tesseract is not installed")]  # fmt: skip

LATE = 3

# A six-page scan to OCR (about 6 s here), taken in with the documents of each script.
PRELUDE = SCRIPT_PRELUDE + textwrap.dedent(
    """
    doc = next(d for d in generator.generate(count=60, libreoffice=False)
               if d.producer == "python-docx")
    scan_pdf = generator.render_image_pdf(generator.render_pdf(list(doc.blocks) * 3),
                                          max_pages=6, dpi=150)
    scan = service.intake(ctx, scan_pdf, "scan.pdf", source="test", actor="t").record.id
    """
)

SCRIPT = PRELUDE + textwrap.dedent(
    """
    ingest.PATIENCE_S = 0.3  # far shorter than the scan's OCR, far longer than a .docx
    first = take_in(ctx, [1])
    late = []

    def hand_over_during_the_scan():
        # As soon as the first document is routed (the scan is still under OCR), more come.
        other = service.Context.open(load_settings())
        handed = [make_docx(serial, disclosure="active") for serial in range(2, {late} + 2)]
        deadline = time.monotonic() + 120
        while other.catalog.states_of(first)[first[0]] == "received":
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        for data, truth in handed:
            late.append(service.intake(other, data, truth.filename, source="test",
                                       actor="t").record.id)

    helper = threading.Thread(target=hand_over_during_the_scan)
    helper.start()
    with service.WorkerPool(2) as pool, runtime.use_context(ctx), runtime.use_workers(pool):
        swept = ingest.ingest_received(triggered_by="test", max_batch=4, max_rounds=40)
    helper.join()

    def extracted(doc_id):
        return [e.id for e in ctx.catalog.history(doc_id) if e.kind == "extracted"]

    states = ctx.catalog.states_of([scan, *first, *late])
    print(json.dumps({{"swept": swept, "late": late, "scan": scan,
                       "states": {{str(k): v for k, v in states.items()}},
                       "extracted": {{str(i): extracted(i) for i in [scan, *first, *late]}}}}))
    """
)


def test_documents_handed_over_during_a_scan_are_routed_before_it(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    out = prefect_server.run_script(SCRIPT.format(tests=str(Path(__file__).parent), late=LATE),
                                    tmp_path)  # fmt: skip
    late, scan = out["late"], out["scan"]
    assert len(late) == LATE
    extracted = {int(k): v for k, v in out["extracted"].items()}
    assert all(len(rows) == 1 for rows in extracted.values()), extracted
    # Every document handed over during the OCR was read and recorded before the scan.
    assert max(extracted[i][0] for i in late) < extracted[scan][0]
    states = {int(k): v for k, v in out["states"].items()}
    assert "received" not in states.values(), states
    assert states[scan] == "exception"  # read by OCR: a person confirms the fields


LAST_ROUND_SCRIPT = PRELUDE + textwrap.dedent(
    """
    typed = take_in(ctx, [1, 2])
    with service.WorkerPool(2) as pool, runtime.use_context(ctx), runtime.use_workers(pool):
        first = ingest.ingest_received(triggered_by="test", max_batch=4, max_rounds=1)
        after_first = ctx.catalog.states_of([scan, *typed])
        second = ingest.ingest_received(triggered_by="test", max_batch=4, max_rounds=40)
    states = ctx.catalog.states_of([scan, *typed])
    extracted = [e.kind for e in ctx.catalog.history(scan)].count("extracted")
    print(json.dumps({{"first": first, "second": second, "scan": scan, "typed": typed,
                       "after_first": {{str(k): v for k, v in after_first.items()}},
                       "states": {{str(k): v for k, v in states.items()}},
                       "extracted": extracted}}))
    """
)


def test_the_last_round_leaves_a_scan_still_read_to_the_next_sweep(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    # A sweep's last round (max_rounds) does not wait for a scan the OCR lane still reads:
    # the documents arriving behind it would wait too. The next sweep takes the pool's reading.
    out = prefect_server.run_script(LAST_ROUND_SCRIPT.format(tests=str(Path(__file__).parent)),
                                    tmp_path)  # fmt: skip
    scan, typed = str(out["scan"]), [str(i) for i in out["typed"]]
    assert out["first"]["rounds"] == 1
    assert out["after_first"][scan] == "received"
    assert all(out["after_first"][i] != "received" for i in typed), out["after_first"]
    assert out["states"][scan] == "exception"
    assert out["extracted"] == 1  # read once, by the OCR lane
