"""The Wayback Machine client: CDX lookups, the availability fallback, replay, and Save Page Now 2.

Every call to the archive goes through the night's :class:`ArchiveLimiter` (passed in):

* CDX lookups (and the availability API, which answers from the same index) at most
  ``cdx_per_minute`` a minute (24 by default: the CDX server and timemaps share a limit
  of about 30 a minute per IP, edgi-govdata-archiving/wayback#206);
* replay fetches at most ``replay_per_minute``; Save Page Now submissions at most
  ``save_per_minute``; status polls at most :data:`STATUS_PER_MINUTE`;
* a 429 from any of them pauses *every* archive call for ``wayback_pause`` seconds
  (60): the archive blocks an IP that keeps calling for a minute after a 429, for an
  hour, doubling each time (edgi-govdata-archiving/wayback#137).

Lookups are made with httpx through the project's guarded client (address safety,
timeouts, body caps). :class:`WaybackpyCdx` is the thin adapter over waybackpy's
``WaybackMachineCDXServerAPI`` (endpoint overridden per instance, run in a bounded
thread pool); it is not the default because waybackpy 3.0.6 cannot tell a 429 from an
empty answer, sets no timeout and retries 5xx behind the limiter's back (measured in
``tests/test_wayback_client.py``).

Replay fetches (``/web/<timestamp>id_/<url>``: the original bytes) use the checker's
:class:`~archiver.liveness.fetcher.Fetcher`. Saving uses the authenticated SPN2 API (``POST /save``
with ``Authorization: LOW key:secret``); the keys come only from the environment
(``IA_ACCESS_KEY``, ``IA_SECRET_KEY``) and never appear in messages or errors.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from ..models import RawExchange
from ..options import WaybackOptions
from .cdx import TIMESTAMP, CdxQuery, CdxRow, HttpxCdx, WaybackpyCdx
from .errors import ArchiveError, AuthRejected, RateLimited, blocked_site, status_error
from .limiter import STATUS_PER_MINUTE, ArchiveLimiter, Credentials, Grant

if TYPE_CHECKING:  # the HTTP stack (httpx, httpcore, lxml) is imported with the client's first call
    from ..liveness.fetcher import Fetcher
    from ..liveness.transport import Answer

#: SPN2 status records expire after about an hour and then read "pending" (agude/wayback-machine-archiver#28)
STATUS_TTL_SECONDS = 50 * 60


@dataclass(frozen=True, slots=True)
class Replay:
    """The answer to a replay fetch of ``/web/<timestamp>id_/<url>``.

    ``kind``: ``ok`` (a 2xx memento), ``missing`` (never archived: 404, or no
    Memento-Datetime), ``error`` (a memento of an error page), ``redirect`` (a memento of
    a redirect: not the page), ``blocked`` (excluded from the archive).
    """

    kind: str
    url: str
    timestamp: str | None = None
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    content_type_header: str | None = None
    truncated: bool = False
    location: str | None = None
    #: the replay's status line and headers as received (for the rescue's WARC records)
    exchange: RawExchange | None = None


@dataclass(frozen=True, slots=True)
class SaveAnswer:
    """What ``POST /save`` said: a job id, or a ``status_ext`` error (which may come with HTTP 200)."""

    job_id: str | None
    status_ext: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class JobStatus:
    status: str  # pending | success | error
    timestamp: str | None = None
    original_url: str | None = None
    status_ext: str | None = None
    message: str | None = None
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class UserStatus:
    available: int
    processing: int
    daily_captures: int | None = None
    daily_captures_limit: int | None = None

    @property
    def quota_left(self) -> int | None:
        if self.daily_captures is None or self.daily_captures_limit is None:
            return None
        return max(0, self.daily_captures_limit - self.daily_captures)


# --------------------------------------------------------------------------- the client


def _memento_timestamp(answer: Answer) -> str | None:
    value = answer.headers.get("memento-datetime")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


_REPLAY = re.compile(r"/web/(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/(?P<original>.+)$")


class WaybackClient:
    """All archive calls of one run; use as ``async with WaybackClient(options) as wb``.

    ``on_pause(seconds, what)`` (an attribute the caller sets) is called when a 429 pauses every
    archive call, so the caller can say so at once. ``calls`` counts calls by kind (cdx, availability,
    replay, save, status, user). ``limiter`` paces the calls: the night's, shared with every
    other client of the night that calls the Wayback Machine; a fresh one of its own by default.
    """

    def __init__(self, options: WaybackOptions, *, credentials: Credentials | None = None,
                 limiter: ArchiveLimiter | None = None, cdx: str = "httpx", deadline: float | None = None) -> None:
        self.options = options
        self.credentials = credentials
        self.limiter = limiter if limiter is not None else ArchiveLimiter()
        self.base = options.wayback_url.rstrip("/")
        self.availability_base = options.availability_url.rstrip("/")
        self._cdx = cdx
        self._fetcher: Fetcher | None = None
        self._cdx_backend: HttpxCdx | WaybackpyCdx | None = None
        #: called when a 429 pauses every archive call (set by the stage, to say so at once)
        self.on_pause: Callable[[float, str], None] | None = None
        self.deadline = deadline
        self.calls: Counter[str] = Counter()
        self.rate_limited = 0

    @property
    def fetcher(self) -> Fetcher:
        """The guarded HTTP client, built with the first call: a run with nothing to ask the archive never
        imports the HTTP stack (an httpx client needs no ``__aenter__`` to send)."""
        if self._fetcher is None:
            from ..liveness.fetcher import Fetcher

            self._fetcher = Fetcher(self.options.fetch)
        return self._fetcher

    @property
    def cdx_backend(self) -> HttpxCdx | WaybackpyCdx:
        if self._cdx_backend is None:
            self._cdx_backend = (WaybackpyCdx(self.base, self.options.fetch.ua) if self._cdx == "waybackpy"
                                 else HttpxCdx(self.fetcher, self.base))
        return self._cdx_backend

    async def __aenter__(self) -> WaybackClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._cdx_backend is not None:
            await self._cdx_backend.aclose()
        if self._fetcher is not None:
            await self._fetcher.aclose()

    @property
    def saving(self) -> bool:
        return self.credentials is not None

    # ------------------------------------------------------------------ pacing

    async def _slot(self, kind: str, *, track: bool = False) -> Grant:
        status = max(STATUS_PER_MINUTE, 5 * self.options.save_per_minute)
        rate = {"cdx": self.options.cdx_per_minute, "availability": self.options.cdx_per_minute,
                "replay": self.options.replay_per_minute, "save": self.options.save_per_minute,
                "status": status, "user": status}[kind]
        # the availability API answers from the CDX index: it shares the CDX pacing; user status polls
        # share the job status pacing
        lane = {"availability": "cdx", "user": "status"}.get(kind, kind)
        grant = await self.limiter.acquire(lane, rate, self.deadline, track=track)
        self.calls[kind] += 1
        return grant

    def _rate_limited(self, what: str) -> None:
        self.rate_limited += 1
        seconds = self.options.wayback_pause
        self.limiter.pause(seconds)
        if self.on_pause is not None:
            self.on_pause(seconds, what)

    # ------------------------------------------------------------------ lookups

    async def cdx(self, query: CdxQuery) -> list[CdxRow]:
        """One CDX query (paced); a 429 pauses every archive call and raises :class:`RateLimited`."""
        grant = await self._slot("cdx", track=True)  # CDX calls are spaced from when they actually go out
        try:
            return await self.cdx_backend.search(query, on_sent=grant.sent)
        except RateLimited:
            self._rate_limited("CDX")
            raise
        finally:
            grant.done()

    async def availability(self, url: str, timestamp: str | None = None) -> CdxRow | None:
        """The availability API's closest capture (a fallback only: it answers empty for archived URLs)."""
        grant = await self._slot("availability", track=True)
        params = [("url", url)] + ([("timestamp", timestamp)] if timestamp else [])
        try:
            answer = await self._get(f"{self.availability_base}/wayback/available?{urlencode(params)}",
                                     "availability", on_sent=grant.sent)
        finally:
            grant.done()
        if answer.status != 200:
            raise status_error(answer, "availability API")
        try:
            data = json.loads(answer.body.decode("utf-8", "replace"))
        except ValueError:
            raise ArchiveError("availability API: the answer is not JSON") from None
        closest = (data.get("archived_snapshots") or {}).get("closest") if isinstance(data, dict) else None
        if not isinstance(closest, dict) or not closest.get("available") or not TIMESTAMP.match(
                str(closest.get("timestamp", ""))):
            return None
        return CdxRow(timestamp=str(closest["timestamp"]), original=url, statuscode=str(closest.get("status", "")))

    # ------------------------------------------------------------------ replay

    def capture_url(self, timestamp: str, original: str, *, flag: str = "") -> str:
        return f"{self.base}/web/{timestamp}{flag}/{original}"

    async def replay(self, original: str, timestamp: str, *, max_hops: int = 3) -> Replay:
        """Fetch the original bytes of the capture at ``timestamp`` (``id_``), following the archive's
        redirects to the nearest capture (no Memento-Datetime) but never an archived redirect."""
        import httpx

        from ..liveness.errors import FetchFailure

        url = self.capture_url(timestamp, original, flag="id_")
        base_host = urlsplit(self.base).hostname
        for _ in range(max_hops + 1):
            await self._slot("replay")
            try:
                answer = await self.fetcher.get(url, attempts=1)
            except FetchFailure as exc:
                raise ArchiveError(f"replay failed: {exc.message}", transient=exc.transient) from None
            if answer.status == 429:
                self._rate_limited("replay")
                raise RateLimited("replay: HTTP 429 Too Many Requests", status=429)
            memento = _memento_timestamp(answer)
            if answer.status in (301, 302, 303, 307, 308) and answer.location:
                target = httpx.URL(url).join(answer.location)
                if memento is not None:  # a capture of a redirect: not the cited page
                    return Replay("redirect", url, memento, answer.status, location=str(target))
                if target.host != base_host or not _REPLAY.search(target.raw_path.decode("ascii", "replace")):
                    return Replay("missing", url, None, answer.status, location=str(target))
                raw = str(target)
                url = raw if "id_/" in raw else _REPLAY.sub(
                    lambda m: f"/web/{m['ts']}id_/{m['original']}", raw, count=1)
                continue
            if blocked_site(answer):
                return Replay("blocked", url, None, answer.status)
            if memento is None:
                return Replay("missing", url, None, answer.status)
            kind = "ok" if 200 <= answer.status < 300 else "error"
            return Replay(kind, url, memento, answer.status, body=answer.body if kind == "ok" else b"",
                          content_type=answer.content_type, content_type_header=answer.headers.get("content-type"),
                          truncated=answer.truncated, exchange=answer.exchange if kind == "ok" else None)
        return Replay("missing", url, None, None)

    # ------------------------------------------------------------------ Save Page Now 2

    def _auth(self) -> dict[str, str]:
        if self.credentials is None:
            raise AuthRejected("saving is off: no IA_ACCESS_KEY and IA_SECRET_KEY", transient=False)
        return {"Authorization": self.credentials.header(), "Accept": "application/json"}

    def _scrub(self, text: str) -> str:
        return self.credentials.scrub(text) if self.credentials is not None else text

    async def _get(self, url: str, what: str, headers: Mapping[str, str] | None = None,
                   on_sent: Callable[[], None] | None = None) -> Answer:
        import httpx

        from ..liveness.errors import FetchFailure
        from ..liveness.transport import Answer, SendExtras, fetch_once

        try:
            if headers:
                request = self.fetcher.client.build_request("GET", url, headers=dict(headers))
                response = await self.fetcher.client.send(request)
                return Answer(url=url, status=response.status_code, reason=response.reason_phrase,
                              headers=response.headers, body=response.content[: self.options.fetch.max_body_bytes])
            return await fetch_once(self.fetcher.client, url, max_body=self.options.fetch.max_body_bytes,
                                    total_timeout=self.options.fetch.total_timeout, extras=SendExtras(on_sent=on_sent))
        except FetchFailure as exc:
            raise ArchiveError(self._scrub(f"{what} failed: {exc.message}"), transient=exc.transient) from None
        except httpx.HTTPError as exc:
            raise ArchiveError(self._scrub(f"{what} failed: {type(exc).__name__}")) from None

    def _json(self, answer: Answer, what: str) -> dict[str, Any]:
        if answer.status == 429:
            self._rate_limited(what)
            raise RateLimited(f"{what}: HTTP 429 Too Many Requests", status=429)
        if answer.status in (401, 403):
            raise AuthRejected(f"{what}: HTTP {answer.status}: the archive refused the keys "
                               "(check IA_ACCESS_KEY and IA_SECRET_KEY)", status=answer.status, transient=False)
        try:
            data = json.loads(answer.body.decode("utf-8", "replace"))
        except ValueError:
            raise ArchiveError(f"{what}: HTTP {answer.status} with a body that is not JSON", status=answer.status,
                               transient=answer.status >= 500) from None
        if not isinstance(data, dict):
            raise ArchiveError(f"{what}: unexpected answer", status=answer.status)
        if answer.status >= 400 and data.get("status") != "error":
            raise ArchiveError(f"{what}: HTTP {answer.status}", status=answer.status, transient=answer.status >= 500)
        return data

    async def submit(self, url: str, *, if_not_archived_within: int | None = None,
                     options: Iterable[tuple[str, str]] = (("skip_first_archive", "1"),)) -> SaveAnswer:
        """``POST /save``: a job id, or the ``status_ext`` error (which the archive may send with HTTP 200)."""
        import httpx

        from ..liveness.errors import FetchFailure
        from ..liveness.transport import Answer

        headers = self._auth()
        await self._slot("save")
        form = [("url", url), *options]
        if if_not_archived_within:
            form.append(("if_not_archived_within", str(int(if_not_archived_within))))
        try:
            response = await self.fetcher.client.post(f"{self.base}/save", data=dict(form), headers=headers)
        except FetchFailure as exc:
            raise ArchiveError(self._scrub(f"save request failed: {exc.message}"), transient=exc.transient) from None
        except httpx.HTTPError as exc:
            raise ArchiveError(self._scrub(f"save request failed: {type(exc).__name__}")) from None
        answer = Answer(url=f"{self.base}/save", status=response.status_code, reason=response.reason_phrase,
                        headers=response.headers, body=response.content[:65536])
        data = self._json(answer, "save request")
        job = data.get("job_id")
        if isinstance(job, str) and job:
            return SaveAnswer(job_id=job, message=_text(data.get("message")))
        return SaveAnswer(job_id=None, status_ext=_text(data.get("status_ext")) or "error:unknown",
                          message=_text(data.get("message")))

    async def job_status(self, job_id: str) -> JobStatus:
        """``GET /save/status/<job_id>`` (an expired record reads ``pending``)."""
        headers = self._auth()
        await self._slot("status")
        answer = await self._get(f"{self.base}/save/status/{job_id}", "save status", headers)
        data = self._json(answer, "save status")
        status = str(data.get("status") or "pending")
        http_status = data.get("http_status")
        return JobStatus(status=status, timestamp=_text(data.get("timestamp")),
                         original_url=_text(data.get("original_url")), status_ext=_text(data.get("status_ext")),
                         message=_text(data.get("message")),
                         http_status=http_status if isinstance(http_status, int) else None)

    async def user_status(self) -> UserStatus:
        """``GET /save/status/user``: capture sessions available now, and the daily quota."""
        headers = self._auth()
        await self._slot("user")
        answer = await self._get(f"{self.base}/save/status/user?_t={int(time.time())}", "save user status", headers)
        data = self._json(answer, "save user status")

        def number(key: str) -> int | None:
            value = data.get(key)
            return int(value) if isinstance(value, (int, float)) else None

        return UserStatus(available=number("available") or 0, processing=number("processing") or 0,
                          daily_captures=number("daily_captures"), daily_captures_limit=number("daily_captures_limit"))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
