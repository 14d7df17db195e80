"""archiver: source archiving and link verification for evidence timelines.

The public API is the names in ``__all__``: settings, the timeline, the verdicts and findings
(the report contract's types), the stages as library calls, the pipeline's commands, the
report and the errors (every one an ``ArchiverError``). Every other module is internal: importable,
but free to change between releases.

The names are imported lazily (PEP 562): ``import archiver`` costs nothing, and the HTTP stack,
the archive client and the extractors are imported only when a name that needs them is used
(``archiver validate`` and a night with nothing due never load them).
"""

import importlib as _importlib
import typing as _typing

__version__ = "0.1.0"

#: public name -> (module, attribute in that module)
_LAZY: dict[str, tuple[str, str]] = {
    # settings
    "Settings": ("archiver.config", "Settings"),
    "load_settings": ("archiver.config", "load_settings"),
    # each stage's options, built from the settings (settings.check_options, ...)
    "TimelineOptions": ("archiver.options", "TimelineOptions"),
    "CheckOptions": ("archiver.options", "CheckOptions"),
    "AuditOptions": ("archiver.options", "AuditOptions"),
    # the timeline
    "load_timeline": ("archiver.timeline.load", "load_timeline"),
    "Timeline": ("archiver.timeline.load", "Timeline"),
    "load_events": ("archiver.timeline.load", "load_events"),
    "LoadResult": ("archiver.timeline.load", "LoadResult"),
    "build_catalog": ("archiver.timeline.catalog", "build_catalog"),
    "Catalog": ("archiver.timeline.catalog", "Catalog"),
    "Event": ("archiver.models", "Event"),
    "Source": ("archiver.models", "Source"),
    "Citation": ("archiver.models", "Citation"),
    "Link": ("archiver.models", "Link"),
    # verdicts and findings (the report contract's types)
    "LinkStatus": ("archiver.models", "LinkStatus"),
    "Severity": ("archiver.models", "Severity"),
    "FindingKind": ("archiver.models", "FindingKind"),
    "Finding": ("archiver.models", "Finding"),
    "CheckResult": ("archiver.models", "CheckResult"),
    "LinkState": ("archiver.history.linkstate", "LinkState"),
    # the stages as a library
    "check_links": ("archiver.liveness.batch", "check_links"),
    "BatchRules": ("archiver.liveness.batch", "BatchRules"),
    "audit_citations": ("archiver.audit.rules", "audit"),
    "load_registry": ("archiver.audit.registry", "load_registry"),
    "Registry": ("archiver.audit.registry", "Registry"),
    "SnapshotStore": ("archiver.snapshots.store", "SnapshotStore"),
    # the pipeline
    "run_night": ("archiver.pipeline.night", "run_night"),
    "run_pipeline": ("archiver.pipeline.commands", "run_pipeline"),
    "run_check": ("archiver.pipeline.commands", "run_check"),
    "run_wayback": ("archiver.pipeline.commands", "run_wayback"),
    "regenerate_report": ("archiver.pipeline.commands", "regenerate_report"),
    "audit_timeline": ("archiver.pipeline.commands", "audit_timeline"),
    "stored_report": ("archiver.pipeline.stored", "stored_report"),
    "ExitCode": ("archiver.pipeline.summary", "ExitCode"),
    "FailOn": ("archiver.pipeline.summary", "FailOn"),
    # the errors: one tree under ArchiverError (archiver/errors.py draws it)
    "ArchiverError": ("archiver.errors", "ArchiverError"),
    "ConfigError": ("archiver.errors", "ConfigError"),
    "RegistryError": ("archiver.errors", "RegistryError"),
    "EditError": ("archiver.errors", "EditError"),
    "GitError": ("archiver.errors", "GitError"),
    "LockError": ("archiver.errors", "LockError"),
    "StoreError": ("archiver.errors", "StoreError"),
    "ArchiveError": ("archiver.errors", "ArchiveError"),
    "UsageError": ("archiver.errors", "UsageError"),
    # the report
    "build_report": ("archiver.report.build", "build_report"),
    "RunInfo": ("archiver.report.build", "RunInfo"),
    "load_schema": ("archiver.report.build", "load_schema"),
    "REPORT_SCHEMA_ID": ("archiver.report.build", "SCHEMA_ID"),
    "Report": ("archiver.reportmodel", "Report"),
    "RunRecord": ("archiver.reportmodel", "RunRecord"),
}

#: the public names: the lazy table and the version (archiver/__init__.pyi spells them out for type checkers)
__all__ = sorted(["__version__", *_LAZY])


def __getattr__(name: str) -> _typing.Any:
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'archiver' has no attribute {name!r}") from None
    value = getattr(_importlib.import_module(module), attribute)
    globals()[name] = value  # imported once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
