""".doc and .wps read through LibreOffice: `soffice --headless --convert-to docx`, then the
.docx reader (with all its guards) reads the result. The original is archived as received;
only the text comes from the conversion, and the metadata names it (`conversion`).

Each conversion runs in a temporary folder of its own (the input, the output, and a
LibreOffice profile: -env:UserInstallation, so that parallel conversions never share one —
LibreOffice refuses to start on a profile another instance holds), under a time limit that
ends soffice and everything it started (external.run_bounded). The folder is removed after.
This is the one place extraction writes files: LibreOffice reads and writes only files.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from gongkai.config import ExternalTools
from gongkai.extractors.external import ProgramMissing, TimedOut, run_bounded
from gongkai.extractors.model import ExtractionError, Format
from gongkai.extractors.safety import Limits, SafeZip, check_size, parse_xml

__all__ = ["INSTALL_HINT", "convert_to_docx"]

INSTALL_HINT = "apt-get install libreoffice-writer-nogui"
# The private profile starts with macros off and links to outside content blocked (a hostile
# .doc could otherwise run a macro or fetch a linked image from the network while it loads).
_LOCKED_DOWN_SETTINGS = "\n".join(
    '<item oor:path="/org.openoffice.Office.Common/Security/Scripting">'
    f'<prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
    for name, value in (("MacroSecurityLevel", 3), ("DisableMacrosExecution", "true"),
                        ("BlockUntrustedRefererLinks", "true"))
)
_LOCKED_DOWN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
    f'xmlns:xs="http://www.w3.org/2001/XMLSchema">\n{_LOCKED_DOWN_SETTINGS}\n</oor:items>\n'
)
_APP = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Application"


def _failed(kind: Format, detail: str) -> ExtractionError:
    return ExtractionError(
        "conversion_failed",
        f"无法转换.{kind}文件 (LibreOffice could not convert the .{kind} file to .docx: "
        f"{detail}): open it in WPS or Word, save it as .docx, and resubmit",
    )


def _producer(docx: bytes, limits: Limits) -> str:
    """'LibreOffice 7.4.7.2' from the converted file's docProps/app.xml."""
    try:
        package = SafeZip(docx, limits)
        if package.has("docProps/app.xml"):
            app = parse_xml(package.read("docProps/app.xml"), "docProps/app.xml").find(_APP)
            match = re.match(r"LibreOffice/([\d.]+)", (app.text or "") if app is not None else "")
            if match:
                return f"LibreOffice {match.group(1).rstrip('.')}"
    except ExtractionError:
        pass  # the .docx reader reports what is wrong with it
    return "LibreOffice"


def convert_to_docx(
    data: bytes, kind: Format, tools: ExternalTools, limits: Limits
) -> tuple[bytes, str]:
    """The document as .docx, and the conversion's name ('LibreOffice 7.4.7.2: wps -> docx')."""
    with tempfile.TemporaryDirectory(prefix="gongkai-convert-") as work:
        folder = Path(work)
        source = folder / f"document.{kind}"
        source.write_bytes(data)
        (folder / "profile" / "user").mkdir(parents=True)
        (folder / "profile" / "user" / "registrymodifications.xcu").write_text(
            _LOCKED_DOWN, encoding="utf-8"
        )
        command = [
            tools.soffice, f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(folder / "out"),
            str(source),
        ]  # fmt: skip
        try:
            finished = run_bounded(command, seconds=limits.max_convert_seconds, cwd=work)
        except ProgramMissing as exc:
            raise ExtractionError(
                "conversion_unavailable",
                f"无法读取.{kind}文件：本机未安装 LibreOffice (reading a .{kind} file needs "
                f"LibreOffice, which is not installed here: {exc}); install: {INSTALL_HINT}",
            ) from None
        except TimedOut:
            raise _failed(kind, f"it took longer than {limits.max_convert_seconds:g} s") from None
        result = folder / "out" / "document.docx"
        if not result.is_file():
            said = (finished.stderr or finished.stdout).decode(errors="replace").strip()
            detail = said.splitlines()[-1][:160] if said else f"exit status {finished.returncode}"
            raise _failed(kind, detail)
        if result.stat().st_size > limits.max_bytes * 4:
            raise _failed(kind, "the converted file is far larger than the original")
        docx = result.read_bytes()
    check_size(docx, limits.max_bytes * 4)
    return docx, f"{_producer(docx, limits)}: {kind} -> docx"
