"""What the pipeline knows, typed: report.json as dataclasses (the contract in schema/report-v1.schema.json).

A package of plain data at the ``models`` layer: the stages that fill parts of a link's entry
(snapshots, audit) build these types themselves, below the report package that assembles them.

:class:`Report` is built by :func:`archiver.report.build.build_report` and read by every renderer
(summary, Markdown, HTML, reading room) by attribute. JSON is read and written here only:
:meth:`Report.to_json` writes the bytes of report.json, :meth:`Report.from_json` reads them back,
and ``from_json(data).to_json() == data`` for a report this code wrote. Optional keys keep the
rules the report has always followed (written only when they say something), so the bytes stay
those of the dict-built report: each ``to_dict`` writes its keys in the order report.json has
always had them. Keys a reader does not know are dropped (the schema allows extra fields).

``events[]``, ``summary.events`` and ``links[].replacement`` are in the shared contract and
are read and written when present; :mod:`archiver.report.health` fills the events' health
(``links[].evidence_state``, ``events[]``, ``summary.events``); nothing fills ``replacement`` yet.
"""

from .health import (
    HEALTHS,
    EvidenceState,
    Health,
    HealthTally,
    ReaderGets,
    citation_fix,
    health_of,
    reader_gets,
)
from .links import (
    TEXT_ORIGINS,
    ArchivedCopy,
    LinkEntry,
    LinkExtras,
    Replacement,
    SnapshotPlace,
    SnapshotVersion,
    TextCopy,
    TextOrigin,
    WarcLocation,
    WaybackCopy,
    merge_extras,
    split_origin,
)
from .report import SCHEMA_ID, EventHealth, EventSources, Report, Summary, finding_from_dict
from .run import ArchivesRun, EvidenceStoreRun, RunChange, RunRecord, WaybackRun

__all__ = [
    "HEALTHS",
    "SCHEMA_ID",
    "TEXT_ORIGINS",
    "ArchivedCopy",
    "ArchivesRun",
    "EventHealth",
    "EventSources",
    "EvidenceState",
    "EvidenceStoreRun",
    "Health",
    "HealthTally",
    "LinkEntry",
    "LinkExtras",
    "ReaderGets",
    "Replacement",
    "Report",
    "RunChange",
    "RunRecord",
    "SnapshotPlace",
    "SnapshotVersion",
    "Summary",
    "TextCopy",
    "TextOrigin",
    "WarcLocation",
    "WaybackCopy",
    "WaybackRun",
    "citation_fix",
    "finding_from_dict",
    "health_of",
    "merge_extras",
    "reader_gets",
    "split_origin",
]
