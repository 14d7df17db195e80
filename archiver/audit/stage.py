"""What the reports need beyond the link states, computed offline at the end of a run.

:func:`audit_stage` runs the citation audit (:mod:`archiver.audit.rules`, about 0.5 s on the
corpus) with the snapshot store's page metadata when there is any, and names each
link's outlet from the publisher registry. Both ``archiver check`` and ``archiver
report`` call it, so both reports show the same citation findings.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..models import Event, Finding, Link, PageMeta
from ..options import AuditOptions
from ..reportmodel import LinkExtras
from ..timeline.catalog import Catalog
from .registry import Match, Registry, RegistryError, load_registry
from .rules import audit

if TYPE_CHECKING:
    from ..snapshots.store import SnapshotStore


@dataclass(slots=True)
class AuditOutcome:
    findings: list[Finding] = field(default_factory=list)
    #: per-link report extras keyed by normalized URL: {"outlet": name}
    outlets: dict[str, LinkExtras] = field(default_factory=dict)
    #: why the audit did not run (an invalid registry), for the run's notes
    note: str | None = None
    seconds: float = 0.0


def page_meta(options: AuditOptions, keys: Iterable[str], store: SnapshotStore | None = None) -> dict[str, PageMeta]:
    """What each link's stored snapshot says about its page (none when there is no store yet).

    ``store``: the run's snapshot store, when it has one (its directory walk is reused).
    """
    if not options.snapshots.is_dir():
        return {}
    if store is None:
        from ..snapshots.store import SnapshotStore

        store = SnapshotStore(options.snapshots)
    return store.page_meta(keys)


def outlets(links: Iterable[Link], registry: Registry | None) -> dict[str, LinkExtras]:
    """Each link's outlet: the registry's name for its host, else its registrable domain."""
    cache: dict[str, Match | None] = {}
    out: dict[str, LinkExtras] = {}
    for link in links:
        if not link.host:
            continue
        if registry is not None and link.host not in cache:
            cache[link.host] = registry.lookup(link.host)
        match = cache.get(link.host)
        name = match.entry.name if match is not None and match.entry.name else link.domain
        if name:
            out[link.normalized_url] = LinkExtras(outlet=name)
    return out


def audit_stage(options: AuditOptions, events: list[Event], catalog: Catalog, scope: list[Link] | None = None,
                snapshot_store: SnapshotStore | None = None) -> AuditOutcome:
    """Citation findings and outlets for the links in ``scope`` (all links when None)."""
    t0 = time.monotonic()
    links = catalog.links if scope is None else scope
    try:
        registry = load_registry(options.registry)
    except RegistryError as exc:
        return AuditOutcome(outlets=outlets(links, None), note=f"citation audit skipped: {exc}",
                            seconds=time.monotonic() - t0)
    pages = page_meta(options, (link.normalized_url for link in links if link.checkable), snapshot_store)
    findings = audit(events, catalog, registry, pages=pages, options=options)
    if scope is not None:
        cited = {(c.file, c.source_index) for link in scope for c in link.citations}
        findings = [f for f in findings if (f.file, f.source_index) in cited]
    return AuditOutcome(findings=findings, outlets=outlets(links, registry), seconds=time.monotonic() - t0)
