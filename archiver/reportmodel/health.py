"""Event health (issue 22): can a reader still verify an event from the sources it cites?

The definitions are the shared contract's (``events[]``, ``summary.events``):

* each citation is in one :class:`EvidenceState`: ``live`` (the link is alive), ``copy`` (not alive, but a
  verified good archived copy, in any archive, or stored text of the cited page exists), ``lost`` (dead or
  soft-404, no stored text, and the Wayback Machine and every other archive were asked and hold no good copy),
  ``unknown`` (anything else: blocked or inconclusive without a copy, or dead while an archive has not been
  asked yet);
* an event's :class:`Health` follows from its citations' states (:func:`health_of`).

Which state a link is in is decided where the link state is known (``archiver.report.health``); this module
holds the typed vocabulary the report, its renderers and the reading room share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from ..models import LinkStatus

if TYPE_CHECKING:
    from .links import LinkEntry


class EvidenceState(StrEnum):
    """What a reader gets from one citation (``links[].evidence_state``, ``events[].sources``)."""

    #: the link is alive
    LIVE = "live"
    #: not alive, but a verified good archived copy (any archive) or stored text of the cited page exists
    COPY = "copy"
    #: dead or soft-404, no stored text, and every archive was asked and holds no good copy
    LOST = "lost"
    #: neither readable nor lost: blocked, inconclusive, unchecked, or dead while an archive is still to ask
    UNKNOWN = "unknown"

    @property
    def readable(self) -> bool:
        return self in (EvidenceState.LIVE, EvidenceState.COPY)


class Health(StrEnum):
    """An event's health (``events[].health``)."""

    #: every citation is readable (live or copy)
    OK = "ok"
    #: some citation is lost or unknown, and at least one is readable
    WEAKENED = "weakened"
    #: nothing is readable, and at least one citation is lost
    LOST = "lost"
    #: nothing is readable, and none is lost
    UNKNOWN = "unknown"

    @property
    def order(self) -> int:
        """Worst first: lost, weakened, unknown, ok (the reports' order)."""
        return _HEALTH_ORDER[self]


_HEALTH_ORDER = {Health.LOST: 0, Health.WEAKENED: 1, Health.UNKNOWN: 2, Health.OK: 3}
#: every health, worst first (``summary.events`` counts all four, zeros included)
HEALTHS: tuple[Health, ...] = tuple(sorted(Health, key=lambda h: h.order))


def health_of(states: Iterable[EvidenceState]) -> Health:
    """An event's health from its citations' states (an event citing nothing is ``unknown``)."""
    seen = set(states)
    readable = EvidenceState.LIVE in seen or EvidenceState.COPY in seen
    if readable:
        return Health.WEAKENED if seen & {EvidenceState.LOST, EvidenceState.UNKNOWN} else Health.OK
    return Health.LOST if EvidenceState.LOST in seen else Health.UNKNOWN


@dataclass(frozen=True, slots=True)
class HealthTally:
    """One run's count of events by health (the trend kept with the link state)."""

    #: when the run finished (ISO 8601)
    at: str
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, **{str(h): int(self.counts.get(str(h), 0)) for h in HEALTHS}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthTally:
        return cls(str(data.get("at") or ""), {str(h): int(data.get(str(h)) or 0) for h in HEALTHS})


#: what a reader of the event gets from one source
ReaderKind = Literal["live page", "archived copy", "stored text", "nothing"]


@dataclass(frozen=True, slots=True)
class ReaderGets:
    """What a reader gets from a cited link: the live page, an archived copy (its URL), the stored text (its
    path), or nothing."""

    kind: ReaderKind
    #: the page's URL, the copy's URL or the text's path (None for nothing)
    where: str | None = None


def reader_gets(entry: LinkEntry) -> ReaderGets:
    """What a reader gets from ``entry``: the live page first, then a verified archived copy (the best copy
    named, else the Wayback copy), then the stored text."""
    if entry.status == LinkStatus.ALIVE:
        return ReaderGets("live page", entry.url)
    if entry.copy is not None and entry.copy.verified and entry.copy.url:
        return ReaderGets("archived copy", entry.copy.url)
    if entry.wayback is not None and entry.wayback.verified and entry.wayback.url:
        return ReaderGets("archived copy", entry.wayback.url)
    if entry.snapshot is not None and entry.snapshot.path:
        return ReaderGets("stored text", entry.snapshot.path)
    return ReaderGets("nothing")


def citation_fix(entry: LinkEntry, state: EvidenceState) -> str | None:
    """What would help a citation that is not live, in one line (None when nothing is to be done): the archived
    copy to annotate, or the citation that needs a new source."""
    if state == EvidenceState.LIVE:
        return None
    got = reader_gets(entry)
    if state == EvidenceState.COPY:
        if got.kind == "archived copy" and got.where not in entry.archive_urls:
            return f"add archive_url: {got.where} (archiver annotate --write)"
        if got.kind == "stored text":
            return f"only the stored text ({got.where}) remains: cite an archived copy or a new source"
        return None
    if state == EvidenceState.LOST:
        return "cite a new source: the page is gone and no archive holds a good copy"
    return None
