"""The Wayback stage: lookups, rescues, declared archive URLs and saves, within the archive's limits.

:func:`wayback_stage` runs after the check stage on the stored link state. Three tasks
share one :class:`~archiver.wayback.client.WaybackClient` (so one pacing and one 429 pause):

* **lookups** of the links whose state calls for one (:func:`~archiver.wayback.policy.plan_lookups`),
  most urgent first, within ``max_lookups`` and the deadline; each link's knowledge is
  written as soon as it is known; a failing link is then rescued at once;
* **follow-ups** of the other links: a declared ``archive_url`` to replay, a rescue;
* **saves** (only with ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY``): links needing a capture,
  in priority order, within ``max_saves``, the account's quota and free capture sessions;
  jobs are polled until ``save_poll_seconds``; unfinished ones are kept in the link state and
  reconciled by a later run (by status while the archive remembers the job, then via CDX).

The copy to cite of a failing (dead or soft-404) link is judged by its content, not only by CDX
metadata (:meth:`_Run.settle`): the chosen capture's original bytes (``id_``) are replayed and
judged with the checker's content rules, emptiness and thinness; a capture that is not the page is
remembered as rejected (never replayed or offered again) and the next choice is replayed, up to
``VERIFY_TRIES`` a link and run; one that is the page is remembered as verified (judged once, not
every night). The same replay is the rescue: its text is stored as the link's snapshot with origin
``wayback`` when the repository holds no capture of the link (the snapshot store's never-worse rule
applies too). A copy not judged yet is offered as unverified.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import sys
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..config import Settings
from ..history.linkstate import LinkState, iso, new_state, parse_iso
from ..history.store import StateStore
from ..liveness.soft404 import content_verdict
from ..models import FAILING_STATUSES, Finding, Link
from ..snapshots.extract import Extraction, ExtractOptions, failed
from ..snapshots.pool import ExtractorPool
from ..snapshots.store import Capture, SnapshotStore, stored_text
from ..support import asyncrun
from ..support.progress import StageProgress
from ..timeline.catalog import Catalog, parse_archive_url
from . import policy
from .client import STATUS_TTL_SECONDS, WaybackClient
from .errors import ArchiveError, AuthRejected, DeadlineReached, Excluded, RateLimited
from .limiter import Credentials

SAVING_OFF = "saving is off: set IA_ACCESS_KEY and IA_SECRET_KEY (CI secrets) to turn it on"
NOTE_PREFIX = "wayback: "
#: CDX failures in a row (5xx, timeouts) after which lookups stop for the run
MAX_CDX_FAILURES = 3
#: ``status_ext`` codes after which no more saves are asked for in this run (no retry storm)
STOP_CODES = frozenset({"error:too-many-daily-captures", "error:user-session-limit", "error:too-many-requests",
                        "error:unauthorized"})
#: every capture session of the account is busy: waited for once, then a stop code
SESSION_LIMIT = "error:user-session-limit"
LOOKUP_WORKERS = 2


@dataclass(slots=True)
class WaybackOutcome:
    """What one run of the stage did: counts, notes for the report, findings, seconds."""

    stats: Counter[str] = field(default_factory=Counter)
    calls: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    saving: bool = False
    seconds: float = 0.0
    #: links still due for a lookup when the run stopped (budget, deadline, 429)
    lookups_left: int = 0
    #: why they are left (``the max_lookups budget``, ``the time budget``, ...)
    lookups_stopped: str | None = None

    @property
    def summary(self) -> str:
        s = self.stats
        parts = [f"{s['looked_up']} links looked up ({self.calls.get('cdx', 0)} CDX calls)"]
        if self.lookups_left:
            why = self.lookups_stopped or "a budget"
            if why == "the max_lookups budget":
                why += "; --max-lookups none lifts it"
            parts.append(f"{self.lookups_left} lookups left for the next run ({why})")
        if s["copies"] or s["failing"]:
            parts.append(f"{s['copies']} of {s['failing']} failing links have a copy")
        if s["rescued"]:
            parts.append(f"{s['rescued']} rescued as snapshots")
        if s["declared_checked"]:
            parts.append(f"{s['declared_checked']} declared archive URLs checked")
        if self.saving:
            parts.append(f"saves: {s['saves_requested']} requested, {s['saves_done']} done, "
                         f"{s['saves_pending']} pending, {s['saves_failed']} failed"
                         + (f", {s['reconciled']} reconciled" if s["reconciled"] else ""))
        else:
            parts.append("saving off")
        return "wayback: " + "; ".join(parts) + f" in {self.seconds:.1f}s"


class _Stop(Exception):
    pass


def not_the_page(url: str, body: bytes, content_type: str | None) -> str | None:
    """Why an archived body is not the cited page (a bot challenge, a parked domain, an error page), else None:
    the checker's own content rules (:func:`~archiver.liveness.soft404.content_verdict`), applied to the capture."""
    verdict = content_verdict(url, body, content_type)
    if verdict is None:
        return None
    status, why = verdict
    if status == "blocked":
        return f"a bot challenge: {why}"
    if status == "dead":  # "the domain is parked (...)" already says what the capture is
        return f"not the page: {why}"
    return f"an error page: {why}"


class _Run:
    def __init__(self, settings: Settings, catalog: Catalog, store: StateStore, snapshots: SnapshotStore,
                 client: WaybackClient, now: dt.datetime, deadline: float | None, stream: TextIO,
                 progress: bool = False) -> None:
        self.settings, self.store, self.snapshots, self.client = settings, store, snapshots, client
        self.now, self.deadline, self.stream, self.progress = now, deadline, stream, progress
        self.links = [link for link in catalog.links if link.checkable]
        self.base = settings.wayback_url.rstrip("/")
        self.out = WaybackOutcome(saving=client.saving)
        self.stop_lookups: str | None = None
        self.stop_saving: str | None = None
        self.cdx_failures = 0
        self.options = ExtractOptions.from_settings(settings)
        self.queue: asyncio.PriorityQueue[tuple[tuple[int, str, str], int, Link]] = asyncio.PriorityQueue()
        self.seq = itertools.count()
        self.enqueued: set[str] = set()
        self.producers_done = asyncio.Event()
        self.in_flight: dict[str, tuple[Link, float]] = {}
        self.pool: ExtractorPool | None = None

    # ------------------------------------------------------------------ helpers

    def state_for(self, link: Link) -> LinkState:
        state = self.store.states.get(link.normalized_url)
        if state is None:
            state = new_state(link.url, link.normalized_url, self.now)
        return state

    def note(self, text: str) -> None:
        line = NOTE_PREFIX + text
        if line not in self.out.notes:
            self.out.notes.append(line)

    def say(self, text: str) -> None:
        print(f"archiver: wayback: {text}", file=self.stream, flush=True)

    def late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    # ------------------------------------------------------------------ the run

    async def run(self) -> None:
        self.clear_saved_flags()
        planned = policy.plan_lookups(self.links, self.store.states, self.now, self.settings)
        planned_keys = {link.normalized_url for link in planned}
        others = [link for link in self.links if link.normalized_url not in planned_keys]
        budget = self.settings.max_lookups
        todo = deque(planned if budget is None else planned[:budget])
        cut = len(planned) - len(todo)  # beyond the max_lookups budget
        saver = asyncio.create_task(self.saver()) if self.client.saving else None

        async def lookups() -> None:
            # one lookup is one CDX call as a rule: the archive's pace gives the first estimate of the time left
            with StageProgress("wayback lookups", len(todo), stream=self.stream, enabled=self.progress and bool(todo),
                               rate=self.settings.cdx_per_minute / 60) as bar:
                workers = [asyncio.create_task(self.lookup_worker(todo, bar)) for _ in range(LOOKUP_WORKERS)]
                await asyncio.gather(*workers)

        try:
            await asyncio.gather(lookups(), self.follow_ups(others))
        finally:
            self.producers_done.set()
            self.out.lookups_left = cut + len(todo)
            if saver is not None:
                await saver
        if self.out.lookups_left:
            # stopped before the budget's end: a 429, CDX failing, or the deadline
            why = (self.stop_lookups or "the time budget") if todo else "the max_lookups budget"
            self.out.lookups_stopped = why
            self.note(f"{self.out.lookups_left} lookups are left for the next run ({why})")

    def clear_saved_flags(self) -> None:
        """``saved_this_run`` belongs to the run that saved: the next run clears it."""
        for state in list(self.store.states.values()):
            if state.wayback and state.wayback.get("saved_this_run"):
                policy.update(state, {"saved_this_run": None})
                self.store.save(state)

    # ------------------------------------------------------------------ lookups

    async def lookup_worker(self, todo: deque[Link], bar: StageProgress | None = None) -> None:
        while todo and self.stop_lookups is None and not self.late():
            link = todo.popleft()
            try:
                await self.lookup(link)
            except _Stop:
                todo.appendleft(link)
                return
            if bar is not None:
                bar.advance()
            await self.follow_up(link)

    async def cdx(self, query: Any) -> list[Any]:
        """One CDX query; a 429 (the client has paused every call) is retried once after the pause,
        a second one ends the lookups of this run."""
        for attempt in (1, 2):
            try:
                rows = await self.client.cdx(query)
                self.cdx_failures = 0
                return rows
            except RateLimited:
                if attempt == 2 or self.client.rate_limited >= 2:
                    self.stop_lookups = "the archive answered 429 Too Many Requests again"
                    self.note("lookups stopped for this run: the archive answered 429 Too Many Requests twice")
                    raise _Stop() from None
            except DeadlineReached:
                self.stop_lookups = "the time budget"
                raise _Stop() from None
        raise AssertionError("unreachable")

    async def lookup(self, link: Link) -> None:
        state = self.state_for(link)
        wb = state.wayback or {}
        job_age = policy.job_age(wb, self.now)
        first = parse_iso(state.first_failed) if state.status in FAILING_STATUSES else None
        looked = parse_iso(wb.get("looked_up"))
        force = first is not None and (looked is None or looked < first)
        self.out.stats["looked_up"] += 1
        try:
            if job_age is not None and job_age >= STATUS_TTL_SECONDS and wb.get("looked_up"):
                await self.reconcile(link, state)
                return
            rows = await self.cdx(policy.first_query(link, state))
            if policy.needs_newest(link, state, rows, self.now, self.settings, self.client.saving):
                rows = rows + await self.cdx(policy.newest_query(link))
        except Excluded:
            new = {**(state.wayback or {"url": None, "timestamp": None}), "excluded": True}
            policy.learned(state, new, self.now, force=force)
            self.store.save(state)
            return
        except ArchiveError as exc:
            self.cdx_failures += 1
            await self.fallback(link, state, exc)
            if self.cdx_failures >= MAX_CDX_FAILURES and self.stop_lookups is None:
                self.stop_lookups = "the CDX server failed"
                self.note(f"lookups stopped for this run: {self.cdx_failures} CDX lookups in a row failed ({exc})")
            return
        new = policy.with_captures(state.wayback, link, state, policy.from_rows(rows), self.base)
        new.pop("source", None)
        new.pop("excluded", None)
        policy.learned(state, new, self.now, force=force)
        self.store.save(state)

    async def fallback(self, link: Link, state: LinkState, error: ArchiveError) -> None:
        """The availability API when CDX failed: its answer is kept as partial knowledge (an empty
        answer proves nothing: the API answers empty for archived URLs)."""
        try:
            found = await self.client.availability(link.url, policy.cited_ts(link))
        except (ArchiveError, DeadlineReached):
            return
        self.out.stats["availability"] += 1
        if found is None or not found.ok:
            return
        new = policy.with_captures(state.wayback, link, state, [policy.Known(found.timestamp, int(found.statuscode))],
                                   self.base)
        if not (state.wayback or {}).get("looked_up"):
            new["source"] = "availability"
        policy.learned(state, new, self.now)
        self.store.save(state)

    async def reconcile(self, link: Link, state: LinkState) -> None:
        """A save job whose status record has expired: is its capture in CDX yet?"""
        wb = state.wayback or {}
        job = wb["save_job"]
        rows = await self.cdx(policy.reconcile_query(link, job.get("submitted", "")))
        found = policy.from_rows(rows)
        if found:
            new = policy.with_captures(wb, link, state, found, self.base)
            new["save_job"] = None
            new["saved"] = {"submitted": job.get("submitted"), "timestamp": max(c.timestamp for c in found)}
            policy.learned(state, {k: v for k, v in new.items() if v is not None}, self.now)
            self.out.stats["reconciled"] += 1
        else:
            age = policy.job_age(wb, self.now) or 0.0
            if age >= self.settings.save_reconcile_days * 86400:
                policy.update(state, {"save_job": None, "save_error": {"code": "unconfirmed", "at": iso(self.now)}})
                self.out.stats["saves_unconfirmed"] += 1
            else:
                self.out.stats["saves_pending"] += 1
        self.store.save(state)

    # ------------------------------------------------------------------ follow-ups: declared URLs, rescues, saves

    async def follow_ups(self, links: list[Link]) -> None:
        for link in links:
            if self.late():
                return
            await self.follow_up(link)
            await asyncio.sleep(0)  # most links need nothing: let the lookups' calls go out on time

    async def follow_up(self, link: Link) -> None:
        state = self.store.states.get(link.normalized_url)
        if state is None:
            return
        try:
            if policy.declared_due(link, state, self.now, self.settings):
                await self.check_declared(link, state)
            if state.status in FAILING_STATUSES and state.wayback:
                self.out.stats["failing"] += 1
                if state.wayback.get("url"):
                    await self.settle(link, state)
                if (state.wayback or {}).get("url"):
                    self.out.stats["copies"] += 1
        except (RateLimited, DeadlineReached):
            return
        except ArchiveError as exc:
            self.out.stats["replay_errors"] += 1
            if self.out.stats["replay_errors"] == 1:
                self.note(f"a replay failed: {exc}")
        self.offer_save(link, state)

    def offer_save(self, link: Link, state: LinkState) -> None:
        if not self.client.saving or self.stop_saving or link.normalized_url in self.enqueued:
            return
        key = policy.save_priority(link, state, self.now, self.settings)
        if key is not None:
            self.enqueued.add(link.normalized_url)
            self.queue.put_nowait((key, next(self.seq), link))

    async def check_declared(self, link: Link, state: LinkState) -> None:
        verdicts: dict[str, str] = {}
        for archive_url in sorted(link.archive_urls):
            verdict = policy.declared_static(link, archive_url)
            if verdict is None:
                ref = parse_archive_url(archive_url)
                assert ref is not None and ref.timestamp is not None
                replay = await self.client.replay(ref.original, ref.timestamp)
                verdict = {"ok": "replays", "error": "error", "redirect": "error"}.get(replay.kind, "missing")
                self.out.stats["declared_checked"] += 1
            verdicts[archive_url] = verdict
        wb = state.wayback or {"url": None, "timestamp": None}
        changes: dict[str, Any] = {"declared": verdicts}
        if dict(sorted(verdicts.items())) != (wb.get("declared") or {}) or not wb.get("declared_checked"):
            changes["declared_checked"] = iso(self.now)
        policy.update(state, changes)
        self.store.save(state)

    async def settle(self, link: Link, state: LinkState) -> None:
        """Judge the copy to cite of a failing link by its replayed content and rescue it as the
        link's snapshot when the repository has none.

        The chosen capture (:func:`~archiver.wayback.policy.choose`) is replayed (``id_``) unless it
        was judged before; one that is not the page (an error status or redirect, an empty body, the
        checker's content rules, thin text) is remembered as rejected and the next choice replayed,
        up to ``VERIFY_TRIES`` a run; one that is the page is remembered as verified (never replayed
        for that again) and, when needed, stored as the rescue. A capture the archive cannot replay
        now (missing, blocked) is skipped for this run only. What is not judged stays unverified.
        """
        key = link.normalized_url
        cited, failed = policy.cited_ts(link), policy.failed_ts(state)
        skipped: set[str] = set()
        snapshot_known = False
        need_rescue, stored_chars = True, None
        for _ in range(policy.VERIFY_TRIES):
            wb = state.wayback or {}
            rescued = wb.get("rescued") or {}
            chosen = policy.choose([c for c in policy.known(wb) if c.timestamp not in skipped], cited, failed)
            if chosen is None:
                return
            if rescued.get("result") == "written":
                need_rescue = False
                if not chosen.verified and rescued.get("timestamp") == chosen.timestamp:
                    # the rescue judged it already (the snapshot store's rules): no replay needed
                    policy.mark_verified(state, link, chosen.timestamp, self.base)
                    self.store.save(state)
                    continue
            if chosen.verified and not need_rescue:
                return
            if not snapshot_known:
                snapshot_known = True
                info = await asyncio.to_thread(self.snapshots.first, key)
                if info is not None:
                    need_rescue = False
                    stored_chars = int(info.header.get("text_chars") or 0) or None
                if chosen.verified and not need_rescue:
                    return
            if self.late():
                return
            why = await self.judge(link, state, chosen, failed, stored_chars, skipped, rescue=need_rescue)
            if why is None:
                return
            if why:
                policy.mark_rejected(state, link, chosen.timestamp, why, self.base)
                self.store.save(state)
                self.out.stats["captures_rejected"] += 1

    async def judge(self, link: Link, state: LinkState, chosen: policy.Known, failed: str | None,
                    stored_chars: int | None, skipped: set[str], *, rescue: bool) -> str | None:
        """Replay ``chosen`` and judge it: why it is not the page (``""``: not judged, try the next
        one), or None once it was verified (and rescued when ``rescue``) or nothing more can be done."""
        replay = await self.client.replay(link.url, chosen.timestamp)
        self.out.stats["replays_judged"] += 1
        if replay.kind in ("error", "redirect"):
            return f"the capture is {'an error page' if replay.kind == 'error' else 'a redirect'} " \
                   f"(HTTP {replay.status})"
        if replay.kind != "ok" or replay.timestamp is None:
            skipped.add(chosen.timestamp)  # missing or blocked now: nothing learned about its content
            return ""
        if replay.timestamp != chosen.timestamp:
            # the archive answers with another capture: judge that one on its own (a later try)
            state.wayback = policy.with_captures(state.wayback, link, state,
                                                 [policy.Known(replay.timestamp, replay.status or 200)], self.base)
            return f"the archive replays the capture at {replay.timestamp} instead"
        content_type = replay.content_type_header or replay.content_type
        if not replay.body.strip():
            return "the capture is empty"
        if why := not_the_page(link.url, replay.body, content_type):
            return why
        extraction = await self.extract(replay.body, content_type, link.url, truncated=replay.truncated)
        if extraction.kind == "failed":
            skipped.add(chosen.timestamp)  # not judged: it stays unverified
            return ""
        if extraction.kind == "empty" or (extraction.kind != "binary" and not extraction.text.strip()):
            return "the capture is empty"
        if why := policy.thin_capture(len(stored_text(extraction.text)), extraction.reason if extraction.thin
                                      else None, stored_chars):
            return why
        policy.mark_verified(state, link, chosen.timestamp, self.base)
        self.store.save(state)
        self.out.stats["copies_verified"] += 1
        if not rescue:
            return None
        capture = Capture(
            url=link.url, normalized_url=link.normalized_url, captured_at=policy.ts_datetime(replay.timestamp),
            extraction=extraction, status="alive", http_status=replay.status, final_url=link.url,
            content_type=replay.content_type, origin="wayback",
            wayback_url=policy.capture_url(self.base, replay.timestamp, link.url),
            cited_by=tuple(sorted({c.event for c in link.citations})))
        outcome = await asyncio.to_thread(self.snapshots.save, capture)
        if outcome.action == "written":
            policy.update(state, {"rescued": {"timestamp": replay.timestamp, "result": "written"}})
            self.store.save(state)
            self.out.stats["rescued"] += 1
            return None
        if outcome.action == "rejected":
            return outcome.reason.removeprefix("not stored: ")
        return None  # a snapshot appeared meanwhile

    async def extract(self, body: bytes, content_type: str | None, url: str, *, truncated: bool) -> Extraction:
        """Extract in the checker's worker pool (a per-page timeout; the event loop stays free),
        started at the first rescue of the run."""
        if self.pool is None:
            self.pool = ExtractorPool(self.options, workers=1, timeout=self.settings.extract_timeout)
        future = self.pool.submit(body, content_type, url, truncated=truncated)
        try:  # the pool answers within its timeout; a pool whose workers cannot start must not hang the run
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.extract_timeout + 30)
        except TimeoutError:
            future.cancel()
            return failed("the extraction worker did not answer")

    async def aclose(self) -> None:
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close, cancel_pending=True)
            self.pool = None

    # ------------------------------------------------------------------ saves

    async def saver(self) -> None:
        try:
            await self._saver()
        except (ArchiveError, _Stop) as exc:  # 429, keys refused, the deadline, the archive failing
            self.stop_saving = self.stop_saving or str(exc)
        finally:
            await self.drain()
            if self.stop_saving:
                self.note(f"saving stopped for this run: {self.stop_saving}")

    async def _saver(self) -> None:
        """Submit the queued links, one capture session at a time.

        Free sessions are only ever taken from the account's own count (``/save/status/user``),
        asked again whenever the ones known free are used: our jobs past their poll deadline, or
        another client's, may still hold sessions, and a job that ended is counted free there.
        """
        await self.reconcile_young_jobs()
        user = await self.client.user_status()
        if user.quota_left == 0:
            self.stop_saving = (f"the account's daily captures are used up ({user.daily_captures} of "
                                f"{user.daily_captures_limit})")
            return
        free = user.available
        budget = self.settings.max_saves
        if user.quota_left is not None:
            budget = user.quota_left if budget is None else min(budget, user.quota_left)
        failures = 0
        retried: set[str] = set()
        while True:
            link = await self.next_save()
            if link is None:
                return
            state = self.store.states.get(link.normalized_url)
            if state is None or policy.save_priority(link, state, self.now, self.settings) is None:
                continue
            if budget is not None and self.out.stats["saves_requested"] >= budget:
                left = 1 + self.queue.qsize()
                self.note(f"the save budget ({budget}) is spent; {left} or more saves are left for the next run")
                return
            if free <= 0:
                free = await self.wait_for_session()
                if free <= 0:
                    self.stop_saving = "no capture session of the account became free"
                    return
            try:
                answer = await self.client.submit(link.url, if_not_archived_within=int(
                    self.settings.save_max_age_days * 86400))
            except RateLimited:
                self.stop_saving = "Save Page Now answered 429 Too Many Requests"
                return
            except AuthRejected as exc:
                self.stop_saving = str(exc)
                return
            except ArchiveError as exc:
                failures += 1
                self.out.stats["saves_failed"] += 1
                if failures >= MAX_CDX_FAILURES:
                    self.stop_saving = f"{failures} save requests in a row failed ({exc})"
                    return
                continue
            failures = 0
            free -= 1
            if answer.job_id:
                self.out.stats["saves_requested"] += 1
                policy.update(state, {"save_job": {"id": answer.job_id, "submitted": iso(self.now)},
                                      "saved_this_run": True, "save_error": None})
                self.store.save(state)
                self.in_flight[answer.job_id] = (link, time.monotonic() + self.settings.save_poll_seconds)
                continue
            code = answer.status_ext or "error:unknown"
            if code == SESSION_LIMIT and link.normalized_url not in retried:
                # every session is busy after all (another client's jobs): wait for one, ask once more
                retried.add(link.normalized_url)
                free = 0
                self.queue.put_nowait(((-1, "", link.normalized_url), next(self.seq), link))
                continue
            self.out.stats["saves_requested"] += 1
            policy.update(state, {"save_error": {"code": code, "at": iso(self.now)}})
            self.store.save(state)
            self.out.stats["saves_failed"] += 1
            if code in STOP_CODES:
                self.stop_saving = f"Save Page Now answered {code}" + (f": {answer.message}" if answer.message
                                                                       else "")
                return

    async def wait_for_session(self) -> int:
        """Poll our jobs and ask the account until a capture session is free, for at most
        ``save_poll_seconds`` (a capture takes a few minutes at most); the free sessions then (0: none)."""
        until = time.monotonic() + self.settings.save_poll_seconds
        while True:
            if self.in_flight:
                await self.poll_round()
            user = await self.client.user_status()
            if user.available > 0:
                return user.available
            left = until - time.monotonic()
            if left <= 0 or self.late():
                return 0
            await asyncio.sleep(min(left, 2.0))

    async def next_save(self) -> Link | None:
        while True:
            if not self.queue.empty():
                return self.queue.get_nowait()[2]
            if self.producers_done.is_set():
                return None
            getter = asyncio.ensure_future(self.queue.get())
            done = asyncio.ensure_future(self.producers_done.wait())
            try:
                await asyncio.wait({getter, done}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                done.cancel()
            if getter.done():
                return getter.result()[2]
            getter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await getter

    async def reconcile_young_jobs(self) -> None:
        """Jobs of earlier runs the archive still remembers (under an hour): ask their status."""
        for link in self.links:
            state = self.store.states.get(link.normalized_url)
            wb = state.wayback if state else None
            age = policy.job_age(wb, self.now)
            if state is None or wb is None or age is None or age >= STATUS_TTL_SECONDS:
                continue
            job_id = str(wb["save_job"].get("id"))
            self.in_flight[job_id] = (link, time.monotonic() + self.settings.save_poll_seconds)
        if self.in_flight:
            await self.poll_round()

    async def poll_round(self) -> None:
        """Ask the status of every job in flight once; a job past its deadline is left for a later run."""
        if not self.in_flight:
            return
        for job_id in list(self.in_flight):
            link, until = self.in_flight[job_id]
            if time.monotonic() >= until or self.late():
                del self.in_flight[job_id]
                self.out.stats["saves_pending"] += 1
                continue
            status = await self.client.job_status(job_id)
            state = self.state_for(link)
            if status.status == "success" and status.timestamp:
                del self.in_flight[job_id]
                job = (state.wayback or {}).get("save_job") or {}
                new = policy.with_captures(state.wayback, link, state,
                                           [policy.Known(status.timestamp, status.http_status or 200)], self.base)
                new["save_job"] = None
                new["saved"] = {"submitted": job.get("submitted") or iso(self.now), "timestamp": status.timestamp}
                policy.learned(state, {k: v for k, v in new.items() if v is not None}, self.now)
                self.store.save(state)
                self.out.stats["saves_done"] += 1
            elif status.status == "error":
                del self.in_flight[job_id]
                policy.update(state, {"save_job": None, "saved_this_run": None,
                                      "save_error": {"code": status.status_ext or "error:unknown",
                                                     "at": iso(self.now)}})
                self.store.save(state)
                self.out.stats["saves_failed"] += 1

    async def drain(self) -> None:
        """Poll the jobs in flight until each is done or past its deadline."""
        while self.in_flight:
            try:
                await self.poll_round()
            except (ArchiveError, DeadlineReached) as exc:
                self.out.stats["saves_pending"] += len(self.in_flight)
                self.in_flight.clear()
                if not isinstance(exc, DeadlineReached):
                    self.stop_saving = self.stop_saving or str(exc)
                return


async def wayback_stage(settings: Settings, catalog: Catalog, store: StateStore, snapshot_store: SnapshotStore, *,
                        now: dt.datetime, deadline: float | None = None, env: Mapping[str, str] | None = None,
                        stream: TextIO | None = None, client: WaybackClient | None = None,
                        progress: bool = False) -> WaybackOutcome:
    """Look up, rescue, check and save the catalog's links within the archive's limits.

    ``store`` holds the link states (loaded; each link's knowledge is saved as soon as it is
    known), ``snapshot_store`` the text snapshots (rescues are written there), ``now`` the
    run's clock, ``deadline`` a :func:`time.monotonic` value after which no archive call
    starts. Saving needs ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY`` in ``env`` (the process
    environment by default); without them no Save Page Now call is made at all. ``progress``
    shows the lookups' progress and the time left on ``stream``.
    """
    stream = stream or sys.stderr
    started = time.monotonic()
    credentials = Credentials.from_env(env)
    own = client is None

    def on_pause(seconds: float, what: str) -> None:
        text = (f"the archive answered 429 Too Many Requests ({what}); every archive call pauses for "
                f"{seconds:g} s")
        print(f"archiver: wayback: {text}", file=stream, flush=True)
        run.note(text)

    if client is None:
        client = WaybackClient(settings, credentials=credentials, on_pause=on_pause, deadline=deadline)
    else:
        client.on_pause = client.on_pause or on_pause
        client.deadline = deadline
    run = _Run(settings, catalog, store, snapshot_store, client, now, deadline, stream, progress=progress)
    try:
        if own:
            await client.__aenter__()
        await run.run()
    finally:
        await run.aclose()
        if own:
            await client.aclose()
    out = run.out
    out.calls = dict(sorted(client.calls.items()))
    if not client.saving:
        out.notes.append(NOTE_PREFIX + SAVING_OFF)
    for link in catalog.links:
        out.findings.extend(policy.wayback_findings(link, store.states.get(link.normalized_url)))
    out.seconds = time.monotonic() - started
    if credentials is not None:  # defence in depth: nothing the stage says may hold a key
        out.notes = [credentials.scrub(n) for n in out.notes]
    return out


# --------------------------------------------------------------------------- archiver wayback


def record_run(store: StateStore, outcome: WaybackOutcome, *, started: dt.datetime,
               finished: dt.datetime) -> None:
    """Put this stage's notes and time into ``run.json`` (so reports written later show them); a
    state without a run record (the stage run alone) gets one."""
    record = store.read_run() or {}
    record.setdefault("started_at", iso(started))
    if not record.get("finished_at"):
        record["finished_at"] = iso(finished)
    notes = [n for n in record.get("notes", []) if not str(n).startswith(NOTE_PREFIX)]
    record["notes"] = notes + outcome.notes
    record.setdefault("stage_seconds", {})["wayback"] = round(outcome.seconds, 3)
    record["wayback"] = {"summary": outcome.summary, "lookups_left": outcome.lookups_left}
    store.write_run(record)


def run_wayback(settings: Settings, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``archiver wayback``: the stage alone on the stored state, then the reports again."""
    from ..history.store import LockError, run_lock
    from ..pipeline.night import EXIT_FAILED, EXIT_OK, stored_report
    from ..report.build import REPORT_FILES, write_reports
    from ..report.view import event_views
    from ..timeline.catalog import build_catalog
    from ..timeline.load import load_events

    out, err = out or sys.stdout, err or sys.stderr
    if not settings.events.exists():
        print(f"archiver: events folder {settings.events} does not exist (set --events or ARCHIVER_EVENTS)", file=err)
        return EXIT_FAILED
    started = time.monotonic()
    deadline = started + settings.time_budget if settings.time_budget else None
    try:
        with run_lock(settings.snapshots, err=err, also_clean=[(settings.report_dir, REPORT_FILES)]):
            loaded = load_events(settings.events, max_file_bytes=settings.max_event_bytes,
                                 processes=settings.parse_processes)
            catalog = build_catalog(loaded.events)
            store = StateStore(settings.snapshots).load()
            now = settings.clock()
            outcome = asyncrun.run(wayback_stage(settings, catalog, store, SnapshotStore.from_settings(settings),
                                                now=now, deadline=deadline, stream=err))
            record_run(store, outcome, started=now, finished=settings.clock())
            report, loaded = stored_report(settings, loaded=loaded, catalog=catalog, store=store)
            path = write_reports(report, settings.report_dir, events=event_views(loaded.events)).json
    except LockError as exc:
        print(f"archiver: {exc}", file=err)
        return EXIT_FAILED
    except OSError as exc:
        print(f"archiver: wayback failed: {exc}", file=err)
        return EXIT_FAILED
    print(f"{outcome.summary}; report: {path}", file=out)
    for note in outcome.notes:
        print(f"archiver: {note}", file=err)
    return EXIT_OK
