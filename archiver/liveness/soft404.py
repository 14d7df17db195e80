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

Issue 13 adds, as conservatively: removal notices ("This article is no longer available",
in English, German, French, Spanish, Portuguese and Italian) under the same title/heading
rule; parked domains (``dead``, "the domain is parked (...)") only on a thin page with two
signs, or one offer/service sign corroborated by the random-path probe; a script redirect to
the home page only on a small page with almost no visible text (none at all is the plainest case,
issue 19), and only when the redirect runs unconditionally; an outlet absorbed into
another site only when a random path of the old site lands on the same home page; and
cookie-consent walls, which are ``blocked``, not soft 404s.

The page model these rules read is :mod:`archiver.liveness.pages`; the random-path probe is
:mod:`archiver.liveness.probe`; parked domains are :mod:`archiver.liveness.parking`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from urllib.parse import SplitResult, urljoin, urlsplit

from ..models import LinkStatus
from .pages import TITLE_SEPARATORS, WORD_RE, WS_RE, PageInfo, meta_refresh, norm_phrase, page_info, visible_text
from .parking import on_parking_service, parked_page, parking_signs
from .probe import Probe

# --------------------------------------------------------------------------- error pages

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
    # whole titles or title parts only ("Buy this domain? The market for dead sites" is an article)
    r"(this\s+)?domain\s+(name\s+)?(is\s+|may\s+be\s+)?for\s+sale", r"buy\s+this\s+domain",
    r"(fehler|erreur|errore|erro)\s*40[4]",
]

# "This article is no longer available": a title or heading that *is* a removal notice, in six languages.
# Like the rest, these count only as a whole title (or title part) or first heading, never in running text.
_EN_THING = (r"(article|story|page|web\s*page|content|post|blog\s+post|video|item|document|report|listing|piece|"
             r"news\s+(story|article|item)|gallery|episode|podcast|link)")
_REMOVAL_PATTERNS = [
    r"(sorry[,!.]?\s*)?(the\s+|this\s+|that\s+|our\s+)?(requested\s+)?" + _EN_THING
    + r"(\s+you\s+(were|are|'re)?\s*(looking\s+for|requested|tried\s+to\s+(reach|access)))?\s+"
    r"(is\s+|has\s+been\s+|has\s+|was\s+|had\s+been\s+)?(now\s+)?(no\s+longer\s+(available|online|accessible|published|live)|"
    r"unavailable|not\s+available|(permanently\s+)?(removed|deleted|unpublished|taken\s+(down|offline)|withdrawn|expired))"
    r"(\s+(by\s+the\s+(author|publisher|owner)|from\s+(this|our)\s+(site|website)))?",
    r"(sorry[,!.]?\s*)?(this\s+is\s+)?no\s+longer\s+available",
    # German
    r"((dieser|diese|dieses|der|die|das)\s+)?((gew[üu]nschte|angeforderte|gesuchte|aufgerufene)\s+)?"
    r"(artikel|beitrag|inhalt|seite|meldung|nachricht|video|text|dokument)\s+(ist\s+|wurde\s+|war\s+)?(leider\s+)?"
    r"(nicht\s+mehr\s+(verf[üu]gbar|online|abrufbar|vorhanden|erreichbar)|nicht\s+verf[üu]gbar|nicht\s+gefunden|"
    r"entfernt|gel[öo]scht|depubliziert|abgelaufen)(\s+worden)?",
    r"(diese\s+|die\s+)?seite\s+existiert\s+(leider\s+)?nicht(\s+mehr)?",
    # French
    r"((cet|cette|ce|la|le)\s+|l')?(article|contenu|page|vid[ée]o|publication|document|reportage)\s+"
    r"(n'est\s+plus\s+disponible|n'est\s+pas\s+disponible|n'est\s+plus\s+accessible|n'existe\s+(plus|pas)(\s+ou\s+plus)?|"
    r"est\s+(indisponible|introuvable|expir[ée]e?)|a\s+[ée]t[ée]\s+(supprim|retir|d[ée]publi)[ée]e?|"
    r"(supprim|retir|d[ée]publi)[ée]e?|indisponible|non\s+disponible|introuvable|expir[ée]e?)",
    # Spanish
    r"((este|esta|el|la)\s+)?(art[íi]culo|contenido|p[áa]gina|noticia|nota|v[íi]deo|publicaci[óo]n|documento|entrada)\s+"
    r"(ya\s+no\s+est[áa]\s+disponible|no\s+est[áa]\s+disponible|ya\s+no\s+existe|no\s+existe|"
    r"(ha\s+sido|fue)\s+(eliminad|retirad|borrad|despublicad)[oa]|(eliminad|retirad|borrad)[oa]|no\s+disponible|"
    r"no\s+encontrad[oa]|caducad[oa])",
    r"(la\s+)?p[áa]gina\s+que\s+(buscas|busca|est[áa]s\s+buscando)\s+no\s+existe",
    # Portuguese
    r"((este|esta|o|a)\s+)?(artigo|conte[úu]do|p[áa]gina|not[íi]cia|mat[ée]ria|v[íi]deo|publica[çc][ãa]o|documento)\s+"
    r"(n[ãa]o\s+est[áa]\s+mais\s+dispon[íi]vel|j[áa]\s+n[ãa]o\s+est[áa]\s+dispon[íi]vel|n[ãa]o\s+est[áa]\s+dispon[íi]vel|"
    r"n[ãa]o\s+existe(\s+mais)?|foi\s+(removid|exclu[íi]d|retirad|apagad)[oa]|(removid|exclu[íi]d|retirad|apagad)[oa]|"
    r"indispon[íi]vel|n[ãa]o\s+dispon[íi]vel|n[ãa]o\s+encontrad[oa])",
    # Italian
    r"((questo|questa|il|la)\s+|quest'|l')?(articolo|contenuto|pagina|notizia|video|documento)\s+"
    r"(non\s+[èe]\s+pi[ùu]\s+disponibile|non\s+[èe]\s+disponibile|non\s+esiste(\s+pi[ùu])?|"
    r"[èe]\s+stat[oa]\s+(rimoss|eliminat|cancellat)[oa]|(rimoss|eliminat|cancellat)[oa]|non\s+(pi[ùu]\s+)?disponibile|"
    r"non\s+trovat[oa])",
]
_ERROR_PATTERNS += _REMOVAL_PATTERNS
_INTERJECTION = (r"(?:(?:oops|whoops|uh[\s-]+oh|sorry|hmm+|ouch|argh|yikes|d'oh|hoppla|leider|oups|d[ée]sol[ée]|"
                 r"lo\s+sentimos|ups|desculpe|ci\s+dispiace|spiacenti)[!.,:]*\s*)?")
_ERROR_RE = re.compile(_INTERJECTION + "(?:" + "|".join(f"(?:{p})" for p in _ERROR_PATTERNS) + ")", re.I)


def is_error_phrase(text: str) -> bool:
    """True when ``text`` as a whole says "not found" (not when it merely mentions it)."""
    phrase = norm_phrase(text)
    return bool(phrase) and len(phrase) <= 140 and _ERROR_RE.fullmatch(phrase) is not None


def error_page(title: str, h1: str) -> str | None:
    """Evidence when the title or first heading is an error message, else None."""
    if title:
        parts = [title, *TITLE_SEPARATORS.split(title)]
        for part in parts:
            if is_error_phrase(part):
                return f"the page title says {title.strip()!r}"
    if h1 and is_error_phrase(h1):
        return f"the page heading says {h1.strip()!r}"
    return None


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
    norm = norm_phrase(title) if title else ""
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


_CONSENT_HOST_LABELS = frozenset({"consent", "gdpr", "cmp"})
_CONSENT_SEGMENT = re.compile(r"(?:[a-z]+[-_])?(?:collect[-_]?)?(?:consent|cookie[-_]?wall|cookiewall|"
                              r"cookie[-_]?consent)(?:[-_][a-z]+)?(?:\.[a-z]{2,5})?", re.I)
_RETURN_PARAM = re.compile(r"(?:^|&)(?:return(?:[-_]?(?:url|to))?|original[-_]?url|continue|"
                           r"redirect(?:[-_]?(?:url|uri))?|next|dest(?:ination)?|target|back(?:[-_]?url)?|"
                           r"ref(?:errer)?|url|done|sessionid)=", re.I)


def is_consent_url(url: str) -> bool:
    """A cookie-consent page: a ``consent.`` host (consent.yahoo.com, consent.google.com), or a
    consent path (``/consent``, ``/cookie-wall``) that carries the page to return to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    labels = (parts.hostname or "").lower().split(".")
    if len(labels) >= 3 and labels[0] in _CONSENT_HOST_LABELS:
        return True
    segments = _segments(parts.path)
    return (any(_CONSENT_SEGMENT.fullmatch(seg) for seg in segments)
            and _RETURN_PARAM.search(parts.query) is not None)


def consent_redirect(cited: str, reached: Sequence[str]) -> str | None:
    """Evidence when a cited page redirected to a cookie-consent page (``reached``: the URLs after the
    first hop, the final one last). Consent walls are not link rot: the page is behind them."""
    if is_consent_url(cited):
        return None
    for url in reached:
        if is_consent_url(url):
            host = urlsplit(url).hostname or url
            return f"redirected to a cookie-consent page ({host}): the site asks for consent before showing the page"
    return None


def absorbed_redirect(cited: str, final: str, probe: Probe) -> str | None:
    """Evidence when a deep link and a random path of the cited site both end on the home page of another
    site: the outlet was absorbed (every path goes to the new owner's home page), not moved."""
    evidence = generic_redirect(cited, final)
    if evidence is None or "home page" not in evidence or not probe.redirected or not probe.answers_2xx:
        return None
    try:
        c, f, p = urlsplit(cited), urlsplit(final), urlsplit(probe.final_url or "")
    except ValueError:
        return None
    def host(parts: SplitResult) -> str:
        return (parts.hostname or "").lower().removeprefix("www.")
    if host(c) == host(f) or host(p) != host(f) or not is_generic_path(p.path):
        return None
    return f"the site now redirects everything to {final}"


def login_redirect(cited: str, final: str) -> str | None:
    try:
        path = urlsplit(final).path
    except ValueError:
        return None
    if _LOGIN_PATH.fullmatch(path) and not _LOGIN_PATH.fullmatch(urlsplit(cited).path):
        return f"redirected to a login or subscription page ({final})"
    return None


# --------------------------------------------------------------------------- script redirects

SCRIPT_PAGE_BYTES = 64 * 1024  # a page that only forwards by script is small
SCRIPT_PAGE_WORDS = 30
_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.I | re.S)
#: ``<body onload="location.replace('/')">``: the same code in an attribute (HTML-escaped)
_ONLOAD = re.compile(r"""<body\b[^>]*?\sonload\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I | re.S)
_JS_LOCATION = re.compile(
    r"""(?:(?:window|document|top|self|parent)\.)?location(?:\.href)?\s*=\s*(["'])([^"'\n]{0,500})\1"""
    r"""|(?:(?:window|document|top|self|parent)\.)?location\.(?:replace|assign)\(\s*(["'])([^"'\n]{0,500})\3\s*\)""")
#: what makes the statement before a redirect, or the header of a block around it, conditional
_GUARD = re.compile(r"\b(?:if|else|catch|switch|case|while)\b|&&|\|\||\?")
_STATEMENT_END = re.compile(r"[;{}]")
#: string literals and comments, blanked before reading the code's structure ("{" or "if" in them is not code)
_JS_INERT = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|//[^\n]*|/\*.*?\*/""", re.S)


def _conditional(code: str, at: int) -> bool:
    """Whether the redirect at ``code[at]`` runs only under a condition (``if (top !== self) top.location =
    "/"``, a ``&&``, an ``else`` or ``catch`` block): a frame-buster or an app's router, not a page that
    only forwards. Plain function blocks (``setTimeout(function () {...})``, ``onload = function``) do not count."""
    code = _JS_INERT.sub(lambda m: " " * len(m.group(0)), code[:at])  # same offsets
    guarded: list[bool] = []  # the blocks still open at the redirect: "if (...) {" yes, "function () {" no
    start = 0  # where the current statement or block header begins
    for m in _STATEMENT_END.finditer(code):
        if m.group(0) == "{":
            guarded.append(_GUARD.search(code, start, m.start()) is not None)
        elif m.group(0) == "}" and guarded:
            guarded.pop()
        start = m.end()
    return any(guarded) or _GUARD.search(code, start) is not None


def _forwarding_code(info: PageInfo) -> list[str]:
    """The page's inline scripts and its ``<body onload>`` handler, where a forwarding page's redirect is."""
    code = [m.group(1) for m in _INLINE_SCRIPT.finditer(info.head)]
    if m := _ONLOAD.search(info.head):
        code.append(html.unescape(m.group(1) if m.group(1) is not None else m.group(2)))
    return code


def script_target(body: bytes, info: PageInfo, text: str) -> tuple[str, str] | None:
    """``(script, target)`` for a small, thin page that only sends the browser elsewhere by script
    (no meta refresh), else None. ``text`` is the page's visible text, empty on a page that shows nothing
    (the plainest forwarding page). A script redirect inside a real page, or one under a condition,
    never counts."""
    if len(body) > SCRIPT_PAGE_BYTES or not info.is_html or "location" not in info.head:
        return None
    if meta_refresh(body, info.encoding) is not None or len(WORD_RE.findall(text)) > SCRIPT_PAGE_WORDS:
        return None
    for code in _forwarding_code(info):
        for m in _JS_LOCATION.finditer(code):
            target = html.unescape(m.group(2) if m.group(2) is not None else m.group(4)).strip()
            if target and not _conditional(code, m.start()):
                return WS_RE.sub(" ", m.group(0))[:120], target
    return None


def script_redirect(cited: str, page_url: str, body: bytes, info: PageInfo, text: str) -> str | None:
    """Evidence when a deep cited URL answers a page whose only content is a script sending the
    browser to the home page or a generic page (as :func:`generic_redirect` judges a real redirect)."""
    found = script_target(body, info, text)
    if found is None:
        return None
    script, target = found
    try:
        absolute = urljoin(page_url, target).split("#", 1)[0]
    except ValueError:
        return None
    if urlsplit(absolute).scheme.lower() not in ("http", "https") or absolute == page_url.split("#", 1)[0]:
        return None
    evidence = generic_redirect(cited, absolute)
    if evidence is None:
        return None
    return evidence.replace("redirected to", f"redirected by a script ({script}) to", 1)


# --------------------------------------------------------------------------- one page, judged by its content


def needs_text(body: bytes, info: PageInfo) -> bool:
    """Whether :func:`page_rules` or :func:`parked_page` could use the visible text: cheap checks first,
    so most pages are never parsed for them."""
    if not info.is_html:
        return False
    if len(body) <= SCRIPT_PAGE_BYTES and "location" in info.head:
        return True
    return parking_signs(info) is not None  # a decisive parking verdict needs one of these signs


def page_rules(cited: str, page_url: str, body: bytes, info: PageInfo, text: str | None) -> str | None:
    """Evidence of a soft 404 from one 2xx HTML page's content: an error or removal notice as its title
    or heading, or a script that only sends the browser to the home page. ``text`` is None when
    :func:`needs_text` said no; an empty text is a page that shows nothing, and is judged."""
    if evidence := error_page(info.title, info.h1):
        return evidence
    if text is not None and (evidence := script_redirect(cited, page_url, body, info, text)):
        return evidence
    return None


def content_verdict(url: str, body: bytes, content_type_header: str | None) -> tuple[LinkStatus, str] | None:
    """``(status, evidence)`` when a 2xx answer's content shows it is not the cited page, else None.

    Judges the content alone (no redirect chain, no probe), so the same rules serve a live
    answer and an archived capture. ``status`` is ``"blocked"`` for a bot challenge, ``"dead"``
    for a parked domain ("the domain is parked (...)") and ``"soft_404"`` for an error or
    removal page or a script redirect to the home page.
    """
    info = page_info(body, content_type_header)
    if not info.is_html:
        return None
    if why := detect_challenge(200, {}, info.title, info.head):
        return LinkStatus.BLOCKED, why
    text = visible_text(body, info.encoding) if needs_text(body, info) else None
    if text is not None and not on_parking_service(url) and (why := parked_page(info, text)):
        return LinkStatus.DEAD, why
    if why := page_rules(url, url, body, info, text):
        return LinkStatus.SOFT_404, why
    return None
