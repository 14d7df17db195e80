"""Polite, retried GETs: one :class:`Fetcher` per run owns the HTTP client, the
resolver, the per-host scheduler and the retry policy.

A host that times out ``HOST_TIMEOUT_LIMIT`` times in a row without answering is not
requested again in the run (its remaining links get an inconclusive ``error`` at once).

Retries (tenacity) are for transient trouble only: connection errors other than a
name that does not exist, timeouts, a connection closed without an answer, and the
statuses 429, 500, 502, 503, 504 and 520-529. 404 and 410 are never retried, nor are
bot challenges. Waits grow exponentially with jitter from ``backoff_base``; a
``Retry-After`` (seconds or an HTTP date) is honoured up to ``retry_after_cap`` (a longer
one ends the retries). Each attempt takes its own slot from the scheduler, so retries
obey the politeness limits; nothing is held while waiting.

A ``Retry-After`` on a 429 or 503 holds every request to that host, not only the retry
(:meth:`HostScheduler.defer`): none is sent before it has passed, and while the pause
asked for is longer than ``retry_after_cap`` the host's other links are not requested
(an inconclusive ``error``). A 429 also slows the host down for the rest of the run
(:meth:`HostScheduler.throttled`, up to ``max_per_host_gap``).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, retry_if_result, stop_after_attempt

from ..options import CheckOptions
from ..timeline.catalog import host_of
from .addresses import parse_networks
from .errors import TIMEOUT_KINDS, FailureKind, FetchFailure
from .pages import page_info
from .politeness import HostScheduler
from .resolver import MIN_DNS_TIMEOUT, Resolver
from .soft404 import detect_challenge
from .transport import Answer, GuardedBackend, SendExtras, fetch_once, make_client

TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504, *range(520, 530)})
MAX_BACKOFF = 60.0
#: timeouts in a row (no answer in between) after which a host is not tried again this run
HOST_TIMEOUT_LIMIT = 3


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class _Request:
    """One GET's what and how: the URL, its host (the politeness key), cookies and User-Agent to send."""

    url: str
    key: str
    cookies: httpx.Cookies | None
    user_agent: str | None
    #: more request headers (a conditional GET's validators)
    headers: tuple[tuple[str, str], ...] = ()


class Fetcher:
    def __init__(self, options: CheckOptions, *, ssl_context: ssl.SSLContext | None = None,
                 scheduler: HostScheduler | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.options = options
        self.resolver = Resolver(timeout=max(options.connect_timeout, MIN_DNS_TIMEOUT))
        self.backend = GuardedBackend(self.resolver, parse_networks(options.allow_networks))
        self.scheduler = scheduler or HostScheduler(options.concurrency, options.per_host_concurrency,
                                                    options.per_host_gap, max_gap=options.max_per_host_gap)
        self.client: httpx.AsyncClient = make_client(options, self.backend, ssl_context)
        self._sleep = sleep
        self.requests = 0
        #: consecutive unanswered timeouts per host (a black-holed host would cost timeout x attempts per link)
        self._timeouts: dict[str, int] = {}

    async def __aenter__(self) -> Fetcher:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    # ------------------------------------------------------------------ one request, politely

    def _check_host(self, key: str) -> None:
        if (count := self._timeouts.get(key, 0)) >= HOST_TIMEOUT_LIMIT:
            raise FetchFailure(FailureKind.HOST_TIMEOUTS,
                               f"not requested: {key} timed out {count} times in a row in this run", transient=False)
        if (pause := self.scheduler.hold_remaining(key)) > self.options.retry_after_cap:
            raise FetchFailure(FailureKind.RATE_LIMITED,
                               f"not requested: {key} asked for a {pause:.0f}s pause (Retry-After), "
                               f"longer than retry_after_cap ({self.options.retry_after_cap:g}s)", transient=False)

    async def _attempt(self, request: _Request) -> Answer:
        url, key = request.url, request.key
        self._check_host(key)
        async with self.scheduler.slot(key) as slot:
            try:
                self._check_host(key)  # again: it may have timed out while this request waited
            except FetchFailure:
                slot.unused()
                raise
            self.requests += 1
            started = time.monotonic()
            try:
                answer = await fetch_once(self.client, url, max_body=self.options.max_body_bytes,
                                          total_timeout=self.options.total_timeout, extras=SendExtras(
                                              request.cookies, request.user_agent, slot.sent, slot.wait_hold,
                                              request.headers))
            except FetchFailure as exc:
                exc.elapsed = time.monotonic() - started
                if exc.kind in TIMEOUT_KINDS and exc.status is None:
                    self._timeouts[key] = self._timeouts.get(key, 0) + 1
                raise
            self._timeouts.pop(key, None)
            slot.sent()  # normally already called when the headers were written
            if answer.status == 429:
                self.scheduler.throttled(key, slot, self._retry_after(answer))
            else:
                if answer.status == 503 and (wait := self._retry_after(answer)):
                    self.scheduler.defer(key, wait)
                self.scheduler.answered(key, slot)
            return answer

    # ------------------------------------------------------------------ retry policy

    def _retry_after(self, answer: Answer) -> float | None:
        return retry_after_seconds(answer.headers.get("retry-after"))

    def _should_retry_answer(self, answer: Answer) -> bool:
        if answer.status not in TRANSIENT_STATUSES:
            return False
        wait = self._retry_after(answer)
        if wait is not None and wait > self.options.retry_after_cap:
            return False  # the server asks for a longer pause than we may give it
        info = page_info(answer.body, answer.headers.get("content-type"))
        return detect_challenge(answer.status, answer.headers, info.title, info.head) is None

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            wait = self._retry_after(outcome.result())
            if wait is not None:
                return min(wait, self.options.retry_after_cap)
        # 2.0, not 2: int ** int is typed Any (a negative exponent gives a float)
        base = self.options.backoff_base * (2.0 ** (state.attempt_number - 1))
        return min(MAX_BACKOFF, base * random.uniform(0.5, 1.5))

    async def get(self, url: str, *, cookies: httpx.Cookies | None = None, attempts: int | None = None,
                  user_agent: str | None = None, headers: Mapping[str, str] | None = None) -> Answer:
        """GET ``url`` (no redirects followed) with politeness and retries; raises :class:`FetchFailure`.

        ``user_agent`` replaces the configured User-Agent for this request; ``headers`` are sent besides."""
        request = _Request(url, host_of(url) or url, cookies, user_agent, tuple((headers or {}).items()))
        attempts = attempts or self.options.attempts
        # The first attempt runs directly: most requests need no retry, and setting tenacity up
        # costs more CPU than the request itself on a fast host.
        first: Answer | FetchFailure
        try:
            first = await self._attempt(request)
        except FetchFailure as exc:
            if not exc.transient or attempts <= 1:
                raise
            first = exc
        else:
            if attempts <= 1 or not self._should_retry_answer(first):
                return first
        return await self._retry(request, attempts, first)

    async def _retry(self, request: _Request, attempts: int, first: Answer | FetchFailure) -> Answer:
        """Attempts 2..n with tenacity; attempt 1 is replayed from ``first`` so its wait rules apply."""
        replay: list[Answer | FetchFailure] = [first]

        async def attempt() -> Answer:
            if replay:
                outcome = replay.pop()
                if isinstance(outcome, FetchFailure):
                    raise outcome
                return outcome
            return await self._attempt(request)

        def last_outcome(state: RetryCallState) -> Any:
            assert state.outcome is not None
            return state.outcome.result()  # the last answer, or re-raise the last failure

        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            retry=(retry_if_exception(lambda e: isinstance(e, FetchFailure) and e.transient)
                   | retry_if_result(self._should_retry_answer)),
            retry_error_callback=last_outcome,
            sleep=self._sleep,
            reraise=True,
        )
        answer: Answer = await retrying(attempt)
        return answer
