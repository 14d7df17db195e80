"""report.json itself: the run, the counts, the links, the findings and the events' health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..models import Finding, FindingKind, Severity
from ..support.gcpause import gc_paused
from .links import LinkEntry, opt_int
from .run import RunRecord
from .states import Health

SCHEMA_ID = "archiver.report/1"


# --------------------------------------------------------------------------- events (the shared contract)


@dataclass(frozen=True, slots=True)
class EventSources:
    """An event's citations by evidence state (``events[].sources``)."""

    live: int
    copy: int
    lost: int
    unknown: int

    def to_dict(self) -> dict[str, object]:
        return {"live": self.live, "copy": self.copy, "lost": self.lost, "unknown": self.unknown}


@dataclass(frozen=True, slots=True)
class EventHealth:
    """``events[]``: can a reader still verify the event from its sources (the shared contract; see
    :mod:`archiver.reportmodel.health`)."""

    id: str
    file: str
    health: Health
    sources: EventSources
    title: str | None = None
    date: str | None = None
    tier1_readable: bool | None = None
    previous_health: Health | None = None

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "file": self.file, "title": self.title, "date": self.date, "health": self.health,
                "sources": self.sources.to_dict(), "tier1_readable": self.tier1_readable,
                "previous_health": self.previous_health}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventHealth:
        s = data["sources"]
        previous = data.get("previous_health")
        return cls(id=str(data["id"]), file=str(data["file"]), health=Health(data["health"]),
                   sources=EventSources(int(s["live"]), int(s["copy"]), int(s["lost"]), int(s["unknown"])),
                   title=data.get("title"), date=data.get("date"), tier1_readable=data.get("tier1_readable"),
                   previous_health=Health(previous) if previous else None)


# --------------------------------------------------------------------------- the report


@dataclass(slots=True)
class Summary:
    """``summary``: links by status, findings by kind, citations and text copies by outlet."""

    links: dict[str, int] = field(default_factory=dict)
    confirmed: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    citations: int = 0
    #: per outlet: citations with a text copy by where it came from (live, wayback, archive) and without (none)
    text_copies: dict[str, dict[str, int]] = field(default_factory=dict)
    #: events by health, all four (the shared contract; filled by :mod:`archiver.report.health`)
    events: dict[str, int] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"links": self.links, "confirmed": self.confirmed, "findings": self.findings,
                                  "citations": self.citations, "text_copies": self.text_copies}
        if self.events is not None:
            out["events"] = self.events
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        return cls(links=dict(data.get("links") or {}), confirmed=int(data.get("confirmed") or 0),
                   findings=dict(data.get("findings") or {}), citations=int(data.get("citations") or 0),
                   text_copies={k: dict(v) for k, v in (data.get("text_copies") or {}).items()},
                   events=dict(data["events"]) if isinstance(data.get("events"), Mapping) else None)


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    """A ``findings[]`` entry as the :class:`~archiver.models.Finding` that wrote it."""
    return Finding(kind=FindingKind(data["kind"]), severity=Severity(data["severity"]), message=str(data["message"]),
                   file=data.get("file"), line=opt_int(data.get("line")), event=data.get("event"),
                   source_index=opt_int(data.get("source_index")), url=data.get("url"),
                   expected=data.get("expected"), actual=data.get("actual"), fix=data.get("fix"),
                   data=data.get("data"))


@dataclass(slots=True)
class Report:
    """report.json: the run, the counts, every link with its state, every finding."""

    generated_at: str
    run: RunRecord
    summary: Summary
    links: list[LinkEntry]
    findings: list[Finding]
    #: the events' health (the shared contract; None: not written)
    events: list[EventHealth] | None = None
    schema: str = SCHEMA_ID

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"schema": self.schema, "generated_at": self.generated_at,
                                  "run": self.run.to_dict(), "summary": self.summary.to_dict(),
                                  "links": [link.to_dict() for link in self.links],
                                  "findings": [f.to_dict() for f in self.findings]}
        if self.events is not None:
            out["events"] = [e.to_dict() for e in self.events]
        return out

    def to_json(self) -> bytes:
        """The bytes of report.json: compact (orjson), one trailing newline."""
        # compact, with orjson: an indented json.dumps goes through the pure-Python encoder
        # (1.5 s for the corpus), a compact one takes 0.09 s, orjson 0.015 s
        with gc_paused():  # some 100,000 short-lived dicts, no cycles: no collection needs to walk them
            return orjson.dumps(self.to_dict(), option=orjson.OPT_NON_STR_KEYS) + b"\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        events = data.get("events")
        return cls(generated_at=str(data["generated_at"]), run=RunRecord.from_dict(data.get("run") or {}),
                   summary=Summary.from_dict(data.get("summary") or {}),
                   links=[LinkEntry.from_dict(e) for e in data.get("links") or []],
                   findings=[finding_from_dict(f) for f in data.get("findings") or []],
                   events=[EventHealth.from_dict(e) for e in events] if isinstance(events, list) else None,
                   schema=str(data.get("schema") or SCHEMA_ID))

    @classmethod
    def from_json(cls, data: bytes | str) -> Report:
        """A report.json read back (``from_json(b).to_json() == b`` for a report this code wrote)."""
        with gc_paused():  # the parsed JSON and the model: many objects, no cycles
            parsed = orjson.loads(data)
            if not isinstance(parsed, dict):
                raise ValueError(f"report.json holds a JSON {type(parsed).__name__}, not an object")
            return cls.from_dict(parsed)
