"""The web app served over real HTTP by uvicorn in a thread of the test process, on a home
prepared through the service layer (documents ingested, people added)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from lifecycle_docs import make_docx

from gongkai.config import load_settings
from gongkai.entrypoints.web import create_web_app
from gongkai.flows import service
from gongkai.flows.service import people

PASSWORDS = {"张文书": "clerk-password", "李审核": "reviewer-password",
             "王档案": "archivist-password"}  # fmt: skip
ROLES = {"张文书": "clerk", "李审核": "reviewer", "王档案": "archivist"}
# key -> (serial, disclosure)
PLAN = {"published": (1, "active"), "withheld": (2, "withheld"), "partial": (3, "partial"),
        "exception": (4, None)}  # fmt: skip


@dataclass
class Site:
    url: str
    ctx: service.Context
    ids: dict[str, int]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_site() -> Iterator[Site]:
    """Needs GONGKAI_HOME set (the gongkai_env fixture)."""
    app = create_web_app(load_settings(), relay=False, secret="test-web-secret")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        ctx = app.state.ctx
        for name, role in ROLES.items():
            people.add_user(ctx, name, role, password=PASSWORDS[name], actor="setup")
        ids = {}
        for key, (serial, disclosure) in PLAN.items():
            data, truth = make_docx(serial, disclosure=disclosure)
            doc_id = service.intake(ctx, data, truth.filename, source="http",
                                    actor="起草系统").record.id  # fmt: skip
            outcomes = service.process(ctx, [doc_id])
            service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
            ids[key] = doc_id
        yield Site(f"http://127.0.0.1:{port}", ctx, ids)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
