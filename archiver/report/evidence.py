"""Events losing their evidence (issue 22): what report.md, report.html and the reading room show of event health.

The health itself is computed where the link state is known and arrives in the report (``events[]``,
``links[].evidence_state``); this module only groups it the way people read it: lost events first, then
the events newly weakened this run, then those still weakened, each with its citations' states, what a
reader gets from each, and the one-line fix (:func:`~archiver.reportmodel.health.citation_fix`).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field

from ..models import Citation
from ..reportmodel import EventHealth, LinkEntry, Report
from ..reportmodel.health import HEALTHS, EvidenceState, Health, ReaderGets, citation_fix, reader_gets
from ..support.gcpause import gc_paused

#: what the reports call each health
HEALTH_LABELS: dict[str, str] = {"ok": "ok", "weakened": "weakened", "lost": "lost", "unknown": "unknown"}
#: what the reports call each evidence state
STATE_LABELS: dict[str, str] = {"live": "live", "copy": "archived copy", "lost": "lost", "unknown": "unknown"}


def evidence_state(entry: LinkEntry) -> EvidenceState:
    """The link's evidence state as the report gives it (``unknown`` when a report does not say)."""
    return entry.evidence_state or EvidenceState.UNKNOWN


@dataclass(frozen=True, slots=True)
class CitedEvidence:
    """One citation of an event: its link's evidence state, what a reader gets, and the fix."""

    citation: Citation
    link: LinkEntry
    state: EvidenceState
    gets: ReaderGets
    fix: str | None

    @property
    def where(self) -> str:
        file, line = self.citation.file, self.citation.line
        return f"{file}:{line}" if line else file


@dataclass(frozen=True, slots=True)
class EventEvidence:
    """An event with its health and every citation's evidence, sources in order."""

    event: EventHealth
    cited: list[CitedEvidence]

    @property
    def title(self) -> str:
        return self.event.title or self.event.id

    @property
    def newly(self) -> bool:
        """The health changed this run (an event seen for the first time has no previous health)."""
        previous = self.event.previous_health
        return previous is not None and previous != self.event.health

    @property
    def fixes(self) -> list[CitedEvidence]:
        return [c for c in self.cited if c.fix]


@dataclass(slots=True)
class Losing:
    """The section "Events losing their evidence": lost events, newly weakened ones, still weakened ones."""

    lost: list[EventEvidence] = field(default_factory=list)
    newly_weakened: list[EventEvidence] = field(default_factory=list)
    still_weakened: list[EventEvidence] = field(default_factory=list)
    #: events by health, every health (zeros included), worst first
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.lost or self.newly_weakened or self.still_weakened)

    @property
    def listed(self) -> list[EventEvidence]:
        """Every event the section lists, in its order."""
        return [*self.lost, *self.newly_weakened, *self.still_weakened]


def cited_by_event(links: Iterable[LinkEntry], wanted: Container[str]) -> dict[str, list[tuple[Citation, LinkEntry]]]:
    """The ``wanted`` events' citations with their links, in source order."""
    out: dict[str, list[tuple[Citation, LinkEntry]]] = {}
    for link in links:
        for c in link.citations:
            if c.event in wanted:
                out.setdefault(c.event, []).append((c, link))
    for items in out.values():
        items.sort(key=lambda t: t[0].source_index)
    return out


def event_evidence(event: EventHealth, cited: Iterable[tuple[Citation, LinkEntry]]) -> EventEvidence:
    rows = []
    for c, link in cited:
        state = evidence_state(link)
        rows.append(CitedEvidence(c, link, state, reader_gets(link), citation_fix(link, state)))
    return EventEvidence(event, rows)


def _order(e: EventHealth) -> tuple[str, str, str]:
    return (e.date or "", e.file, e.id)


def losing_events(report: Report) -> Losing | None:
    """The section's events from ``report`` (None for a report written before events had a health)."""
    if report.events is None:
        return None
    with gc_paused():  # a few thousand small objects, no cycles
        return _losing(report.events, report.links)


def _losing(events: list[EventHealth], links: list[LinkEntry]) -> Losing:
    counts = {str(h): 0 for h in HEALTHS}
    wanted: list[EventHealth] = []
    for e in events:
        counts[str(e.health)] = counts.get(str(e.health), 0) + 1
        if e.health in (Health.LOST, Health.WEAKENED):
            wanted.append(e)
    out = Losing(counts=counts)
    if not wanted:
        return out
    cited = cited_by_event(links, {e.id for e in wanted})
    for e in sorted(wanted, key=_order):
        ev = event_evidence(e, cited.get(e.id, []))
        if e.health == Health.LOST:
            out.lost.append(ev)
        elif ev.newly:
            out.newly_weakened.append(ev)
        else:
            out.still_weakened.append(ev)
    return out


def health_by_event(report: Report) -> Mapping[str, EventHealth]:
    """Each event's health by id (empty for a report without events)."""
    return {e.id: e for e in report.events or []}


def counts_line(losing: Losing) -> str:
    """``2 lost, 5 weakened, 1 unknown, 300 ok`` (events by health, worst first)."""
    return ", ".join(f"{n:,} {HEALTH_LABELS.get(h, h)}" for h, n in losing.counts.items())


def gets_text(gets: ReaderGets) -> str:
    """What a reader gets, as a phrase (without the place)."""
    return {"live page": "the live page", "archived copy": "an archived copy", "stored text": "the stored text",
            "nothing": "nothing"}[gets.kind]
