"""The snapshot stage: live pages from the check go to the extractor pool, then to the store.

:meth:`SnapshotStage.offer` is called from the check's ``on_result`` callback, inside
the event loop, so it never blocks: it takes the body off the result (so the check's
results never hold bodies), and queues it. At most ``2 x workers`` bodies are being
extracted at a time; bodies waiting beyond ``max_pending_bytes`` are spilled to a
temporary file, so memory stays bounded however far the check runs ahead. Each body
is dropped once extracted; the store writes run in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType

from ..models import CheckResult, Finding, Link, LinkStatus, RawExchange
from ..options import CheckOptions, SnapshotOptions
from ..reportmodel import LinkExtras, TextCopy, merge_extras
from ..support.paths import display_path
from ..timeline.catalog import canonical_url
from .extract import Extraction, ExtractOptions
from .pool import ExtractorPool
from .store import Capture, SaveOutcome, SnapshotAction, SnapshotStore, drift_findings, info_entry, report_entry
from .warc import finish_run, open_run

MAX_PENDING_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Item:
    link: Link
    result: CheckResult
    body: bytes | None
    spilled: Path | None = None
    size: int = 0
    exchange: RawExchange | None = None

    def take(self) -> bytes:
        if self.body is not None:
            body, self.body = self.body, None
            return body
        assert self.spilled is not None
        body = self.spilled.read_bytes()
        with contextlib.suppress(OSError):
            self.spilled.unlink()
        self.spilled = None
        return body


class SnapshotStage:
    """Extract and store the text of live pages while the check runs."""

    def __init__(self, options: SnapshotOptions, *, store: SnapshotStore | None = None,
                 pool: ExtractorPool | None = None, max_pending_bytes: int = MAX_PENDING_BYTES) -> None:
        self.options = options
        self.store = store or SnapshotStore.from_settings(options)
        self.pool = pool or ExtractorPool(ExtractOptions.from_options(options), workers=options.extract_workers,
                                          timeout=options.extract_timeout)
        self.max_inflight = 2 * self.pool.workers
        self.max_pending_bytes = max_pending_bytes
        self.outcomes: dict[str, SaveOutcome] = {}
        self.errors: dict[str, str] = {}
        self.skipped = 0
        self._empty: set[str] = set()
        self.spilled = 0
        self._pending: deque[_Item] = deque()
        self._pending_bytes = 0
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._spill_dir: tempfile.TemporaryDirectory[str] | None = None
        self._first: float | None = None
        self._last: float | None = None

    async def __aenter__(self) -> SnapshotStage:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def seconds(self) -> float:
        """Wall time from the first page handed over to the last page stored (it overlaps the check)."""
        if self._first is None or self._last is None:
            return 0.0
        return self._last - self._first

    # ------------------------------------------------------------------ feeding

    def offer(self, link: Link, result: CheckResult) -> None:
        """Take the body of a checked page (every result: bodies are dropped here); queue live ones."""
        body, result.body = result.body, None
        exchange, result.exchange = result.exchange, None
        if result.status != LinkStatus.ALIVE:
            return
        if not body:
            self._empty.add(link.normalized_url)
            return
        if self._first is None:
            self._first = time.monotonic()
        item = _Item(link=link, result=result, body=body, size=len(body), exchange=exchange)
        if self._pending_bytes + item.size > self.max_pending_bytes and self._inflight >= self.max_inflight:
            self._spill(item)
        else:
            self._pending_bytes += item.size
        self._pending.append(item)
        self._idle.clear()
        self._pump()

    def _spill(self, item: _Item) -> None:
        if self._spill_dir is None:
            self._spill_dir = tempfile.TemporaryDirectory(prefix="archiver-bodies-")
        fd, name = tempfile.mkstemp(dir=self._spill_dir.name)
        with os.fdopen(fd, "wb") as fh:
            fh.write(item.body or b"")
        item.body, item.spilled = None, Path(name)
        self.spilled += 1

    def _pump(self) -> None:
        while self._pending and self._inflight < self.max_inflight:
            item = self._pending.popleft()
            if item.spilled is None:
                self._pending_bytes -= item.size
            self._inflight += 1
            task = asyncio.create_task(self._process(item))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _process(self, item: _Item) -> None:
        key = item.link.normalized_url
        try:
            result = item.result
            body = item.take()
            future = self.pool.submit(body, result.content_type_header or result.content_type,
                                      result.final_url or item.link.url, truncated=result.body_truncated)
            if self.store.warcs is None:
                del body
                body = b""
            extraction: Extraction = await asyncio.wrap_future(future)
            capture = replace(Capture.from_check(item.link, result, extraction, body=body or None),
                              exchange=item.exchange)
            del body
            self.outcomes[key] = await asyncio.to_thread(self.store.save, capture)
        except asyncio.CancelledError:
            self.skipped += 1
            raise
        except Exception as exc:  # one page must not stop the run; the report says what happened
            self.errors[key] = f"snapshot failed: {type(exc).__name__}: {exc}"
        finally:
            self._inflight -= 1
            self._last = time.monotonic()
            self._pump()
            if not self._pending and self._inflight == 0:
                self._idle.set()

    # ------------------------------------------------------------------ finishing

    @property
    def processed(self) -> set[str]:
        """Links whose live page this run has dealt with (stored, kept, rejected, failed or empty)."""
        return set(self.outcomes) | set(self.errors) | self._empty

    async def finish(self, deadline: float | None = None, grace: float | None = None) -> None:
        """Wait for the queued pages. With a ``deadline`` (a ``time.monotonic()`` value: the run's time
        budget), pages already fetched get ``grace`` more seconds (default: ``extract_timeout``) to be
        stored; the rest are skipped (and counted)."""
        if grace is None:
            grace = self.options.extract_timeout
        timeout = None if deadline is None else max(0.0, deadline + grace - time.monotonic())
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            self.skipped += len(self._pending)
            for item in self._pending:
                item.body = None
            self._pending.clear()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.pool.close, cancel_pending=True)
        if self._spill_dir is not None:
            self._spill_dir.cleanup()
            self._spill_dir = None

    # ------------------------------------------------------------------ report

    def findings(self, links: Iterable[Link]) -> list[Finding]:
        out: list[Finding] = []
        for link in links:
            outcome = self.outcomes.get(link.normalized_url)
            if outcome is not None:
                out.extend(drift_findings(link, outcome))
        return out

    def extras(self, links: Iterable[Link]) -> dict[str, LinkExtras]:
        """Per-link ``snapshot`` fields for report.json (from this run, else from the store)."""
        links = list(links)
        out: dict[str, LinkExtras] = {}
        for link in links:
            key = link.normalized_url
            outcome = self.outcomes.get(key)
            if outcome is not None:
                entry = report_entry(outcome)
                note = outcome.reason if entry is None or outcome.action is SnapshotAction.KEPT else None
                out[key] = LinkExtras(snapshot=entry, snapshot_set=True, snapshot_note=note)
            elif key in self.errors:
                out[key] = LinkExtras(snapshot=stored_entry(self.store, key), snapshot_set=True,
                                      snapshot_note=self.errors[key])
        return merge_extras(stored_extras(self.store, (link for link in links if link.normalized_url not in out)),
                            out)

    def summary(self) -> str:
        counts: dict[SnapshotAction, int] = {}
        for outcome in self.outcomes.values():
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
        A = SnapshotAction
        order = (A.WRITTEN, A.DRIFT, A.DRIFT_SEEN, A.UNCHANGED, A.KEPT, A.REJECTED)
        parts = [f"{counts[action]} {action.replace('_', ' ')}" for action in order if counts.get(action)]
        if self.errors:
            parts.append(f"{len(self.errors)} failed")
        if self.skipped:
            parts.append(f"{self.skipped} skipped at the time budget")
        return "snapshots: " + (", ".join(parts) if parts else "none")


def stored_entry(store: SnapshotStore, normalized_url: str) -> TextCopy | None:
    """The report's ``snapshot`` object of a link from its stored files (no capture this run)."""
    if not store.has_snapshot(normalized_url):
        return None
    versions = store.versions(normalized_url)
    if not versions or not versions[0].is_first:
        return None
    return info_entry(versions[0], versions[-1], display=display_path)


def stored_extras(store: SnapshotStore, links: Iterable[Link]) -> dict[str, LinkExtras]:
    """``snapshot`` fields of every link with stored snapshots (for reports written without a check)."""
    out: dict[str, LinkExtras] = {}
    for link in links:
        if link.checkable and (entry := stored_entry(store, link.normalized_url)) is not None:
            out[link.normalized_url] = LinkExtras(snapshot=entry, snapshot_set=True)
    return out


# --------------------------------------------------------------------------- one URL, now (archiver snapshot)


@dataclass(slots=True)
class OneSnapshot:
    result: CheckResult
    extraction: Extraction | None
    outcome: SaveOutcome | None


async def snapshot_url(url: str, options: SnapshotOptions, checking: CheckOptions, *, cited_by: Iterable[str] = (),
                       archive_urls: Iterable[str] = ()) -> OneSnapshot:
    """Check ``url`` through the project's own checker (``checking``: safety rules, allowed networks,
    politeness) and store its text if the page is alive and readable."""
    warcs = open_run(options, options.clock())
    store = SnapshotStore.from_settings(options, warcs=warcs)
    link = Link(url=url, normalized_url=canonical_url(url), archive_urls=list(archive_urls))
    try:
        return await _snapshot_one(link, options, checking, store, cited_by)
    finally:
        finish_run(warcs)


async def _snapshot_one(link: Link, options: SnapshotOptions, checking: CheckOptions, store: SnapshotStore,
                        cited_by: Iterable[str]) -> OneSnapshot:
    from ..liveness.check import Checker  # the HTTP stack, only when a page is fetched

    url = link.url
    async with Checker(checking, keep_bodies=True) as checker:
        result = await checker.check(url)
    body, result.body = result.body, None
    if result.status != LinkStatus.ALIVE or not body:
        return OneSnapshot(result=result, extraction=None, outcome=None)
    pool = ExtractorPool(ExtractOptions.from_options(options), workers=1, timeout=options.extract_timeout)
    try:
        extraction = await asyncio.wrap_future(
            pool.submit(body, result.content_type_header or result.content_type, result.final_url or url,
                        truncated=result.body_truncated))
    finally:
        await asyncio.to_thread(pool.close)
    capture = replace(Capture.from_check(link, result, extraction, body=body), cited_by=tuple(sorted(set(cited_by))))
    outcome = await asyncio.to_thread(store.save, capture)
    return OneSnapshot(result=result, extraction=extraction, outcome=outcome)
