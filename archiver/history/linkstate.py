"""Link history across runs: confirmation of deaths, recoveries and what is due.

One failed check is not death. Following InternetArchiveBot's rule (a link is dead
after 3 dead results at least 3 days apart, any live result resets it), a ``dead`` or
``soft_404`` verdict becomes ``confirmed`` only after ``confirm_checks`` failed checks
spanning at least ``confirm_days`` days with no success in between. Inconclusive
verdicts (``blocked``, ``error``) neither count nor reset. Failures seen while the
network was offline or degraded are recorded but never counted.

This module is pure: :class:`LinkState` records in, updated records out. Storing
them is :mod:`archiver.history.store`'s job; what is due when, :mod:`archiver.history.schedule`'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..models import FAILING_STATUSES, CheckResult, LinkStatus
from ..options import HistoryOptions
from ..support.timefmt import iso, parse_iso
from .archives_record import ArchivesRecord
from .replacement_record import ReplacementRecord
from .wayback_record import WaybackRecord

#: how many runs of identical verdicts a link keeps
HISTORY_RUNS = 8


@dataclass(slots=True)
class VerdictRun:
    """Consecutive checks with the same verdict: a recheck that changes nothing only moves ``last``."""

    status: LinkStatus
    http_status: int | None
    first: str
    last: str
    count: int = 1
    #: False when the failures were seen while the network was down (they never count)
    counted: bool = True

    def __post_init__(self) -> None:
        self.status = LinkStatus(self.status)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value, "http_status": self.http_status, "first": self.first,
                               "last": self.last, "count": self.count}
        if not self.counted:
            out["counted"] = False
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerdictRun:
        return cls(status=LinkStatus(data["status"]), http_status=data.get("http_status"), first=data["first"],
                   last=data["last"], count=int(data.get("count", 1)), counted=bool(data.get("counted", True)))


@dataclass(slots=True)
class LinkState:
    """Everything the pipeline remembers about one distinct link."""

    url: str
    normalized_url: str
    first_seen: str
    status: LinkStatus = LinkStatus.UNCHECKED
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
    wayback: WaybackRecord | None = None
    #: text snapshots kept for this link, filled by the snapshot stage
    snapshot: dict[str, Any] | None = None
    #: other archives' knowledge (Memento), filled by the archives stage; None (not written) for most links
    archives: ArchivesRecord | None = None
    #: the verified new address of a dead link (the relocate stage, issue 23); None (not written) for most links
    replacement: ReplacementRecord | None = None
    #: the relocate stage's last search without a replacement: {"searched": iso, "reason": sentence}; None (not
    #: written) for most links
    relocation_search: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.status = LinkStatus(self.status)

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "url": self.url,
            "normalized_url": self.normalized_url,
            "status": self.status.value,
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
            out["wayback"] = self.wayback.to_dict()
        if self.snapshot is not None:
            out["snapshot"] = self.snapshot
        if self.archives is not None:
            out["archives"] = self.archives.to_dict()
        if self.replacement is not None:
            out["replacement"] = self.replacement.to_dict()
        if self.relocation_search is not None:
            out["relocation_search"] = self.relocation_search
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkState:
        return cls(
            url=data["url"], normalized_url=data["normalized_url"], first_seen=data["first_seen"],
            status=LinkStatus(data.get("status", LinkStatus.UNCHECKED)), confirmed=bool(data.get("confirmed", False)),
            http_status=data.get("http_status"), final_url=data.get("final_url"),
            redirects=list(data.get("redirects", [])), error=data.get("error"),
            evidence=data.get("evidence"), moved_to=data.get("moved_to"), content_type=data.get("content_type"),
            last_checked=data.get("last_checked"), last_alive=data.get("last_alive"),
            first_failed=data.get("first_failed"), failures=int(data.get("failures", 0)),
            history=[VerdictRun.from_dict(r) for r in data.get("history", [])],
            wayback=WaybackRecord.from_dict(data["wayback"]) if data.get("wayback") else None,
            snapshot=data.get("snapshot"), extracted=data.get("extracted"),
            archives=ArchivesRecord.from_dict(data["archives"]) if data.get("archives") else None,
            replacement=(ReplacementRecord.from_dict(data["replacement"])
                         if isinstance(data.get("replacement"), dict) and data["replacement"].get("url") else None),
            relocation_search=(data["relocation_search"] if isinstance(data.get("relocation_search"), dict)
                               else None),
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


def apply_result(state: LinkState, result: CheckResult, options: HistoryOptions, *,
                 counted: bool = True) -> list[Change]:
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
    state.moved_to = result.moved_to if result.status == LinkStatus.ALIVE else None

    if result.status == LinkStatus.ALIVE:
        state.last_alive = when
        state.failures = 0
        state.first_failed = None
        state.confirmed = False
        if was_failing or was_confirmed:
            changes.append(Change(state.normalized_url, "recovered", LinkStatus.ALIVE, previous))
        if state.moved_to and state.moved_to != previous_move:
            changes.append(Change(state.normalized_url, "moved", LinkStatus.ALIVE, previous))
    elif failed and counts:
        state.failures += 1
        if state.first_failed is None:
            state.first_failed = when
        if not was_failing and state.failures == 1:
            changes.append(Change(state.normalized_url, "newly_failing", result.status, previous))
        if not state.confirmed and is_confirmable(state, result.checked_at, options):
            state.confirmed = True
            changes.append(Change(state.normalized_url, "newly_confirmed", result.status, previous))
    # blocked / error, and failures seen while the network was down: recorded, but the
    # streak is neither extended nor reset

    _append_history(state, result, when, counted=counts)
    return changes


def is_confirmable(state: LinkState, now: dt.datetime, options: HistoryOptions) -> bool:
    first = parse_iso(state.first_failed)
    if first is None:
        return False
    span_days = (now - first).total_seconds() / 86400
    return state.failures >= options.confirm_checks and span_days >= options.confirm_days


def _append_history(state: LinkState, result: CheckResult, when: str, *, counted: bool) -> None:
    last = state.history[-1] if state.history else None
    if last and (last.status, last.http_status, last.counted) == (result.status, result.http_status, counted):
        last.last = when
        last.count += 1
        return
    state.history.append(VerdictRun(status=result.status, http_status=result.http_status, first=when, last=when,
                                    counted=counted))
    del state.history[:-HISTORY_RUNS]
