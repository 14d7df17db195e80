"""report.json's ``run``: how a run went (also what ``snapshots/run.json`` holds after a run)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .links import opt_int, opt_str

# --------------------------------------------------------------------------- the run


@dataclass(frozen=True, slots=True)
class RunChange:
    """What this run changed about one link (``run.changes[]``)."""

    #: newly_failing, newly_confirmed, recovered, moved, new_link
    kind: str
    url: str
    status: str
    previous: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "url": self.url, "status": self.status, "previous": self.previous}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunChange:
        return cls(str(data.get("kind") or ""), str(data.get("url") or ""), str(data.get("status") or ""),
                   data.get("previous"))


@dataclass(frozen=True, slots=True)
class WaybackRun:
    """``run.wayback``: the Wayback stage's summary line and the lookups it left for the next run."""

    summary: str | None
    lookups_left: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"summary": self.summary, "lookups_left": self.lookups_left}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaybackRun:
        return cls(data.get("summary"), int(data.get("lookups_left") or 0))


@dataclass(frozen=True, slots=True)
class ArchivesRun:
    """``run.archives``: the night's archive work on its lanes (see the schema)."""

    summary: str | None
    seconds: float
    #: per lane: done, failed, left, busy_seconds
    lanes: dict[str, dict[str, float | int]] = field(default_factory=dict)
    #: what the night left for the next run, by kind
    left: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"summary": self.summary, "seconds": self.seconds, "lanes": self.lanes, "left": self.left}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArchivesRun:
        return cls(data.get("summary"), data.get("seconds", 0.0), dict(data.get("lanes") or {}),
                   dict(data.get("left") or {}))


@dataclass(frozen=True, slots=True)
class EvidenceStoreRun:
    """``run.evidence_store``: what the run pushed to the evidence store, what is pending and why (issue 21)."""

    #: the store URL without anything that could carry a secret
    store: str
    pushed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"store": self.store, "pushed": self.pushed, "pending": self.pending, "errors": list(self.errors)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvidenceStoreRun:
        return cls(str(data.get("store") or ""), int(data.get("pushed") or 0), int(data.get("pending") or 0),
                   [str(e) for e in data.get("errors") or []])

    def line(self) -> str:
        """The run summary's line: what was pushed, what is pending and why."""
        head = f"evidence store {self.store}: {self.pushed} file(s) pushed"
        if not self.pending:
            return head
        why = f" ({self.errors[0]})" if self.errors else ""
        return f"{head}, {self.pending} pending{why}; the next run or `archiver push` retries them"


@dataclass(slots=True)
class RunRecord:
    """``run``: how a run went (report.json's ``run``, and ``snapshots/run.json`` as the run writes it)."""

    #: ISO 8601 (:func:`archiver.support.timefmt.iso_precise`)
    started_at: str | None
    finished_at: str | None = None
    complete: bool = True
    #: ok, degraded or offline
    network: str = "ok"
    budgets_hit: list[str] = field(default_factory=list)
    #: seconds by stage (written rounded to the millisecond)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    checked: int = 0
    due: int = 0
    shard: str | None = None
    notes: list[str] = field(default_factory=list)
    changes: list[RunChange] = field(default_factory=list)
    #: fingerprints of findings first seen this run (None: nothing to compare with)
    new_findings: list[str] | None = None
    #: what the run did on the network (a run that checked links)
    requests: int | None = None
    hosts: int | None = None
    #: the shards a merged run was made of (``archiver merge``)
    shards: list[str] | None = None
    wayback: WaybackRun | None = None
    archives: ArchivesRun | None = None
    evidence_store: EvidenceStoreRun | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "started_at": self.started_at, "finished_at": self.finished_at, "complete": self.complete,
            "network": self.network, "budgets_hit": list(self.budgets_hit),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "checked": self.checked, "due": self.due, "shard": self.shard, "notes": list(self.notes),
            "changes": [c.to_dict() for c in self.changes],
            "new_findings": None if self.new_findings is None else list(self.new_findings)}
        for key, value in (("requests", self.requests), ("hosts", self.hosts), ("shards", self.shards)):
            if value is not None:
                out[key] = value
        if self.wayback is not None:
            out["wayback"] = self.wayback.to_dict()
        if self.archives is not None:
            out["archives"] = self.archives.to_dict()
        if self.evidence_store is not None:
            out["evidence_store"] = self.evidence_store.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        """A run record (report.json's ``run`` or ``run.json``); tolerant of missing keys."""
        new_findings = data.get("new_findings")
        wayback, archives, shards = data.get("wayback"), data.get("archives"), data.get("shards")
        store = data.get("evidence_store")
        return cls(
            started_at=opt_str(data.get("started_at")), finished_at=opt_str(data.get("finished_at")),
            complete=bool(data.get("complete", False)), network=str(data.get("network") or "ok"),
            budgets_hit=[str(b) for b in data.get("budgets_hit") or []],
            stage_seconds={str(k): v for k, v in (data.get("stage_seconds") or {}).items()},
            checked=int(data.get("checked") or 0), due=int(data.get("due") or 0), shard=opt_str(data.get("shard")),
            notes=[str(n) for n in data.get("notes") or []],
            changes=[RunChange.from_dict(c) for c in data.get("changes") or [] if isinstance(c, Mapping)],
            new_findings=[str(p) for p in new_findings] if isinstance(new_findings, list) else None,
            requests=opt_int(data.get("requests")), hosts=opt_int(data.get("hosts")),
            shards=[str(s) for s in shards] if isinstance(shards, list) else None,
            wayback=WaybackRun.from_dict(wayback) if isinstance(wayback, Mapping) else None,
            archives=ArchivesRun.from_dict(archives) if isinstance(archives, Mapping) else None,
            evidence_store=EvidenceStoreRun.from_dict(store) if isinstance(store, Mapping) else None)
