"""What the human reports show, computed once from report.json and the loaded events.

:class:`ReportView` groups a :class:`~archiver.reportmodel.Report` the way people read it (changes,
failing links by event, inconclusive links by domain, findings by kind, chart data);
:mod:`archiver.report.markdown` and :mod:`archiver.report.html` only format it. Nothing
here touches the network or the clock, so the same stored state always gives the
same reports.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

from ..history.known_findings import LINK_KINDS, fingerprint, tracked
from ..models import (
    FAILING_STATUSES,
    INCONCLUSIVE_STATUSES,
    SEVERITY_ORDER,
    UNCHECKED_STATUSES,
    Citation,
    Event,
    Finding,
    Severity,
)
from ..reportmodel import LinkEntry, Report, RunChange, RunRecord, Summary

#: where to look for captures of a link when none is known (a search, not a copy)
WAYBACK_SEARCH = "https://web.archive.org/web/*/"
CHANGE_KINDS = ("newly_confirmed", "newly_failing", "recovered", "moved")
CHANGE_LABELS = {"newly_confirmed": "Newly confirmed dead", "newly_failing": "Newly failing",
                 "recovered": "Recovered", "moved": "Moved"}
#: citation years before this are shown as one bar (the web began in 1991)
EARLY_YEAR = 2000

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def safe_href(url: Any) -> str | None:
    """``url`` when it may become a link: an absolute http(s) URL with a host and no
    whitespace or control characters. Anything else (``javascript:``, ``data:``,
    relative or malformed URLs) is shown as text, never as a link."""
    return _safe_href(url) if isinstance(url, str) else None


@lru_cache(maxsize=65536)
def _safe_href(url: str) -> str | None:
    if not url or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    return url


def day(stamp: Any) -> str:
    """``YYYY-MM-DD`` of an ISO timestamp ('' when absent)."""
    return str(stamp)[:10] if stamp else ""


def minute(stamp: Any) -> str:
    """``YYYY-MM-DD HH:MM`` of an ISO timestamp, in UTC as stored."""
    text = str(stamp or "")
    return text[:16].replace("T", " ") if text else ""


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class SourceView:
    index: int
    line: int | None
    url: str | None
    title: str | None
    publisher: str | None
    date: str | None


@dataclass(slots=True)
class EventView:
    id: str
    title: str | None
    date: str | None
    file: str
    sources: dict[int, SourceView] = field(default_factory=dict)


def event_views(events: Iterable[Event]) -> dict[str, EventView]:
    """What the reports need of each event: title, date, file, and its sources as cited."""
    out: dict[str, EventView] = {}
    for e in events:
        out[e.id] = EventView(id=e.id, title=e.title, date=e.date, file=e.file, sources={
            s.index: SourceView(index=s.index, line=s.line, url=s.url, title=s.title, publisher=s.publisher,
                                date=s.date) for s in e.sources})
    return out


# --------------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class Archived:
    """The archived copy to use instead of a live page."""

    url: str
    #: copy: a Wayback capture found by the pipeline; declared: the citation's own
    #: archive_url; search: no capture known, a Wayback search for the URL
    kind: Literal["copy", "declared", "search"]
    #: the archive holding a found copy (another archive when the Wayback Machine has no good one)
    archive: str = "Wayback Machine"


def archived_copy(link: LinkEntry) -> Archived:
    best = link.copy
    if best is not None and best.archive and best.archive != "wayback" and safe_href(best.url):
        from ..archives.registry import display_name

        return Archived(best.url, "copy", display_name(best.archive))
    wayback = link.wayback
    if wayback is not None and wayback.url and safe_href(wayback.url):
        return Archived(wayback.url, "copy")
    for url in link.archive_urls:
        if safe_href(url):
            return Archived(url, "declared")
    return Archived(WAYBACK_SEARCH + link.url, "search")


def verdict(link: LinkEntry) -> str:
    """The evidence a verdict rests on, in one phrase."""
    return (link.evidence or link.error
            or (f"HTTP {link.http_status}" if link.http_status else "no evidence recorded"))


def outlet(link: LinkEntry) -> str:
    return link.outlet_name or "(no domain)"


@dataclass(slots=True)
class Cited:
    """One citation of a link, with what its event and source say."""

    link: LinkEntry
    citation: Citation
    event: EventView | None
    source: SourceView | None

    @property
    def where(self) -> str:
        file, line = self.citation.file, self.citation.line
        return f"{file}:{line}" if line else file

    @property
    def title(self) -> str:
        return (self.source.title if self.source and self.source.title else "") or self.link.url

    @property
    def event_title(self) -> str:
        return (self.event.title if self.event and self.event.title else "") or self.citation.event


@dataclass(slots=True)
class EventGroup:
    event_id: str
    event: EventView | None
    file: str
    items: list[Cited]

    @property
    def title(self) -> str:
        return (self.event.title if self.event and self.event.title else "") or self.event_id

    @property
    def date(self) -> str:
        return (self.event.date if self.event and self.event.date else "") or ""


@dataclass(slots=True)
class DomainRow:
    domain: str
    counts: Counter[str]
    examples: list[LinkEntry]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(slots=True)
class FindingGroup:
    kind: str
    severity: Severity
    findings: list[Finding]


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    #: the numbers behind the bar, for its text label
    part: int
    whole: int
    detail: Mapping[str, int] = field(default_factory=dict)


#: a change of the run with its link's entry (None when the link is no longer cited)
ChangeItem = tuple[RunChange, LinkEntry | None]


class ReportView:
    """A :class:`~archiver.reportmodel.Report` grouped for people; ``events`` adds titles and dates."""

    def __init__(self, report: Report, events: Mapping[str, EventView] | None = None) -> None:
        self.report = report
        self.run: RunRecord = report.run
        self.summary: Summary = report.summary
        self.links: list[LinkEntry] = report.links
        self.findings: list[Finding] = report.findings
        self.events: Mapping[str, EventView] = events or {}
        self.by_url: dict[str, LinkEntry] = {}
        for link in self.links:
            self.by_url.setdefault(link.url, link)

    # ------------------------------------------------------------------ counts

    @cached_property
    def status_counts(self) -> Counter[str]:
        return Counter(str(link.status) for link in self.links)

    @cached_property
    def confirmed(self) -> int:
        return sum(1 for link in self.links if link.confirmed and link.status in FAILING_STATUSES)

    def confirmed_with(self, status: str) -> int:
        """Confirmed links of one status."""
        return sum(1 for link in self.links if link.status == status and link.confirmed)

    @property
    def citations(self) -> int:
        return sum(len(link.citations) for link in self.links)

    def cited(self, link: LinkEntry, citation: Citation) -> Cited:
        event = self.events.get(citation.event)
        source = event.sources.get(citation.source_index) if event is not None else None
        return Cited(link=link, citation=citation, event=event, source=source)

    def first_cited(self, link: LinkEntry) -> Cited | None:
        return self.cited(link, link.citations[0]) if link.citations else None

    # ------------------------------------------------------------------ changes

    @cached_property
    def changes(self) -> dict[str, list[ChangeItem]]:
        """Link changes of the run by kind (in :data:`CHANGE_KINDS` order), each with its link entry."""
        out: dict[str, list[ChangeItem]] = {k: [] for k in CHANGE_KINDS}
        for change in self.run.changes:
            if change.kind in out:
                out[change.kind].append((change, self.by_url.get(change.url)))
        return {k: v for k, v in out.items() if v}

    @property
    def findings_compared(self) -> bool:
        """False on the first run: there was no previous list of findings to compare with."""
        return self.run.new_findings is not None

    @cached_property
    def new_findings(self) -> list[Finding]:
        """Findings first seen this run (still present), most severe first."""
        prints = set(self.run.new_findings or [])
        if not prints:
            return []
        found = [f for f in self.findings if tracked(f) and fingerprint(f) in prints]
        return sorted(found, key=_finding_order)

    @property
    def quiet(self) -> bool:
        return not self.changes and not self.new_findings

    # ------------------------------------------------------------------ groups

    def failing_groups(self, *, confirmed: bool) -> list[EventGroup]:
        """Dead and soft-404 links (confirmed or not yet), grouped by citing event, by file."""
        groups: dict[str, EventGroup] = {}
        for link in self.links:
            if link.status not in FAILING_STATUSES or link.confirmed != confirmed:
                continue
            for citation in link.citations:
                cited = self.cited(link, citation)
                key = citation.event
                group = groups.get(key)
                if group is None:
                    group = groups[key] = EventGroup(key, cited.event, citation.file, [])
                group.items.append(cited)
        for group in groups.values():
            group.items.sort(key=lambda c: c.citation.source_index)
        return sorted(groups.values(), key=lambda g: (g.file, g.event_id))

    def inconclusive_domains(self) -> list[DomainRow]:
        """Blocked and error links by registrable domain, most links first."""
        rows: dict[str, DomainRow] = {}
        for link in self.links:
            if link.status not in INCONCLUSIVE_STATUSES:
                continue
            domain = link.domain or "(no domain)"
            row = rows.get(domain)
            if row is None:
                row = rows[domain] = DomainRow(domain, Counter(), [])
            row.counts[str(link.status)] += 1
            if len(row.examples) < 3:
                row.examples.append(link)
        return sorted(rows.values(), key=lambda r: (-r.total, r.domain))

    def finding_groups(self, *, include_link_kinds: bool = False) -> list[FindingGroup]:
        """Findings by kind, the most severe kinds first (link-status kinds left out by default)."""
        groups: dict[str, FindingGroup] = {}
        for f in self.findings:
            if f.kind in LINK_KINDS and not include_link_kinds:
                continue
            group = groups.get(f.kind)
            if group is None:
                group = groups[f.kind] = FindingGroup(str(f.kind), f.severity, [])
            elif SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[group.severity]:
                group.severity = f.severity
            group.findings.append(f)
        for group in groups.values():
            group.findings.sort(key=_finding_order)
        return sorted(groups.values(), key=lambda g: (SEVERITY_ORDER[g.severity], -len(g.findings), g.kind))

    # ------------------------------------------------------------------ charts

    def link_year(self, link: LinkEntry) -> int | None:
        """The year a link was cited as published: its earliest source date (the event's date when the
        source has none)."""
        years: list[int] = []
        for citation in link.citations:
            cited = self.cited(link, citation)
            when = (cited.source.date if cited.source and cited.source.date else None) or (
                cited.event.date if cited.event else None)
            if when and len(when) >= 4 and when[:4].isdigit():
                years.append(int(when[:4]))
        return min(years) if years else None

    def rot_by_year(self) -> list[Bar]:
        """Share of checked links that are dead or soft 404, by citation year."""
        checked: Counter[str] = Counter()
        failing: Counter[str] = Counter()
        for link in self.links:
            if link.status in UNCHECKED_STATUSES:
                continue
            year = self.link_year(link)
            if year is None:
                continue
            label = f"<{EARLY_YEAR}" if year < EARLY_YEAR else str(year)
            checked[label] += 1
            if link.status in FAILING_STATUSES:
                failing[label] += 1
        labels = sorted(checked, key=lambda s: (not s.startswith("<"), s))
        return [Bar(lab, failing[lab] / checked[lab], failing[lab], checked[lab]) for lab in labels]

    def rot_by_outlet(self, top: int = 12) -> list[Bar]:
        """Outlets with the most dead and soft-404 links."""
        links: Counter[str] = Counter()
        bad: dict[str, Counter[str]] = defaultdict(Counter)
        for link in self.links:
            name = outlet(link)
            links[name] += 1
            if link.status in FAILING_STATUSES:
                bad[name][str(link.status)] += 1
        ranked = sorted(bad, key=lambda n: (-sum(bad[n].values()), n))[:top]
        return [Bar(n, float(sum(bad[n].values())), sum(bad[n].values()), links[n], dict(bad[n])) for n in ranked]


def _finding_order(f: Finding) -> tuple[int, str, int, int]:
    return (SEVERITY_ORDER[f.severity], f.file or "", f.line or 0, f.source_index or 0)
