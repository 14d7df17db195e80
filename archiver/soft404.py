"""Recognising answers that are not the cited page: soft 404s and bot challenges.

Every rule here is deliberately conservative: calling a live article ``soft_404`` is
as bad as calling it dead. So

* error-page wording counts only in the page's ``<title>`` or first ``<h1>``, and only
  when that title (or one of its site-name-separated parts) *is* an error phrase:
  "Page not found | Site" is an error page, "How to fix a 404 error" is an article;
* a redirect counts only when a deep URL lands on the site's home page or a generic
  page (``/``, ``/404``, ``/error``, ``/index.html``, a bare language root, a section
  that is an ancestor of the cited path);
* the random-path probe counts only when the host answers a path that cannot exist
  with 2xx *and* the cited page's text is near-identical to that answer (and so is the
  title), with enough text to compare, or an error phrase in the shared text.

Body-text mentions of "404" or "page not found" never count on their own.
"""

from __future__ import annotations

import asyncio
import codecs
import html
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

HEAD_BYTES = 256 * 1024  # title, h1 and charset are looked for here
TEXT_BYTES = 1024 * 1024  # visible text for similarity is taken from here
MAX_WORDS = 3000
MIN_COMPARE_WORDS = 20  # fewer words than this: similarity alone proves nothing (JavaScript shells)

# --------------------------------------------------------------------------- page text


@dataclass(slots=True)
class PageInfo:
    is_html: bool
    title: str = ""
    h1: str = ""
    encoding: str = "utf-8"
    #: the first bytes decoded, for challenge markers
    head: str = ""


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_TITLE_RE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_H1_RE = re.compile(rb"<h1\b[^>]*>(.*?)</h1\s*>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]*>")
_WS_RE = re.compile(r"\s+")
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _valid_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def sniff_encoding(body: bytes, content_type_header: str | None) -> str:
    """Charset from the Content-Type header, a ``<meta>`` tag, a BOM, valid UTF-8, else windows-1252."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if content_type_header:
        m = re.search(r"charset\s*=\s*([^;\s]+)", content_type_header, re.I)
        if m and (name := _valid_codec(m.group(1))):
            return name
    m = _CHARSET_RE.search(body[:8192])
    if m and (name := _valid_codec(m.group(1).decode("ascii", "replace"))):
        return name
    try:
        body[:HEAD_BYTES].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > HEAD_BYTES - 4:  # a character cut by the slice
            return "utf-8"
    return "cp1252"


def _clean(fragment: bytes, encoding: str) -> str:
    text = fragment.decode(encoding, "replace")
    text = html.unescape(_TAG_RE.sub(" ", text))
    return _WS_RE.sub(" ", text).strip()


_META_REFRESH_TAG = re.compile(rb"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*>", re.I)
_REFRESH_CONTENT = re.compile(
    r"""content\s*=\s*(["']?)\s*(\d+(?:\.\d*)?)\s*[;,]\s*(?:url\s*=\s*)?['"]?([^'">\s]+)""", re.I)
MAX_REFRESH_DELAY = 10.0


def meta_refresh(body: bytes, encoding: str = "utf-8") -> str | None:
    """The target of a ``<meta http-equiv="refresh" content="N; url=...">`` with a short delay, else None."""
    m = _META_REFRESH_TAG.search(body[:32768])
    if not m:
        return None
    tag = html.unescape(m.group(0).decode(encoding, "replace"))
    c = _REFRESH_CONTENT.search(tag)
    if not c or float(c.group(2)) > MAX_REFRESH_DELAY:
        return None
    return c.group(3).strip() or None


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type:
        return "html" in content_type
    start = body[:1024].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<title")) or b"<html" in start


def page_info(body: bytes, content_type_header: str | None) -> PageInfo:
    """Title, first h1 and encoding, found cheaply with regular expressions in the first 256 KB."""
    ctype = content_type_header.split(";", 1)[0].strip().lower() if content_type_header else None
    is_html = looks_like_html(body, ctype)
    encoding = sniff_encoding(body, content_type_header)
    head_bytes = body[:HEAD_BYTES]
    info = PageInfo(is_html=is_html, encoding=encoding, head=head_bytes[:32768].decode(encoding, "replace"))
    if not is_html:
        return info
    if m := _TITLE_RE.search(head_bytes):
        info.title = _clean(m.group(1), encoding)[:500]
    if m := _H1_RE.search(head_bytes):
        info.h1 = _clean(m.group(1), encoding)[:500]
    return info


_DROP_XPATH = ("//script|//style|//noscript|//template|//svg|//nav|//header|//footer|//aside|//form|//iframe"
               "|//*[@role='navigation']|//*[@aria-hidden='true']")


def visible_text(body: bytes, encoding: str) -> str:
    """The page's visible text without scripts, navigation, headers and footers."""
    data = body[:TEXT_BYTES]
    if not data.strip():
        return ""
    try:
        parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
        doc = lxml.html.document_fromstring(data, parser=parser)
        for el in doc.xpath(_DROP_XPATH):
            if el.getparent() is not None:
                el.drop_tree()
        text = doc.text_content()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError):
        text = _TAG_RE.sub(" ", data.decode(encoding, "replace"))
    return _WS_RE.sub(" ", text).strip()


def words(text: str, drop: frozenset[str] = frozenset()) -> list[str]:
    out = [w for w in _WORD_RE.findall(text.lower()) if w not in drop]
    return out[:MAX_WORDS]


def similarity(a: list[str], b: list[str]) -> float:
    """Sequence similarity of two word lists (1.0 = identical); cheap upper bounds first."""
    if not a and not b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5:
        return matcher.real_quick_ratio()
    if matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio()
    return matcher.ratio()


def url_words(*urls: str) -> frozenset[str]:
    """Words of URL paths and queries: templates echo the requested path, so these are not compared."""
    out: set[str] = set()
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        out.update(_WORD_RE.findall(f"{parts.path} {parts.query}".lower()))
    return frozenset(out)


# --------------------------------------------------------------------------- error pages

_SEPARATORS = re.compile(r"\s+[|\-–—·•»]\s+|\s*::\s*|\s+[|]\s*|\s*[|]\s+")
_ERROR_PATTERNS = [
    # 404 / 410 with optional words: "404", "Error 404", "404 Not Found", "404: Page not found", "HTTP 410 Gone"
    r"(http\s*)?(error\s*)?(40[4]|410)(\s*error)?(\s*[:\-–—(]?\s*(page|file)?\s*(not\s*found|gone)\)?)?"
    r"(\s*[:\-–—]\s*.{0,40}(not\s*found|gone|no\s+longer\s+exists?))?",
    r"(error\s*[:\-–—]?\s*)?(the\s+)?(page|file)\s+(was\s+|is\s+)?not\s+found(\s*\(?\s*40[4]\s*\)?)?",
    r"not\s+found", r"gone", r"file\s+not\s+found", r"nothing\s+(was\s+)?found(\s+here)?",
    r"(oops|whoops|uh[\s-]+oh|sorry|hmm+)[!.,]*\s*.{0,60}?(not\s+(be\s+)?found|can'?t\s+be\s+found|cannot\s+be\s+found"
    r"|could\s*n[o']t\s+be\s+found|does\s*n[o']t\s+exist|does\s+not\s+exist|no\s+longer\s+(exists?|available)|404).{0,40}",
    r"(sorry[,!.]?\s*)?(the\s+|this\s+|that\s+)?(page|file|article|story|content|post|document|resource|url)"
    r"(\s+you\s+(were|are|'re)?\s*(looking\s+for|requested|tried\s+to\s+(reach|access)))?"
    r"\s+(was\s+|is\s+|could\s*n[o']?t\s+be\s+|cannot\s+be\s+|can'?t\s+be\s+)?(not\s+)?found",
    r"(sorry[,!.]?\s*)?(the\s+|this\s+|that\s+)?(page|file|article|story|content|post|document)"
    r"(\s+you\s+(were|are|'re)?\s*(looking\s+for|requested))?"
    r"\s+(does\s*n[o']?t|does\s+not|no\s+longer)\s+exists?",
    r"(sorry[,!.]?\s*)?(we\s+)?(can'?t|cannot|could\s*n[o']?t|could\s+not)\s+find\s+(that|the|this|what\s+you"
    r"('re|\s+are|\s+were)\s+looking\s+for)(\s+(page|article|story|content))?",
    r"(sorry[,!.]?\s*)?(the\s+|this\s+)?(page|content|article)\s+(is\s+|has\s+been\s+)?(no\s+longer\s+available|"
    r"unavailable|not\s+available|removed|deleted)",
    r"(page|content)\s+(unavailable|not\s+available)",
    r"seite\s+nicht\s+gefunden", r"p[aá]gina\s+no\s+encontrada", r"page\s+(introuvable|non\s+trouv[ée]e)",
    r"pagina\s+non\s+trovata", r"pagina\s+niet\s+gevonden", r"p[aá]gina\s+n[aã]o\s+encontrada",
    r"(this\s+)?domain\s+(name\s+)?(is\s+|may\s+be\s+)?for\s+sale.{0,40}", r"buy\s+this\s+domain.{0,40}",
]
_INTERJECTION = r"(?:(?:oops|whoops|uh[\s-]+oh|sorry|hmm+|ouch|argh|yikes|d'oh)[!.,:]*\s*)?"
_ERROR_RE = re.compile(_INTERJECTION + "(?:" + "|".join(f"(?:{p})" for p in _ERROR_PATTERNS) + ")", re.I)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def _norm_phrase(text: str) -> str:
    text = _WS_RE.sub(" ", text.translate(_QUOTES)).strip()
    text = re.sub(r"!+1+$", "", text)  # "Error 404 (Not Found)!!1"
    return text.strip(" .!?¡¿…*\"'()[]{}<>#:;,~-–—|")


def is_error_phrase(text: str) -> bool:
    """True when ``text`` as a whole says "not found" (not when it merely mentions it)."""
    phrase = _norm_phrase(text)
    return bool(phrase) and len(phrase) <= 140 and _ERROR_RE.fullmatch(phrase) is not None


def error_page(title: str, h1: str) -> str | None:
    """Evidence when the title or first heading is an error message, else None."""
    if title:
        parts = [title, *_SEPARATORS.split(title)]
        for part in parts:
            if is_error_phrase(part):
                return f"the page title says {title.strip()!r}"
    if h1 and is_error_phrase(h1):
        return f"the page heading says {h1.strip()!r}"
    return None


def mentions_error(text: str) -> bool:
    """A weaker signal, used only to corroborate a near-identical random-path answer."""
    return re.search(r"not\s+found|404|does\s*n[o']?t\s+exist|no\s+longer\s+(exists|available)|can'?t\s+find"
                     r"|cannot\s+find|could\s*n[o']?t\s+find|unavailable", text, re.I) is not None


# --------------------------------------------------------------------------- bot challenges

_CHALLENGE_TITLES = re.compile(
    r"(just a moment\.*|attention required!? ?\|? ?cloudflare|please wait\.*\s*\|\s*cloudflare|"
    r"checking your browser.*|ddos-guard|ddos protection by.*|pardon our interruption|"
    r"access to this page has been denied\.?|verifying you are human.*|verify you are human.*|"
    r"are you a robot\??|robot or human\??|human verification|bot verification|one more step|"
    r"please verify you are a human|security check(point)?|captcha|you have been blocked|"
    r"sorry, you have been blocked|request unsuccessful\.? incapsula.*|vercel security checkpoint)",
    re.I)
#: found only on challenge or block pages (not in scripts that CDNs inject into normal pages)
_CHALLENGE_MARKERS = ("_cf_chl_opt", "cf-browser-verification", "cf_chl_prog", "captcha-delivery.com",
                      "px-captcha", "incapsula incident id", "/.well-known/sgcaptcha")
_WEAK_BLOCK_TITLES = re.compile(r"(access denied|forbidden|attention required.*|error 10\d\d.*|blocked.*)", re.I)


def detect_challenge(status: int, headers: Mapping[str, str], title: str, head: str) -> str | None:
    """Evidence that the answer is a bot challenge or bot wall (any status), else None."""
    if headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return "Cloudflare bot challenge (cf-mitigated: challenge)"
    norm = _norm_phrase(title) if title else ""
    if norm and _CHALLENGE_TITLES.fullmatch(norm):
        return f"bot challenge page ({title.strip()!r})"
    lowered = head.lower()
    for marker in _CHALLENGE_MARKERS:
        if marker in lowered:
            return f"bot challenge page (contains {marker!r})"
    if status >= 400:
        server = headers.get("server", "").lower()
        if norm and _WEAK_BLOCK_TITLES.fullmatch(norm) and (
                "cloudflare" in server or "akamai" in server or "reference #" in lowered or "cloudflare" in lowered):
            return f"bot wall ({title.strip()!r} from {server or 'a CDN'})"
    return None


# --------------------------------------------------------------------------- redirects to generic pages

_GENERIC_PATH = re.compile(
    r"/*(?:(?:[a-z]{2}(?:[-_][a-z]{2,4})?/?)?"
    r"(?:index(?:\.[a-z]{2,5})?|default\.aspx?|home(?:page)?(?:\.[a-z]{2,5})?|start|main|welcome|"
    r"404(?:\.[a-z]{2,5})?|410|not[-_]?found(?:\.[a-z]{2,5})?|page[-_]?not[-_]?found|"
    r"errors?(?:/[\w.-]*)?(?:\.[a-z]{2,5})?|error[-_]?404(?:\.[a-z]{2,5})?|search(?:\.[a-z]{2,5})?|"
    r"gone(?:\.[a-z]{2,5})?)?)/*",
    re.I)
_LANG_ROOT = re.compile(r"[a-z]{2}(?:[-_][a-z]{2,4})?", re.I)
_LOGIN_PATH = re.compile(r".*/(?:[a-z]*login|log-in|[a-z]*signin|sign-in|sign_in|auth|authorize|oauth2?|sso|"
                         r"subscribe|paywall|session/new)(?:[/.?;].*)?", re.I)


def is_generic_path(path: str) -> bool:
    return _GENERIC_PATH.fullmatch(path or "/") is not None


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def has_deep_path(url: str) -> bool:
    """A URL whose path names one page (the query aside)."""
    return not is_generic_path(urlsplit(url).path)


def is_deep(url: str) -> bool:
    """A URL naming one page: a non-generic path, or a query on any path."""
    parts = urlsplit(url)
    return not is_generic_path(parts.path) or bool(parts.query)


#: URL shorteners: their paths are opaque tokens, and a short link may rightly lead to a home page
SHORTENERS = frozenset({
    "bit.ly", "bitly.com", "t.co", "tinyurl.com", "goo.gl", "ow.ly", "buff.ly", "is.gd", "v.gd", "lnkd.in", "fb.me",
    "dlvr.it", "trib.al", "wp.me", "amzn.to", "nyti.ms", "wapo.st", "reut.rs", "cnn.it", "n.pr", "apple.co", "t.ly",
    "rb.gy", "j.mp", "tiny.cc", "cutt.ly", "shorturl.at", "rebrand.ly", "bl.ink", "s.id", "ift.tt", "redd.it",
    "youtu.be", "g.co", "aka.ms", "msft.it", "lat.ms", "politi.co", "hill.cm", "bbc.in", "econ.st", "ti.me",
})


def generic_redirect(cited: str, final: str) -> str | None:
    """Evidence when a deep cited URL was redirected to a home, error or section page."""
    try:
        c, f = urlsplit(cited), urlsplit(final)
    except ValueError:
        return None
    if not is_deep(cited) or (c.hostname or "").lower().removeprefix("www.") in SHORTENERS:
        return None
    same_site = (c.hostname or "").removeprefix("www.") == (f.hostname or "").removeprefix("www.")
    if is_generic_path(f.path):
        if same_site and c.path.rstrip("/") == f.path.rstrip("/"):
            return None  # only the query or scheme changed
        segs = _segments(f.path)
        home = not segs or (len(segs) == 1 and _LANG_ROOT.fullmatch(segs[0]) is not None)
        where = "the site's home page" if home else "a generic page"
        return f"redirected to {where} ({final})"
    cseg, fseg = _segments(c.path), _segments(f.path)
    if same_site and len(cseg) >= 2 and 1 <= len(fseg) < len(cseg) and cseg[: len(fseg)] == fseg and len(fseg) <= 1:
        return f"redirected to a section page ({final})"
    return None


def login_redirect(cited: str, final: str) -> str | None:
    try:
        path = urlsplit(final).path
    except ValueError:
        return None
    if _LOGIN_PATH.fullmatch(path) and not _LOGIN_PATH.fullmatch(urlsplit(cited).path):
        return f"redirected to a login or subscription page ({final})"
    return None


# --------------------------------------------------------------------------- the random-path probe


@dataclass(slots=True)
class Probe:
    """What a host answers for a path that cannot exist."""

    url: str
    status: int | None = None
    final_url: str | None = None
    title: str = ""
    text: str | None = None
    redirected: bool = False
    error: str | None = None

    @property
    def answers_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def probe_path() -> str:
    return f"/archiver-probe-{secrets.token_hex(6)}-{secrets.token_hex(4)}"


class Prober:
    """One probe per origin (scheme, host, port), shared by every page of that origin."""

    def __init__(self, fetch: Callable[[str], Awaitable[Probe]]) -> None:
        self._fetch = fetch
        self._tasks: dict[str, asyncio.Task[Probe]] = {}

    async def probe(self, origin: str) -> Probe:
        task = self._tasks.get(origin)
        if task is None:
            task = self._tasks[origin] = asyncio.ensure_future(self._fetch(origin.rstrip("/") + probe_path()))
        return await asyncio.shield(task)

    @property
    def probes(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


def compare_with_probe(page_text: str, page_title: str, page_final: str, page_redirected: bool,
                       probe: Probe, threshold: float) -> str | None:
    """Evidence that the page is what the host serves for any unknown path, else None."""
    if not probe.answers_2xx or probe.text is None:
        return None
    if page_redirected and probe.redirected and probe.final_url == page_final:
        return f"redirected to the same page as a random, non-existent path ({page_final})"
    drop = url_words(page_final, probe.url, probe.final_url or "")
    page_words, probe_words = words(page_text, drop), words(probe.text, drop)
    if len(page_words) < MIN_COMPARE_WORDS and not mentions_error(page_text):
        return None  # too little text: a page rendered by JavaScript looks the same on every path
    text_sim = similarity(page_words, probe_words)
    if text_sim < threshold:
        return None
    title_sim = similarity(words(page_title, drop), words(probe.title, drop))
    if title_sim < 0.8:
        return None
    return (f"the page matches what the host serves for a random, non-existent path "
            f"({text_sim:.0%} same text)")


# --------------------------------------------------------------------------- one page, judged by its content


def content_verdict(url: str, body: bytes, content_type_header: str | None) -> tuple[str, str] | None:
    """``(status, evidence)`` when a 2xx answer's content shows it is not the cited page, else None.

    Judges the content alone (no redirect chain, no probe), so the same rules serve a live
    answer and an archived capture. ``status`` is ``"blocked"`` for a bot challenge and
    ``"soft_404"`` for an error page.
    """
    info = page_info(body, content_type_header)
    if not info.is_html:
        return None
    if why := detect_challenge(200, {}, info.title, info.head):
        return "blocked", why
    if info.title and (why := error_page(info.title, info.h1)):
        return "soft_404", why
    return None
