"""Nothing about a non-public document leaves by a side door: events name only published
documents, /health says readiness only, file names are shown escaped (stored as given), and
ids or offsets past 64 bits are a clean 404 / 422. Real catalog (SQLite), real stores and
extractors, the API in-process (FastAPI TestClient), the CLI through click."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator, Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx
from service_run import outbox

from gongkai.config import load_settings
from gongkai.entrypoints import upload
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
                     relay=False)  # fmt: skip
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
    sent = outbox(ctx)  # the events the relay makes of the audit rows
    for event in sent.events:
        doc_id = int(event.resource_id.rsplit(".", 1)[1])
        truth = truths[doc_id]
        said = json.dumps(event.payload, ensure_ascii=False) + (event.resource_name or "")
        assert truth.filename not in said, event  # never a file name
        if states[doc_id] != "published":
            for private in (truth.title, truth.file_number, "鸿山镇人民政府"):
                assert private not in said, (event.event, private)
            assert {"state", "disclosure", "document_id"} <= set(event.payload)
    published = next(e for e in sent.events if e.event == "gongkai.document.published")
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


# --- the upload limit is the whole request's --------------------------------------------------

BOUNDARY = "gongkaiboundary"
CHUNK = 64 * 1024


def _part(name: str, body_size: int, filename: str | None = None) -> Iterator[bytes]:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    yield f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
    for start in range(0, body_size, CHUNK):
        yield b"%" * min(CHUNK, body_size - start)
    yield b"\r\n"


class Stream:
    """An async body of parts that counts how much of it the reader took."""

    def __init__(self, *parts: Iterator[bytes]) -> None:
        self.chunks = [c for part in parts for c in part] + [f"--{BOUNDARY}--\r\n".encode()]
        self.taken = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.taken += len(chunk)
            yield chunk


def _read(stream: Stream, limit: int, fields: tuple[str, ...] = ()) -> upload.Upload:
    return asyncio.run(upload.read_upload(
        f"multipart/form-data; boundary={BOUNDARY}", stream.__aiter__(), file_field="file",
        max_file_bytes=limit, text_fields=fields))  # fmt: skip


def test_parts_beyond_the_file_are_refused_before_they_are_read() -> None:
    # Fifteen 49 MB extra file parts once took the API from 137 to 867 MB: now the first one
    # is refused as soon as its headers arrive.
    extra = Stream(_part("file", 1000, "a.pdf"),
                   *(_part(f"extra{i}", 49 * 2**20, "x.pdf") for i in range(15)))  # fmt: skip
    with pytest.raises(upload.UploadError, match="only 'file' takes one") as refused:
        _read(extra, 50 * 2**20)
    assert refused.value.status == 422 and extra.taken < 2 * CHUNK
    second = Stream(_part("file", 1000, "a.pdf"), _part("file", 1000, "b.pdf"))
    with pytest.raises(upload.UploadError, match="one file per request"):
        _read(second, 10_000)
    unknown = Stream(_part("file", 1000, "a.pdf"), _part("comment", 10))
    with pytest.raises(upload.UploadError, match="unknown form field 'comment'"):
        _read(unknown, 10_000)
    named = _read(Stream(_part("file", 1000, "a.pdf"), _part("declared_disclosure", 6)),
                  10_000, ("declared_disclosure",))  # fmt: skip
    assert named.fields == {"declared_disclosure": "%%%%%%"} and named.size == 1000


def test_the_limit_counts_the_whole_request() -> None:
    limit = 200_000
    fields = tuple(f"f{i}" for i in range(15))
    # Every text field within its own cap, the file within the limit: the sum is too much.
    padded = Stream(_part("file", limit, "a.pdf"),
                    *(_part(name, upload.MAX_FIELD_BYTES) for name in fields))  # fmt: skip
    with pytest.raises(upload.UploadTooLarge):
        _read(padded, limit, fields)


def test_a_large_file_is_spooled_to_disk_not_held_in_memory() -> None:
    size = 8 * 2**20
    body = Stream(_part("file", size, "big.pdf"))  # the client's bytes, not the reader's
    tracemalloc.start()
    try:
        received = _read(body, 50 * 2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received.size == size and peak < 2 * upload.SPOOL_IN_MEMORY_BYTES
    assert len(received.data) == size
    received.close()


def test_the_api_refuses_an_extra_file_part(client: TestClient) -> None:
    data, _ = make_docx(60)
    answer = client.post("/documents", headers=STAFF_H,
                         files=[("file", ("a.docx", data)), ("attachment", ("b.docx", data))])
    assert answer.status_code == 422 and "only 'file'" in answer.json()["error"]
    assert sum(client.app.state.ctx.catalog.counts_by_state().values()) == 0


@pytest.mark.postgres
def test_hostile_names_are_stored_on_postgresql(
    postgres_url: str, gongkai_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GONGKAI_DATABASE_URL", postgres_url)
    with service.Context.open(load_settings()) as ctx:
        hostile = service.intake(ctx, make_docx(61)[0], HOSTILE, source="test", actor="t")
        nul = service.intake(ctx, make_docx(62)[0], "a\x00b.docx", source="test", actor="t")
        assert ctx.catalog.get(hostile.record.id).filename == HOSTILE
        assert ctx.catalog.get(nul.record.id).filename == "a\\x00b.docx"


@pytest.mark.parametrize("args", [["show", "9223372036854775808"], ["verify", "0"],
                                  ["get", "99999999999999999999", "--out", "x.docx"],
                                  ["resolve", "0", "--disclosure", "active", "--reason", "r"]])
def test_the_cli_says_no_document_for_an_id_past_64_bits(
    gongkai_env: dict[str, str], args: list[str]
) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "no document" in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
