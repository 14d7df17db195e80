"""Verification: a candidate becomes a replacement only when every check holds (precision before recall).

A candidate passes when (1) it answers 2xx through the checker's own verdict rules and politeness (a soft-404,
a redirect to a home page, a block fail); (2) its page title matches the cited title as a WHOLE ("Follow-up:
<title>" and "What we know about <title>" are other articles); and (3) at least one more independent signal
agrees: the page's published date is the cited date (±1 day), its text matches the stored text of the cited
page, its canonical link names it, or an archived redirect of the cited URL named it. When two different
candidates pass, none is chosen (:func:`choose` says why).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Protocol
from urllib.parse import urlsplit

from ..models import CheckResult, LinkStatus
from .candidate import Candidate
from .titles import TITLE_MAX_EDIT, title_edit

_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_OG_TITLE = re.compile(r"""<meta[^>]+property=["']og:title["'][^>]*content=["']([^"']*)["']""", re.I)
_DATES = (re.compile(r"""article:published_time["'][^>]*content=["'](\d{4}-\d{2}-\d{2})""", re.I),
          re.compile(r""""datePublished"\s*:\s*"(\d{4}-\d{2}-\d{2})"""),
          re.compile(r"""<time[^>]*datetime=["'](\d{4}-\d{2}-\d{2})""", re.I))
_CANONICAL = re.compile(r"""<link[^>]+rel=["']canonical["'][^>]*href=["']([^"']+)["']""", re.I)
_TAGS = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<[^>]*>", re.I | re.S)
_WORD = re.compile(r"\w+", re.UNICODE)
#: separators of a site suffix ("Title | Outlet", "Title - Outlet", "Title — Outlet")
_SUFFIX = re.compile(r"\s+[|\-–—·:]\s+(?P<tail>[^|\-–—·]{1,60})$")
#: a page's text matches the cited page's stored text at this word similarity
TEXT_SIMILARITY = 0.8


class Checks(Protocol):
    """What verification needs of the liveness checker: one check with the night's politeness."""

    async def check(self, link: str) -> CheckResult: ...


@dataclass(frozen=True, slots=True)
class Cited:
    """What the timeline says about the dead link: its titles and dates, and the stored text of its page."""

    url: str
    normalized_url: str
    titles: tuple[str, ...]
    dates: tuple[str, ...] = ()
    text: str | None = None


@dataclass(slots=True)
class Verdict:
    """One candidate's verification: whether it passed, the address to cite, and the sentence saying why."""

    candidate: Candidate
    ok: bool
    reason: str
    url: str = ""
    similarity: float = 0.0
    signals: list[str] = field(default_factory=list)
    #: requests the check made (its redirects and the answer)
    requests: int = 0

    @property
    def evidence(self) -> str:
        """One sentence a maintainer can check: how it was found and what agrees."""
        return (f"{self.candidate.evidence.rstrip('.')}; the page answers 2xx with the cited title "
                f"(similarity {self.similarity:.2f}) and {' and '.join(self.signals)}.")


def words(text: str) -> list[str]:
    return _WORD.findall(html.unescape(text).casefold().replace("_", " "))


def title_variants(title: str) -> list[list[str]]:
    """The title's words, and without a trailing site suffix (" | Outlet", " - Outlet")."""
    title = " ".join(html.unescape(title).split())
    out = [words(title)]
    m = _SUFFIX.search(title)
    if m and len(words(m["tail"])) <= 5:
        out.append(words(title[: m.start()]))
    return [w for w in out if w]


def title_similarity(cited: str, page: str) -> float:
    """Whole-title similarity (0-1): case, punctuation and a site suffix ignored. Titles that differ by more
    than a typo (:data:`~archiver.relocate.titles.TITLE_MAX_EDIT` characters, the sitemap matching's rule)
    score at most 0.5, so another article whose title contains the cited one ("Follow-up: <title>",
    "Update: <title>") never passes."""
    best = 0.0
    for a in title_variants(cited):
        for b in title_variants(page):
            ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
            if title_edit(" ".join(a), " ".join(b))[1] > TITLE_MAX_EDIT:  # a word added or changed: another headline
                ratio = min(ratio, 0.5)
            best = max(best, ratio)
    return round(best, 3)


def page_title(body: str) -> str | None:
    m = _OG_TITLE.search(body) or _TITLE.search(body)
    return " ".join(html.unescape(m[1]).split()) if m else None


def page_date(body: str) -> str | None:
    for pattern in _DATES:
        m = pattern.search(body)
        if m:
            return m[1]
    return None


def canonical(body: str) -> str | None:
    m = _CANONICAL.search(body)
    return html.unescape(m[1]).strip() if m else None


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def dates_agree(page: str | None, cited: Sequence[str]) -> bool:
    day = _day(page) if page else None
    return day is not None and any((d := _day(c)) is not None and abs((d - day).days) <= 1 for c in cited)


def same_address(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return ((pa.hostname or "").removeprefix("www."), pa.path.rstrip("/"), pa.query) == (
        (pb.hostname or "").removeprefix("www."), pb.path.rstrip("/"), pb.query)


def text_agrees(page: str, stored: str | None) -> bool:
    if not stored:
        return False
    a, b = words(_TAGS.sub(" ", page))[:3000], words(stored)[:3000]
    return bool(a and b) and SequenceMatcher(None, a, b, autojunk=False).quick_ratio() >= TEXT_SIMILARITY and \
        SequenceMatcher(None, a, b, autojunk=False).ratio() >= TEXT_SIMILARITY


def signals(candidate: Candidate, cited: Cited, url: str, body: str) -> list[str]:
    """The independent signals that agree, each as a phrase of the evidence sentence."""
    out: list[str] = []
    date = page_date(body)
    if dates_agree(date, cited.dates):
        out.append(f"its published date {date} matches the citation's")
    if text_agrees(body, cited.text):
        out.append("its text matches the stored text of the cited page")
    link = canonical(body)
    if link and same_address(link, url):
        out.append("its canonical link names it")
    if candidate.from_redirect:
        out.append("an archived redirect of the cited URL points to it")
    return out


def _alive_reason(result: CheckResult) -> str | None:
    """Why the candidate's check does not count as a live article, None when it does."""
    if result.status != LinkStatus.ALIVE:
        return f"it is {result.status.value} ({result.evidence or result.error or result.http_status})"
    final = result.final_url or result.url
    if urlsplit(final).path.strip("/") == "":
        return "it redirects to the site's home page"
    if result.body is None:
        return "its page could not be read"
    return None


async def verify(candidate: Candidate, cited: Cited, checker: Checks, *, min_similarity: float) -> Verdict:
    """Check ``candidate`` live and compare its page with what the timeline cites."""
    result = await checker.check(candidate.url)
    requests = len(result.redirects) + 1
    problem = _alive_reason(result)
    if problem is not None:
        return Verdict(candidate, False, f"{candidate.url} fails: {problem}", requests=requests)
    url = result.moved_to or result.final_url or candidate.url
    body = (result.body or b"").decode("utf-8", "replace")
    title = page_title(body) or ""
    similarity = max((title_similarity(t, title) for t in cited.titles), default=0.0)
    if similarity < min_similarity:
        return Verdict(candidate, False, f"{url} fails: its title \"{title[:120]}\" is not the cited title "
                       f"(similarity {similarity:.2f})", url=url, similarity=similarity, requests=requests)
    agree = signals(candidate, cited, url, body)
    if not agree:
        return Verdict(candidate, False, f"{url} fails: its title matches but no date, text, canonical link or "
                       "archived redirect agrees", url=url, similarity=similarity, requests=requests)
    return Verdict(candidate, True, "", url=url, similarity=similarity, signals=agree, requests=requests)


def choose(verdicts: Sequence[Verdict]) -> tuple[Verdict | None, str]:
    """The one passing verdict, or None and why (none passed; two different addresses passed)."""
    passed: dict[str, Verdict] = {}
    for v in verdicts:
        if v.ok:
            passed.setdefault(urlsplit(v.url)._replace(fragment="").geturl().rstrip("/"), v)
    if len(passed) == 1:
        return next(iter(passed.values())), ""
    if len(passed) > 1:
        urls = sorted(passed)
        return None, (f"no replacement: {len(urls)} different candidates pass ({', '.join(urls[:3])}); "
                      "a wrong replacement is worse than none")
    reasons = "; ".join(v.reason for v in verdicts[:3])
    return None, f"no replacement: {reasons}" if reasons else "no replacement: no candidate found"
