"""The status report: report.json (the contract in schema/report-v1.schema.json)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from ..history.linkstate import LinkState
from ..models import Finding, Link, LinkStatus
from ..support import atomic
from ..support.timefmt import iso_precise
from .view import EventView

SCHEMA_ID = "archiver.report/1"


def load_schema() -> dict[str, Any]:
    """The report contract shipped inside the package."""
    text = resources.files("archiver").joinpath("schema/report-v1.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(slots=True)
class RunInfo:
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    complete: bool = True
    network: str = "ok"
    budgets_hit: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    checked: int = 0
    due: int = 0
    notes: list[str] = field(default_factory=list)
    #: what this run changed: {"kind", "url", "status", "previous"} (newly_failing, newly_confirmed, ...)
    changes: list[dict[str, Any]] = field(default_factory=list)
    shard: str | None = None
    #: fingerprints of findings first seen this run (None: nothing to compare with, see fingerprints.py)
    new_findings: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "started_at": iso_precise(self.started_at),
            "finished_at": iso_precise(self.finished_at),
            "complete": self.complete,
            "network": self.network,
            "budgets_hit": list(self.budgets_hit),
            "stage_seconds": {k: round(v, 3) for k, v in self.stage_seconds.items()},
            "checked": self.checked,
            "due": self.due,
            "shard": self.shard,
            "notes": list(self.notes),
            "changes": list(self.changes),
            "new_findings": None if self.new_findings is None else list(self.new_findings),
        }


def link_entry(link: Link, state: LinkState | None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One ``links[]`` entry: the link as cited with its latest known state."""
    if not link.checkable:
        status, error = LinkStatus.INVALID, link.invalid_reason
    else:
        status, error = (state.status, state.error) if state else (LinkStatus.UNCHECKED, None)
    entry: dict[str, Any] = {
        "url": link.url,
        "normalized_url": link.normalized_url,
        "status": status,
        "confirmed": bool(state and state.confirmed),
        "http_status": state.http_status if state else None,
        "final_url": state.final_url if state else None,
        "redirects": list(state.redirects) if state else [],
        "error": error,
        "evidence": state.evidence if state else None,
        "checked_at": state.last_checked if state else None,
        "first_failed_at": state.first_failed if state else None,
        "failures": state.failures if state else 0,
        "last_alive_at": state.last_alive if state else None,
        "domain": link.domain,
        "citations": [c.to_dict() for c in link.citations],
        "archive_urls": list(link.archive_urls),
    }
    if state and state.moved_to:
        entry["moved_to"] = state.moved_to
    if state and state.snapshot:
        entry["snapshot"] = state.snapshot
    if state and state.wayback:
        wb = state.wayback.to_dict()
        entry["wayback"] = {k: wb.get(k) for k in ("url", "timestamp", "saved_this_run") if k in wb}
        if wb.get("url"):  # the copy's replay was judged to be the page (false: not yet)
            entry["wayback"]["verified"] = bool(wb.get("verified"))
    if state and state.archives:
        entry.update(archive_copies(state))
    if extra:
        entry.update(extra)
    snapshot = entry.get("snapshot")
    if isinstance(snapshot, dict) and snapshot.get("origin") not in (None, "live", "wayback", "archive"):
        # text from another archive: the contract's origin is "archive", the archive is named apart
        snapshot = dict(snapshot)
        snapshot["archive"] = snapshot.pop("origin")
        snapshot["origin"] = "archive"
        entry["snapshot"] = snapshot
    return entry


def archive_copies(state: LinkState) -> dict[str, Any]:
    """``archives`` (the good captures other archives hold: archive, url, datetime, verified) and ``copy`` (the
    best copy to cite, naming its archive: the Wayback copy when it is verified or the only one), for a link
    another archive was asked about (other links' entries are unchanged)."""
    rec = state.archives
    assert rec is not None
    out: dict[str, Any] = {"archives": [
        {"archive": c.archive, "url": c.url, "datetime": _ts_iso(c.timestamp), "verified": c.verified}
        for c in sorted(rec.captures, key=lambda c: (c.archive, c.timestamp)) if c.usable]}
    wb = state.wayback
    if wb is not None and wb.url and (wb.verified or not (rec.url and rec.verified)):
        out["copy"] = {"archive": "wayback", "url": wb.url, "datetime": _ts_iso(wb.timestamp or ""),
                       "verified": bool(wb.verified)}
    elif rec.url:
        out["copy"] = {"archive": rec.archive, "url": rec.url, "datetime": _ts_iso(rec.timestamp or ""),
                       "verified": rec.verified}
    else:
        out["copy"] = None
    return out


def _ts_iso(ts: str) -> str | None:
    if len(ts) < 14 or not ts[:14].isdigit():
        return None
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


def text_copies(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per outlet (the registry's name for the link's host, else its domain): citations with a text copy by
    where it came from (``live``, ``wayback``, ``archive``: another archive) and without one (``none``)."""
    counts: dict[str, Counter[str]] = {}
    for e in entries:
        if e["status"] == "invalid":
            continue
        snapshot = e.get("snapshot") or {}
        origin = snapshot.get("origin") or ("archive" if snapshot.get("archive") else None)
        where = origin if origin in ("live", "wayback", "archive") else "none" if not snapshot else "live"
        outlet = str(e.get("outlet") or e.get("domain") or "?")
        counts.setdefault(outlet, Counter())[where] += len(e["citations"])
    return {outlet: {k: n[k] for k in ("live", "wayback", "archive", "none")} for outlet, n in sorted(counts.items())}


def build_report(
    links: Iterable[Link],
    states: Mapping[str, LinkState],
    findings: Iterable[Finding],
    run: RunInfo,
    extras: Mapping[str, Mapping[str, Any]] | None = None,
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Assemble report.json. ``states`` and ``extras`` are keyed by normalized URL."""
    extras = extras or {}
    entries = [link_entry(link, states.get(link.normalized_url), extras.get(link.normalized_url))
               for link in links]
    finding_dicts = [f.to_dict() for f in findings]
    return {
        "schema": SCHEMA_ID,
        "generated_at": iso_precise(generated_at or run.finished_at or run.started_at),
        "run": run.to_dict(),
        "summary": {
            "links": dict(sorted(Counter(e["status"] for e in entries).items())),
            "confirmed": sum(1 for e in entries if e["confirmed"]),
            "findings": dict(sorted(Counter(f["kind"] for f in finding_dicts).items())),
            "citations": sum(len(e["citations"]) for e in entries),
            "text_copies": text_copies(entries),
        },
        "links": entries,
        "findings": finding_dicts,
    }


#: the files :func:`write_reports` writes into the report folder
REPORT_FILES = ("report.json", "report.md", "report.html")


def write_json_report(report: Mapping[str, Any], report_dir: Path) -> Path:
    path = report_dir / "report.json"
    # compact, with orjson: an indented json.dumps goes through the pure-Python encoder
    # (1.5 s for the corpus), a compact one takes 0.09 s, orjson 0.015 s
    atomic.write_bytes(path, orjson.dumps(report, option=orjson.OPT_NON_STR_KEYS) + b"\n")
    return path


@dataclass(frozen=True, slots=True)
class ReportPaths:
    json: Path
    markdown: Path
    html: Path


def write_reports(report: Mapping[str, Any], report_dir: Path, *,
                  events: Mapping[str, EventView] | None = None) -> ReportPaths:
    """Write report.json, report.md and report.html into ``report_dir`` (each atomically).

    The Markdown and HTML are built from ``report`` alone plus the events' titles and
    dates, so the same stored state always gives the same three files.
    """
    from .html import html_report
    from .markdown import markdown_report

    json_path = write_json_report(report, report_dir)
    md_path, html_path = report_dir / "report.md", report_dir / "report.html"
    atomic.write_text(md_path, markdown_report(report, events, report_dir=report_dir.as_posix()))
    atomic.write_text(html_path, html_report(report, events, report_dir=report_dir))
    return ReportPaths(json=json_path, markdown=md_path, html=html_path)
