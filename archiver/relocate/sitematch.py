"""Method 3's matching: the sitemap and feed entries that may be the cited page at its new address.

An entry is a candidate when its slug (the last path segment, a ``.html``-like suffix dropped) is the cited
URL's slug, or nearly (:data:`SLUG_SIMILARITY`, long slugs only), or when its title is the cited title as a
whole (:func:`archiver.relocate.titles.title_matches`, the rule verification applies to the page's title
too), so "Follow-up: <title>" or "<title>, one year on" is another article, not this one. Never a substring
test.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher
from urllib.parse import unquote, urlsplit

from archiver.relocate.candidate import Candidate, Method
from archiver.relocate.pattern import SUFFIXES
from archiver.relocate.sitemaps import Entry
from archiver.relocate.titles import normal_title, title_matches

__all__ = ["match", "normal_title", "slug", "title_matches"]

#: a slug shorter than this matches only exactly (``index``, ``story``, a short id say nothing alone: never)
MIN_SLUG = 6
#: slugs this long may match nearly (a typo fixed, a word's ending changed)
MIN_NEAR_SLUG = 16
#: the similarity (difflib's ratio) of a near slug
SLUG_SIMILARITY = 0.92
def slug(url: str) -> str:
    """The last path segment of ``url``, decoded, lower case, a ``.html``-like suffix dropped ('' if none)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    last = next((s for s in reversed(path.split("/")) if s), "")
    last = unquote(last).lower()
    suffix = next((s for s in SUFFIXES if last.endswith(s) and len(last) > len(s)), "")
    return last[: len(last) - len(suffix)]


def slug_matches(cited: str, listed: str) -> bool:
    if len(cited) < MIN_SLUG or not listed:
        return False
    if cited == listed:
        return True
    if len(cited) < MIN_NEAR_SLUG:
        return False
    return SequenceMatcher(None, cited, listed, autojunk=False).ratio() >= SLUG_SIMILARITY


def _where(entry: Entry) -> str:
    return f"the sitemap {entry.document}" if entry.source is Method.SITEMAP else f"the feed {entry.document}"


def _evidence(entry: Entry, by_slug: bool, by_title: bool, old_slug: str) -> str:
    reasons = []
    if by_slug:
        exact = slug(entry.url) == old_slug
        reasons.append(f"the {'same' if exact else 'nearly the same'} slug ({old_slug!r})")
    if by_title:
        field = "news:title" if entry.source is Method.SITEMAP else "title"
        reasons.append(f"the cited title as its {field}")
    return f"{_where(entry)} lists {entry.url} with " + " and ".join(reasons)


def match(entries: Iterable[Entry], old_url: str, cited_title: str | None) -> list[Candidate]:
    """The entries that may be ``old_url`` moved: by slug or by the whole title, those matching both first."""
    old_slug, cited = slug(old_url), normal_title(cited_title)
    scored: list[tuple[int, int, Candidate]] = []
    seen = {old_url}
    for i, entry in enumerate(entries):
        if entry.url in seen:
            continue
        by_slug = slug_matches(old_slug, slug(entry.url))
        by_title = bool(cited) and title_matches(cited, normal_title(entry.title))
        if by_slug or by_title:
            seen.add(entry.url)
            candidate = Candidate(old_url, entry.url, entry.source, _evidence(entry, by_slug, by_title, old_slug),
                                  title=entry.title)
            scored.append((-(by_slug + by_title), i, candidate))
    return [c for *_, c in sorted(scored, key=lambda s: (s[0], s[1]))]
