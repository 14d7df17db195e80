"""WARC bytes per page and per night, and the WACZ build time, at corpus size (synthetic pages, no network).

    python benchmarks/warc_pack.py [--pages 8000] [--nightly 1150] [--mode both|small|realistic]

Two page sizes, side by side:

* ``small``: the HTML fixtures of tests/fixtures/pages (2-10 KB each);
* ``realistic``: news pages of 100-300 KB of HTML, generated around those fixtures' articles the
  way outlets build them (a site stylesheet inlined, navigation menus, inline SVG icons, a
  "related" and "most read" rail with CDN image URLs, JSON-LD, and a hydration state blob of
  other stories as JSON), from seeded random draws so that each page compresses like a real one
  (no long repeats across the page). A pool of 48 such pages is generated and reused: each WARC
  record is gzipped on its own, so reuse does not shrink the figures.

Every page is made distinct (its URL and a counter inserted), gets realistic response headers,
and goes through WarcRun.write as a live capture. "Per night" is given for all pages and for the
links a nightly run rechecks (``--nightly``: every good recheck writes its records, unchanged
pages included; about 1,150 a night in nightly_incremental.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import html
import json
import random
import re
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


CSS_PROPS = ("margin", "padding", "color", "background-color", "font-size", "line-height", "display", "width",
             "max-width", "border-bottom", "letter-spacing", "font-weight", "grid-template-columns", "gap", "top")
SECTIONS = ("politics", "world", "business", "technology", "science", "health", "sports", "arts", "books",
            "opinion", "climate", "local", "investigations", "video", "podcasts", "obituaries", "travel", "food")


def _small_pool() -> list[bytes]:
    return [p.read_bytes() for p in sorted(FIXTURES.rglob("*.html")) if p.stat().st_size > 2000]


def _ident(rng: random.Random, n: int = 8) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(n)).lstrip("-_0123456789") \
        or "x"


def _realistic_page(rng: random.Random, fixture: bytes, words: list[str], target: int, site: str) -> bytes:
    """A news page of about ``target`` bytes of HTML built around one fixture's article."""
    def phrase(lo: int, hi: int) -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(lo, hi)))

    def slug() -> str:
        return "-".join(rng.choice(words).lower() for _ in range(rng.randint(4, 8)))

    def image() -> str:
        return f"https://cdn.{site}/images/{rng.getrandbits(128):032x}/{slug()}.jpg"

    classes = [_ident(rng, rng.randint(6, 12)) for _ in range(400)]
    css = "".join(f".{c}{{" + ";".join(f"{rng.choice(CSS_PROPS)}:{rng.randint(0, 96)}px"
                                          for _ in range(rng.randint(2, 7))) + "}" for c in classes)
    nav = "".join(f'<li class="{rng.choice(classes)}"><a href="https://{site}/{rng.choice(SECTIONS)}/{slug()}">'
                  f"{html.escape(phrase(1, 3).title())}</a></li>" for _ in range(rng.randint(60, 140)))
    icons = "".join('<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M' + " ".join(
        f"{rng.uniform(0, 24):.2f} {rng.uniform(0, 24):.2f}{rng.choice('lLcCzZ')}" for _ in range(40)) + '"/></svg>'
        for _ in range(rng.randint(8, 20)))
    article = fixture.decode("utf-8", "replace")
    m = re.search(r"<body[^>]*>(.*)</body>", article, re.S | re.I)
    story = m.group(1) if m else article
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(phrase(6, 12))}</title>'
            f'<meta name="description" content="{html.escape(phrase(20, 30))}">'
            f'<meta property="og:image" content="{image()}"><link rel="canonical" href="https://{site}/{slug()}">'
            f"<style>{css}</style>"
            '<script type="application/ld+json">' + json.dumps({
                "@context": "https://schema.org", "@type": "NewsArticle", "headline": phrase(6, 12),
                "image": [image() for _ in range(3)], "datePublished": "2024-03-12T08:00:00Z",
                "author": [{"@type": "Person", "name": phrase(2, 2).title()}]}) + "</script></head>")
    parts = [head, f'<body class="{rng.choice(classes)}"><header><nav><ul>{nav}</ul></nav>{icons}</header>',
             f'<main class="{rng.choice(classes)}">{story}</main><aside>']
    size = sum(len(x) for x in parts)
    while size < target * 0.45:  # the related / most-read rails
        img = image()
        item = (f'<article class="{rng.choice(classes)}"><a href="https://{site}/{rng.choice(SECTIONS)}/2024/03/'
                f'{slug()}"><img src="{img}?w=640&amp;q=75" srcset="{img}?w=320 320w, {img}?w=960 960w" '
                f'alt="{html.escape(phrase(5, 12))}" loading="lazy"><h3>{html.escape(phrase(6, 14))}</h3></a>'
                f'<p class="{rng.choice(classes)}">{html.escape(phrase(15, 35))}</p>'
                f'<time datetime="2024-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:'
                f'{rng.randint(0, 59):02d}:00Z">{rng.randint(1, 23)} hours ago</time></article>')
        parts.append(item)
        size += len(item)
    parts.append("</aside>")
    stories = []
    while size + len(json.dumps(stories)) < target - 200:  # the hydration state of other stories
        stories.extend({"id": f"{rng.getrandbits(64):016x}", "headline": phrase(6, 14), "summary": phrase(20, 45),
                        "url": f"https://{site}/{rng.choice(SECTIONS)}/{slug()}", "image": image(),
                        "section": rng.choice(SECTIONS), "published": rng.randint(1_700_000_000, 1_710_000_000),
                        "tags": [rng.choice(words).lower() for _ in range(rng.randint(2, 6))]} for _ in range(20))
    parts.append('<script id="__STATE__" type="application/json">' + json.dumps({"stories": stories}) + "</script>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")


def _realistic_pool(size: int = 48, seed: int = 15) -> list[bytes]:
    rng = random.Random(seed)
    fixtures = _small_pool()
    # every occurrence kept: words are drawn as often as they occur in the fixtures' text (as in real prose)
    words = [w for f in fixtures for w in re.findall(r"[A-Za-z][a-z]+", re.sub(r"<[^>]+>", " ",
                                                                               f.decode("utf-8", "replace")))]
    return [_realistic_page(rng, fixtures[k % len(fixtures)], words, rng.randint(100_000, 300_000),
                            f"outlet{k}.example") for k in range(size)]


def measure(label: str, bodies: list[bytes], n: int, nightly: int) -> dict[str, float]:
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
    gz = sum(len(gzip.compress(b, 6)) for b in bodies) / len(bodies)
    per_page = size / n
    print(f"[{label}] pages: {n}; HTML per page: {raw / n:,.0f} bytes ({gz:,.0f} gzipped alone)")
    print(f"[{label}] WARC (gzipped records): {per_page:,.0f} bytes per page; {size:,} bytes for {n} pages, "
          f"written in {write_s:.1f}s; about {per_page * nightly / 1e6:,.1f} MB for a night's {nightly} rechecks")
    print(f"[{label}] WACZ: {done.bytes:,} bytes, {done.pages} pages, built in {pack_s:.2f}s")
    return {"html": raw / n, "per_page": per_page, "total": size, "write_s": write_s, "wacz": done.bytes,
            "pack_s": pack_s}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=8000)
    parser.add_argument("--nightly", type=int, default=1150, help="links a nightly run rechecks")
    parser.add_argument("--mode", choices=("both", "small", "realistic"), default="both")
    args = parser.parse_args()
    if args.mode in ("both", "small"):
        measure("small", _small_pool(), args.pages, args.nightly)
    if args.mode in ("both", "realistic"):
        t = time.perf_counter()
        pool = _realistic_pool()
        print(f"[realistic] generated {len(pool)} pages of {min(map(len, pool)):,}-{max(map(len, pool)):,} bytes "
              f"in {time.perf_counter() - t:.1f}s")
        measure("realistic", pool, args.pages, args.nightly)


if __name__ == "__main__":
    main()
