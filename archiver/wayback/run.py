"""What one Wayback run shares among its tasks (lookups, rescues, saves): the clients, the clock,
the counts, the notes, the night's lanes. :class:`RunBase` is the state; :mod:`~archiver.wayback.stage`,
:mod:`~archiver.wayback.rescue` and :mod:`~archiver.wayback.saves` add the tasks' methods.

The tasks are items on the night's lanes (:class:`~archiver.support.lanes.Lanes`): CDX lookups on
:data:`CDX`, replays (copies judged, rescues, declared URLs) on :data:`REPLAY`, Save Page Now submissions
on :data:`SPN` and job-status polls on :data:`STATUS`.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from ..history.store import StateStore
from ..models import Finding, Link
from ..options import WaybackOptions
from ..snapshots.extract import ExtractOptions
from ..snapshots.pool import OnDemandExtractor
from ..snapshots.store import SnapshotStore
from ..support.lanes import Lanes, Work
from ..timeline.catalog import Catalog
from .client import WaybackClient

NOTE_PREFIX = "wayback: "
#: the Wayback Machine's lanes: CDX lookups, replays, Save Page Now submissions, SPN job-status polls
CDX, REPLAY, SPN, STATUS = "wayback cdx", "wayback replay", "save page now", "spn status"
#: CDX failures in a row (5xx, timeouts) after which lookups stop for the run (and save requests, for saves)
MAX_CDX_FAILURES = 3


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
    #: the archive could not be reached (CDX lookups failed in a row): the other archives stand in
    unreachable: bool = False
    #: links whose lookup failed in this run (normalized URLs): the other archives stand in for them
    lookup_failed: set[str] = field(default_factory=set)
    #: the other archives' summary line, when they ran on the same lanes
    others_summary: str | None = None
    #: per lane of the night: items done, failed, left, seconds busy (``run.archives.lanes``)
    lanes: dict[str, dict[str, float | int]] = field(default_factory=dict)
    #: what the night left for the next run, by kind (``run.archives.left``)
    left: dict[Work, int] = field(default_factory=dict)

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


@dataclass(frozen=True)
class StageInput:
    """What an archive stage of the night works on: the catalog's links, their states (``store``, loaded;
    each link's knowledge is saved as soon as it is known), the text snapshots (rescues are written there)
    and the run's clock; where it reports (``stream``, standard error by default; ``progress`` lines) and
    the environment its Save Page Now keys come from (``IA_ACCESS_KEY``, ``IA_SECRET_KEY``; the process
    environment by default). Shared by the Wayback stage and the other archives'."""

    catalog: Catalog
    store: StateStore
    snapshot_store: SnapshotStore
    now: dt.datetime
    stream: TextIO | None = None
    progress: bool = False
    env: Mapping[str, str] | None = None

    @property
    def out(self) -> TextIO:
        return self.stream or sys.stderr


class Stop(Exception):
    """Ends one task of the run early (its reason is in ``stop_lookups`` / ``stop_saving``).

    Private control flow, caught inside the stage: deliberately not an ``ArchiverError``, so no
    ``except ArchiverError`` elsewhere can swallow it."""


class RunBase:
    """The state of one run of the stage (see :func:`~archiver.wayback.stage.wayback_stage`)."""

    def __init__(self, options: WaybackOptions, given: StageInput, client: WaybackClient, lanes: Lanes) -> None:
        self.options, self.store, self.snapshots, self.client = options, given.store, given.snapshot_store, client
        self.now, self.deadline, self.stream, self.progress = given.now, lanes.deadline, given.out, given.progress
        self.links = [link for link in given.catalog.links if link.checkable]
        self.base = options.wayback_url.rstrip("/")
        self.out = WaybackOutcome(saving=client.saving)
        self.stop_lookups: str | None = None
        self.stop_saving: str | None = None
        self.cdx_failures = 0
        #: links due for a lookup beyond the ``max_lookups`` budget
        self.cut: list[Link] = []
        #: links whose lookup was dropped when lookups stopped (429, CDX failing, the deadline)
        self.lookups_stopped: set[str] = set()
        #: the save budget and free capture sessions, once the account was asked (None: not yet)
        self.save_limits_known: tuple[int | None, int] | None = None
        self.save_failures = 0
        self.retried: set[str] = set()
        #: saving ended for this run (a stop or the budget) and the queued saves were dropped
        self.saving_ended = False
        #: a poll item is queued or running on the status lane
        self.polling = False
        self.lanes = lanes
        #: links queued for a save in this run (never twice)
        self.enqueued: set[str] = set()
        #: save jobs being polled: job id -> (link, poll until, monotonic)
        self.in_flight: dict[str, tuple[Link, float]] = {}
        #: a link the Wayback Machine is done with in this run (the other archives may want it)
        self.handoff: Callable[[Link], None] = lambda link: None
        #: called once when the CDX server is declared unreachable for the run
        self.on_unreachable: Callable[[], None] = lambda: None
        self.extractor = OnDemandExtractor(ExtractOptions.from_options(options.text), options.text.extract_timeout)

    # ------------------------------------------------------------------ helpers

    def note(self, text: str) -> None:
        line = NOTE_PREFIX + text
        if line not in self.out.notes:
            self.out.notes.append(line)

    def say(self, text: str) -> None:
        print(f"archiver: wayback: {text}", file=self.stream, flush=True)

    def late(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline
