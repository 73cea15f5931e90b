"""Fixity covers what `get` and the public site hand out (issue 13, item 5): a byte flipped in
an original, in a package member and in a public object is each reported by fixity, in
`status` and as an event, on the local store and on moto's S3 server over HTTP; a run cut
short is taken up where it stopped, the oldest-checked first."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lifecycle_docs import make_docx
from minio import Minio
from service_run import outbox

from gongkai.config import load_settings
from gongkai.flows import service
from gongkai.flows.service import Context
from gongkai.storage.objects import ObjectStore

Flip = Callable[[ObjectStore, str], None]


def flip_byte(data: bytes) -> bytes:
    return data[:10] + bytes([data[10] ^ 0x01]) + data[11:]


@pytest.fixture(params=["local", "s3-moto"])
def office(request: pytest.FixtureRequest, gongkai_env: dict[str, str],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Context, Flip]]:  # fmt: skip
    if request.param == "s3-moto":
        endpoint = request.getfixturevalue("moto_s3_endpoint")
        suffix = uuid.uuid4().hex[:12]
        for name, value in {"GONGKAI_S3_ENDPOINT": endpoint, "GONGKAI_S3_ACCESS_KEY": "test",
                            "GONGKAI_S3_SECRET_KEY": "test", "GONGKAI_S3_SECURE": "false",
                            "GONGKAI_S3_REGION": "us-east-1",
                            "GONGKAI_S3_ARCHIVE_BUCKET": f"archive-{suffix}",
                            "GONGKAI_S3_PUBLIC_BUCKET": f"public-{suffix}"}.items():
            monkeypatch.setenv(name, value)
        raw = Minio(endpoint, "test", "test", secure=False, region="us-east-1")

        def flip(store: ObjectStore, key: str) -> None:  # behind the store's back
            info = store.head(key)
            data = flip_byte(raw.get_object(store.bucket, key).read())
            raw.put_object(store.bucket, key, io.BytesIO(data), len(data),
                           content_type=info.content_type, metadata={"sha256": info.sha256})
    else:
        def flip(store: ObjectStore, key: str) -> None:
            path = Path(store.data_dir) / key  # type: ignore[attr-defined]
            path.write_bytes(flip_byte(path.read_bytes()))

    with Context.open(load_settings()) as ctx:
        ctx.clock = lambda: datetime(2021, 3, 20, 2, 0, tzinfo=UTC)
        yield ctx, flip


def ingest(ctx: Context, serials: range) -> list[int]:
    ids = []
    for serial in serials:
        data, truth = make_docx(serial)
        ids.append(service.intake(ctx, data, truth.filename, source="test",
                                  actor="tester").record.id)  # fmt: skip
    outcomes = service.process(ctx, ids)
    service.publish(ctx, [o.document_id for o in outcomes if o.to_publish])
    return ids


def test_a_flipped_byte_anywhere_get_or_the_site_hands_out_is_reported(
    office: tuple[Context, Flip],
) -> None:
    ctx, flip = office
    original, package, public, sound, withdrawn = ingest(ctx, range(1, 6))
    assert service.fixity(ctx).failed == {}
    records = {r.id: r for r in ctx.catalog.get_many([original, package, public])}
    flip(ctx.archive.store, records[original].original_key)
    flip(ctx.archive.store, f"{records[package].archive_key}/text.txt")
    flip(ctx.public, f"documents/{public}.json")
    # A withdrawn document whose page was left behind is reported too.
    ctx.catalog.transition(withdrawn, "withdrawn", actor="t", expected_from="published",
                           withdrawn_at=ctx.now())  # fmt: skip

    report = service.fixity(ctx)
    assert report.checked == 5 and report.finished
    assert set(report.failed) == {original, package, public, withdrawn}
    assert "original" in report.failed[original][0]
    assert any("package" in p and "text.txt" in p for p in report.failed[package])
    assert any(f"public documents/{public}.json" in p for p in report.failed[public])
    assert any("present, but the document is withdrawn" in p for p in report.failed[withdrawn])
    status = service.status(ctx)
    assert set(status.fixity_failures) == {original, package, public, withdrawn}
    failed_events = [e for e in outbox(ctx).events  # the relay's events of the audit rows
                     if e.event == "gongkai.document.fixity_failed"]  # fmt: skip
    assert {e.resource_id for e in failed_events} == {
        f"gongkai.document.{i}" for i in (original, package, public, withdrawn)}  # fmt: skip
    audit = [e for e in ctx.catalog.history(sound) if e.kind == "fixity"]
    assert [e.detail["ok"] for e in audit] == [True, True]


def test_a_run_cut_short_goes_on_from_where_it_stopped(office: tuple[Context, Flip]) -> None:
    ctx, _ = office
    ids = ingest(ctx, range(11, 16))
    # As if killed after its first batch of two: the run stays open.
    first = service.fixity(ctx, batch_size=2, limit=2)
    assert (first.checked, first.finished, first.resumed) == (2, False, False)
    rest = service.fixity(ctx, batch_size=2)
    assert rest.resumed and rest.finished and rest.checked == 3
    assert rest.run["checked"] == 5
    checks = {i: [e.at for e in ctx.catalog.history(i) if e.kind == "fixity"] for i in ids}
    assert all(len(c) == 1 for c in checks.values())  # nobody checked twice in the run
    # The next run starts again, with the oldest-checked first.
    again = service.fixity(ctx, batch_size=2, limit=2)
    assert not again.resumed
    rechecked = [i for i in ids if len([e for e in ctx.catalog.history(i)
                                        if e.kind == "fixity"]) == 2]  # fmt: skip
    assert rechecked == ids[:2]  # the first run's first batch: the oldest checks
