"""Event health's states (issue 22), the shared contract's tables: what a reader gets from one citation
(:class:`EvidenceState`) and an event's :class:`Health`, with one run's counts (:class:`HealthTally`).

Its own module so that :mod:`.links` (``LinkEntry.evidence_state``) and :mod:`.health` (what a reader gets
from a ``LinkEntry``) both build on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


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
