"""Moved, not gone (issue 23): how many findable relocations the relocate stage finds, and how many it gets wrong.

A generated set of news sites on loopback (the test world's kind: articles moved from ``/news/2024/<slug>`` to
``/stories/<slug>``) with a few hundred dead cited links, and the Wayback double holding archived 301s:

* ``moved`` — the article lives at its new address and the archive holds a 301 of the cited URL to it
  (findable by archive_redirect);
* ``moved, no capture`` — it lives at its new address but the archive never saw the redirect (findable by the
  site's rewrite pattern, learned from the site's other moves);
* ``moved, sitemap only`` — it lives at an unguessable address (``/a/<id>/<other slug>``) that only the site's
  news sitemap lists, with its title (findable by the sitemap method alone);
* ``decoy`` — the archived 301 points to "Follow-up: <title>" or "What we know about <title>" (a later date);
* ``removed`` — the archived 301 points to the home page, or there is none;
* ``ambiguous`` — two archived 301s to two live copies of the same article.

Prints the share of findable relocations found (target ≥ 80% of those the method can reach), wrong replacements
(target 0), requests per link and seconds — by method.

    .venv/bin/python benchmarks/relocations.py [--links 300] [--sites 10] [--seed 23]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.config import load_settings  # noqa: E402
from archiver.history.linkstate import new_state  # noqa: E402
from archiver.models import LinkStatus  # noqa: E402
from archiver.relocate.night import relocate_links  # noqa: E402
from archiver.relocate.verify import Cited  # noqa: E402
from archiver.timeline.catalog import canonical_url  # noqa: E402
from tests.relocate.test_relocate import Site  # noqa: E402
from tests.support.farm import Conn, Farm, Request  # noqa: E402
from tests.support.wayback_double import WaybackDouble  # noqa: E402

NOW = dt.datetime(2024, 6, 1, 2, tzinfo=dt.UTC)
KINDS = (("moved", 0.50), ("moved, no capture", 0.10), ("moved, sitemap only", 0.08), ("decoy", 0.14),
         ("removed", 0.13), ("ambiguous", 0.05))
FINDABLE = ("moved", "moved, no capture", "moved, sitemap only")
WORDS = ("council", "budget", "river", "flood", "school", "board", "bridge", "repair", "mayor", "zoning", "park",
         "library", "fire", "station", "bus", "route", "housing", "plan", "water", "tax", "hospital", "court",
         "election", "police", "port", "harbour", "festival", "museum", "road")


class MapSite(Site):
    """The test world's site, plus a news sitemap (``/sitemap.xml``) listing some articles with their titles."""

    def __init__(self) -> None:
        super().__init__()
        self.origin = ""
        self.news: list[tuple[str, str]] = []

    async def handle(self, req: Request, conn: Conn) -> None:
        if req.path.split("?")[0] != "/sitemap.xml":
            await super().handle(req, conn)
            return
        entries = "".join(f"<url><loc>{self.origin}{path}</loc><news:news><news:title>{html.escape(title)}"
                          "</news:title></news:news></url>" for path, title in self.news)
        await conn.send(200, "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
                        f"xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>{entries}</urlset>",
                        headers={"Content-Type": "application/xml"})


def headline(rng: random.Random, n: int) -> str:
    return f"{' '.join(rng.sample(WORDS, 6)).capitalize()} in week {n}"


def setup(farm: Farm, links: int, sites: int, rng: random.Random) -> tuple[WaybackDouble, list[MapSite], list[dict]]:
    double = WaybackDouble(clock=lambda: NOW).start(farm)
    hosts = []
    for i in range(sites):
        site = MapSite()
        site.origin = farm.add(f"site{i}", site.handle).origin
        hosts.append((site, site.origin))
    cases = []
    for n in range(links):
        kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        site, origin = hosts[n % sites]
        slug, title = f"story-{n}", headline(rng, n)
        old, new = f"{origin}/news/2024/{slug}", f"{origin}/stories/{slug}"
        if kind in ("moved", "moved, no capture", "ambiguous"):
            site.pages[f"/stories/{slug}"] = (title, "2024-03-12")
        if kind == "moved, sitemap only":
            path = f"/a/{rng.getrandbits(32):08x}/{'-'.join(title.lower().split()[:3])}"
            site.pages[path] = (title, "2024-03-12")
            site.news.append((path, title))
            new = origin + path
        if kind == "moved":
            double.add(old, "20240401000000", "301", location=new)
        elif kind == "decoy":
            prefix = rng.choice(["Follow-up: ", "What we know about "])
            site.pages[f"/stories/follow-up-{slug}"] = (prefix + title, "2024-04-02")
            double.add(old, "20240401000000", "301", location=f"{origin}/stories/follow-up-{slug}")
        elif kind == "removed" and rng.random() < 0.5:
            double.add(old, "20240401000000", "301", location=origin + "/")
        elif kind == "ambiguous":
            site.pages[f"/archive/{slug}"] = (title, "2024-03-12")
            double.add(old, "20240401000000", "301", location=new)
            double.add(old, "20240420000000", "301", location=f"{origin}/archive/{slug}")
        cases.append({"kind": kind, "old": old, "new": new, "title": title})
    return double, [s for s, _ in hosts], cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=300)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    farm = Farm().start()
    try:
        double, _sites, cases = setup(farm, args.links, args.sites, random.Random(args.seed))
        snapshots = Path(tempfile.mkdtemp(prefix="relocations-"))  # the sitemaps' cache, never the project's
        settings = load_settings(overrides={"snapshots": snapshots,
            "wayback_url": double.base_url, "availability_url": double.base_url, "allow_networks": "127.0.0.0/8",
            "cdx_per_minute": 60000, "replay_per_minute": 60000, "per_host_gap": 0, "connect_timeout": 2,
            "read_timeout": 2, "total_timeout": 5, "relocate_max_requests": 100 * args.links,
            "relocate_per_host": 100 * args.links, "relocate_seconds": 3600, "now": NOW.isoformat()}, env={})
        items = []
        for case in cases:
            state = new_state(case["old"], canonical_url(case["old"]), NOW - dt.timedelta(days=90))
            state.status = LinkStatus.DEAD
            items.append((state, Cited(case["old"], state.normalized_url, (case["title"],), ("2024-03-12",))))
        site_requests = sum(len(h.requests) for name, h in farm.hosts.items() if name != "wayback")
        t0 = time.monotonic()
        out = asyncio.run(relocate_links(settings.relocate_options, items, now=NOW))
        seconds = time.monotonic() - t0
        site_requests = sum(len(h.requests) for name, h in farm.hosts.items() if name != "wayback") - site_requests
        report(cases, items, out, seconds, site_requests, len(double.log))
    finally:
        farm.stop()


def report(cases: list[dict], items: list, out, seconds: float, site_requests: int, archive_requests: int) -> None:
    kinds = Counter(c["kind"] for c in cases)
    found: Counter[str] = Counter()
    wrong = 0
    by_method: Counter[str] = Counter()
    for case, (state, _) in zip(cases, items, strict=True):
        rep = state.replacement
        if rep is None:
            continue
        by_method[rep.method] += 1
        if case["kind"] in FINDABLE and rep.url == case["new"]:
            found[case["kind"]] += 1
        else:
            wrong += 1
    reachable = kinds["moved"]
    findable = sum(kinds[k] for k in FINDABLE)
    print(f"{len(cases)} dead links: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    print(f"archive_redirect: found {found['moved']} of {reachable} relocations it can reach "
          f"({100 * found['moved'] / max(1, reachable):.0f}%); {by_method['archive_redirect']} replacements")
    print(f"all methods: found {sum(found.values())} of {findable} findable relocations "
          f"({100 * sum(found.values()) / max(1, findable):.0f}%)")
    methods = ("archive_redirect", "site_pattern", "sitemap", "feed")
    print("by method: " + ", ".join(f"{m} {by_method[m]}" for m in methods)
          + f"; found by kind: {dict(found)} of {dict((k, kinds[k]) for k in FINDABLE)}")
    print(f"wrong replacements: {wrong}; ambiguous refused: {out.ambiguous}")
    print(f"requests: {out.requests} counted by the stage, {site_requests} to the sites and {archive_requests} to "
          f"the archive ({(site_requests + archive_requests) / len(cases):.2f} a link); {seconds:.1f} s "
          f"({1000 * seconds / len(cases):.1f} ms a link)")


if __name__ == "__main__":
    main()
