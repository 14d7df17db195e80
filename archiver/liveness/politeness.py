"""Politeness: how many requests may be in flight, per host and overall, and how often.

``async with scheduler.slot(host): ...`` wraps exactly one request. It waits until

1. fewer than ``per_host`` requests to ``host`` are in flight,
2. at least ``gap`` seconds have passed since the previous request to ``host`` was *sent*
   (its headers written to the socket, not merely scheduled: on a busy event loop the two
   can be far apart, and the server sees the former), and any pause a ``Retry-After``
   asked for (see :meth:`HostScheduler.defer`),
3. fewer than ``concurrency`` requests are in flight overall.

A host that answers 429 is slowed down for the rest of the run, not only for one retry
(see :meth:`HostScheduler.throttled`): its own gap grows (up to ``max_gap``) to what its
answers show it accepts, and never shrinks back to the default. A ``Retry-After`` pause
holds every request to the host, including one already granted a slot: :meth:`Slot.wait_hold`
runs just before its headers are written.

Only one request per host at a time waits for the global limit, so hosts are
interleaved. A freed global slot goes to the waiting host with the most requests
still to make (longest remaining work first, arrival order among equals; see
:meth:`HostScheduler.expect`): the busiest
host is never kept waiting behind hosts with little left to do, so a run lasts about
as long as its busiest host needs, not the sum over hosts. Nothing is held while
sleeping for the gap.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Host:
    sem: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    in_flight: int = 0
    started: int = 0
    #: requests asked for and not started yet
    queued: int = 0
    #: requests announced with :meth:`HostScheduler.expect`
    expected: int = 0
    #: this host's own gap (grows after 429 answers); None: the scheduler's gap
    gap: float | None = None
    #: no request is sent before this (a Retry-After); never moved earlier
    hold_until: float = 0.0
    #: when the latest request the host accepted (no 429) was sent
    last_ok_sent: float | None = None
    #: after a 429: the longest interval the host refused, the shortest it accepted or asked for
    refused: float = 0.0
    accepted: float | None = None
    throttles: int = 0

    @property
    def remaining(self) -> int:
        """The host's remaining work: what waits now, or what was announced and has not started."""
        return max(self.queued, self.expected - self.started)


class Slot:
    """A granted request slot; :meth:`sent` starts the host's gap and lets its next request start."""

    __slots__ = ("_done", "_host", "_previous_start", "_scheduler", "sent_at")

    def __init__(self, scheduler: HostScheduler, host: _Host, previous_start: float) -> None:
        self._scheduler = scheduler
        self._host = host
        self._previous_start = previous_start
        self._done = False
        #: when this request was sent (its headers written)
        self.sent_at: float | None = None

    async def wait_hold(self) -> None:
        """Just before sending: wait out a ``Retry-After`` that arrived after this slot was granted."""
        if not self._done:
            await self._scheduler._wait_hold(self._host)

    def sent(self) -> None:
        if self._done:
            return
        self._done = True
        host, now = self._host, self._scheduler._clock()
        self.sent_at = now
        host.next_start = now + self._scheduler.host_gap(host)
        host.lock.release()

    def unused(self) -> None:
        """Nothing was sent after all: the host's next request need not wait a gap for this one."""
        if self._done:
            return
        self._done = True
        self._host.next_start = self._previous_start
        self._host.lock.release()


class PrioritySlots:
    """A counting semaphore that wakes the waiter with the highest priority first (FIFO among equals)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    async def acquire(self, priority: float = 0.0) -> None:
        if self._free > 0 and not self._heap:
            self._free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (-priority, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted, then cancelled before it could run: pass the slot on
            raise

    def release(self) -> None:
        while self._heap:
            _, _, fut = heapq.heappop(self._heap)
            if not fut.done():
                fut.set_result(None)  # handed straight to the waiter
                return
        self._free += 1


@dataclass(frozen=True)
class Timing:
    """The scheduler's clock and sleep (a test's own, to run without waiting)."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


class HostScheduler:
    def __init__(self, concurrency: int, per_host: int, gap: float, max_gap: float = 30.0,
                 timing: Timing = Timing()) -> None:
        clock, sleep = timing.clock, timing.sleep
        self.concurrency = concurrency
        self.per_host = per_host
        self.gap = gap
        #: the longest gap 429 answers can grow a host's gap to
        self.max_gap = max(gap, max_gap)
        self._clock = clock
        self._sleep = sleep
        self._global = PrioritySlots(concurrency)
        self._hosts: dict[str, _Host] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(sem=asyncio.Semaphore(self.per_host))
        return host

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[Slot]:
        """One request to ``key``. Call :meth:`Slot.sent` when its headers are on the wire: the gap
        to the next request counts from then (connecting may take a while on a busy loop), and no
        other request to the host starts before it. Leaving the block counts as sent."""
        host = self._host(key)
        host.queued += 1
        has_host = has_global = False
        handle: Slot | None = None
        try:
            try:
                await host.sem.acquire()
                has_host = True
                await host.lock.acquire()
                try:
                    while True:
                        while (delay := max(host.next_start, host.hold_until) - self._clock()) > 0:
                            await self._sleep(delay)
                        await self._global.acquire(priority=host.remaining)
                        has_global = True
                        if host.hold_until <= self._clock():
                            break
                        # a Retry-After arrived while this request waited for a global slot
                        has_global = False
                        self._global.release()
                except BaseException:
                    host.lock.release()
                    raise
            finally:
                host.queued -= 1
            handle = Slot(self, host, host.next_start)
            host.next_start = self._clock() + self.host_gap(host)
            host.in_flight += 1
            host.started += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                yield handle
            finally:
                handle.sent()
                host.in_flight -= 1
                self.in_flight -= 1
        finally:
            if has_global:
                self._global.release()
            if has_host:
                host.sem.release()

    def expect(self, key: str, requests: int) -> None:
        """Announce ``requests`` future requests to ``key`` (its remaining work, for the global queue's order).

        Announcing every host's work before the first request makes the priorities right from
        the start, when each host's first waiter would otherwise see only itself queued.
        """
        self._host(key).expected += requests

    def defer(self, key: str, seconds: float) -> None:
        """Send no request to ``key`` for ``seconds`` (a ``Retry-After`` from that host)."""
        host = self._host(key)
        host.hold_until = max(host.hold_until, self._clock() + seconds)

    def hold_remaining(self, key: str) -> float:
        """Seconds until ``key`` may be sent a request again (a ``Retry-After``); 0 when it may now."""
        host = self._hosts.get(key)
        return max(0.0, host.hold_until - self._clock()) if host else 0.0

    async def _wait_hold(self, host: _Host) -> None:
        while (delay := host.hold_until - self._clock()) > 0:
            await self._sleep(delay)

    def host_gap(self, host: _Host | str) -> float:
        """The gap between request starts to ``host`` now (the default until it answers 429)."""
        if isinstance(host, str):
            found = self._hosts.get(host)
            return self.gap if found is None or found.gap is None else found.gap
        return self.gap if host.gap is None else host.gap

    def throttled(self, key: str, slot: Slot | None, retry_after: float | None) -> None:
        """``key`` answered 429 to the request sent on ``slot``: slow the host down for the rest of the run.

        Intervals count from the last request the host accepted. The host refused this one, so
        it needs more than its interval; a ``Retry-After`` (held at once, see :meth:`defer`)
        tells when it accepts again, so the interval up to then is enough. The host's gap
        becomes the shortest interval known to be enough (halfway between the two while they
        are far apart: a Retry-After has a resolution of one second, a coarse bound for a host
        that wants, say, 1.5 s, but it also shows the host needs more than a second less than
        it asked for); without that knowledge it doubles. It is capped by
        ``max_gap`` and does not shrink back to the default.
        """
        host = self._host(key)
        host.throttles += 1
        if (since := self._since_ok(host, slot)) is not None:
            host.refused = max(host.refused, since)
        if retry_after is not None:
            self.defer(key, retry_after)
            if host.last_ok_sent is not None:
                enough = self._clock() + retry_after - host.last_ok_sent
                host.accepted = enough if host.accepted is None else min(host.accepted, enough)
                # a Retry-After counts whole seconds: the host's own limit ends less than a second earlier
                host.refused = max(host.refused, min(enough - 1.0, host.accepted * 0.9))
        if host.accepted is not None and host.accepted > host.refused:
            self._set_gap(host)
        else:
            host.accepted = None  # contradicted (the host's limit changed): start again from what it refused
            gap = self.host_gap(host)
            host.gap = min(self.max_gap, max(gap * 2, host.refused * 2, 0.1))

    def answered(self, key: str, slot: Slot | None) -> None:
        """``key`` accepted the request sent on ``slot`` (no 429): after a 429, that interval is enough."""
        host = self._hosts.get(key)
        if host is None or slot is None or slot.sent_at is None:
            return
        since = self._since_ok(host, slot)
        if host.last_ok_sent is None or slot.sent_at > host.last_ok_sent:
            host.last_ok_sent = slot.sent_at
        if (host.throttles and since is not None and since > host.refused
                and (host.accepted is None or since < host.accepted)):
            host.accepted = since
            self._set_gap(host)

    @staticmethod
    def _since_ok(host: _Host, slot: Slot | None) -> float | None:
        if slot is None or slot.sent_at is None or host.last_ok_sent is None or host.last_ok_sent >= slot.sent_at:
            return None
        return slot.sent_at - host.last_ok_sent

    def _set_gap(self, host: _Host) -> None:
        assert host.accepted is not None
        low, high = host.refused, host.accepted
        if low <= 0:  # nothing known it refuses: no probing below, only never more than known to be enough
            gap = min(self.host_gap(host), high)
        elif high - low <= 0.1 * high:
            gap = high
        else:
            gap = (low + high) / 2
        host.gap = min(self.max_gap, max(self.gap, gap))

    def requests_started(self, key: str) -> int:
        host = self._hosts.get(key)
        return host.started if host else 0
