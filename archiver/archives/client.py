"""The Memento client: TimeMaps and mementos of the other archives, each archive paced and rested on its own.

Wire format (RFC 7089): a TimeMap (§5) answers 200 ``application/link-format`` listing the mementos
(``rel`` holding ``memento``, with ``datetime``) in any order; nothing archived is a 404. A memento (§2.1.1)
answers with ``Memento-Datetime``; a 3xx that carries it is an archived redirect (not the page), a 3xx
without it is the archive moving us to the memento (followed, on the archive's own host, up to three hops).

Politeness, per archive: one request in flight; request starts at most ``per_minute`` a minute (the list's value, or
``archive_per_minute``); an archive failing ``archive_max_failures`` times in a row (connection errors,
timeouts, 5xx) is rested for the rest of the run, as MemGator does (github.com/oduwsdl/MemGator: an archive
that keeps failing is left out for a while); a 429 rests it at once. Refusals (401/403/429/451, a CAPTCHA
page instead of a TimeMap) make the answer *unknown*, never "not archived". Requests go through the checker's
guarded :class:`~archiver.liveness.fetcher.Fetcher` (address safety, timeouts of ``archive_timeout``, body caps).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..models import RawExchange
from ..options import ArchivesOptions
from ..wayback.errors import DeadlineReached
from ..wayback.limiter import ArchiveLimiter
from . import linkformat
from .linkformat import Memento
from .registry import Archive

if TYPE_CHECKING:  # the HTTP stack (httpx, httpcore, lxml) is imported with the client's first call
    from ..liveness.fetcher import Fetcher
    from ..liveness.transport import Answer

#: the Wayback Machine's id as an archive (its known captures are replayed through this client too)
WAYBACK_ID = "wayback"
#: statuses that are an archive refusing us (unknown), never "not archived"
REFUSALS = {401: "refused (HTTP 401)", 403: "refused (HTTP 403)", 429: "rate limited (HTTP 429)",
            451: "not openly available (HTTP 451)"}


@dataclass(frozen=True, slots=True)
class TimeMap:
    """What an archive said about a URL: ``found`` (mementos), ``none`` (not archived), ``unknown`` (why)."""

    kind: str
    mementos: tuple[Memento, ...] = ()
    why: str | None = None
    #: the archive refused us (401/403/429/451, a CAPTCHA), as opposed to failing or being rested
    refused: bool = False


@dataclass(frozen=True, slots=True)
class MementoReplay:
    """A memento fetched: ``ok`` (2xx with Memento-Datetime), ``error`` (an archived 4xx/5xx), ``redirect``
    (an archived 3xx), ``missing`` (404 or no memento), ``unknown`` (refused, failing, rested)."""

    kind: str
    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    truncated: bool = False
    datetime: str | None = None
    original: str | None = None
    why: str | None = None
    #: the raw exchange as received (for the WARC record of a rescue); None unless ``ok``
    exchange: RawExchange | None = None


@dataclass(slots=True)
class _Lane:
    gap: float
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class MementoClient:
    """All calls of one run to the other archives; ``async with MementoClient(options, archives)``.

    ``limiter`` paces the replays of the Wayback Machine's own captures: the night's, shared with the
    :class:`~archiver.wayback.client.WaybackClient` (one pace for the archive); a fresh one by default.
    """

    def __init__(self, options: ArchivesOptions, archives: list[Archive], *, deadline: float | None = None,
                 limiter: ArchiveLimiter | None = None) -> None:
        self.options = options
        self.limiter = limiter if limiter is not None else ArchiveLimiter()
        self.archives = {a.id: a for a in archives}
        self.deadline = deadline
        self._fetcher: Fetcher | None = None
        self.lanes = {a.id: _Lane(60.0 / self.per_minute(a)) for a in archives}
        self.calls: Counter[str] = Counter()
        #: request start times (time.monotonic()) per archive, for the benchmark's calls per minute
        self.starts: dict[str, list[float]] = {a.id: [] for a in archives}
        self.failures: Counter[str] = Counter()
        #: archives rested for the rest of the run, with why
        self.rested: dict[str, str] = {}

    def per_minute(self, archive: Archive) -> float:
        return self.options.archive_per_minute or archive.per_minute

    @property
    def fetcher(self) -> Fetcher:
        """The guarded HTTP client (timeouts of ``archive_timeout``), built with the first call: a run with
        nothing to ask never imports the HTTP stack (an httpx client needs no ``__aenter__`` to send)."""
        if self._fetcher is None:
            from ..liveness.fetcher import Fetcher

            fetch, timeout = self.options.wayback.fetch, self.options.archive_timeout
            self._fetcher = Fetcher(dataclasses.replace(  # this client's own copy of the fetch options
                fetch, connect_timeout=min(fetch.connect_timeout, timeout),
                read_timeout=min(fetch.read_timeout, timeout), total_timeout=timeout, per_host_gap=0.0,
                per_host_concurrency=max(fetch.per_host_concurrency, 2)))
        return self._fetcher

    async def __aenter__(self) -> MementoClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._fetcher is not None:
            await self._fetcher.aclose()

    # ------------------------------------------------------------------ pacing, failures

    async def _slot(self, archive: Archive) -> None:
        """Wait for the archive's next start (called holding its lane: one request in flight per archive).
        Replays of the Wayback Machine's captures take the replay pace of the night's limiter, which the Wayback
        client shares (one pace for the archive, whichever stage asks)."""
        if archive.id == WAYBACK_ID:
            await self.limiter.acquire("replay", self.options.wayback.replay_per_minute, self.deadline)
            self.calls[archive.id] += 1
            self.starts.setdefault(archive.id, []).append(time.monotonic())
            return
        lane = self.lanes[archive.id]
        now = time.monotonic()
        start = max(now, lane.next_start)
        if self.deadline is not None and start >= self.deadline:
            raise DeadlineReached("the time budget")
        if start > now:
            await asyncio.sleep(start - now)
        lane.next_start = time.monotonic() + lane.gap
        self.calls[archive.id] += 1
        self.starts.setdefault(archive.id, []).append(time.monotonic())

    def _failed(self, archive: Archive, why: str) -> str:
        self.failures[archive.id] += 1
        if self.failures[archive.id] >= self.options.archive_max_failures and archive.id not in self.rested:
            self.rested[archive.id] = f"{self.failures[archive.id]} failures in a row ({why})"
        return why

    async def _get(self, archive: Archive, url: str) -> Answer | str:
        """One paced GET; the answer, or why there is none (counted as a failure when it is one)."""
        from ..liveness.errors import FetchFailure

        lane = self.lanes.setdefault(archive.id, _Lane(60.0 / self.per_minute(archive)))
        async with lane.lock:  # one request in flight per archive, paced
            if archive.id in self.rested:
                return f"rested for this run: {self.rested[archive.id]}"
            await self._slot(archive)
            try:
                answer = await self.fetcher.get(url, attempts=1)
            except FetchFailure as exc:
                return self._failed(archive, exc.message)
        if answer.status >= 500:
            return self._failed(archive, f"HTTP {answer.status}")
        if answer.status == 429:
            self.rested.setdefault(archive.id, "it answered 429 Too Many Requests")
        self.failures[archive.id] = 0
        return answer

    # ------------------------------------------------------------------ TimeMaps

    async def timemap(self, archive: Archive, url: str) -> TimeMap:
        """The archive's mementos of ``url`` (RFC 7089 §5)."""
        answer = await self._get(archive, archive.timemap_url(url))
        if isinstance(answer, str):
            return TimeMap("unknown", why=answer)
        if answer.status in (404, 410):
            return TimeMap("none")
        if answer.status in REFUSALS:
            return TimeMap("unknown", why=REFUSALS[answer.status], refused=True)
        if answer.status != 200:
            return TimeMap("unknown", why=f"HTTP {answer.status}")
        text = answer.body.decode("utf-8", "replace")
        entries = [e for e in linkformat.parse_links(text) if e.rels]
        if not entries:
            captcha = "captcha" in text.lower()
            return TimeMap("unknown", why="a CAPTCHA page instead of a TimeMap" if captcha
                           else f"not a TimeMap ({answer.content_type or 'no content type'})", refused=captcha)
        found = linkformat.mementos(entries)
        return TimeMap("found" if found else "none", tuple(found))

    # ------------------------------------------------------------------ mementos

    async def replay(self, archive: Archive, url: str, *, max_hops: int = 3) -> MementoReplay:
        """Fetch the memento at ``url`` (its raw form when the archive has one), following the archive's own
        redirects to the memento but never an archived redirect."""
        import httpx

        home = urlsplit(archive.base).hostname
        for _ in range(max_hops + 1):
            answer = await self._get(archive, url)
            if isinstance(answer, str):
                return MementoReplay("unknown", url, why=answer)
            if answer.status in REFUSALS:
                return MementoReplay("unknown", url, answer.status, why=REFUSALS[answer.status])
            memento = linkformat.parse_http_date(answer.headers.get("memento-datetime"))
            stamp = memento.strftime("%Y%m%d%H%M%S") if memento else None
            links = linkformat.parse_links(answer.headers.get("link", ""))
            original = linkformat.original(links)
            if answer.status in (301, 302, 303, 307, 308) and answer.location:
                target = httpx.URL(url).join(answer.location)
                if stamp is not None:
                    return MementoReplay("redirect", url, answer.status, datetime=stamp, original=original)
                if target.host not in (home, *archive.hosts):
                    return MementoReplay("missing", url, answer.status, why=f"redirected off the archive ({target})")
                url = str(target)
                continue
            if answer.status in (404, 410) and stamp is None:
                return MementoReplay("missing", url, answer.status)
            if stamp is None:
                if "captcha" in answer.body[:20000].decode("utf-8", "replace").lower():
                    return MementoReplay("unknown", url, answer.status, why="a CAPTCHA page instead of the memento")
                return MementoReplay("missing", url, answer.status, why="no Memento-Datetime: not a memento")
            kind = "ok" if 200 <= answer.status < 300 else "error"
            return MementoReplay(kind, url, answer.status, body=answer.body if kind == "ok" else b"",
                                 content_type=answer.headers.get("content-type"), truncated=answer.truncated,
                                 datetime=stamp, original=original,
                                 exchange=answer.exchange if kind == "ok" else None)
        return MementoReplay("missing", url, why="too many redirects")
