"""Options per stage: the few settings each stage reads, as small frozen dataclasses.

A stage takes its options object, never the whole :class:`~archiver.config.Settings`: the checker
a :class:`CheckOptions`, the Wayback stage a :class:`WaybackOptions`, and so on. Only the pipeline
and the command line build them, from the one settings table (``archiver/config.py``, where each
setting's metadata names the stage it belongs to), with ``settings.check_options`` and its siblings
or :func:`build`.

The pattern for a new stage's options (``StoreOptions`` was the last to follow it):

1. give the settings it reads ``stage="store"`` in the table (``_setting(..., stage="store")``);
2. declare ``class StoreOptions(StageOptions)`` here with ``STAGE = "store"`` and one field per
   setting, named and typed as in ``Settings`` (no defaults: the table has them); a field typed
   with another options class is built from the same settings (the Wayback stage's ``fetch``);
3. add a ``store_options`` property to ``Settings`` and the class to :data:`OPTIONS`.

``tests/test_config.py`` checks that every field is a setting of the same type and that each stage's
settings all reach its options; ``tests/test_architecture.py`` that no stage package imports
``archiver.config``.
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit, urlunsplit

from . import __version__

BROWSER_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/124.0.0.0 Safari/537.36")
DEFAULT_USER_AGENT = f"archiver/{__version__} (link checker for evidence timelines; +{{contact}})"

OptionsT = TypeVar("OptionsT", bound="StageOptions")


def user_agent(user_agent: str | None, contact_url: str) -> str:
    """The User-Agent sent: the one set, else the tool's name with the contact URL."""
    return user_agent or DEFAULT_USER_AGENT.format(contact=contact_url)


def clock(now: dt.datetime | None) -> dt.datetime:
    """The run's clock: the ``now`` setting (a replayed night), else the time now."""
    return now or dt.datetime.now(dt.UTC)


def warc_folder(warc_dir: Path | None, snapshots: Path) -> Path | None:
    """Where the WARC files are (``warc_dir`` taken from the folder holding ``snapshots``), None when off."""
    if warc_dir is None:
        return None
    return warc_dir if warc_dir.is_absolute() else snapshots.parent / warc_dir


@dataclass(frozen=True)
class StageOptions:
    """The base of every stage's options; ``STAGE`` is the stage name the settings table uses."""

    STAGE: ClassVar[str] = ""


def build(kind: type[OptionsT], settings: object) -> OptionsT:
    """``kind`` filled from ``settings``: each field the setting of its name, or (typed with another
    options class) that class built from the same settings."""
    hints = typing.get_type_hints(kind)
    values: dict[str, Any] = {}
    for f in fields(kind):
        hint = hints[f.name]
        if isinstance(hint, type) and issubclass(hint, StageOptions):
            values[f.name] = build(hint, settings)
        else:
            values[f.name] = getattr(settings, f.name)
    return kind(**values)


@dataclass(frozen=True)
class TimelineOptions(StageOptions):
    """Loading the events folder (``archiver.timeline``)."""

    STAGE: ClassVar[str] = "timeline"
    events: Path
    max_event_bytes: int
    parse_processes: int


@dataclass(frozen=True)
class HistoryOptions(StageOptions):
    """What is due and when a dead link is confirmed (``archiver.history``)."""

    STAGE: ClassVar[str] = "history"
    confirm_checks: int
    confirm_days: float
    failing_recheck_hours: float
    recheck_days: float
    dead_recheck_days: float
    #: an alive link whose text was not extracted at its last check is due again
    snapshot_pages: bool


@dataclass(frozen=True)
class CheckOptions(StageOptions):
    """The link checker and its HTTP stack (``archiver.liveness``); the archive clients fetch through it too."""

    STAGE: ClassVar[str] = "checking"
    allow_networks: tuple[str, ...]
    concurrency: int
    per_host_concurrency: int
    per_host_gap: float
    max_per_host_gap: float
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    max_body_bytes: int
    max_redirects: int
    attempts: int
    retry_after_cap: float
    backoff_base: float
    contact_url: str
    user_agent: str | None
    browser_user_agent: str | None
    soft404_probe: bool
    soft404_similarity: float
    offline_fraction: float
    degraded_fraction: float
    network_min_hosts: int
    network_sample_hosts: int
    now: dt.datetime | None

    @property
    def ua(self) -> str:
        return user_agent(self.user_agent, self.contact_url)

    def clock(self) -> dt.datetime:
        return clock(self.now)


@dataclass(frozen=True)
class SnapshotOptions(StageOptions):
    """Text snapshots: extraction limits, workers, the store's drift rules (``archiver.snapshots``)."""

    STAGE: ClassVar[str] = "snapshots"
    snapshots: Path
    warc_dir: Path | None
    snapshot_pages: bool
    extract_workers: int
    extract_timeout: float
    max_html_bytes: int
    max_html_elements: int
    max_pdf_pages: int
    max_pdf_bytes: int
    thin_chars: int
    drift_similarity: float
    drift_min_words: int
    now: dt.datetime | None

    def clock(self) -> dt.datetime:
        return clock(self.now)

    @property
    def warc_folder(self) -> Path | None:
        return warc_folder(self.warc_dir, self.snapshots)


@dataclass(frozen=True)
class WaybackOptions(StageOptions):
    """The Wayback Machine: lookups, rescues, saves and their paces (``archiver.wayback``)."""

    STAGE: ClassVar[str] = "wayback"
    wayback_url: str
    availability_url: str
    cdx_per_minute: float
    max_lookups: int | None
    max_saves: int | None
    save_max_age_days: float
    save_per_minute: float
    replay_per_minute: float
    wayback_pause: float
    wayback_recheck_days: float
    save_poll_seconds: float
    save_reconcile_days: float
    #: the HTTP stack of the archive calls (timeouts, body cap, User-Agent)
    fetch: CheckOptions
    #: how a rescued copy's text is extracted and kept
    text: SnapshotOptions


@dataclass(frozen=True)
class ArchivesOptions(StageOptions):
    """The other archives (Memento), after the Wayback stage and by its rules (``archiver.archives``)."""

    STAGE: ClassVar[str] = "archives"
    archives: tuple[str, ...]
    archives_file: Path | None
    archive_base_urls: tuple[str, ...]
    archive_per_minute: float | None
    archive_timeout: float
    archive_max_failures: int
    #: the Wayback Machine's base URL, replay pace and recheck cycle; its HTTP stack and text rules
    wayback: WaybackOptions


@dataclass(frozen=True)
class RelocateOptions(StageOptions):
    """Moved, not gone (``archiver.relocate``): the night's budget for finding dead links' new addresses."""

    STAGE: ClassVar[str] = "relocate"
    relocate: bool
    relocate_max_requests: int
    relocate_per_host: int
    relocate_seconds: float
    relocate_title_similarity: float
    relocate_host_pairs: int
    #: where the sites' sitemaps and feeds are cached between runs (``relocate-sites.json`` beside the state)
    snapshots: Path
    #: the Wayback Machine (CDX and replay of archived redirects), paced by its own rules
    wayback: WaybackOptions


@dataclass(frozen=True)
class AuditOptions(StageOptions):
    """The citation audit (``archiver.audit``)."""

    STAGE: ClassVar[str] = "audit"
    registry: Path | None
    date_tolerance_days: float
    #: the stored snapshots' page metadata (dates, titles) the rules compare citations with
    snapshots: Path


@dataclass(frozen=True)
class ReportOptions(StageOptions):
    """Where the reports are written (``archiver.report`` and the pipeline's report step)."""

    STAGE: ClassVar[str] = "report"
    report_dir: Path

#: the schemes obstore reaches as object stores (anything else is a folder)
OBJECT_SCHEMES = ("s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl")


def public_url(url: str) -> str:
    """``url`` without what could carry a secret (user info, query string, fragment)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class StoreOptions(StageOptions):
    """The evidence store: where finished WARC files go for good and how hard to try it (``archiver.store``)."""

    STAGE: ClassVar[str] = "store"
    evidence_store: str | None
    evidence_keep_local: bool
    evidence_timeout: float
    evidence_retries: int
    snapshots: Path
    warc_dir: Path | None

    @property
    def warc_folder(self) -> Path | None:
        """The folder holding the runs' WARC files, None when WARC records are off."""
        return warc_folder(self.warc_dir, self.snapshots)

    @property
    def url(self) -> str:
        """The store URL as configured (a folder, ``file://``, ``s3://bucket/prefix``...); the WARC folder by
        default ("" when WARC records are off)."""
        folder = self.warc_folder
        return self.evidence_store or (str(folder.resolve()) if folder is not None else "")

    @property
    def ledger_path(self) -> Path:
        """Where the ledger of pushed and pending files is kept (beside the snapshots)."""
        return self.snapshots / "evidence-store.json"

    @property
    def scheme(self) -> str:
        """``s3``, ``gs``, ``az``... or ``file`` for a folder."""
        scheme = urlsplit(self.url).scheme.lower()
        return scheme if scheme in OBJECT_SCHEMES else "file"

    @property
    def folder(self) -> Path | None:
        """The store's folder when it is a local one, else None."""
        if self.scheme != "file":
            return None
        parts = urlsplit(self.url)
        return Path(parts.path if parts.scheme == "file" else self.url).expanduser().resolve()

    @property
    def is_warc_folder(self) -> bool:
        """The store is the WARC folder itself: nothing to push (the default)."""
        folder, warcs = self.folder, self.warc_folder
        return folder is not None and warcs is not None and folder == warcs.resolve()

    @property
    def public_url(self) -> str:
        """The store URL fit for logs and reports: no user, password, query or fragment."""
        return public_url(self.url) if self.scheme != "file" else str(self.folder)



#: every stage's options class, by stage name
OPTIONS: tuple[type[StageOptions], ...] = (TimelineOptions, HistoryOptions, CheckOptions, SnapshotOptions,
                                           WaybackOptions, ArchivesOptions, RelocateOptions, AuditOptions,
                                           ReportOptions, StoreOptions)
