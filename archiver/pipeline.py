"""Stage orchestration: load the timeline, check links, write report.json.

:func:`check_stage` is the async stage (one event loop, no ``asyncio.run`` inside);
:func:`run_check` is the synchronous entry used by ``archiver check``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from .check import CheckRun, check_links
from .config import Settings
from .events import load_events
from .links import build_catalog
from .models import CheckResult, Finding, Link
from .progress import StageProgress
from .report import RunInfo, build_report, write_json_report

EXIT_OK, EXIT_FAILED = 0, 2


@dataclass(slots=True)
class CheckOutcome:
    report: dict[str, Any]
    report_path: Path
    run: CheckRun
    exit_code: int
    #: the one-line summary for people
    summary: str
    #: one clear line when the run could not do its job (network offline), else None
    problem: str | None = None


def link_findings(link: Link, result: CheckResult | None) -> list[Finding]:
    """``dead_link``, ``soft_404``, ``blocked`` and ``moved`` findings, one per citation."""
    if result is None:
        return []
    out: list[Finding] = []
    for c in link.citations:
        where: dict[str, Any] = {"file": c.file, "line": c.line, "event": c.event, "source_index": c.source_index,
                                 "url": link.url}
        prefix = f"source {c.source_index}: {link.url}"
        archived = link.archive_urls[0] if link.archive_urls else None
        if result.status == "dead":
            out.append(Finding(
                kind="dead_link", severity="error", message=f"{prefix} is dead: {result.evidence or result.error}",
                actual=result.http_status if result.http_status is not None else result.error,
                fix=f"cite the archived copy {archived}" if archived
                else "find the page's new address, or cite an archived copy (web.archive.org)", **where))
        elif result.status == "soft_404":
            out.append(Finding(
                kind="soft_404", severity="warning",
                message=f"{prefix} no longer shows the cited page: {result.evidence}",
                actual=result.final_url or link.url,
                fix=f"cite the archived copy {archived}" if archived
                else "find the page's new address, or cite an archived copy (web.archive.org)", **where))
        elif result.status == "blocked":
            out.append(Finding(
                kind="blocked", severity="info",
                message=f"{prefix} could not be verified, the site blocks automated checks ({result.evidence}); "
                        "this is not evidence that the page is gone", **where))
        if result.moved_to and result.status == "alive":
            out.append(Finding(
                kind="moved", severity="info", message=f"{prefix} permanently redirects to {result.moved_to}",
                expected=result.moved_to, actual=link.url, fix=f"replace the url with {result.moved_to}", **where))
    return out


def result_extras(results: dict[str, CheckResult]) -> dict[str, dict[str, Any]]:
    """Per-link fields the contract allows beyond its own: timing, content type, connection failure."""
    out: dict[str, dict[str, Any]] = {}
    for key, result in results.items():
        extra: dict[str, Any] = {"elapsed": result.elapsed, "content_type": result.content_type}
        if result.connection_failure:
            extra["connection_failure"] = True
        if result.body_truncated:
            extra["body_truncated"] = True
        out[key] = extra
    return out


def _counts(results: Iterable[CheckResult]) -> str:
    counts = Counter(r.status for r in results)
    order = ("alive", "dead", "soft_404", "blocked", "error", "invalid")
    return ", ".join(f"{counts[s]} {s}" for s in order if counts[s]) or "nothing checked"


async def check_stage(settings: Settings, *, stream: TextIO | None = None, progress: bool = True) -> CheckOutcome:
    """Check every link of the timeline and write ``report.json``."""
    stream = stream or sys.stderr
    started_at = settings.clock()
    t0 = time.monotonic()
    loaded = load_events(settings.events, max_file_bytes=settings.max_event_bytes)
    catalog = build_catalog(loaded.events)
    checkable = catalog.checkable
    budgets: list[str] = []
    if settings.max_links is not None and len(checkable) > settings.max_links:
        checkable = checkable[: settings.max_links]
        budgets.append("max_links")
    deadline = t0 + settings.time_budget if settings.time_budget else None

    with StageProgress("check", len(checkable), stream=stream, enabled=progress) as bar:
        run = await check_links(checkable, settings, on_result=lambda _link, _result: bar.advance(),
                                keep_bodies=False, deadline=deadline)
    if run.stopped == "time_budget":
        budgets.append("time_budget")

    findings: list[Finding] = [*loaded.findings, *catalog.findings]
    for link in catalog.links:
        findings.extend(link_findings(link, run.results.get(link.normalized_url)))

    notes: list[str] = []
    if run.network.message:
        notes.append(run.network.message)
    if run.stopped == "network_offline" and len(run.results) < len(checkable):
        notes.append("stopped early: the network is offline; unchecked links were not reached")
    elif run.stopped == "time_budget":
        notes.append(f"stopped at the time budget ({settings.time_budget:g}s); unchecked links were not reached")
    info = RunInfo(started_at=started_at, complete=run.complete and not budgets, network=run.network.status,
                   budgets_hit=budgets, checked=len(run.results), notes=notes)
    info.stage_seconds["check"] = run.elapsed
    info.finished_at = settings.clock()
    report = build_report(catalog.links, run.results, findings, info, extras=result_extras(run.results))
    report["run"]["requests"] = run.requests
    report["run"]["hosts"] = run.hosts
    path = write_json_report(report, settings.report_dir)

    summary = (f"checked {len(run.results)} of {len(catalog.links)} links on {run.hosts} hosts in "
               f"{time.monotonic() - t0:.1f}s: {_counts(run.results.values())}; network {run.network.status}; "
               f"report: {path}")
    problem = None
    code = EXIT_OK
    if run.network.status == "offline":
        problem = run.network.message
        code = EXIT_FAILED
    return CheckOutcome(report=report, report_path=path, run=run, exit_code=code, summary=summary, problem=problem)


def run_check(settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None,
              progress: bool = True) -> int:
    """``archiver check``: run the stage in one event loop, print the summary, return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    if not settings.events.exists():
        print(f"archiver: events folder {settings.events} does not exist (set --events or ARCHIVER_EVENTS)", file=err)
        return EXIT_FAILED
    try:
        outcome = asyncio.run(check_stage(settings, stream=err, progress=progress))
    except OSError as exc:
        print(f"archiver: check failed: {exc}", file=err)
        return EXIT_FAILED
    print(outcome.summary, file=out)
    if outcome.problem:
        print(f"archiver: {outcome.problem}", file=err)
    elif outcome.run.network.message:
        print(f"archiver: warning: {outcome.run.network.message}", file=err)
    return outcome.exit_code
