"""What a run tells people: the one-screen summary of ``archiver run``, the verdict counts, ``--fail-on``
and the exit codes of every command."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from enum import IntEnum, StrEnum

from ..config import Settings
from ..errors import ArchiverError, ConfigError, RegistryError
from ..history.known_findings import fingerprint
from ..models import FAILING_STATUSES, LINK_STATUSES, CheckResult, FindingKind, LinkStatus
from ..reportmodel import Health, Report


class ExitCode(IntEnum):
    """The exit code of every ``archiver`` command (an int: ``sys.exit(ExitCode.FAILED)`` exits 2)."""

    #: the command did its job (findings or not, unless ``--fail-on`` says otherwise)
    OK = 0
    #: findings that fail the command: errors in ``validate``, ``--fail-on``, nothing to show or capture
    FINDINGS = 1
    #: the command could not do its job: bad configuration or usage, the lock held, the network offline
    FAILED = 2


#: How an :class:`~archiver.errors.ArchiverError` that stops a command becomes its exit: (class, what the
#: line says before the message, exit code); the first class the error is an instance of wins. The one
#: place the CLI (``cli.ArchiverGroup``) and the commands' lock and git handling turn errors into exits.
ERROR_EXITS: tuple[tuple[type[ArchiverError], str, ExitCode], ...] = (
    (ConfigError, "configuration error: ", ExitCode.FAILED),
    (RegistryError, "invalid publisher registry: ", ExitCode.FAILED),
    # LockError, GitError, UsageError, StoreError, ArchiveError, FetchFailure, NothingToPack: the message alone
    (ArchiverError, "", ExitCode.FAILED),
)


def error_exit(exc: ArchiverError) -> tuple[ExitCode, str]:
    """The exit code for ``exc`` and the one line that says why (``archiver: ...``), from :data:`ERROR_EXITS`."""
    for cls, prefix, code in ERROR_EXITS:
        if isinstance(exc, cls):
            return code, f"archiver: {prefix}{exc}"
    return ExitCode.FAILED, f"archiver: {exc}"  # pragma: no cover - ERROR_EXITS ends with ArchiverError


class FailOn(StrEnum):
    """When ``archiver run --fail-on`` turns the build red (exit 1)."""

    #: never: findings are for people, the build stays green
    NEVER = "never"
    #: a link was newly confirmed dead (or soft-404) in this run
    NEW_DEAD = "new-dead"
    #: any cited link is confirmed dead (or soft-404)
    DEAD = "dead"
    #: an event became lost in this run: no cited source can be read any more (issue 22)
    EVENT_LOST = "event-lost"


def status_counts(results: Iterable[CheckResult]) -> str:
    """The verdicts of this run as "3 alive, 1 dead", in a fixed order."""
    counts = Counter(r.status for r in results)
    shown = (s for s in LINK_STATUSES if s != LinkStatus.UNCHECKED and counts[s])  # the schema's order
    return ", ".join(f"{counts[s]} {s}" for s in shown) or "nothing checked"


def fail_reason(report: Report, fail_on: str) -> str | None:
    """Why ``--fail-on`` turns this run red, or None.

    ``new-dead``: a link was confirmed dead (or soft-404) in this run; ``dead``: any
    cited link is confirmed dead or soft-404. Unconfirmed failures never fail a build.
    ``event-lost``: an event became lost in this run (:func:`newly_lost`).
    """
    if fail_on == FailOn.NEW_DEAD:
        new = [c.url for c in report.run.changes if c.kind == "newly_confirmed"]
        return f"{len(new)} link(s) newly confirmed dead: {', '.join(new[:3])}" if new else None
    if fail_on == FailOn.DEAD:
        dead = [e.url for e in report.links if e.confirmed and e.status in FAILING_STATUSES]
        return f"{len(dead)} cited link(s) confirmed dead: {', '.join(dead[:3])}" if dead else None
    if fail_on == FailOn.EVENT_LOST:
        lost = newly_lost(report)
        return f"{len(lost)} event(s) became lost: {', '.join(lost[:3])}" if lost else None
    return None


def newly_lost(report: Report) -> list[str]:
    """The files of the events that became lost in this run: lost now and another health after the last run,
    or a lost event first seen this run (its ``evidence_lost`` finding is new). The first run that keeps
    health has nothing to compare with: nothing became lost in it."""
    new = set(report.run.new_findings or ())
    fresh = {f.event for f in report.findings if f.kind == FindingKind.EVIDENCE_LOST and fingerprint(f) in new}
    return [e.file for e in report.events or () if e.health == Health.LOST
            and (e.previous_health is not None or e.id in fresh)]


def events_line(report: Report) -> str | None:
    """``events: 2,503 ok, 211 weakened, 3 lost, 66 unknown`` (None: the report has no event health)."""
    counts = report.summary.events
    if counts is None:
        return None
    order = (Health.OK, Health.WEAKENED, Health.LOST, Health.UNKNOWN)
    return "events: " + ", ".join(f"{counts.get(str(h), 0):,} {h}" for h in order)


def run_summary(report: Report, settings: Settings) -> str:
    """The one screen printed at the end of ``archiver run``: what changed, totals, where the reports are."""
    run = report.run
    kinds = Counter(c.kind for c in run.changes)
    labels = (("newly_failing", "newly failing"), ("newly_confirmed", "newly confirmed dead"),
              ("recovered", "recovered"), ("moved", "moved"))
    changed = ", ".join(f"{kinds[k]} {label}" for k, label in labels if kinds[k])
    count_new = len(run.new_findings or [])
    if count_new:
        changed = (changed + ", " if changed else "") + f"{count_new} new finding(s)"
    statuses = report.summary.links
    totals = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items(), key=lambda kv: -kv[1]))
    lines = [
        "== archiver run " + ("(complete)" if run.complete else "(stopped early: continues next run)"),
        f"changes: {changed or 'none (a quiet night)'}",
        f"links: {len(report.links)} ({totals}); confirmed dead or soft-404: {report.summary.confirmed}",
        *filter(None, [events_line(report)]),
        f"checked this run: {run.checked} of {run.due} due; network {run.network}"
        + (f"; budgets hit: {', '.join(run.budgets_hit)}" if run.budgets_hit else ""),
    ]
    if run.wayback is not None and run.wayback.summary:
        lines.append(run.wayback.summary)
    if run.evidence_store is not None:
        lines.append(run.evidence_store.line())
    lines.extend(f"note: {note}" for note in run.notes[:5])
    lines.append("stages: " + ", ".join(f"{k} {v:.1f}s" for k, v in run.stage_seconds.items()))
    lines.append(f"reports: {settings.report_dir}/report.md, report.html, report.json")
    return "\n".join(lines)
