"""Plain typed records passed between pipeline stages.

Every stage takes and returns these dataclasses; none of them does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding matters (the report contract's ``severity``)."""

    #: something is wrong and should be fixed (fails ``--fail-on error``)
    ERROR = "error"
    #: probably wrong, worth a look
    WARNING = "warning"
    #: worth knowing, nothing to fix
    INFO = "info"

    @property
    def order(self) -> int:
        """Sort rank: errors first, then warnings, then infos."""
        return SEVERITY_ORDER[self]


#: Sort rank of each severity (keyed by str, so a report's plain ``"error"`` looks it up too).
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


class LinkStatus(StrEnum):
    """The verdict on one link (the report contract's ``status``; report-v1.schema.json)."""

    #: the cited page answered (2xx after redirects) and is not a soft 404
    ALIVE = "alive"
    #: a definite failure: 404/410, NXDOMAIN, or another permanent error with evidence
    DEAD = "dead"
    #: a 2xx answer that is not the cited page (an error page, a redirect to the home page)
    SOFT_404 = "soft_404"
    #: the site refused an automated check (challenge, 401/403/429): not evidence of rot
    BLOCKED = "blocked"
    #: no verdict possible (timeouts, TLS, 5xx, protocol): neither counts nor resets
    ERROR = "error"
    #: not a checkable URL (placeholder, words, ftp...)
    INVALID = "invalid"
    #: never checked yet
    UNCHECKED = "unchecked"

    @property
    def label(self) -> str:
        """How people read the status in the reports ("soft 404", not ``soft_404``)."""
        return STATUS_LABELS[self]


#: Link statuses of the report contract, in the schema's order.
LINK_STATUSES: tuple[LinkStatus, ...] = tuple(LinkStatus)
#: Statuses that are evidence of rot (and may become ``confirmed``).
FAILING_STATUSES: frozenset[LinkStatus] = frozenset({LinkStatus.DEAD, LinkStatus.SOFT_404})
#: Statuses that say nothing either way (the site refused, or no verdict was possible).
INCONCLUSIVE_STATUSES: frozenset[LinkStatus] = frozenset({LinkStatus.BLOCKED, LinkStatus.ERROR})
#: Statuses of links that were never really checked (not a URL, or not yet).
UNCHECKED_STATUSES: frozenset[LinkStatus] = frozenset({LinkStatus.INVALID, LinkStatus.UNCHECKED})
#: Statuses in the order people care about them (the reports' display order): failures first.
STATUS_ORDER: tuple[LinkStatus, ...] = (LinkStatus.DEAD, LinkStatus.SOFT_404, LinkStatus.ERROR, LinkStatus.BLOCKED,
                                        LinkStatus.INVALID, LinkStatus.UNCHECKED, LinkStatus.ALIVE)
#: The human label of every status, in the schema's order; keyed by str so a report's plain
#: ``"soft_404"`` looks it up as well as ``LinkStatus.SOFT_404`` (:attr:`LinkStatus.label`).
STATUS_LABELS: dict[str, str] = {s: s.value.replace("_", " ") for s in LinkStatus}


class FindingKind(StrEnum):
    """What a finding is about; its default severity is :data:`FINDING_SEVERITY`."""

    # the timeline (timeline/load.py, timeline/catalog.py)
    #: the frontmatter is not valid YAML (or is nested too deeply to read)
    PARSE_ERROR = "parse_error"
    #: no ``---`` frontmatter block (an error when the file cannot be an event)
    MISSING_FRONTMATTER = "missing_frontmatter"
    #: the file is empty
    EMPTY_FILE = "empty_file"
    #: not UTF-8 (a warning for a UTF-8 byte-order mark, loaded without it)
    ENCODING = "encoding"
    #: CRLF (Windows) line endings, loaded normally
    LINE_ENDINGS = "line_endings"
    #: the file could not be read
    READ_ERROR = "read_error"
    #: the file is over ``max_event_bytes``
    FILE_TOO_LARGE = "file_too_large"
    #: ``sources`` is not a list
    INVALID_SOURCES = "invalid_sources"
    #: a source entry is not a mapping
    INVALID_SOURCE = "invalid_source"
    #: an event without sources
    NO_SOURCES = "no_sources"
    #: a source without a url (or an empty one)
    MISSING_URL = "missing_url"
    #: a tier outside 1-3
    INVALID_TIER = "invalid_tier"
    #: two events share an id
    DUPLICATE_ID = "duplicate_id"
    #: the events folder does not exist
    MISSING_EVENTS = "missing_events"
    #: the cited url cannot be checked at all
    INVALID_URL = "invalid_url"
    # link states (the nightly run)
    #: the page is dead (an error once confirmed, a warning before)
    DEAD_LINK = "dead_link"
    #: the page no longer shows the cited content (an error once confirmed, a warning before)
    SOFT_404 = "soft_404"
    #: the site blocks automated checks
    BLOCKED = "blocked"
    #: the page permanently redirects to a new address
    MOVED = "moved"
    #: a dead page's article was found at a new address, verified (the relocate stage, issue 23)
    RELOCATED = "relocated"
    #: a state file or run record is unreadable (history/store.py)
    STATE_ERROR = "state_error"
    #: the page's text changed beyond the drift threshold (snapshots)
    CONTENT_DRIFT = "content_drift"
    # archived copies (wayback/policy.py)
    #: an archived copy exists for a failing link
    WAYBACK_COPY = "wayback_copy"
    #: a failing link without a Wayback copy has a copy in another archive (archives/stage.py)
    ARCHIVE_COPY = "archive_copy"
    #: a failing link has no usable archived copy
    NO_ARCHIVED_COPY = "no_archived_copy"
    #: the cited archive_url does not replay
    ARCHIVE_UNAVAILABLE = "archive_unavailable"
    # the citation audit (audit/rules.py)
    #: the cited publisher is not the outlet of the URL's domain (or the page names another)
    PUBLISHER_MISMATCH = "publisher_mismatch"
    #: the cited tier differs from the registry's
    TIER_MISMATCH = "tier_mismatch"
    #: the URL's domain is not in the publisher registry
    UNKNOWN_PUBLISHER = "unknown_publisher"
    #: no publisher, tier, title or date
    MISSING_FIELD = "missing_field"
    #: the cited title and the page's title share too few words
    TITLE_MISMATCH = "title_mismatch"
    #: the cited date and the page's date differ by more than ``date_tolerance_days``
    DATE_MISMATCH = "date_mismatch"
    #: ``archive_url`` is a capture of another page
    ARCHIVE_MISMATCH = "archive_mismatch"
    # event health (report/health.py, issue 22)
    #: no cited source of the event can be read any more: every link is lost (dead, no stored text, every
    #: archive asked and none holds a good copy) or unknown, at least one lost
    EVIDENCE_LOST = "evidence_lost"
    #: the event became weakened in this run: some of its sources can no longer be read, at least one can
    EVIDENCE_WEAKENED = "evidence_weakened"


#: The default severity of each finding kind (the one table). Some kinds vary by case
#: (a BOM is an ``encoding`` warning, an unconfirmed dead link a warning): the severity a
#: finding carries is its own; this is what it is when nothing else is said.
FINDING_SEVERITY: dict[FindingKind, Severity] = {
    FindingKind.PARSE_ERROR: Severity.ERROR,
    FindingKind.MISSING_FRONTMATTER: Severity.WARNING,
    FindingKind.EMPTY_FILE: Severity.ERROR,
    FindingKind.ENCODING: Severity.ERROR,
    FindingKind.LINE_ENDINGS: Severity.INFO,
    FindingKind.READ_ERROR: Severity.ERROR,
    FindingKind.FILE_TOO_LARGE: Severity.ERROR,
    FindingKind.INVALID_SOURCES: Severity.ERROR,
    FindingKind.INVALID_SOURCE: Severity.ERROR,
    FindingKind.NO_SOURCES: Severity.WARNING,
    FindingKind.MISSING_URL: Severity.ERROR,
    FindingKind.INVALID_TIER: Severity.ERROR,
    FindingKind.DUPLICATE_ID: Severity.ERROR,
    FindingKind.MISSING_EVENTS: Severity.ERROR,
    FindingKind.INVALID_URL: Severity.ERROR,
    FindingKind.DEAD_LINK: Severity.ERROR,
    FindingKind.SOFT_404: Severity.ERROR,
    FindingKind.BLOCKED: Severity.INFO,
    FindingKind.MOVED: Severity.INFO,
    FindingKind.RELOCATED: Severity.WARNING,
    FindingKind.STATE_ERROR: Severity.WARNING,
    FindingKind.CONTENT_DRIFT: Severity.WARNING,
    FindingKind.WAYBACK_COPY: Severity.INFO,
    FindingKind.ARCHIVE_COPY: Severity.INFO,
    FindingKind.NO_ARCHIVED_COPY: Severity.WARNING,
    FindingKind.ARCHIVE_UNAVAILABLE: Severity.WARNING,
    FindingKind.PUBLISHER_MISMATCH: Severity.WARNING,
    FindingKind.TIER_MISMATCH: Severity.WARNING,
    FindingKind.UNKNOWN_PUBLISHER: Severity.INFO,
    FindingKind.MISSING_FIELD: Severity.WARNING,
    FindingKind.TITLE_MISMATCH: Severity.WARNING,
    FindingKind.DATE_MISMATCH: Severity.INFO,
    FindingKind.ARCHIVE_MISMATCH: Severity.ERROR,
    FindingKind.EVIDENCE_LOST: Severity.ERROR,
    FindingKind.EVIDENCE_WEAKENED: Severity.WARNING,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in the timeline, a link or a citation."""

    kind: FindingKind
    severity: Severity
    message: str
    file: str | None = None
    line: int | None = None
    event: str | None = None
    source_index: int | None = None
    url: str | None = None
    expected: Any = None
    actual: Any = None
    fix: str | None = None
    #: machine-readable details (e.g. a content_drift's similarity); emitted only when set
    data: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "event": self.event,
            "file": self.file,
            "line": self.line,
            "source_index": self.source_index,
            "url": self.url,
        }
        if self.expected is not None:
            out["expected"] = self.expected
        if self.actual is not None:
            out["actual"] = self.actual
        if self.fix is not None:
            out["fix"] = self.fix
        if self.data is not None:
            out["data"] = self.data
        return out

    def where(self) -> str:
        """``file:line`` (or just the file) for messages."""
        if self.file and self.line:
            return f"{self.file}:{self.line}"
        return self.file or ""


@dataclass(slots=True)
class Source:
    """One entry of an event's ``sources`` list, normalised."""

    index: int
    line: int | None
    url: str | None
    title: str | None = None
    publisher: str | None = None
    #: which frontmatter key held the publisher (publisher / outlet / publication)
    publisher_key: str | None = None
    date: str | None = None
    tier: int | None = None
    archive_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    id: str
    file: str  # path relative to the events folder's parent-independent root, posix style
    date: str | None
    title: str | None
    sources: list[Source]
    #: absolute path on disk, for editors
    path: str = ""


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What a snapshot of a cited page says about itself (for the citation audit).

    ``site_name`` from og:site_name (or similar metadata), ``title`` the page's
    extracted headline, ``date`` its publication date (ISO ``YYYY-MM-DD``).
    """

    url: str
    site_name: str | None = None
    title: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a link is cited: event, file, source index and line."""

    event: str
    file: str
    source_index: int
    line: int | None = None
    date: str | None = None  # the citation's own date (ISO), used to choose archive captures

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.event, "file": self.file, "source_index": self.source_index, "line": self.line}


@dataclass(slots=True)
class Link:
    """One distinct link of the catalog (deduplicated on ``normalized_url``)."""

    url: str  # exactly as first cited
    normalized_url: str
    citations: list[Citation] = field(default_factory=list)
    #: archive URLs declared by citations (``archive_url`` or a cited web.archive.org URL)
    archive_urls: list[str] = field(default_factory=list)
    #: set when the URL cannot be checked at all (status ``invalid``)
    invalid_reason: str | None = None
    #: host name (lower-case) and registrable domain, for politeness and sharding
    host: str = ""
    domain: str = ""

    @property
    def checkable(self) -> bool:
        return self.invalid_reason is None


@dataclass(frozen=True, slots=True)
class Hop:
    """One answer in a redirect chain."""

    url: str
    status: int | None


@dataclass(frozen=True, slots=True)
class RawExchange:
    """One HTTP exchange as it went over the wire, for the WARC records of a capture.

    Header pairs are kept in the order received, duplicates included; the body is not here
    (it travels decoded beside it: ``CheckResult.body``, ``Replay.body``).
    """

    url: str
    http_version: str = "HTTP/1.1"
    status: int = 200
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    request_headers: tuple[tuple[str, str], ...] = ()
    #: the server's address, when known
    peer_ip: str | None = None
    #: the redirect answers that led here, oldest first, each written as its own WARC records
    hops: tuple[RawHop, ...] = ()


@dataclass(frozen=True, slots=True)
class RawHop:
    """One redirect answer (a 3xx with its Location, or a page that forwards with a meta refresh) as received,
    with its (capped, decoded) body."""

    exchange: RawExchange
    body: bytes = b""
    truncated: bool = False


@dataclass(slots=True)
class CheckResult:
    """The verdict of one liveness check of one link."""

    url: str
    status: LinkStatus
    checked_at: datetime
    http_status: int | None = None
    final_url: str | None = None
    redirects: list[Hop] = field(default_factory=list)
    error: str | None = None
    #: one human-readable sentence: the evidence the verdict rests on
    evidence: str | None = None
    elapsed: float = 0.0
    #: a permanent redirect to another live page: the URL to cite instead
    moved_to: str | None = None
    #: True when the failure was at the connection level (DNS, refused, unreachable):
    #: used to tell "network down" from link rot.
    connection_failure: bool = False
    content_type: str | None = None
    #: the whole Content-Type header (with its charset), for text extraction
    content_type_header: str | None = None
    #: the (capped) decoded body, kept for the text-snapshot stage; never serialised
    body: bytes | None = field(default=None, repr=False)
    body_truncated: bool = False
    #: the final answer's status line and headers as received, kept with the body; never serialised
    exchange: RawExchange | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.status = LinkStatus(self.status)
