"""Link history across runs: confirmation of deaths, recoveries and what is due.

One failed check is not death. Following InternetArchiveBot's rule (a link is dead
after 3 dead results at least 3 days apart, any live result resets it), a ``dead`` or
``soft_404`` verdict becomes ``confirmed`` only after ``confirm_checks`` failed checks
spanning at least ``confirm_days`` days with no success in between. Inconclusive
verdicts (``blocked``, ``error``) neither count nor reset. Failures seen while the
network was offline or degraded are recorded but never counted.

This module is pure: :class:`LinkState` records in, updated records out. Storing
them is :mod:`archiver.history.store`'s job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..config import Settings
from ..models import FAILING_STATUSES, CheckResult

#: how many runs of identical verdicts a link keeps
HISTORY_RUNS = 8


def iso(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(slots=True)
class VerdictRun:
    """Consecutive checks with the same verdict: a recheck that changes nothing only moves ``last``."""

    status: str
    http_status: int | None
    first: str
    last: str
    count: int = 1
    #: False when the failures were seen while the network was down (they never count)
    counted: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "http_status": self.http_status, "first": self.first,
                               "last": self.last, "count": self.count}
        if not self.counted:
            out["counted"] = False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerdictRun:
        return cls(status=data["status"], http_status=data.get("http_status"), first=data["first"],
                   last=data["last"], count=int(data.get("count", 1)), counted=bool(data.get("counted", True)))


@dataclass(slots=True)
class LinkState:
    """Everything the pipeline remembers about one distinct link."""

    url: str
    normalized_url: str
    first_seen: str
    status: str = "unchecked"
    confirmed: bool = False
    http_status: int | None = None
    final_url: str | None = None
    #: the redirect chain of the latest check: [{"url", "status"}]
    redirects: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    evidence: str | None = None
    moved_to: str | None = None
    content_type: str | None = None
    last_checked: str | None = None
    last_alive: str | None = None
    #: first counted failure of the current streak (None when not failing)
    first_failed: str | None = None
    #: consecutive counted failures (dead / soft_404) since the last success
    failures: int = 0
    history: list[VerdictRun] = field(default_factory=list)
    #: ``last_checked`` of the check whose page the snapshot stage has dealt with; a run
    #: killed between the check and the snapshot leaves it behind, so the link is due again
    extracted: str | None = None
    #: Wayback Machine knowledge (captures, pending saves), filled by the wayback stage
    wayback: dict[str, Any] | None = None
    #: text snapshots kept for this link, filled by the snapshot stage
    snapshot: dict[str, Any] | None = None

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.url,
            "normalized_url": self.normalized_url,
            "status": self.status,
            "confirmed": self.confirmed,
            "http_status": self.http_status,
            "final_url": self.final_url,
            "redirects": self.redirects,
            "error": self.error,
            "evidence": self.evidence,
            "moved_to": self.moved_to,
            "content_type": self.content_type,
            "first_seen": self.first_seen,
            "last_checked": self.last_checked,
            "last_alive": self.last_alive,
            "first_failed": self.first_failed,
            "failures": self.failures,
            "history": [run.to_dict() for run in self.history],
        }
        if self.extracted is not None:
            out["extracted"] = self.extracted
        if self.wayback is not None:
            out["wayback"] = self.wayback
        if self.snapshot is not None:
            out["snapshot"] = self.snapshot
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkState:
        return cls(
            url=data["url"], normalized_url=data["normalized_url"], first_seen=data["first_seen"],
            status=data.get("status", "unchecked"), confirmed=bool(data.get("confirmed", False)),
            http_status=data.get("http_status"), final_url=data.get("final_url"),
            redirects=list(data.get("redirects", [])), error=data.get("error"),
            evidence=data.get("evidence"), moved_to=data.get("moved_to"), content_type=data.get("content_type"),
            last_checked=data.get("last_checked"), last_alive=data.get("last_alive"),
            first_failed=data.get("first_failed"), failures=int(data.get("failures", 0)),
            history=[VerdictRun.from_dict(r) for r in data.get("history", [])],
            wayback=data.get("wayback"), snapshot=data.get("snapshot"), extracted=data.get("extracted"),
        )

    @property
    def failing(self) -> bool:
        return self.status in FAILING_STATUSES


# --------------------------------------------------------------------------- applying a verdict


@dataclass(frozen=True, slots=True)
class Change:
    """What one verdict changed, for the report's "since the previous run" section."""

    normalized_url: str
    kind: str  # newly_failing | newly_confirmed | recovered | moved | new_link
    status: str
    previous: str | None = None


def new_state(url: str, normalized_url: str, now: dt.datetime) -> LinkState:
    return LinkState(url=url, normalized_url=normalized_url, first_seen=iso(now))


def apply_result(state: LinkState, result: CheckResult, settings: Settings, *, counted: bool = True) -> list[Change]:
    """Record one verdict in ``state`` (in place) and say what changed.

    ``counted`` is False for checks made while the network was offline or degraded:
    their failures are recorded but neither extend nor start a failing streak.
    """
    when = iso(result.checked_at)
    previous, was_confirmed, was_failing = state.status, state.confirmed, state.failing
    changes: list[Change] = []
    failed = result.status in FAILING_STATUSES
    counts = counted or not failed

    state.status = result.status
    state.http_status = result.http_status
    state.final_url = result.final_url
    state.redirects = [{"url": hop.url, "status": hop.status} for hop in result.redirects]
    state.error = result.error
    state.evidence = result.evidence
    state.content_type = result.content_type
    state.last_checked = when
    previous_move = state.moved_to
    state.moved_to = result.moved_to if result.status == "alive" else None

    if result.status == "alive":
        state.last_alive = when
        state.failures = 0
        state.first_failed = None
        state.confirmed = False
        if was_failing or was_confirmed:
            changes.append(Change(state.normalized_url, "recovered", "alive", previous))
        if state.moved_to and state.moved_to != previous_move:
            changes.append(Change(state.normalized_url, "moved", "alive", previous))
    elif failed and counts:
        state.failures += 1
        if state.first_failed is None:
            state.first_failed = when
        if not was_failing and state.failures == 1:
            changes.append(Change(state.normalized_url, "newly_failing", result.status, previous))
        if not state.confirmed and is_confirmable(state, result.checked_at, settings):
            state.confirmed = True
            changes.append(Change(state.normalized_url, "newly_confirmed", result.status, previous))
    # blocked / error, and failures seen while the network was down: recorded, but the
    # streak is neither extended nor reset

    _append_history(state, result, when, counted=counts)
    return changes


def is_confirmable(state: LinkState, now: dt.datetime, settings: Settings) -> bool:
    first = parse_iso(state.first_failed)
    if first is None:
        return False
    span_days = (now - first).total_seconds() / 86400
    return state.failures >= settings.confirm_checks and span_days >= settings.confirm_days


def _append_history(state: LinkState, result: CheckResult, when: str, *, counted: bool) -> None:
    last = state.history[-1] if state.history else None
    if last and (last.status, last.http_status, last.counted) == (result.status, result.http_status, counted):
        last.last = when
        last.count += 1
        return
    state.history.append(VerdictRun(status=result.status, http_status=result.http_status, first=when, last=when,
                                    counted=counted))
    del state.history[:-HISTORY_RUNS]


# --------------------------------------------------------------------------- what is due


#: priority of due work (lower first)
PRIORITY_NEW, PRIORITY_FAILING, PRIORITY_ERROR, PRIORITY_STALE, PRIORITY_DEAD = 0, 1, 2, 3, 4


def _bucket(normalized_url: str, cycle: int) -> int:
    digest = hashlib.sha256(normalized_url.encode("utf-8", "surrogatepass")).digest()
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
    return age_days >= 20 / 24 and now.date().toordinal() % cycle == _bucket(state.normalized_url, cycle)


def rested(state: LinkState, now: dt.datetime, settings: Settings) -> bool:
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
    return (now - last).total_seconds() >= settings.failing_recheck_hours * 3600


def resting(states: dict[str, LinkState], normalized_urls: list[str], now: dt.datetime,
            settings: Settings) -> tuple[int, dt.datetime | None]:
    """Failing or inconclusive links not due now only because they were checked less than
    ``failing_recheck_hours`` ago: how many, and when the first of them is due again."""
    count, first = 0, None
    for key in normalized_urls:
        state = states.get(key)
        if state is None or due_priority(state, now, settings) is not None or state.confirmed:
            continue
        if not (state.failing or state.failures or state.status in ("error", "unchecked")):
            continue
        last = parse_iso(state.last_checked)
        if last is None:
            continue
        count += 1
        again = last + dt.timedelta(hours=settings.failing_recheck_hours)
        first = again if first is None or again < first else first
    return count, first


def due_priority(state: LinkState | None, now: dt.datetime, settings: Settings) -> int | None:
    """The link's priority when a check is due now, else None."""
    if state is None or state.last_checked is None:
        return PRIORITY_NEW
    if settings.snapshot_pages and state.status == "alive" and state.extracted != state.last_checked:
        # its page was checked but never reached the snapshot store (a killed run): due at once, no wait
        return PRIORITY_FAILING
    if state.confirmed:
        return PRIORITY_DEAD if _cycle_due(state, now, settings.dead_recheck_days) else None
    if state.failing or state.failures:
        return PRIORITY_FAILING if rested(state, now, settings) else None
    if state.status in ("error", "unchecked"):
        return PRIORITY_ERROR if rested(state, now, settings) else None
    # alive, blocked and invalid (refused for safety): every recheck_days, spread over the nights
    return PRIORITY_STALE if _cycle_due(state, now, settings.recheck_days) else None


def select_due(
    states: dict[str, LinkState], normalized_urls: list[str], now: dt.datetime, settings: Settings,
) -> list[str]:
    """Normalized URLs due now, most urgent first (stable within a priority: oldest check first)."""
    due: list[tuple[int, str, int, str]] = []
    for order, key in enumerate(normalized_urls):
        state = states.get(key)
        priority = due_priority(state, now, settings)
        if priority is not None:
            last = state.last_checked if state and state.last_checked else ""
            due.append((priority, last, order, key))
    due.sort()
    return [key for _, _, _, key in due]
