"""A local Wayback Machine on a loopback address: CDX, availability, replay and Save Page Now 2.

A real HTTP server (:class:`tests.support.farm.Farm`) speaking the archive's wire formats, each
confirmed against a public source (cited in each handler's docstring). Captures are set up
per URL (timestamp, status code including 404, 301 and ``-`` revisits, MIME type, body for
replay, the moment they become visible); toggles make it answer 429, block a site, expire
job status records, refuse saves for quota, or make captures appear only after a delay.
Every request is logged with its arrival time (:attr:`WaybackDouble.log`), so tests and the
benchmark measure the CDX rate where the archive would.

Credentials are checked exactly (``Authorization: LOW <access>:<secret>``); nothing here
ever leaves the machine.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import html
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from tests.support.farm import Conn, Farm, FarmHost, Request

CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
TOO_MANY = (b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
            b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
BLOCKED = ("org.archive.util.io.RuntimeIOException: "
           "org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error")
NOT_ARCHIVED = (b"<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <title>Wayback Machine</title>\n  </head>\n"
                b"  <body><p>Hrm. The Wayback Machine has not archived that URL.</p></body>\n</html>\n")
_WEB = re.compile(r"^/web/(?:(?P<ts>\d{1,14})(?P<flag>[a-z]{2}_)?/)?(?P<original>.+)$")


def urlkey(url: str) -> str:
    """The SURT-style key the archive indexes by: scheme and ``www.`` ignored, host reversed, lower case."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    surt = host if re.fullmatch(r"[\d.]+", host) else ",".join(reversed(host.split(".")))
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{surt}{port}){parts.path or '/'}{query}".lower()


def pad(ts: str, fill: str = "0") -> str:
    """A 1-14 digit timestamp as 14 digits (``from`` pads to the earliest, ``to`` to the latest)."""
    return (ts + fill * 14)[:14]


def seconds(ts: str) -> float:
    """A (padded) timestamp as POSIX seconds; out-of-range digits are clamped."""
    ts = pad(ts)
    start = dt.datetime(int(ts[:4]), min(max(1, int(ts[4:6])), 12), 1, tzinfo=dt.UTC)
    return (start + dt.timedelta(days=max(1, int(ts[6:8])) - 1, hours=int(ts[8:10]), minutes=int(ts[10:12]),
                                 seconds=int(ts[12:14]))).timestamp()


def http_date(ts: str) -> str:
    return email.utils.format_datetime(dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC), usegmt=True)


@dataclass
class Snap:
    """One capture held by the double."""

    original: str
    timestamp: str
    status: str = "200"  # "200", "404", "301", "-" (a revisit record)
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None  # where an archived redirect pointed
    visible_at: float = 0.0  # time.monotonic() from which CDX and replay show it

    @property
    def mimetype(self) -> str:
        return "warc/revisit" if self.status == "-" else self.content_type.split(";")[0].strip()

    @property
    def digest(self) -> str:
        return base64.b32encode(hashlib.sha1(self.body).digest()).decode("ascii")

    def row(self) -> dict[str, str]:
        return {"urlkey": urlkey(self.original), "timestamp": self.timestamp, "original": self.original,
                "mimetype": self.mimetype, "statuscode": self.status, "digest": self.digest,
                "length": str(len(self.body) + 400)}


@dataclass
class Job:
    id: str
    url: str
    submitted: float
    done_at: float
    timestamp: str
    error: str | None = None


@dataclass(frozen=True)
class Hit:
    """One logged request: when it arrived, what kind of call it was, for which URL."""

    at: float
    kind: str  # cdx, availability, replay, save, status, user, legacy_save
    url: str | None
    status: int
    path: str = ""  # the request's path and query (a replay's names the capture: /web/<ts>id_/<url>)

    @property
    def timestamp(self) -> str | None:
        """The capture timestamp a replay asked for (None for other calls)."""
        m = _WEB.match(urlsplit(self.path).path) if self.kind == "replay" else None
        return m["ts"] if m else None


@dataclass
class WaybackDouble:
    access: str = "double-access-key"
    secret: str = "double-secret-key"
    #: the double's clock for new captures (the tests replay days of runs)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    captures: dict[str, list[Snap]] = field(default_factory=dict)
    #: the live page bodies a save captures (by urlkey); a default article otherwise
    live: dict[str, bytes] = field(default_factory=dict)
    # --- toggles
    cdx_429: int = 0  # the next N CDX calls answer 429
    cdx_503: int = 0  # the next N CDX calls answer 503 (heavy queries do)
    cdx_limit: tuple[int, float] | None = None  # (calls, seconds): more in the window answer 429, as the archive does
    blocked: set[str] = field(default_factory=set)  # urlkeys excluded from the archive
    availability_empty: bool = False  # the availability API's known failure: empty for archived URLs
    save_429: bool = False
    daily_captures: int = 0
    daily_limit: int = 30000
    sessions: int = 3  # concurrent capture sessions of the account
    job_seconds: float = 0.0  # how long a capture job takes
    slow: set[str] = field(default_factory=set)  # urlkeys whose job takes slow_seconds
    slow_seconds: float = 3600.0
    capture_delay: float = 0.0  # seconds after a job's end before its capture shows in CDX and replay
    status_ttl: float = 3600.0  # status records expire, then read "pending"
    job_errors: dict[str, str] = field(default_factory=dict)  # urlkey -> status_ext the job ends with
    submit_errors: dict[str, str] = field(default_factory=dict)  # urlkey -> status_ext POST /save answers
    jobs: dict[str, Job] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    host: FarmHost | None = None
    _ids: Any = field(default_factory=itertools.count)

    # ------------------------------------------------------------------ setup

    def start(self, farm: Farm) -> WaybackDouble:
        self.host = farm.add("wayback", self.handle)
        return self

    @property
    def base_url(self) -> str:
        assert self.host is not None
        return self.host.origin

    def add(self, url: str, timestamp: str, status: str = "200", body: bytes = b"", *,
            content_type: str = "text/html; charset=utf-8", location: str | None = None,
            visible_at: float = 0.0) -> Snap:
        snap = Snap(url, timestamp, status, body, content_type, location, visible_at)
        self.captures.setdefault(urlkey(url), []).append(snap)
        return snap

    def visible(self, url: str) -> list[Snap]:
        now = time.monotonic()
        return sorted((s for s in self.captures.get(urlkey(url), []) if s.visible_at <= now),
                      key=lambda s: s.timestamp)

    def visible_matching(self, url: str, match_type: str) -> list[Snap]:
        """The captures of ``url`` (exact), or with ``matchType=host`` of every URL of its host, urlkey order."""
        if match_type != "host":
            return self.visible(url)
        host = urlkey(url).split(")", 1)[0]
        now = time.monotonic()
        return sorted((s for key, snaps in self.captures.items() if key.split(")", 1)[0] == host
                       for s in snaps if s.visible_at <= now), key=lambda s: (urlkey(s.original), s.timestamp))

    def publish(self) -> None:
        """Every capture and job becomes visible and finished now (the hours have passed)."""
        now = time.monotonic()
        for snaps in self.captures.values():
            for s in snaps:
                s.visible_at = min(s.visible_at, now)
        for job in self.jobs.values():
            job.done_at = min(job.done_at, now)

    def hits(self, kind: str | None = None) -> list[Hit]:
        return [h for h in list(self.log) if kind is None or h.kind == kind]

    def replayed(self, url: str | None = None) -> list[str | None]:
        """The capture timestamps replayed (of ``url``, or of any URL), in arrival order."""
        return [h.timestamp for h in self.hits("replay") if url is None or h.url == url]

    def peak(self, kind: str, window: float) -> int:
        """The most calls of ``kind`` that arrived within any ``window`` seconds (half-open)."""
        times = sorted(h.at for h in self.hits(kind))
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - window:
                j += 1
            best = max(best, i - j + 1)
        return best

    # ------------------------------------------------------------------ dispatch

    async def handle(self, req: Request, conn: Conn) -> None:
        parts = urlsplit(req.path)
        path, query = parts.path, parts.query
        if path == "/cdx/search/cdx":
            await self.cdx(req, conn, parse_qs(query, keep_blank_values=True))
        elif path == "/wayback/available":
            await self.availability(req, conn, parse_qs(query))
        elif path == "/save" and req.method == "POST":
            await self.submit(req, conn)
        elif path == "/save/status/user":
            await self.user_status(req, conn)
        elif path.startswith("/save/status/"):
            await self.job_status(req, conn, path.rsplit("/", 1)[1])
        elif path.startswith("/save/"):
            await self.legacy_save(req, conn)
        elif path.startswith("/web/"):
            await self.replay(req, conn, req.path)
        else:
            await self._send(conn, req, "other", None, 404, NOT_ARCHIVED)

    async def _send(self, conn: Conn, req: Request, kind: str, url: str | None, status: int, body: bytes | str,
                    headers: dict[str, str] | None = None, content_type: str = "text/html; charset=utf-8") -> None:
        self.log.append(Hit(req.at, kind, url, status, req.path))
        await conn.send(status, body, headers=headers, content_type=content_type)

    async def _json(self, conn: Conn, req: Request, kind: str, url: str | None, data: Any, status: int = 200) -> None:
        await self._send(conn, req, kind, url, status, json.dumps(data), content_type="application/json")

    # ------------------------------------------------------------------ CDX

    async def cdx(self, req: Request, conn: Conn, q: dict[str, list[str]]) -> None:
        """``GET /cdx/search/cdx`` (exact match).

        Confirmed in internetarchive/wayback ``wayback-cdx-server/README.md``: plain text rows
        ``urlkey timestamp original mimetype statuscode digest length``; ``output=json`` is an array of
        arrays whose first row is the header (it follows ``fl``); ``filter=[!]field:regex`` (repeatable,
        the regex matches the whole field); ``from``/``to`` (1-14 digits, inclusive); ``limit=N`` first N,
        ``limit=-N`` last N; ``showResumeKey=true`` adds a blank line then the key (JSON: ``[]`` then
        ``["<key>"]``). ``sort=closest&closest=<ts>`` sorts by distance (internetarchive/wayback#237). A
        blocked site is 403 with ``X-Archive-Wayback-Runtime-Error: ...AdministrativeAccessControlException:
        Blocked Site Error`` and that text as the body; too many requests is 429 with an nginx HTML page and
        no Retry-After (edgi-govdata-archiving/wayback tests/cassettes/test_search_raises_for_blocked_urls,
        edgi wayback#137, #206). Revisit records have statuscode ``-`` and mimetype ``warc/revisit``.
        """
        url = (q.get("url") or [""])[0]
        now = time.monotonic()
        recent = [h for h in self.log if h.kind == "cdx" and h.at > now - (self.cdx_limit or (0, 0))[1]]
        if self.cdx_429 > 0 or (self.cdx_limit is not None and len(recent) >= self.cdx_limit[0]):
            self.cdx_429 = max(0, self.cdx_429 - 1)
            await self._send(conn, req, "cdx", url, 429, TOO_MANY, reason_headers(), "text/html")
            return
        if self.cdx_503 > 0:
            self.cdx_503 -= 1
            await self._send(conn, req, "cdx", url, 503, b"<html><body><h1>503 Service Unavailable</h1></body></html>")
            return
        if urlkey(url) in self.blocked:
            await self._send(conn, req, "cdx", url, 403, BLOCKED + "\n",
                             {"X-Archive-Wayback-Runtime-Error": BLOCKED}, "text/plain;charset=UTF-8")
            return
        rows = [s.row() for s in self.visible_matching(url, (q.get("matchType") or [""])[0])]
        start, end = (q.get("from") or [""])[0], (q.get("to") or [""])[0]
        if start:
            rows = [r for r in rows if r["timestamp"] >= pad(start, "0")]
        if end:
            rows = [r for r in rows if r["timestamp"] <= pad(end, "9")]
        for flt in q.get("filter", []):
            negate = flt.startswith("!")
            name, _, regex = flt.lstrip("!").partition(":")
            rows = [r for r in rows if bool(re.fullmatch(regex, r.get(name, ""))) != negate]
        if (q.get("collapse") or [""])[0] == "urlkey":
            seen: set[str] = set()
            rows = [r for r in rows if not (r["urlkey"] in seen or seen.add(r["urlkey"]))]  # type: ignore[func-returns-value]
        closest = (q.get("closest") or [""])[0]
        if (q.get("sort") or [""])[0] == "closest" and closest:
            target = seconds(closest)
            rows.sort(key=lambda r: (abs(seconds(r["timestamp"]) - target), r["timestamp"]))
        limit = int((q.get("limit") or ["150000"])[0])
        more = len(rows) > abs(limit)
        rows = rows[:limit] if limit >= 0 else rows[limit:]
        resume = more and (q.get("showResumeKey") or [""])[0] == "true" and limit > 0 and rows
        key = f"{rows[-1]['urlkey'].replace(',', '%2C').replace(')', '%29').replace('/', '%2F')}+" \
              f"{rows[-1]['timestamp']}%21" if resume else None
        fields = (q.get("fl") or [",".join(CDX_FIELDS)])[0].split(",")
        if (q.get("output") or [""])[0] == "json":
            data: list[list[str]] = [fields, *[[r[f] for f in fields] for r in rows]] if rows else []
            if key:
                data += [[], [key]]
            await self._send(conn, req, "cdx", url, 200, json.dumps(data), content_type="application/json")
            return
        text = "".join(" ".join(r[f] for f in fields) + "\n" for r in rows)
        if key:
            text += f"\n{key}\n"
        await self._send(conn, req, "cdx", url, 200, text, content_type="text/plain")

    # ------------------------------------------------------------------ availability

    async def availability(self, req: Request, conn: Conn, q: dict[str, list[str]]) -> None:
        """``GET /wayback/available?url=U[&timestamp=T]``.

        Hit: ``{"url": U, "archived_snapshots": {"closest": {"status": "200", "available": true,
        "url": "http://web.archive.org/web/<ts>/<url>", "timestamp": "<ts>"}}}`` (status a string, url with
        http://) as in macbre/wayback-machine#2 and internetarchive/wayback#210; miss (and the API's known
        failure for archived URLs): ``{"url": U, "archived_snapshots": {}}`` with the timestamp echoed when
        sent (akamhy/waybackpy#154).
        """
        url = (q.get("url") or [""])[0]
        stamp = (q.get("timestamp") or [""])[0]
        data: dict[str, Any] = {"url": url, "archived_snapshots": {}}
        if stamp:
            data["timestamp"] = stamp
        ok = [s for s in self.visible(url) if s.status.startswith("2")]
        if ok and not self.availability_empty:
            target = seconds(stamp) if stamp else math.inf
            best = min(ok, key=lambda s: (abs(seconds(s.timestamp) - target) if stamp else -seconds(s.timestamp)))
            assert self.host is not None
            data["archived_snapshots"] = {"closest": {
                "status": best.status, "available": True, "timestamp": best.timestamp,
                "url": f"http://{self.host.ip}:{self.host.port}/web/{best.timestamp}/{best.original}"}}
        await self._json(conn, req, "availability", url, data)

    # ------------------------------------------------------------------ replay

    async def replay(self, req: Request, conn: Conn, raw: str) -> None:
        """``GET /web/<ts>[id_]/<url>`` (``id_``: the original bytes) and ``/web/<url>`` (the timegate).

        A memento carries ``Memento-Datetime`` and a ``Link`` header (original, timemap, timegate, first/
        last memento, memento); an inexact timestamp is ``302`` to the nearest capture with
        ``X-Archive-Redirect-Reason: found capture at <ts>`` and no Memento-Datetime; an archived redirect
        replays as a 3xx *with* Memento-Datetime; a URL never archived is 404 (a "Wayback Machine" page,
        no Memento-Datetime). Confirmed in edgi-govdata-archiving/wayback tests/cassettes
        (test_get_memento_target_window, test_get_memento_raises_no_memento_error). A fresh capture not
        yet visible redirects to an older one (MKRWW/wortlaut specs/0108-spn2-archiver.md, measured).
        """
        m = _WEB.match(raw)
        if not m:
            await self._send(conn, req, "replay", None, 404, NOT_ARCHIVED)
            return
        ts, flag, original = m["ts"], m["flag"] or "", m["original"]
        if urlkey(original) in self.blocked:
            await self._send(conn, req, "replay", original, 403, BLOCKED, {"X-Archive-Wayback-Runtime-Error": BLOCKED})
            return
        snaps = self.visible(original)
        if not snaps:
            await self._send(conn, req, "replay", original, 404, NOT_ARCHIVED)
            return
        exact = [s for s in snaps if ts and s.timestamp == ts]
        if not exact:
            target = seconds(ts) if ts else math.inf
            near = min(snaps, key=lambda s: (abs(seconds(s.timestamp) - target) if ts else -seconds(s.timestamp)))
            await self._send(conn, req, "replay", original, 302, b"", {
                "Location": f"{self.base_url}/web/{near.timestamp}{flag}/{near.original}",
                "X-Archive-Redirect-Reason": f"found capture at {near.timestamp}"}, "text/plain; charset=utf-8")
            return
        snap = exact[-1]
        headers = {"Memento-Datetime": http_date(snap.timestamp), "Link": self.link_header(snap, snaps),
                   "X-Archive-Src": "double.warc.gz"}
        status = int(snap.status) if snap.status.isdigit() else 200
        if 300 <= status < 400:
            headers["Location"] = f"{self.base_url}/web/{snap.timestamp}{flag}/{snap.location or original}"
        body = snap.body
        if not flag and status == 200:  # the rewritten view mode adds the toolbar
            body = b"<!-- BEGIN WAYBACK TOOLBAR INSERT --><!-- END WAYBACK TOOLBAR INSERT -->" + body
        await self._send(conn, req, "replay", original, status, body, headers, snap.content_type)

    def link_header(self, snap: Snap, snaps: list[Snap]) -> str:
        base = self.base_url
        return ", ".join([
            f'<{snap.original}>; rel="original"',
            f'<{base}/web/timemap/link/{snap.original}>; rel="timemap"; type="application/link-format"',
            f'<{base}/web/{snap.original}>; rel="timegate"',
            f'<{base}/web/{snaps[0].timestamp}/{snap.original}>; rel="first memento"; '
            f'datetime="{http_date(snaps[0].timestamp)}"',
            f'<{base}/web/{snap.timestamp}/{snap.original}>; rel="memento"; datetime="{http_date(snap.timestamp)}"',
            f'<{base}/web/{snaps[-1].timestamp}/{snap.original}>; rel="last memento"; '
            f'datetime="{http_date(snaps[-1].timestamp)}"'])

    # ------------------------------------------------------------------ Save Page Now 2

    def _authorised(self, req: Request) -> bool:
        return req.headers.get("authorization", "") == f"LOW {self.access}:{self.secret}"

    def _processing(self) -> int:
        now = time.monotonic()
        return sum(1 for j in self.jobs.values() if j.done_at > now)

    async def legacy_save(self, req: Request, conn: Conn) -> None:
        """Anonymous ``GET /save/<url>``: 429 with or without keys since 2026 (measured 2026-08-27,
        MKRWW/wortlaut specs/0108-spn2-archiver.md)."""
        await self._send(conn, req, "legacy_save", req.path[len("/save/"):], 429, TOO_MANY)

    async def submit(self, req: Request, conn: Conn) -> None:
        """``POST /save`` (form ``url=...`` and options such as ``if_not_archived_within``, ``skip_first_archive``).

        Without ``Authorization: LOW key:secret``: 401 "You need to be logged in to use Save Page Now."
        (MKRWW/wortlaut specs/0108-spn2-archiver.md). Accepted: ``{"url": U, "job_id": "spn2-<40 hex>"}``;
        the same URL again within the hour returns the same id plus a ``message`` (same source, measured);
        refusals come with HTTP 200 and ``{"status": "error", "status_ext": "error:...", "message": ...}``
        (same source; the SPN2 public API doc, archive.org/details/spn-2-public-api-page-docs-2023-01-22,
        mirrored as gist krackers/3aba22f85839dbcc3d1effe9eb09ed5e, lists the codes).
        """
        length = int(req.headers.get("content-length", "0") or 0)
        raw = await conn.reader.readexactly(length) if length else b""
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        url = form.get("url", "")
        if not self._authorised(req):
            await self._send(conn, req, "save", url, 401, "You need to be logged in to use Save Page Now.")
            return
        if self.save_429:
            await self._send(conn, req, "save", url, 429, TOO_MANY)
            return
        key = urlkey(url)
        refusal = self.submit_errors.get(key)
        if refusal is None and self.daily_captures >= self.daily_limit:
            refusal = "error:too-many-daily-captures"
        if refusal is None and self._processing() >= self.sessions:
            refusal = "error:user-session-limit"
        if refusal is not None:
            message = {"error:too-many-daily-captures": "This URL has been already captured 10 times today. "
                                                        "Please try again tomorrow.",
                       "error:user-session-limit": "You have already reached the limit of active sessions."}
            await self._json(conn, req, "save", url, {"status": "error", "status_ext": refusal,
                                                      "message": message.get(refusal, "Capture refused.")})
            return
        now = time.monotonic()
        for job in self.jobs.values():
            if urlkey(job.url) == key and now - job.submitted < 3600:
                minutes = int((now - job.submitted) // 60)
                await self._json(conn, req, "save", url, {
                    "url": url, "job_id": job.id,
                    "message": f"The same snapshot had been made {minutes} minutes ago. You can make new capture "
                               "of this URL after 1 hour."})
                return
        job_id = "spn2-" + hashlib.sha1(f"{url} {next(self._ids)}".encode()).hexdigest()
        done_at = now + (self.slow_seconds if key in self.slow else self.job_seconds)
        stamp = self.clock().astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
        error = self.job_errors.get(key)
        within = form.get("if_not_archived_within")
        recent = [s for s in self.visible(url) if s.status.startswith("2")
                  and within and seconds(stamp) - seconds(s.timestamp) < float(within)]
        if error is None and recent:
            stamp = recent[-1].timestamp  # "SPN2 returns that as a recent capture"
        elif error is None:
            body = self.live.get(key) or article(url)
            self.add(url, stamp, "200", body, visible_at=done_at + self.capture_delay)
            self.daily_captures += 1
        self.jobs[job_id] = Job(job_id, url, now, done_at, stamp, error)
        await self._json(conn, req, "save", url, {"url": url, "job_id": job_id})

    async def job_status(self, req: Request, conn: Conn, job_id: str) -> None:
        """``GET /save/status/<job_id>``: ``{"job_id", "resources": [], "status": "pending"}``; success adds
        ``original_url``, ``timestamp``, ``duration_sec``, ``http_status``; an error has ``status_ext`` and
        ``message`` (SPN2 public API doc; MKRWW/wortlaut specs/0108-spn2-archiver.md, measured). Records
        expire after about an hour and then read as pending, like an unknown id
        (agude/wayback-machine-archiver#28)."""
        if not self._authorised(req):
            await self._send(conn, req, "status", None, 401, "You need to be logged in to use Save Page Now.")
            return
        job = self.jobs.get(job_id)
        now = time.monotonic()
        pending = {"job_id": job_id, "resources": [], "status": "pending"}
        if job is None or now - job.submitted > self.status_ttl or now < job.done_at:
            await self._json(conn, req, "status", job.url if job else None, pending)
            return
        if job.error:
            await self._json(conn, req, "status", job.url, {
                "job_id": job_id, "status": "error", "status_ext": job.error, "exception": "double",
                "message": f"The capture failed ({job.error}).", "resources": []})
            return
        await self._json(conn, req, "status", job.url, {
            "job_id": job_id, "status": "success", "original_url": job.url, "timestamp": job.timestamp,
            "duration_sec": round(job.done_at - job.submitted, 3), "http_status": 200, "resources": [job.url],
            "outlinks": {}, "counters": {"outlinks": 0, "embeds": 0}})

    async def user_status(self, req: Request, conn: Conn) -> None:
        """``GET /save/status/user``: ``{"processing": 0, "available": 3, "daily_captures": 0,
        "daily_captures_limit": 30000}`` (MKRWW/wortlaut specs/0108-spn2-archiver.md, measured)."""
        if not self._authorised(req):
            await self._send(conn, req, "user", None, 401, "You need to be logged in to use Save Page Now.")
            return
        processing = self._processing()
        await self._json(conn, req, "user", None, {
            "processing": processing, "available": max(0, self.sessions - processing),
            "daily_captures": self.daily_captures, "daily_captures_limit": self.daily_limit})


def reason_headers() -> dict[str, str]:
    return {}  # the archive's 429 carries no Retry-After (edgi-govdata-archiving/wayback#137)


def article(url: str, words: Iterable[str] = ()) -> bytes:
    """A realistic article page whose text names ``url`` (long enough not to be thin)."""
    slug = html.escape(urlsplit(url).path.strip("/").replace("/", " ").replace("-", " ") or "front page")
    extra = " ".join(words)
    paragraphs = "".join(
        f"<p>Paragraph {i} of the report on {slug}: the council heard testimony from residents, officials and "
        f"experts about the contract, its cost, the data it keeps and who may see it. {extra}</p>"
        for i in range(1, 9))
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Report on {slug}</title></head>"
            f"<body><header><nav><a href=\"/\">Home</a></nav></header><article><h1>Report on {slug}</h1>"
            f"{paragraphs}</article><footer>Contact us</footer></body></html>").encode()
