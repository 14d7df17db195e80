"""The event-health vocabulary (archiver/reportmodel/health.py): the shared contract's rules, table by table."""

from __future__ import annotations

import pytest

from archiver.models import LinkStatus
from archiver.reportmodel import (
    ArchivedCopy,
    EvidenceState,
    Health,
    HealthTally,
    LinkEntry,
    TextCopy,
    WaybackCopy,
    citation_fix,
    health_of,
    reader_gets,
)

L, C, X, U = EvidenceState.LIVE, EvidenceState.COPY, EvidenceState.LOST, EvidenceState.UNKNOWN


@pytest.mark.parametrize(("states", "health"), [
    ([L, L], Health.OK), ([C], Health.OK), ([L, C], Health.OK),
    ([L, X], Health.WEAKENED), ([C, U], Health.WEAKENED),
    ([X, X, X], Health.LOST), ([X, U], Health.LOST),
    ([U, U], Health.UNKNOWN), ([], Health.UNKNOWN),
])
def test_an_events_health_follows_from_its_citations(states: list[EvidenceState], health: Health) -> None:
    assert health_of(states) == health


def test_worst_first_order_and_tally_round_trip() -> None:
    assert sorted(Health, key=lambda h: h.order) == [Health.LOST, Health.WEAKENED, Health.UNKNOWN, Health.OK]
    tally = HealthTally.from_dict({"at": "2026-12-01T02:00:00Z", "ok": 3, "lost": 1})
    assert tally.to_dict() == {"at": "2026-12-01T02:00:00Z", "lost": 1, "weakened": 0, "unknown": 0, "ok": 3}


def _entry(status: LinkStatus, **kw: object) -> LinkEntry:
    return LinkEntry(url="https://example.org/a", normalized_url="https://example.org/a", status=status, **kw)  # type: ignore[arg-type]  # keyword extras per case


def test_what_a_reader_gets_and_the_fix() -> None:
    alive = _entry(LinkStatus.ALIVE)
    assert reader_gets(alive).kind == "live page" and citation_fix(alive, L) is None
    copy = ArchivedCopy(archive="arquivo.pt", url="https://arquivo.pt/wayback/1/https://example.org/a",
                        datetime=None, verified=True)
    dead = _entry(LinkStatus.DEAD, copy=copy)
    assert reader_gets(dead).where == copy.url
    assert citation_fix(dead, C) == f"add archive_url: {copy.url} (archiver annotate --write)"
    declared = _entry(LinkStatus.DEAD, copy=copy, archive_urls=[copy.url])
    assert citation_fix(declared, C) is None  # already cited
    unverified = _entry(LinkStatus.DEAD, wayback=WaybackCopy(url="https://web.archive.org/web/1/x", timestamp="1"))
    assert reader_gets(unverified).kind == "nothing"  # an unverified copy is not readable evidence
    text = _entry(LinkStatus.BLOCKED, snapshot=TextCopy(path="snapshots/a/b/snapshot.md", sha256=None,
                                                         captured_at=None, origin="live"))
    assert reader_gets(text).kind == "stored text" and "stored text" in str(citation_fix(text, C))
    assert "new source" in str(citation_fix(_entry(LinkStatus.DEAD), X))
