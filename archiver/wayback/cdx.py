"""CDX lookups: the query, the rows (:class:`CdxRow`) and the two backends (httpx, waybackpy)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .errors import ArchiveError, Excluded, status_error

if TYPE_CHECKING:  # the HTTP stack is imported with the first lookup: a night with none never imports it
    from ..liveness.fetcher import Fetcher

#: the CDX fields asked for, in this order (the JSON header row follows ``fl``)
FIELDS = ("timestamp", "original", "statuscode", "mimetype", "digest", "length")
#: a full 14-digit Wayback timestamp
TIMESTAMP = re.compile(r"^\d{14}$")


@dataclass(frozen=True, slots=True, order=True)
class CdxRow:
    """One CDX row (the fields the public CDX server serves)."""

    timestamp: str
    original: str
    statuscode: str
    mimetype: str = ""
    digest: str = ""
    length: str = ""

    @property
    def ok(self) -> bool:
        """A 2xx capture that is not a revisit record (revisits have statuscode ``-``)."""
        return self.statuscode.isdigit() and self.statuscode.startswith("2") and self.mimetype != "warc/revisit"


@dataclass(frozen=True, slots=True)
class CdxQuery:
    """One exact-URL CDX query; ``closest`` sorts by distance to a timestamp (``sort=closest``)."""

    url: str
    limit: int = 6
    closest: str | None = None
    from_: str | None = None
    to: str | None = None
    filters: tuple[str, ...] = ("statuscode:2..", "!mimetype:warc/revisit")
    #: ``host`` or ``prefix`` for a site-wide query (the relocate stage's redirected siblings); None: exact
    match_type: str | None = None
    #: ``urlkey``: one row per distinct URL
    collapse: str | None = None

    def params(self) -> list[tuple[str, str]]:
        out = [("url", self.url), ("output", "json"), ("fl", ",".join(FIELDS))]
        if self.match_type:
            out.append(("matchType", self.match_type))
        if self.collapse:
            out.append(("collapse", self.collapse))
        out += [("filter", f) for f in self.filters]
        if self.from_:
            out.append(("from", self.from_))
        if self.to:
            out.append(("to", self.to))
        if self.closest:
            out += [("sort", "closest"), ("closest", self.closest)]
        out.append(("limit", str(self.limit)))
        return out


def parse_cdx_json(text: str) -> list[CdxRow]:
    """Rows of a ``output=json`` answer: the header row names the fields (it follows ``fl``);
    a resume key tail (``[]`` then ``["<key>"]``) ends the rows; an empty answer is ``[]`` or nothing."""
    text = text.strip()
    if not text:
        return []
    try:
        rows = json.loads(text)
    except ValueError as exc:
        raise ArchiveError(f"the CDX server sent a body that is not JSON ({exc})", transient=True) from None
    if not isinstance(rows, list) or len(rows) < 2:
        return []
    header = rows[0]
    if not isinstance(header, list):
        raise ArchiveError("the CDX answer has no header row", transient=False)
    index = {name: i for i, name in enumerate(header)}
    if "timestamp" not in index:
        raise ArchiveError("the CDX answer has no timestamp column", transient=False)
    out: list[CdxRow] = []
    for row in rows[1:]:
        if not isinstance(row, list) or len(row) != len(header):
            break  # the resume-key tail: [] then ["<key>"]
        values = {name: str(row[i]) for name, i in index.items()}
        if not TIMESTAMP.match(values.get("timestamp", "")):
            continue
        out.append(CdxRow(timestamp=values["timestamp"], original=values.get("original", ""),
                           statuscode=values.get("statuscode", ""), mimetype=values.get("mimetype", ""),
                           digest=values.get("digest", ""), length=values.get("length", "")))
    return out


class HttpxCdx:
    """CDX lookups with httpx through the guarded client (JSON output, every field named)."""

    name = "httpx"

    def __init__(self, fetcher: Fetcher, base_url: str) -> None:
        self.fetcher = fetcher
        self.endpoint = base_url.rstrip("/") + "/cdx/search/cdx"

    async def search(self, query: CdxQuery, on_sent: Callable[[], None] | None = None) -> list[CdxRow]:
        from ..liveness.errors import FetchFailure
        from ..liveness.transport import SendExtras, fetch_once

        url = f"{self.endpoint}?{urlencode(query.params())}"
        try:
            answer = await fetch_once(self.fetcher.client, url, max_body=self.fetcher.options.max_body_bytes,
                                      total_timeout=self.fetcher.options.total_timeout,
                                      extras=SendExtras(on_sent=on_sent))
        except FetchFailure as exc:
            raise ArchiveError(f"CDX lookup failed: {exc.message}", transient=exc.transient) from None
        if answer.status != 200:
            raise status_error(answer, "CDX lookup")
        return parse_cdx_json(answer.body.decode("utf-8", "replace"))

    async def aclose(self) -> None:
        return None


class WaybackpyCdx:
    """CDX lookups through waybackpy's ``WaybackMachineCDXServerAPI`` (text output, 7 fields).

    waybackpy is synchronous (requests), so each query runs in a bounded thread pool;
    its hard-coded ``endpoint`` is overridden per instance with ``base_url``. Known gaps
    (why it is not the default): a 429 answer is parsed as CDX text (no rows, or a
    confusing "properties" error), ``requests`` is called without a timeout, and https
    5xx answers are retried 5 times inside the library, unseen by the limiter.
    """

    name = "waybackpy"

    def __init__(self, base_url: str, user_agent: str, *, workers: int = 2) -> None:
        self.endpoint = base_url.rstrip("/") + "/cdx/search/cdx"
        self.user_agent = user_agent
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="waybackpy")

    async def search(self, query: CdxQuery, on_sent: Callable[[], None] | None = None) -> list[CdxRow]:
        loop = asyncio.get_running_loop()
        if on_sent is not None:  # requests gives no hook: count the call as out when it is handed over
            on_sent()
        return await loop.run_in_executor(self._pool, self._search, query)

    def _search(self, query: CdxQuery) -> list[CdxRow]:
        from waybackpy import WaybackMachineCDXServerAPI
        from waybackpy.exceptions import BlockedSiteError, WaybackError

        api = WaybackMachineCDXServerAPI(
            query.url, user_agent=self.user_agent, start_timestamp=query.from_, end_timestamp=query.to,
            filters=list(query.filters), sort="closest" if query.closest else None, closest=query.closest,
            limit=str(query.limit))
        api.endpoint = self.endpoint
        try:
            return [CdxRow(timestamp=s.timestamp, original=s.original, statuscode=s.statuscode,
                            mimetype=s.mimetype, digest=s.digest, length=s.length) for s in api.snapshots()]
        except BlockedSiteError:
            raise Excluded("CDX lookup: the site is excluded from the Wayback Machine", transient=False) from None
        except WaybackError as exc:
            raise ArchiveError(f"CDX lookup (waybackpy) failed: {str(exc).splitlines()[0]}") from None
        except OSError as exc:  # requests' ConnectionError and friends
            raise ArchiveError(f"CDX lookup (waybackpy) failed: {type(exc).__name__}") from None

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
