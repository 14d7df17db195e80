"""The events' health inside a run (issue 22): assessed when report.json is built, recorded beside run.json.

One step for every command that builds a report: ``archiver run`` and ``archiver check`` (the night's build
step), ``archiver merge`` (recording) and ``archiver report`` (a rebuild: the memory is read, not written).
A shard's run reports on part of the links only: its merge assesses the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..config import Settings
from ..errors import ConfigError
from ..history.linkstate import LinkState
from ..history.store import StateStore
from ..models import Event, Link
from ..report.health import HealthInputs, HealthOutcome, assess
from ..reportmodel import Report


def asked_archives(settings: Settings) -> tuple[str, ...]:
    """The other archives a lost citation must have been asked about: the configured ``archives``."""
    from ..archives.registry import load_archives  # reads the archive list (YAML): only when a report is built

    try:
        return tuple(a.id for a in load_archives(settings.archives_options))
    except ConfigError:  # the archives stage says so when it runs; here, precision first: names as given
        return tuple(name for name in settings.archives if name and name != "all") or ("all",)


# more than 5 arguments (PLR0913): the report, what it was built from, and whether this run records
def assess_events(settings: Settings, report: Report, links: Iterable[Link],  # noqa: PLR0913
                  store: StateStore, events: Sequence[Event], *, record: bool) -> HealthOutcome:
    """Fill the report's event health from the stored link state and the last run's memory; a recording run
    (``record``) writes the memory for the next one (``snapshots/health.json``, atomically)."""
    states: dict[str, LinkState] = store.states
    given = HealthInputs(events=events, archives=asked_archives(settings), memory=store.read_health())
    outcome = assess(report, links, states, given)
    if record:
        store.write_health(outcome.memory)
    return outcome
