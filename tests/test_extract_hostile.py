"""Hostile and broken input: every case ends in one ExtractionError with a stable reason and a
message a clerk can act on, within bounded time, and nothing is written anywhere.

The hostile files are built here, in memory. `sealed` runs each case with an empty working
directory and an empty temp directory, and an audit hook records any file opened for writing
while the reader runs.
"""

from __future__ import annotations

import io
import os
import random
import re
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from docx import Document
from formats_docs import ofd_package
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from gongkai.extractors import Limits, extract, parse
from gongkai.extractors.model import ExtractionError

pytestmark = pytest.mark.timeout(120)

_writes: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _writes is None or event != "open":
        return
    path, mode, flags = args
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
    )
    if writing:
        _writes.append(str(path))


sys.addaudithook(_audit)


@pytest.fixture
def sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., object]]:
    """Run the reader in an empty cwd with an empty TMPDIR; fail if it opened a file for
    writing or left anything behind."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))

    def run(data: bytes, name: str = "document.docx", **kw: object) -> object:
        global _writes
        _writes = []
        try:
            return extract(data, name, **kw)  # type: ignore[arg-type]
        finally:
            opened, _writes = _writes, None
            assert opened == [], f"the reader opened files for writing: {opened}"

    yield run
    assert list(cwd.iterdir()) == [] and list(tmp.iterdir()) == []


def refused(run: Callable[..., object], data: bytes, reason: str, **kw: object) -> str:
    started = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        run(data, **kw)
    elapsed = time.monotonic() - started
    error = caught.value
    assert error.reason == reason, error.message
    message = error.message
    assert message == str(error)
    # Clear for a clerk: says what happened in Chinese and English, and no Python internals.
    assert re.search(r"[\u4e00-\u9fff]", message) and re.search(r"[a-z]{4}", message)
    assert "Traceback" not in message and "Error" not in message and len(message) < 400
    assert elapsed < 30, f"took {elapsed:.1f} s"
    return message


def good_docx() -> bytes:
    doc = Document()
    doc.add_paragraph("鸿政〔2020〕53号")
    doc.add_paragraph("关于印发方案的通知")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def good_pdf(*, encrypt: str | None = None, pages: int = 1) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt=encrypt)
    for page in range(pages):
        c.setFont("STSong-Light", 16)
        c.drawString(100, 700, f"关于印发方案的通知（第{page + 1}页）")
        c.showPage()
    c.save()
    return buf.getvalue()


def docx_with(parts: dict[str, bytes | str], *, base: bytes | None = None) -> bytes:
    """A real .docx with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(base or good_docx()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename not in parts:
                out.writestr(info.filename, source.read(info.filename))
        for name, data in parts.items():
            out.writestr(name, data)
    return buf.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (1 0 obj is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"\
        .encode()
    return bytes(out)


def stream(data: bytes, *, compress: bool = True) -> bytes:
    body = zlib.compress(data, 9) if compress else data
    flt = b" /Filter /FlateDecode" if compress else b""
    return b"<< /Length %d%s >>\nstream\n" % (len(body), flt) + body + b"\nendstream"


def one_page_pdf(content: bytes, *, count: int = 1, kids: int = 1, compress: bool = True) -> bytes:
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join([b"3 0 R"] * kids) + b"] /Count %d >>" % count,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        stream(content, compress=compress),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


# --- empty, random, truncated, too large ------------------------------------------------------


def test_empty_file(sealed: Callable[..., object]) -> None:
    assert "empty" in refused(sealed, b"", "empty")


def test_random_bytes(sealed: Callable[..., object]) -> None:
    noise = random.Random(7).randbytes(64 * 1024)
    assert not noise.startswith((b"PK", b"%PDF"))
    refused(sealed, noise, "unsupported_type")


def test_truncated_docx(sealed: Callable[..., object]) -> None:
    data = good_docx()
    for cut in (len(data) // 2, len(data) - 30, 100):
        assert "incomplete" in refused(sealed, data[:cut], "corrupt")


def test_truncated_pdf(sealed: Callable[..., object]) -> None:
    data = good_pdf(pages=3)
    for cut in (len(data) // 2, len(data) - 10, 20):
        message = refused(sealed, data[:cut], "corrupt", name="document.pdf")
        assert "PDF" in message


def test_file_over_the_size_limit_is_refused_before_parsing(
    sealed: Callable[..., object],
) -> None:
    noise = random.Random(1).randbytes(4096)  # would be unsupported_type if it were parsed
    message = refused(sealed, noise, "too_large", max_bytes=1024)
    assert "1024" in message or "0.0 MB" in message or "limit" in message
    refused(sealed, good_pdf(), "too_large", max_bytes=100)


# --- encrypted -----------------------------------------------------------------------------------


def test_encrypted_pdf(sealed: Callable[..., object]) -> None:
    message = refused(sealed, good_pdf(encrypt="secret"), "encrypted", name="secret.pdf")
    assert "password" in message and "加密" in message


def test_encrypted_word_file(sealed: Callable[..., object]) -> None:
    # Word saves a password-protected .docx as an OLE container holding EncryptedPackage.
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000) + "EncryptedPackage".encode(
        "utf-16-le") + bytes(1000)
    assert "password" in refused(sealed, ole, "encrypted")


# --- zip bombs and unsafe zip entries --------------------------------------------------------


def test_zip_bomb_dressed_as_docx(sealed: Callable[..., object]) -> None:
    buf = io.BytesIO()
    base = zipfile.ZipFile(io.BytesIO(good_docx()))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info.filename, base.read(info.filename))
        # 600 MB of nothing inside the main part, written in chunks (never held in memory)
        with out.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(base.read("word/document.xml")[:-30])
            chunk = b" " * (1 << 20)
            for _ in range(600):
                part.write(chunk)
    data = buf.getvalue()
    assert len(data) < 2 * 1024 * 1024
    assert "IT" in refused(sealed, data, "zip_bomb")


def test_zip_bomb_with_a_lying_directory_stops_at_the_declared_size(
    sealed: Callable[..., object],
) -> None:
    """The directory says 2 kB, the data inflates to 50 MB: inflation stops at the declared
    size (the CRC then fails), so the bomb never expands."""
    bomb = b"<w:document>" + b" " * (50 << 20)
    data = bytearray(docx_with({"word/document.xml": bomb}))
    directory = data.rfind(b"PK\x01\x02", 0, data.rfind(b"word/document.xml"))
    local = data.find(b"PK\x03\x04" + data[directory + 6:directory + 10])
    # uncompressed size: central directory offset 24, local header offset 22
    data[directory + 24:directory + 28] = (2048).to_bytes(4, "little")
    data[local + 22:local + 26] = (2048).to_bytes(4, "little")
    with pytest.raises(ExtractionError) as caught:
        sealed(bytes(data))
    assert caught.value.reason in ("corrupt", "zip_bomb")


def test_zip_with_too_many_entries(sealed: Callable[..., object]) -> None:
    extra = {f"word/media/x{k}.xml": b"" for k in range(6000)}
    assert "entries" in refused(sealed, docx_with(extra), "zip_bomb")
    # The end-of-directory record is read before zipfile builds an object per entry.
    data = bytearray(good_docx())
    end = data.rfind(b"PK\x05\x06")
    data[end + 8:end + 12] = (60000).to_bytes(2, "little") * 2
    assert "60000 entries" in refused(sealed, bytes(data), "zip_bomb")


def test_highly_compressed_entry_is_refused_from_the_directory(
    sealed: Callable[..., object],
) -> None:
    # 40 MB of spaces in a part nobody needs: the ratio in the directory gives it away.
    assert "compressed" in refused(
        sealed, docx_with({"customXml/item9.xml": b" " * (40 << 20)}), "zip_bomb"
    )


@pytest.mark.parametrize(
    "name", ["../../evil.xml", "word/../../../etc/cron.d/x", "/etc/passwd", "C:/Windows/x.xml",
             "..\\..\\evil.xml"]
)
def test_zip_entries_pointing_outside(sealed: Callable[..., object], name: str) -> None:
    assert "outside" in refused(sealed, docx_with({name: b"<x/>"}), "unsafe_path")


# --- XML ---------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "\n".join(
        f'<!ENTITY lol{k} "' + f"&lol{k - 1};" * 10 + '">' if k > 1 else
        '<!ENTITY lol1 "' + "&lol;" * 10 + '">'
        for k in range(1, 10)
    )
    + '\n]>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&secret;</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize(
    ("part", "xml"),
    [
        ("word/document.xml", BILLION_LAUGHS.encode()),
        ("word/document.xml", XXE.encode()),
        ("word/document.xml", BILLION_LAUGHS.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>')
         .encode("utf-16")),
        ("[Content_Types].xml", b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "b">]><Types/>'),
        ("word/styles.xml", b'<?xml version="1.0"?><!-- hidden -->\n<!DOCTYPE s SYSTEM '
                            b'"http://example.invalid/s.dtd"><w:styles/>'),
    ],
    ids=["billion-laughs", "external-entity", "utf16-doctype", "content-types", "styles-dtd"],
)
def test_xml_entity_expansion_and_doctype(
    sealed: Callable[..., object], part: str, xml: bytes
) -> None:
    message = refused(sealed, docx_with({part: xml}), "unsafe_xml")
    assert part in message


def test_malformed_xml_part(sealed: Callable[..., object]) -> None:
    assert "XML" in refused(sealed, docx_with({"word/document.xml": b"<w:document"}), "corrupt")


def _with_wrong_crc(data: bytes, name: str) -> bytes:
    """`data` with the directory's CRC-32 of entry `name` off by one (the bytes stay intact)."""
    record = data.find(b"PK\x01\x02")  # the directory's records: signature, ..., name at 46
    while data[record + 46:record + 46 + int.from_bytes(data[record + 28:record + 30],
                                                          "little")] != name.encode():
        record = data.index(b"PK\x01\x02", record + 4)
    crc = int.from_bytes(data[record + 16:record + 20], "little") ^ 1
    return data[:record + 16] + crc.to_bytes(4, "little") + data[record + 20:]


def test_a_part_with_a_wrong_checksum_is_damaged(sealed: Callable[..., object]) -> None:
    # A short XML part nothing refers to: only the prolog guard reads it, whole, and its
    # checksum is what zipfile checks at the end of an entry.
    data = _with_wrong_crc(docx_with({"word/extra.xml": b'<?xml version="1.0"?><x/>'}),
                           "word/extra.xml")
    assert "word/extra.xml" in refused(sealed, data, "corrupt")


def test_the_guards_read_an_entry_as_zipfile_does() -> None:
    from gongkai.extractors.safety import SafeZip

    buf = io.BytesIO()
    text = ('<?xml version="1.0"?>\n<w:document>' + "正文" * 3000 + "</w:document>").encode()
    with zipfile.ZipFile(buf, "w") as out:
        out.writestr("stored.xml", text, zipfile.ZIP_STORED)
        out.writestr("deflated.xml", text, zipfile.ZIP_DEFLATED)
        out.writestr("short.xml", b"<x/>", zipfile.ZIP_DEFLATED)
        out.writestr("bzip2.xml", text, zipfile.ZIP_BZIP2)
    package = SafeZip(buf.getvalue())
    for name in ("stored.xml", "deflated.xml", "short.xml"):
        for size in (1, 512, 4096, len(text) + 1):
            with package.open(name) as stream:
                assert package.head(name, size) == stream.read(size), (name, size)
    assert package.head("bzip2.xml", 512) is None  # not deflate: read through zipfile
    damaged = SafeZip(_with_wrong_crc(buf.getvalue(), "short.xml"))
    assert damaged.head("short.xml", 512) is None  # whole, and its checksum is wrong


# --- PDF: absurd page counts, huge streams, time ------------------------------------------------


def test_pdf_with_absurd_page_count_reads_a_bounded_number_of_pages(
    sealed: Callable[..., object],
) -> None:
    content = b"BT /F1 12 Tf 72 720 Td (Page text) Tj ET"
    data = one_page_pdf(content, count=999_999_999, kids=50_000)
    started = time.monotonic()
    meta = sealed(data, "many.pdf", limits=Limits(max_pages=300))
    assert time.monotonic() - started < 30
    assert meta.page_count == 50_000  # type: ignore[attr-defined]
    assert meta.text.count("Page text") == 300  # type: ignore[attr-defined]
    assert any("only the first 300 of 50000 pages" in w
               for w in meta.warnings)  # type: ignore[attr-defined]


def test_pdf_flate_bomb_content_stream(sealed: Callable[..., object]) -> None:
    inflated = b"BT /F1 12 Tf 72 720 Td (x) Tj ET\n" + b" " * (300 << 20)
    data = one_page_pdf(inflated)
    assert len(data) < 1 << 20
    assert "PDF" in refused(sealed, data, "zip_bomb", name="bomb.pdf")


def test_pdf_huge_text_is_capped(sealed: Callable[..., object]) -> None:
    # 10 000 lines on one page (most of them below its edge): 230 000 characters
    content = b"BT /F1 10 Tf 20 780 Td " + b"(0123456789 abcdefghij) Tj 0 -12 Td " * 10_000 \
        + b"ET"
    meta = sealed(one_page_pdf(content), "dense.pdf", limits=Limits(max_chars=100_000))
    assert len(meta.text) <= 110_000  # type: ignore[attr-defined]
    assert any("100000 characters" in w for w in meta.warnings)  # type: ignore[attr-defined]


def test_pdf_reading_past_its_time_budget_stops(sealed: Callable[..., object]) -> None:
    data = good_pdf(pages=40)
    message = refused(sealed, data, "timeout", name="slow.pdf", limits=Limits(max_seconds=0))
    assert "took longer" in message


def test_limits_are_what_parse_uses() -> None:
    with pytest.raises(ExtractionError) as caught:
        parse(good_docx(), limits=Limits(max_zip_entries=3))
    assert caught.value.reason == "zip_bomb"


@pytest.mark.parametrize("kind", ["docx", "pdf", "ofd"])
def test_damaged_files_end_in_extraction_error_or_a_reading(
    sealed: Callable[..., object], kind: str
) -> None:
    """Bytes flipped at random (and files cut at random): every outcome is a reading or an
    ExtractionError, never another exception or a hang."""
    rng = random.Random(f"damage-{kind}")
    original = {"docx": good_docx, "pdf": lambda: good_pdf(pages=2), "ofd": ofd_package}[kind]()
    reasons: set[str] = set()
    for _ in range(150):
        data = bytearray(original)
        for _ in range(rng.choice([1, 4, 16, 64])):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        try:
            sealed(bytes(data), f"damaged.{kind}")
            reasons.add("read")
        except ExtractionError as exc:
            reasons.add(exc.reason)
    assert reasons <= {"read", "corrupt", "zip_bomb", "unsupported_type", "unsafe_path",
                       "encrypted", "empty"}
    assert "corrupt" in reasons


# --- OFD: what a hostile .docx gets, a hostile .ofd gets ----------------------------------------

OFD_PAGE = "Doc_0/Pages/Page_0/Content.xml"


def test_ofd_zip_bomb(sealed: Callable[..., object]) -> None:
    assert "compressed" in refused(
        sealed, ofd_package(parts={"Doc_0/Res/junk.xml": b" " * (40 << 20)}), "zip_bomb",
        name="bomb.ofd",
    )
    extra = {f"Doc_0/Res/x{k}.xml": b"" for k in range(6000)}
    assert "entries" in refused(sealed, ofd_package(parts=extra), "zip_bomb", name="many.ofd")


@pytest.mark.parametrize(
    ("part", "xml"),
    [(OFD_PAGE, BILLION_LAUGHS.replace("w:document", "ofd:Page").encode()),
     (OFD_PAGE, XXE.encode()),
     ("OFD.xml", b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "b">]><ofd:OFD/>'),
     ("Doc_0/Document.xml", BILLION_LAUGHS.encode("utf-16"))],
    ids=["billion-laughs", "external-entity", "entry-point", "utf16-document"],
)
def test_ofd_xml_entity_expansion_and_doctype(
    sealed: Callable[..., object], part: str, xml: bytes
) -> None:
    assert part in refused(sealed, ofd_package(parts={part: xml}), "unsafe_xml", name="x.ofd")


@pytest.mark.parametrize("location", ["../../etc/passwd", "/../secret.xml", "Pages/../../../x"])
def test_ofd_locations_pointing_outside_the_package(
    sealed: Callable[..., object], location: str
) -> None:
    document = ('<?xml version="1.0"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
                f'<ofd:Pages><ofd:Page ID="1" BaseLoc="{location}"/></ofd:Pages></ofd:Document>')
    data = ofd_package(parts={"Doc_0/Document.xml": document})
    assert "outside" in refused(sealed, data, "unsafe_path", name="x.ofd")


def test_ofd_entries_named_outside(sealed: Callable[..., object]) -> None:
    data = ofd_package(parts={"../../evil.xml": b"<x/>"})
    assert "outside" in refused(sealed, data, "unsafe_path", name="x.ofd")


def test_ofd_broken_structure(sealed: Callable[..., object]) -> None:
    assert "XML" in refused(sealed, ofd_package(parts={OFD_PAGE: b"<ofd:Page"}), "corrupt",
                            name="x.ofd")  # fmt: skip
    no_root = '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"/>'
    assert "DocRoot" in refused(sealed, ofd_package(parts={"OFD.xml": no_root}), "corrupt",
                                name="x.ofd")  # fmt: skip
    data = ofd_package()
    assert refused(sealed, data[: len(data) // 2], "corrupt", name="cut.ofd")


def test_ofd_with_absurd_page_count_reads_a_bounded_number_of_pages(
    sealed: Callable[..., object],
) -> None:
    pages = "".join(f'<ofd:Page ID="{k}" BaseLoc="Pages/Page_0/Content.xml"/>'
                    for k in range(20000))
    document = ('<?xml version="1.0"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016">'
                f"<ofd:Pages>{pages}</ofd:Pages></ofd:Document>")
    meta = sealed(ofd_package(parts={"Doc_0/Document.xml": document}), "long.ofd")
    assert meta.page_count == 20000
    assert any("only the first 2000 of 20000 pages" in w for w in meta.warnings)
    message = refused(sealed, ofd_package(), "timeout", name="slow.ofd",
                      limits=Limits(max_seconds=0))
    assert "longer than 0 s" in message


# --- the hard stop inside a page (safety.time_limit) -------------------------------------------
# pytest-timeout's own alarm is SIGALRM too, and time_limit leaves a running alarm alone: these
# tests watch the clock from a thread instead.


def _stuck_reader(data: bytes, limits: Limits) -> object:
    while True:  # a page the reader never gets through (pure Python, as pdfminer's layout is)
        pass


@pytest.mark.timeout(60, method="thread")
def test_a_reader_stuck_inside_a_page_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal

    import gongkai.extractors.docx

    monkeypatch.setattr(gongkai.extractors.docx, "read_docx", _stuck_reader)
    handler = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    with pytest.raises(ExtractionError) as caught:
        extract(good_docx(), "stuck.docx", limits=Limits(max_seconds=0.25))
    # Twice the Deadline's budget (0.5 s): the Deadline, checked between pages, never came.
    assert 0.4 < time.monotonic() - started < 10
    assert caught.value.reason == "timeout"
    assert "stopped after 0.5 s" in caught.value.message
    # The alarm is off again and the process's handler is as it was.
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler
    # ... and the next document reads as usual.
    monkeypatch.undo()
    assert extract(good_docx(), "next.docx").title


@pytest.mark.timeout(60, method="thread")
def test_the_hard_stop_leaves_another_alarm_and_other_threads_alone() -> None:
    import signal
    import threading

    from gongkai.extractors.safety import time_limit

    def theirs(_signum: int, _frame: object) -> None:
        raise AssertionError("the caller's alarm went off")

    previous = signal.signal(signal.SIGALRM, theirs)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        with time_limit(0.2):
            time.sleep(0.4)  # not stopped: the caller's alarm was running
        assert signal.getsignal(signal.SIGALRM) is theirs
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 25
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    armed: list[float] = []

    def in_a_thread() -> None:
        with time_limit(0.2):
            armed.append(signal.getitimer(signal.ITIMER_REAL)[0])

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert armed == [0.0]  # signals reach only the main thread: the Deadline alone applies
