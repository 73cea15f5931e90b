"""The public store's check at the end of a pipeline run, on an archive of N published
documents: the check of what changed (service.repair_public_changes, what every run does now)
against the full check (service.repair_public, what every run did before, and what `gongkai
verify` / `public repair` / the scheduled publish run still do), on the local store and on S3
(moto's server over real HTTP on a free port; `--s3-endpoint` for a real MinIO). Figures
printed, nothing asserted.

    .venv/bin/python benchmarks/public_check.py [--documents 5000] [--rounds 5]
        [--stores local,moto] [--s3-endpoint HOST:PORT --s3-access-key K --s3-secret-key S]

The catalog (SQLite) is loaded as benchmarks/catalog.py loads it (the catalog's batch write
path); every published document's pages are written and the whole index is built, as
publication leaves them. Each round withdraws one published document (the state change, its
pages taken down and the index written, as a withdrawal does), then times both checks, in
alternating order; both find no gap. The baseline is the full check in the same round.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from catalog import load, make_rows  # benchmarks/catalog.py


def _s3_env(args: argparse.Namespace) -> tuple[dict[str, str], object | None]:
    if args.s3_endpoint:
        return {"GONGKAI_S3_ENDPOINT": args.s3_endpoint, "GONGKAI_S3_ACCESS_KEY":
                args.s3_access_key, "GONGKAI_S3_SECRET_KEY": args.s3_secret_key,
                "GONGKAI_S3_SECURE": "false"}, None  # fmt: skip
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return {"GONGKAI_S3_ENDPOINT": f"{host}:{port}", "GONGKAI_S3_ACCESS_KEY": "bench",
            "GONGKAI_S3_SECRET_KEY": "bench", "GONGKAI_S3_SECURE": "false",
            "GONGKAI_S3_REGION": "us-east-1"}, server  # fmt: skip


def bench_store(store: str, args: argparse.Namespace, root: Path) -> None:
    from gongkai.config import load_settings
    from gongkai.flows import service
    from gongkai.flows.service.publication import _write_public_pages_many

    env = {"GONGKAI_HOME": str(root / store), "GONGKAI_STORE": "s3" if store != "local"
           else "local"}  # fmt: skip
    server = None
    if store != "local":
        extra, server = _s3_env(args)
        env.update(extra)
        env["GONGKAI_S3_ARCHIVE_BUCKET"] = f"bench-archive-{os.getpid()}"
        env["GONGKAI_S3_PUBLIC_BUCKET"] = f"bench-public-{os.getpid()}"
    os.environ.update(env)
    try:
        with service.Context.open(load_settings()) as ctx:
            rows, _ = make_rows(args.documents, random.Random(7))
            loaded = load(ctx.catalog, rows)
            ids = ctx.catalog.published_ids()
            started = time.perf_counter()
            for start in range(0, len(ids), 500):
                _write_public_pages_many(ctx, ctx.catalog.get_many(ids[start : start + 500]))
            service.rebuild_public_index(ctx)
            written = time.perf_counter() - started
            assert not service.repair_public_changes(ctx, holder="bench")  # the cursor, set
            changed_ms, full_ms = [], []
            for r in range(args.rounds):
                # A withdrawal as the service makes it (the state, then the pages down and
                # the index), without its note in the archive (not loaded here).
                ctx.catalog.transition(ids[r], "withdrawn", actor="bench",
                                       expected_from="published", withdrawn_at=ctx.now())
                service.update_public_index(ctx, [ids[r]])
                checks = [("changed", lambda: service.repair_public_changes(ctx, holder="b")),
                          ("full", lambda: service.repair_public(ctx))]
                for name, check in checks if r % 2 == 0 else checks[::-1]:
                    began = time.perf_counter()
                    gaps = check()
                    elapsed = 1000 * (time.perf_counter() - began)
                    assert not gaps, (name, gaps)
                    (changed_ms if name == "changed" else full_ms).append(elapsed)
            ratios = sorted(c / f for c, f in zip(changed_ms, full_ms, strict=True))
            print(f"{store}: {len(ids):,} published of {args.documents:,} (loaded in "
                  f"{loaded:.0f} s, pages and index written in {written:.0f} s); check after a "
                  f"run that changed one document, median of {args.rounds} rounds: changed "
                  f"{statistics.median(changed_ms):.1f} ms, full {statistics.median(full_ms):.1f}"
                  f" ms, ratio changed/full median {statistics.median(ratios):.3f} "
                  f"({ratios[0]:.3f}-{ratios[-1]:.3f})")  # fmt: skip
    finally:
        for name in env:
            os.environ.pop(name, None)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stores", default="local,moto")
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--s3-access-key", default="")
    parser.add_argument("--s3-secret-key", default="")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        for store in args.stores.split(","):
            bench_store(store, args, Path(folder))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
