"""``archiver annotate``: add the Wayback copy to citations that lack one (Robust Links).

A citation that keeps the original URL, an archived copy and the copy's date
survives link rot. For every source without an ``archive_url`` whose link has a
chosen 2xx capture in its state (the Wayback stage picks the capture nearest the
citation's date for failing links, the newest for live ones), this adds
``archive_url`` and ``archive_date`` lines, with the same minimal-diff editor as
``archiver audit --write``: one inserted line per field, nothing else touched. When the
Wayback Machine has no copy and another archive holds the only verified one
(``state.archives``), that copy is written, with ``archive_source`` naming its archive
(``archive.today``, ``loc``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..history.store import StateStore
from ..models import Event
from ..timeline.catalog import Catalog
from ..timeline.edit import Fills


def _capture_date(timestamp: str) -> str | None:
    if len(timestamp) < 8 or not timestamp[:8].isdigit():
        return None
    return f"{timestamp[:4]}-{timestamp[4:6]}-{timestamp[6:8]}"


def planned_archive_urls(events: Iterable[Event], catalog: Catalog, store: StateStore) -> Fills:
    """Per event file: the sources to annotate with ``archive_url`` and ``archive_date``."""
    by_citation = {(c.file, c.source_index): link for link in catalog.links for c in link.citations}
    plan: Fills = {}
    for event in events:
        for source in event.sources:
            if source.archive_url:
                continue
            link = by_citation.get((event.file, source.index))
            if link is None or not link.checkable or link.archive_urls:
                continue  # a cited web.archive.org URL already is the copy
            state = store.states.get(link.normalized_url)
            wayback = state.wayback if state else None
            url, timestamp = (wayback.url, wayback.timestamp) if wayback else (None, None)
            archive = None
            others = state.archives if state else None
            if (not url or not timestamp) and others is not None and others.url and others.verified:
                # the only good copy is in another archive: written with its archive's id
                url, timestamp, archive = others.url, others.timestamp, others.archive
            if not url or not timestamp:
                continue
            fields: dict[str, str | int] = {"archive_url": url}
            if date := _capture_date(str(timestamp)):
                fields["archive_date"] = date
            if archive:
                fields["archive_source"] = archive
            plan.setdefault(event.path or event.file, []).append((source.index, fields))
    return plan
