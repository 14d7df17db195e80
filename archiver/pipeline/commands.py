"""The commands as library calls: each runs its stages (under the run lock when it writes state)
and returns an :class:`~archiver.pipeline.summary.ExitCode` or a result for the CLI to print.

``run_check`` (``archiver check``) and ``run_pipeline`` (``archiver run``) run the night
(:func:`archiver.pipeline.night.run_night`); ``run_wayback`` the Wayback stage alone on the stored
state; ``regenerate_report``, ``merge_shards`` and ``build_reading_room`` work from what is stored.
``audit_timeline`` and ``fill_from_registry`` are ``archiver audit`` without and with ``--write``;
``annotate_citations`` is ``archiver annotate``.

Heavy modules (the HTTP stack, the archive client, the extractors) are imported inside the
functions that need them: ``archiver check`` with nothing due must start without them.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from ..audit.registry import load_registry
from ..audit.rules import audit, planned_fills
from ..config import Settings
from ..history.lock import LockError, run_lock
from ..history.shards import Shard, merge_snapshots
from ..history.store import StateStore
from ..models import Finding
from ..report.build import REPORT_FILES, write_reports
from ..report.view import event_views
from ..snapshots.store import SnapshotStore
from ..snapshots.warc import finish_run, open_run
from ..support import asyncrun
from ..support.timefmt import iso
from ..timeline.edit import apply_fills
from ..timeline.load import load_timeline
from .night import CheckOutcome, all_archives, archives_record, run_night
from .stored import stored_report
from .summary import ExitCode, FailOn, error_exit, fail_reason, run_summary

if TYPE_CHECKING:
    from ..report.site import SiteResult
    from ..wayback.run import WaybackOutcome

T = TypeVar("T")


@dataclass(frozen=True)
class Streams:
    """Where a command prints: its summary on ``out``, progress lines, warnings and problems on ``err``
    (standard output and standard error unless given)."""

    out: TextIO | None = None
    err: TextIO | None = None

    @property
    def stdout(self) -> TextIO:
        return self.out or sys.stdout

    @property
    def stderr(self) -> TextIO:
        return self.err or sys.stderr


def _locked(settings: Settings, err: TextIO, what: str, body: Callable[[], T]) -> T | ExitCode:
    """``body()`` under the run lock (stale report files cleaned), or ``ExitCode.FAILED`` with one line on
    ``err`` when the events folder is missing, another run holds the lock, or the run fails to write
    (``archiver: <what> failed: ...``)."""
    if not settings.events.exists():
        print(f"archiver: events folder {settings.events} does not exist (set --events or ARCHIVER_EVENTS)", file=err)
        return ExitCode.FAILED
    try:
        with run_lock(settings.snapshots, err=err, also_clean=[(settings.report_dir, REPORT_FILES)]):
            return body()
    except LockError as exc:
        code, line = error_exit(exc)
        print(line, file=err)
        return code
    except OSError as exc:
        print(f"archiver: {what} failed: {exc}", file=err)
        return ExitCode.FAILED


def run_check(settings: Settings, *, streams: Streams = Streams(), progress: bool = True,
              shard: Shard | None = None) -> int:
    """``archiver check``: run the night without the Wayback stage, print the summary, return the exit code."""
    outcome = _run_night_locked(settings, streams=streams, progress=progress, shard=shard, wayback=False)
    return outcome if isinstance(outcome, int) else outcome.exit_code


def run_pipeline(settings: Settings, *, fail_on: str = FailOn.NEVER, streams: Streams = Streams(),
                 progress: bool = True, shard: Shard | None = None) -> int:
    """``archiver run``: the whole pipeline, a one-screen summary, and ``--fail-on``."""
    outcome = _run_night_locked(settings, streams=streams, progress=progress, shard=shard, wayback=True)
    if isinstance(outcome, int):
        return outcome
    print(run_summary(outcome.report, settings), file=streams.stdout)
    if outcome.exit_code != ExitCode.OK:
        return outcome.exit_code
    reason = fail_reason(outcome.report, fail_on)
    if reason:
        print(f"archiver: failing the build (--fail-on {fail_on}): {reason}", file=streams.stderr)
        return ExitCode.FINDINGS
    return ExitCode.OK


def _run_night_locked(settings: Settings, *, streams: Streams, progress: bool, shard: Shard | None,
                      wayback: bool) -> CheckOutcome | int:
    """The night under the run lock; its one-line summary printed, except with ``wayback`` (``archiver run``,
    which prints its one-screen summary instead)."""
    out, err = streams.stdout, streams.stderr
    outcome = _locked(settings, err, "run", lambda: asyncrun.run(
        run_night(settings, stream=err, progress=progress, shard=shard, wayback=wayback)))
    if isinstance(outcome, int):
        return outcome
    if not wayback:
        print(outcome.summary, file=out)
    if outcome.problem:
        print(f"archiver: {outcome.problem}", file=err)
    elif outcome.run.network.message:
        print(f"archiver: warning: {outcome.run.network.message}", file=err)
    return outcome


def regenerate_report(settings: Settings, *, out: TextIO | None = None, record_findings: bool = False) -> int:
    """``archiver report``: report.json, report.md and report.html again from the stored state; no network."""
    out = out or sys.stdout
    report, loaded = stored_report(settings, record_findings=record_findings)
    path = write_reports(report, settings.report_dir, events=event_views(loaded.events),
                         trend=StateStore(settings.snapshots).read_health_trend()).json
    checked = sum(1 for link in report.links if link.checked_at)
    print(f"reports of {len(report.links)} links ({checked} checked before) written to {path.parent}: "
          "report.json, report.md, report.html", file=out)
    return ExitCode.OK


def merge_shards(settings: Settings, shards: list[Path]) -> dict[str, int]:
    """``archiver merge``, first half: the shards' snapshots folders into ``settings.snapshots``; what was done.
    The second half is :func:`regenerate_report` with ``record_findings``."""
    return merge_snapshots(shards, settings.snapshots)


def build_reading_room(settings: Settings, out: Path) -> SiteResult:
    """``archiver site``: the static reading room from the stored state, written into ``out``."""
    from ..report.site import build_site

    report_data, loaded = stored_report(settings)
    return build_site(report_data, event_views(loaded.events), SnapshotStore(settings.snapshots), out)


# --------------------------------------------------------------------------- archiver wayback


def record_run(store: StateStore, outcome: WaybackOutcome, *, started: dt.datetime,
               finished: dt.datetime) -> None:
    """Put the Wayback stage's notes and time into ``run.json`` (so reports written later show them); a
    state without a run record (the stage run alone) gets one."""
    from ..wayback.run import NOTE_PREFIX  # the archive client (httpx): only for this command

    record = store.read_run() or {}
    record.setdefault("started_at", iso(started))
    if not record.get("finished_at"):
        record["finished_at"] = iso(finished)
    notes = [n for n in record.get("notes", []) if not str(n).startswith(NOTE_PREFIX)]
    record["notes"] = notes + outcome.notes
    record.setdefault("stage_seconds", {})["wayback"] = round(outcome.seconds, 3)
    record["wayback"] = {"summary": outcome.summary, "lookups_left": outcome.lookups_left}
    record["archives"] = archives_record(outcome).to_dict()
    store.write_run(record)


def run_wayback(settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``archiver wayback``: the stage alone on the stored state, then the reports again."""
    out, err = out or sys.stdout, err or sys.stderr
    started = time.monotonic()
    deadline = started + settings.time_budget if settings.time_budget else None

    from ..wayback.run import StageInput  # the archive client (httpx): only for this command

    def body() -> tuple[WaybackOutcome, Path]:
        loaded, catalog = load_timeline(settings.timeline_options)
        store = StateStore(settings.snapshots).load()
        now = settings.clock()
        warcs = open_run(settings, now)  # the rescues' raw captures
        try:
            given = StageInput(catalog, store, SnapshotStore.from_settings(settings, warcs=warcs), now, stream=err)
            outcome = asyncrun.run(all_archives(settings, given, deadline=deadline))
        finally:
            finish_run(warcs)
        record_run(store, outcome, started=now, finished=settings.clock())
        report, loaded = stored_report(settings, loaded=loaded, catalog=catalog, store=store)
        return outcome, write_reports(report, settings.report_dir, events=event_views(loaded.events),
                                      trend=store.read_health_trend()).json

    done = _locked(settings, err, "wayback", body)
    if isinstance(done, int):
        return done
    outcome, path = done
    print(f"{outcome.summary}; report: {path}", file=out)
    for note in outcome.notes:
        print(f"archiver: {note}", file=err)
    return ExitCode.OK


# --------------------------------------------------------------------------- archiver audit


@dataclass(slots=True)
class AuditResult:
    """``archiver audit``'s findings (sorted by file, line, source) with what was audited."""

    events: int
    citations: int
    #: where the publisher registry came from (the packaged file, the project's)
    registry: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Findings per kind, sorted by kind."""
        return dict(sorted(Counter(f.kind for f in self.findings).items()))


def audit_timeline(settings: Settings) -> AuditResult:
    """``archiver audit``: publisher and tier against the registry, missing fields, archive URLs, and what
    the stored snapshots say about their pages. Raises ``RegistryError`` for an invalid registry."""
    registry = load_registry(settings.registry)
    loaded, catalog = load_timeline(settings.timeline_options)
    pages: dict[str, Any] = {}
    if settings.snapshots.is_dir():  # what the stored snapshots say about their pages: title, date, site name
        pages = SnapshotStore(settings.snapshots).page_meta(link.normalized_url for link in catalog.checkable)
    findings = audit(loaded.events, catalog, registry, options=settings.audit_options, pages=pages)
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.source_index or 0))
    return AuditResult(events=len(loaded.events), citations=catalog.citations, registry=registry.sources,
                       findings=findings)


def fill_from_registry(settings: Settings) -> list[Any]:
    """``archiver audit --write``: fill missing publisher and tier from the registry, editing only those
    lines; the file edits. Raises ``RegistryError`` for an invalid registry."""
    registry = load_registry(settings.registry)
    loaded, catalog = load_timeline(settings.timeline_options)
    return apply_fills(planned_fills(loaded.events, catalog, registry), {e.path: e.file for e in loaded.events})


# --------------------------------------------------------------------------- archiver annotate


@dataclass(slots=True)
class Annotations:
    """``archiver annotate``: per event file, the citations to give an ``archive_url`` (the Wayback copy
    chosen for their link), the files as shown to people, and the edits when they were written."""

    plan: dict[str, list[tuple[int, dict[str, Any]]]]
    display: dict[str, str]
    edits: list[Any] | None = None


def annotate_citations(settings: Settings, *, write: bool, relocations: bool = False) -> Annotations:
    """The archive_url (and archive_date) each citation without one would get, or with ``relocations`` the new
    url (and original_url) of each citation whose dead link has a verified new address; with ``write``, the
    event files edited (only those lines)."""
    from ..relocate.annotate import planned_relocations
    from ..wayback.annotate import planned_archive_urls  # the archive policy (httpx): only for this command

    loaded, catalog = load_timeline(settings.timeline_options)
    planner = planned_relocations if relocations else planned_archive_urls
    plan = planner(loaded.events, catalog, StateStore(settings.snapshots).load())
    result = Annotations(plan=dict(plan), display={e.path: e.file for e in loaded.events})
    if write:
        result.edits = apply_fills(plan, result.display, only_if_missing=not relocations)
    return result
