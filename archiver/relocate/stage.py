"""The relocate stage: for each ``dead`` or ``soft_404`` link, look for its article's current address.

Candidate sources run cheapest first (:attr:`Relocator.sources`: archived redirects, then the site's rewrite
pattern when :mod:`archiver.relocate.pattern` is present; sitemaps and feeds join the list the same way); the
first source whose candidates pass verification ends the search. A verified address is kept in the link state
(``replacement``) and rechecked on later runs: one whose page stops answering or matching is dropped, with the
sentence saying why. The night's budget (requests, seconds) and the per-host cap bound all of it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..history.linkstate import LinkState
from ..history.replacement_record import ReplacementRecord
from ..options import RelocateOptions
from ..support.timefmt import iso, parse_iso
from ..timeline.catalog import host_of
from .candidate import Candidate, Method, Pair
from .redirects import ArchivedRedirects
from .verify import Checks, Cited, Verdict, choose, verify

if TYPE_CHECKING:  # the sitemaps' modules import lxml: only a night that reads a site loads them
    from ..wayback.client import WaybackClient
    from .siteindex import SiteIndex
    from .sitemaps import Entry

#: one way of finding candidates: what the timeline cites for the dead link in, candidates out (cheapest first)
CandidateSource = Callable[[Cited], Awaitable[list[Candidate]]]
#: candidates verified per link at most (each is one check of the candidate's site)
MAX_CANDIDATES = 4
#: a link searched without success is searched again after this many days (the archive and the site change)
SEARCH_AGAIN_DAYS = 7


@dataclass(slots=True)
class Budget:
    """The night's requests and seconds for the stage, and each site's share of the candidate checks."""

    max_requests: int
    per_host: int
    deadline: float
    spent: int = 0
    hosts: Counter[str] = field(default_factory=Counter)

    def room(self, host: str | None = None) -> bool:
        if self.spent >= self.max_requests or time.monotonic() >= self.deadline:
            return False
        return host is None or self.hosts[host] < self.per_host

    def spend(self, n: int, host: str | None = None) -> None:
        self.spent += n
        if host is not None:
            self.hosts[host] += n


@dataclass(slots=True)
class RelocateOutcome:
    """What the stage did: links looked at, replacements found (by method), kept, dropped, refused."""

    looked: int = 0
    found: Counter[str] = field(default_factory=Counter)
    kept: int = 0
    dropped: int = 0
    ambiguous: int = 0
    requests: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    notes: list[str] = field(default_factory=list)
    #: per dead link (normalized URL), why no replacement was chosen
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        by = ", ".join(f"{n} by {m}" for m, n in sorted(self.found.items()))
        return (f"relocate: looked for {self.looked} dead links' new addresses: {sum(self.found.values())} found"
                f"{' (' + by + ')' if by else ''}, {self.kept} kept, {self.dropped} dropped, {self.ambiguous} "
                f"ambiguous; {self.requests} requests in {self.seconds:.1f}s"
                f"{'; stopped at the ' + self.stopped + ' budget' if self.stopped else ''}")


def pattern_learner() -> Any | None:
    """The rewrite-pattern learner (``archiver.relocate.pattern``: ``learn(pairs)``, ``apply(rules, url)``) when
    present, else None: the seam through which the site_pattern method joins the stage."""
    try:
        return importlib.import_module(f"{__package__}.pattern")
    except ModuleNotFoundError:
        return None


class Relocator:
    """One night's search for new addresses, through the night's checker and Wayback client."""

    def __init__(self, options: RelocateOptions, *, wayback: WaybackClient, checker: Checks,
                 now: dt.datetime, deadline: float | None = None) -> None:
        self.options = options
        self.checker = checker
        self.now = now
        ends = time.monotonic() + options.relocate_seconds
        self.budget = Budget(options.relocate_max_requests, options.relocate_per_host,
                             min(ends, deadline) if deadline is not None else ends)
        self.redirects = ArchivedRedirects(wayback, host_pairs=options.relocate_host_pairs)
        #: pairs of old and new addresses seen on the sites (moved links, archived redirects, replacements)
        self.pairs: list[Pair] = []
        self.learner = pattern_learner()
        self._asked_hosts: set[str] = set()
        #: method 3: the sites' sitemaps and feeds (see :meth:`add_site_index`), their entries by origin
        self.site_index: SiteIndex | None = None
        self._index_requests: Callable[[], int] = lambda: 0
        self._site_entries: dict[str, list[Entry]] = {}
        #: the candidate sources, cheapest first
        self.sources: list[CandidateSource] = [self.archived_redirects]
        if self.learner is not None:
            self.sources.append(self.site_pattern)
        self.out = RelocateOutcome()

    # ------------------------------------------------------------------ candidate sources

    async def archived_redirects(self, cited: Cited) -> list[Candidate]:
        before = self.redirects.requests
        try:
            return await self.redirects.candidates(cited.url)
        finally:
            self.budget.spend(self.redirects.requests - before)

    async def site_pattern(self, cited: Cited) -> list[Candidate]:
        old = cited.url
        host = host_of(old)
        if host not in self._asked_hosts and self.budget.room():
            self._asked_hosts.add(host)
            before = self.redirects.requests
            self.pairs.extend(await self.redirects.pairs(old))
            self.budget.spend(self.redirects.requests - before)
        assert self.learner is not None
        same = [p for p in self.pairs if host_of(p.old) == host]
        found: list[Candidate] = self.learner.apply(self.learner.learn(same), old)
        return found

    def add_site_index(self, index: SiteIndex, requests: Callable[[], int]) -> None:
        """Method 3 joins the sources, last: the site's sitemaps and feeds read through ``index`` (once per
        site and night), ``requests`` counting what the reading cost (for the budget)."""
        self.site_index, self._index_requests = index, requests
        self.sources.append(self.sitemaps_and_feeds)

    async def sitemaps_and_feeds(self, cited: Cited) -> list[Candidate]:
        parts = urlsplit(cited.url)
        origin, host = f"{parts.scheme}://{parts.netloc}", host_of(cited.url)
        if origin not in self._site_entries:
            if self.site_index is None or not self.budget.room(host):
                return []
            before = self._index_requests()
            self._site_entries[origin] = await self.site_index.entries(origin)
            self.budget.spend(self._index_requests() - before, host)
        from .sitematch import match

        found: list[Candidate] = []
        for title in cited.titles or (None,):
            found += [c for c in match(self._site_entries[origin], cited.url, title) if c not in found]
        return found

    # ------------------------------------------------------------------ one link

    async def _verify(self, candidates: Sequence[Candidate], cited: Cited) -> list[Verdict]:
        out: list[Verdict] = []
        for candidate in list(dict.fromkeys(candidates))[:MAX_CANDIDATES]:
            host = host_of(candidate.url)
            if not self.budget.room(host):
                self.out.stopped = self.out.stopped or "relocate_per_host"
                break
            verdict = await verify(candidate, cited, self.checker,
                                   min_similarity=self.options.relocate_title_similarity)
            self.budget.spend(verdict.requests, host)
            out.append(verdict)
        return out

    async def search(self, state: LinkState, cited: Cited) -> None:
        """Look for ``state``'s new address, source by source, until one gives a passing candidate."""
        self.out.looked += 1
        verdicts: list[Verdict] = []
        for source in self.sources:
            if not self.budget.room():
                break
            verdicts += await self._verify(await source(cited), cited)
            if any(v.ok for v in verdicts):
                break
        chosen, reason = choose(verdicts)
        state.relocation_search = None if chosen is not None else {"searched": iso(self.now), "reason": reason}
        if chosen is None:
            self.out.reasons[state.normalized_url] = reason
            if len({v.url for v in verdicts if v.ok}) > 1:
                self.out.ambiguous += 1
                self.out.notes.append(f"relocate: {state.url}: {reason}")
            return
        state.replacement = ReplacementRecord(chosen.url, chosen.candidate.method.value, chosen.evidence,
                                              chosen.similarity, iso(self.now))
        self.out.found[chosen.candidate.method.value] += 1
        self.pairs.append(Pair(state.url, chosen.url, "replacement"))

    async def recheck(self, state: LinkState, cited: Cited) -> None:
        """Verify a kept replacement again: it stays while its page still answers and matches."""
        record = state.replacement
        assert record is not None
        candidate = Candidate(state.url, record.url, Method(record.method), record.evidence,
                              from_redirect=record.method == Method.ARCHIVE_REDIRECT)
        host = host_of(record.url)
        if not self.budget.room(host):
            return
        verdict = await verify(candidate, cited, self.checker, min_similarity=self.options.relocate_title_similarity)
        self.budget.spend(verdict.requests, host)
        if verdict.ok:
            record.checked_at = iso(self.now)
            self.out.kept += 1
            return
        record.dropped = f"dropped on {iso(self.now)[:10]}: {verdict.reason}"
        record.evidence = f"{record.evidence.rstrip('.')}; {record.dropped}."
        self.out.dropped += 1
        self.out.notes.append(f"relocate: the replacement of {state.url} was {record.dropped}")

    # ------------------------------------------------------------------ the night

    def due(self, state: LinkState) -> bool:
        """Never searched, or searched without success more than :data:`SEARCH_AGAIN_DAYS` ago (never searched
        and the longest waiting go first)."""
        searched = parse_iso((state.relocation_search or {}).get("searched"))
        return searched is None or (self.now - searched).days >= SEARCH_AGAIN_DAYS

    async def run(self, items: Sequence[tuple[LinkState, Cited]], pairs: Sequence[Pair] = ()) -> RelocateOutcome:
        """Recheck the kept replacements, then look for new ones, within the budget."""
        t0 = time.monotonic()
        self.pairs.extend(pairs)
        kept = [(s, c) for s, c in items if s.replacement is not None and s.replacement.active]
        fresh = sorted(((s, c) for s, c in items if s.replacement is None and self.due(s)),
                       key=lambda item: (item[0].relocation_search or {}).get("searched", ""))
        for state, cited in [*kept, *fresh]:
            if not self.budget.room():
                self.out.stopped = ("relocate_seconds" if time.monotonic() >= self.budget.deadline
                                    else "relocate_max_requests")
                break
            if state.replacement is not None and state.replacement.active:
                await self.recheck(state, cited)
            else:
                await self.search(state, cited)
        self.out.requests = self.budget.spent
        self.out.seconds = time.monotonic() - t0
        return self.out
