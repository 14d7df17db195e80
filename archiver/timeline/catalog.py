"""The link catalog: distinct source URLs across all events, with their citations.

URLs are kept exactly as cited (for reports) and deduplicated on a canonical
form computed by courlan (trafilatura's own URL library: lower-case scheme and
host, default port dropped, path normalised, tracking parameters such as
``utm_*``, ``fbclid`` and ``gclid`` dropped) plus dropping the fragment.
Registrable domains come from the Public Suffix List snapshot bundled with
publicsuffixlist (ICANN section), never fetched over the network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url
from publicsuffixlist import PublicSuffixList

from ..models import Citation, Event, Finding, FindingKind, Link, Severity


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List bundled with publicsuffixlist (its ICANN section: the registrable domain
    of a blog on a hosting service is the service's), read once, when a domain is first asked for."""
    return PublicSuffixList(only_icann=True)


#: RFC 2606 / RFC 6761 names reserved for documentation: a citation of them is a placeholder.
PLACEHOLDER_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
PLACEHOLDER_SUFFIXES = (".example", ".test", ".localhost")
_PLACEHOLDER_ENDINGS = (*(f".{d}" for d in sorted(PLACEHOLDER_DOMAINS)), *PLACEHOLDER_SUFFIXES)
_SCHEME = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SPACE = re.compile(r"\s")

_ARCHIVE_RE = re.compile(
    r"^https?://(?:web\.|wayback\.|www\.)?archive\.org/web/"
    r"(?P<ts>\d{1,14}\*?|\*)(?P<flag>[a-z]{2}_)?/+(?P<original>.+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ArchiveRef:
    """A parsed ``web.archive.org/web/<timestamp>/<original>`` URL."""

    url: str
    timestamp: str | None  # None for a calendar link ('/web/*/', '/web/2020*/')
    original: str


def parse_archive_url(url: str) -> ArchiveRef | None:
    """Recognise a Wayback Machine capture URL and return its parts."""
    m = _ARCHIVE_RE.match(url.strip())
    if not m:
        return None
    original = m.group("original")
    if not re.match(r"^[a-z][a-z0-9+.-]*:", original, re.IGNORECASE):
        original = "http://" + original
    # '/web/2020/https:/x.com' (a collapsed double slash) is common in copied links
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original, flags=re.IGNORECASE)
    ts = m.group("ts")
    # '/web/*/' and '/web/2020*/' are calendar (search) pages, not one capture
    return ArchiveRef(url=url.strip(), timestamp=None if ts.endswith("*") else ts, original=original)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be checked, or None when it is a checkable http(s) URL."""
    if not _SCHEME.match(url) and _SPACE.search(url):
        return f"{url!r} is not a URL (no http:// or https://)"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        if not parts.scheme:
            return f"{url!r} is not a URL (no http:// or https://)"
        return f"{url!r} is not an http(s) URL (scheme {parts.scheme!r})"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return f"{url!r} has no host name"
    if _SPACE.search(host):
        return f"{url!r} has spaces in its host name"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return f"{url!r} has an invalid port"
    if _is_ip(host):
        return None
    if "." not in host and host != "localhost":
        return f"{url!r} has no domain (host {host!r})"
    lowered = host.lower()
    if lowered in PLACEHOLDER_DOMAINS or lowered.endswith(_PLACEHOLDER_ENDINGS):
        return f"{url!r} is a placeholder (reserved example domain), not a real source"
    return None


_MAYBE_IP = re.compile(r"^\[?[0-9a-fA-F:.]+\]?$")


def _is_ip(host: str) -> bool:
    if not _MAYBE_IP.match(host):  # most hosts are names: skip the (exception-raising) parse
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def canonical_url(url: str) -> str:
    """The dedupe key: courlan-normalised, tracking parameters and fragment dropped."""
    try:
        normalized = normalize_url(url.strip(), strict=False)
    except (ValueError, AttributeError):
        return url.strip()
    parts = urlsplit(normalized)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


@lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """``www.bbc.co.uk`` -> ``bbc.co.uk`` (offline Public Suffix List); IPs and bare names as is."""
    host = host.lower().rstrip(".")
    if not host or _is_ip(host):
        return host
    return _suffixes().privatesuffix(host) or host


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


@dataclass(slots=True)
class Catalog:
    links: list[Link] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    citations: int = 0

    def by_url(self) -> dict[str, Link]:
        return {link.normalized_url: link for link in self.links}

    @property
    def checkable(self) -> list[Link]:
        return [link for link in self.links if link.checkable]


def build_catalog(events: Iterable[Event]) -> Catalog:
    """Distinct links across ``events`` with every citation of each."""
    catalog = Catalog()
    index: dict[str, Link] = {}
    for event in events:
        for source in event.sources:
            if source.url is None:
                continue  # reported by the loader as missing_url
            catalog.citations += 1
            cited = source.url
            archive_urls: list[str] = []
            ref = parse_archive_url(cited)
            if ref is not None:
                archive_urls.append(ref.url)
                cited = ref.original
            if source.archive_url:
                archive_urls.append(source.archive_url)
            citation = Citation(event=event.id, file=event.file, source_index=source.index, line=source.line,
                                date=source.date or event.date)
            problem = url_problem(cited)
            key = cited.strip() if problem else canonical_url(cited)
            link = index.get(key)
            if link is None:
                host = "" if problem else host_of(cited)
                link = Link(url=cited.strip(), normalized_url=key, invalid_reason=problem, host=host,
                            domain=registrable_domain(host) if host else "")
                index[key] = link
                catalog.links.append(link)
            link.citations.append(citation)
            for archive_url in archive_urls:
                if archive_url not in link.archive_urls:
                    link.archive_urls.append(archive_url)
            if problem:
                catalog.findings.append(Finding(
                    kind=FindingKind.INVALID_URL, severity=Severity.ERROR, message=f"source {source.index}: {problem}",
                    file=event.file, line=source.line, event=event.id, source_index=source.index,
                    url=source.url, actual=source.url, expected="an http(s) URL of the cited page"))
    return catalog
