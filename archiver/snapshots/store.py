"""The text snapshot store: ``snapshots/<host>/<slug>--<hash>/`` per distinct link.

Files of a link's folder (see :mod:`archiver.support.storepaths` for the folder name):

* ``snapshot.md``: the first good capture, kept forever; ``snapshot-YYYYMMDDTHHMMSSZ.md``: a later
  capture whose text differs meaningfully from the first (content drift), kept beside it;
* ``state.json`` belongs to the history stage and is not touched here.

Each file is Markdown with a YAML provenance header (see :func:`header_fields`) and
then, after one blank line, the extracted text; ``text_sha256`` is the SHA-256 of
that text exactly as stored (everything after the blank line).

Rules:

* **never worse**: only a *good* capture is ever written: from an ``alive`` check
  (or a Wayback capture answering 2xx), with readable text that is not thin, not an
  error page and not a bot challenge. Anything else is ``kept`` (a good capture
  exists and stays) or ``rejected`` (nothing is stored yet: a thin page is not
  stored at all rather than stored as if it were the article);
* **unchanged**: text that is identical to the first capture, or differs only
  cosmetically, writes nothing (not a byte);
* **drift**: text that differs meaningfully from the first capture (shingle
  similarity below ``drift_similarity`` or at least ``drift_min_words`` words
  changed, see :mod:`archiver.snapshots.textsim`) is a ``content_drift`` finding on every run;
  it is written as a new version only when no stored version already has it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from .. import __version__
from ..models import CheckResult, Finding, FindingKind, Link, PageMeta, RawExchange, Severity
from ..reportmodel import SnapshotVersion, TextCopy, WarcLocation, split_origin
from ..support import atomic
from ..support.paths import display_path
from ..support.storepaths import link_dir, link_folders
from ..support.timefmt import iso
from .extract import Extraction
from .textsim import Comparison, compare
from .warc import WarcRef, WarcRun, record_warc, warc_fields

FORMAT = "archiver.snapshot/1"
FIRST = "snapshot.md"
DEFAULT_DRIFT_SIMILARITY = 0.9
DEFAULT_DRIFT_MIN_WORDS = 20


class SnapshotAction(StrEnum):
    """What :meth:`SnapshotStore.save` did with a capture (``report.json``'s ``snapshot.action``)."""

    #: the first good capture of the page, stored as ``snapshot.md``
    WRITTEN = "written"
    #: the same text as stored (or cosmetic differences only): nothing written
    UNCHANGED = "unchanged"
    #: the text changed beyond the drift threshold: a new version written
    DRIFT = "drift"
    #: changed since the first capture, like a version already stored: nothing written
    DRIFT_SEEN = "drift_seen"
    #: not stored, the stored copy is better (an archived copy is never replaced by a worse one)
    KEPT = "kept"
    #: not stored and nothing stored before: not the page (thin, challenge, error page, not extractable)
    REJECTED = "rejected"


try:  # the C loader is 10x faster when libyaml is present
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def stored_text(text: str) -> str:
    """The text block exactly as written after the header."""
    return text.strip() + "\n"


def text_sha256(text: str) -> str:
    return hashlib.sha256(stored_text(text).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- captures


@dataclass(frozen=True, slots=True)
class Capture:
    """One fetch of a link and what was extracted from it, ready to be judged and stored."""

    url: str  # as cited
    normalized_url: str
    captured_at: dt.datetime
    extraction: Extraction
    status: str = "alive"  # the check's verdict for this fetch
    http_status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    origin: str = "live"  # live, wayback, or another archive's id (archive.today, loc, ...: data/archives.yaml)
    wayback_url: str | None = None  # the Wayback capture this text came from (origin wayback), or an archived copy
    cited_by: tuple[str, ...] = ()
    exchange: RawExchange | None = field(default=None, repr=False, compare=False)
    body: bytes | None = field(default=None, repr=False, compare=False)
    warc: WarcRef | None = None
    archive_url: str | None = None  # the memento, when origin is another archive (in the header only then)

    @classmethod
    def from_check(cls, link: Link, result: CheckResult, extraction: Extraction, body: bytes | None = None) -> Capture:
        return cls(url=link.url, normalized_url=link.normalized_url, captured_at=result.checked_at,
                   extraction=extraction, status=result.status, http_status=result.http_status,
                   final_url=result.final_url, content_type=result.content_type, origin="live",
                   wayback_url=link.archive_urls[0] if link.archive_urls else None,
                   cited_by=tuple(sorted({c.event for c in link.citations})), exchange=result.exchange, body=body)


def capture_problem(capture: Capture) -> str | None:
    """Why ``capture`` may not stand for the page (None: it is a good capture)."""
    x = capture.extraction
    if capture.origin == "live" and capture.status != "alive":
        return f"the check found the page {capture.status}"
    if capture.origin != "live" and not (capture.http_status and 200 <= capture.http_status < 300):
        return f"the archived capture answered HTTP {capture.http_status}"
    if x.kind in ("binary", "empty", "failed"):
        return f"not extractable: {x.reason}" if x.kind != "failed" else f"extraction failed: {x.reason}"
    if x.thin:
        return f"thin text: {x.reason}"
    if not x.text.strip():
        return "no text"
    from ..liveness.soft404 import detect_challenge, error_page  # lxml: only when a capture is judged

    if x.title and (evidence := error_page(x.title, "")):
        return f"an error page: {evidence}"
    if evidence := detect_challenge(200, {}, x.title or "", x.text[:4000]):
        return f"a bot challenge: {evidence}"
    return None


def header_fields(capture: Capture, *, version: str = "first", comparison: Comparison | None = None) -> dict[str, Any]:
    """The provenance header of one stored capture, in a fixed order."""
    x = capture.extraction
    fields: dict[str, Any] = {
        "format": FORMAT,
        "title": x.title,
        "url": capture.url,
        "final_url": capture.final_url or capture.url,
        "normalized_url": capture.normalized_url,
        "captured_at": iso(capture.captured_at),
        "http_status": capture.http_status,
        "content_type": capture.content_type,
        "origin": capture.origin,
        "wayback_url": capture.wayback_url, **({"archive_url": capture.archive_url} if capture.archive_url else {}),
        "kind": x.kind,
        "encoding": x.encoding,
    }
    if x.kind == "pdf":
        fields["pages"] = x.pages
        fields["pages_extracted"] = x.pages_extracted
    fields.update({
        "body_sha256": x.body_sha256,
        "body_bytes": x.body_bytes,
        "body_truncated": x.truncated,
        **warc_fields(capture.warc),
        "text_sha256": text_sha256(x.text),
        "text_chars": len(stored_text(x.text)),
        "extractor": x.extractor,
        "extraction_notes": list(x.notes),
        "archiver": f"archiver {__version__}",
        "author": x.author,
        "published": x.date,
        "site_name": x.sitename,
        "description": x.description,
        "cited_by": list(capture.cited_by),
        "version": version,
    })
    if comparison is not None:
        fields["first_capture"] = FIRST
        fields["similarity_to_first"] = round(comparison.similarity, 4)
        fields["changed_words"] = comparison.changed_words
    return fields


def render(fields: Mapping[str, Any], text: str) -> str:
    header = yaml.safe_dump(dict(fields), sort_keys=False, allow_unicode=True, width=100_000,
                            default_flow_style=False)
    return f"---\n{header}---\n\n{stored_text(text)}"


def parse(content: str) -> tuple[dict[str, Any], str] | None:
    """``(header, text)`` of a snapshot file, or None when it is not one."""
    if not content.startswith("---\n"):
        return None
    end = content.find("\n---\n", 3)
    if end < 0:
        return None
    try:
        header = yaml.load(content[4:end + 1], Loader=_Loader)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(header, dict):
        return None
    text = content[end + 5:]
    return header, text[1:] if text.startswith("\n") else text


# --------------------------------------------------------------------------- stored versions


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """One stored version: its file and parsed provenance header."""

    path: Path
    rel: str  # posix path relative to the store root
    header: Mapping[str, Any]

    @property
    def text_sha256(self) -> str:
        return str(self.header.get("text_sha256", ""))

    @property
    def captured_at(self) -> str:
        return str(self.header.get("captured_at", ""))

    @property
    def origin(self) -> str:
        return str(self.header.get("origin", "live"))

    @property
    def is_first(self) -> bool:
        return self.path.name == FIRST


@dataclass(frozen=True, slots=True)
class Snapshot:
    info: SnapshotInfo
    text: str


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What :meth:`SnapshotStore.save` did, and why."""

    action: SnapshotAction
    reason: str
    normalized_url: str
    #: the first capture (kept forever), when one exists
    first: SnapshotInfo | None = None
    #: the newest stored version
    latest: SnapshotInfo | None = None
    #: the file written by this save, if any
    written: SnapshotInfo | None = None
    #: the new text against the first capture
    comparison: Comparison | None = None
    new_sha256: str | None = None

    @property
    def drifted(self) -> bool:
        return self.action in (SnapshotAction.DRIFT, SnapshotAction.DRIFT_SEEN)

    @property
    def stored(self) -> bool:
        """A good capture of the page is in the store (written now or before)."""
        return self.first is not None


class SnapshotStore:
    """Text snapshots under ``root`` (thread-safe for distinct links)."""

    def __init__(self, root: str | os.PathLike[str], *, drift_similarity: float = DEFAULT_DRIFT_SIMILARITY,
                 drift_min_words: int = DEFAULT_DRIFT_MIN_WORDS, warcs: WarcRun | None = None) -> None:
        self.root = Path(root)
        self.warcs = warcs  # where good captures' raw exchanges are written (None: no WARC records)
        self.drift_similarity = drift_similarity
        self.drift_min_words = drift_min_words
        #: folders holding a first capture, found by one walk (None: not walked since the last save)
        self._firsts: set[Path] | None = None

    @classmethod
    def from_settings(cls, settings: Any, *, warcs: WarcRun | None = None) -> SnapshotStore:
        return cls(settings.snapshots, drift_similarity=settings.drift_similarity,
                   drift_min_words=settings.drift_min_words, warcs=warcs)

    # ------------------------------------------------------------------ reading

    def folder(self, normalized_url: str) -> Path:
        return self.root / link_dir(normalized_url)

    def has_snapshot(self, normalized_url: str) -> bool:
        """Whether the link has a first capture; one directory walk per store, not one open per link."""
        firsts = self._first_folders()
        return bool(firsts) and self.folder(normalized_url) in firsts

    def _first_folders(self) -> set[Path]:
        """The link folders holding a first capture (one walk, kept until a save adds one)."""
        if self._firsts is None:
            self._firsts = {Path(f) for f in link_folders(self.root) if os.path.exists(os.path.join(f, FIRST))}
        return self._firsts

    def _info(self, path: Path) -> SnapshotInfo | None:
        if path.name == FIRST and self._firsts is not None and path.parent not in self._firsts:
            return None
        snapshot = self._read(path)
        return snapshot.info if snapshot is not None else None

    def versions(self, normalized_url: str) -> list[SnapshotInfo]:
        """The first capture, then drift versions oldest first."""
        folder = self.folder(normalized_url)
        if not folder.is_dir():
            return []
        out = []
        first = self._info(folder / FIRST)
        if first is not None:
            out.append(first)
        for path in sorted(folder.glob("snapshot-*.md")):
            info = self._info(path)
            if info is not None:
                out.append(info)
        return out

    def first(self, normalized_url: str) -> SnapshotInfo | None:
        return self._info(self.folder(normalized_url) / FIRST)

    def latest(self, normalized_url: str) -> SnapshotInfo | None:
        versions = self.versions(normalized_url)
        return versions[-1] if versions else None

    def read(self, normalized_url: str, name: str = FIRST) -> Snapshot | None:
        """A stored version (``snapshot.md`` by default) with its text."""
        if "/" in name or "\\" in name or not name.startswith("snapshot") or not name.endswith(".md"):
            return None
        return self._read(self.folder(normalized_url) / name)

    def _read(self, path: Path) -> Snapshot | None:
        try:
            content = path.read_text("utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        parsed = parse(content)
        if parsed is None:
            return None
        info = SnapshotInfo(path=path, rel=path.relative_to(self.root).as_posix(), header=parsed[0])
        return Snapshot(info=info, text=parsed[1])

    def page_meta(self, normalized_urls: Iterable[str] | None = None) -> dict[str, PageMeta]:
        """What each first capture says about its page (for the citation audit), by normalized URL."""
        if normalized_urls is not None:
            paths = [self.folder(url) / FIRST for url in normalized_urls if self.has_snapshot(url)]
        else:
            paths = [folder / FIRST for folder in sorted(self._first_folders())]
        out: dict[str, PageMeta] = {}
        for path in paths:
            info = self._info(path)
            if info is None:
                continue
            h = info.header
            key = str(h.get("normalized_url") or "")
            if key:
                out[key] = PageMeta(url=str(h.get("final_url") or h.get("url") or key), site_name=h.get("site_name"),
                                    title=h.get("title"), date=h.get("published"))
        return out

    # ------------------------------------------------------------------ writing

    def _create(self, path: Path, fields: Mapping[str, Any], text: str) -> SnapshotInfo | None:
        """Write a new file (never replacing one: None when ``path`` exists)."""
        if not atomic.create_bytes(path, render(fields, text).encode("utf-8")):
            return None
        return SnapshotInfo(path=path, rel=path.relative_to(self.root).as_posix(), header=dict(fields))

    def _create_version(self, folder: Path, stamp: dt.datetime, fields: Mapping[str, Any], text: str) -> SnapshotInfo:
        base = f"snapshot-{stamp.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
        n = 1
        while True:
            path = folder / (f"{base}.md" if n == 1 else f"{base}-{n}.md")
            info = self._create(path, fields, text)
            if info is not None:
                return info
            n += 1

    def save(self, capture: Capture) -> SaveOutcome:
        """Store ``capture`` if it is good and new; see the module docstring for the rules."""
        A = SnapshotAction
        url = capture.normalized_url
        folder = self.folder(url)
        self._firsts = None  # this save may add a first capture: walk again when next asked
        first = self._read(folder / FIRST)
        problem = capture_problem(capture)
        if problem is not None:
            if first is None:
                return SaveOutcome(A.REJECTED, f"not stored: {problem}", url)
            latest = self.latest(url)
            return SaveOutcome(A.KEPT, f"not stored: {problem}; the good capture of {first.info.captured_at} is kept",
                               url, first=first.info, latest=latest)
        capture = record_warc(self.warcs, capture)  # before the snapshot file names its record
        text = capture.extraction.text
        new_sha = text_sha256(text)
        if first is None:
            info = self._create(folder / FIRST, header_fields(capture), text)
            if info is None:  # another process stored a first capture meanwhile: compare with it
                return self.save(capture)
            return SaveOutcome(A.WRITTEN, "first good capture", url, first=info, latest=info, written=info,
                               new_sha256=new_sha)
        comparison = compare(first.text, stored_text(text))
        if new_sha == first.info.text_sha256:
            latest = self.latest(url)
            return SaveOutcome(A.UNCHANGED, "same text as the first capture", url, first=first.info, latest=latest,
                               comparison=comparison, new_sha256=new_sha)
        if not comparison.meaningful(self.drift_similarity, self.drift_min_words):
            latest = self.latest(url)
            return SaveOutcome(A.UNCHANGED, f"cosmetic differences only ({_measure(comparison)})", url,
                               first=first.info, latest=latest, comparison=comparison, new_sha256=new_sha)
        versions = self.versions(url)
        for info in reversed(versions[1:]):
            if info.text_sha256 == new_sha:
                return SaveOutcome(A.DRIFT_SEEN, f"changed since the first capture ({_measure(comparison)}); "
                                   f"this text is already stored as {info.path.name}", url, first=first.info,
                                   latest=versions[-1], comparison=comparison, new_sha256=new_sha)
            stored = self._read(info.path)
            if stored is not None and not compare(stored.text, stored_text(text)).meaningful(
                    self.drift_similarity, self.drift_min_words):
                return SaveOutcome(A.DRIFT_SEEN, f"changed since the first capture ({_measure(comparison)}); "
                                   f"{info.path.name} already holds this version", url, first=first.info,
                                   latest=versions[-1], comparison=comparison, new_sha256=new_sha)
        info = self._create_version(folder, capture.captured_at,
                                    header_fields(capture, version="drift", comparison=comparison), text)
        return SaveOutcome(A.DRIFT, f"changed since the first capture ({_measure(comparison)}); new version "
                           f"{info.path.name}", url, first=first.info, latest=info, written=info, comparison=comparison,
                           new_sha256=new_sha)


def _measure(c: Comparison) -> str:
    return f"{c.similarity:.0%} similar, {c.changed_words} words changed"


# --------------------------------------------------------------------------- report helpers


def info_entry(first: SnapshotInfo, latest: SnapshotInfo | None = None,
               display: Callable[[Path], str] = display_path) -> TextCopy:
    """The report's ``snapshot`` object from stored files: the first capture, and the newest version if later."""
    origin, archive = split_origin(first.origin)
    return TextCopy(path=display(first.path), sha256=first.text_sha256, captured_at=first.captured_at,
                    origin=origin, archive=archive, latest=_latest(first, latest, display),
                    warc=WarcLocation.from_header(first.header))



def _latest(first: SnapshotInfo, latest: SnapshotInfo | None, display: Callable[[Path], str]) -> SnapshotVersion | None:
    if latest is None or latest.path == first.path:
        return None
    return SnapshotVersion(path=display(latest.path), sha256=latest.text_sha256, captured_at=latest.captured_at)


def report_entry(outcome: SaveOutcome, display: Callable[[Path], str] = display_path) -> TextCopy | None:
    """The report's ``snapshot`` object of a link after a save (None when nothing is stored)."""
    first = outcome.first
    if first is None:
        return None
    drift = outcome.comparison if outcome.drifted else None
    origin, archive = split_origin(first.origin)
    return TextCopy(path=display(first.path), sha256=first.text_sha256, captured_at=first.captured_at,
                    origin=origin, archive=archive, action=outcome.action.value,
                    latest=_latest(first, outcome.latest, display),
                    similarity=round(drift.similarity, 4) if drift is not None else None,
                    changed_words=drift.changed_words if drift is not None else None,
                    reason=outcome.reason if outcome.action is SnapshotAction.KEPT else None,
                    warc=WarcLocation.from_header(first.header))


def drift_findings(link: Link, outcome: SaveOutcome, display: Callable[[Path], str] = display_path) -> list[Finding]:
    """``content_drift`` findings, one per citation, when the page no longer says what was captured first."""
    if not outcome.drifted or outcome.first is None or outcome.comparison is None:
        return []
    c = outcome.comparison
    latest = outcome.latest
    where_new = f"; the new text is in {display(latest.path)}" if latest is not None and not latest.is_first else ""
    data = {"similarity": round(c.similarity, 4), "changed_words": c.changed_words,
            "first_capture": display(outcome.first.path),
            "latest_capture": display(latest.path) if latest is not None else None}
    out = []
    for citation in link.citations:
        out.append(Finding(
            kind=FindingKind.CONTENT_DRIFT, severity=Severity.WARNING,
            message=(f"source {citation.source_index}: {link.url} changed since it was first captured on "
                     f"{outcome.first.captured_at}: {c.similarity:.0%} of the text is the same "
                     f"({c.changed_words} words changed); the first capture is kept in "
                     f"{display(outcome.first.path)}{where_new}"),
            file=citation.file, line=citation.line, event=citation.event, source_index=citation.source_index,
            url=link.url, expected=outcome.first.text_sha256, actual=outcome.new_sha256,
            fix="check that the page still supports the event; cite the first capture or an archived copy if not",
            data=data))
    return out
