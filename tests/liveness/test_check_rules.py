"""Pure rules: error-page titles, bot challenges, generic redirects, similarity, decoding, Retry-After."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import zlib
from pathlib import Path

import brotli
import pytest

from archiver.liveness.check import moved_target
from archiver.liveness.errors import DNSFailure
from archiver.liveness.fetcher import retry_after_seconds
from archiver.liveness.pages import page_info, similarity, sniff_encoding, words
from archiver.liveness.probe import PageSeen, Probe, compare_with_probe
from archiver.liveness.resolver import Resolver
from archiver.liveness.soft404 import detect_challenge, error_page, generic_redirect, is_error_phrase, login_redirect
from archiver.liveness.transport import BoundedDecoder
from archiver.models import Hop
from archiver.timeline.load import load_events

ERROR_TITLES = [
    "Page not found | The Seattle Times", "404 Not Found", "404", "Error 404", "404 - Page Not Found",
    "Page Not Found – Common Dreams", "Not Found", "Oops! That page can’t be found. – ACLU",
    "Sorry, the page you were looking for could not be found", "We can't find that page | NPR",
    "404: Page not found", "Error 404 (Not Found)!!1", "This page is no longer available", "Nothing found",
    "Page introuvable - Le Monde", "Seite nicht gefunden", "410 Gone", "The page you requested does not exist",
    "Hmm, we can't find that page", "This domain is for sale!",
]
ARTICLE_TITLES = [
    "How to fix a 404 error: page not found explained | Example News",
    "Amazon is the invisible backbone of ICE's immigration crackdown | MIT Technology Review",
    "Why so many links end in 'page not found' - The Atlantic",
    "Evidence not found: the missing records of the 2019 audit",
    "Error rates in facial recognition software | ACLU",
    "The 404 page of the internet is getting bigger", "Gone Girl review", "",
]


@pytest.mark.parametrize("title", ERROR_TITLES)
def test_error_titles(title: str) -> None:
    assert error_page(title, "") is not None


@pytest.mark.parametrize("title", ARTICLE_TITLES)
def test_article_titles_are_not_error_pages(title: str) -> None:
    assert error_page(title, "") is None


def test_error_heading_and_body_mentions() -> None:
    assert error_page("Example Times", "Sorry, this page doesn't exist.") is not None
    assert error_page("Example Times", "What a 404 error means, and why the page was not found") is None
    assert not is_error_phrase("A page not found error is what you see when a link rots")


CHALLENGE_HTML = "<title>Just a moment...</title><script>window._cf_chl_opt={}</script>"


def test_bot_challenges() -> None:
    assert detect_challenge(403, {"cf-mitigated": "challenge"}, "", "")
    assert detect_challenge(503, {}, "Just a moment...", CHALLENGE_HTML)
    assert detect_challenge(200, {}, "Just a moment...", CHALLENGE_HTML)
    assert detect_challenge(403, {"server": "cloudflare"}, "Attention Required! | Cloudflare", "")
    assert detect_challenge(403, {}, "Access to this page has been denied", "px-captcha")
    assert detect_challenge(403, {}, "", "<script src='https://geo.captcha-delivery.com/captcha/'></script>")
    assert detect_challenge(403, {"server": "AkamaiGHost"}, "Access Denied",
                            "You don't have permission to access. Reference #18.2f")
    # normal pages on protected sites carry CDN scripts: not challenges
    assert detect_challenge(200, {"server": "cloudflare"}, "Council votes | News",
                            "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>") is None
    assert detect_challenge(200, {}, "Access denied: how a city lost its records", "") is None


@pytest.mark.parametrize(("cited", "final", "expected"), [
    ("https://a.org/2019/05/story", "https://a.org/", "home page"),
    ("https://a.org/2019/05/story", "https://www.a.org/en/", "home page"),
    ("https://a.org/news/story", "https://a.org/404.html", "generic page"),
    ("https://a.org/news/story", "https://a.org/error?code=404", "generic page"),
    ("https://a.org/news/story", "https://a.org/news/", "section page"),
    ("https://old.org/2019/05/story", "https://new.org/", "home page"),
    ("https://a.org/item.php?id=5", "https://a.org/index.php", "generic page"),
    ("https://a.org/", "https://a.org/en/", None),
    ("http://a.org/news/story", "https://a.org/news/story/", None),
    ("https://a.org/news/story", "https://a.org/world/2019/new-story-url", None),
    ("https://a.org/?p=123", "https://a.org/", None),
    ("https://bit.ly/3xYzAbc", "https://www.aclu.org/", None),  # a short link may point at a home page
])
def test_generic_redirects(cited: str, final: str, expected: str | None) -> None:
    evidence = generic_redirect(cited, final)
    if expected is None:
        assert evidence is None
    else:
        assert evidence is not None and expected in evidence


def test_login_redirect() -> None:
    assert login_redirect("https://a.org/story", "https://a.org/login?next=/story")
    assert login_redirect("https://a.org/story", "https://a.org/story-about-login") is None
    assert login_redirect("https://docs.a.org/d/1", "https://accounts.a.org/ServiceLogin?continue=x")
    assert login_redirect("https://a.org/story", "https://a.org/oauth/authorize?client=1")


def test_moved_target() -> None:
    assert moved_target("http://a.org/x", [Hop("http://a.org/x", 301)], "https://a.org/y") == "https://a.org/y"
    assert moved_target("http://a.org/x", [Hop("http://a.org/x", 301)], "https://www.a.org/x/") is None
    assert moved_target("http://a.org/x", [Hop("http://a.org/x", 302)], "https://a.org/y") is None
    hops = [Hop("http://a.org/x", 308), Hop("http://a.org/y", 302)]
    assert moved_target("http://a.org/x", hops, "http://a.org/login") == "http://a.org/y"


def test_similarity_and_probe_comparison() -> None:
    template = "We could not locate the item. Try our search or browse the latest headlines " * 3
    probe = Probe(url="https://a.org/archiver-probe-1", status=200, final_url="https://a.org/archiver-probe-1",
                  title="Acme", text=template + " archiver probe 1")
    assert compare_with_probe(PageSeen(template + " old story", "Acme", "https://a.org/old/story", False), probe, 0.9)
    article = "The council approved the budget after a long hearing " * 20
    budget = PageSeen(article, "Budget approved | Acme", "https://a.org/budget", False)
    assert compare_with_probe(budget, probe, 0.9) is None
    shell = Probe(url="https://a.org/p", status=200, final_url="https://a.org/p", title="App", text="Enable JavaScript")
    assert compare_with_probe(PageSeen("Enable JavaScript", "App", "https://a.org/deep/x", False), shell, 0.9) is None
    not_found = Probe(url="https://a.org/p", status=404, final_url="https://a.org/p", title="404", text="")
    assert compare_with_probe(PageSeen(template, "Acme", "https://a.org/x", False), not_found, 0.9) is None
    assert similarity(words("a b c d"), words("a b c d")) == 1.0
    assert similarity(words("a b c d"), words("w x y z")) < 0.5


def test_page_info_and_encodings() -> None:
    body = "<html><head><title>Caf\u00e9 &amp; co</title></head><body><h1>Le <b>caf\u00e9</b></h1></body></html>"
    info = page_info(body.encode("cp1252"), "text/html; charset=windows-1252")
    assert (info.title, info.h1, info.is_html) == ("Caf\u00e9 & co", "Le caf\u00e9", True)
    assert sniff_encoding("caf\u00e9".encode("cp1252"), "text/html") == "cp1252"
    assert sniff_encoding(b"<meta charset='iso-8859-1'>", None) == "iso8859-1"
    assert sniff_encoding("caf\u00e9".encode(), None) == "utf-8"
    assert not page_info(b"%PDF-1.4", "application/pdf").is_html


def test_bounded_decoder_stops_bombs() -> None:
    zeros = b"\0" * (8 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = comp.compress(zeros) + comp.flush()
    assert len(BoundedDecoder("gzip").decode(gz, 1000)) == 1000
    assert len(BoundedDecoder("br").decode(brotli.compress(zeros), 1000)) == 1000
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert BoundedDecoder("deflate").decode(raw.compress(b"hello") + raw.flush(), 100) == b"hello"
    assert BoundedDecoder("deflate").decode(zlib.compress(b"hello"), 100) == b"hello"
    assert BoundedDecoder("identity").decode(b"plain", 3) == b"pla"
    assert BoundedDecoder("zstd").unsupported == "zstd"
    two = zlib.compressobj(6, zlib.DEFLATED, 31)
    member = two.compress(b"ab") + two.flush()
    assert BoundedDecoder("gzip").decode(member + member, 100) == b"abab"


def test_retry_after_parsing() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30
    assert retry_after_seconds("Wed, 31 Dec 2025 00:00:00 GMT", now) == 0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


@pytest.mark.corpus
def test_no_real_article_title_is_an_error_page_or_challenge(corpus: Path) -> None:
    """False positives measured on every title the real corpus cites (11,000+ article titles)."""
    loaded = load_events(corpus)
    titles = {s.title for e in loaded.events for s in e.sources if s.title}
    titles |= {e.title for e in loaded.events if e.title}
    assert len(titles) > 1000
    flagged = [t for t in titles if error_page(t, "") or error_page("", t) or detect_challenge(200, {}, t, "")]
    assert flagged == []


@pytest.mark.parametrize(("errno", "kind"), [(socket.EAI_NONAME, "nxdomain"), (socket.EAI_AGAIN, "dns")])
async def test_resolver_tells_nxdomain_from_temporary_failure(monkeypatch: pytest.MonkeyPatch, errno: int,
                                                              kind: str) -> None:
    calls: list[str] = []

    def fake(host: str, *args: object, **kwargs: object) -> list[object]:
        calls.append(host)
        raise socket.gaierror(errno, "lookup failed")

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    resolver = Resolver(timeout=2)
    for _ in range(2):
        with pytest.raises(DNSFailure) as err:
            await resolver.resolve("news.example.org")
        assert err.value.kind == kind and err.value.connection_level
    assert len(calls) == (1 if kind == "nxdomain" else 2), "NXDOMAIN is cached for the run, temporary failures not"


async def test_resolver_gives_up_on_a_hung_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: stop.wait(5) and [])
    resolver = Resolver(timeout=0.2)
    try:
        with pytest.raises(DNSFailure, match="timed out") as err:
            await resolver.resolve("slow.example.org")
        assert err.value.kind == "dns" and not err.value.transient  # the system resolver already retried
    finally:
        stop.set()


async def test_resolver_shares_one_lookup_between_concurrent_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake(host: str, *args: object, **kwargs: object) -> list[object]:
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    resolver = Resolver(timeout=2)
    results = await asyncio.gather(*(resolver.resolve("Www.Example.ORG.") for _ in range(5)))
    assert results == [["93.184.216.34"]] * 5 and calls == ["www.example.org"]


async def test_invalid_tld_never_queries_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: pytest.fail("queried DNS"))
    with pytest.raises(DNSFailure) as err:
        await Resolver().resolve("vanished.invalid")
    assert err.value.kind == "nxdomain"
