"""Event health (archiver/report/health.py, issue 22): each citation's evidence state from its link state,
precision first (never ``lost`` while an archive has not answered), the events' health with the memory of the
last run, and the memory itself (archiver/history/health_memory.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archiver.history.archives_record import ArchivedCapture, ArchivesRecord
from archiver.history.health_memory import TREND_RUNS, HealthMemory
from archiver.history.linkstate import LinkState
from archiver.history.store import StateStore
from archiver.history.wayback_record import Known, WaybackRecord
from archiver.models import Event, FindingKind, Link, LinkStatus, Source
from archiver.report.build import RunInfo, build_report
from archiver.report.health import HealthInputs, HealthOutcome, assess, evidence_state
from archiver.reportmodel import EvidenceState, Health, HealthTally, Report
from archiver.timeline.catalog import build_catalog

SITE = "https://news.test-site.net"
URL = SITE + "/news/story"
FAILED = "2026-11-01T02:00:00Z"
ASKED = "2026-11-02T02:00:00Z"
ARCHIVES = ("loc", "arquivo.pt")
L, C, X, U = EvidenceState.LIVE, EvidenceState.COPY, EvidenceState.LOST, EvidenceState.UNKNOWN


def link(*archive_urls: str) -> Link:
    return Link(url=URL, normalized_url=URL, archive_urls=list(archive_urls), host="news.test-site.net",
                domain="news.test-site.net")


def state(status: LinkStatus = LinkStatus.DEAD, **kw: object) -> LinkState:
    return LinkState(url=URL, normalized_url=URL, first_seen="2026-01-01T00:00:00Z", status=status,
                     first_failed=FAILED if status in (LinkStatus.DEAD, LinkStatus.SOFT_404) else None,
                     **kw)  # type: ignore[arg-type]  # keyword fields per case


def none_in_wayback() -> WaybackRecord:
    return WaybackRecord(looked_up=ASKED)


def none_elsewhere(**kw: object) -> ArchivesRecord:
    values: dict[str, object] = {"looked_up": ASKED, "asked": dict.fromkeys(ARCHIVES, ASKED), **kw}
    return ArchivesRecord(**values)  # type: ignore[arg-type]


CASES = [
    ("alive", state(LinkStatus.ALIVE), L),
    ("alive, nothing else known", state(LinkStatus.ALIVE, wayback=none_in_wayback()), L),
    ("dead, verified Wayback copy", state(wayback=WaybackRecord(url="https://web.archive.org/web/1/x", timestamp="1",
                                                                 verified=True, looked_up=ASKED)), C),
    ("dead, verified copy in another archive",
     state(wayback=none_in_wayback(), archives=none_elsewhere(url="https://loc/1/x", archive="loc", verified=True)), C),
    ("blocked with stored text", state(LinkStatus.BLOCKED, snapshot={"path": "snapshots/x/snapshot.md"}), C),
    ("soft 404 with stored text only", state(LinkStatus.SOFT_404, snapshot={"path": "snapshots/x/snapshot.md"}), C),
    ("dead, every archive asked, none holds it", state(wayback=none_in_wayback(), archives=none_elsewhere()), X),
    ("soft 404, excluded from Wayback, none elsewhere",
     state(LinkStatus.SOFT_404, wayback=WaybackRecord(excluded=True), archives=none_elsewhere()), X),
    ("dead, only rejected captures",
     state(wayback=WaybackRecord(looked_up=ASKED, captures=[Known("20200101000000", 200, rejected="error page")]),
           archives=none_elsewhere(captures=[ArchivedCapture("20200101000000", "loc", "https://loc/x",
                                                             rejected="thin")])), X),
    ("dead, the other archives not asked yet", state(wayback=none_in_wayback()), U),
    ("dead, one archive not asked yet",
     state(wayback=none_in_wayback(), archives=ArchivesRecord(looked_up=ASKED, asked={"loc": ASKED})), U),
    ("dead, one archive refused", state(wayback=none_in_wayback(), archives=none_elsewhere(unknown={"loc": "403"})), U),
    ("dead, asked before the link failed",
     state(wayback=none_in_wayback(), archives=none_elsewhere(asked=dict.fromkeys(ARCHIVES, "2026-10-01T00:00:00Z"))),
     U),
    ("dead, Wayback not looked up", state(archives=none_elsewhere()), U),
    ("dead, Wayback only through the availability API",
     state(wayback=WaybackRecord(looked_up=ASKED, source="availability"), archives=none_elsewhere()), U),
    ("dead, an unverified Wayback copy waits to be judged",
     state(wayback=WaybackRecord(url="https://web.archive.org/web/1/x", timestamp="1", looked_up=ASKED),
           archives=none_elsewhere()), U),
    ("dead, an unjudged capture elsewhere",
     state(wayback=none_in_wayback(), archives=none_elsewhere(captures=[ArchivedCapture("20200101000000", "loc",
                                                                                        "https://loc/x")])), U),
    ("blocked, nothing stored", state(LinkStatus.BLOCKED, wayback=none_in_wayback(), archives=none_elsewhere()), U),
    ("error, nothing stored", state(LinkStatus.ERROR), U),
    ("unchecked", state(LinkStatus.UNCHECKED), U),
]


@pytest.mark.parametrize(("case", "link_state", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_evidence_state_of_a_link(case: str, link_state: LinkState, expected: EvidenceState) -> None:
    assert evidence_state(link(), link_state, ARCHIVES) == expected, case


def test_no_state_invalid_links_stored_text_and_no_other_archive_configured() -> None:
    assert evidence_state(link(), None, ARCHIVES) == U
    invalid = Link(url="TBD", normalized_url="TBD", invalid_reason="not a URL")
    assert evidence_state(invalid, state(LinkStatus.ALIVE), ARCHIVES) == U
    assert evidence_state(link(), state(LinkStatus.ERROR), ARCHIVES, text=True) == C  # the snapshot store's text
    # no other archive configured: the Wayback Machine's answer is enough
    assert evidence_state(link(), state(wayback=none_in_wayback()), ()) == X


@pytest.mark.parametrize(("verdict", "expected"), [("replays", C), ("missing", X), ("mismatch", X),
                                                     ("error", U), (None, U)])
def test_a_declared_archive_url(verdict: str | None, expected: EvidenceState) -> None:
    declared = "https://web.archive.org/web/2020/" + URL
    wb = WaybackRecord(looked_up=ASKED, declared={declared: verdict} if verdict else {})
    assert evidence_state(link(declared), state(wayback=wb, archives=none_elsewhere()), ARCHIVES) == expected


# --------------------------------------------------------------------------- the events


def event(n: int, *tiers: int) -> Event:
    sources = [Source(index=i, line=5 + 5 * i, url=f"{SITE}/{n}/{i}", tier=t) for i, t in enumerate(tiers)]
    return Event(id=f"event-{n}", file=f"events/event-{n}.md", date="2026-01-01", title=f"Event {n}", sources=sources)


def night(events: list[Event], states: dict[str, LinkState], memory: HealthMemory | None, started: str
          ) -> tuple[Report, HealthOutcome]:
    catalog = build_catalog(events)
    at = dt.datetime.fromisoformat(started.replace("Z", "+00:00"))
    report = build_report(catalog.links, states, [], RunInfo(started_at=at, finished_at=at))
    outcome = assess(report, catalog.links, states, HealthInputs(events, ARCHIVES, memory))
    assert report.events == outcome.events
    return report, outcome


def lost() -> LinkState:
    return state(wayback=none_in_wayback(), archives=none_elsewhere())


def states_for(spec: dict[str, LinkState]) -> dict[str, LinkState]:
    out = {}
    for url, s in spec.items():
        s.url = s.normalized_url = url
        out[url] = s
    return out


def test_events_health_previous_health_findings_and_memory() -> None:
    events = [event(1, 1, 2), event(2, 1), event(3, 2, 2), event(4)]
    first = states_for({f"{SITE}/1/0": state(LinkStatus.ALIVE), f"{SITE}/1/1": state(LinkStatus.ALIVE),
                        f"{SITE}/2/0": state(LinkStatus.ALIVE), f"{SITE}/3/0": state(LinkStatus.DEAD),
                        f"{SITE}/3/1": lost()})
    report, outcome = night(events, first, None, "2026-12-01T02:00:00Z")
    healths = {e.id: e.health for e in outcome.events}
    assert healths == {"event-1": Health.OK, "event-2": Health.OK, "event-3": Health.LOST, "event-4": Health.UNKNOWN}
    assert report.summary.events == {"lost": 1, "weakened": 0, "unknown": 1, "ok": 2}
    e1 = outcome.events[0]
    assert e1.tier1_readable is True and (e1.sources.live, e1.sources.copy) == (2, 0)
    assert outcome.events[2].tier1_readable is None  # cites no tier-1 source
    (finding,) = outcome.findings  # the first night: nothing "became" anything
    assert finding.kind == FindingKind.EVIDENCE_LOST and finding.severity == "error"
    assert (finding.file, finding.line, finding.event) == ("events/event-3.md", 5, "event-3")
    assert "source 1: cite a new source" in str(finding.fix)
    assert not outcome.became_lost and report.summary.findings == {"evidence_lost": 1}
    memory = outcome.memory
    assert memory.first and memory.events["event-3"] == Health.LOST

    second = {**first, **states_for({f"{SITE}/1/1": lost(), f"{SITE}/2/0": lost()})}
    _, outcome2 = night(events, second, memory, "2026-12-02T02:00:00Z")
    by_id = {e.id: e for e in outcome2.events}
    assert (by_id["event-1"].health, by_id["event-1"].previous_health) == (Health.WEAKENED, Health.OK)
    assert (by_id["event-2"].health, by_id["event-2"].previous_health) == (Health.LOST, Health.OK)
    assert by_id["event-3"].previous_health is None  # unchanged
    assert by_id["event-1"].tier1_readable is True and by_id["event-2"].tier1_readable is False
    assert outcome2.became_lost == ["event-2"] and outcome2.became_weakened == ["event-1"]
    kinds = sorted((f.kind, f.event) for f in outcome2.findings)
    assert kinds == [("evidence_lost", "event-2"), ("evidence_lost", "event-3"), ("evidence_weakened", "event-1")]
    memory2 = outcome2.memory
    assert memory2.changed == {"event-1": Health.OK, "event-2": Health.OK} and not memory2.first
    assert [t.counts["lost"] for t in memory2.trend] == [1, 2]

    # a report rebuilt from the stored state after that night gives the same previous_health
    _, outcome3 = night(events, second, memory2, "2026-12-02T02:00:00Z")
    assert [e.to_dict() for e in outcome3.events] == [e.to_dict() for e in outcome2.events]


def test_the_memory_on_disk_and_the_trend_cap(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    assert store.read_health() is None and store.read_health_trend() == []
    memory = HealthMemory()
    for n in range(TREND_RUNS + 5):
        memory = memory.after(f"run-{n}", {"a": Health.OK}, HealthTally(f"at-{n}", {"ok": 1}))
    memory = memory.after(f"run-{TREND_RUNS + 4}", {"a": Health.OK}, HealthTally(f"at-{TREND_RUNS + 4}", {"ok": 1}))
    store.write_health(memory)
    trend = StateStore(tmp_path).read_health_trend()
    assert len(trend) == TREND_RUNS and trend[-1].at == f"at-{TREND_RUNS + 4}" and trend[0].at == "at-5"
    assert StateStore(tmp_path).read_health().to_dict() == memory.to_dict()  # type: ignore[union-attr]
    (tmp_path / "health.json").write_text("{not json", "utf-8")
    broken = StateStore(tmp_path)
    assert broken.read_health() is None and broken.findings[0].kind == FindingKind.STATE_ERROR
