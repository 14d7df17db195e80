"""Save Page Now within the account's limits: the links to save, submissions, job polls.

Only with ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY``: links needing a capture, in priority order, one
item each on the ``save page now`` lane, within ``max_saves``, the account's quota and free capture
sessions; jobs are polled on the ``spn status`` lane while submissions go on, until
``save_poll_seconds``; unfinished ones are kept in the link state and reconciled by a later run (by
status while the archive remembers the job, then via CDX, in :mod:`archiver.wayback.stage`). Never a
save for a definitive failure (:func:`~archiver.wayback.policy.save_priority`).
"""

from __future__ import annotations

import asyncio
import time
from functools import partial

from ..history.linkstate import LinkState
from ..history.wayback_record import Known, Saved, SaveError, SaveJob, WaybackRecord
from ..models import Link
from ..support.lanes import Place, Work
from ..support.timefmt import iso
from . import policy
from .client import STATUS_TTL_SECONDS, SaveAnswer
from .errors import ArchiveError, AuthRejected, DeadlineReached, RateLimited
from .run import MAX_CDX_FAILURES, SPN, STATUS, RunBase, Stop

#: ``status_ext`` codes after which no more saves are asked for in this run (no retry storm)
STOP_CODES = frozenset({"error:too-many-daily-captures", "error:user-session-limit", "error:too-many-requests",
                        "error:unauthorized"})
#: every capture session of the account is busy: waited for once, then a stop code
SESSION_LIMIT = "error:user-session-limit"


class Saves(RunBase):
    """The save items of a run: submissions on the ``save page now`` lane, polls on the ``spn status`` lane."""

    def offer_save(self, link: Link, state: LinkState) -> None:
        if not self.client.saving or self.stop_saving or self.saving_ended or link.normalized_url in self.enqueued:
            return
        key = policy.save_priority(link, state, self.now, self.options)
        if key is not None:
            self.enqueued.add(link.normalized_url)
            self.lanes.put(SPN, Work.SAVE, link.normalized_url, partial(self.save_item, link), Place(rank=key))

    async def save_item(self, link: Link) -> None:
        if self.stop_saving or self.saving_ended:
            return
        try:
            await self.save(link)
        except (ArchiveError, Stop) as exc:  # 429, keys refused, the deadline, the archive failing
            self.stop_saving = self.stop_saving or str(exc)
        if self.stop_saving:
            self.end_saving(f"saving stopped for this run: {self.stop_saving}")

    def end_saving(self, note: str) -> None:
        """No more submissions in this run: the queued ones are left for the next run (polls go on)."""
        if self.saving_ended:
            return
        self.saving_ended = True
        self.lanes.drop(SPN)
        self.note(note)

    async def save(self, link: Link) -> None:
        """Submit one link, one capture session at a time.

        Free sessions are only ever taken from the account's own count (``/save/status/user``),
        asked again whenever the ones known free are used: our jobs past their poll deadline, or
        another client's, may still hold sessions, and a job that ended is counted free there.
        """
        if self.save_limits_known is None:
            self.save_limits_known = await self.save_limits()
            if self.save_limits_known is None:
                return
        budget, free = self.save_limits_known
        state = self.store.states.get(link.normalized_url)
        if state is None or policy.save_priority(link, state, self.now, self.options) is None:
            return
        if budget is not None and self.out.stats["saves_requested"] >= budget:
            left = 1 + self.lanes.lanes[SPN].queued
            self.end_saving(f"the save budget ({budget}) is spent; {left} or more saves are left for the next run")
            return
        if free <= 0:
            free = await self.wait_for_session()
            if free <= 0:
                self.stop_saving = "no capture session of the account became free"
                return
        try:
            answer = await self.client.submit(link.url, if_not_archived_within=int(
                self.options.save_max_age_days * 86400))
        except RateLimited:
            self.stop_saving = "Save Page Now answered 429 Too Many Requests"
            return
        except AuthRejected as exc:
            self.stop_saving = str(exc)
            return
        except ArchiveError as exc:
            self.save_failures += 1
            self.out.stats["saves_failed"] += 1
            if self.save_failures >= MAX_CDX_FAILURES:
                self.stop_saving = f"{self.save_failures} save requests in a row failed ({exc})"
            self.save_limits_known = (budget, free)
            return
        self.save_failures = 0
        free -= 1
        if self.submitted(link, state, answer):
            free = 0
        self.save_limits_known = (budget, free)
        self.ensure_polling()

    async def save_limits(self) -> tuple[int | None, int] | None:
        """``(budget, free sessions)`` from the account's status: the save budget (``max_saves`` within the
        daily quota left) and the capture sessions free now; None (saving stopped) when the quota is used up."""
        user = await self.client.user_status()
        if user.quota_left == 0:
            self.stop_saving = (f"the account's daily captures are used up ({user.daily_captures} of "
                                f"{user.daily_captures_limit})")
            return None
        budget = self.options.max_saves
        if user.quota_left is not None:
            budget = user.quota_left if budget is None else min(budget, user.quota_left)
        return budget, user.available

    def submitted(self, link: Link, state: LinkState, answer: SaveAnswer) -> bool:
        """Record Save Page Now's answer to a submission: a job to poll, or an error code (a stop code
        sets ``stop_saving``). True when every session turned out busy: the link is queued once more
        and no session may be taken as free."""
        if answer.job_id:
            self.out.stats["saves_requested"] += 1
            wb = WaybackRecord.ensure(state)
            wb.save_job, wb.saved_this_run = SaveJob(id=answer.job_id, submitted=iso(self.now)), True
            wb.save_error = None
            self.store.save(state)
            self.in_flight[answer.job_id] = (link, time.monotonic() + self.options.save_poll_seconds)
            return False
        code = answer.status_ext or "error:unknown"
        if code == SESSION_LIMIT and link.normalized_url not in self.retried:
            # every session is busy after all (another client's jobs): wait for one, ask once more
            self.retried.add(link.normalized_url)
            self.lanes.put(SPN, Work.SAVE, link.normalized_url, partial(self.save_item, link),
                           Place(rank=(-1, "", link.normalized_url)))
            return True
        self.out.stats["saves_requested"] += 1
        WaybackRecord.ensure(state).save_error = SaveError(code=code, at=iso(self.now))
        self.store.save(state)
        self.out.stats["saves_failed"] += 1
        if code in STOP_CODES:
            self.stop_saving = f"Save Page Now answered {code}" + (f": {answer.message}" if answer.message
                                                                   else "")
        return False

    async def wait_for_session(self) -> int:
        """Ask the account until a capture session is free (our jobs are polled meanwhile on the status lane),
        for at most ``save_poll_seconds`` (a capture takes a few minutes at most); the free sessions then (0: none)."""
        until = time.monotonic() + self.options.save_poll_seconds
        while True:
            user = await self.client.user_status()
            if user.available > 0:
                return user.available
            left = until - time.monotonic()
            if left <= 0 or self.late():
                return 0
            await asyncio.sleep(min(left, 2.0))

    async def reconcile_young_jobs(self) -> None:
        """Jobs of earlier runs the archive still remembers (under an hour): poll their status."""
        for link in self.links:
            state = self.store.states.get(link.normalized_url)
            wb = state.wayback if state else None
            age = policy.job_age(wb, self.now)
            if state is None or wb is None or age is None or age >= STATUS_TTL_SECONDS:
                continue
            assert wb.save_job is not None  # it has an age
            job_id = str(wb.save_job.id)
            self.in_flight[job_id] = (link, time.monotonic() + self.options.save_poll_seconds)
        self.ensure_polling()

    def ensure_polling(self) -> None:
        """Queue a poll round on the status lane when jobs are in flight and none is queued."""
        if self.in_flight and not self.polling:
            self.polling = True
            self.lanes.put(STATUS, Work.SAVE, "", self.poll_item)

    async def poll_item(self) -> None:
        """One round of polls, then the next (the status lane's pace spaces them) while jobs are in flight."""
        self.polling = False
        try:
            await self.poll_round()
        except (ArchiveError, DeadlineReached) as exc:
            self.out.stats["saves_pending"] += len(self.in_flight)
            self.in_flight.clear()
            if not isinstance(exc, DeadlineReached):
                self.stop_saving = self.stop_saving or str(exc)
                self.end_saving(f"saving stopped for this run: {self.stop_saving}")
            return
        self.ensure_polling()

    async def poll_round(self) -> None:
        """Ask the status of every job in flight once; a job past its deadline is left for a later run."""
        for job_id in list(self.in_flight):
            entry = self.in_flight.get(job_id)
            if entry is None:
                continue
            link, until = entry
            if time.monotonic() >= until or self.late():
                del self.in_flight[job_id]
                self.out.stats["saves_pending"] += 1
                continue
            status = await self.client.job_status(job_id)
            if self.in_flight.pop(job_id, None) is None:
                continue  # settled meanwhile
            state = self.store.state_for(link, self.now)
            if status.status == "success" and status.timestamp:
                job = state.wayback.save_job if state.wayback is not None else None
                new = policy.with_captures(state.wayback, link, state,
                                           [Known(status.timestamp, status.http_status or 200)], self.base)
                new.save_job = None
                new.saved = Saved(submitted=(job.submitted if job else None) or iso(self.now),
                                  timestamp=status.timestamp)
                policy.learned(state, new, self.now)
                self.store.save(state)
                self.out.stats["saves_done"] += 1
            elif status.status == "error":
                wb = WaybackRecord.ensure(state)
                wb.save_job, wb.saved_this_run = None, False
                wb.save_error = SaveError(code=status.status_ext or "error:unknown", at=iso(self.now))
                self.store.save(state)
                self.out.stats["saves_failed"] += 1
            else:
                self.in_flight[job_id] = entry  # still pending: polled again next round
