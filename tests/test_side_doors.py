"""Nothing about a non-public document leaves by a side door: events name only published
documents, /health says readiness only, file names are shown escaped (stored as given), and
ids or offsets past 64 bits are a clean 404 / 422. Real catalog (SQLite), real stores and
extractors, the API in-process (FastAPI TestClient), the CLI through click."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.entrypoints.cli import main
from gongkai.entrypoints.tables import printable
from gongkai.flows import service
from gongkai.flows.events import MemoryEventSink

STAFF_H = {"Authorization": "Bearer staff"}
HOSTILE = "\x1b[31m\x1b[2J报告\u202etxt.exe\x85\x9b.docx"


@pytest.fixture
def sink() -> MemoryEventSink:
    return MemoryEventSink()


@pytest.fixture
def client(gongkai_env: dict[str, str], sink: MemoryEventSink) -> Iterator[TestClient]:
    app = create_app(load_settings(), tokens=Tokens(staff="staff", intake=None),
                     events=lambda: sink)  # fmt: skip
    with TestClient(app) as test_client:
        yield test_client


def test_events_name_only_published_documents(client: TestClient, sink: MemoryEventSink) -> None:
    ctx = client.app.state.ctx
    truths = {}
    for serial, (disclosure, security) in enumerate(
        [("active", None), ("withheld", None), ("on_request", None), ("partial", None),
         (None, None), ("active", "机密")], 40):  # fmt: skip
        data, truth = make_docx(serial, disclosure=disclosure, security=security)
        record = service.intake(ctx, data, truth.filename, source="test", actor="t").record
        truths[record.id] = truth
        service.intake(ctx, data, f"again-{truth.filename}", source="test", actor="t")
    outcomes = service.process(ctx, list(truths))
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    states = {i: ctx.catalog.get(i).state for i in truths}
    assert sorted(states.values()) == sorted(["published", "withheld", "on_request",
                                              "needs_redaction", "exception", "quarantined"])
    for event in sink.events:
        doc_id = int(event.resource_id.rsplit(".", 1)[1])
        truth = truths[doc_id]
        said = json.dumps(event.payload, ensure_ascii=False) + (event.resource_name or "")
        assert truth.filename not in said, event  # never a file name
        if states[doc_id] != "published":
            for private in (truth.title, truth.file_number, "鸿山镇人民政府"):
                assert private not in said, (event.event, private)
            assert {"state", "disclosure", "document_id"} <= set(event.payload)
    published = next(e for e in sink.events if e.event == "gongkai.document.published")
    assert published.payload["file_number"] == truths[published.payload["document_id"]].file_number


def test_health_reports_readiness_only(client: TestClient) -> None:
    service.intake(client.app.state.ctx, make_docx(50)[0], "x.docx", source="test", actor="t")
    assert client.get("/health").json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/documents/9223372036854775808",
                                  "/documents/9223372036854775808/original",
                                  "/documents/99999999999999999999999", "/documents/0",
                                  "/documents/-1"])  # fmt: skip
def test_ids_past_64_bits_are_not_found(client: TestClient, path: str) -> None:
    for headers in ({}, STAFF_H):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, (path, answer.text)
        assert "no document" in answer.json()["error"]


def test_offsets_past_64_bits_are_refused(client: TestClient) -> None:
    answer = client.get("/documents", params={"offset": 2**63})
    assert answer.status_code == 422
    assert client.get("/documents", params={"offset": 2**63 - 1}).status_code == 200


def test_printable_shows_controls_and_bidi_as_escapes() -> None:
    assert printable("a\x1b[31mb\x00c\u202ed\x9be") == "a\\x1b[31mb\\x00c\\u202ed\\x9be"
    assert printable("鸿政〔2021〕1号 关于…的通知.docx") == "鸿政〔2021〕1号 关于…的通知.docx"
    assert printable("一\n二", lines=True) == "一\n二" and printable("一\n二") == "一\\x0a二"


def test_a_hostile_file_name_is_stored_as_given_and_shown_escaped(
    client: TestClient,
) -> None:
    data, _ = make_docx(51, disclosure="withheld")
    answer = client.post("/documents", files={"file": (HOSTILE, data)}, headers=STAFF_H)
    assert answer.status_code == 201, answer.text
    doc_id = answer.json()["id"]
    stored = client.app.state.ctx.catalog.get(doc_id).filename
    assert stored == HOSTILE  # as given
    shown = answer.json()["filename"]
    assert "\x1b" not in shown and "\u202e" not in shown and "\\x1b" in shown
    staff = client.get(f"/documents/{doc_id}", headers=STAFF_H).json()["document"]
    assert staff["filename"] == shown == printable(HOSTILE)
    listed = client.get("/documents", headers=STAFF_H).json()["documents"]
    assert [d["filename"] for d in listed] == [shown]
    # The clerk's terminal: the exceptions/find tables and show print no raw control.
    runner = CliRunner()
    for args in (["find"], ["show", str(doc_id)]):
        output = runner.invoke(main, args).output
        assert "\x1b" not in output and "\u202e" not in output and "\x85" not in output, args
    # NUL, which no database column takes, is stored as its escape.
    nul = service.intake(client.app.state.ctx, make_docx(52)[0], "a\x00b.docx",
                         source="test", actor="t").record  # fmt: skip
    assert nul.filename == "a\\x00b.docx"
