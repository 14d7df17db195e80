"""Citation audit: does each citation say who published the page, and how reliable it is?

:func:`audit` is a pure function of the loaded events, the link catalog, the
publisher registry (:mod:`archiver.audit.registry`) and, when snapshots exist, what
each page says about itself (:class:`~archiver.models.PageMeta`). It returns
findings, each with the event, file, line and index of the source, what the
registry or the page expected, what the citation says, and a ``fix`` line a
maintainer can paste into the frontmatter.

Finding kinds and severities:

========================  ========  =====================================================
kind                      severity  when
========================  ========  =====================================================
``publisher_mismatch``    warning   the cited publisher is not the outlet of the URL's
                                    domain, or the page's own site name names another
                                    outlet (syndicated copy, wrong attribution), or it
                                    is a known outlet of another domain, even on an
                                    unknown one (info for a wire service's name)
``tier_mismatch``         warning   the cited tier differs from the registry's
``unknown_publisher``     info      the URL's domain is not in the registry
``missing_field``         warning   no publisher, tier, title or date
``title_mismatch``        warning   cited title and the page's title share too few words
``date_mismatch``         info      cited date and the page's date differ by more than
                                    ``date_tolerance_days``
``archive_mismatch``      error     ``archive_url`` is a capture of another page
========================  ========  =====================================================

:func:`planned_fills` and :func:`archiver.timeline.edit.apply_fills` are ``archiver audit
--write``: publisher and tier filled from the registry where a citation has none, one
minimal edit per field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from ..models import FINDING_SEVERITY, Event, Finding, FindingKind, Link, PageMeta, Severity, Source
from ..timeline.catalog import Catalog, canonical_url, parse_archive_url
from ..timeline.edit import Fills
from .names import name_tokens, name_variants, names_match, primary_name
from .registry import MEDIA_KINDS, Match, Publisher, Registry

if TYPE_CHECKING:
    from ..options import AuditOptions

#: A cited title and the page's title disagree when they share fewer than a third of
#: the shorter one's content words (site-name suffixes and stop words dropped). Chosen
#: on tests/data/title_pairs.tsv and the corpus (benchmarks/audit_corpus.py, docs/verdicts.md).
TITLE_THRESHOLD = 1 / 3
DEFAULT_DATE_TOLERANCE_DAYS = 3.0


# --------------------------------------------------------------------------- titles

_STOP = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "but", "as", "is",
    "are", "was", "were", "be", "been", "its", "it", "his", "her", "their", "this", "that", "these", "those",
    "into", "over", "after", "before", "about", "amid", "than", "vs", "v", "via", "how", "why", "what", "who",
    "when", "where", "new", "says", "said",
})
_TITLE_SPLIT = re.compile(r"\s+[|–—:-]\s+|\s+\|\s*|\s*\|\s+|\s+::\s+")


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def strip_site_name(title: str, site_names: Iterable[str] = ()) -> str:
    """``"Headline - The New York Times"`` -> ``"Headline"`` when the suffix (or prefix) names the site."""
    names = [n for n in site_names if n]
    parts = [p for p in _TITLE_SPLIT.split(title.strip()) if p.strip()]

    def names_site(part: str) -> bool:
        variants = name_variants(part)
        return any(variants & name_variants(n) for n in names)

    while len(parts) > 1 and names_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and names_site(parts[0]):
        parts.pop(0)
    return " ".join(parts)


def title_words(title: str, site_names: Iterable[str] = ()) -> frozenset[str]:
    """The content words of a title, site name stripped, lightly stemmed."""
    return frozenset(_stem(t) for t in name_tokens(strip_site_name(title, site_names)) if t not in _STOP)


def title_similarity(cited: str, page: str, site_names: Iterable[str] = ()) -> float | None:
    """Shared content words / content words of the shorter title (0..1); None when either has none.

    Tolerant of site suffixes (``| Reuters``), a subtitle added or dropped, case,
    punctuation and plurals; low for a different article.
    """
    names = list(site_names)
    a, b = title_words(cited, names), title_words(page, names)
    if not a or not b:
        return None
    return len(a & b) / min(len(a), len(b))


# --------------------------------------------------------------------------- dates and URLs

_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_day(value: str | None) -> dt.date | None:
    """A full ``YYYY-MM-DD`` date (a time may follow); None for partial or other formats."""
    if not value:
        return None
    m = _ISO_DATE.match(value)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def archived_original(archive_url: str) -> tuple[str | None, str] | None:
    """``(timestamp, original URL)`` of a Wayback URL (timestamp None for ``/web/<ts>*/`` search links)."""
    ref = parse_archive_url(archive_url)
    return (ref.timestamp, ref.original) if ref is not None else None


def same_page(a: str, b: str) -> bool:
    """Same page up to scheme, ``www.``, a trailing slash and tracking parameters."""

    def key(url: str) -> str:
        parts = urlsplit(canonical_url(url))
        host = parts.netloc.lower().removeprefix("www.")
        return f"{host}{parts.path.rstrip('/')}?{parts.query}"

    return key(a) == key(b)


# --------------------------------------------------------------------------- the audit


@dataclass(slots=True)
class _Ctx:
    event: Event
    source: Source
    link: Link | None
    match: Match | None
    page: PageMeta | None
    out: list[Finding]

    # more than 5 arguments (PLR0913): keyword-only, the optional fields of the one Finding it adds
    def add(self, kind: FindingKind, message: str, *, expected: object = None,  # noqa: PLR0913
            actual: object = None, fix: str | None = None, severity: Severity | None = None) -> None:
        self.out.append(Finding(
            kind=kind, severity=severity or FINDING_SEVERITY[kind], message=f"source {self.source.index}: {message}",
            file=self.event.file, line=self.source.line, event=self.event.id, source_index=self.source.index,
            url=self.source.url, expected=expected, actual=actual, fix=fix))


def _where(match: Match) -> str:
    return f"{match.entry.label} ({match.host})" if match.entry.name else match.host


def _publisher_key(source: Source) -> str:
    return source.publisher_key or "publisher"


def _tier_text(registry: Registry, tier: int) -> str:
    meaning = registry.tier_meaning(tier)
    label = meaning.split(":")[0]
    return f"tier {tier}" + (f" ({label[:1].lower()}{label[1:]})" if label else "")


def tier_entry(registry: Registry, match: Match, publisher: str | None) -> Publisher:
    """The entry whose tier a citation should have: the URL's, or, for a wire story the site
    carries (``syndicates``) cited under the wire's name ("Reuters", "Reuters via Yahoo"),
    the wire's when the registry knows it."""
    entry = match.entry
    if publisher and entry.syndicates:
        for name in entry.syndicates:
            if names_match(publisher, [name]):
                for candidate in registry.by_name(name):
                    if candidate.tier is not None:
                        return candidate
    return entry


def _check_publisher(ctx: _Ctx, registry: Registry) -> None:
    """publisher_mismatch from the URL's domain, then from the page's site name."""
    match = ctx.match
    cited = ctx.source.publisher
    if not cited:
        return
    entry = match.entry if match is not None else None
    own = syndicated = False
    if match is not None and entry is not None and not entry.platform:  # (entry is match.entry)
        own = names_match(cited, entry.names)
        syndicated = bool(not own and entry.syndicates and names_match(cited, entry.syndicates))
        if not own and not syndicated:
            _domain_mismatch(ctx, registry, cited, match)
            return
    if match is None and _unknown_domain_mismatch(ctx, registry, cited):
        return
    _check_site_name(ctx, registry, cited, "own" if own else "syndicated" if syndicated else None)


def _domain_mismatch(ctx: _Ctx, registry: Registry, cited: str, match: Match) -> None:
    """The cited publisher is neither the outlet of the URL's domain nor a wire it carries."""
    entry, key = match.entry, _publisher_key(ctx.source)
    others = [e for e in registry.by_name(cited) if e is not entry]
    if entry.umbrella:
        # many bodies publish here: only the name of a news outlet is surely wrong
        media = [e for e in others if e.kind in MEDIA_KINDS]
        if media:
            ctx.add(FindingKind.PUBLISHER_MISMATCH,
                    f"publisher '{cited}' is the news outlet {media[0].label} ({media[0].key}), but the "
                    f"URL is on {_where(match)}",
                    expected=match.fill_name or entry.name, actual=cited,
                    fix=f"{key}: {match.fill_name or 'the body that published the page'}")
        return
    elsewhere = [e for e in registry.outlets_named(cited) if not registry.same_outlet(e, entry)]
    if elsewhere:
        ctx.add(FindingKind.PUBLISHER_MISMATCH,
                f"publisher '{cited}': {_elsewhere(registry, elsewhere[0], match)}",
                expected=entry.name, actual=cited, fix=f"{key}: {entry.name}",
                severity=_copy_severity(elsewhere[0], entry))
        return
    also = f"; '{primary_name(cited)}' is {others[0].label} ({others[0].key})" if others else ""
    ctx.add(FindingKind.PUBLISHER_MISMATCH,
            f"publisher '{cited}' is not {entry.label}, the outlet of {match.host}{also}",
            expected=entry.name, actual=cited, fix=f"{key}: {entry.name}")


def _unknown_domain_mismatch(ctx: _Ctx, registry: Registry, cited: str) -> bool:
    """A known outlet cited for a page of a domain the registry does not know; True when flagged."""
    link, page = ctx.link, ctx.page
    if link is None or not link.checkable or not link.host:
        return False
    elsewhere = registry.outlets_named(cited)
    site = page.site_name.strip() if page is not None and page.site_name else None
    if not elsewhere or (site and names_match(site, elsewhere[0].names)):
        # (when the page's own site name is that outlet, this is the outlet's other domain: only
        # unknown_publisher then)
        return False
    key = _publisher_key(ctx.source)
    site_owner = registry.outlets_named(site) if site else []
    fix = (f"{key}: {site}" if site and not site_owner
           else f"cite {primary_name(cited)}'s own page on {elsewhere[0].key}, or name the site that "
                "published this copy")
    reason = _elsewhere(registry, elsewhere[0], ctx.match, link.domain or link.host)
    ctx.add(FindingKind.PUBLISHER_MISMATCH,
            f"publisher '{cited}': {reason}" + (f" (the page calls itself '{site}')" if site else ""),
            expected=site, actual=cited, fix=fix, severity=_copy_severity(elsewhere[0], None))
    return True


#: how the cited publisher stands to the URL's domain: its outlet, a wire it carries, or neither (or unknown)
_Standing = Literal["own", "syndicated"] | None


def _check_site_name(ctx: _Ctx, registry: Registry, cited: str, standing: _Standing) -> None:
    """publisher_mismatch from the page's site name (none on a platform's or an umbrella's page)."""
    page = ctx.page
    entry = ctx.match.entry if ctx.match is not None else None
    if page is None or not page.site_name or (entry is not None and (entry.platform or entry.umbrella)):
        return
    site = page.site_name.strip()
    if names_match(cited, [site]):
        return
    if entry is not None and names_match(site, entry.names):
        site_entry: Publisher | None = entry
    else:
        found = registry.by_name(site)
        site_entry = found[0] if found else None
    if site_entry is not None and names_match(cited, site_entry.names):
        return
    site_label = site_entry.name if site_entry is not None and site_entry.name else site
    called = _site_name_reason(cited, site, site_entry, entry, standing)
    if called is None:
        return
    reason, fixed = called
    ctx.add(FindingKind.PUBLISHER_MISMATCH, f"publisher '{cited}': {reason}", expected=site_label, actual=cited,
            fix=f"{_publisher_key(ctx.source)}: {fixed or site_label}")


def _site_name_reason(cited: str, site: str, site_entry: Publisher | None, entry: Publisher | None,
                      standing: _Standing) -> tuple[str, str | None] | None:
    """Why a site name other than the cited publisher is a mismatch, and the fixed publisher when it is not
    the site's label; None when it is not worth a finding."""
    if standing == "own" and entry is not None:
        # the citation names the domain's outlet: only a page naming another known outlet outweighs that
        if site_entry is None or site_entry is entry:
            return None
        return f"the page's site name is '{site}' ({site_entry.label}), not {entry.label}", None
    if standing == "syndicated":
        if site_entry is not None and site_entry is not entry:
            return None  # the page names a third outlet: too odd to call
        site_label = site_entry.name if site_entry is not None and site_entry.name else site
        return (f"the page is a syndicated copy (its site name is '{site}'): cite {primary_name(cited)}'s own "
                "URL, or name both"), f"{primary_name(cited)} via {site_label}"
    # a domain the registry does not know: flag only when a known outlet is involved
    if site_entry is None:
        return None  # (a cited known outlet was flagged from the domain above)
    return f"the page's site name is '{site}'", None


def _elsewhere(registry: Registry, outlet: Publisher, match: Match | None, domain: str | None = None) -> str:
    """"Reuters publishes on reuters.com; this page is on breitbart.com: a syndicated copy, or the wrong publisher"."""
    where = domain or (match.domain if match is not None else "")
    if match is not None and match.entry.name and match.entry.name != where:
        where += f" ({match.entry.name})"
    return (f"{outlet.label} publishes on {registry.primary(outlet).key}; this page is on {where}: "
            "a syndicated copy, or the wrong publisher")


def _copy_severity(outlet: Publisher, host: Publisher | None) -> Severity | None:
    """A wire service's name on a newsroom's or an unknown site's page is most often its wire copy: a hint."""
    if outlet.kind == "wire" and (host is None or host.kind in MEDIA_KINDS):
        return Severity.INFO
    return None


def _check_tier(ctx: _Ctx, registry: Registry) -> None:
    source, match = ctx.source, ctx.match
    if source.tier is None or match is None:
        return
    entry = tier_entry(registry, match, source.publisher)
    if entry.tier is None or entry.tier == source.tier:
        return
    whose = f"{entry.label} ({entry.key})" if entry is not match.entry else _where(match)
    ctx.add(FindingKind.TIER_MISMATCH,
            f"tier {source.tier} for {whose}; the registry says {_tier_text(registry, entry.tier)}",
            expected=entry.tier, actual=source.tier, fix=f"tier: {entry.tier}")


#: a title that is only a domain name or a URL ("cnn.com"): the editor never filled it in
_PLACEHOLDER_TITLE = re.compile(r"^\s*(https?://)?([\w-]+\.)+[a-z]{2,}(/\S*)?\s*$", re.IGNORECASE)


def _check_missing(ctx: _Ctx, registry: Registry) -> None:
    source, match, page = ctx.source, ctx.match, ctx.page
    if not source.publisher:
        name = match.fill_name if match is not None else None
        if name is None and page is not None and page.site_name and (match is None or not match.entry.platform):
            name = page.site_name.strip()
        ctx.add(FindingKind.MISSING_FIELD, "no publisher", expected=name, actual=None,
                fix=f"publisher: {name}" if name else "add the publisher")
    if source.tier is None:
        tier = tier_entry(registry, match, source.publisher).tier if match is not None else None
        ctx.add(FindingKind.MISSING_FIELD, "no tier", expected=tier, actual=None,
                fix=f"tier: {tier}" if tier else "add a tier (1, 2 or 3)")
    if not source.title or _PLACEHOLDER_TITLE.match(source.title):
        title = page.title if page is not None and page.title else None
        message = f"no title: '{source.title}' is a placeholder (a domain name or URL)" if source.title else "no title"
        ctx.add(FindingKind.MISSING_FIELD, message, expected=title, actual=source.title,
                fix=f"title: {title}" if title else "add the page's title")
    if not source.date:
        date = page.date if page is not None and page.date else None
        ctx.add(FindingKind.MISSING_FIELD, "no date", expected=date, actual=None,
                fix=f"date: {date}" if date else "add the publication date")


def _check_unknown(ctx: _Ctx, registry: Registry) -> None:
    """A domain the registry does not know; the fix never registers it under a name another domain owns."""
    link = ctx.link
    if ctx.match is not None or link is None or not link.checkable or not link.host:
        return
    domain = link.domain or link.host
    suggestion = ctx.page.site_name.strip() if ctx.page is not None and ctx.page.site_name else None
    tier = f", tier: {ctx.source.tier}" if ctx.source.tier else ""
    hint = f" (the page calls itself '{suggestion}')" if suggestion else ""
    fix = f"add {domain} to the registry under the name its own pages use"
    for name in (suggestion, ctx.source.publisher):
        if not name:
            continue
        owners = registry.outlets_named(name)
        if not owners:
            fix = f"add to the registry: {domain}: {{name: {name}{tier}}}"
            break
        if name == suggestion and names_match(suggestion, owners[0].names):
            # the page calls itself a known outlet: perhaps that outlet's other domain
            fix = (f"if {domain} is {owners[0].label}'s own other domain, add to the registry: "
                   f"{domain}: {{name: {owners[0].name}, alias_of: {owners[0].key}}}")
            break
    ctx.add(FindingKind.UNKNOWN_PUBLISHER, f"{domain} is not in the publisher registry{hint}",
            expected=suggestion, actual=ctx.source.publisher, fix=fix)


def _check_page(ctx: _Ctx, tolerance_days: float) -> None:
    page, source = ctx.page, ctx.source
    if page is None:
        return
    if page.title and source.title:
        names = [n for n in (page.site_name, source.publisher) if n]
        if ctx.match is not None:
            names.extend(ctx.match.entry.names)
        score = title_similarity(source.title, page.title, names)
        if score is not None and score < TITLE_THRESHOLD:
            ctx.add(FindingKind.TITLE_MISMATCH,
                    f"title '{source.title}' does not match the page's title '{page.title}' "
                    f"({score:.0%} of words shared)",
                    expected=page.title, actual=source.title, fix=f"title: {strip_site_name(page.title, names)}")
    cited_day, page_day = parse_day(source.date), parse_day(page.date)
    if cited_day and page_day:
        gap = abs((cited_day - page_day).days)
        if gap > tolerance_days:
            ctx.add(FindingKind.DATE_MISMATCH,
                    f"date {cited_day.isoformat()} is {gap} days from the page's publication date "
                    f"{page_day.isoformat()}",
                    expected=page_day.isoformat(), actual=source.date, fix=f"date: {page_day.isoformat()}")


def _check_archive(ctx: _Ctx) -> None:
    source, link = ctx.source, ctx.link
    if not source.archive_url or link is None or not link.checkable:
        return
    parsed = archived_original(source.archive_url)
    if parsed is None:
        return  # not a Wayback URL (archive.today short links name no original)
    timestamp, original = parsed
    if same_page(original, link.url):
        return
    path = urlsplit(original).path
    home = " (a home page)" if path in ("", "/") else ""
    ctx.add(FindingKind.ARCHIVE_MISMATCH,
            f"archive_url is a capture of {original}{home}, not of the cited {link.url}",
            expected=link.url, actual=original,
            fix=f"archive_url: https://web.archive.org/web/{timestamp or '*'}/{link.url} "
                "(check that a capture exists) or remove archive_url")


def _links_by_citation(catalog: Catalog) -> dict[tuple[str, int], Link]:
    """The catalog link of each (file, source index)."""
    return {(c.file, c.source_index): link for link in catalog.links for c in link.citations}


def audit(
    events: Iterable[Event],
    catalog: Catalog,
    registry: Registry,
    pages: Mapping[str, PageMeta] | None = None,
    options: AuditOptions | None = None,
) -> list[Finding]:
    """Audit every citation; ``pages`` maps a link's ``normalized_url`` to its snapshot's metadata."""
    tolerance = options.date_tolerance_days if options is not None else DEFAULT_DATE_TOLERANCE_DAYS
    by_citation = _links_by_citation(catalog)
    lookups: dict[str, Match | None] = {}
    out: list[Finding] = []
    for event in events:
        for source in event.sources:
            link = by_citation.get((event.file, source.index))
            match = None
            if link is not None and link.checkable and link.host:
                if link.host not in lookups:
                    lookups[link.host] = registry.lookup(link.host)
                match = lookups[link.host]
            page = pages.get(link.normalized_url) if pages and link is not None else None
            ctx = _Ctx(event, source, link, match, page, out)
            _check_missing(ctx, registry)
            _check_publisher(ctx, registry)
            _check_tier(ctx, registry)
            _check_unknown(ctx, registry)
            _check_page(ctx, tolerance)
            _check_archive(ctx)
    return out


# --------------------------------------------------------------------------- --write


def planned_fills(events: Iterable[Event], catalog: Catalog, registry: Registry) -> Fills:
    """Per event file (absolute path): the sources whose missing publisher/tier the registry can fill."""
    by_citation = _links_by_citation(catalog)
    plan: Fills = {}
    for event in events:
        for source in event.sources:
            link = by_citation.get((event.file, source.index))
            if link is None or not link.checkable or not link.host:
                continue
            match = registry.lookup(link.host)
            if match is None:
                continue
            fields: dict[str, str | int] = {}
            if not source.publisher and match.fill_name:
                fields["publisher"] = match.fill_name
            tier = tier_entry(registry, match, source.publisher or match.fill_name).tier
            if source.tier is None and tier is not None:
                fields["tier"] = tier
            if fields:
                plan.setdefault(event.path or event.file, []).append((source.index, fields))
    return plan
