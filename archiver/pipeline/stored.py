"""The report from what is stored (link state, snapshots, the last run record), without the network.

Used by ``archiver report``, ``archiver merge``, ``archiver site`` and ``archiver wayback``.
"""

from __future__ import annotations

from ..audit.stage import audit_stage
from ..config import Settings
from ..history import known_findings as fingerprints
from ..history.store import StateStore
from ..models import Finding
from ..report.build import RunInfo, build_report
from ..reportmodel import Report, RunRecord, merge_extras
from ..snapshots.stage import stored_extras
from ..snapshots.store import SnapshotStore
from ..store.locations import add_locations
from ..support.timefmt import parse_iso
from ..timeline.catalog import Catalog, build_catalog
from ..timeline.load import LoadResult, load_timeline
from .findings import link_findings
from .health import assess_events


def stored_report(settings: Settings, *, record_findings: bool = False, loaded: LoadResult | None = None,
                  catalog: Catalog | None = None, store: StateStore | None = None
                  ) -> tuple[Report, LoadResult]:
    """The report from the stored state and the last run record (no network), with the loaded events.

    ``record_findings`` (``archiver merge``, which completes sharded runs) compares the
    findings with the previous run's and records them, as ``archiver check`` does.
    ``loaded``, ``catalog``, ``store``: the events, their catalog and the link state
    (as saved), when the caller has them already.
    """
    if loaded is None:
        loaded, built = load_timeline(settings.timeline_options)
        catalog = catalog or built
    catalog = catalog or build_catalog(loaded.events)
    store = store or StateStore(settings.snapshots).load()
    last = RunRecord.from_dict(store.read_run() or {})
    findings = stored_findings(loaded, catalog, store)
    snapshot_store = SnapshotStore.from_settings(settings)
    audited = audit_stage(settings.audit_options, loaded.events, catalog, snapshot_store=snapshot_store)
    findings.extend(audited.findings)
    info = run_info_from_record(last, settings)
    if audited.note and audited.note not in info.notes:
        info.notes.append(audited.note)
    info.generated_at = settings.clock()
    report = build_report(catalog.links, store.states, findings, info,
                          extras=merge_extras(stored_extras(snapshot_store, catalog.links), audited.outlets))
    assess_events(settings, report, catalog.links, store, loaded.events, record=record_findings)
    if record_findings:
        report.run.new_findings = fingerprints.record(settings.snapshots, report.findings)
    run = report.run
    run.requests, run.hosts, run.shards = last.requests, last.hosts, last.shards
    run.wayback, run.archives, run.evidence_store = last.wayback, last.archives, last.evidence_store
    add_locations(report, settings.store_options)  # where each snapshot's raw record lives
    if record_findings:
        store.write_run(run.to_dict())
    return report, loaded


def stored_findings(loaded: LoadResult, catalog: Catalog, store: StateStore) -> list[Finding]:
    """The timeline's, the catalog's and the store's findings, then what each link's state says."""
    # the Wayback policy imports the archive client (httpx): only when a report is built
    from ..wayback.policy import wayback_findings

    findings: list[Finding] = [*loaded.findings, *catalog.findings, *store.findings]
    for link in catalog.links:
        state = store.states.get(link.normalized_url)
        findings.extend(link_findings(link, state))
        findings.extend(wayback_findings(link, state))  # what the Wayback stage learnt, as `archiver run` shows
    return findings


def run_info_from_record(last: RunRecord, settings: Settings) -> RunInfo:
    """The last run's record (``run.json``) as a RunInfo; a store without one gets an empty run now."""
    return RunInfo(started_at=parse_iso(last.started_at) or settings.clock(), finished_at=parse_iso(last.finished_at),
                   complete=last.complete, network=last.network, budgets_hit=list(last.budgets_hit),
                   checked=last.checked, due=last.due, notes=list(last.notes), changes=list(last.changes),
                   shard=last.shard, new_findings=last.new_findings, stage_seconds=dict(last.stage_seconds))
