"""Event health (issue 22): can a reader still verify an event from the sources it cites?

The definitions are the shared contract's (``events[]``, ``summary.events``):

* each citation is in one :class:`EvidenceState`: ``live`` (the link is alive), ``copy`` (not alive, but a
  verified good archived copy, in any archive, or stored text of the cited page exists), ``lost`` (dead or
  soft-404, no stored text, and the Wayback Machine and every other archive were asked and hold no good copy),
  ``unknown`` (anything else: blocked or inconclusive without a copy, or dead while an archive has not been
  asked yet);
* an event's :class:`Health` follows from its citations' states (:func:`health_of`).

Which state a link is in is decided where the link state is known (``archiver.report.health``); this module
holds the typed vocabulary the report, its renderers and the reading room share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..models import LinkStatus
from .links import LinkEntry
from .states import HEALTHS, EvidenceState, Health, HealthTally, health_of

__all__ = ["HEALTHS", "EvidenceState", "Health", "HealthTally", "ReaderGets", "citation_fix", "health_of",
           "reader_gets"]

#: what a reader of the event gets from one source
ReaderKind = Literal["live page", "archived copy", "stored text", "nothing"]


@dataclass(frozen=True, slots=True)
class ReaderGets:
    """What a reader gets from a cited link: the live page, an archived copy (its URL), the stored text (its
    path), or nothing."""

    kind: ReaderKind
    #: the page's URL, the copy's URL or the text's path (None for nothing)
    where: str | None = None


def reader_gets(entry: LinkEntry) -> ReaderGets:
    """What a reader gets from ``entry``: the live page first, then a verified archived copy (the best copy
    named, else the Wayback copy), then the stored text."""
    if entry.status == LinkStatus.ALIVE:
        return ReaderGets("live page", entry.url)
    if entry.copy is not None and entry.copy.verified and entry.copy.url:
        return ReaderGets("archived copy", entry.copy.url)
    if entry.wayback is not None and entry.wayback.verified and entry.wayback.url:
        return ReaderGets("archived copy", entry.wayback.url)
    if entry.snapshot is not None and entry.snapshot.path:
        return ReaderGets("stored text", entry.snapshot.path)
    return ReaderGets("nothing")


def citation_fix(entry: LinkEntry, state: EvidenceState) -> str | None:
    """What would help a citation that is not live, in one line (None when nothing is to be done): the archived
    copy to annotate, or the citation that needs a new source."""
    if state == EvidenceState.LIVE:
        return None
    got = reader_gets(entry)
    if state == EvidenceState.COPY:
        if got.kind == "archived copy" and got.where not in entry.archive_urls:
            return f"add archive_url: {got.where} (archiver annotate --write)"
        if got.kind == "stored text":
            return f"only the stored text ({got.where}) remains: cite an archived copy or a new source"
        return None
    if state == EvidenceState.LOST:
        return "cite a new source: the page is gone and no archive holds a good copy"
    return None
