"""Synthetic timelines and link states for report tests (no network, no files)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from archiver.history.linkstate import LinkState
from archiver.history.wayback_record import WaybackRecord
from archiver.models import Event, Finding, Source
from archiver.pipeline.findings import link_findings
from archiver.report.build import RunInfo, build_report
from archiver.report.view import EventView, event_views
from archiver.reportmodel import EventHealth, EventSources, LinkExtras, Report, RunChange
from archiver.reportmodel.health import HEALTHS, EvidenceState, Health, health_of
from archiver.timeline.catalog import build_catalog

NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)

HOSTILE_TITLE = '<script>window.__pwned=1</script>"><img src=x onerror="window.__pwned=1">'
HOSTILE_URL = "javascript:alert(1)"


@dataclass
class Src:
    url: str
    status: str = "alive"
    title: str | None = None
    publisher: str | None = "Example News"
    date: str | None = "2020-05-01"
    confirmed: bool = False
    evidence: str | None = None
    wayback: str | None = None
    archive_url: str | None = None
    snapshot: str | None = None
    failures: int = 0
    outlet: str | None = None
    #: the link's evidence state (``links[].evidence_state``); with any set, the report has ``events[]``
    state: str | None = None
    #: the Wayback copy was judged to be the page
    verified: bool = False


@dataclass
class Ev:
    id: str
    sources: list[Src]
    title: str | None = None
    date: str = "2020-05-01"
    #: the event's health on the previous run (``events[].previous_health``)
    previous: str | None = None


@dataclass
class Built:
    report: Report
    events: dict[str, EventView]
    raw_events: list[Event] = field(default_factory=list)

    @property
    def data(self) -> dict[str, Any]:
        """report.json as written, parsed."""
        parsed: dict[str, Any] = json.loads(self.report.to_json())
        return parsed


def iso(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build(events: list[Ev], *, changes: list[dict[str, Any]] | None = None, findings: list[Finding] | None = None,
          network: str = "ok", new_findings: list[str] | None = None, complete: bool = True,
          health: bool = False) -> Built:
    raw: list[Event] = []
    for ev in events:
        sources = [Source(index=i, line=10 + 3 * i, url=s.url, title=s.title if s.title is not None else f"Story {i}",
                          publisher=s.publisher, date=s.date, archive_url=s.archive_url)
                   for i, s in enumerate(ev.sources)]
        raw.append(Event(id=ev.id, file=f"events/{ev.id}.md", date=ev.date, title=ev.title or f"Event {ev.id}",
                         sources=sources))
    catalog = build_catalog(raw)
    by_url: dict[str, Src] = {}
    for ev in events:
        for s in ev.sources:
            by_url.setdefault(s.url, s)  # the first mention of a URL says its state
    states: dict[str, LinkState] = {}
    extras: dict[str, LinkExtras] = {}
    for link in catalog.links:
        spec = by_url[link.url]
        if spec.outlet:
            extras[link.normalized_url] = LinkExtras(outlet=spec.outlet)
        if not link.checkable or spec.status == "unchecked":
            continue
        failing = spec.status in ("dead", "soft_404")
        state = LinkState(url=link.url, normalized_url=link.normalized_url, first_seen=iso(NOW - dt.timedelta(30)),
                          status=spec.status, confirmed=spec.confirmed, last_checked=iso(NOW),
                          evidence=spec.evidence or ("HTTP 200" if spec.status == "alive"
                                                     else f"HTTP 404 ({spec.status})"),
                          http_status=200 if spec.status == "alive" else 404,
                          failures=spec.failures or (3 if failing and spec.confirmed else 1 if failing else 0),
                          first_failed=iso(NOW - dt.timedelta(5)) if failing else None)
        if spec.wayback:
            state.wayback = WaybackRecord(url=spec.wayback, timestamp="20200101000000", verified=spec.verified)
        if spec.snapshot:
            state.snapshot = {"path": spec.snapshot, "sha256": "0" * 64, "captured_at": "2026-01-02T03:04:05Z",
                              "origin": "live"}
        states[link.normalized_url] = state
    all_findings: list[Finding] = [*catalog.findings]
    for link in catalog.links:
        all_findings.extend(link_findings(link, states.get(link.normalized_url)))
    all_findings.extend(findings or [])
    run = RunInfo(started_at=NOW, finished_at=NOW + dt.timedelta(minutes=3), network=network, complete=complete,
                  checked=len(states), due=len(states), changes=[RunChange.from_dict(c) for c in changes or []],
                  new_findings=new_findings,
                  stage_seconds={"check": 170.0})
    report = build_report(catalog.links, states, all_findings, run, extras=extras)
    if health or any(s.state for ev in events for s in ev.sources):
        add_health(report, events, raw)
    return Built(report=report, events=event_views(raw), raw_events=raw)


def add_health(report: Report, events: list[Ev], raw: list[Event]) -> None:
    """Events' health as the pipeline would write it: each link's state from its first mention (``Src.state``,
    else ``live`` for an alive link and ``unknown`` otherwise), each event's health from its citations'."""
    spec = {s.url: s for ev in reversed(events) for s in ev.sources}
    for link in report.links:
        given = spec[link.url].state if link.url in spec else None
        link.evidence_state = EvidenceState(given) if given else (
            EvidenceState.LIVE if link.status == "alive" else EvidenceState.UNKNOWN)
    by_event: dict[str, list[EvidenceState]] = {}
    for link in report.links:
        for c in link.citations:
            assert link.evidence_state is not None
            by_event.setdefault(c.event, []).append(link.evidence_state)
    previous = {ev.id: ev.previous for ev in events}
    out = []
    for e in raw:
        states = by_event.get(e.id, [])
        out.append(EventHealth(id=e.id, file=e.file, title=e.title, date=e.date, health=health_of(states),
                               sources=EventSources(*(states.count(EvidenceState(k))
                                                      for k in ("live", "copy", "lost", "unknown"))),
                               previous_health=Health(previous[e.id]) if previous.get(e.id) else None))
    report.events = out
    report.summary.events = {str(h): sum(1 for e in out if e.health == h) for h in HEALTHS}
