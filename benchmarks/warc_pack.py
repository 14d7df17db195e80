"""WARC bytes per page and per night, and the WACZ build time, at corpus size (synthetic pages, no network).

    python benchmarks/warc_pack.py [--pages 8000]

Pages are the HTML fixtures of tests/fixtures/pages, each made distinct (its URL and a counter
inserted), with realistic response headers; each goes through WarcRun.write as a live capture.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archiver.models import RawExchange
from archiver.snapshots.extract import Extraction
from archiver.snapshots.store import Capture
from archiver.snapshots.wacz import pack, select_warcs
from archiver.snapshots.warc import WarcRun

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "pages"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=8000)
    n = parser.parse_args().pages
    bodies = [p.read_bytes() for p in sorted(FIXTURES.rglob("*.html")) if p.stat().st_size > 2000]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "warcs"
        run = WarcRun(folder, dt.datetime(2025, 1, 1, 2, tzinfo=dt.UTC))
        raw = 0
        t0 = time.perf_counter()
        for i in range(n):
            url = f"https://site{i % 900}.example/news/{i}"
            body = bodies[i % len(bodies)].replace(b"</body>", f"<p>page {i} {url}</p></body>".encode(), 1)
            raw += len(body)
            ex = RawExchange(url=url, reason="OK", headers=(
                ("Date", "Wed, 01 Jan 2025 02:00:00 GMT"), ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"), ("Cache-Control", "max-age=60"), ("Set-Cookie", "a=1; Path=/"),
                ("Vary", "Accept-Encoding")), request_headers=(
                ("Host", f"site{i % 900}.example"), ("User-Agent", "archiver"), ("Accept", "text/html")),
                peer_ip="192.0.2.1")
            x = Extraction(kind="html", text="t", body_sha256=hashlib.sha256(body).hexdigest(), body_bytes=len(body))
            run.write(Capture(url=url, normalized_url=url, captured_at=run.started_at, extraction=x, exchange=ex,
                              body=body))
        path = run.close()
        write_s = time.perf_counter() - t0
        assert path is not None
        size = path.stat().st_size
        t1 = time.perf_counter()
        done = pack(select_warcs(folder), Path(tmp) / "night.wacz")
        pack_s = time.perf_counter() - t1
        print(f"pages: {n}; body bytes (decoded) per page: {raw / n:,.0f}")
        print(f"WARC (gzipped records): {size:,} bytes per night, {size / n:,.0f} bytes per page; "
              f"written in {write_s:.1f}s")
        print(f"WACZ: {done.bytes:,} bytes, {done.pages} pages, built in {pack_s:.2f}s")


if __name__ == "__main__":
    main()
