"""``archiver annotate --write --relocations``: cite the verified new address, keep the old one.

Each citation of a dead link with an active replacement gets its ``url`` changed in place to the new address
and the old one kept as ``original_url`` (one new line; a citation that already has an ``original_url`` keeps
it: the first address cited is the one worth remembering). Nothing else in the file changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..history.store import StateStore
from ..models import Event
from ..timeline.catalog import Catalog
from ..timeline.edit import Fills


def planned_relocations(events: Iterable[Event], catalog: Catalog, store: StateStore) -> Fills:
    """Per event file: the sources whose ``url`` becomes their link's verified new address."""
    by_citation = {(c.file, c.source_index): link for link in catalog.links for c in link.citations}
    plan: Fills = {}
    for event in events:
        for source in event.sources:
            link = by_citation.get((event.file, source.index))
            state = store.states.get(link.normalized_url) if link is not None else None
            rep = state.replacement if state is not None else None
            if state is None or rep is None or not rep.active or not state.failing or not source.url:
                continue
            fields: dict[str, str | int] = {"url": rep.url}
            if not source.extra.get("original_url"):
                fields["original_url"] = source.url
            plan.setdefault(event.path or event.file, []).append((source.index, fields))
    return plan
