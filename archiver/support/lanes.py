"""One scheduler for a night's archive work: lanes served in value order, all at once.

Every archive endpoint the night talks to is a *lane*: the Wayback Machine's CDX server, its replay
server, Save Page Now submissions and SPN job-status polls, and each other public archive (archive.today,
the Library of Congress, Arquivo.pt, ...). A lane has its own workers; its pace, failure circuit and rests
stay with the client that calls it (one request in flight and ``per_minute`` starts for a Memento archive,
the shared :class:`~archiver.wayback.limiter.ArchiveLimiter` for the Wayback Machine).

Work comes as items, each with a :class:`Work` value: a lane's worker always takes its most valuable item
first (then the item's own rank, then the order items came in), except that a *long shot* (a call the night
has learned is unlikely to give anything) waits behind every other item: calls are the scarce thing. An item
may queue items on any lane (a CDX lookup queues the replay that judges the copy it found, a miss at one
archive queues the ask at the next). Lanes run concurrently, so the archive part of a night takes about as
long as its busiest lane needs, not the sum of all lanes: the rule the checker follows for hosts. A lane
with nothing of its own may *steal* an item from another lane (``steal``), so that no lane idles while work
waits elsewhere.

The night ends when no lane has an item queued or running, or at the deadline: no item starts after it,
running ones end by themselves (their clients refuse calls past the deadline) and what is still queued is
counted by kind (:meth:`Lanes.left`). Nothing queued is lost: every item is derived from the link state,
which each item updates as soon as it learns something, so the next run plans the rest again.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, Protocol, TypeVar


class Work(IntEnum):
    """What an archive call buys, most valuable first (a lane always serves the lowest value first)."""

    #: a good copy for a link that failed recently (not confirmed yet): the Wayback Machine, then the others
    NEW_FAILING = 1
    #: text for a blocked link (bot wall, 401/403, consent wall) that has none, from any archive
    BLOCKED_TEXT = 2
    #: a copy for a link that has been failing for a while and is not rescued yet
    OLD_FAILING = 3
    #: verifying a citation's declared ``archive_url``
    DECLARED = 4
    #: Save Page Now captures (alive links without a capture, then those whose newest capture is oldest)
    SAVE = 5
    #: lookups of links that are alive (new links, periodic rechecks)
    LOOKUP = 6

    @property
    def key(self) -> str:
        """The kind's name in ``report.json`` (``run.archives.left``)."""
        return _KEYS[self]

    @property
    def label(self) -> str:
        """The kind in words, for the summary ("12 copies for failing links ...")."""
        return _LABELS[self]


_KEYS = {Work.NEW_FAILING: "new_failing_copies", Work.BLOCKED_TEXT: "blocked_texts",
         Work.OLD_FAILING: "old_failing_copies", Work.DECLARED: "declared_checks", Work.SAVE: "saves",
         Work.LOOKUP: "lookups"}
_LABELS = {Work.NEW_FAILING: "copies for newly failing links", Work.BLOCKED_TEXT: "texts for blocked links",
           Work.OLD_FAILING: "copies for older failing links", Work.DECLARED: "declared archive URLs to verify",
           Work.SAVE: "saves", Work.LOOKUP: "lookups of alive links"}

#: what each kind of work is worth, decreasing with the value order: an item's expected value is its weight
#: times its odds (1 unless its lane knows better: an archive's chance to hold a page), so a likely copy for
#: an older failing link goes before a long-odds ask for a new one, and sure items keep the value order
WEIGHTS = {Work.NEW_FAILING: 1.0, Work.BLOCKED_TEXT: 0.9, Work.OLD_FAILING: 0.8, Work.DECLARED: 0.6,
           Work.SAVE: 0.5, Work.LOOKUP: 0.4}

Job = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Place:
    """Where an item stands on its lane: by its kind's weight times ``odds`` that it gives what its kind
    is for (1: sure), a ``long_shot`` behind the rest, then by ``rank`` (the caller's own order)."""

    rank: tuple[object, ...] = ()
    odds: float = 1.0
    long_shot: bool = False


@dataclass(order=True, slots=True)
class Item:
    """One piece of work on a lane: ordered by its expected value (:data:`WEIGHTS` of its kind times its odds:
    the value order itself when every item is sure), then its kind, rank and arrival; a long shot (a call the
    run has learned is unlikely to give anything, e.g. an archive that held none of the site's pages) after
    every other item of the lane, whatever its value."""

    #: (long shot, minus the expected value)
    order: tuple[bool, float]
    work: Work
    rank: tuple[object, ...]
    seq: int
    #: what it is about (a link's normalized URL), for stealing and for tests
    key: str = field(compare=False)
    job: Job = field(compare=False, repr=False)
    #: the lane it was queued on
    lane: str = field(compare=False, default="")


@dataclass(slots=True)
class Lane:
    """A queue of items and its workers' counts; the pacing is its client's."""

    name: str
    workers: int = 1
    #: called when the lane has nothing of its own: an item taken from another lane, or None
    steal: Callable[[Lane], Item | None] | None = None
    #: items a second expected from the lane's limits, for the first estimate of the time left
    pace: float | None = None
    items: list[Item] = field(default_factory=list)
    done: int = 0
    running: int = 0
    failed: int = 0
    #: seconds its workers spent running items (summed over workers)
    busy: float = 0.0
    first_start: float | None = None
    last_end: float | None = None

    def take(self) -> Item | None:
        if not self.items:
            return None
        best = min(range(len(self.items)), key=self.items.__getitem__)
        return self.items.pop(best)

    @property
    def queued(self) -> int:
        return len(self.items)

    def rate(self) -> float | None:
        """Items finished a second while the lane was working (before the first one: its expected ``pace``)."""
        if not self.done or self.first_start is None or self.last_end is None:
            return self.pace
        span = self.last_end - self.first_start
        return self.done / span if span > 0 else self.pace


class Lanes:
    """The night's archive work: ``lanes.add("cdx", workers=2)``, ``lanes.put(...)``, ``await lanes.run()``.

    ``on_error(lane, exc)`` hears of an item that raised (the night goes on without it).
    """

    def __init__(self, deadline: float | None = None,
                 on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self.deadline = deadline
        self.on_error = on_error
        self.lanes: dict[str, Lane] = {}
        self._seq = itertools.count()
        self._holds = 0
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Future[None]] = []
        #: items taken out of a stopped lane, left for the next run
        self.dropped: list[Item] = []
        self.started: float | None = None
        self.finished: float | None = None

    # ------------------------------------------------------------------ building the night

    def add(self, name: str, *, workers: int = 1, steal: Callable[[Lane], Item | None] | None = None,
            pace: float | None = None) -> Lane:
        """The lane ``name`` (added with ``workers`` workers if new; a lane added while the night runs is
        served at once); ``pace``: items a second its limits allow, for the first estimate of the time left."""
        lane = self.lanes.get(name)
        if lane is None:
            lane = self.lanes[name] = Lane(name, workers, steal, pace)
            if self.started is not None and self.finished is None:
                self._spawn(lane)
        return lane

    def put(self, lane: str, work: Work, key: str, job: Job, place: Place = Place()) -> None:
        """Queue ``job`` on ``lane`` (added with one worker if new), where ``place`` says."""
        order = (place.long_shot, -round(WEIGHTS[work] * place.odds, 4))
        self.add(lane).items.append(Item(order, work, place.rank, next(self._seq), key, job, lane))
        self._notify()

    def drop(self, lane: str, *, left: bool = True) -> list[Item]:
        """Take the lane's queued items out (an archive that stopped for the night); with ``left`` they are
        counted as left for the next run (:meth:`left`), else the caller queues them elsewhere."""
        target = self.lanes.get(lane)
        if target is None:
            return []
        dropped, target.items = target.items, []
        if left:
            self.dropped.extend(dropped)
        self._notify()
        return dropped

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep the night open while something outside the lanes may still queue items."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            self._notify()

    # ------------------------------------------------------------------ running it

    def late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def idle(self) -> bool:
        """Nothing queued or running anywhere, and nobody holding the night open."""
        return self._holds == 0 and all(not lane.items and not lane.running for lane in self.lanes.values())

    async def run(self) -> None:
        """Serve every lane until the night is idle or the deadline passed."""
        self.started = time.monotonic()
        for lane in list(self.lanes.values()):
            self._spawn(lane)
        try:
            while pending := [task for task in self._tasks if not task.done()]:
                await asyncio.gather(*pending)
        finally:
            for task in self._tasks:
                task.cancel()
            self.finished = time.monotonic()

    def _spawn(self, lane: Lane) -> None:
        for _ in range(max(1, lane.workers)):
            self._tasks.append(asyncio.ensure_future(self._worker(lane)))

    async def _worker(self, lane: Lane) -> None:
        while True:
            if self.late():
                return
            item = lane.take() or (lane.steal(lane) if lane.steal is not None else None)
            if item is None:
                if self.idle():
                    self._notify()  # the others end too
                    return
                await self._wait()
                continue
            await self._run(lane, item)

    async def _run(self, lane: Lane, item: Item) -> None:
        lane.running += 1
        start = time.monotonic()
        if lane.first_start is None:
            lane.first_start = start
        try:
            await item.job()
            lane.done += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one item failing never ends the night
            lane.failed += 1
            if self.on_error is not None:
                self.on_error(lane.name, exc)
        finally:
            lane.running -= 1
            lane.last_end = time.monotonic()
            lane.busy += lane.last_end - start
            self._notify()

    async def _wait(self) -> None:
        wakeup = self._wakeup
        timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
        try:
            await asyncio.wait_for(wakeup.wait(), timeout)
        except TimeoutError:
            return

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    # ------------------------------------------------------------------ what is left

    def left(self) -> Counter[Work]:
        """Items queued or dropped by kind (counted once per key and kind): what the next run will do."""
        seen = {(i.work, i.key) for lane in self.lanes.values() for i in lane.items}
        seen.update((i.work, i.key) for i in self.dropped)
        return Counter(work for work, _ in seen)

    def left_keys(self) -> set[str]:
        """The keys of the items queued or dropped."""
        return {i.key for lane in self.lanes.values() for i in lane.items} | {i.key for i in self.dropped}

    def eta(self) -> float | None:
        """Seconds until the busiest lane is done at its pace so far (None before any lane has a pace)."""
        worst: float | None = None
        for lane in self.lanes.values():
            left = lane.queued + lane.running
            if not left:
                continue
            rate = lane.rate()
            if rate is None:
                continue
            worst = max(worst or 0.0, left / rate)
        return worst

    def queued(self) -> str:
        """``wayback cdx 500 queued · loc 40 queued``: what the night starts with."""
        return " · ".join(f"{lane.name} {lane.queued} queued" for lane in self.lanes.values() if lane.queued)

    def status(self) -> str:
        """``cdx 120 done, 380 left · replay 30 done, 5 left · ...``: each lane's counts, for progress lines."""
        return " · ".join(f"{lane.name} {lane.done} done, {lane.queued + lane.running} left"
                          for lane in self.lanes.values() if lane.done or lane.queued or lane.running)

    def stats(self) -> dict[str, dict[str, float | int]]:
        """Per lane: items done, failed and left, seconds busy (for ``report.json``'s ``run.archives``)."""
        return {name: {"done": lane.done, "failed": lane.failed, "left": lane.queued,
                       "busy_seconds": round(lane.busy, 1)}
                for name, lane in sorted(self.lanes.items()) if lane.done or lane.failed or lane.queued}


class _Closable(Protocol):
    async def aclose(self) -> None: ...


RunT = TypeVar("RunT", bound=_Closable)


class LanePart(Generic[RunT]):
    """One stage's part of a night on the lanes (``async with part as run``): its run, closed at the end, and its
    archive client, opened and closed here when the part made it (``own``)."""

    run: RunT
    client: Any  # an async context manager: the stage's archive client
    own: bool

    async def __aenter__(self) -> RunT:
        if self.own:
            await self.client.__aenter__()
        return self.run

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.run.aclose()
        finally:
            if self.own:
                await self.client.__aexit__(None, None, None)
