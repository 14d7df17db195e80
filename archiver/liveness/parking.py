"""Parked and expired domains: a parking service's page (an offer to sell the domain, the service's
scripts or links, a "related searches" block) on a thin page, corroborated by the random-path probe
when the page alone says too little. Its verdict is ``dead`` with evidence "the domain is parked (...)"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .pages import TITLE_SEPARATORS, WORD_RE, PageInfo, norm_phrase, similarity, url_words, words
from .probe import Probe

# --------------------------------------------------------------------------- parked domains

#: a page this thin (visible words) can be a parking page; articles are longer
PARKED_MAX_WORDS = 250
_DOMAIN = r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}"
_PARKED_TITLE = re.compile(
    r"(?:(?:the\s+)?(?:domain\s+(?:name\s+)?)?" + _DOMAIN + r"\s+(?:is|may\s+be)\s+for\s+sale"
    r"|(?:this\s+)?domain\s+(?:name\s+)?(?:is\s+|may\s+be\s+)?for\s+sale|buy\s+this\s+domain"
    r"|" + _DOMAIN + r"\s*[-|:]\s*(?:related\s+searches|domain\s+for\s+sale|for\s+sale)"
    r"|(?:this\s+)?(?:domain|website)\s+(?:name\s+)?(?:is\s+|has\s+been\s+)?parked|parked\s+domain"
    r"|(?:this\s+)?domain\s+(?:name\s+)?(?:has\s+)?expired)", re.I)
_PARKED_TEXT = re.compile(
    r"this\s+domain(?:\s+name)?\s+(?:is|may\s+be)\s+for\s+sale|buy\s+this\s+domain|(?:the\s+)?domain\s+" + _DOMAIN
    + r"\s+(?:is|may\s+be)\s+for\s+sale|make\s+an?\s+offer\s+(?:on|for)\s+this\s+domain|inquire\s+about\s+this\s+domain"
    r"|this\s+domain\s+(?:name\s+)?(?:has\s+expired|is\s+parked)|is\s+parked\s+free|this\s+domain\s+is\s+available\s+for"
    r"\s+(?:purchase|sale)", re.I)
#: hosts of parking services and domain marketplaces
PARKING_SERVICES = ("sedoparking.com", "sedo.com", "bodis.com", "bodiscdn.com", "parkingcrew.net", "above.com",
                    "dan.com", "afternic.com", "hugedomains.com", "parklogic.com", "domainmarket.com",
                    "undeveloped.com", "namebright.com", "domainnamesales.com", "parking.godaddy.com")
_SERVICE_RE = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//(?:[\w-]+\.)*("""
                         + "|".join(re.escape(h) for h in PARKING_SERVICES) + r")\b", re.I)
#: Google's AdSense for domains script: served only on parked pages
_AFD_RE = re.compile(r"(?:syndicatedsearch\.goog|google\.com)/adsense/domains/caf\.js", re.I)
_SEARCHES_RE = re.compile(r"related\s+searches|sponsored\s+listings", re.I)


@dataclass(slots=True)
class Parking:
    """Signs that a page is a parking page, each with the words a maintainer reads."""

    says: str | None = None  # a title, heading or sentence that offers the domain
    service: str | None = None  # a parking service or marketplace the page loads or links
    searches: bool = False  # a "related searches" / "sponsored listings" block

    @property
    def count(self) -> int:
        return (self.says is not None) + (self.service is not None) + self.searches

    def evidence(self, corroboration: str | None = None) -> str:
        parts = []
        if self.says:
            parts.append(f"the page says {self.says!r}")
        if self.service:
            parts.append(f"it uses the parking service {self.service}")
        if self.searches:
            parts.append("it shows a 'related searches' block")
        if corroboration:
            parts.append(corroboration)
        return "the domain is parked (" + "; ".join(parts) + ")"


def parking_signs(info: PageInfo, text: str | None = None, final_url: str | None = None,
                  redirected: bool = False) -> Parking | None:
    """The parking signs of a page (cheap: title, heading and the first 32 KB), else None.

    ``text`` (the visible text) adds a sentence offering the domain; ``final_url``, reached by a
    redirect, counts when it is a marketplace's page."""
    if not info.is_html:
        return None
    found = Parking()
    for candidate in (info.title, *(TITLE_SEPARATORS.split(info.title) if info.title else ()), info.h1):
        phrase = norm_phrase(candidate) if candidate else ""
        if phrase and len(phrase) <= 140 and _PARKED_TITLE.fullmatch(phrase):
            found.says = candidate.strip()
            break
    if found.says is None and text:
        body = text.replace(info.title, " ", 1) if info.title else text
        if m := _PARKED_TEXT.search(body):
            found.says = m.group(0)
    if m := _SERVICE_RE.search(info.head):
        found.service = m.group(1).lower()
    elif _AFD_RE.search(info.head):
        found.service = "Google AdSense for domains (caf.js)"
    elif redirected and final_url and on_parking_service(final_url):
        found.service = (urlsplit(final_url).hostname or "").lower().removeprefix("www.")
    found.searches = _SEARCHES_RE.search(info.head) is not None
    return found if found.count else None


def on_parking_service(url: str) -> bool:
    """A URL on a parking service or marketplace itself: a cited listing there is the cited page."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return any(host == service or host.endswith("." + service) for service in PARKING_SERVICES)


def thin_text(text: str) -> bool:
    return len(WORD_RE.findall(text)) <= PARKED_MAX_WORDS


def parked_page(info: PageInfo, text: str, final_url: str | None = None, redirected: bool = False) -> str | None:
    """Evidence that a page is a parked domain's page from its content alone, else None.

    Needs a thin page with two different signs, one of them an offer of the domain in the title
    or heading or a parking service: an article that mentions "buy this domain" has neither."""
    signs = parking_signs(info, text, final_url, redirected)
    if signs is None or signs.count < 2 or not thin_text(text):
        return None
    title_offer = signs.says is not None and signs.says in (info.title.strip(), info.h1.strip(),
                                                             *(x.strip() for x in TITLE_SEPARATORS.split(info.title)))
    if not (title_offer or signs.service):
        return None
    return signs.evidence()


def same_page_as_probe(title: str, text: str, probe: Probe) -> bool:
    """The probe (a random path) answered the very same page: same title, or near-identical text."""
    if not probe.answers_2xx or probe.text is None:
        return False
    if title and norm_phrase(title).lower() == norm_phrase(probe.title).lower():
        return True
    drop = url_words(probe.url, probe.final_url or "")
    a, b = words(text, drop), words(probe.text, drop)
    return bool(a) and similarity(a, b) >= 0.9
