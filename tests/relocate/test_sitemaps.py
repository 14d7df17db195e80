"""Method 3: a site's sitemaps and feeds read on loopback, matched against a cited URL and title, cached."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from archiver.relocate.candidate import Method
from archiver.relocate.siteindex import SiteIndex
from archiver.relocate.sitemaps import Limits, Refused, parse_xml
from archiver.relocate.sitematch import match
from tests.relocate.sitefarm import Page, Site, fetch
from tests.support.farm import Farm

TITLE = "Council approves the new harbour budget after long debate"
URLSET = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"{ns}>{urls}</urlset>'
NEWS = ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def urlset(*urls: str, news: bool = False) -> str:
    return URLSET.format(ns=NEWS if news else "", urls="".join(urls))


def url(loc: str, title: str | None = None) -> str:
    if title is None:
        return f"<url><loc>{loc}</loc></url>"
    return (f"<url><loc>{loc}</loc><news:news><news:title>{title}</news:title>"
            f"<news:publication_date>2024-03-01</news:publication_date></news:news></url>")


def index(*locs: str) -> str:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'


def rss(*items: tuple[str, str]) -> str:
    body = "".join(f"<item><title>{t}</title><link>{u}</link></item>" for u, t in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{body}</channel></rss>'


def test_robots_index_gzipped_child_news_titles_and_a_feed(farm: Farm, tmp_path: Path) -> None:
    site = Site()
    host = farm.add("news", site)
    o = host.origin
    site.pages.update({
        "/robots.txt": Page(f"User-agent: *\nDisallow:\nSitemap: {o}/sm-index.xml\nsitemap: /sm-news.xml\n",
                            "text/plain"),
        "/sm-index.xml": Page(index(f"{o}/sm-2024.xml.gz")),
        "/sm-2024.xml.gz": Page(gzip.compress(urlset(url(f"{o}/articles/harbour-budget-vote"),
                                                     url(f"{o}/articles/other")).encode()), "application/gzip"),
        "/sm-news.xml": Page(urlset(url(f"{o}/a/x1/renamed", TITLE), url(f"{o}/a/x2/follow", f"Follow-up: {TITLE}"),
                                    news=True)),
        "/": Page('<html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head></html>',
                  "text/html"),
        "/rss": Page(rss((f"{o}/feed-only/harbour-budget-vote-2", "Something else entirely here"))),
    })
    index_ = SiteIndex(tmp_path / "sites.json", fetch)
    entries = farm.run(index_.entries(o))
    assert len(entries) == 5 and index_.problems == []
    news = next(e for e in entries if e.url.endswith("/renamed"))
    assert (news.title, news.published) == (TITLE, "2024-03-01")

    old = f"{o}/news/2019/05/harbour-budget-vote.html"
    found = {c.url: c for c in match(entries, old, TITLE)}
    assert set(found) == {f"{o}/articles/harbour-budget-vote", f"{o}/a/x1/renamed",
                          f"{o}/feed-only/harbour-budget-vote-2"}  # the Follow-up is another article
    assert found[f"{o}/a/x1/renamed"].evidence == (
        f"the sitemap {o}/sm-news.xml lists {o}/a/x1/renamed with the cited title as its news:title")
    assert found[f"{o}/articles/harbour-budget-vote"].method is Method.SITEMAP
    feed = found[f"{o}/feed-only/harbour-budget-vote-2"]
    assert feed.method is Method.FEED and "nearly the same slug" in feed.evidence


def test_defaults_and_the_cache_answers_304(farm: Farm, tmp_path: Path) -> None:
    site = Site()
    host = farm.add("plain", site)
    o = host.origin
    site.pages.update({
        "/sitemap.xml": Page(urlset(url(f"{o}/p/one-long-slug")), etag='"v1"'),
        "/rss.xml": Page(rss((f"{o}/p/two", "Two")), etag='"f1"'),
    })  # no robots.txt, no home page: /sitemap.xml, then /feed (404), /rss.xml
    cache = tmp_path / "sites.json"
    first = farm.run(SiteIndex(cache, fetch).entries(o))
    assert [e.url for e in first] == [f"{o}/p/one-long-slug", f"{o}/p/two"]
    assert [r.path for r in host.hits("/atom")] == []  # the first feed found ends the search
    assert set(orjson.loads(cache.read_bytes())["documents"]) == {f"{o}/sitemap.xml", f"{o}/rss.xml"}

    before = len(host.requests)
    again = SiteIndex(cache, fetch)
    assert farm.run(again.entries(o)) == first
    asked = {r.path: r.headers for r in host.requests[before:]}
    assert asked["/sitemap.xml"]["if-none-match"] == '"v1"'
    assert asked["/rss.xml"]["if-none-match"] == '"f1"'
    assert len(host.requests) - before == 5  # robots, sitemap (304), home, /feed, /rss.xml (304)


def test_oversized_and_gzip_bomb_refused_and_the_sitemap_limit_holds(farm: Farm, tmp_path: Path) -> None:
    site = Site()
    host = farm.add("big", site)
    o = host.origin
    children = [f"{o}/child-{i}.xml" for i in range(12)]
    site.pages.update({
        "/robots.txt": Page(f"Sitemap: {o}/big.xml\nSitemap: {o}/bomb.xml.gz\nSitemap: {o}/idx.xml\n", "text/plain"),
        "/big.xml": Page(urlset(*(url(f"{o}/p/{i:06d}-slug") for i in range(2000)))),
        "/bomb.xml.gz": Page(gzip.compress(b"<urlset>" + b" " * 5_000_000 + b"</urlset>"), "application/gzip"),
        "/idx.xml": Page(index(*children)),
        **{f"/child-{i}.xml": Page(urlset(url(f"{o}/c/{i}-page"))) for i in range(12)},
    })
    limits = Limits(max_document=64 * 1024, max_inflated=1024 * 1024, max_sitemaps=6)
    index_ = SiteIndex(tmp_path / "sites.json", fetch, limits)
    entries = farm.run(index_.entries(o))
    assert [e.url for e in entries] == [f"{o}/c/{i}-page" for i in range(3)]
    assert len(host.hits("/child-")) == 3  # big, bomb, idx and three children: six sitemaps
    problems = "\n".join(index_.problems)
    assert "big.xml: " in problems and "over the 65536-byte limit" in problems
    assert "bomb.xml.gz: inflates past the 1048576-byte limit" in problems
    assert "9 sitemaps not read: the limit is 6 a host" in problems


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY a "http://evil.example/aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>&c;</loc></url><url><loc>&x;</loc></url></urlset>"""


def test_hostile_xml_is_refused_not_expanded(farm: Farm, tmp_path: Path) -> None:
    with pytest.raises(Refused, match="DOCTYPE"):
        parse_xml(BILLION_LAUGHS)
    site = Site({"/sitemap.xml": Page(BILLION_LAUGHS)})
    host = farm.add("hostile", site)
    index_ = SiteIndex(tmp_path / "sites.json", fetch)
    assert farm.run(index_.entries(host.origin)) == []
    assert any("DOCTYPE" in p for p in index_.problems)


def test_documents_no_run_asked_for_leave_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "sites.json"
    doc = {"etag": None, "last_modified": None, "kind": "urlset", "entries": [], "children": []}
    cache.write_bytes(orjson.dumps({"version": 1, "documents": {
        "http://127.0.0.9/old.xml": {**doc, "asked": "2020-01-01"},
        "http://127.0.0.9/new.xml": {**doc, "asked": "2999-01-01"},
    }}))
    SiteIndex(cache, fetch).save()
    assert list(orjson.loads(cache.read_bytes())["documents"]) == ["http://127.0.0.9/new.xml"]
