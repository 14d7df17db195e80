"""Checking many links at once: hosts interleaved, every request polite (one scheduler), the
network state decided from the first hosts and at the end, and a deadline. One link's verdict is
:class:`~archiver.liveness.check.Checker`'s."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..models import CheckResult, Link, LinkStatus
from ..options import CheckOptions
from ..timeline.catalog import host_of
from .check import Checker
from .network import CheckRun, NetworkMonitor, NetworkState

ResultCallback = Callable[[Link, CheckResult], None]


def interleave_by_host(links: Iterable[Link]) -> list[Link]:
    """Round-robin over hosts, so early requests spread over many hosts."""
    queues: dict[str, list[Link]] = {}
    for link in links:
        queues.setdefault(link.host or host_of(link.url), []).append(link)
    out: list[Link] = []
    lists = list(queues.values())
    depth = max((len(q) for q in lists), default=0)
    for i in range(depth):
        out.extend(q[i] for q in lists if i < len(q))
    return out


def downgrade_connection_failures(results: Iterable[CheckResult], network: NetworkState) -> int:
    """While the network is not ok, connection-level failures are not evidence of death."""
    changed = 0
    if network.status == "ok":
        return 0
    for result in results:
        if result.connection_failure and result.status is LinkStatus.DEAD:
            result.status = LinkStatus.ERROR
            note = f"not counted as dead: network {network.status}"
            result.error = f"{result.error} ({note})" if result.error else note
            result.evidence = f"inconclusive: {note}"
            changed += 1
    return changed


@dataclass(frozen=True)
class BatchRules:
    """How one batch runs, beyond the checker's options: live pages keep their body (``keep_bodies``, for the
    snapshot stage), the run stops once the first hosts show the network offline (``stop_when_offline``) or
    at ``deadline`` (a ``time.monotonic()`` value); ``ssl_context`` replaces the default trust (tests)."""

    keep_bodies: bool = True
    stop_when_offline: bool = True
    deadline: float | None = None
    ssl_context: ssl.SSLContext | None = None


async def check_links(links: Iterable[Link], options: CheckOptions, *, on_result: ResultCallback | None = None,
                      rules: BatchRules = BatchRules()) -> CheckRun:
    """Check every link politely and concurrently; decide the network state.

    ``on_result(link, result)`` is called as each verdict arrives. Those verdicts are
    provisional for results with ``connection_failure=True`` (DNS, refused,
    unreachable): their final status depends on the network state, known only at the
    end, so a history stage should hold them back until this returns. The returned
    :attr:`CheckRun.results` are final.

    The run stops early (``complete=False``) when the first ``network_sample_hosts``
    hosts show the network is offline (unless ``rules.stop_when_offline`` is False), or at
    ``rules.deadline`` (a ``time.monotonic()`` value).
    """
    deadline = rules.deadline
    started = time.monotonic()
    ordered = interleave_by_host(links)
    monitor = NetworkMonitor((link.host or host_of(link.url) for link in ordered if link.checkable), options)
    verdicts = _Verdicts(monitor, on_result, rules.stop_when_offline)
    queue: asyncio.Queue[tuple[Link, CheckResult]] = asyncio.Queue()

    async with Checker(options, ssl_context=rules.ssl_context, keep_bodies=rules.keep_bodies) as checker:
        for link in ordered:
            if link.checkable:
                checker.fetcher.scheduler.expect(link.host or host_of(link.url), 1)
        tasks = [asyncio.create_task(_check_one(checker, options, link, queue)) for link in ordered]
        try:
            for _ in range(len(tasks)):
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    async with asyncio.timeout(timeout):
                        link, result = await queue.get()
                except TimeoutError:
                    verdicts.stopped = "time_budget"
                    break
                if verdicts.take(link, result):
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        requests, probes = checker.fetcher.requests, checker.prober.probes

    network = monitor.final()
    early = verdicts.early
    if early is not None and early.status == "offline" and network.status != "offline":
        network = early
    downgrade_connection_failures(verdicts.results.values(), network)
    hosts = len({link.host or host_of(link.url) for link in ordered if link.checkable})
    return CheckRun(results=verdicts.results, network=network, complete=verdicts.stopped is None,
                    stopped=verdicts.stopped, elapsed=time.monotonic() - started, requests=requests, probes=probes,
                    hosts=hosts)


async def _check_one(checker: Checker, options: CheckOptions, link: Link,
                     queue: asyncio.Queue[tuple[Link, CheckResult]]) -> None:
    try:
        result = await checker.check(link)
    except Exception as exc:  # a bug must not end the run; the verdict says so
        result = CheckResult(url=link.url, status=LinkStatus.ERROR, checked_at=options.clock(),
                             error=f"internal error: {type(exc).__name__}: {exc}")
    queue.put_nowait((link, result))


class _Verdicts:
    """The verdicts of a run as they arrive, and whether (and why) the run stops early."""

    def __init__(self, monitor: NetworkMonitor, on_result: ResultCallback | None, stop_when_offline: bool) -> None:
        self.monitor, self.on_result, self.stop_when_offline = monitor, on_result, stop_when_offline
        self.results: dict[str, CheckResult] = {}
        self.stopped: str | None = None
        self.early: NetworkState | None = None

    def take(self, link: Link, result: CheckResult) -> bool:
        """Record one verdict; True when the first hosts' verdicts show the network is offline (stop)."""
        self.results[link.normalized_url] = result
        if link.checkable:
            self.monitor.record(link.host or host_of(link.url), result)
        if self.on_result is not None:
            self.on_result(link, result)
        if self.stop_when_offline and self.early is None:
            self.early = self.monitor.sample_state()
            if self.early is not None and self.early.status == "offline":
                self.stopped = "network_offline"
                return True
        return False

