"""The night as a recipe: load, select what is due, check, snapshot, Wayback, audit, report, record.

:func:`run_night` is the async pipeline (one event loop, no ``asyncio.run`` inside); each of its
numbered steps is a short function of what the steps before it produced, carried in three small
records: :class:`Night` (the run's settings and clock), :class:`Plan` (what was loaded and what
is due) and :class:`Checked` (what the check and the snapshot stage did). The commands that run
it under the lock (``archiver check``, ``archiver run``) are in :mod:`archiver.pipeline.commands`.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..audit.stage import AuditOutcome, audit_stage
from ..config import Settings
from ..history import known_findings as fingerprints
from ..history.schedule import has_text, work_for
from ..history.shards import Shard
from ..history.store import StateStore
from ..liveness.network import CheckRun, nothing_checked
from ..models import CheckResult, Finding, Link, LinkStatus
from ..report.build import RunInfo, build_report, write_reports
from ..report.health import HealthOutcome
from ..report.view import event_views
from ..reportmodel import ArchivesRun, Report, RunChange, WaybackRun, merge_extras
from ..snapshots.stage import SnapshotStage, stored_extras
from ..snapshots.store import SnapshotStore
from ..snapshots.warc import WarcRun, finish_run, open_run
from ..store.locations import add_locations
from ..store.push import PushOutcome, push
from ..support.gcpause import gc_paused
from ..support.lanes import Lanes, Work
from ..support.progress import NightProgress, StageProgress
from ..timeline.catalog import Catalog
from ..timeline.load import LoadResult, load_timeline
from .findings import link_findings
from .health import assess_events
from .recorder import Recorder, result_extras, select_links, waiting_note
from .summary import ExitCode, status_counts

if TYPE_CHECKING:
    from ..relocate.stage import RelocateOutcome
    from ..wayback.run import StageInput, WaybackOutcome


@dataclass(slots=True)
class CheckOutcome:
    report: Report
    report_path: Path
    run: CheckRun
    exit_code: int
    #: the one-line summary for people
    summary: str
    #: one clear line when the run could not do its job (network offline), else None
    problem: str | None = None


@dataclass(slots=True)
class Night:
    """The run's settings, where it reports progress, its clock and its deadline."""

    settings: Settings
    stream: TextIO
    progress: bool
    shard: Shard | None
    started_at: dt.datetime  # the settings' clock at the start
    t0: float  # time.monotonic() at the start
    deadline: float | None  # time.monotonic() value at which the time budget runs out
    #: the run's WARC file of raw captures (None: ``warc_dir`` is off)
    warcs: WarcRun | None = None
    #: what the push to the evidence store did at the end of the run (None before it)
    evidence: PushOutcome | None = None

    @classmethod
    def begin(cls, settings: Settings, *, stream: TextIO | None, progress: bool, shard: Shard | None) -> Night:
        started_at = settings.clock()
        t0 = time.monotonic()
        deadline = t0 + settings.time_budget if settings.time_budget else None
        return cls(settings, stream or sys.stderr, progress, shard, started_at, t0, deadline,
                   open_run(settings, started_at, shard))


@dataclass(slots=True)
class Plan:
    """What was loaded, the links this run reports on (``scope``), those due and those it will check."""

    loaded: LoadResult
    catalog: Catalog
    store: StateStore
    scope: list[Link]
    due: list[Link]
    to_check: list[Link]
    #: the budgets that cut this run short ("max_links", "time_budget")
    budgets: list[str] = field(default_factory=list)
    #: the line on failing links left alone because they were checked a few hours ago, or None
    waiting: str | None = None
    #: the events' health, assessed when the report is built (None: a shard's run, or not yet built)
    health: HealthOutcome | None = None
    #: what the relocate stage did (None: not run: ``archiver check``, offline, switched off)
    relocated: RelocateOutcome | None = None


@dataclass(slots=True)
class Checked:
    """What the check and the snapshot stage did."""

    run: CheckRun
    recorder: Recorder
    snapshots: SnapshotStage | None
    #: one snapshot store (one walk of its folders) for the Wayback stage, the audit and the report
    snapshot_store: SnapshotStore


async def run_night(settings: Settings, *, stream: TextIO | None = None, progress: bool = True,
                    shard: Shard | None = None, wayback: bool = False) -> CheckOutcome:
    """Check the links that are due, record them in the link state, write the reports.

    With ``wayback`` (``archiver run``) the Wayback stage runs after the check, within
    the same time budget: lookups, rescues of dead links and saves.
    """
    night = Night.begin(settings, stream=stream, progress=progress, shard=shard)
    with gc_paused(freeze=True):  # a million long-lived objects: see gcpause
        plan = select(night, *load(night))                               # 1. load  2. select what is due
    try:
        checked = await check_and_snapshot(night, plan)                  # 3. check  4. snapshot (+ WARC records)
        try:
            archived = await archive(night, plan, checked) if wayback else None  # 5. archives, on their lanes
        finally:
            await finish_snapshots(night, plan, checked)  # 4. the last pages' text (extracted meanwhile)
        if wayback:
            await relocate(night, plan, checked)                         # 5b. dead links' new addresses
    finally:
        finish_run(night.warcs)  # the run's WARC file and its index, renamed into place
    night.evidence = push(settings.store_options)  # finished WARC files kept for good
    with gc_paused():  # the findings and three reports: many objects, no cycles
        audited = audit_stage(settings.audit_options, plan.loaded.events, plan.catalog,  # 6. audit
                              plan.scope if shard else None, checked.snapshot_store)
        findings = collect_findings(plan, checked, audited, archived)
        report = build(night, plan, checked, archived, audited, findings)  # 7. report
        path = record(night, plan, report)                                # 8. record the run
    return outcome(night, plan, checked, archived, report, path)


def load(night: Night) -> tuple[LoadResult, Catalog, StateStore]:
    """1. The events, their link catalog and the stored link state."""
    loaded, catalog = load_timeline(night.settings.timeline_options)
    return loaded, catalog, StateStore(night.settings.snapshots).load()


def select(night: Night, loaded: LoadResult, catalog: Catalog, store: StateStore) -> Plan:
    """2. The links in this run's shard, those due in priority order, and the ``max_links`` cut."""
    settings = night.settings
    scope, due = select_links(catalog.links, store, night.started_at, settings.history_options, night.shard)
    waiting = waiting_note(store, scope, night.started_at, settings.history_options)
    plan = Plan(loaded, catalog, store, scope, due, due, waiting=waiting)
    if settings.max_links is not None and len(due) > settings.max_links:
        plan.to_check = due[: settings.max_links]
        plan.budgets.append("max_links")
    return plan


async def check_and_snapshot(night: Night, plan: Plan) -> Checked:
    """3. Check the links, recording each verdict as it comes; 4. the live pages' text is extracted meanwhile
    (and goes on in the background while the archive lanes work: :func:`finish_snapshots` waits for it)."""
    settings = night.settings
    recorder = Recorder(plan.store, {link.normalized_url: link for link in plan.scope}, settings.history_options,
                        night.started_at)
    # the HTTP stack and the extractors are imported only when there is work for them:
    # a night with nothing due starts in a fraction of the time
    wanted = settings.snapshot_pages and plan.to_check
    store = SnapshotStore.from_settings(settings, warcs=night.warcs) if wanted else None
    snapshots = SnapshotStage(settings.snapshot_options, store=store) if store is not None else None
    try:
        run = await check(night, plan, recorder, snapshots)
    except BaseException:
        if snapshots is not None:
            await snapshots.aclose()
        raise
    recorder.finish(run)
    if run.stopped == "time_budget":
        plan.budgets.append("time_budget")
    snapshot_store = snapshots.store if snapshots is not None else SnapshotStore.from_settings(settings,
                                                                                                warcs=night.warcs)
    return Checked(run, recorder, snapshots, snapshot_store)


async def finish_snapshots(night: Night, plan: Plan, checked: Checked) -> None:
    """4. Wait for the text of the pages still being extracted (within the time budget's grace), then close."""
    snapshots = checked.snapshots
    if snapshots is None:
        return
    try:
        await snapshots.finish(night.deadline)
        mark_extracted(plan.store, snapshots.processed)
    finally:
        await snapshots.aclose()


async def check(night: Night, plan: Plan, recorder: Recorder, snapshots: SnapshotStage | None) -> CheckRun:
    """3. The verdicts of the links to check, each handed to the recorder and the snapshot stage."""
    if not plan.to_check:
        return nothing_checked()
    from ..liveness.batch import BatchRules, check_links  # the HTTP stack: only when something is due

    with StageProgress("check", len(plan.to_check), stream=night.stream, enabled=night.progress) as bar:

        def on_result(link: Link, result: CheckResult) -> None:
            recorder.record(link, result)
            if snapshots is not None:
                snapshots.offer(link, result)  # takes the body: results keep none
            bar.advance()

        return await check_links(plan.to_check, night.settings.check_options, on_result=on_result,
                                 rules=BatchRules(keep_bodies=snapshots is not None, deadline=night.deadline))


def mark_extracted(store: StateStore, processed: Iterable[str]) -> None:
    """4. A live page the snapshot stage dealt with is not extracted again until it is checked again."""
    for key in processed:
        state = store.states.get(key)
        if state is not None and state.status == LinkStatus.ALIVE:
            state.extracted = state.last_checked
            store.save(state)


async def archive(night: Night, plan: Plan, checked: Checked) -> WaybackOutcome | None:
    """5. The Wayback stage (lookups, rescues, saves), then the other archives, within the run's time budget;
    not when offline."""
    if checked.run.network.status == "offline":
        return None
    if night.progress:
        print("wayback: looking up, rescuing and saving archived copies", file=night.stream, flush=True)
    from ..wayback.run import StageInput

    part = plan.catalog if night.shard is None else Catalog(links=plan.scope)
    given = StageInput(part, plan.store, checked.snapshot_store, night.started_at, stream=night.stream,
                       progress=night.progress)
    return await all_archives(night.settings, given, deadline=night.deadline)


async def relocate(night: Night, plan: Plan, checked: Checked) -> None:
    """5b. Moved, not gone: the verified new address of dead links (archived redirects first), within the
    stage's budget and the run's; rechecks of the kept ones. Not when offline or switched off."""
    options = night.settings.relocate_options
    if not options.relocate or checked.run.network.status == "offline":
        return
    from ..relocate.night import moved_pairs, relocate_links, work

    snapshots = checked.snapshot_store

    def stored_text(key: str) -> str | None:
        snapshot = snapshots.read(key)
        return snapshot.text if snapshot is not None else None

    items = work(plan.scope, plan.store.states, plan.loaded.events, stored_text)
    if not items:
        return
    plan.relocated = await relocate_links(options, items, pairs=moved_pairs(plan.scope, plan.store.states),
                                          now=night.started_at, deadline=night.deadline)
    for state, _ in items:
        plan.store.save(state)  # a no-op for the states the stage left alone
    if night.progress:
        print(plan.relocated.summary, file=night.stream, flush=True)


async def all_archives(settings: Settings, given: StageInput, *, deadline: float | None) -> WaybackOutcome:
    """Every archive's work of the night on one set of lanes (:mod:`archiver.support.lanes`), all at once, the
    most valuable first: the Wayback Machine's lookups, replays, saves and polls, and each other archive
    (Memento) for what the Wayback Machine lacks, as soon as it is known to lack it. Their notes and findings
    join the Wayback stage's (one archive step, in ``archiver run`` and ``archiver wayback``)."""
    # the archive clients (httpx) are imported only when the stage runs
    from ..archives.stage import ArchivesNight
    from ..wayback.limiter import ArchiveLimiter
    from ..wayback.stage import WaybackNight

    lanes = Lanes(deadline)
    errors: list[str] = []
    lanes.on_error = lambda lane, exc: errors.append(f"archives: an item on the {lane} lane failed: {exc!r}")
    limiter = ArchiveLimiter()  # the night's: one pace (and one 429 pause) for the Wayback Machine, both parts
    store, stream, progress = given.store, given.out, given.progress
    wayback = WaybackNight(settings.wayback_options, given, lanes=lanes, limiter=limiter)
    others = ArchivesNight(settings.archives_options, given, lanes=lanes, limiter=limiter)
    async with wayback as wayback_run, others as others_run:
        others_run.wayback_failed = wayback_run.out.lookup_failed  # the same set: filled as lookups fail
        others_run.extractor = wayback_run.extractor  # one extraction worker for every archive's rescues
        wayback_run.handoff = others_run.offer
        wayback_run.on_unreachable = others.wayback_unreachable
        wayback_run.plan()
        async with NightProgress(lanes, stream=stream, enabled=progress):
            await lanes.run()
    archived, rest = wayback.outcome(), others.outcome()
    archived.notes.extend(rest.notes + errors[:5])
    archived.findings.extend(rest.findings)
    archived.seconds = (lanes.finished or 0.0) - (lanes.started or 0.0)
    archived.others_summary = rest.summary
    archived.lanes = lanes.stats()
    archived.left = left_by_kind(lanes, [link.normalized_url for link in wayback_run.cut]
                                 + sorted(wayback_run.lookups_stopped), store)
    if archived.left:
        archived.notes.append("archives: left for the next run: " + left_line(archived.left))
    if progress:
        print(archived.summary, file=stream, flush=True)
        print(rest.summary, file=stream, flush=True)
    return archived


def archives_record(archived: WaybackOutcome) -> ArchivesRun:
    """``run.archives`` of report.json: the other archives' summary, the archive step's seconds, each lane's
    counts and what the night left for the next run, by kind."""
    return ArchivesRun(summary=archived.others_summary, seconds=round(archived.seconds, 1), lanes=archived.lanes,
                       left={work.key: n for work, n in archived.left.items()})


def left_by_kind(lanes: Lanes, lookups: Iterable[str], store: StateStore) -> dict[Work, int]:
    """What the night could not do, by kind: the items still queued (or dropped when their archive stopped),
    and the links whose Wayback lookup did not happen (beyond the ``max_lookups`` budget, or stopped) and that
    still lack what their kind is for (a failing link with a verified copy from another archive does not)."""
    left = lanes.left()
    queued = lanes.left_keys()
    for key in dict.fromkeys(lookups):
        state = store.states.get(key)
        if key in queued or state is None:
            continue
        work = work_for(state)
        copy = any(rec is not None and rec.url and rec.verified for rec in (state.wayback, state.archives))
        if (work in (Work.NEW_FAILING, Work.OLD_FAILING) and copy) or (work is Work.BLOCKED_TEXT and has_text(state)):
            continue
        left[work] += 1
    return {work: left[work] for work in sorted(left) if left[work]}


def left_line(left: Mapping[Work, int]) -> str:
    """``12 copies for newly failing links, 340 saves``."""
    return ", ".join(f"{n} {work.label}" for work, n in left.items())


def collect_findings(plan: Plan, checked: Checked, audited: AuditOutcome,
                     archived: WaybackOutcome | None) -> list[Finding]:
    """6. Every finding of the run: timeline, catalog, store, link states, drift, audit, Wayback."""
    findings: list[Finding] = [*plan.loaded.findings, *plan.catalog.findings, *plan.store.findings]
    for link in plan.scope:
        findings.extend(link_findings(link, plan.store.states.get(link.normalized_url)))
    if checked.snapshots is not None:
        findings.extend(checked.snapshots.findings(plan.scope))
    findings.extend(audited.findings)
    if archived is not None:
        findings.extend(archived.findings)
    return findings


# more than 5 arguments (PLR0913): a step of the recipe takes the earlier steps' results by name
def build(night: Night, plan: Plan, checked: Checked, archived: WaybackOutcome | None,  # noqa: PLR0913
          audited: AuditOutcome, findings: list[Finding]) -> Report:
    """7. report.json's content: the run record, the links with their extras, the findings."""
    run, snapshots = checked.run, checked.snapshots
    info = run_info(night, plan, checked, archived, audited)
    info.stage_seconds["check"] = run.elapsed
    if archived is not None:
        info.stage_seconds["wayback"] = archived.seconds
    if snapshots is not None:
        info.stage_seconds["extract"] = snapshots.seconds
        if snapshots.skipped:
            info.notes.append(f"{snapshots.skipped} pages were not snapshotted: the time budget ran out")
    info.finished_at = night.settings.clock()
    extras = result_extras(run.results)
    if snapshots is not None:
        extras = merge_extras(extras, snapshots.extras(plan.scope))
    else:  # what earlier runs archived
        extras = merge_extras(extras, stored_extras(checked.snapshot_store, plan.scope))
    extras = merge_extras(extras, audited.outlets)
    info.stage_seconds["audit"] = audited.seconds
    if plan.relocated is not None:
        info.stage_seconds["relocate"] = round(plan.relocated.seconds, 3)
        info.notes.extend([plan.relocated.summary, *plan.relocated.notes[:5]])
    report = build_report(plan.scope, plan.store.states, findings, info, extras=extras)
    if night.shard is None:  # a shard sees part of the links and findings: its merge assesses and compares them
        t0 = time.monotonic()
        plan.health = assess_events(night.settings, report, plan.scope, plan.store, plan.loaded.events, record=False)
        report.run.stage_seconds["health"] = round(time.monotonic() - t0, 3)
        report.run.new_findings = fingerprints.record(night.settings.snapshots, report.findings)
    report.run.requests = run.requests
    report.run.hosts = run.hosts
    if archived is not None:  # for the run's summary: what the stage did, and the lookups left for the next run
        report.run.wayback = WaybackRun(summary=archived.summary, lookups_left=archived.lookups_left)
        report.run.archives = archives_record(archived)
    if night.evidence is not None and night.evidence.active:
        report.run.evidence_store = night.evidence.record()
    add_locations(report, night.settings.store_options)
    return report


def run_info(night: Night, plan: Plan, checked: Checked, archived: WaybackOutcome | None,
             audited: AuditOutcome) -> RunInfo:
    """7. The run record: completeness, network, budgets, counts, the notes and the changes of the run."""
    run, recorder = checked.run, checked.recorder
    notes: list[str] = [audited.note] if audited.note else []
    if plan.waiting:
        notes.append(plan.waiting)
    if archived is not None:
        notes.extend(archived.notes)
    if run.network.message:
        notes.append(run.network.message)
    left = len(plan.due) - len(run.results)
    if run.stopped == "network_offline" and left:
        notes.append(f"stopped early: the network is offline; {left} due links were not checked")
    elif plan.budgets and left:
        notes.append(f"stopped at the {' and '.join(plan.budgets)} budget; {left} due links are left for the next run")
    return RunInfo(started_at=night.started_at, complete=run.complete and left == 0, network=run.network.status,
                   budgets_hit=plan.budgets, checked=len(run.results), due=len(plan.due), notes=notes,
                   changes=[RunChange(kind=c.kind, url=recorder.links[c.normalized_url].url, status=c.status,
                                      previous=c.previous) for c in recorder.changes],
                   shard=str(night.shard) if night.shard else None)


def record(night: Night, plan: Plan, report: Report) -> Path:
    """8. The run record (``run.json``), then report.json, report.md and report.html; the report.json path."""
    plan.store.write_run(report.run.to_dict())
    memory = plan.health.memory if plan.health is not None else None  # a shard's merge records it
    if memory is not None:  # the events' health for the next run's previous_health, and the trend
        plan.store.write_health(memory)
    trend = memory.trend if memory is not None else plan.store.read_health_trend()
    return write_reports(report, night.settings.report_dir, events=event_views(plan.loaded.events), trend=trend).json


# more than 5 arguments (PLR0913): a step of the recipe takes the earlier steps' results by name
def outcome(night: Night, plan: Plan, checked: Checked, archived: WaybackOutcome | None,  # noqa: PLR0913
            report: Report, path: Path) -> CheckOutcome:
    """The one-line summary for people and the exit code (2 when the network was offline)."""
    run, snapshots = checked.run, checked.snapshots
    counts = status_counts(run.results.values()) if plan.due else "nothing due"
    summary = (f"checked {len(run.results)} of {len(plan.due)} due links ({len(plan.scope)} in all) on {run.hosts} "
               f"hosts in {time.monotonic() - night.t0:.1f}s: {counts}; "
               f"{plan.waiting + '; ' if plan.waiting else ''}network {run.network.status}; "
               f"{len(checked.recorder.changes)} change(s); "
               f"{snapshots.summary() + '; ' if snapshots is not None else ''}report: {path}")
    problem = None
    code = ExitCode.OK
    if run.network.status == "offline":
        problem = run.network.message
        code = ExitCode.FAILED
    if night.evidence is not None and night.evidence.active:
        summary += f"\n{night.evidence.line()}"
    if archived is not None:
        summary += f"\n{archived.summary}"
        if archived.left:
            summary += f"\narchives: left for the next run: {left_line(archived.left)}"
    return CheckOutcome(report=report, report_path=path, run=run, exit_code=code, summary=summary, problem=problem)
