"""撤回 (issue 13, item 4): a published document taken back. Its page, JSON record and index
entries go, the Atom feed carries an RFC 6721 deleted entry, the original stays archived, the
state is `withdrawn`, everything audited with the actor; only a reviewer's release publishes it
again (not a rerun). Real catalog, real local stores, real extractors; HTTP through the app."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lifecycle_docs import make_docx
from service_run import fixed_clock_context, outbox

from gongkai.config import load_settings
from gongkai.entrypoints.api import Tokens, create_app
from gongkai.flows import service
from gongkai.flows.service import Context, people
from gongkai.storage.retrieval import Role, get_original

ATOM = "{http://www.w3.org/2005/Atom}"
AT = "{http://purl.org/atompub/tombstones/1.0}"


@pytest.fixture
def ctx(gongkai_env: dict[str, str]) -> Iterator[Context]:
    with fixed_clock_context() as context:
        yield context


def take_in(ctx: Context, serial: int, **kwargs: object) -> int:
    data, truth = make_docx(serial, **kwargs)  # type: ignore[arg-type]
    doc_id = service.intake(ctx, data, truth.filename, source="test", actor="tester").record.id
    outcomes = service.process(ctx, [doc_id])
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return doc_id


def public_keys(ctx: Context) -> set[str]:
    return {info.key for info in ctx.public.list("")}


def listed_ids(ctx: Context) -> set[int]:
    """Document ids in every public index (root and year lists)."""
    ids: set[int] = set()
    for key in public_keys(ctx):
        if key.endswith(".json") and not key.startswith("documents/"):
            text = ctx.public.get_bytes(key).decode("utf-8")
            index = json.loads(text)  # the root lists the latest, a year list all its own
            ids |= {int(d["id"]) for d in index.get("latest", []) + index.get("documents", [])}
    return ids


def feed(ctx: Context) -> ET.Element:
    return ET.fromstring(ctx.public.get_bytes("feed.atom"))


def test_a_withdrawn_document_leaves_every_public_output_and_stays_archived(
    ctx: Context,
) -> None:
    kept, gone = take_in(ctx, 1), take_in(ctx, 2)
    entry_id = next(e.findtext(f"{ATOM}id") for e in feed(ctx).iter(f"{ATOM}entry")
                    if e.findtext(f"{ATOM}id", "").endswith(f":{gone}"))  # fmt: skip
    assert {f"documents/{gone}.json", f"documents/{gone}.html"} <= public_keys(ctx)
    assert listed_ids(ctx) == {kept, gone}

    ctx.clock = lambda: datetime(2021, 4, 1, 8, 30, tzinfo=UTC)
    record = service.withdraw(ctx, gone, reason="内容有误，需更正", actor="李审核")
    assert record.state == "withdrawn"
    assert not any(k.startswith(f"documents/{gone}.") for k in public_keys(ctx))
    assert listed_ids(ctx) == {kept}
    root = feed(ctx)
    assert [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")] != []
    assert entry_id not in [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
    (tombstone,) = root.iter(f"{AT}deleted-entry")
    assert tombstone.get("ref") == entry_id
    assert tombstone.get("when") == "2021-04-01T16:30:00+08:00"
    assert root.findtext(f"{ATOM}updated") == "2021-04-01T16:30:00+08:00"
    assert "内容有误" not in ctx.public.get_bytes("feed.atom").decode("utf-8")
    # Archived as before, and audited with the actor and the reason.
    _, original = get_original(ctx.catalog, ctx.archive, gone, Role.STAFF)
    assert len(original) == record.size
    assert ctx.archive.verify(record.archive_key).ok  # type: ignore[arg-type]
    moved = [e for e in ctx.catalog.history(gone) if e.kind == "state"][-1]
    assert (moved.actor, moved.detail["from"], moved.detail["to"]) == (
        "李审核", "published", "withdrawn")  # fmt: skip
    assert moved.detail["reason"] == "内容有误，需更正"
    assert "gongkai.document.withdrawn" in outbox(ctx).names()


def test_nothing_but_a_reviewers_release_publishes_it_again(ctx: Context) -> None:
    doc = take_in(ctx, 3, disclosure="withheld")
    service.decide_review(ctx, doc, "release", reason="情况变化，可以公开", reviewer="李审核")
    assert ctx.catalog.get(doc).state == "published"
    service.withdraw(ctx, doc, reason="误发", actor="李审核")
    # A rerun of everything: the earlier release does not count again.
    assert doc not in service.publishable_ids(ctx)
    assert service.process(ctx, [doc])[0].skipped
    report = service.publish(ctx, [doc])
    assert report.published == [] and "withdrawn" in report.refused[doc]
    assert ctx.catalog.get(doc).state == "withdrawn"
    with pytest.raises(ValueError, match="撤回的文件只能重新公开"):
        service.decide_review(ctx, doc, "keep", reason="x", reviewer="李审核")
    # A reviewer releases it again: public once more, and the tombstone goes.
    ctx.clock = lambda: datetime(2021, 4, 2, 2, 0, tzinfo=UTC)
    again = service.decide_review(ctx, doc, "release", reason="更正后重新公开", reviewer="王审核")
    assert again.state == "published" and again.withdrawn_at is None
    assert f"documents/{doc}.json" in public_keys(ctx) and doc in listed_ids(ctx)
    assert list(feed(ctx).iter(f"{AT}deleted-entry")) == []
    released = [e for e in ctx.catalog.history(doc) if e.kind == "state"][-1]
    assert released.actor == "王审核" and released.detail["from"] == "withdrawn"


def test_only_a_published_document_is_withdrawn_and_a_reason_is_needed(ctx: Context) -> None:
    held = take_in(ctx, 4, disclosure="withheld")
    with pytest.raises(service.LifecycleError, match="只有已发布的文档可以撤回"):
        service.withdraw(ctx, held, reason="x", actor="李审核")
    published = take_in(ctx, 5)
    with pytest.raises(service.LifecycleError, match="理由"):
        service.withdraw(ctx, published, reason="  ", actor="李审核")
    assert ctx.catalog.get(published).state == "published"


def test_withdrawing_again_finishes_a_withdrawal_cut_short(ctx: Context) -> None:
    doc = take_in(ctx, 6)
    # As if the process died after the state change, before the public store was cleaned.
    ctx.catalog.transition(doc, "withdrawn", actor="李审核", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip
    assert f"documents/{doc}.json" in public_keys(ctx)
    service.withdraw(ctx, doc, reason="补完撤回", actor="李审核")
    assert not any(k.startswith(f"documents/{doc}.") for k in public_keys(ctx))
    assert doc not in listed_ids(ctx)
    assert [e.detail.get("to") for e in ctx.catalog.history(doc) if e.kind == "state"][-1] == (
        "withdrawn")


def test_a_withdrawal_cut_short_is_found_and_finished_by_the_repair(
    ctx: Context, gongkai_env: dict[str, str]
) -> None:
    kept, gone = take_in(ctx, 7), take_in(ctx, 8)
    # As if the process died after the state change, before the pages were taken down; and a
    # page on the public store of a document this catalog does not know at all.
    ctx.catalog.transition(gone, "withdrawn", actor="李审核", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip
    ctx.public.put("documents/999.json", b"{}", content_type="application/json",
                   sha256=hashlib.sha256(b"{}").hexdigest())  # fmt: skip
    gaps = service.public_gaps(ctx)
    assert gaps.stale_pages == (gone, 999) and not gaps.missing_pages
    assert gaps.index_problems  # the index still counts the withdrawn one
    assert gaps.to_json()["stale_pages"] == [gone, 999]

    checked = subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", "verify"],
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, **gongkai_env})  # fmt: skip
    assert checked.returncode == 1
    assert f"{gone}：未发布，但仍有公开页面" in checked.stderr
    assert "999：未发布，但仍有公开页面" in checked.stderr

    assert service.repair_public(ctx, actor="档案员") == gaps
    assert not any(k.startswith((f"documents/{gone}.", "documents/999.")) for k in public_keys(ctx))
    assert f"documents/{kept}.json" in public_keys(ctx)
    assert listed_ids(ctx) == {kept}
    removed = [e for e in ctx.catalog.history(gone) if e.kind == "public_page_removed"]
    assert [(e.actor, e.detail["state"]) for e in removed] == [("档案员", "withdrawn")]
    assert not service.public_gaps(ctx)


def test_the_repair_leaves_the_page_of_a_document_published_again_meanwhile(
    ctx: Context,
) -> None:
    doc = take_in(ctx, 10)
    ctx.catalog.transition(doc, "withdrawn", actor="李审核", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip
    gaps = service.public_gaps(ctx)
    assert gaps.stale_pages == (doc,)
    # Released again between the look and the repair: its page is the catalog's once more.
    ctx.catalog.transition(doc, "published", actor="王审核", expected_from="withdrawn",
                           withdrawn_at=None)  # fmt: skip
    service.repair_public(ctx)
    assert f"documents/{doc}.json" in public_keys(ctx)
    assert not [e for e in ctx.catalog.history(doc) if e.kind == "public_page_removed"]


def test_withdraw_over_http_is_for_a_reviewer(gongkai_env: dict[str, str]) -> None:
    app = create_app(load_settings(), tokens=Tokens(staff=None, intake=None),
                     relay=False)  # fmt: skip
    with TestClient(app) as client:
        ctx: Context = client.app.state.ctx
        tokens = {}
        for name, role in (("李审核", "reviewer"), ("张文书", "clerk")):
            people.add_user(ctx, name, role, password=f"{role}-password-1", actor="setup")
            tokens[role] = {"Authorization": f"Bearer "
                                             f"{people.create_token(ctx, user=name, actor='s')[1]}"}
        doc = take_in(ctx, 7)
        assert client.get(f"/documents/{doc}").status_code == 200
        path = f"/documents/{doc}/withdraw"
        assert client.post(path, json={"reason": "误发"}).status_code == 401
        assert client.post(path, json={"reason": "误发"},
                           headers=tokens["clerk"]).status_code == 403  # fmt: skip
        answer = client.post(path, json={"reason": "误发"}, headers=tokens["reviewer"])
        assert answer.status_code == 200 and answer.json()["document"]["state"] == "withdrawn"
        assert client.get(f"/documents/{doc}").status_code == 404  # the public sees nothing
        assert doc not in [d["id"] for d in client.get("/documents").json()["documents"]]
        staff_view = client.get(f"/documents/{doc}", headers=tokens["reviewer"]).json()
        assert staff_view["document"]["state"] == "withdrawn"
        again = client.post(path, json={"reason": "x"}, headers=tokens["reviewer"])
        assert again.status_code == 200  # finishing it again is harmless
        other = take_in(ctx, 8, disclosure="withheld")
        refused = client.post(f"/documents/{other}/withdraw", json={"reason": "x"},
                              headers=tokens["reviewer"])  # fmt: skip
        assert refused.status_code == 409
        actors = [e.actor for e in ctx.catalog.history(doc) if e.kind == "state"]
        assert actors[-1] == "李审核"


def test_gongkai_withdraw_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data, truth = make_docx(9)
    source = tmp_path / truth.filename
    source.write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGKAI_"))}
    env["GONGKAI_HOME"] = str(home)

    def gongkai(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gongkai.entrypoints.cli", *args],
                              capture_output=True, text=True, env=env, timeout=300)  # fmt: skip

    assert gongkai("ingest", str(source)).returncode == 0
    done = gongkai("withdraw", "1", "--reason", "内容有误")
    assert done.returncode == 0, done.stderr
    # Like redact's and resolve's line: id, state code, the state as the clerk reads it.
    assert done.stdout.split("\t")[:3] == ["1", "withdrawn", "已撤回"]
    shown = json.loads(gongkai("show", "1", "--json").stdout)
    assert shown["document"]["state"] == "withdrawn"
    assert shown["document"]["withdrawn_at"] and shown["history"][-1]["actor"]
    refused = gongkai("withdraw", "1", "--reason", "")
    assert refused.returncode != 0 and "理由" in refused.stderr
