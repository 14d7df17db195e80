"""Types of archiver's public API for type checkers and editors: at run time ``archiver/__init__.py`` imports
these names lazily (PEP 562), so ``import archiver`` stays cheap. tests/test_exported_members.py keeps the
two in step."""

from archiver.audit.registry import Registry, load_registry
from archiver.audit.rules import audit as audit_citations
from archiver.config import Settings, load_settings
from archiver.errors import (
    ArchiveError,
    ArchiverError,
    ConfigError,
    EditError,
    GitError,
    LockError,
    RegistryError,
    StoreError,
    UsageError,
)
from archiver.history.linkstate import LinkState
from archiver.liveness.batch import BatchRules, check_links
from archiver.models import CheckResult, Citation, Event, Finding, FindingKind, Link, LinkStatus, Severity, Source
from archiver.options import AuditOptions, CheckOptions, TimelineOptions
from archiver.pipeline.commands import audit_timeline, regenerate_report, run_check, run_pipeline, run_wayback
from archiver.pipeline.night import run_night
from archiver.pipeline.stored import stored_report
from archiver.pipeline.summary import ExitCode, FailOn
from archiver.report.build import SCHEMA_ID as REPORT_SCHEMA_ID
from archiver.report.build import RunInfo, build_report, load_schema
from archiver.reportmodel import Report, RunRecord
from archiver.snapshots.store import SnapshotStore
from archiver.timeline.catalog import Catalog, build_catalog
from archiver.timeline.load import LoadResult, Timeline, load_events, load_timeline

__version__: str

__all__ = [
    "REPORT_SCHEMA_ID",
    "ArchiveError",
    "ArchiverError",
    "AuditOptions",
    "BatchRules",
    "Catalog",
    "CheckOptions",
    "CheckResult",
    "Citation",
    "ConfigError",
    "EditError",
    "Event",
    "ExitCode",
    "FailOn",
    "Finding",
    "FindingKind",
    "GitError",
    "Link",
    "LinkState",
    "LinkStatus",
    "LoadResult",
    "LockError",
    "Registry",
    "RegistryError",
    "Report",
    "RunInfo",
    "RunRecord",
    "Settings",
    "Severity",
    "SnapshotStore",
    "Source",
    "StoreError",
    "Timeline",
    "TimelineOptions",
    "UsageError",
    "__version__",
    "audit_citations",
    "audit_timeline",
    "build_catalog",
    "build_report",
    "check_links",
    "load_events",
    "load_registry",
    "load_schema",
    "load_settings",
    "load_timeline",
    "regenerate_report",
    "run_check",
    "run_night",
    "run_pipeline",
    "run_wayback",
    "stored_report",
]
