"""Link catalog: canonical dedupe, archive links, invalid URLs, offline domain parsing."""

from __future__ import annotations

import socket

import pytest

from archiver.models import Event, Source
from archiver.timeline.catalog import (
    build_catalog,
    canonical_url,
    parse_archive_url,
    registrable_domain,
    url_problem,
)


def _event(eid: str, *urls: str, archive: str | None = None) -> Event:
    return Event(id=eid, file=f"events/{eid}.md", date="2020-01-01", title=eid,
                 sources=[Source(index=i, line=10 + 2 * i, url=u, archive_url=archive) for i, u in enumerate(urls)])


@pytest.mark.parametrize(("a", "b"), [
    ("HTTP://WWW.Reuters.COM:80/world/x", "http://www.reuters.com/world/x"),
    ("https://apnews.com:443/article/x", "https://apnews.com/article/x"),
    ("https://apnews.com/article/x#comments", "https://apnews.com/article/x"),
    ("https://apnews.com/article/x?utm_source=tw&utm_medium=social", "https://apnews.com/article/x"),
    ("https://apnews.com/article/x?fbclid=IwAR0abc", "https://apnews.com/article/x"),
    ("https://apnews.com/article/x?gclid=abc&id=3", "https://apnews.com/article/x?id=3"),
    ("https://en.wikipedia.org/wiki/Apple%E2%80%93FBI_encryption_dispute",
     "https://en.wikipedia.org/wiki/Apple–FBI_encryption_dispute"),
    ("https://apnews.com", "https://apnews.com/"),
])
def test_canonical_forms_match(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize(("a", "b"), [
    ("https://apnews.com/article/x?id=3", "https://apnews.com/article/x?id=4"),
    ("http://apnews.com/a", "https://apnews.com/a"),
    ("https://apnews.com/A", "https://apnews.com/a"),
    ("https://www.apnews.com/a", "https://apnews.com/a"),
])
def test_distinct_pages_stay_distinct(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_catalog_dedupes_and_keeps_url_as_cited() -> None:
    events = [
        _event("e1", "https://APNEWS.com/article/x?utm_source=a", "https://www.npr.org/1"),
        _event("e2", "https://apnews.com/article/x#top"),
    ]
    catalog = build_catalog(events)
    assert catalog.citations == 3
    assert len(catalog.links) == 2
    link = catalog.links[0]
    assert link.url == "https://APNEWS.com/article/x?utm_source=a"
    assert [(c.event, c.source_index, c.line) for c in link.citations] == [("e1", 0, 10), ("e2", 0, 10)]
    assert (link.host, link.domain) == ("apnews.com", "apnews.com")


def test_cited_wayback_url_checks_the_original_and_keeps_archive() -> None:
    wb = "https://web.archive.org/web/20200102030405/https://www.cnn.com/2020/01/01/politics/x/index.html"
    catalog = build_catalog([_event("e1", wb), _event("e2", "https://www.cnn.com/2020/01/01/politics/x/index.html")])
    assert len(catalog.links) == 1
    link = catalog.links[0]
    assert link.url == "https://www.cnn.com/2020/01/01/politics/x/index.html"
    assert link.archive_urls == [wb]
    assert len(link.citations) == 2


@pytest.mark.parametrize(("url", "ts", "original"), [
    ("https://web.archive.org/web/20200102030405/https://x.org/a", "20200102030405", "https://x.org/a"),
    ("http://web.archive.org/web/2020id_/http://x.org/a?b=1", "2020", "http://x.org/a?b=1"),
    ("https://web.archive.org/web/*/x.org/a", None, "http://x.org/a"),
    ("https://web.archive.org/web/2019*/https://x.org/a", None, "https://x.org/a"),
    ("https://web.archive.org/web/20200102030405/https:/x.org/a", "20200102030405", "https://x.org/a"),
    ("https://archive.org/web/20200102030405/https://x.org/a", "20200102030405", "https://x.org/a"),
])
def test_parse_archive_url(url: str, ts: str | None, original: str) -> None:
    ref = parse_archive_url(url)
    assert ref is not None
    assert (ref.timestamp, ref.original) == (ts, original)


def test_non_archive_urls_are_not_archive_links() -> None:
    assert parse_archive_url("https://archive.org/details/something") is None
    assert parse_archive_url("https://archive.ph/abcd") is None


@pytest.mark.parametrize("url", [
    "academic research compilation", "TBD", "Wikipedia", "https://example.com/article", "ftp://x.org/a",
    "mailto:a@b.org", "https://", "https://www.example.org/x", "http://site.test/a", "javascript:alert(1)",
    "https://exa mple.com/a", "https://nodots/a",
])
def test_unusable_urls_have_a_reason(url: str) -> None:
    assert url_problem(url)


@pytest.mark.parametrize("url", [
    "https://www.nytimes.com/a", "http://127.0.0.2:8080/x", "https://vault.fbi.gov/Christopher (Biggie) Wallace",
    "https://host.invalid/a", "https://[::1]/a",
])
def test_checkable_urls(url: str) -> None:
    assert url_problem(url) is None


def test_invalid_urls_become_invalid_links_and_findings() -> None:
    catalog = build_catalog([_event("e1", "TBD", "https://apnews.com/a", "TBD")])
    invalid = [link for link in catalog.links if not link.checkable]
    assert len(invalid) == 1 and len(invalid[0].citations) == 2
    kinds = [(f.kind, f.source_index, f.line) for f in catalog.findings]
    assert kinds == [("invalid_url", 0, 10), ("invalid_url", 2, 14)]


def test_registrable_domain_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    registrable_domain.cache_clear()
    assert registrable_domain("www.bbc.co.uk") == "bbc.co.uk"
    assert registrable_domain("abcnews.go.com") == "go.com"
    assert registrable_domain("news.gov.uk.example-site.co.jp") == "example-site.co.jp"
    assert registrable_domain("127.0.0.2") == "127.0.0.2"
    assert registrable_domain("WWW.NYTimes.com.") == "nytimes.com"
