"""What is due tonight: which links to check, in which order, and what their archive work is worth.

New links first, then failing ones (after ``failing_recheck_hours``), inconclusive ones, the
stale (every ``recheck_days``, spread over the nights by :func:`night_bucket`) and confirmed
dead links last (every ``dead_recheck_days``). Pure functions of :class:`LinkState` records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import IntEnum

from ..models import FAILING_STATUSES, LinkStatus
from ..options import HistoryOptions
from ..support.lanes import Work
from ..support.timefmt import parse_iso
from .linkstate import LinkState

#: inconclusive or never-checked verdicts (rechecked after ``failing_recheck_hours``)
_UNSETTLED = frozenset({LinkStatus.ERROR, LinkStatus.UNCHECKED})


class CheckPriority(IntEnum):
    """How urgent a due check is (lower first; :func:`due_priority`)."""

    #: never checked
    NEW = 0
    #: failing but not confirmed (after ``failing_recheck_hours``), or a page that missed its snapshot
    FAILING = 1
    #: inconclusive or never settled (after ``failing_recheck_hours``)
    ERROR = 2
    #: alive, blocked or invalid: every ``recheck_days``, spread over the nights
    STALE = 3
    #: confirmed dead: every ``dead_recheck_days`` (pages come back)
    DEAD = 4


def night_bucket(url: str, cycle: int) -> int:
    """The link's own night of a ``cycle``-night cycle (a stable hash of its normalized URL), so
    nights share the rechecks evenly; the Wayback lookups use the same buckets."""
    digest = hashlib.sha256(url.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") % cycle


def _cycle_due(state: LinkState, now: dt.datetime, days: float) -> bool:
    """Due once per ``days`` on the link's own day of the cycle, so nights share the work evenly.

    A link is rechecked on the night whose day number (mod the cycle) equals its
    bucket, provided it was not checked within the last 20 hours; a link whose night
    was missed (a budget, a skipped run) is due as soon as it is a cycle overdue.
    """
    last = parse_iso(state.last_checked)
    if last is None:
        return True
    age_days = (now - last).total_seconds() / 86400
    if age_days >= days + 1:
        return True
    cycle = max(1, round(days))
    return age_days >= 20 / 24 and now.date().toordinal() % cycle == night_bucket(state.normalized_url, cycle)


def rested(state: LinkState, now: dt.datetime, options: HistoryOptions) -> bool:
    """Whether a failing or inconclusive link has waited ``failing_recheck_hours`` since its last check.

    A same-night rerun (a retried CI job) does not check again what the first run checked a few
    hours ago; the next night (at least that many hours later) does, so deaths are confirmed and
    recoveries noticed on the same nights as without the wait. A last verdict that did not count
    (seen while the network was offline or degraded, or left uncounted by a killed run) does not
    make the link wait.
    """
    last = parse_iso(state.last_checked)
    if last is None or (state.history and not state.history[-1].counted):
        return True
    return (now - last).total_seconds() >= options.failing_recheck_hours * 3600


def resting(states: dict[str, LinkState], normalized_urls: list[str], now: dt.datetime,
            options: HistoryOptions) -> tuple[int, dt.datetime | None]:
    """Failing or inconclusive links not due now only because they were checked less than
    ``failing_recheck_hours`` ago: how many, and when the first of them is due again."""
    count, first = 0, None
    for key in normalized_urls:
        state = states.get(key)
        if state is None or due_priority(state, now, options) is not None or state.confirmed:
            continue
        if not (state.failing or state.failures or state.status in _UNSETTLED):
            continue
        last = parse_iso(state.last_checked)
        if last is None:
            continue
        count += 1
        again = last + dt.timedelta(hours=options.failing_recheck_hours)
        first = again if first is None or again < first else first
    return count, first


def due_priority(state: LinkState | None, now: dt.datetime, options: HistoryOptions) -> CheckPriority | None:
    """The link's priority when a check is due now, else None."""
    if state is None or state.last_checked is None:
        return CheckPriority.NEW
    if options.snapshot_pages and state.status == LinkStatus.ALIVE and state.extracted != state.last_checked:
        # its page was checked but never reached the snapshot store (a killed run): due at once, no wait
        return CheckPriority.FAILING
    if state.confirmed:
        return CheckPriority.DEAD if _cycle_due(state, now, options.dead_recheck_days) else None
    if state.failing or state.failures:
        return CheckPriority.FAILING if rested(state, now, options) else None
    if state.status in _UNSETTLED:
        return CheckPriority.ERROR if rested(state, now, options) else None
    # alive, blocked and invalid (refused for safety): every recheck_days, spread over the nights
    return CheckPriority.STALE if _cycle_due(state, now, options.recheck_days) else None


def select_due(
    states: dict[str, LinkState], normalized_urls: list[str], now: dt.datetime, options: HistoryOptions,
) -> list[str]:
    """Normalized URLs due now, most urgent first (stable within a priority: oldest check first)."""
    due: list[tuple[int, str, int, str]] = []
    for order, key in enumerate(normalized_urls):
        state = states.get(key)
        priority = due_priority(state, now, options)
        if priority is not None:
            last = state.last_checked if state and state.last_checked else ""
            due.append((priority, last, order, key))
    due.sort()
    return [key for _, _, _, key in due]


# --------------------------------------------------------------------------- the night's archive work


def has_text(state: LinkState) -> bool:
    """The link's text is kept: extracted from the live page once, or rescued from an archive."""
    wb, other = state.wayback, state.archives
    return bool(state.extracted or (wb is not None and wb.rescued is not None and wb.rescued.result == "written")
                or (other is not None and other.rescued))


def work_for(state: LinkState | None) -> Work:
    """What the archive calls for a link buy, in the night's value order (:class:`~archiver.support.lanes.Work`):
    a copy for a newly failing link (not confirmed yet), text for a blocked link without any, a copy for an
    older failing link, then lookups of the rest."""
    if state is None:
        return Work.LOOKUP
    if state.status in FAILING_STATUSES:
        return Work.OLD_FAILING if state.confirmed else Work.NEW_FAILING
    if state.status == LinkStatus.BLOCKED and not has_text(state):
        return Work.BLOCKED_TEXT
    return Work.LOOKUP
