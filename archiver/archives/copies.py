"""Judging the other archives' captures by their content, and keeping their text.

A capture is replayed (its raw ``id_`` form where the archive has one) and judged with the checker's content
rules (:func:`~archiver.wayback.rescue.not_the_page`), emptiness and thinness before it is offered as
verified; one that is not the page is remembered as rejected, with why. Capture choice is the Wayback rule
(:func:`archiver.wayback.policy.choose`) across archives. A verified capture is stored as the link's text
snapshot (origin: the archive's id; ``archive_url``: the memento) when the repository holds none, under the
snapshot store's never-worse rule. :class:`Copies` is the state these need; the archives stage
(:mod:`archiver.archives.stage`) adds the night's scheduling.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..history.archives_record import ArchivedCapture, ArchivesRecord
from ..history.linkstate import LinkState
from ..history.wayback_record import Known
from ..models import Finding, Link
from ..options import ArchivesOptions, WaybackOptions
from ..snapshots.extract import Extraction, ExtractOptions
from ..snapshots.pool import OnDemandExtractor
from ..snapshots.store import Capture, SnapshotAction, stored_text
from ..support.timefmt import iso
from ..timeline.catalog import canonical_url, parse_archive_url
from ..wayback import policy
from ..wayback.errors import DeadlineReached
from ..wayback.rescue import not_the_page
from ..wayback.run import StageInput
from .client import MementoClient, MementoReplay
from .registry import Archive

NOTE_PREFIX = "archives: "
WAYBACK = "wayback"


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


def wayback_archive(options: WaybackOptions) -> Archive:
    """The Wayback Machine as a Memento archive, for replays of its known captures (pywb URL scheme)."""
    return Archive(id=WAYBACK, name="Wayback Machine", base=options.wayback_url.rstrip("/"),
                   timemap="{base}/web/timemap/link/{url}", memento="{base}/web/{timestamp}/{url}",
                   raw="{base}/web/{timestamp}id_/{url}", per_minute=options.replay_per_minute)


def archive_name(archive_id: str | None, archives: dict[str, Archive] | None = None) -> str:
    if archive_id is None:
        return "?"
    if archives and archive_id in archives:
        return archives[archive_id].name
    return "the Wayback Machine" if archive_id == WAYBACK else archive_id


class Copies:
    """The state of one run of the other archives that judging and keeping copies needs."""

    def __init__(self, options: ArchivesOptions, given: StageInput, client: MementoClient, archives: list[Archive],
                 deadline: float | None) -> None:
        self.options, self.store, self.snapshots, self.client = options, given.store, given.snapshot_store, client
        self.archives = {a.id: a for a in archives}
        self.wayback = wayback_archive(options.wayback)
        self.now, self.deadline = given.now, deadline
        self.out = ArchivesOutcome()
        text = options.wayback.text
        self.extractor = OnDemandExtractor(ExtractOptions.from_options(text), text.extract_timeout)

    def late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def archive(self, archive_id: str) -> Archive | None:
        return self.wayback if archive_id == WAYBACK else self.archives.get(archive_id)

    def declared_other(self, link: Link) -> list[tuple[str, Archive]]:
        out = []
        for url in sorted(link.archive_urls):
            if parse_archive_url(url) is not None:
                continue  # a Wayback URL: the Wayback stage's
            owner = next((a for a in self.archives.values() if a.owns(url)), None)
            if owner is not None:
                out.append((url, owner))
        return out

    async def needs_text(self, link: Link) -> bool:
        return await asyncio.to_thread(self.snapshots.first, link.normalized_url) is None

    def keep(self, link: Link, state: LinkState, captures: Iterable[ArchivedCapture]) -> list[ArchivedCapture]:
        """A few captures worth remembering: the best choices in order and the newest two of each archive,
        and the last rejected ones."""
        every = sorted(set(captures))
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
            await self.store_text(link, state, capture, replay, extraction)
        return None

    def mark(self, link: Link, state: LinkState, capture: ArchivedCapture, why: str | None) -> None:
        if capture.archive == WAYBACK:
            base = self.options.wayback.wayback_url.rstrip("/")
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

    async def store_text(self, link: Link, state: LinkState, capture: ArchivedCapture, replay: MementoReplay,
                         extraction: Extraction) -> None:
        """Keep the verified capture's text as the link's snapshot (its archive named as the origin)."""
        archive = self.archive(capture.archive)
        if archive is None:  # judged, so known: the archive list does not change within a run
            return
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
