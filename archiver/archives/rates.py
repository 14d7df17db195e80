"""Which archive is likeliest to hold a link: per site, learned from earlier runs and this one.

The link states remember which archives were asked about a link (``archives.asked``) and which held
captures; a site's pages tend to be held by the same archives (national archives keep their country's
sites, Archive-It its partners' collections), so an archive that held a site's other pages is asked first
about the next one. A site never seen falls back on the archive's own share over all sites.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from ..history.linkstate import LinkState


class HitRates:
    """How often each archive held a link's captures: per host, and over all hosts (learned from the link
    states of earlier runs and from this run's answers), to ask the likeliest archive first."""

    #: the weight of the archive's overall rate in a host's estimate (pseudo-asks)
    PRIOR = 2.0

    def __init__(self) -> None:
        self.host: dict[tuple[str, str], list[int]] = {}
        self.all: dict[str, list[int]] = {}

    def add(self, host: str, archive: str, hit: bool) -> None:
        for counts in (self.host.setdefault((host, archive), [0, 0]), self.all.setdefault(archive, [0, 0])):
            counts[0] += hit
            counts[1] += 1

    def score(self, host: str, archive: str) -> float:
        hits, asks = self.all.get(archive, (0, 0))
        overall = (hits + 1) / (asks + 2)
        hits, asks = self.host.get((host, archive), (0, 0))
        return (hits + self.PRIOR * overall) / (asks + self.PRIOR)

    def known(self, host: str, archive: str) -> bool:
        """The archive was asked about this host's pages before."""
        return (host, archive) in self.host

    def missed(self, host: str, archive: str) -> bool:
        """The archive was asked about this host's pages and held none of them."""
        hits, asks = self.host.get((host, archive), (0, 0))
        return asks > 0 and hits == 0

    def learn(self, state: LinkState, archives: Iterable[str]) -> None:
        rec = state.archives
        if rec is None or not rec.looked_up:
            return
        held = {c.archive for c in rec.captures if c.usable or c.verified}
        host = site_host(state.url)
        for archive in archives:
            if archive in rec.unknown or not (rec.asked.get(archive) if rec.asked else rec.looked_up):
                continue
            self.add(host, archive, archive in held)


def site_host(url: str) -> str:
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")
