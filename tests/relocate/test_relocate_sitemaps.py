"""Methods 2 and 3 through the stage, on a site the Wayback Machine holds nothing of:

* its rewrite pattern: two other pages moved from ``/news/2024/<slug>`` to ``/stories/<slug>`` (pairs), so a
  third cited one is looked for at ``/stories/<slug>``;
* its news sitemap (robots.txt -> index -> child) lists an article moved to an unguessable address, next to a
  decoy ("Follow-up: <title>");
* its RSS feed (named by the home page) lists another one.

A removed article never gets a replacement; the second night asks with the sitemap's validator (304)."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.history.linkstate import new_state
from archiver.models import LinkStatus
from archiver.relocate.candidate import Pair
from archiver.relocate.night import relocate_links
from archiver.relocate.verify import Cited
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.wayback_double import WaybackDouble

NOW = dt.datetime(2024, 6, 1, 2, 0, tzinfo=dt.UTC)
TITLE = "Council approves the river flood defences after a long debate"
GONE = "Zoning vote postponed again as residents protest at the town hall"
PATTERNED = "Harbour plan wins the support of the port authority and the fishermen"
FED = "Museum reopens its maritime wing with a new collection of ship models"


def page(headline: str, date: str) -> str:
    body = " ".join(f"Paragraph {i} of the story {html.escape(headline)}." for i in range(40))
    return (f"<html><head><title>{html.escape(headline)} | Riverton Gazette</title>"
            f"<meta property=\"article:published_time\" content=\"{date}T08:00:00Z\"></head>"
            f"<body><h1>{html.escape(headline)}</h1><p>{body}</p></body></html>")


def news_entry(origin: str, path: str, title: str) -> str:
    return (f"<url><loc>{origin}{path}</loc><news:news><news:publication_date>2024-03-12</news:publication_date>"
            f"<news:title>{html.escape(title)}</news:title></news:news></url>")


class Site:
    def __init__(self) -> None:
        self.origin = ""
        self.pages = {"/a/x7k2q/council-flood-vote": page(TITLE, "2024-03-12"),
                      "/a/p9w3z/follow-up": page(f"Follow-up: {TITLE}", "2024-04-02"),
                      "/stories/harbour-plan": page(PATTERNED, "2024-03-12"),
                      "/m/q1w2e3/maritime-wing": page(FED, "2024-03-12")}

    async def handle(self, req: Request, conn: Conn) -> None:
        path, o = req.path.split("?")[0], self.origin
        if path == "/robots.txt":
            await conn.send(200, f"User-agent: *\nSitemap: {o}/sitemap-index.xml\n",
                            headers={"Content-Type": "text/plain"})
        elif path == "/sitemap-index.xml":
            await conn.send(200, "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/"
                            f"sitemap/0.9'><sitemap><loc>{o}/news-sitemap.xml</loc></sitemap></sitemapindex>",
                            headers={"Content-Type": "application/xml"})
        elif path == "/news-sitemap.xml":
            if req.headers.get("if-none-match") == '"n1"':
                await conn.send(304, b"", headers={"ETag": '"n1"'})
                return
            await conn.send(200, "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
                            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
                            + news_entry(o, "/a/x7k2q/council-flood-vote", TITLE)
                            + news_entry(o, "/a/p9w3z/follow-up", f"Follow-up: {TITLE}") + "</urlset>",
                            headers={"Content-Type": "application/xml", "ETag": '"n1"'})
        elif path == "/":
            await conn.send(200, "<html><head><title>Riverton Gazette</title><link rel='alternate' "
                            "type='application/rss+xml' href='/feed.xml'></head><body>" + "news " * 200
                            + "</body></html>")
        elif path == "/feed.xml":
            await conn.send(200, "<?xml version='1.0'?><rss version='2.0'><channel><title>Gazette</title><item>"
                            f"<title>{html.escape(FED)}</title><link>{o}/m/q1w2e3/maritime-wing</link>"
                            "</item></channel></rss>", headers={"Content-Type": "application/rss+xml"})
        elif path in self.pages:
            await conn.send(200, self.pages[path])
        else:
            await conn.send(404, "<html><head><title>Not found</title></head><body>No such page.</body></html>")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, FarmHost, str, str]]:
    farm = Farm().start()
    try:
        site = Site()
        host = farm.add("gazette", site.handle)
        site.origin = host.origin
        double = WaybackDouble(clock=lambda: NOW).start(farm)  # holds nothing: no archived redirect
        yield tmp_path_factory.mktemp("sitemaps"), host, host.origin, double.base_url
    finally:
        farm.stop()


def night(root: Path, origin: str, wayback: str) -> tuple[dict[str, object], list[object]]:
    settings = load_settings(overrides={
        "events": root / "events", "snapshots": root / "snapshots", "wayback_url": wayback,
        "availability_url": wayback, "archives": "", "allow_networks": "127.0.0.0/8", "per_host_gap": 0,
        "cdx_per_minute": 6000, "replay_per_minute": 6000, "connect_timeout": 2, "read_timeout": 2,
        "total_timeout": 5, "relocate_per_host": 200, "now": NOW.isoformat()}, env={})
    (root / "snapshots").mkdir(parents=True, exist_ok=True)
    items = []
    # the pattern's link first: the sitemap's find (another section) is a pair that contradicts the pattern, and
    # a contradicted rule is withdrawn for the rest of the night (precision first)
    for path, title in (("/news/2024/harbour-plan", PATTERNED), ("/news/2024/council-flood-vote", TITLE),
                        ("/news/2024/zoning-vote", GONE), ("/news/2024/maritime-wing", FED)):
        state = new_state(origin + path, origin + path, NOW)
        state.status = LinkStatus.DEAD
        items.append((state, Cited(origin + path, origin + path, (title,), ("2024-03-12",))))
    moved = [Pair(f"{origin}/news/2024/{s}", f"{origin}/stories/{s}", "moved") for s in ("bridge-repair", "bus-route")]
    out = asyncio.run(relocate_links(settings.relocate_options, items, pairs=moved, now=NOW))
    return {s.url.rsplit("/", 1)[1]: s.replacement for s, _ in items}, [out]


def test_the_pattern_the_sitemap_and_the_feed_each_find_theirs(world: tuple[Path, FarmHost, str, str]) -> None:
    root, host, origin, wayback = world
    found, _ = night(root, origin, wayback)
    patterned, fed = found["harbour-plan"], found["maritime-wing"]
    assert patterned is not None and patterned.url == f"{origin}/stories/harbour-plan"
    assert patterned.method == "site_pattern" and "2 other pages" in patterned.evidence
    assert fed is not None and fed.url == f"{origin}/m/q1w2e3/maritime-wing" and fed.method == "feed"
    moved = found["council-flood-vote"]
    assert moved is not None and moved.url == f"{origin}/a/x7k2q/council-flood-vote"
    assert moved.method == "sitemap" and "news:title" in moved.evidence
    assert found["zoning-vote"] is None  # removed: nothing in the sitemap matches, nothing is offered
    assert not host.hits("/a/p9w3z/")  # the decoy never matched the whole title: not even fetched
    assert (root / "snapshots" / "relocate-sites.json").is_file()  # cached for the next night

    before = len(host.hits("/news-sitemap.xml"))
    again, _ = night(root, origin, wayback)  # a second night: the child sitemap answers 304 to its ETag
    asked = host.hits("/news-sitemap.xml")[before:]
    assert asked and all(r.headers.get("if-none-match") == '"n1"' for r in asked)
    assert again["council-flood-vote"] is not None and again["council-flood-vote"].url == moved.url
