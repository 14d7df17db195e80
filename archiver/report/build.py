"""The status report: report.json (the contract in schema/report-v1.schema.json)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..history.linkstate import LinkState
from ..models import Finding, Hop, Link, LinkStatus
from ..reportmodel import (
    SCHEMA_ID,
    ArchivedCopy,
    HealthTally,
    LinkEntry,
    LinkExtras,
    Replacement,
    Report,
    RunChange,
    RunRecord,
    Summary,
    TextCopy,
    WaybackCopy,
    merge_extras,
)
from ..support import atomic
from ..support.timefmt import iso_precise
from .view import EventView

__all__ = ["SCHEMA_ID", "LinkExtras", "Report", "RunInfo", "build_report", "load_schema", "merge_extras",
           "write_reports"]



def load_schema() -> dict[str, Any]:
    """The report contract shipped inside the package."""
    text = resources.files("archiver").joinpath("schema/report-v1.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(slots=True)
class RunInfo:
    """What a run collects about itself as it goes; :meth:`record` is the report's ``run``."""

    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    complete: bool = True
    network: str = "ok"
    budgets_hit: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    checked: int = 0
    due: int = 0
    notes: list[str] = field(default_factory=list)
    #: what this run changed (newly_failing, newly_confirmed, ...)
    changes: list[RunChange] = field(default_factory=list)
    shard: str | None = None
    #: fingerprints of findings first seen this run (None: nothing to compare with, see fingerprints.py)
    new_findings: list[str] | None = None
    #: the report's ``generated_at`` when it is not the run's end (a report rebuilt from the stored state)
    generated_at: dt.datetime | None = None

    def record(self) -> RunRecord:
        return RunRecord(started_at=iso_precise(self.started_at), finished_at=iso_precise(self.finished_at),
                         complete=self.complete, network=self.network, budgets_hit=list(self.budgets_hit),
                         stage_seconds=dict(self.stage_seconds), checked=self.checked, due=self.due,
                         shard=self.shard, notes=list(self.notes), changes=list(self.changes),
                         new_findings=None if self.new_findings is None else list(self.new_findings))


def link_entry(link: Link, state: LinkState | None, extra: LinkExtras | None = None) -> LinkEntry:
    """One ``links[]`` entry: the link as cited with its latest known state."""
    if not link.checkable:
        status, error = LinkStatus.INVALID, link.invalid_reason
    else:
        status, error = (state.status, state.error) if state else (LinkStatus.UNCHECKED, None)
    entry = LinkEntry(url=link.url, normalized_url=link.normalized_url, status=status, error=error,
                      domain=link.domain, citations=list(link.citations), archive_urls=list(link.archive_urls))
    if state is not None:
        _state_fields(entry, state)
    if extra is not None:
        entry.elapsed, entry.content_type = extra.elapsed, extra.content_type
        entry.connection_failure, entry.body_truncated = extra.connection_failure, extra.body_truncated
        entry.snapshot_note, entry.outlet = extra.snapshot_note, extra.outlet
        if extra.snapshot_set:
            entry.snapshot = extra.snapshot
            entry.snapshot_place = entry.snapshot_place or "extra"
    return entry


def _state_fields(entry: LinkEntry, state: LinkState) -> None:
    entry.confirmed, entry.http_status, entry.final_url = state.confirmed, state.http_status, state.final_url
    entry.redirects = [Hop(str(h["url"]), h.get("status")) for h in state.redirects]
    entry.evidence, entry.checked_at, entry.first_failed_at = state.evidence, state.last_checked, state.first_failed
    entry.failures, entry.last_alive_at, entry.moved_to = state.failures, state.last_alive, state.moved_to
    if state.snapshot:
        entry.snapshot, entry.snapshot_place = TextCopy.from_dict(state.snapshot), "state"
    wb = state.wayback
    if wb is not None:
        entry.wayback = WaybackCopy(url=wb.url, timestamp=wb.timestamp, saved_this_run=wb.saved_this_run,
                                    verified=wb.verified)
    if state.archives:
        entry.archives, entry.copy = archive_copies(state)
    rep = state.replacement
    if rep is not None and rep.active and state.failing:  # a verified new address (the relocate stage)
        entry.replacement = Replacement(rep.url, rep.method, rep.evidence, rep.title_similarity, rep.checked_at)


def archive_copies(state: LinkState) -> tuple[list[ArchivedCopy], ArchivedCopy | None]:
    """``archives`` (the good captures other archives hold: archive, url, datetime, verified) and ``copy`` (the
    best copy to cite, naming its archive: the Wayback copy when it is verified or the only one), for a link
    another archive was asked about (other links' entries are unchanged)."""
    rec = state.archives
    assert rec is not None
    captures = [ArchivedCopy(c.archive, c.url, _ts_iso(c.timestamp), c.verified)
                for c in sorted(rec.captures, key=lambda c: (c.archive, c.timestamp)) if c.usable]
    wb = state.wayback
    if wb is not None and wb.url and (wb.verified or not (rec.url and rec.verified)):
        return captures, ArchivedCopy("wayback", wb.url, _ts_iso(wb.timestamp or ""), bool(wb.verified))
    if rec.url:
        return captures, ArchivedCopy(rec.archive or "", rec.url, _ts_iso(rec.timestamp or ""), rec.verified)
    return captures, None


def _ts_iso(ts: str) -> str | None:
    if len(ts) < 14 or not ts[:14].isdigit():
        return None
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


def text_copies(entries: Iterable[LinkEntry]) -> dict[str, dict[str, int]]:
    """Per outlet (the registry's name for the link's host, else its domain): citations with a text copy by
    where it came from (``live``, ``wayback``, ``archive``: another archive) and without one (``none``)."""
    counts: dict[str, Counter[str]] = {}
    for e in entries:
        if e.status is LinkStatus.INVALID:
            continue
        where = e.snapshot.source if e.snapshot is not None else "none"
        counts.setdefault(e.outlet_name or "?", Counter())[where] += len(e.citations)
    return {outlet: {k: n[k] for k in ("live", "wayback", "archive", "none")} for outlet, n in sorted(counts.items())}


def build_report(
    links: Iterable[Link],
    states: Mapping[str, LinkState],
    findings: Iterable[Finding],
    run: RunInfo,
    extras: Mapping[str, LinkExtras] | None = None,
) -> Report:
    """Assemble report.json. ``states`` and ``extras`` are keyed by normalized URL."""
    extras = extras or {}
    entries = [link_entry(link, states.get(link.normalized_url), extras.get(link.normalized_url))
               for link in links]
    found = list(findings)
    summary = Summary(links=dict(sorted(Counter(str(e.status) for e in entries).items())),
                      confirmed=sum(1 for e in entries if e.confirmed),
                      findings=dict(sorted(Counter(str(f.kind) for f in found).items())),
                      citations=sum(len(e.citations) for e in entries), text_copies=text_copies(entries))
    return Report(generated_at=iso_precise(run.generated_at or run.finished_at or run.started_at) or "",
                  run=run.record(), summary=summary, links=entries, findings=found)


#: the files :func:`write_reports` writes into the report folder
REPORT_FILES = ("report.json", "report.md", "report.html")


def write_json_report(report: Report, report_dir: Path) -> Path:
    path = report_dir / "report.json"
    atomic.write_bytes(path, report.to_json())
    return path


@dataclass(frozen=True, slots=True)
class ReportPaths:
    json: Path
    markdown: Path
    html: Path


def write_reports(report: Report, report_dir: Path, *, events: Mapping[str, EventView] | None = None,
                  trend: Sequence[HealthTally] | None = None) -> ReportPaths:
    """Write report.json, report.md and report.html into ``report_dir`` (each atomically).

    ``trend``: the events by health after each recorded run, oldest first
    (:meth:`~archiver.history.store.StateStore.read_health_trend`), for report.html's trend
    chart (None or empty: no history yet, said in one line).

    The Markdown and HTML are built from ``report`` alone plus the events' titles and
    dates, so the same stored state always gives the same three files.
    """
    from .html import html_report
    from .markdown import markdown_report

    json_path = write_json_report(report, report_dir)
    md_path, html_path = report_dir / "report.md", report_dir / "report.html"
    atomic.write_text(md_path, markdown_report(report, events, report_dir=report_dir.as_posix()))
    atomic.write_text(html_path, html_report(report, events, report_dir=report_dir, trend=trend or ()))
    return ReportPaths(json=json_path, markdown=md_path, html=html_path)
