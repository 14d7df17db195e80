"""Politeness: how many requests may be in flight, per host and overall, and how often.

``async with scheduler.slot(host): ...`` wraps exactly one request. It waits until

1. fewer than ``per_host`` requests to ``host`` are in flight,
2. at least ``gap`` seconds have passed since the previous request to ``host`` was *sent*
   (its headers written to the socket, not merely scheduled: on a busy event loop the two
   can be far apart, and the server sees the former), and any pause a ``Retry-After``
   asked for (see :meth:`HostScheduler.defer`),
3. fewer than ``concurrency`` requests are in flight overall.

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

    @property
    def remaining(self) -> int:
        """The host's remaining work: what waits now, or what was announced and has not started."""
        return max(self.queued, self.expected - self.started)


class Slot:
    """A granted request slot; :meth:`sent` starts the host's gap and lets its next request start."""

    __slots__ = ("_done", "_host", "_previous_start", "_scheduler")

    def __init__(self, scheduler: HostScheduler, host: _Host, previous_start: float) -> None:
        self._scheduler = scheduler
        self._host = host
        self._previous_start = previous_start
        self._done = False

    def sent(self) -> None:
        if self._done:
            return
        self._done = True
        self._host.next_start = self._scheduler._clock() + self._scheduler.gap
        self._host.lock.release()

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


class HostScheduler:
    def __init__(self, concurrency: int, per_host: int, gap: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self.gap = gap
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
                    while (delay := host.next_start - self._clock()) > 0:
                        await self._sleep(delay)
                    await self._global.acquire(priority=host.remaining)
                    has_global = True
                except BaseException:
                    host.lock.release()
                    raise
            finally:
                host.queued -= 1
            handle = Slot(self, host, host.next_start)
            host.next_start = self._clock() + self.gap
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
        """Start no request to ``key`` for ``seconds`` (a ``Retry-After`` from that host)."""
        host = self._host(key)
        host.next_start = max(host.next_start, self._clock() + seconds)

    def requests_started(self, key: str) -> int:
        host = self._hosts.get(key)
        return host.started if host else 0
