"""Event health (issue 22): which citations can a reader still verify, and which events?

:func:`evidence_state` decides one link's :class:`~archiver.reportmodel.EvidenceState` from its stored state;
:func:`assess` fills ``links[].evidence_state``, ``events[]`` and ``summary.events`` of a built report, with
each event's ``previous_health`` from the memory the last run left (:mod:`archiver.history.health_memory`),
and the ``evidence_lost`` and ``evidence_weakened`` findings. Pure and fast: one pass over the links, one over
the events' sources (the 10x corpus in a fraction of a second, ``benchmarks/event_health.py``).

Precision first: a citation is ``lost`` only when its link is dead or soft-404, nothing of it is stored, and
the Wayback Machine and every configured other archive answered for it (an archive that refused or failed
did not answer; an archive asked before the link failed is asked again) and none holds a usable capture, so
an event is never ``lost`` while an archive has not been asked about one of its citations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from ..history.archives_record import ArchivesRecord
from ..history.health_memory import HealthMemory
from ..history.linkstate import LinkState
from ..history.wayback_record import WaybackRecord
from ..models import FAILING_STATUSES, Event, Finding, FindingKind, Link, LinkStatus, Severity
from ..reportmodel import (
    HEALTHS,
    EventHealth,
    EventSources,
    EvidenceState,
    Health,
    HealthTally,
    LinkEntry,
    Report,
    citation_fix,
    health_of,
)
from ..support.timefmt import parse_iso

#: declared archive_url verdicts that say the URL replays the cited page
REPLAYS = "replays"
#: declared archive_url verdicts that say it holds no copy of the page (anything else is not an answer)
NO_COPY_VERDICTS = frozenset({"missing", "mismatch", "calendar"})


# --------------------------------------------------------------------------- one citation


def evidence_state(link: Link, state: LinkState | None, archives: Collection[str], *,
                   text: bool = False) -> EvidenceState:
    """What a reader gets from ``link``: ``live``, ``copy`` (a verified archived copy, a declared archive URL
    that replays the page, or stored text: ``text`` or the state's snapshot), ``lost`` (dead or soft-404 and
    the Wayback Machine and each of ``archives`` answered with no good copy) or ``unknown``."""
    status = (state.status if state is not None else LinkStatus.UNCHECKED) if link.checkable else LinkStatus.INVALID
    if status is LinkStatus.ALIVE:
        return EvidenceState.LIVE
    if state is None:
        return EvidenceState.UNKNOWN
    wb, rec = state.wayback, state.archives
    if text or state.snapshot or _verified(wb, rec) or _declared(link, wb, rec) == REPLAYS:
        return EvidenceState.COPY
    if status in FAILING_STATUSES and _wayback_has_none(wb) and _archives_have_none(rec, archives, state) \
            and _declared(link, wb, rec) != "pending":
        return EvidenceState.LOST
    return EvidenceState.UNKNOWN


def _verified(wb: WaybackRecord | None, rec: ArchivesRecord | None) -> bool:
    """A copy whose replay was judged to be the page, in the Wayback Machine or another archive."""
    if wb is not None and ((wb.url and wb.verified) or any(c.verified and c.usable for c in wb.captures)):
        return True
    return rec is not None and bool((rec.url and rec.verified) or any(c.verified and c.usable for c in rec.captures))


def _declared(link: Link, wb: WaybackRecord | None, rec: ArchivesRecord | None) -> str | None:
    """``replays`` when a declared archive URL replays the page; ``pending`` when one has no verdict that says
    it holds no copy (not checked yet, an error); None otherwise (none declared, or all hold none)."""
    out = None
    for url in link.archive_urls:
        verdict = (rec.declared.get(url) if rec is not None else None) or (wb.declared.get(url) if wb else None)
        if verdict == REPLAYS:
            return REPLAYS
        if verdict not in NO_COPY_VERDICTS:
            out = "pending"
    return out


def _wayback_has_none(wb: WaybackRecord | None) -> bool:
    """The Wayback Machine answered (its CDX index, not only the availability API) and holds no capture to
    judge: the site is excluded, or no copy is offered and no usable capture waits to be judged."""
    if wb is None:
        return False
    if wb.excluded:
        return True
    return bool(wb.looked_up) and wb.source != "availability" and not wb.url and \
        not any(c.usable and not c.verified for c in wb.captures)


def _archives_have_none(rec: ArchivesRecord | None, archives: Collection[str], state: LinkState) -> bool:
    """Each archive answered since the link failed (none refused or failed), and none holds a usable capture."""
    if not archives:
        return True
    if rec is None or rec.url or any(c.usable for c in rec.captures):
        return False
    first = parse_iso(state.first_failed)
    for archive in archives:
        when = parse_iso(rec.asked.get(archive) if rec.asked else rec.looked_up)
        if when is None or archive in rec.unknown or (first is not None and when < first):
            return False
    return True


# --------------------------------------------------------------------------- the events


@dataclass(frozen=True, slots=True)
class HealthInputs:
    """What :func:`assess` needs beside the report: the events, the other archives a lost citation must have
    been asked about (the configured ``archives``), the memory of the last run (None: none kept)."""

    events: Sequence[Event]
    archives: tuple[str, ...]
    memory: HealthMemory | None = None


@dataclass(slots=True)
class HealthOutcome:
    """What :func:`assess` found: the events' health, those that became weakened or lost in this run, the
    findings it added to the report, and the memory a recording run writes."""

    events: list[EventHealth] = field(default_factory=list)
    became_lost: list[str] = field(default_factory=list)
    became_weakened: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    memory: HealthMemory = field(default_factory=HealthMemory)


def assess(report: Report, links: Iterable[Link], states: dict[str, LinkState], given: HealthInputs) -> HealthOutcome:
    """Fill ``links[].evidence_state``, ``events[]``, ``summary.events`` and the health findings of ``report``
    (built from ``links``, in order); the memory to record is :attr:`HealthOutcome.memory`."""
    for link, entry in zip(links, report.links, strict=True):
        text = entry.snapshot is not None and bool(entry.snapshot.path)
        entry.evidence_state = evidence_state(link, states.get(link.normalized_url), given.archives, text=text)
    cited = citations_by_event(report.links)
    base = given.memory.baseline(report.run.started_at) if given.memory is not None else None
    outcome = HealthOutcome()
    for event in given.events:
        health = event_health(event, cited.get(event.id, {}), base)
        outcome.events.append(health)
        previous = base.get(event.id) if base is not None else None
        if base is None or previous == health.health:
            continue
        if health.health is Health.LOST:
            outcome.became_lost.append(event.id)
        elif health.health is Health.WEAKENED and (previous is None or previous.order > Health.WEAKENED.order):
            outcome.became_weakened.append(event.id)
    counts = Counter(e.health for e in outcome.events)
    report.events = outcome.events
    report.summary.events = {str(h): counts[h] for h in HEALTHS}
    outcome.findings = health_findings(given.events, cited, outcome)
    report.findings.extend(outcome.findings)
    report.summary.findings = dict(sorted(Counter(str(f.kind) for f in report.findings).items()))
    at = report.run.finished_at or report.generated_at
    tally = HealthTally(at, dict(report.summary.events))
    outcome.memory = (given.memory or HealthMemory()).after(report.run.started_at or at,
                                                            {e.id: e.health for e in outcome.events}, tally)
    return outcome


def citations_by_event(entries: Iterable[LinkEntry]) -> dict[str, dict[int, LinkEntry]]:
    """Each event's cited links by source index."""
    out: dict[str, dict[int, LinkEntry]] = {}
    for entry in entries:
        for c in entry.citations:
            out.setdefault(c.event, {})[c.source_index] = entry
    return out


def event_health(event: Event, cited: dict[int, LinkEntry], base: dict[str, Health] | None) -> EventHealth:
    """One ``events[]`` entry: the event's citations by state, its health, its tier-1 readability."""
    n = dict.fromkeys(EvidenceState, 0)  # a Counter is three times slower here (27,830 events in the 10x corpus)
    for entry in cited.values():
        n[entry.evidence_state or EvidenceState.UNKNOWN] += 1
    readable: bool | None = None
    for source in event.sources:
        if source.tier == 1 and (tier1 := cited.get(source.index)) is not None:
            readable = readable or tier1.evidence_state in _READABLE
    health = health_of(state for state, count in n.items() if count)
    previous = base.get(event.id) if base is not None else None
    return EventHealth(id=event.id, file=event.file, health=health, title=event.title, date=event.date,
                       sources=EventSources(n[EvidenceState.LIVE], n[EvidenceState.COPY], n[EvidenceState.LOST],
                                            n[EvidenceState.UNKNOWN]),
                       tier1_readable=readable, previous_health=previous if previous != health else None)


_READABLE = frozenset({EvidenceState.LIVE, EvidenceState.COPY})


# --------------------------------------------------------------------------- findings


def health_findings(events: Sequence[Event], cited: dict[str, dict[int, LinkEntry]],
                    outcome: HealthOutcome) -> list[Finding]:
    """``evidence_lost`` (an error) for every lost event, ``evidence_weakened`` (a warning) for each event that
    became weakened in this run: on the event's first source line, with what would help."""
    by_id = {e.id: e for e in events}
    weakened = set(outcome.became_weakened)
    out: list[Finding] = []
    for health in outcome.events:
        if health.health is not Health.LOST and health.id not in weakened:
            continue
        event = by_id[health.id]
        fixes = [f"source {i}: {fix}" for i, entry in sorted(cited.get(event.id, {}).items())
                 if (fix := citation_fix(entry, entry.evidence_state or EvidenceState.UNKNOWN))]
        line = next((s.line for s in event.sources if s.line), None) or 1
        s = health.sources
        counts = f"{s.live} live, {s.copy} copy, {s.lost} lost, {s.unknown} unknown"
        if health.health is Health.LOST:
            kind, severity = FindingKind.EVIDENCE_LOST, Severity.ERROR
            message = f"event {event.id}: no cited source can be read any more ({counts})"
        else:
            kind, severity = FindingKind.EVIDENCE_WEAKENED, Severity.WARNING
            was = f"was {health.previous_health}" if health.previous_health else "new"
            message = f"event {event.id} became weakened ({was}): some sources can no longer be read ({counts})"
        out.append(Finding(kind=kind, severity=severity, message=message, file=event.file, line=line,
                           event=event.id, fix="; ".join(fixes) or None,
                           data={"health": str(health.health), "previous_health": health.previous_health,
                                 "sources": health.sources.to_dict()}))
    return out
