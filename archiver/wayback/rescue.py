"""Copies of failing links judged by their content, rescues as snapshots, declared archive URLs.

The copy to cite of a failing (dead or soft-404) link is judged by its content, not only by CDX
metadata (:meth:`Rescues.settle`); the same replay is the rescue (see :mod:`archiver.wayback.stage`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ..history.linkstate import LinkState
from ..history.wayback_record import Known, Rescued, WaybackRecord
from ..models import Link
from ..snapshots.extract import Extraction
from ..snapshots.store import Capture, SnapshotAction, stored_text
from ..support.timefmt import iso
from ..timeline.catalog import parse_archive_url
from . import policy
from .run import RunBase


def not_the_page(url: str, body: bytes, content_type: str | None) -> str | None:
    """Why an archived body is not the cited page (a bot challenge, a parked domain, an error page), else None:
    the checker's own content rules (:func:`~archiver.liveness.soft404.content_verdict`), applied to the capture."""
    from ..liveness.soft404 import content_verdict  # lxml and the soft-404 rules: only when a capture is judged

    verdict = content_verdict(url, body, content_type)
    if verdict is None:
        return None
    status, why = verdict
    if status == "blocked":
        return f"a bot challenge: {why}"
    if status == "dead":  # "the domain is parked (...)" already says what the capture is
        return f"not the page: {why}"
    return f"an error page: {why}"


@dataclass(slots=True)
class _Tries:
    """One failing link's rescue tries in this run: captures skipped (the archive cannot replay them now),
    whether a rescue is still needed and the stored snapshot's size (a rescue must not be thinner)."""

    skipped: set[str] = field(default_factory=set)
    need_rescue: bool = True
    stored_chars: int | None = None


class Rescues(RunBase):
    """The rescue and declared-URL tasks of a run."""

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
        wb = WaybackRecord.ensure(state)
        if verdicts != wb.declared or not wb.declared_checked:
            wb.declared_checked = iso(self.now)
        wb.declared = verdicts
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
        tries = _Tries()
        snapshot_known = False
        for _ in range(policy.VERIFY_TRIES):
            wb = state.wayback
            rescued = wb.rescued if wb is not None else None
            chosen = policy.choose([c for c in policy.known(wb) if c.timestamp not in tries.skipped], cited, failed)
            if chosen is None:
                return
            if rescued is not None and rescued.result == SnapshotAction.WRITTEN:
                tries.need_rescue = False
                if not chosen.verified and rescued.timestamp == chosen.timestamp:
                    # the rescue judged it already (the snapshot store's rules): no replay needed
                    policy.mark_verified(state, link, chosen.timestamp, self.base)
                    self.store.save(state)
                    continue
            if chosen.verified and not tries.need_rescue:
                return
            if not snapshot_known:
                snapshot_known = True
                info = await asyncio.to_thread(self.snapshots.first, key)
                if info is not None:
                    tries.need_rescue = False
                    tries.stored_chars = int(info.header.get("text_chars") or 0) or None
                if chosen.verified and not tries.need_rescue:
                    return
            if self.late():
                return
            why = await self.judge(link, state, chosen, tries)
            if why is None:
                return
            if why:
                policy.mark_rejected(state, link, chosen.timestamp, why, self.base)
                self.store.save(state)
                self.out.stats["captures_rejected"] += 1

    async def judge(self, link: Link, state: LinkState, chosen: Known, tries: _Tries) -> str | None:
        """Replay ``chosen`` and judge it: why it is not the page (``""``: not judged, try the next
        one), or None once it was verified (and rescued when ``tries.need_rescue``) or nothing more can be
        done."""
        replay = await self.client.replay(link.url, chosen.timestamp)
        self.out.stats["replays_judged"] += 1
        if replay.kind in ("error", "redirect"):
            return f"the capture is {'an error page' if replay.kind == 'error' else 'a redirect'} " \
                   f"(HTTP {replay.status})"
        if replay.kind != "ok" or replay.timestamp is None:
            tries.skipped.add(chosen.timestamp)  # missing or blocked now: nothing learned about its content
            return ""
        if replay.timestamp != chosen.timestamp:
            # the archive answers with another capture: judge that one on its own (a later try)
            state.wayback = policy.with_captures(state.wayback, link, state,
                                                 [Known(replay.timestamp, replay.status or 200)], self.base)
            return f"the archive replays the capture at {replay.timestamp} instead"
        content_type = replay.content_type_header or replay.content_type
        if not replay.body.strip():
            return "the capture is empty"
        if why := not_the_page(link.url, replay.body, content_type):
            return why
        extraction = await self.extract(replay.body, content_type, link.url, truncated=replay.truncated)
        if extraction.kind == "failed":
            tries.skipped.add(chosen.timestamp)  # not judged: it stays unverified
            return ""
        if extraction.kind == "empty" or (extraction.kind != "binary" and not extraction.text.strip()):
            return "the capture is empty"
        if why := policy.thin_capture(len(stored_text(extraction.text)), extraction.reason if extraction.thin
                                      else None, tries.stored_chars):
            return why
        policy.mark_verified(state, link, chosen.timestamp, self.base)
        self.store.save(state)
        self.out.stats["copies_verified"] += 1
        if not tries.need_rescue:
            return None
        capture = Capture(
            url=link.url, normalized_url=link.normalized_url, captured_at=policy.ts_datetime(replay.timestamp),
            extraction=extraction, status="alive", http_status=replay.status, final_url=link.url,
            content_type=replay.content_type, origin="wayback",
            wayback_url=policy.capture_url(self.base, replay.timestamp, link.url),
            cited_by=tuple(sorted({c.event for c in link.citations})), exchange=replay.exchange, body=replay.body)
        outcome = await asyncio.to_thread(self.snapshots.save, capture)
        if outcome.action is SnapshotAction.WRITTEN:
            rescued = Rescued(timestamp=replay.timestamp, result=SnapshotAction.WRITTEN.value)
            WaybackRecord.ensure(state).rescued = rescued
            self.store.save(state)
            self.out.stats["rescued"] += 1
            return None
        if outcome.action is SnapshotAction.REJECTED:
            return outcome.reason.removeprefix("not stored: ")
        return None  # a snapshot appeared meanwhile

    async def extract(self, body: bytes, content_type: str | None, url: str, *, truncated: bool) -> Extraction:
        """Extract in a worker started at the first rescue of the run."""
        return await self.extractor.extract(body, content_type, url, truncated=truncated)

    async def aclose(self) -> None:
        await self.extractor.aclose()
