"""``archiver site``: a static reading room for GitHub Pages.

``index.html`` lists every event with its health and its sources' status; ``e/<id>.html`` is
one event with its health and each source's live status, evidence, Wayback copy, archived
text and what a reader gets from it (the live page, an archived copy, stored text, nothing);
``s/<hash>-<n>.html`` is one stored snapshot version with its provenance header
(URL, capture time, HTTP status, hashes, Wayback link) and its text. Links are
relative, so the site works from a ``file://`` checkout and from GitHub Pages; pages
carry no script (but the index's few lines that filter and sort by event health) and a
Content-Security-Policy that forbids any remote load. Event
data and page text are escaped; only http(s) URLs become links.

Pages whose content did not change are not rewritten, so a redeploy diffs small.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ..models import FAILING_STATUSES, STATUS_LABELS, Citation, LinkStatus
from ..reportmodel import EventHealth, LinkEntry, Report
from ..reportmodel.health import Health, reader_gets
from ..snapshots.store import SnapshotInfo, SnapshotStore
from ..support import atomic
from ..support.storepaths import url_hash
from .evidence import STATE_LABELS, health_by_event
from .html import anchor, asset, content_security_policy, environment
from .view import Archived, EventView, ReportView, archived_copy, day, safe_href, verdict

#: provenance fields shown first, in this order (the rest follow as stored)
HEADER_ORDER = ("title", "url", "final_url", "captured_at", "http_status", "content_type", "origin", "wayback_url",
                "published", "author", "site_name", "kind", "encoding", "text_sha256", "text_chars", "body_sha256",
                "body_bytes", "body_truncated", "extractor", "archiver", "version", "first_capture",
                "similarity_to_first", "changed_words", "cited_by")


@dataclass(slots=True)
class SiteResult:
    out: Path
    pages: int
    written: int
    removed: int


def snapshot_page(normalized_url: str, n: int) -> str:
    """The site path of a link's n-th stored version (0: the first capture)."""
    return f"s/{url_hash(normalized_url)}-{n}.html"


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


@dataclass(frozen=True, slots=True)
class HeaderRow:
    """A line of a snapshot's header (a link when it is a safe URL)."""

    key: str
    value: str
    href: str | None


@dataclass(frozen=True, slots=True)
class PageLink:
    """A link to an event's page."""

    href: str
    label: str


@dataclass(frozen=True, slots=True)
class TextLink:
    """A link to a page of archived text: version ``n`` (from 0), captured on ``captured`` (a day)."""

    href: str
    captured: str
    n: int = 0


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source on an event's page."""

    index: int
    line: int | None
    #: the link's status, and how people read it
    s: str
    label: str
    title: str
    url: str
    href: str | None
    publisher: str | None
    date: str | None
    why: str
    archived: Archived | None
    snapshots: list[TextLink]
    #: what a reader gets from it: live page, archived copy, stored text or nothing, and where (a link or None)
    gets: str
    gets_href: str | None
    #: its evidence state ('' when the report does not say)
    state: str = ""
    state_label: str = ""


@dataclass(frozen=True, slots=True)
class EventRow:
    """An event on the index page: its sources' statuses, how many have archived text."""

    href: str
    title: str
    date: str
    sources: list[tuple[str, str]]
    bad: int
    archived: int
    #: the event's health ('' when the report has none) and its rank, worst first (9: none)
    health: str = ""
    rank: int = 9


def _header_rows(header: Mapping[str, Any]) -> list[HeaderRow]:
    keys = [k for k in HEADER_ORDER if k in header] + sorted(k for k in header if k not in HEADER_ORDER
                                                              and k != "format")
    rows = []
    for k in keys:
        value = header[k]
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        text = "" if value is None else str(value)
        rows.append(HeaderRow(k, text, safe_href(text) if k in ("url", "final_url", "wayback_url") else None))
    return rows


class _Writer:
    def __init__(self, out: Path) -> None:
        self.out, self.pages, self.written = out, 0, 0
        self.paths: set[Path] = set()

    def write(self, rel: str, text: str) -> None:
        path = self.out / rel
        self.paths.add(path)
        self.pages += 1
        try:
            if path.read_text("utf-8") == text:
                return
        except (OSError, UnicodeDecodeError):
            pass
        atomic.write_text(path, text, fsync=False)
        self.written += 1

    def prune(self, folder: str) -> int:
        """Remove pages of a previous build that this build did not write (only *.html in our folders)."""
        removed = 0
        for path in sorted((self.out / folder).glob("*.html")):
            if path not in self.paths:
                path.unlink()
                removed += 1
        return removed


@dataclass(slots=True)
class _Site:
    """What every page of one build needs."""

    report: Report
    view: ReportView
    events: Mapping[str, EventView]
    store: SnapshotStore
    env: jinja2.Environment
    common: dict[str, Any]
    writer: _Writer
    #: each archived link's snapshots, by normalized URL
    versions: dict[str, list[SnapshotInfo]]
    #: each event's health, by id (empty for a report without events)
    health: Mapping[str, EventHealth]


def build_site(report: Report, events: Mapping[str, EventView], store: SnapshotStore,
               out: str | os.PathLike[str]) -> SiteResult:
    """Write the reading room into ``out`` from a report, the events and the snapshot store."""
    root = Path(out)
    view = ReportView(report, events)
    env = environment()
    css = asset("site.css")
    common = {"css": Markup(css), "csp": content_security_policy(css, None)}  # Markup: the hash is of these bytes
    writer = _Writer(root)
    site = _Site(report, view, events, store, env, common, writer, _versions(view, store), health_by_event(report))
    _write_snapshot_pages(site)
    index_rows = _write_event_pages(site)
    _write_index(site, index_rows)
    removed = writer.prune("e") + writer.prune("s")
    return SiteResult(out=root, pages=writer.pages, written=writer.written, removed=removed)


def _versions(view: ReportView, store: SnapshotStore) -> dict[str, list[SnapshotInfo]]:
    versions: dict[str, list[SnapshotInfo]] = {}
    for link in view.links:
        key = link.normalized_url
        if key and link.status is not LinkStatus.INVALID:
            found = store.versions(key)
            if found:
                versions[key] = found
    return versions


def _write_snapshot_pages(site: _Site) -> None:
    page_tpl = site.env.get_template("site_snapshot.html.j2")
    events = site.events
    for link in site.view.links:
        key = link.normalized_url
        infos = site.versions.get(key, [])
        for n, info in enumerate(infos):
            snap = site.store.read(key, info.path.name)
            if snap is None:
                continue
            citing = sorted({c.event for c in link.citations})
            site.writer.write(snapshot_page(key, n), page_tpl.render(
                **site.common, title=str(snap.info.header.get("title") or link.url),
                header=_header_rows(snap.info.header), paragraphs=_paragraphs(snap.text),
                file=f"snapshots/{info.rel}", status=str(link.status), status_label=link.status.label, n=n,
                count=len(infos),
                others=[TextLink(snapshot_page(key, i).removeprefix("s/"), day(v.captured_at), i)
                        for i, v in enumerate(infos) if i != n],
                events=[PageLink(f"../e/{anchor(e)}.html", _event_title(events, e)) for e in citing]))


def _event_title(events: Mapping[str, EventView], event_id: str) -> str:
    ev = events.get(event_id)
    return ev.title if ev is not None and ev.title else event_id


def _write_event_pages(site: _Site) -> list[EventRow]:
    """One page per event (cited or known), in date order; the index's rows."""
    events = site.events
    event_tpl = site.env.get_template("site_event.html.j2")
    by_event: dict[str, list[tuple[int, Citation, LinkEntry]]] = {}
    for link in site.view.links:
        for c in link.citations:
            by_event.setdefault(c.event, []).append((c.source_index, c, link))
    index_rows = []
    for event_id in sorted(set(by_event) | set(events), key=lambda e: ((events[e].date or "") if e in events
                                                                     else "", e)):
        ev = events.get(event_id)
        sources = [_source_row(site, ev, index, c, link)
                   for index, c, link in sorted(by_event.get(event_id, []), key=lambda t: t[0])]
        title = (ev.title if ev and ev.title else None) or event_id
        page = f"e/{anchor(event_id)}.html"
        health = site.health.get(event_id)
        site.writer.write(page, event_tpl.render(**site.common, title=title, date=(ev.date if ev else None) or "",
                                                 file=(ev.file if ev else "") or "", event_id=event_id,
                                                 sources=sources, health=health))
        index_rows.append(EventRow(href=page, title=title, date=(ev.date if ev else None) or "",
                                   sources=[(s.s, s.label) for s in sources],
                                   bad=sum(1 for s in sources if s.s in FAILING_STATUSES),
                                   archived=sum(1 for s in sources if s.snapshots),
                                   health=str(health.health) if health else "",
                                   rank=health.health.order if health else 9))
    return index_rows


def _source_row(site: _Site, ev: EventView | None, index: int, c: Citation, link: LinkEntry) -> SourceRow:
    """One source of an event's page: citation ``c`` of ``link``, the event's source ``index``."""
    src = ev.sources.get(index) if ev else None
    key = link.normalized_url
    status = str(link.status)
    copy = archived_copy(link)
    texts = [TextLink("../" + snapshot_page(key, i), day(v.captured_at), i)
             for i, v in enumerate(site.versions.get(key, []))]
    gets = reader_gets(link)
    if gets.kind == "stored text":  # the text's page on this site, its latest version, when there is one
        gets_href: str | None = texts[-1].href if texts else None
    else:
        gets_href = safe_href(gets.where)
    state = str(link.evidence_state or "")
    return SourceRow(
        index=index, line=c.line, s=status, label=link.status.label,
        title=(src.title if src and src.title else None) or link.url, url=link.url, href=safe_href(link.url),
        publisher=src.publisher if src else None, date=src.date if src else None,
        why="" if status == LinkStatus.ALIVE else verdict(link),
        archived=copy if safe_href(copy.url) and safe_href(link.url) else None, snapshots=texts,
        gets=gets.kind, gets_href=gets_href, state=state, state_label=STATE_LABELS.get(state, ""))


def _write_index(site: _Site, index_rows: list[EventRow]) -> None:
    report, view = site.report, site.view
    counts = view.status_counts
    healths = [(str(h), sum(1 for e in site.health.values() if e.health == h))
               for h in sorted(Health, key=lambda h: h.order)] if report.events is not None else []
    js = asset("site_index.js") if healths else None  # the health filter's script, only where it has work
    site.writer.write("index.html", site.env.get_template("site_index.html.j2").render(
        **{**site.common, "csp": content_security_policy(asset("site.css"), js)}, js=Markup(js or ""),
        events=index_rows, links=len(view.links), snapshots=sum(len(v) for v in site.versions.values()),
        counts=[(s, STATUS_LABELS[s], counts[s]) for s in STATUS_LABELS if counts.get(s)], healths=healths,
        generated=day(report.run.started_at) or day(report.generated_at)))
