"""``archiver pr --base REF``: the pull-request check of the citations a diff adds or changes.

The recipe: 1. the changed citations (:func:`archiver.timeline.changes.changed_citations`);
2. their links checked with the nightly rules, politeness and safety (``check_links``); 3. the
citation audit of the changed events; 4. for each new citation, an archived copy (declared, known
from the stored state, or looked up in CDX) and, with ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY``, a
Save Page Now capture of each new live link within the save budget; 5. the outputs.

A ``dead`` verdict with definitive evidence (404/410 under the home-page rule, NXDOMAIN, a parked
domain) on a link the pull request adds fails the check (exit 1): a link that never worked in this
pull request needs no confirmation across days. A host that refuses connections, soft 404s,
blocked pages and errors are warnings. The stored state under ``snapshots/`` is read when present
(the archived copies it knows, the snapshots' page metadata for the audit); nothing is written there.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..audit.stage import audit_stage
from ..config import Settings
from ..history.store import StateStore
from ..models import FAILING_STATUSES, CheckResult, Event, Link, LinkStatus
from ..report.pr import (
    PrEvent,
    PrItem,
    event_message,
    junit_xml,
    pr_annotations,
    shown,
    summary_markdown,
    text_lines,
    workflow_command,
)
from ..reportmodel import EvidenceState, Health, health_of
from ..support import asyncrun
from ..support.atomic import write_text
from ..timeline.catalog import build_catalog
from ..timeline.changes import ChangedCitation, Changes, GitError, changed_citations
from ..timeline.load import load_timeline
from .summary import ExitCode, error_exit

if TYPE_CHECKING:
    from ..wayback.client import WaybackClient

#: the evidence of a refused connection: the host may be down for a while; not definitive for a pull request
REFUSED = "the host resolves but refuses connections"


@dataclass(slots=True)
class PrOutcome:
    changes: Changes
    items: list[PrItem]
    events: int
    network: str = "ok"
    notes: list[str] = field(default_factory=list)
    #: one clear line when the check could not do its job (network offline), else None
    problem: str | None = None
    requests: int = 0
    seconds: float = 0.0

    #: the events the pull request adds with no readable source (issue 22)
    unreadable: list[PrEvent] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.problem:
            return ExitCode.FAILED
        failed = any(i.level == "error" for i in self.items) or any(e.level == "error" for e in self.unreadable)
        return ExitCode.FINDINGS if failed else ExitCode.OK


def citation_state(item: PrItem) -> EvidenceState:
    """What a reader gets from a new citation, as far as the pull request's check can tell: the live page, an
    archived copy (declared, known, found or saved now: not judged here, so never counted lost), lost (dead or
    soft-404 and the Wayback Machine found none), or unknown."""
    if item.status == LinkStatus.ALIVE:
        return EvidenceState.LIVE
    if item.archived or item.saved:
        return EvidenceState.COPY
    if item.status in FAILING_STATUSES and item.archive_note == "none found" and REFUSED not in item.evidence:
        return EvidenceState.LOST  # (a refused connection may be a passing outage: unknown)
    return EvidenceState.UNKNOWN


def unreadable_events(changes: Changes, items: list[PrItem]) -> list[PrEvent]:
    """The events whose file the pull request adds and none of whose sources is readable: ``lost`` ones fail
    it, ``unknown`` ones warn."""
    added = {path for path, status in changes.files.items() if status == "added"}
    by_event: dict[tuple[str, str], list[PrItem]] = {}
    for item in items:
        if item.file in added:
            by_event.setdefault((item.file, item.event), []).append(item)
    out: list[PrEvent] = []
    for (file, event), cited in sorted(by_event.items()):
        states = [citation_state(i) for i in cited]
        health = health_of(states)
        if health in (Health.LOST, Health.UNKNOWN):
            lines = [i.line for i in cited if i.line]
            out.append(PrEvent(file=file, line=min(lines) if lines else None, event=event, health=str(health),
                               level="error" if health is Health.LOST else "warning",
                               sources={str(s): states.count(s) for s in EvidenceState}))
    return out


def verdict_level(result: CheckResult, citation: ChangedCitation) -> str | None:
    """``error`` for a definitive dead link the pull request adds; ``warning`` for every other failure."""
    if result.status == LinkStatus.ALIVE:
        return None
    if result.status == LinkStatus.DEAD and citation.kind == "added" and (result.evidence or "") != REFUSED:
        return "error"
    return "warning"


def evidence_of(result: CheckResult, citation: ChangedCitation) -> str:
    text = result.evidence or result.error or (f"HTTP {result.http_status}" if result.http_status else "")
    if result.status == LinkStatus.ALIVE and result.moved_to:
        text = f"moved to {result.moved_to}"
    if result.status == LinkStatus.DEAD and citation.kind == "changed":
        text += " (the link was cited before this pull request: the nightly check confirms it)"
    elif result.status == LinkStatus.DEAD and result.evidence == REFUSED:
        text += " (possibly a passing outage: not failing the pull request)"
    return text


def plan_items(changes: Changes, events: list[Event]) -> tuple[list[PrItem], dict[str, Link], list[Event]]:
    """One item per changed citation, the links to check (by normalized URL), the changed events."""
    changed_ids = {c.event for c in changes.citations}
    touched = [e for e in events if e.id in changed_ids]
    by_citation = {(c.event, c.source_index): link for link in build_catalog(touched).links for c in link.citations}
    items: list[PrItem] = []
    links: dict[str, Link] = {}
    for c in changes.citations:
        link = by_citation.get((c.event, c.source_index))
        item = PrItem(file=c.file, line=c.line, event=c.event, source_index=c.source_index, url=c.url, kind=c.kind,
                      status="not checked", evidence="")
        if link is None or not link.checkable:
            item.status = LinkStatus.INVALID.value
            item.evidence = (link.invalid_reason if link is not None else None) or "no url"
            item.level = "warning"
        else:
            links[link.normalized_url] = link
        items.append(item)
    return items, links, touched


@dataclass(frozen=True)
class PrOutputs:
    """What ``archiver pr`` writes: ``fmt`` (github annotations, text lines or JUnit XML) to ``output`` (standard
    output when None), and the Markdown job summary appended to ``summary`` (none when None)."""

    fmt: str = "github"
    output: Path | None = None
    summary: Path | None = None


def run_pr(settings: Settings, base: str, *, outputs: PrOutputs = PrOutputs(), out: TextIO | None = None,
           err: TextIO | None = None) -> int:
    """``archiver pr``: check, print the annotations (or text, or JUnit XML), write the summary; the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    fmt, output, summary = outputs.fmt, outputs.output, outputs.summary
    loaded, _ = load_timeline(settings.timeline_options)
    try:
        changes = changed_citations(settings.events, base, loaded.events)
    except GitError as exc:
        code, line = error_exit(exc)
        print(line, file=err)
        return code
    outcome = asyncrun.run(check_pull_request(settings, changes, loaded.events, stream=err))
    all_annotations = pr_annotations(outcome.items, outcome.unreadable)
    kept, left_out = shown(all_annotations)
    if fmt == "junit":
        body = junit_xml(outcome.items, base=base)
    elif fmt == "text":
        lines = text_lines(outcome.items, outcome.unreadable)
        body = "\n".join(lines) + ("\n" if lines else "")
    else:
        body = "".join(workflow_command(a) + "\n" for a in kept)
        if outcome.problem:
            body += f"::warning title=archiver pr::{outcome.problem}\n"
    if output is not None:
        write_text(output, body)
    else:
        out.write(body)
    if summary is not None:
        text = summary_markdown(outcome.items, base=base, events=outcome.events, notes=outcome.notes,
                                left_out=left_out if fmt == "github" else 0)
        with summary.open("a", encoding="utf-8") as handle:  # $GITHUB_STEP_SUMMARY is appended to
            handle.write(text)
    errors = sum(1 for i in outcome.items if i.level == "error")
    print(f"archiver pr: {len(outcome.items)} new or changed citation(s) in {outcome.events} event(s) against "
          f"{base} ({len(changes.deleted)} event file(s) deleted); {errors} dead, "
          f"{sum(1 for e in outcome.unreadable if e.level == 'error')} new event(s) with no readable source, "
          f"{sum(1 for i in outcome.items if i.level == 'warning')} warning(s); {outcome.requests} requests in "
          f"{outcome.seconds:.1f}s; network {outcome.network}", file=err)
    if outcome.problem:
        print(f"archiver: {outcome.problem}", file=err)
    return outcome.exit_code


async def check_pull_request(settings: Settings, changes: Changes, events: list[Event], *,
                             stream: TextIO | None = None) -> PrOutcome:
    """Steps 2-4: check the changed citations' links, audit the changed events, archived copies and saves."""
    t0 = time.monotonic()
    items, links, touched = plan_items(changes, events)
    outcome = PrOutcome(changes=changes, items=items, events=len(touched))
    if links:
        from ..liveness.batch import BatchRules, check_links  # the HTTP stack: only with a link to check

        deadline = t0 + settings.time_budget if settings.time_budget else None
        run = await check_links(list(links.values()), settings.check_options,
                                rules=BatchRules(keep_bodies=False, deadline=deadline))
        outcome.network, outcome.requests = run.network.status, run.requests
        apply_verdicts(items, links, run.results, changes)
        if run.network.status == "offline":
            outcome.problem = (f"the network is offline ({run.network.message or 'no host answered'}): the links "
                               "were not judged; this says nothing about the pull request's links")
        elif run.network.message:
            outcome.notes.append(run.network.message)
    audited = audit_stage(settings.audit_options, touched, build_catalog(touched))
    for item in items:
        item.findings = [f for f in audited.findings if (f.event, f.source_index) == (item.event, item.source_index)]
    if audited.note:
        outcome.notes.append(audited.note)
    if links and outcome.network != "offline":
        outcome.notes.extend(await archived_copies(settings, items, links, deadline=(
            t0 + settings.time_budget if settings.time_budget else None)))
    if outcome.network != "offline":
        outcome.unreadable = unreadable_events(changes, items)
        outcome.notes.extend(f"`{e.file}`: {event_message(e)}" for e in outcome.unreadable)
    outcome.seconds = time.monotonic() - t0
    return outcome


def apply_verdicts(items: list[PrItem], links: dict[str, Link], results: dict[str, CheckResult],
                   changes: Changes) -> None:
    """Each checked item's status, evidence and level from its link's verdict."""
    by_key = {(c.event, c.source_index): c for c in changes.citations}
    by_citation = {(c.event, c.source_index): key for key, link in links.items() for c in link.citations}
    for item in items:
        key = by_citation.get((item.event, item.source_index))
        result = results.get(key) if key else None
        if result is None:
            if key:
                item.evidence = "not checked: the time budget ran out or the run stopped"
            continue
        citation = by_key[(item.event, item.source_index)]
        item.status = str(result.status)
        item.evidence = evidence_of(result, citation)
        item.level = verdict_level(result, citation)


async def archived_copies(settings: Settings, items: list[PrItem], links: dict[str, Link], *,
                          deadline: float | None) -> list[str]:
    """Step 4: each item's archived copy (declared, stored, or a CDX lookup) and, with keys, saves; notes."""
    from ..wayback.client import WaybackClient  # the archive client (httpx): only when there is a link
    from ..wayback.limiter import Credentials

    by_citation = {(c.event, c.source_index): link for link in links.values() for c in link.citations}
    stored = StateStore(settings.snapshots).load() if settings.snapshots.is_dir() else None
    credentials = Credentials.from_env()
    notes: list[str] = []
    async with WaybackClient(settings.wayback_options, credentials=credentials, deadline=deadline) as client:
        lookups = 0
        for item in items:
            link = by_citation.get((item.event, item.source_index))
            if link is None:
                continue
            if link.archive_urls:
                item.archived, item.archive_note = link.archive_urls[0], "declared"
                continue
            known = stored_copy(stored, link, client)
            if known:
                item.archived, item.archive_note = known, "known"
                continue
            if settings.max_lookups is not None and lookups >= settings.max_lookups:
                item.archive_note = "not looked up (the lookup budget is spent)"
                continue
            lookups += 1
            item.archived, item.archive_note = await lookup(client, link)
        if credentials is None:
            notes.append("saving is off: no IA_ACCESS_KEY and IA_SECRET_KEY (pull requests from forks get no "
                         "secrets)")
        else:
            notes.extend(await save_new_links(settings, client, items))
    return notes


def stored_copy(stored: StateStore | None, link: Link, client: WaybackClient) -> str | None:
    """The newest usable capture the nightly runs know for ``link`` (from snapshots/), or None."""
    from ..wayback import policy

    state = stored.states.get(link.normalized_url) if stored is not None else None
    ts = policy.newest_ok(state.wayback) if state is not None else None
    return client.capture_url(ts, link.url) if ts else None


async def lookup(client: WaybackClient, link: Link) -> tuple[str | None, str]:
    """The newest 2xx capture in CDX: (capture URL, note) or (None, why)."""
    from ..wayback.cdx import CdxQuery
    from ..wayback.errors import ArchiveError

    try:
        rows = [r for r in await client.cdx(CdxQuery(url=link.url, limit=-1)) if r.ok]
    except ArchiveError as exc:
        return None, f"lookup failed: {exc}"
    if not rows:
        return None, "none found"
    row = max(rows)
    return client.capture_url(row.timestamp, row.original or link.url), "found"


async def save_new_links(settings: Settings, client: WaybackClient, items: list[PrItem]) -> list[str]:
    """Save Page Now for each new live link, within ``max_saves`` and the account's quota; the capture URLs."""
    from ..wayback.errors import ArchiveError

    todo = [i for i in items if i.kind == "added" and i.status == LinkStatus.ALIVE and i.url]
    todo = list({i.url: i for i in todo}.values())  # one save per URL
    if not todo:
        return []
    try:
        user = await client.user_status()
    except ArchiveError as exc:
        return [f"saving skipped: {exc}"]
    budget = settings.max_saves
    if user.quota_left is not None:
        budget = user.quota_left if budget is None else min(budget, user.quota_left)
    notes = []
    if budget is not None and len(todo) > budget:
        notes.append(f"the save budget ({budget}) is spent: {len(todo) - budget} new link(s) not saved")
        todo = todo[:budget]
    jobs: dict[str, PrItem] = {}
    for item in todo:
        try:
            answer = await client.submit(str(item.url))
        except ArchiveError as exc:
            notes.append(f"saving stopped: {exc}")
            break
        if answer.job_id:
            jobs[answer.job_id] = item
        else:
            item.archive_note = f"save refused: {answer.status_ext}"
    await poll_saves(settings, client, jobs, items, notes)
    return notes


async def poll_saves(settings: Settings, client: WaybackClient, jobs: dict[str, PrItem], items: list[PrItem],
                     notes: list[str]) -> None:
    """Poll the save jobs until each is done or ``save_poll_seconds`` passed; the capture URLs on the items."""
    from ..wayback.errors import ArchiveError

    until = time.monotonic() + settings.save_poll_seconds
    while jobs and time.monotonic() < until:
        for job_id, item in list(jobs.items()):
            try:
                status = await client.job_status(job_id)
            except ArchiveError as exc:
                notes.append(f"save status unknown: {exc}")
                return
            if status.status == "success" and status.timestamp:
                del jobs[job_id]
                saved = client.capture_url(status.timestamp, status.original_url or str(item.url))
                for other in items:
                    if other.url == item.url:
                        other.saved = saved
            elif status.status == "error":
                del jobs[job_id]
                item.archive_note = f"save failed: {status.status_ext or 'error'}"
    if jobs:
        notes.append(f"{len(jobs)} save(s) still running after {settings.save_poll_seconds:.0f}s: the nightly run "
                     "finds their captures")
