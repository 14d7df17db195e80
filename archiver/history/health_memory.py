"""What the link state remembers of the events' health (issue 22): ``snapshots/health.json``.

Beside ``run.json``, written atomically by each run that records (``archiver run``, ``archiver check``,
``archiver merge``), never by a report rebuilt from the stored state:

* ``run``: the ``started_at`` of the run that wrote it; ``first``: that run had no earlier health to compare
  with (nothing "became" weakened or lost in it);
* ``events``: each event's health after that run (id: health), sorted by id, one line each;
* ``changed``: the events whose health changed in that run, with the health before it (``null``: the event
  was new), so ``archiver report`` rebuilds that run's ``previous_health`` exactly;
* ``trend``: one :class:`~archiver.reportmodel.HealthTally` per run (events by health), oldest first, the last
  :data:`TREND_RUNS` kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..reportmodel.health import Health, HealthTally

HEALTH_FILE = "health.json"
FORMAT = "archiver.health/1"
#: how many runs the trend keeps (about a year of nights, and then some)
TREND_RUNS = 400


@dataclass(slots=True)
class HealthMemory:
    """The events' health as the last recording run left it, and the trend."""

    run: str | None = None
    first: bool = False
    events: dict[str, Health] = field(default_factory=dict)
    changed: dict[str, Health | None] = field(default_factory=dict)
    trend: list[HealthTally] = field(default_factory=list)

    def baseline(self, run: str | None) -> dict[str, Health] | None:
        """The events' health before the run ``run`` started (None: nothing to compare with). For the run that
        wrote this memory (a report rebuilt from the stored state), the health before its changes."""
        if self.run is None:  # never written: the first run that keeps health
            return None
        if self.run != run:
            return dict(self.events)
        if self.first:
            return None
        before = dict(self.events)
        for event, previous in self.changed.items():
            if previous is None:
                before.pop(event, None)
            else:
                before[event] = previous
        return before

    def after(self, run: str, healths: Mapping[str, Health], tally: HealthTally) -> HealthMemory:
        """The memory once the run ``run`` recorded ``healths`` (its tally joins the trend; a run recorded
        again, as a merge run twice, replaces its own tally)."""
        base = self.baseline(run)
        changed: dict[str, Health | None] = {}
        if base is not None:
            changed = {e: base.get(e) for e, h in healths.items() if base.get(e) != h}
        trend = [t for t in self.trend if t.at != tally.at] + [tally]
        return HealthMemory(run=run, first=base is None, events=dict(sorted(healths.items())),
                            changed=dict(sorted(changed.items())), trend=trend[-TREND_RUNS:])

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "run": self.run, "first": self.first,
                "events": {k: str(v) for k, v in self.events.items()},
                "changed": {k: (str(v) if v is not None else None) for k, v in self.changed.items()},
                "trend": [t.to_dict() for t in self.trend]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthMemory:
        """The stored memory; tolerant (unknown healths and malformed entries are dropped)."""
        events, changed, trend = data.get("events"), data.get("changed"), data.get("trend")
        events = events if isinstance(events, Mapping) else {}
        changed = changed if isinstance(changed, Mapping) else {}
        trend = trend if isinstance(trend, list) else []
        return cls(run=data.get("run") if isinstance(data.get("run"), str) else None, first=bool(data.get("first")),
                   events={str(k): Health(v) for k, v in events.items() if v in _NAMES},
                   changed={str(k): (Health(v) if v in _NAMES else None) for k, v in changed.items()},
                   trend=[HealthTally.from_dict(t) for t in trend if isinstance(t, Mapping)])


_NAMES = frozenset(str(h) for h in Health)
