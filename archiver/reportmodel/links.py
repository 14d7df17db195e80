"""report.json's ``links[]``: one entry per cited URL, its text copy, its archived copies; and the extras
the stages add to an entry (:class:`LinkExtras`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..models import Citation, Hop, LinkStatus
from .states import EvidenceState

#: where a text copy came from, in the contract (``archive``: another archive, named in ``archive``)
TextOrigin = Literal["live", "wayback", "archive"]
TEXT_ORIGINS: tuple[str, ...] = ("live", "wayback", "archive")

def opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- links


def split_origin(origin: str | None) -> tuple[str | None, str | None]:
    """A stored text's origin as the contract's (origin, archive): ``archive.today`` is (archive, archive.today)."""
    if origin in (None, *TEXT_ORIGINS):
        return origin, None
    return "archive", origin


@dataclass(frozen=True, slots=True)
class SnapshotVersion:
    """The newest stored version of a page's text (``snapshot.latest``)."""

    path: str
    sha256: str | None
    captured_at: str | None

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "captured_at": self.captured_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SnapshotVersion:
        return cls(str(data.get("path") or ""), data.get("sha256"), data.get("captured_at"))


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """``snapshot.warc``: where the text's raw record lives (the evidence store, issue 21): the WARC file, the
    record id, its byte range, and the store and key (``pending`` while the file waits to be pushed)."""

    file: str
    record_id: str | None = None
    offset: int | None = None
    length: int | None = None
    store: str | None = None
    key: str | None = None
    pending: bool = False

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"file": self.file}
        for name, value in (("record_id", self.record_id), ("offset", self.offset), ("length", self.length)):
            if value is not None:
                out[name] = value
        if self.key is not None:  # where the file is: added by the evidence store's add_locations
            out["store"], out["key"] = self.store, self.key
        if self.pending:
            out["pending"] = True
        return out

    @classmethod
    def from_header(cls, header: Mapping[str, Any]) -> WarcLocation | None:
        """Where a snapshot's raw record is, from the ``warc_*`` fields of its header (None when it names none);
        the store and key are the evidence store's to add (:func:`archiver.store.locations.add_locations`)."""
        if not header.get("warc_file"):
            return None
        return cls(str(header["warc_file"]), opt_str(header.get("warc_record_id")),
                   opt_int(header.get("warc_offset")), opt_int(header.get("warc_length")))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WarcLocation:
        return cls(str(data.get("file") or ""), opt_str(data.get("record_id")), opt_int(data.get("offset")),
                   opt_int(data.get("length")), opt_str(data.get("store")), opt_str(data.get("key")),
                   bool(data.get("pending")))


@dataclass(frozen=True, slots=True)
class TextCopy:
    """``links[].snapshot``: the extracted-text copy kept in the repository."""

    #: relative to the project root
    path: str
    sha256: str | None
    captured_at: str | None
    #: live, wayback or archive (another archive, named in :attr:`archive`); None when unknown
    origin: str | None
    #: the other archive the text came from (origin ``archive``)
    archive: str | None = None
    #: what the snapshot stage did this run (``written``, ``unchanged``, ``drift``, ``kept``...); None when the
    #: entry comes from the stored files
    action: str | None = None
    latest: SnapshotVersion | None = None
    #: a drift's similarity to the first capture, and the words changed
    similarity: float | None = None
    changed_words: int | None = None
    #: why a better stored copy was kept (action ``kept``)
    reason: str | None = None
    #: where the raw record lives (report.json only)
    warc: WarcLocation | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "sha256": self.sha256, "captured_at": self.captured_at}
        if self.archive is None:
            out["origin"] = self.origin
        if self.action is not None:
            out["action"] = self.action
        if self.latest is not None:
            out["latest"] = self.latest.to_dict()
        if self.similarity is not None:
            out["similarity"] = self.similarity
            out["changed_words"] = self.changed_words
        if self.action == "kept":
            out["reason"] = self.reason
        if self.archive is not None:  # the contract's origin is "archive", the archive named apart
            out["archive"] = self.archive
            out["origin"] = "archive"
        if self.warc is not None:
            out["warc"] = self.warc.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextCopy:
        """A stored or reported ``snapshot`` object; an origin naming another archive becomes ``archive``."""
        origin, archive = data.get("origin"), data.get("archive")
        if archive is None:
            origin, archive = split_origin(origin)
        latest, warc = data.get("latest"), data.get("warc")
        return cls(path=str(data.get("path") or ""), sha256=data.get("sha256"), captured_at=data.get("captured_at"),
                   origin=origin, archive=archive, action=data.get("action"),
                   latest=SnapshotVersion.from_dict(latest) if isinstance(latest, Mapping) else None,
                   similarity=data.get("similarity"), changed_words=data.get("changed_words"),
                   reason=data.get("reason"), warc=WarcLocation.from_dict(warc) if isinstance(warc, Mapping) else None)

    @property
    def source(self) -> TextOrigin:
        """Where the text came from, for the counts of ``summary.text_copies``."""
        if self.archive is not None or self.origin == "archive":
            return "archive"
        return "wayback" if self.origin == "wayback" else "live"


@dataclass(frozen=True, slots=True)
class WaybackCopy:
    """``links[].wayback``: the Wayback capture offered to readers (url None: none found)."""

    url: str | None
    timestamp: str | None
    saved_this_run: bool = False
    #: the copy's replay was judged to be the page (written only when there is a copy)
    verified: bool = False

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"url": self.url, "timestamp": self.timestamp}
        if self.saved_this_run:
            out["saved_this_run"] = True
        if self.url:
            out["verified"] = self.verified
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WaybackCopy:
        return cls(url=data.get("url"), timestamp=data.get("timestamp"),
                   saved_this_run=bool(data.get("saved_this_run")), verified=bool(data.get("verified")))


@dataclass(frozen=True, slots=True)
class ArchivedCopy:
    """A capture in a public archive (``links[].archives[]`` and ``links[].copy``)."""

    #: ``wayback`` or another archive's id (archive.today, loc, arquivo.pt...)
    archive: str
    url: str
    datetime: str | None
    verified: bool

    def to_dict(self) -> dict[str, object]:
        return {"archive": self.archive, "url": self.url, "datetime": self.datetime, "verified": self.verified}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArchivedCopy:
        return cls(str(data["archive"]), str(data["url"]), data.get("datetime"), bool(data.get("verified")))


@dataclass(frozen=True, slots=True)
class Replacement:
    """``links[].replacement``: where a dead link's article lives now (the shared contract; not filled yet)."""

    url: str
    method: str
    evidence: str
    title_similarity: float | None = None
    checked_at: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "method": self.method, "evidence": self.evidence,
                "title_similarity": self.title_similarity, "checked_at": self.checked_at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Replacement:
        return cls(str(data["url"]), str(data["method"]), str(data["evidence"]), data.get("title_similarity"),
                   data.get("checked_at"))


#: where ``snapshot`` sits in a link entry: with the state's fields (an old state that kept it), with the
#: run's extras, or nowhere
SnapshotPlace = Literal["state", "extra", None]
#: the keys written between the two places of ``snapshot`` (see :meth:`LinkEntry.to_dict`)
_BETWEEN = frozenset({"wayback", "archives", "elapsed", "connection_failure", "body_truncated"})


def _snapshot_place(keys: list[str]) -> SnapshotPlace:
    """Where a read entry had its ``snapshot``: with the state's fields when one of the keys written between
    the two places follows it (else both places give the same bytes)."""
    after = keys.index("snapshot") + 1
    return "state" if after < len(keys) and keys[after] in _BETWEEN else "extra"


@dataclass(slots=True)
class LinkEntry:
    """One ``links[]`` entry: a distinct cited URL with its latest known state."""

    url: str
    normalized_url: str
    status: LinkStatus
    confirmed: bool = False
    http_status: int | None = None
    final_url: str | None = None
    redirects: list[Hop] = field(default_factory=list)
    error: str | None = None
    evidence: str | None = None
    checked_at: str | None = None
    first_failed_at: str | None = None
    failures: int = 0
    last_alive_at: str | None = None
    domain: str = ""
    citations: list[Citation] = field(default_factory=list)
    archive_urls: list[str] = field(default_factory=list)
    #: a permanent redirect to another live page (written when set)
    moved_to: str | None = None
    wayback: WaybackCopy | None = None
    #: other archives' good captures, for links another archive was asked about (None: not asked)
    archives: list[ArchivedCopy] | None = None
    #: the best copy to cite, naming its archive (written whenever :attr:`archives` is)
    copy: ArchivedCopy | None = None
    #: this run's check: seconds and content type (both written when ``elapsed`` is set)
    elapsed: float | None = None
    content_type: str | None = None
    connection_failure: bool = False
    body_truncated: bool = False
    snapshot: TextCopy | None = None
    #: why this run stored no text (or kept the stored one)
    snapshot_note: str | None = None
    #: where ``snapshot`` is written (see :data:`SnapshotPlace`)
    snapshot_place: SnapshotPlace = None
    #: the registry's name for the host, else its registrable domain
    outlet: str | None = None
    replacement: Replacement | None = None
    #: what a reader gets from this link (issue 22): live, copy, lost or unknown; None: not assessed
    evidence_state: EvidenceState | None = None

    @property
    def failing(self) -> bool:
        return self.status in (LinkStatus.DEAD, LinkStatus.SOFT_404)

    @property
    def outlet_name(self) -> str:
        """The outlet, else the domain ('' when neither)."""
        return self.outlet or self.domain or ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "url": self.url, "normalized_url": self.normalized_url, "status": self.status,
            "confirmed": self.confirmed, "http_status": self.http_status, "final_url": self.final_url,
            "redirects": list(self.redirects), "error": self.error,  # a Hop is written {"url", "status"} by orjson
            "evidence": self.evidence, "checked_at": self.checked_at, "first_failed_at": self.first_failed_at,
            "failures": self.failures, "last_alive_at": self.last_alive_at, "domain": self.domain,
            "citations": [{"event": c.event, "file": c.file, "source_index": c.source_index, "line": c.line}
                          for c in self.citations],  # Citation.to_dict, inline: 10,000 calls fewer
            "archive_urls": list(self.archive_urls)}
        if self.moved_to:
            out["moved_to"] = self.moved_to
        snapshot = self.snapshot.to_dict() if self.snapshot is not None else None
        if self.snapshot_place == "state":
            out["snapshot"] = snapshot
        if self.wayback is not None:
            out["wayback"] = self.wayback.to_dict()
        if self.archives is not None:
            out["archives"] = [c.to_dict() for c in self.archives]
            out["copy"] = self.copy.to_dict() if self.copy is not None else None
        self._extras(out, snapshot)
        return out

    def _extras(self, out: dict[str, object], snapshot: dict[str, object] | None) -> None:
        if self.elapsed is not None:
            out["elapsed"] = self.elapsed
            out["content_type"] = self.content_type
        if self.connection_failure:
            out["connection_failure"] = True
        if self.body_truncated:
            out["body_truncated"] = True
        if self.snapshot_place == "extra":
            out["snapshot"] = snapshot
        if self.snapshot_note is not None:
            out["snapshot_note"] = self.snapshot_note
        if self.outlet is not None:
            out["outlet"] = self.outlet
        if self.replacement is not None:
            out["replacement"] = self.replacement.to_dict()
        if self.evidence_state is not None:
            out["evidence_state"] = self.evidence_state

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LinkEntry:
        place: SnapshotPlace = None
        if "snapshot" in data:
            place = _snapshot_place(list(data))
        snapshot, wayback, copy = data.get("snapshot"), data.get("wayback"), data.get("copy")
        archives, replacement = data.get("archives"), data.get("replacement")
        state = data.get("evidence_state")
        return cls(
            url=str(data["url"]), normalized_url=str(data.get("normalized_url") or data["url"]),
            status=LinkStatus(data["status"]), confirmed=bool(data.get("confirmed")),
            http_status=opt_int(data.get("http_status")), final_url=data.get("final_url"),
            redirects=[Hop(str(h["url"]), h.get("status")) for h in data.get("redirects") or []],
            error=data.get("error"), evidence=data.get("evidence"), checked_at=data.get("checked_at"),
            first_failed_at=data.get("first_failed_at"), failures=int(data.get("failures") or 0),
            last_alive_at=data.get("last_alive_at"), domain=str(data.get("domain") or ""),
            citations=[Citation(event=str(c["event"]), file=str(c.get("file") or ""),
                                source_index=int(c.get("source_index") or 0), line=opt_int(c.get("line")))
                       for c in data.get("citations") or []],
            archive_urls=[str(u) for u in data.get("archive_urls") or []], moved_to=data.get("moved_to"),
            wayback=WaybackCopy.from_dict(wayback) if isinstance(wayback, Mapping) else None,
            archives=[ArchivedCopy.from_dict(c) for c in archives] if isinstance(archives, list) else None,
            copy=ArchivedCopy.from_dict(copy) if isinstance(copy, Mapping) else None,
            elapsed=data.get("elapsed"), content_type=data.get("content_type"),
            connection_failure=bool(data.get("connection_failure")), body_truncated=bool(data.get("body_truncated")),
            snapshot=TextCopy.from_dict(snapshot) if isinstance(snapshot, Mapping) else None,
            snapshot_note=opt_str(data.get("snapshot_note")), snapshot_place=place,
            outlet=opt_str(data.get("outlet")),
            replacement=Replacement.from_dict(replacement) if isinstance(replacement, Mapping) else None,
            evidence_state=EvidenceState(state) if state else None)


@dataclass(frozen=True, slots=True)
class LinkExtras:
    """What a run adds to a link's entry beyond its state: this run's check, its text copy, its outlet.

    Merged with ``|`` (the right side's set fields win), as the stages' parts are."""

    elapsed: float | None = None
    content_type: str | None = None
    connection_failure: bool = False
    body_truncated: bool = False
    #: None with ``snapshot_set``: no text stored (written as null)
    snapshot: TextCopy | None = None
    snapshot_set: bool = False
    snapshot_note: str | None = None
    outlet: str | None = None

    def __or__(self, other: LinkExtras) -> LinkExtras:
        checked = other if other.elapsed is not None else self
        snap = other if other.snapshot_set else self
        return LinkExtras(elapsed=checked.elapsed, content_type=checked.content_type,
                          connection_failure=self.connection_failure or other.connection_failure,
                          body_truncated=self.body_truncated or other.body_truncated,
                          snapshot=snap.snapshot, snapshot_set=snap.snapshot_set,
                          snapshot_note=other.snapshot_note if other.snapshot_note is not None else self.snapshot_note,
                          outlet=other.outlet if other.outlet is not None else self.outlet)


def merge_extras(*parts: Mapping[str, LinkExtras]) -> dict[str, LinkExtras]:
    """The stages' extras by normalized URL, later parts winning field by field."""
    out: dict[str, LinkExtras] = {}
    for part in parts:
        for key, value in part.items():
            have = out.get(key)
            out[key] = value if have is None else have | value
    return out
