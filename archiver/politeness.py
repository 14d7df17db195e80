"""Politeness: how many requests may be in flight, per host and overall, and how often.

``async with scheduler.slot(host): ...`` wraps exactly one request. It waits until

1. fewer than ``per_host`` requests to ``host`` are in flight,
2. at least ``gap`` seconds have passed since the previous request *start* to ``host``
   (and any pause a ``Retry-After`` asked for, see :meth:`HostScheduler.defer`),
3. fewer than ``concurrency`` requests are in flight overall.

Only one request per host at a time waits for the global limit, and the global
semaphore serves waiters in arrival order, so hosts are interleaved: one busy host
cannot starve the others, and a run lasts about as long as its busiest host needs,
not the sum over hosts. Nothing is held while sleeping for the gap.
"""

from __future__ import annotations

import asyncio
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


class HostScheduler:
    def __init__(self, concurrency: int, per_host: int, gap: float,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self.gap = gap
        self._clock = clock
        self._sleep = sleep
        self._global = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, _Host] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(sem=asyncio.Semaphore(self.per_host))
        return host

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        host = self._host(key)
        async with host.sem:
            async with host.lock:
                while (delay := host.next_start - self._clock()) > 0:
                    await self._sleep(delay)
                await self._global.acquire()
                host.next_start = self._clock() + self.gap
            host.in_flight += 1
            host.started += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                yield
            finally:
                host.in_flight -= 1
                self.in_flight -= 1
                self._global.release()

    def defer(self, key: str, seconds: float) -> None:
        """Start no request to ``key`` for ``seconds`` (a ``Retry-After`` from that host)."""
        host = self._host(key)
        host.next_start = max(host.next_start, self._clock() + seconds)

    def requests_started(self, key: str) -> int:
        host = self._hosts.get(key)
        return host.started if host else 0
