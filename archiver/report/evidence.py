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


@dataclass(frozen=True, slots=True)
class CitedEvidence:
    """One citation of an event: its link's evidence state, what a reader gets, and the fix."""

    citation: Citation
    link: LinkEntry
    state: EvidenceState

    @property
    def gets(self) -> ReaderGets:
        return reader_gets(self.link)

    @property
    def fix(self) -> str | None:
        return citation_fix(self.link, self.state)

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
        return _newly(self.event)


@dataclass(slots=True)
class Losing:
    """The section "Events losing their evidence": lost events, newly weakened ones, still weakened ones (each
    list perhaps only its first ``limit`` events: ``totals`` says how many there are)."""

    lost: list[EventEvidence] = field(default_factory=list)
    newly_weakened: list[EventEvidence] = field(default_factory=list)
    still_weakened: list[EventEvidence] = field(default_factory=list)
    #: events by health, every health (zeros included), worst first
    counts: dict[str, int] = field(default_factory=dict)
    #: how many events are lost, newly weakened, still weakened
    totals: tuple[int, int, int] = (0, 0, 0)

    @property
    def empty(self) -> bool:
        return not any(self.totals)


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
    # a report that does not say a link's state: unknown
    return EventEvidence(event, [CitedEvidence(c, link, link.evidence_state or EvidenceState.UNKNOWN)
                                 for c, link in cited])


def _order(e: EventHealth) -> tuple[str, str, str]:
    return (e.date or "", e.file, e.id)


def losing_events(report: Report, limit: int | None = None) -> Losing | None:
    """The section's events from ``report`` (None for a report written before events had a health); with
    ``limit``, each list holds only its first ``limit`` events (their citations are not even looked at)."""
    if report.events is None:
        return None
    with gc_paused():  # a few thousand small objects, no cycles
        return _losing(report.events, report.links, limit)


def _newly(e: EventHealth) -> bool:
    return e.previous_health is not None and e.previous_health != e.health


def _losing(events: list[EventHealth], links: list[LinkEntry], limit: int | None) -> Losing:
    counts = {str(h): 0 for h in HEALTHS}
    lists: tuple[list[EventHealth], list[EventHealth], list[EventHealth]] = ([], [], [])
    for e in events:
        counts[str(e.health)] = counts.get(str(e.health), 0) + 1
        if e.health == Health.LOST:
            lists[0].append(e)
        elif e.health == Health.WEAKENED:
            lists[1 if _newly(e) else 2].append(e)
    kept = [sorted(found, key=_order)[:limit] for found in lists]
    cited = cited_by_event(links, {e.id for found in kept for e in found}) if any(kept) else {}
    lost, newly, still = ([event_evidence(e, cited.get(e.id, [])) for e in found] for found in kept)
    return Losing(lost, newly, still, counts, (len(lists[0]), len(lists[1]), len(lists[2])))


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
