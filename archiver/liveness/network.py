"""Is the network up? Network down is not link rot.

On a machine without internet every host fails at the connection level, and many
resolvers then answer "Name or service not known" for *every* name, which looks
exactly like a domain that no longer exists. So a connection-level failure (any DNS
failure, refused, unreachable, connect timeout) is evidence of death only when the
network as a whole works, judged from the share of distinct hosts that failed that
way:

* ``offline``: at least ``offline_fraction`` of the hosts failed (with fewer than
  ``network_min_hosts`` hosts: every one of them failed);
* ``degraded``: at least ``degraded_fraction`` failed (only judged from
  ``network_min_hosts`` hosts up);
* ``ok`` otherwise.

A host counts as failed when all its checks so far failed at the connection level.
The first ``network_sample_hosts`` hosts (in scheduling order) are judged as soon as
each has an answer, so an offline run stops within seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ..models import UNCHECKED_STATUSES, CheckResult
from ..options import CheckOptions

NetworkStatus = Literal["ok", "degraded", "offline"]


@dataclass(slots=True)
class NetworkState:
    status: NetworkStatus = "ok"
    hosts: int = 0
    failed_hosts: int = 0
    #: one clear line for people when the status is not ``ok``
    message: str | None = None


def assess(hosts: int, failed: int, options: CheckOptions) -> NetworkState:
    status: NetworkStatus = "ok"
    if hosts and failed:
        share = failed / hosts
        if hosts < options.network_min_hosts:
            status = "offline" if failed == hosts else "ok"
        elif share >= options.offline_fraction:
            status = "offline"
        elif share >= options.degraded_fraction:
            status = "degraded"
    message = None
    if status == "offline":
        message = (f"network offline: {failed} of {hosts} hosts could not be reached (DNS, refused or unreachable); "
                   "no link was reported dead, check the connection and run again")
    elif status == "degraded":
        message = (f"network degraded: {failed} of {hosts} hosts could not be reached; their failures are "
                   "reported as error, not dead")
    return NetworkState(status=status, hosts=hosts, failed_hosts=failed, message=message)


def counts_for_network(result: CheckResult) -> bool:
    """Results that say something about connectivity (not refused for safety, not invalid)."""
    return result.status not in UNCHECKED_STATUSES


class NetworkMonitor:
    def __init__(self, hosts_in_order: Iterable[str], options: CheckOptions) -> None:
        self.options = options
        ordered = list(dict.fromkeys(hosts_in_order))
        self.sample = ordered[: options.network_sample_hosts]
        self._ok: dict[str, int] = {}
        self._failed: dict[str, int] = {}
        self._seen: set[str] = set()

    def record(self, host: str, result: CheckResult) -> None:
        self._seen.add(host)
        if not counts_for_network(result):
            return
        # a host that answered with a redirect is reachable, wherever the redirect led
        book = self._failed if result.connection_failure and not result.redirects else self._ok
        book[host] = book.get(host, 0) + 1

    def _judge(self, hosts: Iterable[str]) -> NetworkState:
        seen = [h for h in hosts if h in self._ok or h in self._failed]
        failed = sum(1 for h in seen if h not in self._ok)
        return assess(len(seen), failed, self.options)

    def sample_state(self) -> NetworkState | None:
        """The state judged from the sample hosts, once each has at least one result."""
        if not self.sample or any(h not in self._seen for h in self.sample):
            return None
        return self._judge(self.sample)

    def final(self) -> NetworkState:
        return self._judge(set(self._ok) | set(self._failed))


@dataclass(slots=True)
class CheckRun:
    """The outcome of :func:`archiver.liveness.batch.check_links` (here, so a run with nothing due
    needs no HTTP stack to say so)."""

    #: final verdicts by ``normalized_url`` (links not reached have no entry: ``unchecked``)
    results: dict[str, CheckResult]
    network: NetworkState
    #: False when the run stopped early (``stopped`` says why)
    complete: bool = True
    stopped: str | None = None
    elapsed: float = 0.0
    requests: int = 0
    probes: int = 0
    hosts: int = 0


def nothing_checked() -> CheckRun:
    """The outcome of a run with no link due: nothing checked, nothing learnt about the network."""
    return CheckRun(results={}, network=NetworkState())
