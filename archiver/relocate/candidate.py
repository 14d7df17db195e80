"""A candidate new address for a dead link, and how it was found (the shared contract's ``method``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Method(StrEnum):
    """How a candidate was found (``links[].replacement.method``), cheapest first."""

    #: an archived 3xx capture of the cited URL (Wayback CDX, another archive's TimeMap): its Location
    ARCHIVE_REDIRECT = "archive_redirect"
    #: the site's rewrite pattern, learned from pairs of old and new addresses on the same host
    SITE_PATTERN = "site_pattern"
    #: an entry of the site's sitemaps (slug or news:title matching the citation)
    SITEMAP = "sitemap"
    #: an entry of the site's RSS or Atom feed
    FEED = "feed"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible new address of ``old``: where it came from and the one sentence a maintainer can check."""

    old: str
    url: str
    method: Method
    #: one sentence: how the candidate was found ("the Wayback Machine holds a 301 of the cited URL to ...")
    evidence: str
    #: the title the source gave for it (a sitemap's news:title, a feed item's title), when it gave one
    title: str | None = None
    #: True when an archived redirect of this very URL names it (an independent signal for verification)
    from_redirect: bool = False


@dataclass(frozen=True, slots=True)
class Pair:
    """An old address and the new one it became, on the same site: what the rewrite pattern is learned from
    (a cited link that still redirects, an archived redirect of another page, a confirmed replacement)."""

    old: str
    new: str
    #: where the pair was seen (moved, archive_redirect, replacement)
    source: str
