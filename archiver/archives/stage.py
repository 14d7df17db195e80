"""The archives stage: copies and text from the other public archives, after the Wayback stage.

It runs after :func:`~archiver.wayback.stage.wayback_stage` (the Wayback Machine is still asked first)
on the links whose state calls for another archive:

* a **failing** (dead or soft-404) link without a good Wayback copy: the Wayback Machine holds none, or it
  was unreachable in this run (the run says so in its notes and asks the others for every failing link
  without a verified copy);
* a **blocked** link (bot wall, 401/403, consent wall) with no text snapshot: its text comes from the newest
  good capture, the Wayback Machine's known captures first, then any archive's;
* a link whose declared ``archive_url`` is on another archive (archive.today, ...): the memento is replayed
  and judged (``replays``, ``missing``, ``error``, ``mismatch``, ``unknown``).

Capture choice is the Wayback rule (:func:`archiver.wayback.policy.choose`) across archives: among
captures taken before the link first failed, the nearest before the citation date, else the nearest
after, else the newest; each is replayed and judged by its content (the checker's content rules through
:func:`~archiver.wayback.rescue.not_the_page`, emptiness, thinness) before it is offered as verified; a
capture that is not the page is remembered as rejected. A verified capture is stored as the link's text
snapshot (origin: the archive's id; ``archive_url``: the memento) when the repository holds none, under
the snapshot store's never-worse rule. What the archives said is kept in ``state.archives``
(:class:`~archiver.history.archives_record.ArchivesRecord`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TextIO

from ..config import Settings
from ..history.archives_record import ArchivedCapture, ArchivesRecord
from ..history.linkstate import LinkState
from ..history.store import StateStore
from ..history.wayback_record import Known
from ..models import FAILING_STATUSES, Finding, Link, LinkStatus
from ..snapshots.extract import Extraction, ExtractOptions
from ..snapshots.pool import OnDemandExtractor
from ..snapshots.store import Capture, SnapshotAction, SnapshotStore, stored_text
from ..support.timefmt import iso, parse_iso
from ..timeline.catalog import Catalog, canonical_url, parse_archive_url
from ..wayback import policy
from ..wayback.errors import DeadlineReached
from ..wayback.rescue import not_the_page
from ..wayback.run import WaybackOutcome
from .client import MementoClient, MementoReplay
from .registry import Archive, load_archives

NOTE_PREFIX = "archives: "
WAYBACK = "wayback"
#: links worked on at once (each archive is paced on its own, so a few links keep every archive busy)
WORKERS = 4


@dataclass(slots=True)
class ArchivesOutcome:
    """What one run of the stage did."""

    stats: Counter[str] = field(default_factory=Counter)
    calls: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0
    #: request start times per archive (time.monotonic()), for the benchmark
    starts: dict[str, list[float]] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        s = self.stats
        return (f"archives: {s['looked_up']} links asked ({sum(self.calls.values())} calls); "
                f"{s['copies']} copies verified, {s['rejected']} captures rejected, {s['text']} texts from archives, "
                f"{s['declared_checked']} declared archive URLs checked in {self.seconds:.1f}s")


def wayback_archive(settings: Settings) -> Archive:
    """The Wayback Machine as a Memento archive, for replays of its known captures (pywb URL scheme)."""
    return Archive(id=WAYBACK, name="Wayback Machine", base=settings.wayback_url.rstrip("/"),
                   timemap="{base}/web/timemap/link/{url}", memento="{base}/web/{timestamp}/{url}",
                   raw="{base}/web/{timestamp}id_/{url}", per_minute=settings.replay_per_minute)


def archive_name(archive_id: str | None, archives: dict[str, Archive] | None = None) -> str:
    if archive_id is None:
        return "?"
    if archives and archive_id in archives:
        return archives[archive_id].name
    return "the Wayback Machine" if archive_id == WAYBACK else archive_id


class _Run:
    def __init__(self, settings: Settings, store: StateStore, snapshots: SnapshotStore, client: MementoClient,
                 archives: list[Archive], now: dt.datetime, deadline: float | None, wayback_down: bool) -> None:
        self.settings, self.store, self.snapshots, self.client = settings, store, snapshots, client
        self.archives = {a.id: a for a in archives}
        self.wayback = wayback_archive(settings)
        self.now, self.deadline, self.wayback_down = now, deadline, wayback_down
        #: links whose Wayback lookup failed in this run (the others stand in for them too)
        self.wayback_failed: set[str] = set()
        self.out = ArchivesOutcome()
        self.refusals: Counter[str] = Counter()
        self.extractor = OnDemandExtractor(ExtractOptions.from_settings(settings), settings.extract_timeout)

    def late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def archive(self, archive_id: str) -> Archive | None:
        return self.wayback if archive_id == WAYBACK else self.archives.get(archive_id)

    # ------------------------------------------------------------------ what is due

    def wants_copy(self, state: LinkState) -> bool:
        if state.status not in FAILING_STATUSES:
            return False
        wb = state.wayback
        if wb is not None and wb.url and (wb.verified or not self.wayback_down):
            return False  # a good (or not yet judged, with the archive up) Wayback copy comes first
        if wb is None or not wb.looked_up:  # the Wayback Machine has not answered for this link
            return self.wayback_down or state.normalized_url in self.wayback_failed
        return True

    def lookup_due(self, state: LinkState) -> bool:
        rec = state.archives
        if rec is None or not rec.looked_up:
            return True
        if rec.url and rec.verified:
            return False
        looked, first = parse_iso(rec.looked_up), parse_iso(state.first_failed)
        if looked is not None and first is not None and looked < first:
            return True
        return policy.cycle_due("archives " + state.normalized_url, rec.looked_up, self.now,
                                self.settings.wayback_recheck_days / 4)

    def declared_other(self, link: Link) -> list[tuple[str, Archive]]:
        out = []
        for url in sorted(link.archive_urls):
            if parse_archive_url(url) is not None:
                continue  # a Wayback URL: the Wayback stage's
            owner = next((a for a in self.archives.values() if a.owns(url)), None)
            if owner is not None:
                out.append((url, owner))
        return out

    # ------------------------------------------------------------------ one link

    async def link(self, link: Link) -> None:
        state = self.store.states.get(link.normalized_url)
        if state is None or state.status == LinkStatus.UNCHECKED:
            return
        declared = self.declared_other(link)
        rec = state.archives
        if declared and (rec is None or set(rec.declared) != {u for u, _ in declared}
                         or policy.cycle_due("declared " + link.normalized_url, rec.looked_up, self.now,
                                             self.settings.wayback_recheck_days)):
            await self.check_declared(link, state, declared)
        if self.wants_copy(state) and self.lookup_due(state):
            await self.lookup(link, state)
            await self.settle(link, state, rescue=True)
        elif state.status == LinkStatus.BLOCKED and await self.needs_text(link):
            await self.text_for_blocked(link, state)

    async def needs_text(self, link: Link) -> bool:
        return await asyncio.to_thread(self.snapshots.first, link.normalized_url) is None

    async def lookup(self, link: Link, state: LinkState) -> None:
        """Every archive's TimeMap of the link, at once (each archive paced on its own)."""
        self.out.stats["looked_up"] += 1
        ids = list(self.archives)
        answers = await asyncio.gather(*(self.client.timemap(self.archives[i], link.url) for i in ids),
                                       return_exceptions=True)
        rec = (state.archives or ArchivesRecord()).copy()
        merged = {(c.archive, c.timestamp): c for c in rec.captures}
        unknown: dict[str, str] = {}
        for archive_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, BaseException):
                if isinstance(answer, DeadlineReached):
                    unknown[archive_id] = "not asked: the time budget"
                    continue
                raise answer
            if answer.kind == "unknown":
                unknown[archive_id] = answer.why or "unknown"
                if answer.refused:
                    self.refusals[archive_id] += 1
                continue
            for m in answer.mementos:
                key = (archive_id, m.timestamp)
                if key not in merged:
                    merged[key] = ArchivedCapture(m.timestamp, archive_id, m.uri)
        rec.captures = self.keep(link, state, merged.values())
        rec.unknown = unknown
        rec.looked_up = iso(self.now)
        self.choose(link, state, rec)
        state.archives = rec
        self.store.save(state)

    def keep(self, link: Link, state: LinkState, captures: object) -> list[ArchivedCapture]:
        """A few captures worth remembering: the best choices in order and the newest two of each archive,
        and the last rejected ones."""
        every = sorted(set(captures))  # type: ignore[call-overload]
        ok = [c for c in every if c.usable]
        picked: set[ArchivedCapture] = set()
        for archive_id in {c.archive for c in ok}:
            picked.update([c for c in ok if c.archive == archive_id][-2:])
        picked.update(self.candidates(link, state, ok, policy.CANDIDATES))
        rejected = [c for c in every if c.rejected][-policy.MAX_REJECTED:]
        return sorted(picked | set(rejected))

    def candidates(self, link: Link, state: LinkState, captures: list[ArchivedCapture],
                   limit: int) -> list[ArchivedCapture]:
        """Usable captures in the order the Wayback rule would offer them (:func:`policy.choose`), across archives."""
        cited, failed_at = policy.cited_ts(link), policy.failed_ts(state)
        pool = [c for c in captures if c.usable]
        out: list[ArchivedCapture] = []
        while pool and len(out) < limit:
            best = policy.choose([Known(c.timestamp, 200) for c in pool], cited, failed_at)
            if best is None:
                break
            same = sorted((c for c in pool if c.timestamp == best.timestamp), key=lambda c: (not c.verified, c.archive))
            out.append(same[0])
            pool.remove(same[0])
        return out

    def choose(self, link: Link, state: LinkState, rec: ArchivesRecord) -> None:
        best = self.candidates(link, state, rec.captures, 1)
        chosen = best[0] if best else None
        rec.url = chosen.url if chosen else None
        rec.archive = chosen.archive if chosen else None
        rec.timestamp = chosen.timestamp if chosen else None
        rec.verified = bool(chosen and chosen.verified)

    def judged(self, link: Link, state: LinkState, capture: ArchivedCapture, why: str | None) -> None:
        rec = ArchivesRecord.ensure(state)
        rec.captures = sorted({c for c in rec.captures if c != capture}
                              | {ArchivedCapture(capture.timestamp, capture.archive, capture.url, why, why is None)})
        self.choose(link, state, rec)
        self.store.save(state)

    async def settle(self, link: Link, state: LinkState, *, rescue: bool) -> None:
        """Judge the offered copy (and the next ones when rejected), rescuing its text when the link has none."""
        skipped: set[ArchivedCapture] = set()
        need_text = rescue and await self.needs_text(link)
        for _ in range(policy.VERIFY_TRIES):
            rec = state.archives
            if rec is None or self.late():
                return
            pool = [c for c in rec.captures if c not in skipped]
            best = self.candidates(link, state, pool, 1)
            if not best:
                return
            chosen = best[0]
            if chosen.verified and not need_text:
                return
            result = await self.judge(link, state, chosen, rescue=need_text)
            if result == "":
                skipped.add(chosen)
                continue
            if result is None:
                self.out.stats["copies"] += 1
                return

    async def judge(self, link: Link, state: LinkState, capture: ArchivedCapture, *, rescue: bool) -> str | None:
        """Replay and judge one capture: None once verified (and stored when ``rescue``), ``""`` when nothing
        was learned (unknown now), else why it is not the page (remembered as rejected)."""
        archive = self.archive(capture.archive)
        if archive is None:
            return ""
        url = archive.raw_url(capture.timestamp, link.url) or capture.url
        try:
            replay = await self.client.replay(archive, url)
        except DeadlineReached:
            return ""
        self.out.stats["replays"] += 1
        why = await self.verdict(link, replay)
        if why is None:
            return ""
        if isinstance(why, Extraction):
            extraction = why
        else:
            self.out.stats["rejected"] += 1
            self.mark(link, state, capture, why)
            return why
        self.mark(link, state, capture, None)
        if rescue:
            await self.store_text(link, state, capture, archive, replay, extraction)
        return None

    def mark(self, link: Link, state: LinkState, capture: ArchivedCapture, why: str | None) -> None:
        if capture.archive == WAYBACK:
            base = self.settings.wayback_url.rstrip("/")
            if why is None:
                policy.mark_verified(state, link, capture.timestamp, base)
            else:
                policy.mark_rejected(state, link, capture.timestamp, why, base)
            self.store.save(state)
        else:
            self.judged(link, state, capture, why)

    async def verdict(self, link: Link, replay: MementoReplay) -> str | Extraction | None:
        """Why a replayed memento is not the page; its extraction when it is; None when unknown now."""
        if replay.kind == "error":
            return f"the capture is an error page (HTTP {replay.status})"
        if replay.kind == "redirect":
            return f"the capture is a redirect (HTTP {replay.status})"
        if replay.kind != "ok":
            return None
        if replay.original and canonical_url(replay.original) != link.normalized_url:
            return f"the memento is of another page ({replay.original})"
        if not replay.body.strip():
            return "the capture is empty"
        if why := not_the_page(link.url, replay.body, replay.content_type):
            return why
        extraction = await self.extract(replay.body, replay.content_type, link.url, truncated=replay.truncated)
        if extraction.kind == "failed":
            return None
        if extraction.kind == "empty" or (extraction.kind != "binary" and not extraction.text.strip()):
            return "the capture is empty"
        if why := policy.thin_capture(len(stored_text(extraction.text)),
                                      extraction.reason if extraction.thin else None, None):
            return why
        return extraction

    async def store_text(self, link: Link, state: LinkState, capture: ArchivedCapture, archive: Archive,
                         replay: MementoReplay, extraction: Extraction) -> None:
        is_wayback = archive.id == WAYBACK
        memento = archive.memento_url(capture.timestamp, link.url) if is_wayback else capture.url
        snap = Capture(url=link.url, normalized_url=link.normalized_url,
                       captured_at=policy.ts_datetime(capture.timestamp),
                       extraction=extraction, status="alive", http_status=replay.status, final_url=link.url,
                       content_type=(replay.content_type or "").split(";")[0].strip().lower() or None,
                       origin=archive.id, wayback_url=memento if is_wayback else None,
                       archive_url=None if is_wayback else memento,
                       cited_by=tuple(sorted({c.event for c in link.citations})),
                       exchange=replay.exchange, body=replay.body)
        outcome = await asyncio.to_thread(self.snapshots.save, snap)
        if outcome.action is SnapshotAction.WRITTEN:
            rec = ArchivesRecord.ensure(state)
            rec.rescued = {"archive": archive.id, "timestamp": capture.timestamp}
            self.store.save(state)
            self.out.stats["text"] += 1
            self.out.stats[f"text_{'wayback' if is_wayback else 'archive'}"] += 1

    async def text_for_blocked(self, link: Link, state: LinkState) -> None:
        """The newest good capture's text for a blocked link: the Wayback Machine's known captures first."""
        self.out.stats["blocked_without_text"] += 1
        if not self.wayback_down:
            wb_caps = sorted((c for c in policy.known(state.wayback) if c.usable), reverse=True)
            for known in wb_caps[:policy.VERIFY_TRIES]:
                if self.late():
                    return
                capture = ArchivedCapture(known.timestamp, WAYBACK,
                                          policy.capture_url(self.wayback.base, known.timestamp, link.url))
                if await self.judge(link, state, capture, rescue=True) is None:
                    return
        rec = state.archives
        if rec is None or not rec.looked_up or self.lookup_due(state):
            await self.lookup(link, state)
            rec = state.archives
        assert rec is not None
        for capture in sorted((c for c in rec.captures if c.usable), reverse=True)[:policy.VERIFY_TRIES]:
            if self.late():
                return
            if await self.judge(link, state, capture, rescue=True) is None:
                return

    # ------------------------------------------------------------------ declared archive URLs

    async def check_declared(self, link: Link, state: LinkState, declared: list[tuple[str, Archive]]) -> None:
        verdicts: dict[str, str] = {}
        for url, archive in declared:
            try:
                replay = await self.client.replay(archive, url)
            except DeadlineReached:
                return
            self.out.stats["declared_checked"] += 1
            why = await self.verdict(link, replay)
            if replay.kind == "missing":
                verdicts[url] = "missing"
            elif why is None:
                verdicts[url] = "unknown"
            elif isinstance(why, Extraction):
                verdicts[url] = "replays"
            elif why.startswith("the memento is of another page"):
                verdicts[url] = "mismatch"
            else:
                verdicts[url] = "error"
        rec = ArchivesRecord.ensure(state)
        rec.declared = verdicts
        rec.looked_up = rec.looked_up or iso(self.now)
        self.store.save(state)

    async def extract(self, body: bytes, content_type: str | None, url: str, *, truncated: bool) -> Extraction:
        return await self.extractor.extract(body, content_type, url, truncated=truncated)

    async def aclose(self) -> None:
        await self.extractor.aclose()


def archive_findings(link: Link, state: LinkState | None, archives: dict[str, Archive]) -> list[Finding]:
    """``archive_copy`` (info) for a failing link whose copy comes from another archive (no Wayback copy);
    ``archive_unavailable`` (warning) for a declared archive URL of another archive that does not replay."""
    if state is None or state.archives is None or not link.checkable:
        return []
    rec, out = state.archives, []
    wb_copy = state.wayback is not None and state.wayback.url
    for c in link.citations:
        where = {"file": c.file, "line": c.line, "event": c.event, "source_index": c.source_index, "url": link.url}
        prefix = f"source {c.source_index}: {link.url}"
        if state.status in FAILING_STATUSES and rec.url and not wb_copy:
            when = str(rec.timestamp or "")
            unverified = "" if rec.verified else " (not yet replayed and checked: it may be an error page)"
            out.append(Finding(kind="archive_copy", severity="info",
                               message=f"{prefix} is {state.status}; {archive_name(rec.archive, archives)} has a "
                                       f"copy from {when[:4]}-{when[4:6]}-{when[6:8]}: {rec.url}{unverified}",
                               expected=rec.url, fix=f"archive_url: {rec.url}", **where))
        for url, verdict in sorted(rec.declared.items()) if c is link.citations[0] else ():
            if verdict in ("missing", "error", "mismatch"):
                why = {"missing": "was not found in the archive",
                       "error": "is a capture of an error page or a redirect, not of the cited page",
                       "mismatch": "is a capture of another page"}[verdict]
                out.append(Finding(kind="archive_unavailable", severity="warning",
                                   message=f"{prefix}: the declared archive_url {url} {why}",
                                   expected="a capture that replays the page", actual=url,
                                   fix=f"archive_url: {rec.url}" if rec.url and rec.verified
                                   else "remove archive_url or find another copy", **where))
    return out


async def archives_stage(settings: Settings, catalog: Catalog, store: StateStore, snapshot_store: SnapshotStore, *,
                         now: dt.datetime, wayback: WaybackOutcome | None = None, deadline: float | None = None,
                         stream: TextIO | None = None, client: MementoClient | None = None) -> ArchivesOutcome:
    """Ask the other archives (see the module docstring); ``wayback`` is the Wayback stage's outcome of this run
    (its ``unreachable`` turns on the lookups of every failing link without a verified copy)."""
    stream = stream or sys.stderr
    started = time.monotonic()
    archives = load_archives(settings)
    wayback_down = bool(wayback is not None and wayback.unreachable)
    out_notes: list[str] = []
    if wayback_down:
        out_notes.append(NOTE_PREFIX + "the Wayback Machine is unreachable in this run: the other archives "
                         f"({', '.join(a.name for a in archives) or 'none configured'}) are asked for the failing "
                         "links without a verified copy")
    own = client is None
    client = client or MementoClient(settings, archives, deadline=deadline)
    client.deadline = deadline
    run = _Run(settings, store, snapshot_store, client, archives, now, deadline, wayback_down)
    if wayback is not None:
        run.wayback_failed = set(wayback.lookup_failed)
    links = deque(link for link in catalog.links if link.checkable)

    async def worker() -> None:
        while links and not run.late():
            await run.link(links.popleft())

    try:
        if own:
            await client.__aenter__()
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
    finally:
        await run.aclose()
        if own:
            await client.__aexit__(None, None, None)
    out = run.out
    out.notes = out_notes
    for archive_id, why in sorted(client.rested.items()):
        out.notes.append(NOTE_PREFIX + f"{archive_name(archive_id, run.archives)} is rested for the rest of this run "
                         f"after {why}")
    for archive_id, count in sorted(run.refusals.items()):
        out.notes.append(NOTE_PREFIX + f"{archive_name(archive_id, run.archives)} refused {count} lookups: unknown, "
                         "not 'not archived'")
    out.calls = dict(sorted(client.calls.items()))
    out.starts = {k: list(v) for k, v in client.starts.items()}
    for link in catalog.links:
        out.findings.extend(archive_findings(link, store.states.get(link.normalized_url), run.archives))
    out.seconds = time.monotonic() - started
    return out
