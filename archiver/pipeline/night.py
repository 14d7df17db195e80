"""Stage orchestration: load, catalog, check what is due, snapshot, Wayback, audit, report.

:func:`check_stage` is the async pipeline (one event loop, no ``asyncio.run`` inside);
:func:`run_check` is the synchronous entry used by ``archiver check`` and
:func:`run_pipeline` the one used by ``archiver run`` (the same, plus the Wayback
stage, a one-screen summary and ``--fail-on``).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..audit.stage import audit_stage
from ..config import Settings
from ..history import known_findings as fingerprints
from ..history.linkstate import Change, LinkState, apply_result, new_state
from ..history.lock import LockError, run_lock
from ..history.schedule import resting, select_due
from ..history.shards import Shard
from ..history.store import StateStore
from ..liveness.network import CheckRun, nothing_checked
from ..models import FAILING_STATUSES, CheckResult, Finding, Link
from ..report.build import REPORT_FILES, RunInfo, build_report, write_reports
from ..report.view import event_views
from ..snapshots.stage import SnapshotStage, merge_extras, stored_extras
from ..snapshots.store import SnapshotStore
from ..support import asyncrun
from ..support.gcpause import gc_paused
from ..support.progress import StageProgress
from ..support.timefmt import iso, parse_iso
from ..timeline.catalog import Catalog, build_catalog
from ..timeline.load import LoadResult, load_events

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2
FAIL_ON = ("never", "new-dead", "dead")


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


def link_findings(link: Link, state: LinkState | None) -> list[Finding]:
    """``dead_link``, ``soft_404``, ``blocked`` and ``moved`` findings, one per citation."""
    if state is None or not link.checkable:
        return []
    out: list[Finding] = []
    since = f", failing since {state.first_failed[:10]}" if state.first_failed else ""
    confirmed = (f"confirmed after {state.failures} checks{since}" if state.confirmed
                 else f"not yet confirmed ({state.failures} failed check{'s' if state.failures != 1 else ''}{since})")
    for c in link.citations:
        where: dict[str, Any] = {"file": c.file, "line": c.line, "event": c.event, "source_index": c.source_index,
                                 "url": link.url}
        prefix = f"source {c.source_index}: {link.url}"
        archived = link.archive_urls[0] if link.archive_urls else None
        fix = (f"cite the archived copy {archived}" if archived
               else "find the page's new address, or cite an archived copy (web.archive.org)")
        if state.status == "dead":
            out.append(Finding(
                kind="dead_link", severity="error" if state.confirmed else "warning",
                message=f"{prefix} is dead: {state.evidence or state.error}; {confirmed}",
                actual=state.http_status if state.http_status is not None else state.error, fix=fix, **where))
        elif state.status == "soft_404":
            out.append(Finding(
                kind="soft_404", severity="error" if state.confirmed else "warning",
                message=f"{prefix} no longer shows the cited page: {state.evidence}; {confirmed}",
                actual=state.final_url or link.url, fix=fix, **where))
        elif state.status == "blocked":
            out.append(Finding(
                kind="blocked", severity="info",
                message=f"{prefix} could not be verified, the site blocks automated checks ({state.evidence}); "
                        "this is not evidence that the page is gone", **where))
        if state.moved_to and state.status == "alive":
            out.append(Finding(
                kind="moved", severity="info", message=f"{prefix} permanently redirects to {state.moved_to}",
                expected=state.moved_to, actual=link.url, fix=f"replace the url with {state.moved_to}", **where))
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


def _copy(state: LinkState) -> LinkState:
    return LinkState.from_dict(state.to_dict())


class Recorder:
    """Applies verdicts to link states and persists each one as soon as it is final.

    A failure (dead, soft_404) is written at once as *not counted*, then counted at the
    end of the run if the network turned out fine; a connection-level failure (DNS,
    refused) waits for the run's network state. So a killed run never leaves a failure
    counted that the network state would have discounted.
    """

    def __init__(self, store: StateStore, links: dict[str, Link], settings: Settings, now: dt.datetime) -> None:
        self.store, self.links, self.settings, self.now = store, links, settings, now
        self.changes: list[Change] = []
        self._pending_failures: list[tuple[LinkState, CheckResult]] = []
        self._pending_connection: list[str] = []

    def state_for(self, key: str) -> LinkState:
        state = self.store.states.get(key)
        if state is None:
            link = self.links[key]
            state = new_state(link.url, key, self.now)
        return state

    def record(self, link: Link, result: CheckResult) -> None:
        key = link.normalized_url
        if result.connection_failure:
            self._pending_connection.append(key)
            return
        state = self.state_for(key)
        if result.status in FAILING_STATUSES:
            self._pending_failures.append((_copy(state), result))
            apply_result(state, result, self.settings, counted=False)
        else:
            self.changes.extend(apply_result(state, result, self.settings))
        self.store.save(state)

    def finish(self, run: CheckRun) -> None:
        counted = run.network.status == "ok"
        for before, result in self._pending_failures:
            if counted:
                self.changes.extend(apply_result(before, result, self.settings))
                self.store.save(before)
        if not counted:
            # with the network down or degraded, a DNS or connection failure says nothing about
            # the link: its state keeps its last real verdict (and the link stays due)
            return
        for key in self._pending_connection:
            result = run.results.get(key)
            if result is None:
                continue
            state = self.state_for(key)
            self.changes.extend(apply_result(state, result, self.settings))
            self.store.save(state)


def select_links(catalog_links: list[Link], store: StateStore, now: dt.datetime, settings: Settings,
                 shard: Shard | None) -> tuple[list[Link], list[Link]]:
    """(links this run reports on, links due now in priority order)."""
    scope = [link for link in catalog_links if shard is None or shard.holds(link)]
    checkable = {link.normalized_url: link for link in scope if link.checkable}
    due_keys = select_due(store.states, list(checkable), now, settings)
    return scope, [checkable[key] for key in due_keys]


def waiting_note(store: StateStore, scope: list[Link], now: dt.datetime, settings: Settings) -> str | None:
    """One line on the failing and inconclusive links left alone because they were checked a few hours
    ago (a same-night rerun), or None."""
    count, again = resting(store.states, [link.normalized_url for link in scope if link.checkable], now, settings)
    if not count or again is None:
        return None
    return (f"{count} failing or inconclusive link{'s' if count != 1 else ''} checked less than "
            f"{settings.failing_recheck_hours:g} h ago (failing_recheck_hours) not rechecked; the first is due "
            f"again at {iso(again)}")


async def check_stage(settings: Settings, *, stream: TextIO | None = None, progress: bool = True,
                      shard: Shard | None = None, wayback: bool = False) -> CheckOutcome:
    """Check the links that are due, record them in the link state, write the reports.

    With ``wayback`` (``archiver run``) the Wayback stage runs after the check, within
    the same time budget: lookups, rescues of dead links and saves.
    """
    stream = stream or sys.stderr
    started_at = settings.clock()
    t0 = time.monotonic()
    with gc_paused(freeze=True):  # a million long-lived objects: see gcpause
        loaded = load_events(settings.events, max_file_bytes=settings.max_event_bytes,
                             processes=settings.parse_processes)
        catalog = build_catalog(loaded.events)
        store = StateStore(settings.snapshots).load()
        scope, due = select_links(catalog.links, store, started_at, settings, shard)
        waiting = waiting_note(store, scope, started_at, settings)
    budgets: list[str] = []
    to_check = due
    if settings.max_links is not None and len(due) > settings.max_links:
        to_check = due[: settings.max_links]
        budgets.append("max_links")
    deadline = t0 + settings.time_budget if settings.time_budget else None
    recorder = Recorder(store, {link.normalized_url: link for link in scope}, settings, started_at)

    # the HTTP stack and the extractors are imported only when there is work for them:
    # a night with nothing due starts in a fraction of the time
    snapshots = SnapshotStage(settings) if settings.snapshot_pages and to_check else None

    def on_result(link: Link, result: CheckResult) -> None:
        recorder.record(link, result)
        if snapshots is not None:
            snapshots.offer(link, result)  # takes the body: results keep none
        bar.advance()

    try:
        if to_check:
            from ..liveness.check import check_links

            with StageProgress("check", len(to_check), stream=stream, enabled=progress) as bar:
                run = await check_links(to_check, settings, on_result=on_result,
                                        keep_bodies=snapshots is not None, deadline=deadline)
        else:
            run = nothing_checked()
        if snapshots is not None:
            await snapshots.finish(deadline)
            for key in snapshots.processed:
                state = store.states.get(key)
                if state is not None and state.status == "alive":
                    state.extracted = state.last_checked
                    store.save(state)
    finally:
        if snapshots is not None:
            await snapshots.aclose()
    recorder.finish(run)
    if run.stopped == "time_budget":
        budgets.append("time_budget")
    # one snapshot store (one walk of its folders) for the Wayback stage, the audit and the report
    snapshot_store = snapshots.store if snapshots is not None else SnapshotStore.from_settings(settings)
    archived = None
    if wayback and run.network.status != "offline":
        from ..wayback.stage import wayback_stage

        if progress:
            print("wayback: looking up, rescuing and saving archived copies", file=stream, flush=True)
        part = catalog if shard is None else Catalog(links=scope)
        archived = await wayback_stage(settings, part, store, snapshot_store, now=started_at, deadline=deadline,
                                       stream=stream, progress=progress)
        if progress:
            print(archived.summary, file=stream, flush=True)

    with gc_paused():  # the findings and three reports: many objects, no cycles
        findings: list[Finding] = [*loaded.findings, *catalog.findings, *store.findings]
        for link in scope:
            findings.extend(link_findings(link, store.states.get(link.normalized_url)))
        if snapshots is not None:
            findings.extend(snapshots.findings(scope))
        audited = audit_stage(settings, loaded.events, catalog, scope if shard else None, snapshot_store)
        findings.extend(audited.findings)

        notes: list[str] = [audited.note] if audited.note else []
        if waiting:
            notes.append(waiting)
        if archived is not None:
            findings.extend(archived.findings)
            notes.extend(archived.notes)
        if run.network.message:
            notes.append(run.network.message)
        left = len(due) - len(run.results)
        if run.stopped == "network_offline" and left:
            notes.append(f"stopped early: the network is offline; {left} due links were not checked")
        elif budgets and left:
            notes.append(f"stopped at the {' and '.join(budgets)} budget; {left} due links are left for the next run")
        info = RunInfo(started_at=started_at, complete=run.complete and left == 0, network=run.network.status,
                       budgets_hit=budgets, checked=len(run.results), due=len(due), notes=notes,
                       changes=[{"kind": c.kind, "url": recorder.links[c.normalized_url].url, "status": c.status,
                                 "previous": c.previous} for c in recorder.changes],
                       shard=str(shard) if shard else None)
        if shard is None:  # a shard sees part of the findings: its merge compares them
            info.new_findings = fingerprints.record(settings.snapshots, [f.to_dict() for f in findings])
        info.stage_seconds["check"] = run.elapsed
        if archived is not None:
            info.stage_seconds["wayback"] = archived.seconds
        if snapshots is not None:
            info.stage_seconds["extract"] = snapshots.seconds
            if snapshots.skipped:
                notes.append(f"{snapshots.skipped} pages were not snapshotted: the time budget ran out")
        info.finished_at = settings.clock()
        extras = result_extras(run.results)
        if snapshots is not None:
            extras = merge_extras(extras, snapshots.extras(scope))
        else:  # what earlier runs archived
            extras = merge_extras(extras, stored_extras(snapshot_store, scope))
        extras = merge_extras(extras, audited.outlets)
        info.stage_seconds["audit"] = audited.seconds
        report = build_report(scope, store.states, findings, info, extras=extras)
        report["run"]["requests"] = run.requests
        report["run"]["hosts"] = run.hosts
        if archived is not None:  # for the run's summary: what the stage did, and the lookups left for the next run
            report["run"]["wayback"] = {"summary": archived.summary, "lookups_left": archived.lookups_left}
        store.write_run(report["run"])
        path = write_reports(report, settings.report_dir, events=event_views(loaded.events)).json

    summary = (f"checked {len(run.results)} of {len(due)} due links ({len(scope)} in all) on {run.hosts} hosts "
               f"in {time.monotonic() - t0:.1f}s: {_counts(run.results.values()) if due else 'nothing due'}; "
               f"{waiting + '; ' if waiting else ''}network {run.network.status}; "
               f"{len(recorder.changes)} change(s); "
               f"{snapshots.summary() + '; ' if snapshots is not None else ''}report: {path}")
    problem = None
    code = EXIT_OK
    if run.network.status == "offline":
        problem = run.network.message
        code = EXIT_FAILED
    if archived is not None:
        summary += f"\n{archived.summary}"
    return CheckOutcome(report=report, report_path=path, run=run, exit_code=code, summary=summary, problem=problem)


def run_check(settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None,
              progress: bool = True, shard: Shard | None = None) -> int:
    """``archiver check``: run the stage in one event loop, print the summary, return the exit code."""
    outcome = _run_locked(settings, out=out, err=err, progress=progress, shard=shard, wayback=False)
    return outcome if isinstance(outcome, int) else outcome.exit_code


def run_pipeline(settings: Settings, *, fail_on: str = "never", out: TextIO | None = None,
                 err: TextIO | None = None, progress: bool = True, shard: Shard | None = None) -> int:
    """``archiver run``: the whole pipeline, a one-screen summary, and ``--fail-on``."""
    out = out or sys.stdout
    outcome = _run_locked(settings, out=out, err=err, progress=progress, shard=shard, wayback=True, quiet=True)
    if isinstance(outcome, int):
        return outcome
    print(run_summary(outcome.report, settings), file=out)
    if outcome.exit_code != EXIT_OK:
        return outcome.exit_code
    reason = fail_reason(outcome.report, fail_on)
    if reason:
        print(f"archiver: failing the build (--fail-on {fail_on}): {reason}", file=err or sys.stderr)
        return EXIT_FINDINGS
    return EXIT_OK


def _run_locked(settings: Settings, *, out: TextIO | None, err: TextIO | None, progress: bool,
                shard: Shard | None, wayback: bool, quiet: bool = False) -> CheckOutcome | int:
    out, err = out or sys.stdout, err or sys.stderr
    if not settings.events.exists():
        print(f"archiver: events folder {settings.events} does not exist (set --events or ARCHIVER_EVENTS)", file=err)
        return EXIT_FAILED
    try:
        with run_lock(settings.snapshots, err=err, also_clean=[(settings.report_dir, REPORT_FILES)]):
            outcome = asyncrun.run(check_stage(settings, stream=err, progress=progress, shard=shard, wayback=wayback))
    except LockError as exc:
        print(f"archiver: {exc}", file=err)
        return EXIT_FAILED
    except OSError as exc:
        print(f"archiver: run failed: {exc}", file=err)
        return EXIT_FAILED
    if not quiet:
        print(outcome.summary, file=out)
    if outcome.problem:
        print(f"archiver: {outcome.problem}", file=err)
    elif outcome.run.network.message:
        print(f"archiver: warning: {outcome.run.network.message}", file=err)
    return outcome


def fail_reason(report: dict[str, Any], fail_on: str) -> str | None:
    """Why ``--fail-on`` turns this run red, or None.

    ``new-dead``: a link was confirmed dead (or soft-404) in this run; ``dead``: any
    cited link is confirmed dead or soft-404. Unconfirmed failures never fail a build.
    """
    if fail_on == "new-dead":
        new = [c["url"] for c in report["run"].get("changes", []) if c.get("kind") == "newly_confirmed"]
        return f"{len(new)} link(s) newly confirmed dead: {', '.join(new[:3])}" if new else None
    if fail_on == "dead":
        dead = [e["url"] for e in report["links"] if e.get("confirmed") and e["status"] in FAILING_STATUSES]
        return f"{len(dead)} cited link(s) confirmed dead: {', '.join(dead[:3])}" if dead else None
    return None


def run_summary(report: dict[str, Any], settings: Settings) -> str:
    """The one screen printed at the end of ``archiver run``: what changed, totals, where the reports are."""
    run = report["run"]
    kinds = Counter(c.get("kind") for c in run.get("changes", []))
    labels = (("newly_failing", "newly failing"), ("newly_confirmed", "newly confirmed dead"),
              ("recovered", "recovered"), ("moved", "moved"))
    changed = ", ".join(f"{kinds[k]} {label}" for k, label in labels if kinds[k])
    new_findings = run.get("new_findings")
    count_new = len(new_findings) if isinstance(new_findings, list) else int(new_findings or 0)
    if count_new:
        changed = (changed + ", " if changed else "") + f"{count_new} new finding(s)"
    statuses = report["summary"]["links"]
    totals = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda kv: -kv[1]))
    lines = [
        "== archiver run " + ("(complete)" if run.get("complete") else "(stopped early: continues next run)"),
        f"changes: {changed or 'none (a quiet night)'}",
        f"links: {len(report['links'])} ({totals}); "
        f"confirmed dead or soft-404: {report['summary'].get('confirmed', 0)}",
        f"checked this run: {run.get('checked', 0)} of {run.get('due', 0)} due; network {run.get('network')}"
        + (f"; budgets hit: {', '.join(run['budgets_hit'])}" if run.get("budgets_hit") else ""),
    ]
    if isinstance(run.get("wayback"), dict) and run["wayback"].get("summary"):
        lines.append(str(run["wayback"]["summary"]))
    lines.extend(f"note: {note}" for note in run.get("notes", [])[:5])
    lines.append("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in run.get("stage_seconds", {}).items()))
    lines.append(f"reports: {settings.report_dir}/report.md, report.html, report.json")
    return "\n".join(lines)


def stored_report(settings: Settings, *, record_findings: bool = False, loaded: LoadResult | None = None,
                  catalog: Catalog | None = None, store: StateStore | None = None
                  ) -> tuple[dict[str, Any], LoadResult]:
    """The report from the stored state and the last run record (no network), with the loaded events.

    ``record_findings`` (``archiver merge``, which completes sharded runs) compares the
    findings with the previous run's and records them, as ``archiver check`` does.
    ``loaded``, ``catalog``, ``store``: the events, their catalog and the link state
    (as saved), when the caller has them already.
    """
    from ..wayback.policy import wayback_findings

    loaded = loaded or load_events(settings.events, max_file_bytes=settings.max_event_bytes,
                                   processes=settings.parse_processes)
    catalog = catalog or build_catalog(loaded.events)
    store = store or StateStore(settings.snapshots).load()
    previous = store.read_run() or {}
    findings: list[Finding] = [*loaded.findings, *catalog.findings, *store.findings]
    for link in catalog.links:
        state = store.states.get(link.normalized_url)
        findings.extend(link_findings(link, state))
        findings.extend(wayback_findings(link, state))  # what the Wayback stage learnt, as `archiver run` shows
    snapshot_store = SnapshotStore.from_settings(settings)
    audited = audit_stage(settings, loaded.events, catalog, snapshot_store=snapshot_store)
    findings.extend(audited.findings)
    started = parse_iso(previous.get("started_at")) or settings.clock()
    info = RunInfo(started_at=started, finished_at=parse_iso(previous.get("finished_at")),
                   complete=bool(previous.get("complete", False)), network=previous.get("network", "ok"),
                   budgets_hit=list(previous.get("budgets_hit", [])), checked=int(previous.get("checked", 0)),
                   due=int(previous.get("due", 0)), notes=list(previous.get("notes", [])),
                   changes=list(previous.get("changes", [])), shard=previous.get("shard"),
                   new_findings=previous.get("new_findings"))
    info.stage_seconds = dict(previous.get("stage_seconds", {}))
    if audited.note and audited.note not in info.notes:
        info.notes.append(audited.note)
    if record_findings:
        info.new_findings = fingerprints.record(settings.snapshots, [f.to_dict() for f in findings])
    report = build_report(catalog.links, store.states, findings, info, generated_at=settings.clock(),
                          extras=merge_extras(stored_extras(snapshot_store, catalog.links),
                                              audited.outlets))
    for key in ("requests", "hosts", "shards", "wayback"):  # what the run record holds beyond RunInfo
        if key in previous:
            report["run"][key] = previous[key]
    if record_findings:
        store.write_run(report["run"])
    return report, loaded


def regenerate_report(settings: Settings, *, out: TextIO | None = None, record_findings: bool = False) -> int:
    """``archiver report``: report.json, report.md and report.html again from the stored state; no network."""
    out = out or sys.stdout
    report, loaded = stored_report(settings, record_findings=record_findings)
    path = write_reports(report, settings.report_dir, events=event_views(loaded.events)).json
    checked = sum(1 for link in report["links"] if link.get("checked_at"))
    print(f"reports of {len(report['links'])} links ({checked} checked before) written to {path.parent}: "
          "report.json, report.md, report.html", file=out)
    return EXIT_OK


