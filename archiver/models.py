"""Plain typed records passed between pipeline stages.

Every stage takes and returns these dataclasses; none of them does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]

#: Link statuses of the report contract (report-v1.schema.json).
LinkStatus = Literal["alive", "dead", "soft_404", "blocked", "error", "invalid", "unchecked"]
LINK_STATUSES: tuple[str, ...] = ("alive", "dead", "soft_404", "blocked", "error", "invalid", "unchecked")
#: Statuses that are evidence of rot (and may become ``confirmed``).
FAILING_STATUSES: frozenset[str] = frozenset({"dead", "soft_404"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in the timeline, a link or a citation."""

    kind: str
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
