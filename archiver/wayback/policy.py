"""What the Wayback stage decides, without I/O: which capture to offer, which links need a
lookup or a save and in what order, and what a link's ``state.wayback`` holds.

``state.wayback`` is a :class:`~archiver.history.wayback_record.WaybackRecord` (its keys are
described there), written only when something changed. ``captures`` keeps a few 2xx captures:
the nearest before and after the citation date, the newest two, the newest before the link first
failed, the best ``CANDIDATES`` choices in order (the copy and its fallbacks), and the last
``MAX_REJECTED`` rejected ones.

Capture choice for a dead or soft-404 link: among 2xx captures taken before the link first
failed (later ones may be the error page), the nearest before the citation date, else the
nearest after it, else the newest. Never a capture of an error page (4xx/5xx), a redirect
(3xx), a revisit record (``-``), or one whose replay was rejected.

Verifying the copy by content: CDX metadata cannot tell an archived "Page not found" served
with 200 from the article, so for a failing link the stage replays the chosen capture (``id_``)
and judges it with the checker's content rules plus thinness (:func:`thin_capture`); a rejected
capture is remembered and the next choice is replayed, up to ``VERIFY_TRIES`` a link and run.
A judged capture is remembered as ``verified`` and never replayed for that again; until then the
offered copy is unverified (no ``verified`` key; the report and the finding say so).

Saving: never a link whose failure is definitive (:func:`definitive_failure`: dead from HTTP
404/410 or NXDOMAIN, or a parked domain, confirmed or not), nor a soft 404 (the archive would
store the error page). Order (:func:`save_priority`): alive links never captured (newest events
first), then alive links whose newest capture is oldest, then the rest still eligible (blocked
links, whose pages the archive often reaches, and unconfirmed dead links without a capture whose
failure is not definitive, e.g. a refused connection).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..history.linkstate import LinkState
from ..history.schedule import night_bucket
from ..history.wayback_record import Known, WaybackRecord
from ..models import FAILING_STATUSES, Finding, FindingKind, Link, LinkStatus, Severity
from ..options import WaybackOptions
from ..support.timefmt import iso, parse_iso
from ..timeline.catalog import canonical_url, parse_archive_url
from .cdx import CdxQuery, CdxRow
from .client import STATUS_TTL_SECONDS
from .priority import LookupPriority, SavePriority

#: statuses whose pages a capture can still save (dead ones too, until confirmed)
_SAVABLE = frozenset({LinkStatus.ALIVE, LinkStatus.BLOCKED})
#: the checker's evidence for a parked domain starts with this
PARKED = "the domain is parked"
#: the checker's evidence for a domain that no longer resolves
NXDOMAIN = "(NXDOMAIN)"
#: captures whose rescue failed are remembered (and skipped) up to this many
MAX_REJECTED = 4
#: rescue tries per link and run
RESCUE_TRIES = 2
#: captures replayed and judged per failing link and run (the copy to cite, the rescue)
VERIFY_TRIES = 3
#: the best choices remembered in order (the copy and its fallbacks, should replays reject it)
CANDIDATES = 2 * VERIFY_TRIES
#: a capture whose text is under this share of the page's stored snapshot is thin (a stub, a notice)
THIN_SHARE = 0.2
_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


# --------------------------------------------------------------------------- time helpers


def wayback_ts(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def ts_datetime(ts: str) -> dt.datetime:
    ts = (ts + "00000101000000"[len(ts):])[:14] if len(ts) < 14 else ts[:14]
    return dt.datetime.strptime(ts, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def iso_ts(text: str | None) -> str | None:
    stamp = parse_iso(text)
    return wayback_ts(stamp) if stamp else None


def date_ts(text: str | None) -> str | None:
    """The end of a citation's date as a 14-digit timestamp (``2013-06-07`` -> ``20130607235959``;
    a month or a year alone: its last day)."""
    if not text:
        return None
    m = _DATE.match(str(text))
    if not m:
        return None
    year, month, day = int(m[1]), int(m[2] or 12), int(m[3] or 0)
    if not (1990 <= year <= 2100 and 1 <= month <= 12):
        return None
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    day = min(day, last) if day else last
    return f"{year:04d}{month:02d}{day:02d}235959"


def cited_ts(link: Link) -> str | None:
    """The earliest citation date of ``link`` (the page as it was first cited)."""
    stamps = [ts for c in link.citations if (ts := date_ts(c.date))]
    return min(stamps) if stamps else None


def newest_cited(link: Link) -> str:
    stamps = [ts for c in link.citations if (ts := date_ts(c.date))]
    return max(stamps) if stamps else ""


def failed_ts(state: LinkState | None) -> str | None:
    """When a failing link stopped working (captures from then on may be the error page)."""
    if state is None or state.status not in FAILING_STATUSES:
        return None
    return iso_ts(state.first_failed) or iso_ts(state.last_checked)


def capture_url(base: str, timestamp: str, url: str) -> str:
    return f"{base.rstrip('/')}/web/{timestamp}/{url}"


# --------------------------------------------------------------------------- stored captures


def known(wb: WaybackRecord | None) -> list[Known]:
    """The remembered captures of ``wb``, sorted."""
    return sorted(set(wb.captures)) if wb is not None else []


def from_rows(rows: Iterable[CdxRow]) -> list[Known]:
    """CDX rows as known captures: 2xx only (error pages, redirects and revisits are dropped)."""
    return [Known(r.timestamp, int(r.statuscode)) for r in rows if r.ok and len(r.timestamp) == 14]


def choose(captures: Iterable[Known], cited: str | None, failed: str | None) -> Known | None:
    """The capture to offer: usable, taken before the link failed; nearest before the citation date,
    else nearest after it, else the newest."""
    ok = sorted(c for c in captures if c.usable and (failed is None or c.timestamp < failed))
    if not ok:
        return None
    if cited:
        before = [c for c in ok if c.timestamp <= cited]
        if before:
            return before[-1]
        return ok[0]  # the nearest after the citation date
    return ok[-1]


def rescue_candidates(captures: Iterable[Known], cited: str | None, failed: str | None,
                      limit: int = RESCUE_TRIES) -> list[Known]:
    """Captures to try for a rescue, best first (the chosen one, then the next best)."""
    pool = [c for c in captures if c.usable and (failed is None or c.timestamp < failed)]
    out: list[Known] = []
    while pool and len(out) < limit:
        best = choose(pool, cited, failed)
        if best is None:
            break
        out.append(best)
        pool.remove(best)
    return out


def keep(captures: Iterable[Known], cited: str | None, failed: str | None) -> list[Known]:
    """The few captures worth remembering (bounded; see the module docstring)."""
    every = sorted(set(captures))
    ok = [c for c in every if c.usable]
    picked: set[Known] = set(ok[-2:])
    if cited:
        before = [c for c in ok if c.timestamp <= cited]
        after = [c for c in ok if c.timestamp > cited]
        picked.update(before[-1:] + after[:1])
    if failed:
        picked.update([c for c in ok if c.timestamp < failed][-1:])
    # the next choices too, so a rejected copy falls back to the next one without another lookup
    picked.update(rescue_candidates(ok, cited, failed, limit=CANDIDATES))
    rejected = [c for c in every if c.rejected][-MAX_REJECTED:]
    return sorted(picked | set(rejected))


def newest_ok(wb: WaybackRecord | None) -> str | None:
    ok = [c.timestamp for c in known(wb) if c.usable]
    return max(ok) if ok else None


# --------------------------------------------------------------------------- the stored record


def with_captures(wb: WaybackRecord | None, link: Link, state: LinkState, captures: Iterable[Known],
                  base: str) -> WaybackRecord:
    """A copy of ``wb`` with ``captures`` merged in and the offered capture chosen again (``looked_up`` untouched)."""
    new = wb.copy() if wb is not None else WaybackRecord()
    cited, failed = cited_ts(link), failed_ts(state)
    merged: dict[str, Known] = {c.timestamp: c for c in known(wb)}
    for c in captures:  # a capture already judged keeps its judgement (CDX rows carry none)
        old = merged.get(c.timestamp)
        merged[c.timestamp] = old if old is not None and old.judged and not c.judged else c
    kept = keep(merged.values(), cited, failed)
    new.captures = kept
    chosen = choose(kept, cited, failed)
    new.timestamp = chosen.timestamp if chosen else None
    new.url = capture_url(base, chosen.timestamp, link.url) if chosen else None
    new.verified = chosen is not None and chosen.verified
    return new


def learned(state: LinkState, new: WaybackRecord, now: dt.datetime, *, force: bool = False) -> bool:
    """Store ``new`` as the link's knowledge; ``looked_up`` moves only when something changed
    (or ``force``: a lookup made because the link started failing). True when it changed."""
    old = (state.wayback or WaybackRecord()).to_dict()
    candidate = new.copy()
    candidate.looked_up = old.get("looked_up")
    if candidate.to_dict() == old and not force and old.get("looked_up"):
        return False
    candidate.looked_up = iso(now)
    state.wayback = candidate
    return True


def mark_rejected(state: LinkState, link: Link, timestamp: str, reason: str, base: str) -> None:
    """Remember that the capture at ``timestamp`` is not the page (so it is never offered or replayed again)."""
    _judge(state, link, Known(timestamp, 200, reason[:120]), base)


def mark_verified(state: LinkState, link: Link, timestamp: str, base: str) -> None:
    """Remember that the replay of the capture at ``timestamp`` was judged to be the page."""
    _judge(state, link, Known(timestamp, 200, None, True), base)


def _judge(state: LinkState, link: Link, judged: Known, base: str) -> None:
    wb = state.wayback.copy() if state.wayback is not None else WaybackRecord()
    entries = known(wb)
    status = next((k.status for k in entries if k.timestamp == judged.timestamp), judged.status)
    entries = [k for k in entries if k.timestamp != judged.timestamp]
    entries.append(Known(judged.timestamp, status, judged.rejected, judged.verified))
    wb.captures = []
    state.wayback = with_captures(wb, link, state, entries, base)


def thin_capture(text_chars: int, thin_reason: str | None, stored_chars: int | None) -> str | None:
    """Why a capture's extracted text is too thin to be the cited page, else None: thin by the
    extractor's own rule (``thin_chars``), or under ``THIN_SHARE`` of the text of the page's
    stored snapshot (an article that became a stub, a removal notice, a teaser)."""
    if thin_reason:
        return f"thin text: {thin_reason}"
    if stored_chars and text_chars < stored_chars * THIN_SHARE:
        return (f"thin text: {text_chars:,} characters, under {THIN_SHARE:.0%} of the {stored_chars:,} "
                "of the page's stored snapshot")
    return None


# --------------------------------------------------------------------------- what is due


def cycle_due(url: str, last: str | None, now: dt.datetime, days: float) -> bool:
    """Once per ``days``, on the link's own night of the cycle, when ``last`` is at least that old.

    ``last`` moves only when something was learned, so a recheck that learns nothing writes
    nothing; the night of the cycle keeps such a link from being asked again the next night.
    """
    stamp = parse_iso(last)
    if stamp is None:
        return True
    if (now - stamp).total_seconds() < days * 86400 - 4 * 3600:
        return False
    cycle = max(1, round(days))
    return now.date().toordinal() % cycle == night_bucket(url, cycle)


def recheck_due(state: LinkState, now: dt.datetime, days: float) -> bool:
    return cycle_due(state.normalized_url, state.wayback.looked_up if state.wayback else None, now, days)


def job_age(wb: WaybackRecord | None, now: dt.datetime) -> float | None:
    job = wb.save_job if wb is not None else None
    submitted = parse_iso(job.submitted) if job is not None else None
    return (now - submitted).total_seconds() if submitted else None


def lookup_priority(link: Link, state: LinkState | None, now: dt.datetime,
                    options: WaybackOptions) -> LookupPriority | None:
    """The link's lookup priority when its state calls for a CDX lookup now, else None."""
    if not link.checkable:
        return None
    wb = state.wayback if state else None
    failing = state is not None and state.status in FAILING_STATUSES
    if wb is None or not wb.looked_up:
        if failing:
            return LookupPriority.FAILING if state and state.confirmed else LookupPriority.FAILING_UNCONFIRMED
        return LookupPriority.NEW
    assert state is not None
    age = job_age(wb, now)
    if age is not None and age >= STATUS_TTL_SECONDS:
        return LookupPriority.RECONCILE
    looked = parse_iso(wb.looked_up)
    first = parse_iso(state.first_failed) if failing else None
    if failing and first is not None and looked is not None and looked < first:
        return LookupPriority.FAILING if state.confirmed else LookupPriority.FAILING_UNCONFIRMED
    if wb.source == "availability":  # partial knowledge: ask CDX again
        return LookupPriority.RECHECK
    days = options.wayback_recheck_days
    if not wb.excluded and newest_ok(wb) is None:
        days /= 4
    return LookupPriority.RECHECK if recheck_due(state, now, days) else None


def plan_lookups(links: Iterable[Link], states: Mapping[str, LinkState], now: dt.datetime,
                 options: WaybackOptions) -> list[Link]:
    """Links due for a lookup, most urgent first (newest events first within a priority)."""
    due: list[tuple[int, str, str, Link]] = []
    for link in links:
        state = states.get(link.normalized_url)
        priority = lookup_priority(link, state, now, options)
        if priority is not None:
            due.append((priority, _desc(newest_cited(link)), link.normalized_url, link))
    due.sort(key=lambda t: t[:3])
    return [t[3] for t in due]


def _desc(ts: str) -> str:
    """A sort key that puts newer timestamps first."""
    return "".join(chr(ord("9") - ord(ch) + ord("0")) for ch in ts.ljust(14, "0"))


def first_query(link: Link, state: LinkState | None) -> CdxQuery:
    """One CDX query per lookup: the 2xx captures nearest the citation date (both sides), or,
    without a date, the newest ones (before the failure for a failing link)."""
    cited = cited_ts(link)
    if cited:
        return CdxQuery(url=link.url, closest=cited, limit=6)
    return CdxQuery(url=link.url, limit=-3, to=failed_ts(state))


def newest_query(link: Link) -> CdxQuery:
    return CdxQuery(url=link.url, limit=-2)


def reconcile_query(link: Link, submitted: str) -> CdxQuery:
    """2xx captures since a save job was submitted (an hour of clock difference allowed)."""
    since = parse_iso(submitted)
    start = wayback_ts(since - dt.timedelta(hours=1)) if since else None
    return CdxQuery(url=link.url, from_=start, limit=3)


# --------------------------------------------------------------------------- saving


def definitive_failure(state: LinkState | None) -> str | None:
    """Why the latest verdict makes a save pointless whether or not the death is confirmed
    (the archive would answer "not found" or store the parking page), else None."""
    if state is None:
        return None
    evidence = state.evidence or ""
    if evidence.startswith(PARKED):
        return "the domain is parked"
    if state.status != LinkStatus.DEAD:
        return None
    if state.http_status in (404, 410):
        return f"dead from HTTP {state.http_status}"
    if NXDOMAIN in evidence:
        return "the domain no longer resolves"
    return None


def save_eligible(state: LinkState | None) -> bool:
    """Live pages; blocked ones (the archive often gets through bot walls); dead ones not yet
    confirmed whose failure is not definitive (a refused connection: the archive may still reach
    them). Never a soft 404 (a save would archive the error page) nor a definitive failure."""
    if state is None or definitive_failure(state):
        return False
    return state.status in _SAVABLE or (state.status == LinkStatus.DEAD and not state.confirmed)


def save_priority(link: Link, state: LinkState | None, now: dt.datetime,
                  options: WaybackOptions) -> tuple[SavePriority, str, str] | None:
    """Sort key when ``link`` needs a Save Page Now capture, else None (see the module docstring)."""
    if state is None or not link.checkable or not save_eligible(state):
        return None
    wb = state.wayback
    if not wb or not wb.looked_up or wb.source == "availability" or wb.excluded:
        return None  # what the archive holds is not known: look it up first
    if wb.save_job:
        return None  # a save is already on its way: never asked twice
    error = wb.save_error
    if error is not None and (at := parse_iso(error.at)) is not None and \
            (now - at).total_seconds() < options.wayback_recheck_days * 86400:
        return None
    saved = wb.saved
    if saved is not None and (at := parse_iso(saved.submitted)) is not None and \
            (now - at).total_seconds() < options.save_max_age_days * 86400:
        return None
    newest = newest_ok(wb)
    if newest is not None and (now - ts_datetime(newest)).total_seconds() < options.save_max_age_days * 86400:
        return None
    if state.status == LinkStatus.DEAD:
        if newest is not None:
            return None  # a dead page with an older capture: nothing better to save
        return SavePriority.REST, "", _desc(newest_cited(link)) + link.normalized_url
    if state.status != LinkStatus.ALIVE:  # blocked: after the live ones, the oldest copy first
        return SavePriority.REST, newest or "", _desc(newest_cited(link)) + link.normalized_url
    if newest is None:
        return SavePriority.NEVER, _desc(newest_cited(link)), link.normalized_url
    return SavePriority.STALE, newest, _desc(newest_cited(link)) + link.normalized_url


def needs_newest(link: Link, state: LinkState | None, rows: Iterable[CdxRow], now: dt.datetime,
                 options: WaybackOptions) -> bool:
    """Whether a second query (the newest captures) is needed after a closest-to-citation lookup:
    only to decide a save (the caller asks only when it can save), when the first answer shows no
    capture recent enough."""
    if not cited_ts(link) or not save_eligible(state):
        return False
    ok = [r.timestamp for r in rows if r.ok]
    if not ok:
        return False  # nothing near the citation date means nothing at all
    return (now - ts_datetime(max(ok))).total_seconds() >= options.save_max_age_days * 86400


# --------------------------------------------------------------------------- declared archive URLs


def declared_static(link: Link, archive_url: str) -> str | None:
    """The verdict on a declared archive URL that needs no network (None: replay it)."""
    ref = parse_archive_url(archive_url)
    if ref is None:
        return "not_wayback"
    if ref.timestamp is None:
        return "calendar"
    if canonical_url(ref.original) != link.normalized_url:
        return "mismatch"
    return None


def declared_due(link: Link, state: LinkState | None, now: dt.datetime, options: WaybackOptions) -> bool:
    if not link.archive_urls or state is None:
        return False
    wb = state.wayback
    stored = wb.declared if wb is not None else {}
    if set(stored) != set(link.archive_urls):
        return True
    return cycle_due("declared " + link.normalized_url, wb.declared_checked if wb is not None else None, now,
                     options.wayback_recheck_days)


# --------------------------------------------------------------------------- findings


def wayback_findings(link: Link, state: LinkState | None) -> list[Finding]:
    """What the stored Wayback knowledge tells maintainers, one finding per citation:

    * ``wayback_copy`` (info): a dead or soft-404 link has an archived copy to cite (the message
      says so when its replay has not been judged yet);
    * ``no_archived_copy`` (warning): a dead or soft-404 link has none taken before it failed;
    * ``archive_unavailable`` (warning): a declared Wayback ``archive_url`` does not replay the page
      (once per link and URL, at the link's first citation).
    """
    if state is None or not link.checkable or not state.wayback:
        return []
    wb = state.wayback
    out: list[Finding] = []
    declared = dict(sorted(wb.declared.items()))
    for c in link.citations:
        where: dict[str, Any] = {"file": c.file, "line": c.line, "event": c.event, "source_index": c.source_index,
                                 "url": link.url}
        prefix = f"source {c.source_index}: {link.url}"
        if state.status in FAILING_STATUSES and wb.looked_up:
            replays = [u for u, v in declared.items() if v == "replays"]
            if wb.url and not replays:
                when = str(wb.timestamp or "")
                unverified = "" if wb.verified else " (not yet replayed and checked: it may be an error page)"
                out.append(Finding(
                    kind=FindingKind.WAYBACK_COPY, severity=Severity.INFO,
                    message=f"{prefix} is {state.status}; the Wayback Machine has a copy from "
                            f"{when[:4]}-{when[4:6]}-{when[6:8]}: {wb.url}{unverified}",
                    expected=wb.url, fix=f"archive_url: {wb.url}", **where))
            elif not wb.url and not replays:
                out.append(Finding(
                    kind=FindingKind.NO_ARCHIVED_COPY, severity=Severity.WARNING,
                    message=f"{prefix} is {state.status} and the Wayback Machine holds no good capture of it "
                            "taken before it failed" + (" (the site is excluded from the archive)"
                                                         if wb.excluded else ""),
                    fix="look for the page elsewhere (the publisher's new address, another archive)", **where))
        for archive_url, verdict in declared.items() if c is link.citations[0] else ():
            # the catalog does not say which citation declared it: once per link, at its first citation
            if verdict in ("missing", "error"):
                why = ("was never archived" if verdict == "missing"
                       else "is a capture of an error page or a redirect, not of the cited page")
                fix = f"archive_url: {wb.url}" if wb.url else "remove archive_url or find another copy"
                out.append(Finding(
                    kind=FindingKind.ARCHIVE_UNAVAILABLE, severity=Severity.WARNING,
                    message=f"{prefix}: the declared archive_url {archive_url} {why}",
                    expected="a Wayback capture that replays the page", actual=archive_url, fix=fix, **where))
    return out
