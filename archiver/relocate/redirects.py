"""Method 1, archived redirects: the Wayback Machine's 3xx captures of the cited URL, and of its site.

A capture of the cited URL with status 301/302/307/308 is replayed (``id_``: the archive answers with the
archived Location) and its target becomes a :class:`Candidate` with ``from_redirect``. One host-wide CDX query
(``matchType=host``, ``filter=statuscode:30.``, ``collapse=urlkey``, a bounded ``limit``) gives the site's other
redirected pages as :class:`Pair` s for the rewrite-pattern learner. Every call goes through the project's
Wayback client, paced by the night's limiter.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..wayback.cdx import CdxQuery
from ..wayback.errors import ArchiveError
from .candidate import Candidate, Method, Pair

if TYPE_CHECKING:
    from ..wayback.client import WaybackClient

_REPLAYED = re.compile(r"/web/\d{1,14}(?:[a-z]{2}_)?/(?P<original>.+)$")
#: archived redirect captures of the cited URL asked for (newest last)
CAPTURES = 4
REDIRECT_FILTER = ("statuscode:30[1278]",)


def original_of(location: str) -> str:
    """The original address a replayed Location names (``.../web/<ts>id_/<original>`` → ``<original>``)."""
    m = _REPLAYED.search(location)
    return m["original"] if m else location


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


class ArchivedRedirects:
    """The archive_redirect method: what the Wayback Machine's 3xx captures say a URL became."""

    method = Method.ARCHIVE_REDIRECT

    def __init__(self, client: WaybackClient, *, host_pairs: int) -> None:
        self.client = client
        self.host_pairs = host_pairs
        #: the calls made (CDX queries and replays), for the night's budget
        self.requests = 0

    async def location(self, original: str, timestamp: str) -> str | None:
        """Where the archived redirect captured at ``timestamp`` pointed, None when it is not one."""
        self.requests += 1
        replay = await self.client.replay(original, timestamp, max_hops=0)
        if replay.kind != "redirect" or not replay.location:
            return None
        target = original_of(replay.location)
        return target if target.startswith(("http://", "https://")) else None

    async def candidates(self, old: str) -> list[Candidate]:
        """The addresses the archived redirects of ``old`` name, newest capture first."""
        self.requests += 1
        try:
            rows = await self.client.cdx(CdxQuery(url=old, limit=-CAPTURES, filters=REDIRECT_FILTER))
            out: dict[str, Candidate] = {}
            for row in sorted(rows, reverse=True):
                target = await self.location(row.original, row.timestamp)
                if target and target.rstrip("/") != old.rstrip("/") and target not in out:
                    out[target] = Candidate(
                        old, target, Method.ARCHIVE_REDIRECT, from_redirect=True,
                        evidence=f"the Wayback Machine holds a {row.statuscode} of the cited URL captured "
                                 f"{row.timestamp[:8]} pointing to {target}")
        except ArchiveError:
            return []
        return list(out.values())

    async def pairs(self, url: str) -> list[Pair]:
        """Other pages of ``url``'s site that the archive saw redirect: (old, new) pairs, at most ``host_pairs``."""
        self.requests += 1
        query = CdxQuery(url=_host(url), limit=self.host_pairs, filters=REDIRECT_FILTER, match_type="host",
                         collapse="urlkey")
        out: list[Pair] = []
        try:
            for row in await self.client.cdx(query):
                target = await self.location(row.original, row.timestamp)
                if target and _host(target) == _host(row.original):
                    out.append(Pair(row.original, target, "archive_redirect"))
        except ArchiveError:
            return out
        return out
