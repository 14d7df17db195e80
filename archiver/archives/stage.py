"""The archives stage: copies and text from the other public archives, on the night's lanes.

Beside the Wayback stage (the Wayback Machine is still asked first: a link is offered here once it is done
with it, :meth:`_Run.offer`), for the links whose state calls for another archive:

* a **failing** (dead or soft-404) link without a good Wayback copy: the Wayback Machine holds none, or it
  was unreachable in this run (the run says so in its notes and offers every failing link without a
  verified copy);
* a **blocked** link (bot wall, 401/403, consent wall) with no text snapshot: its text comes from the newest
  good capture, the Wayback Machine's known captures first, then any archive's;
* a link whose declared ``archive_url`` is on another archive (archive.today, ...): the memento is replayed
  and judged (``replays``, ``missing``, ``error``, ``mismatch``, ``unknown``).

Each archive is a lane (:mod:`archiver.support.lanes`). A link is asked of one archive at a time, the
likeliest first (:mod:`~archiver.archives.rates`: the share of the same site's pages it held, then its
share over all sites); the first good copy ends its asks, and only the ``REPLAYS_PER_ARCHIVE`` captures of
an archive closest to the citation are replayed and judged (:mod:`~archiver.archives.copies`). A lane with
nothing of its own takes a link waiting behind a busy one. What the archives said is kept in
``state.archives`` (:class:`~archiver.history.archives_record.ArchivesRecord`), each archive's ask with
its time, so a night cut short resumes with the archives not asked yet."""

from __future__ import annotations

import itertools
import time
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from ..history.archives_record import ArchivedCapture, ArchivesRecord
from ..history.linkstate import LinkState
from ..history.schedule import has_text, work_for
from ..models import FAILING_STATUSES, Link, LinkStatus
from ..options import ArchivesOptions
from ..support.lanes import Item, Lane, LanePart, Lanes, Place, Work
from ..support.timefmt import iso, parse_iso
from ..wayback import policy
from ..wayback.errors import DeadlineReached
from ..wayback.limiter import ArchiveLimiter
from ..wayback.run import REPLAY, StageInput, WaybackOutcome
from .client import MementoClient, TimeMap
from .copies import NOTE_PREFIX, WAYBACK, ArchivesOutcome, Copies, archive_name
from .findings import archive_findings
from .rates import HitRates, site_host
from .registry import Archive, load_archives

#: while nothing is known of a site at an archive, an ask there is worth this much more for each other page of
#: the site waiting (what the answer teaches), up to LEARNING_BONUS_CAP times
LEARNING_BONUS, LEARNING_BONUS_CAP = 0.25, 3.0
#: captures of one archive replayed and judged per link and run (the closest ones to the citation)
REPLAYS_PER_ARCHIVE = 2


@dataclass(eq=False, slots=True)
class _Want:
    """A link the other archives are asked about in this run, one archive at a time until a good copy."""

    link: Link
    state: LinkState
    work: Work
    #: ``copy`` (a failing link's copy to cite) or ``text`` (a blocked link's text)
    purpose: str
    #: its place in the run's order (kept when it moves from lane to lane)
    order: int
    #: archives asked (or judged) in this run
    tried: set[str] = field(default_factory=set)
    #: archives worth asking: due for a TimeMap, or holding captures not judged yet
    allowed: set[str] = field(default_factory=set)
    #: archives the link was sent to the back of the queue of, as a long shot
    deferred: set[str] = field(default_factory=set)
    counted: bool = False
    #: no text of the link is stored (asked once: a text stored by its own rescue ends its asks)
    lacks_text: bool | None = None
    #: the link's site (its host without ``www.``), what the archives' odds are learned by
    host: str = ""

    def __post_init__(self) -> None:
        self.host = self.host or site_host(self.link.url)


@dataclass(eq=False, slots=True)
class _Ask:
    """The item asking one archive about one link (a lane with nothing of its own may steal it)."""

    run: _Run
    want: _Want
    archive: str
    #: taken by an idle lane from another's queue (asked there without looking for a likelier archive)
    stolen: bool = False

    async def __call__(self) -> None:
        await self.run.ask(self.want, self.archive, stolen=self.stolen)


class _Run(Copies):
    """One night of the other archives: links offered, placed on their likeliest archive's lane, asked."""

    def __init__(self, options: ArchivesOptions, given: StageInput, client: MementoClient, archives: list[Archive],
                 lanes: Lanes) -> None:
        super().__init__(options, given, client, archives, lanes.deadline)
        self.lanes = lanes
        #: the Wayback Machine cannot be reached in this run: every failing link without a verified copy asks
        self.wayback_down = False
        #: links whose Wayback lookup failed in this run (the others stand in for them too)
        self.wayback_failed: set[str] = set()
        self.refusals: Counter[str] = Counter()
        self.offered: set[str] = set()
        self.declared_queued: set[str] = set()
        #: archives whose queued items were moved elsewhere once they were rested
        self.moved: set[str] = set()
        self.order = itertools.count()
        #: links queued per site (not taken yet): what learning where a site's pages are is worth
        self.waiting: Counter[str] = Counter()
        self.rates = HitRates()
        for state in given.store.states.values():
            self.rates.learn(state, self.archives)
        for archive in archives:  # a TimeMap and a replay a link, as a rule
            # two workers: one request in flight per archive (the client's rule) while another link's capture
            # is being judged (its text extracted)
            self.lanes.add(archive.id, workers=2, steal=self.steal, pace=client.per_minute(archive) / 120)

    # ------------------------------------------------------------------ what is due

    def wants_copy(self, state: LinkState) -> bool:
        if state.status not in FAILING_STATUSES:
            return False
        rec = state.archives
        if rec is not None and rec.url and rec.verified:
            return False  # another archive's copy was judged to be the page
        wb = state.wayback
        if wb is not None and wb.url and (wb.verified or not self.wayback_down):
            return False  # a good (or not yet judged, with the archive up) Wayback copy comes first
        if wb is None or not wb.looked_up:  # the Wayback Machine has not answered for this link
            return self.wayback_down or state.normalized_url in self.wayback_failed
        return True

    def due_archives(self, state: LinkState) -> set[str]:
        """The archives to ask for the link's TimeMap: never asked, asked before the link failed, asked
        without an answer (unknown), or due for the periodic recheck."""
        rec = state.archives
        first = parse_iso(state.first_failed)
        due: set[str] = set()
        for archive_id in self.archives:
            # a record from before per-archive asks: every archive was asked at looked_up
            when = (rec.asked.get(archive_id) if rec.asked else rec.looked_up) if rec is not None else None
            asked = parse_iso(when)
            stale = asked is None or (first is not None and asked < first)
            unknown = rec is not None and archive_id in rec.unknown
            if stale or unknown or policy.cycle_due("archives " + state.normalized_url, when, self.now,
                                                    self.options.wayback.wayback_recheck_days / 4):
                due.add(archive_id)
        return due

    # ------------------------------------------------------------------ links offered to the lanes

    def offer(self, link: Link) -> None:
        """A link the Wayback Machine is done with (or every link, when it is not asked): queue what the other
        archives can do for it, each on its likeliest archive's lane."""
        key = link.normalized_url
        if key in self.offered or not link.checkable:
            return
        state = self.store.states.get(key)
        if state is None or state.status == LinkStatus.UNCHECKED:
            return
        declared = self.declared_other(link)
        rec = state.archives
        if declared and key not in self.declared_queued and (
                rec is None or set(rec.declared) != {u for u, _ in declared}
                or policy.cycle_due("declared " + key, rec.looked_up, self.now,
                                    self.options.wayback.wayback_recheck_days)):
            self.declared_queued.add(key)
            self.lanes.put(declared[0][1].id, Work.DECLARED, key, partial(self.check_declared, link, state, declared))
        if self.wants_copy(state):
            want = self.want(link, state, work_for(state), "copy")
        elif state.status == LinkStatus.BLOCKED and not has_text(state):
            want = self.want(link, state, Work.BLOCKED_TEXT, "text")
            if not self.wayback_down and any(c.usable for c in policy.known(state.wayback)):
                self.offered.add(key)  # the Wayback Machine's known captures first
                self.lanes.put(REPLAY, want.work, key, partial(self.wayback_text, want),
                               Place(rank=(want.order,)))
                return
        else:
            return
        if want.allowed:
            self.offered.add(key)
            self.place(want)

    def offer_all(self, links: Iterable[Link]) -> None:
        for link in links:
            self.offer(link)

    def want(self, link: Link, state: LinkState, work: Work, purpose: str) -> _Want:
        rec = state.archives
        held = {c.archive for c in rec.captures if c.usable} if rec is not None else set()
        allowed = (self.due_archives(state) | held) & set(self.archives)
        return _Want(link, state, work, purpose, next(self.order), allowed=allowed)

    def preference(self, want: _Want) -> list[str]:
        """The archives still to ask about the link, likeliest first (this host's hits, then the archive's)."""
        host, key = want.host, want.link.normalized_url
        left = [a for a in want.allowed if a not in want.tried and a not in self.client.rested]
        return sorted(left, key=lambda a: (-self.rates.score(host, a), zlib.crc32(f"{a} {key}".encode())))

    def place(self, want: _Want) -> None:
        """Queue the link on the lane of the likeliest archive not asked yet (nothing left: it is done), with the
        odds that the archive holds it (the lane serves the best expected value first); an archive that held
        none of the site's pages so far is a long shot, asked after everything else on its lane."""
        order = self.preference(want)
        if not order:
            return
        archive_id, host = order[0], want.host
        self.lanes.put(archive_id, want.work, want.link.normalized_url, _Ask(self, want, archive_id),
                       Place(rank=(want.order,), odds=self.odds(host, archive_id),
                             long_shot=self.rates.missed(host, archive_id)))
        self.waiting[host] += 1

    def odds(self, host: str, archive_id: str) -> float:
        """What asking ``archive_id`` about one of the site's pages is worth: its chance to hold it and, while
        nothing is known of the site there, what the answer teaches about the site's other waiting pages."""
        chance = self.rates.score(host, archive_id)
        if self.rates.known(host, archive_id):
            return chance
        return chance * min(LEARNING_BONUS_CAP, 1.0 + LEARNING_BONUS * max(0, self.waiting[host]))

    def relearn(self, host: str) -> None:
        """An answer about one of the site's pages: its other queued pages move to the archive now likeliest
        (or behind the rest of a lane, as long shots), at once rather than when their turn comes."""
        for archive_id in self.archives:
            lane = self.lanes.lanes.get(archive_id)
            if lane is None:
                continue
            moved = [i for i in lane.items if isinstance(i.job, _Ask) and not i.job.stolen
                     and i.job.want.host == host]
            if not moved:
                continue
            lane.items = [i for i in lane.items if i not in moved]
            for item in moved:
                self.waiting[host] -= 1
                self.place(item.job.want)  # type: ignore[attr-defined]  # an _Ask, checked above

    def steal(self, lane: Lane) -> Item | None:
        """An archive with nothing of its own asks about the most valuable link waiting behind a busy lane that
        it may hold (not one of a site whose pages it was seen not to hold), so that no lane idles while links
        wait."""
        me = lane.name
        if me in self.client.rested:
            return None
        best: tuple[Lane, Item] | None = None
        for other in self.archives:
            queue = self.lanes.lanes.get(other)
            if other == me or queue is None or queue.running < queue.workers or not queue.items:
                continue  # an idle lane takes its own items at once
            for item in queue.items:
                job = item.job
                if not isinstance(job, _Ask) or me not in job.want.allowed or me in job.want.tried:
                    continue
                if (best is None or item < best[1]) and not self.rates.missed(job.want.host, me):
                    best = (queue, item)
        if best is None:
            return None
        queue, item = best
        queue.items.remove(item)
        want = item.job.want  # type: ignore[attr-defined]  # an _Ask, checked above
        return Item(item.order, item.work, item.rank, item.seq, item.key, _Ask(self, want, me, stolen=True), me)

    # ------------------------------------------------------------------ one archive, one link

    async def ask(self, want: _Want, archive_id: str, *, stolen: bool = False) -> None:
        """Ask ``archive_id`` about the link (its TimeMap when due), judge its closest captures; a good copy
        (or text) ends the link's asks, else it moves on to the next likeliest archive. When what the run
        learned since the link was queued makes another archive likelier, the link moves there first."""
        link, state = want.link, want.state
        self.waiting[want.host] -= 1
        if self.late():
            return
        if not stolen and archive_id not in self.client.rested and self.moved_on(want, archive_id):
            return
        want.tried.add(archive_id)
        if archive_id in self.client.rested:
            self.rest(archive_id)
            self.place(want)
            return
        if not want.counted:
            want.counted = True
            self.out.stats["looked_up"] += 1
        try:
            if archive_id in self.due_archives(state):
                answer = await self.client.timemap(self.archives[archive_id], link.url)
                self.learn(link, state, archive_id, answer)
            done = await (self.copy_at(want, archive_id) if want.purpose == "copy"
                          else self.text_at(want, archive_id))
        except DeadlineReached:
            return
        if archive_id in self.client.rested:
            self.rest(archive_id)
        if not done:
            self.place(want)

    def moved_on(self, want: _Want, archive_id: str) -> bool:
        """What the night learned since the link was queued here: a likelier archive (the link moves there),
        or that this archive holds none of the site's pages (the link waits behind the rest as a long shot)."""
        host = want.host
        best = self.preference(want)
        if best and best[0] != archive_id and \
                self.rates.score(host, best[0]) > self.rates.score(host, archive_id) + 1e-9:
            self.place(want)
            return True
        if self.rates.missed(host, archive_id) and archive_id not in want.deferred:
            want.deferred.add(archive_id)
            self.lanes.put(archive_id, want.work, want.link.normalized_url, _Ask(self, want, archive_id),
                           Place(rank=(want.order,), odds=self.rates.score(host, archive_id), long_shot=True))
            return True
        return False

    def learn(self, link: Link, state: LinkState, archive_id: str, answer: TimeMap) -> None:
        """Keep what one archive said of the link (its captures, or why it is unknown)."""
        rec = (state.archives or ArchivesRecord()).copy()
        now = iso(self.now)
        if answer.kind == "unknown":
            rec.unknown[archive_id] = answer.why or "unknown"
            if answer.refused:
                self.refusals[archive_id] += 1
        else:
            rec.unknown.pop(archive_id, None)
        rec.asked[archive_id] = now
        merged = {(c.archive, c.timestamp): c for c in rec.captures}
        for m in answer.mementos:
            merged.setdefault((archive_id, m.timestamp), ArchivedCapture(m.timestamp, archive_id, m.uri))
        rec.captures = self.keep(link, state, merged.values())
        rec.looked_up = now
        self.choose(link, state, rec)
        state.archives = rec
        self.store.save(state)
        if answer.kind != "unknown":
            host = site_host(link.url)
            self.rates.add(host, archive_id, bool(answer.mementos))
            self.relearn(host)

    def rest(self, archive_id: str) -> None:
        """A rested archive's queued links move on to their next archive (it is unknown for them)."""
        if archive_id in self.moved:
            return
        self.moved.add(archive_id)
        why = f"rested for this run: {self.client.rested.get(archive_id, '')}"
        for item in self.lanes.drop(archive_id, left=False):
            job = item.job
            if isinstance(job, _Ask):
                self.waiting[job.want.host] -= 1
                job.want.tried.add(archive_id)
                rec = ArchivesRecord.ensure(job.want.state)
                rec.unknown[archive_id] = why
                self.store.save(job.want.state)
                self.place(job.want)

    async def copy_at(self, want: _Want, archive_id: str) -> bool:
        """Judge the archive's closest captures (the Wayback rule's order, :func:`policy.choose`), up to
        ``REPLAYS_PER_ARCHIVE``; True once one is the page (stored as the text when the link has none)."""
        link, state = want.link, want.state
        need_text = await self.text_missing(want)
        skipped: set[ArchivedCapture] = set()
        for _ in range(REPLAYS_PER_ARCHIVE):
            rec = state.archives
            if rec is None or self.late():
                return False
            pool = [c for c in rec.captures if c.archive == archive_id and c not in skipped]
            best = self.candidates(link, state, pool, 1)
            if not best:
                return False
            chosen = best[0]
            if chosen.verified and not need_text:
                return True
            result = await self.judge(link, state, chosen, rescue=need_text)
            if result is None:
                self.out.stats["copies"] += 1
                return True
            skipped.add(chosen)
        return False

    async def text_at(self, want: _Want, archive_id: str) -> bool:
        """The newest good capture's text from this archive for a blocked link (up to ``REPLAYS_PER_ARCHIVE``)."""
        link, state = want.link, want.state
        if not await self.text_missing(want):
            return True
        rec = state.archives
        captures = [c for c in rec.captures if c.usable and c.archive == archive_id] if rec is not None else []
        for capture in sorted(captures, reverse=True)[:REPLAYS_PER_ARCHIVE]:
            if self.late():
                return False
            if await self.judge(link, state, capture, rescue=True) is None:
                return True
        return False

    async def text_missing(self, want: _Want) -> bool:
        """The repository holds no text of the link (one read of the snapshot store per link and run)."""
        if want.lacks_text is None:
            want.lacks_text = await self.needs_text(want.link)
        return want.lacks_text

    async def wayback_text(self, want: _Want) -> None:
        """A blocked link's text from the Wayback Machine's known captures first (newest first), then from the
        other archives."""
        link, state = want.link, want.state
        self.out.stats["blocked_without_text"] += 1
        if not await self.text_missing(want):
            return
        wb_caps = sorted((c for c in policy.known(state.wayback) if c.usable), reverse=True)
        for known in wb_caps[:policy.VERIFY_TRIES]:
            if self.late():
                return
            capture = ArchivedCapture(known.timestamp, WAYBACK,
                                      policy.capture_url(self.wayback.base, known.timestamp, link.url))
            try:
                if await self.judge(link, state, capture, rescue=True) is None:
                    return
            except DeadlineReached:
                return
        self.place(want)

class ArchivesNight(LanePart[_Run]):
    """The other archives' part of a night, on the night's lanes (one lane per archive)::

        part = ArchivesNight(options, StageInput(catalog, store, snapshot_store, now), lanes=lanes)
        async with part as run:
            wayback_run.handoff = run.offer      # links the Wayback Machine is done with
            await lanes.run()
        outcome = part.outcome()

    Standing alone (:func:`archives_stage`) every link is offered at once (``run.offer_all``). ``limiter`` is
    the night's :class:`~archiver.wayback.limiter.ArchiveLimiter`, shared with the Wayback Machine's part: the
    client built here paces its replays of the Wayback Machine's captures with it (a fresh one when none is
    given). A ``client`` passed in keeps its own.
    """

    def __init__(self, options: ArchivesOptions, given: StageInput, *, lanes: Lanes,
                 client: MementoClient | None = None, limiter: ArchiveLimiter | None = None) -> None:
        self.started = time.monotonic()
        self.catalog, self.store = given.catalog, given.store
        self.archives = load_archives(options)
        self.own = client is None
        self.client = client or MementoClient(options, self.archives, deadline=lanes.deadline, limiter=limiter)
        self.client.deadline = lanes.deadline
        self.run = _Run(options, given, self.client, self.archives, lanes)

    def wayback_unreachable(self) -> None:
        """The Wayback Machine cannot be reached in this run: every failing link without a verified copy is
        offered to the others now (those offered before keep their place)."""
        self.run.wayback_down = True
        self.run.offer_all(self.catalog.links)

    def outcome(self) -> ArchivesOutcome:
        run, client = self.run, self.client
        out = run.out
        if run.wayback_down:
            out.notes.append(NOTE_PREFIX + "the Wayback Machine is unreachable in this run: the other archives "
                             f"({', '.join(a.name for a in self.archives) or 'none configured'}) are asked for the "
                             "failing links without a verified copy")
        for archive_id, why in sorted(client.rested.items()):
            out.notes.append(NOTE_PREFIX + f"{archive_name(archive_id, run.archives)} is rested for the rest of "
                             f"this run after {why}")
        for archive_id, count in sorted(run.refusals.items()):
            out.notes.append(NOTE_PREFIX + f"{archive_name(archive_id, run.archives)} refused {count} lookups: "
                             "unknown, not 'not archived'")
        out.calls = dict(sorted(client.calls.items()))
        out.starts = {k: list(v) for k, v in client.starts.items()}
        for link in self.catalog.links:
            out.findings.extend(archive_findings(link, self.store.states.get(link.normalized_url), run.archives))
        out.seconds = time.monotonic() - self.started
        return out


async def archives_stage(options: ArchivesOptions, given: StageInput, *, wayback: WaybackOutcome | None = None,
                         deadline: float | None = None, client: MementoClient | None = None) -> ArchivesOutcome:
    """Ask the other archives alone (see the module docstring); ``wayback`` is the Wayback stage's outcome of
    this run (its ``unreachable`` turns on the lookups of every failing link without a verified copy). Replays
    of the Wayback Machine's captures are paced by a limiter of its own (``client``'s when one is passed)."""
    lanes = Lanes(deadline)
    part = ArchivesNight(options, given, lanes=lanes, client=client, limiter=ArchiveLimiter())
    if wayback is not None:
        part.run.wayback_down = wayback.unreachable
        part.run.wayback_failed = set(wayback.lookup_failed)
    async with part as run:
        run.offer_all(given.catalog.links)
        await lanes.run()
    return part.outcome()
