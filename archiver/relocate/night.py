"""The relocate stage's entry point for the night: which links, what the timeline cites for them, the clients.

:func:`relocate_links` takes the catalog's links, their states, the events (for the cited titles and dates) and
a reader of the stored text of a cited page; it builds the checker (the night's host politeness) and the Wayback
client (the night's limiter), and runs :class:`~archiver.relocate.stage.Relocator` within its budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from ..history.linkstate import LinkState
from ..models import Event, Link, LinkStatus, Source
from ..options import RelocateOptions
from .candidate import Pair
from .stage import RelocateOutcome, Relocator
from .verify import Cited

if TYPE_CHECKING:  # lxml (the sitemaps) and httpx load only when the stage runs
    from ..liveness.fetcher import Fetcher
    from .sitemaps import Fetch, Fetched

FAILING = (LinkStatus.DEAD, LinkStatus.SOFT_404)


def sources_by_citation(events: Iterable[Event]) -> dict[tuple[str, int], Source]:
    """Each event's sources by (file, source index): what a citation of a link points at."""
    return {(event.file, source.index): source for event in events for source in event.sources}


def cited_of(link: Link, sources: Mapping[tuple[str, int], Source], text: str | None) -> Cited | None:
    """The titles and dates the citations give the link (None when none gives a title: nothing to verify)."""
    cited = [sources.get((c.file, c.source_index)) for c in link.citations]
    titles = tuple(dict.fromkeys(s.title for s in cited if s is not None and s.title))
    dates = tuple(dict.fromkeys(d for s in cited if s is not None for d in (s.date,) if d))
    dates += tuple(c.date for c in link.citations if c.date and c.date not in dates)
    if not titles:
        return None
    return Cited(link.url, link.normalized_url, titles, dates, text)


def moved_pairs(links: Iterable[Link], states: Mapping[str, LinkState]) -> list[Pair]:
    """Pairs from cited links that still redirect to a new address, and from kept replacements."""
    out: list[Pair] = []
    for link in links:
        state = states.get(link.normalized_url)
        if state is None:
            continue
        if state.moved_to:
            out.append(Pair(link.url, state.moved_to, "moved"))
        if state.replacement is not None and state.replacement.active:
            out.append(Pair(link.url, state.replacement.url, "replacement"))
    return out


def work(links: Sequence[Link], states: Mapping[str, LinkState], events: Iterable[Event],
         stored_text: Callable[[str], str | None]) -> list[tuple[LinkState, Cited]]:
    """The failing links the stage looks at, each with what its citations say."""
    sources = sources_by_citation(events)
    out: list[tuple[LinkState, Cited]] = []
    for link in links:
        state = states.get(link.normalized_url)
        if state is None or state.status not in FAILING or not link.checkable:
            continue
        cited = cited_of(link, sources, stored_text(link.normalized_url))
        if cited is not None:
            out.append((state, cited))
    return out


async def relocate_links(options: RelocateOptions, items: Sequence[tuple[LinkState, Cited]], *,
                         pairs: Sequence[Pair] = (), now: dt.datetime | None = None,
                         deadline: float | None = None) -> RelocateOutcome:
    """Run the stage on ``items`` (from :func:`work`) with a checker and a Wayback client of its own (the
    archive lanes are done by then: its limiter paces the stage's CDX calls and replays by the Wayback rules)."""
    from ..liveness.check import Checker
    from ..wayback.client import WaybackClient
    from .siteindex import SiteIndex

    clock = now or options.wayback.fetch.clock()
    async with WaybackClient(options.wayback) as wayback, Checker(options.wayback.fetch) as checker:
        relocator = Relocator(options, wayback=wayback, checker=checker, now=clock, deadline=deadline)
        fetcher = checker.fetcher
        index = SiteIndex(options.snapshots / SITES_CACHE, fetcher_fetch(fetcher))
        relocator.add_site_index(index, lambda: fetcher.requests)
        outcome = await relocator.run(items, pairs)
        outcome.notes.extend(f"relocate: sitemaps and feeds: {line}" for line in index.problems[:5])
        return outcome


#: the sites' sitemaps and feeds, cached between runs (in the snapshots folder, beside the link state)
SITES_CACHE = "relocate-sites.json"
#: redirects followed when reading a sitemap or a feed
MAX_HOPS = 5


def fetcher_fetch(fetcher: Fetcher) -> Fetch:
    """Method 3's fetch through the checker's :class:`Fetcher`: the night's host politeness, address safety on
    every hop and body caps; redirects followed (at most :data:`MAX_HOPS`), validators sent as given."""

    from .sitemaps import Fetched

    async def fetch(url: str, headers: Mapping[str, str]) -> Fetched:
        for _ in range(MAX_HOPS + 1):
            answer = await fetcher.get(url, headers=headers, attempts=1)
            location = answer.headers.get("location")
            if answer.status not in REDIRECTS or not location:
                return Fetched(answer.status, dict(answer.headers.items()), answer.body)
            url = urljoin(url, location)
        return Fetched(310, {}, b"")  # too many redirects: read as an error status, no entries

    return fetch


REDIRECTS = frozenset({301, 302, 303, 307, 308})
