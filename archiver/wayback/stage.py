"""The Wayback stage: lookups, rescues, declared archive URLs and saves, within the archive's limits.

:class:`WaybackNight` runs after the check stage on the stored link state, as items on the night's lanes
(:mod:`archiver.support.lanes`), beside the other archives' lanes. Its tasks share one
:class:`~archiver.wayback.client.WaybackClient` (one pacing per kind of call, one 429 pause):

* **lookups** (the ``wayback cdx`` lane) of the links whose state calls for one
  (:func:`~archiver.wayback.policy.plan_lookups`), most valuable first (:func:`~archiver.history.schedule.work_for`:
  newly failing links, blocked links without text, older failing links, then the rest), within
  ``max_lookups`` and the deadline; each link's knowledge is written as soon as it is known;
* **follow-ups** (the ``wayback replay`` lane): a declared ``archive_url`` to replay, a failing link's copy
  judged and rescued, in the same value order; then the link is handed to the other archives
  (:attr:`~archiver.wayback.run.RunBase.handoff`) for what the Wayback Machine lacks;
* **saves** (the ``save page now`` lane, only with ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY``): links needing
  a capture, in priority order, within ``max_saves``, the account's quota and free capture sessions; their
  jobs are polled on the ``spn status`` lane while submissions go on, until ``save_poll_seconds``;
  unfinished ones are kept in the link state and reconciled by a later run (by status while the archive
  remembers the job, then via CDX).

The copy to cite of a failing (dead or soft-404) link is judged by its content, not only by CDX
metadata (:meth:`~archiver.wayback.rescue.Rescues.settle`): the chosen capture's original bytes
(``id_``) are replayed and judged with the checker's content rules, emptiness and thinness; a
capture that is not the page is remembered as rejected (never replayed or offered again) and the
next choice is replayed, up to ``VERIFY_TRIES`` a link and run; one that is the page is remembered
as verified (judged once, not every night). The same replay is the rescue: its text is stored as
the link's snapshot with origin ``wayback`` when the repository holds no capture of the link (the
snapshot store's never-worse rule applies too). A copy not judged yet is offered as unverified.

The lookups and follow-ups are here; :mod:`~archiver.wayback.rescue` (judging copies, rescues,
declared URLs) and :mod:`~archiver.wayback.saves` (Save Page Now) add their tasks to the run,
whose shared state is :class:`~archiver.wayback.run.RunBase`.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from ..history.linkstate import LinkState
from ..history.schedule import work_for
from ..history.wayback_record import Known, Saved, SaveError, WaybackRecord
from ..models import FAILING_STATUSES, Link
from ..options import WaybackOptions
from ..support.lanes import LanePart, Lanes, Place, Work
from ..support.progress import NightProgress
from ..support.timefmt import iso, parse_iso
from . import policy
from .client import STATUS_TTL_SECONDS, WaybackClient
from .errors import ArchiveError, DeadlineReached, Excluded, RateLimited
from .limiter import ArchiveLimiter, Credentials
from .priority import LookupPriority
from .rescue import Rescues
from .run import CDX, MAX_CDX_FAILURES, NOTE_PREFIX, REPLAY, STATUS, StageInput, Stop, WaybackOutcome
from .saves import Saves

#: lookups in flight at once (the CDX pace spaces their starts; a second one goes out while a slow one answers)
LOOKUP_WORKERS = 2
#: replays in flight at once (judging a copy waits on its text extraction too)
REPLAY_WORKERS = 2
SAVING_OFF = "saving is off: set IA_ACCESS_KEY and IA_SECRET_KEY (CI secrets) to turn it on"


class _Run(Rescues, Saves):
    """One run of the stage: the lookups and follow-ups here, rescues and saves from the mixins."""

    # ------------------------------------------------------------------ the run's items

    def plan(self) -> None:
        """Queue the run's work on the lanes: lookups (most valuable first, within ``max_lookups``), the
        follow-ups of the links not looked up, the reconciliation of young save jobs."""
        self.lanes.add(CDX, workers=LOOKUP_WORKERS, pace=self.options.cdx_per_minute / 60)
        self.lanes.add(REPLAY, workers=REPLAY_WORKERS, pace=self.options.replay_per_minute / 60)
        self.clear_saved_flags()
        planned = policy.plan_lookups(self.links, self.store.states, self.now, self.options)
        planned_keys = {link.normalized_url for link in planned}
        budget = self.options.max_lookups
        todo = planned if budget is None else planned[:budget]
        self.cut = planned[len(todo):]  # beyond the max_lookups budget
        for i, link in enumerate(todo):
            self.lanes.put(CDX, self.lookup_work(link), link.normalized_url, partial(self.lookup_item, link),
                           Place(rank=(i,)))
        for link in self.links:
            if link.normalized_url not in planned_keys:
                self.follow_up(link)
        for link in self.cut:
            self.handoff(link)
        if self.client.saving:
            self.lanes.put(STATUS, Work.SAVE, "", self.reconcile_young_jobs)

    def lookup_work(self, link: Link) -> Work:
        state = self.store.states.get(link.normalized_url)
        if policy.lookup_priority(link, state, self.now, self.options) == LookupPriority.RECONCILE:
            return Work.SAVE  # a save job's capture to confirm
        return work_for(state)

    def finish(self) -> None:
        """What is left for the next run, and why; jobs still in flight stay in the link state."""
        queued = self.lanes.lanes[CDX].queued if CDX in self.lanes.lanes else 0
        self.out.lookups_left = len(self.cut) + len(self.lookups_stopped) + queued
        if self.out.lookups_left:
            # stopped before the budget's end: a 429, CDX failing, or the deadline
            why = (self.stop_lookups or "the time budget") if queued or self.lookups_stopped \
                else "the max_lookups budget"
            self.out.lookups_stopped = why
            self.note(f"{self.out.lookups_left} lookups are left for the next run ({why})")
        if self.in_flight:
            self.out.stats["saves_pending"] += len(self.in_flight)
            self.in_flight.clear()
        if self.stop_saving and not self.saving_ended:
            self.note(f"saving stopped for this run: {self.stop_saving}")

    def clear_saved_flags(self) -> None:
        """``saved_this_run`` belongs to the run that saved: the next run clears it."""
        for state in list(self.store.states.values()):
            if state.wayback and state.wayback.saved_this_run:
                state.wayback.saved_this_run = False
                self.store.save(state)

    # ------------------------------------------------------------------ lookups

    async def lookup_item(self, link: Link) -> None:
        if self.stop_lookups is not None:
            self.lookups_stopped.add(link.normalized_url)
            self.follow_up(link)
            return
        try:
            await self.lookup(link)
        except Stop:
            self.lookups_stopped.add(link.normalized_url)
            self.stop_cdx()
        self.follow_up(link)

    def stop_cdx(self) -> None:
        """Lookups end for this run: the queued ones are left for the next, their links followed up as they
        are (the other archives may stand in for the Wayback Machine)."""
        for item in self.lanes.drop(CDX, left=False):  # counted by what they still lack
            link = item.job.args[0]  # type: ignore[attr-defined]  # a partial(lookup_item, link)
            self.lookups_stopped.add(link.normalized_url)
            self.follow_up(link)

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
                    raise Stop() from None
            except DeadlineReached:
                self.stop_lookups = "the time budget"
                raise Stop() from None
        raise AssertionError("unreachable")

    async def lookup(self, link: Link) -> None:
        state = self.store.state_for(link, self.now)
        wb = state.wayback
        job_age = policy.job_age(wb, self.now)
        first = parse_iso(state.first_failed) if state.status in FAILING_STATUSES else None
        looked = parse_iso(wb.looked_up if wb is not None else None)
        force = first is not None and (looked is None or looked < first)
        self.out.stats["looked_up"] += 1
        try:
            if job_age is not None and job_age >= STATUS_TTL_SECONDS and wb is not None and wb.looked_up:
                await self.reconcile(link, state)
                return
            rows = await self.cdx(policy.first_query(link, state))
            if self.client.saving and policy.needs_newest(link, state, rows, self.now, self.options):
                rows = rows + await self.cdx(policy.newest_query(link))
        except Excluded:
            new = state.wayback.copy() if state.wayback is not None else WaybackRecord()
            new.excluded = True
            policy.learned(state, new, self.now, force=force)
            self.store.save(state)
            return
        except ArchiveError as exc:
            self.cdx_failures += 1
            self.out.lookup_failed.add(link.normalized_url)
            await self.fallback(link, state, exc)
            if self.cdx_failures >= MAX_CDX_FAILURES and self.stop_lookups is None:
                self.stop_lookups = "the CDX server failed"
                self.out.unreachable = True
                self.note(f"lookups stopped for this run: {self.cdx_failures} CDX lookups in a row failed ({exc})")
                self.stop_cdx()
                self.on_unreachable()
            return
        new = policy.with_captures(state.wayback, link, state, policy.from_rows(rows), self.base)
        new.source, new.excluded = None, False
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
        new = policy.with_captures(state.wayback, link, state, [Known(found.timestamp, int(found.statuscode))],
                                   self.base)
        if not (state.wayback is not None and state.wayback.looked_up):
            new.source = "availability"
        policy.learned(state, new, self.now)
        self.store.save(state)

    async def reconcile(self, link: Link, state: LinkState) -> None:
        """A save job whose status record has expired: is its capture in CDX yet?"""
        wb = WaybackRecord.ensure(state)
        job = wb.save_job
        assert job is not None  # only called for a link with a save job (policy.job_age)
        rows = await self.cdx(policy.reconcile_query(link, job.submitted or ""))
        found = policy.from_rows(rows)
        if found:
            new = policy.with_captures(wb, link, state, found, self.base)
            new.save_job = None
            new.saved = Saved(submitted=job.submitted, timestamp=max(c.timestamp for c in found))
            policy.learned(state, new, self.now)
            self.out.stats["reconciled"] += 1
        else:
            age = policy.job_age(wb, self.now) or 0.0
            if age >= self.options.save_reconcile_days * 86400:
                wb.save_job, wb.save_error = None, SaveError(code="unconfirmed", at=iso(self.now))
                self.out.stats["saves_unconfirmed"] += 1
            else:
                self.out.stats["saves_pending"] += 1
        self.store.save(state)

    # ------------------------------------------------------------------ follow-ups: declared URLs, rescues, saves

    def follow_up(self, link: Link) -> None:
        """What a link needs once its lookup is done (or none was due): a replay item (its declared archive
        URLs, the copy of a failing link judged and rescued), else its save and the other archives at once."""
        state = self.store.states.get(link.normalized_url)
        if state is None:
            return
        failing = state.status in FAILING_STATUSES and state.wayback is not None
        if failing or policy.declared_due(link, state, self.now, self.options):
            work = work_for(state) if failing else Work.DECLARED
            self.lanes.put(REPLAY, work, link.normalized_url, partial(self.follow_up_item, link))
            return
        self.offer_save(link, state)
        self.handoff(link)

    async def follow_up_item(self, link: Link) -> None:
        state = self.store.states.get(link.normalized_url)
        if state is None:
            return
        try:
            if policy.declared_due(link, state, self.now, self.options):
                await self.check_declared(link, state)
            if state.status in FAILING_STATUSES and state.wayback:
                self.out.stats["failing"] += 1
                if state.wayback.url:
                    await self.settle(link, state)
                if state.wayback is not None and state.wayback.url:
                    self.out.stats["copies"] += 1
        except (RateLimited, DeadlineReached):
            self.handoff(link)
            return
        except ArchiveError as exc:
            self.out.stats["replay_errors"] += 1
            if self.out.stats["replay_errors"] == 1:
                self.note(f"a replay failed: {exc}")
        self.offer_save(link, state)
        self.handoff(link)


class WaybackNight(LanePart[_Run]):
    """The Wayback Machine's part of a night, on the night's lanes::

        part = WaybackNight(options, StageInput(catalog, store, snapshot_store, now), lanes=lanes)
        async with part as run:
            run.plan()           # queue the lookups, follow-ups and saves
            await lanes.run()    # with the other archives' lanes, all at once
        outcome = part.outcome()

    ``given`` is what it works on (:class:`~archiver.wayback.run.StageInput`); the lanes' deadline (a
    :func:`time.monotonic` value) is the time after which no archive call starts. Saving needs
    ``IA_ACCESS_KEY`` and ``IA_SECRET_KEY`` in ``given.env`` (the process environment by default);
    without them no Save Page Now call is made at all. ``limiter`` is the night's
    :class:`ArchiveLimiter` (shared with the other archives' part, which replays the Wayback Machine's
    captures too); the client built here takes it (a fresh one when none is given). A ``client`` passed in
    keeps its own.
    """

    def __init__(self, options: WaybackOptions, given: StageInput, *, lanes: Lanes,
                 client: WaybackClient | None = None, limiter: ArchiveLimiter | None = None) -> None:
        self.stream = given.out
        self.started = time.monotonic()
        self.catalog = given.catalog
        self.credentials = Credentials.from_env(given.env)
        self.own = client is None
        if client is None:
            client = WaybackClient(options, credentials=self.credentials, limiter=limiter, deadline=lanes.deadline)
        client.on_pause = client.on_pause or self.on_pause
        client.deadline = lanes.deadline
        self.client = client
        self.run = _Run(options, given, client, lanes)

    def on_pause(self, seconds: float, what: str) -> None:
        text = (f"the archive answered 429 Too Many Requests ({what}); every archive call pauses for "
                f"{seconds:g} s")
        print(f"archiver: wayback: {text}", file=self.stream, flush=True)
        self.run.note(text)

    def outcome(self) -> WaybackOutcome:
        run, client = self.run, self.client
        run.finish()
        out = run.out
        out.calls = dict(sorted(client.calls.items()))
        if not client.saving:
            out.notes.append(NOTE_PREFIX + SAVING_OFF)
        for link in self.catalog.links:
            out.findings.extend(policy.wayback_findings(link, run.store.states.get(link.normalized_url)))
        out.seconds = time.monotonic() - self.started
        if self.credentials is not None:  # defence in depth: nothing the stage says may hold a key
            out.notes = [self.credentials.scrub(n) for n in out.notes]
        return out


async def wayback_stage(options: WaybackOptions, given: StageInput, *, deadline: float | None = None,
                        client: WaybackClient | None = None) -> WaybackOutcome:
    """Look up, rescue, check and save the catalog's links within the archive's limits: the Wayback
    Machine's lanes alone (see :class:`WaybackNight`; ``archiver run`` runs them with the other archives').
    Its calls are paced by a limiter of its own (``client``'s when one is passed)."""
    lanes = Lanes(deadline)
    part = WaybackNight(options, given, lanes=lanes, client=client, limiter=ArchiveLimiter())
    lanes.on_error = lambda lane, exc: part.run.note(f"an archive call on the {lane} lane failed: {exc!r}")
    async with part as run:
        run.plan()
        async with NightProgress(lanes, stream=part.stream, enabled=given.progress):
            await lanes.run()
    return part.outcome()
