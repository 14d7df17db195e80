"""report.html: one self-contained page for maintainers and fact-checkers.

A sortable, filterable table of every link; each event with its sources (live
status, archived text, Wayback copy); the findings; two inline SVG charts (link rot
by citation year, by outlet). No external resource: CSS and JS are inline, and a
Content-Security-Policy allows only those two blocks (by hash), so the file works
offline and from an Actions artifact, and nothing injected could run.

Everything from events, pages and URLs goes through Jinja's autoescaping; only
http(s) URLs become links (:func:`archiver.report.view.safe_href`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import orjson
from markupsafe import Markup, escape

from ..models import (
    FAILING_STATUSES,
    LINK_STATUSES,
    STATUS_LABELS,
    STATUS_ORDER,
    UNCHECKED_STATUSES,
    Citation,
    Finding,
    LinkStatus,
)
from ..reportmodel import LinkEntry, Report
from ..reportmodel.health import HealthTally
from .evidence import losing_events
from .html_evidence import evidence_section, trend_chart
from .markdown import run_line, totals_line
from .view import (
    CHANGE_LABELS,
    Bar,
    EventView,
    ReportView,
    archived_copy,
    day,
    minute,
    outlet,
    plural,
    safe_href,
    verdict,
)

#: events listed per link in the table before "+N"
EVENTS_PER_ROW = 3
#: findings listed per kind in the HTML (the rest are in report.json)
FINDINGS_PER_KIND = 5000
WHY_MAX = 160


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("archiver", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=8)
def asset(name: str) -> str:
    return resources.files("archiver").joinpath(f"templates/{name}").read_text("utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def content_security_policy(css: str, js: str | None) -> str:
    """Nothing remote; only this page's own style block and script (by hash) may apply."""
    script = f"'sha256-{_sha256(js)}'" if js is not None else "'none'"
    return (f"default-src 'none'; style-src 'sha256-{_sha256(css)}'; script-src {script}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def anchor(event_id: str) -> str:
    """A safe, stable HTML id for an event (ids may contain anything)."""
    return "e-" + hashlib.sha1(event_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _short(text: str, limit: int = WHY_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- charts


def bar_chart(title: str, desc: str, bars: list[Bar], *, share: bool, chart_id: str) -> Markup:
    """A horizontal bar chart as inline SVG, with a title, a description, a scale and a text label per bar."""
    width, left, right, row, top = 660, 150, 150, 22, 44
    inner = width - left - right
    height = top + max(1, len(bars)) * row + 8
    peak = max((b.value for b in bars), default=0.0)
    if share:  # the scale ends at the next 10% above the highest bar
        scale = min(1.0, max(0.1, math.ceil(peak * 10 - 1e-9) / 10))
        ends = ("0%", f"{scale:.0%}")
    else:
        scale = float(max(1, math.ceil(peak)))
        ends = ("0", f"{int(scale):,}")
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
           f'<text x="0" y="16" font-weight="600" font-size="14">{escape(title)}</text>',
           f'<text x="{left}" y="{top - 6}" class="lab">{ends[0]}</text>',
           f'<text x="{left + inner}" y="{top - 6}" class="lab" text-anchor="end">{ends[1]}</text>']
    if not share:  # the legend of the two colours
        out.append(f'<rect class="bar" x="{width - 150}" y="6" width="10" height="10"/>'
                   f'<text x="{width - 136}" y="15" class="lab">dead</text>'
                   f'<rect class="bar2" x="{width - 90}" y="6" width="10" height="10"/>'
                   f'<text x="{width - 76}" y="15" class="lab">soft 404</text>')
    if not bars:
        out.append(f'<text x="0" y="{top + 14}" class="lab">no data yet</text>')
    for i, b in enumerate(bars):
        y = top + i * row
        label = f"{b.value:.0%} ({b.part:,} of {b.whole:,})" if share else f"{b.part:,} of {b.whole:,} links"
        dead_n, soft_n = b.detail.get(LinkStatus.DEAD, 0), b.detail.get(LinkStatus.SOFT_404, 0)
        tip = (f"{b.label}: {b.value:.1%} of {b.whole:,} checked links are dead or soft 404 ({b.part:,})" if share
               else f"{b.label}: {dead_n:,} dead, {soft_n:,} soft 404, of {b.whole:,} links")
        name = b.label if len(b.label) <= 22 else b.label[:21] + "…"
        out.append(f"<g><title>{escape(tip)}</title>")
        out.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(name)}</text>')
        out.append(f'<rect class="track" x="{left}" y="{y + 3}" width="{inner}" height="{row - 6}"/>')
        if share:
            w = round(inner * min(1.0, b.value / scale), 1)
            out.append(f'<rect class="bar" x="{left}" y="{y + 3}" width="{w}" height="{row - 6}"/>')
        else:
            dead = round(inner * dead_n / scale, 1)
            soft = round(inner * soft_n / scale, 1)
            out.append(f'<rect class="bar" x="{left}" y="{y + 3}" width="{dead}" height="{row - 6}"/>')
            out.append(f'<rect class="bar2" x="{left + dead}" y="{y + 3}" width="{soft}" height="{row - 6}"/>')
        out.append(f'<text x="{left + inner + 6}" y="{y + 15}" class="lab">{escape(label)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))


# --------------------------------------------------------------------------- page data
#
# The table rows and event entries (thousands of them) are built here with explicit
# escaping rather than in Jinja loops: ten times faster. Every value from a report or
# an event goes through ``escape`` (``_e``); hrefs only through :func:`safe_href`.

def _e(value: Any) -> str:
    """HTML-escape for text and quoted attributes (& < > " ')."""
    return html.escape(str(value), quote=True)


class SnapshotLinks:
    """Relative links from the report folder to snapshot files (paths relative to the working folder)."""

    def __init__(self, report_dir: str | os.PathLike[str]) -> None:
        self.base = os.path.abspath(report_dir)
        self.prefix = Path(os.path.relpath(os.getcwd(), self.base)).as_posix()

    def href(self, path: Any) -> str | None:
        if not path or not isinstance(path, str):
            return None
        rel = (Path(os.path.relpath(path, self.base)).as_posix() if os.path.isabs(path)
               else posixpath.normpath(posixpath.join(self.prefix, path)))
        return quote(rel, safe="/._-~")


def _a(href: str | None, text: str, cls: str = "") -> str:
    """A link when ``href`` is a safe http(s) URL (or our own relative link), else the text alone."""
    c = f' class="{cls}"' if cls else ""
    if href:
        return f'<a href="{_e(href)}"{c}>{_e(text)}</a>'
    return f"<span{c}>{_e(text)}</span>" if c else str(_e(text))


#: statuses whose links get no Wayback search link (nothing to rescue)
_NO_SEARCH = UNCHECKED_STATUSES | {LinkStatus.ALIVE}
#: statuses that get a summary card even at zero
_ALWAYS_CARDED = FAILING_STATUSES | {LinkStatus.ALIVE}


def _archived_html(link: LinkEntry) -> str:
    """The Wayback copy (or the citation's archive URL); a Wayback search only where a copy is needed."""
    copy = archived_copy(link)
    if copy.kind == "search":
        if link.status in _NO_SEARCH or safe_href(link.url) is None:
            return ""
        return f'<a href="{_e(copy.url)}" class="muted">search</a>'
    if safe_href(copy.url) is None:
        return ""
    label = ("Wayback" if copy.archive == "Wayback Machine" else copy.archive) if copy.kind == "copy" else "cited copy"
    return f'<a href="{_e(copy.url)}">{_e(label)}</a>'


def _why(link: LinkEntry) -> str:
    if link.moved_to:
        return f"moved to {link.moved_to}"
    return "" if link.status == LinkStatus.ALIVE else _short(verdict(link))


def _link_row(link: LinkEntry, snaps: SnapshotLinks, rank: dict[str, int]) -> str:
    status = str(link.status)
    events = sorted({c.event for c in link.citations})
    conf = ""
    if status in FAILING_STATUSES:
        conf = "confirmed" if link.confirmed else f"{link.failures} failed check(s)"
    snap = link.snapshot
    snap_href = snaps.href(snap.path) if snap is not None else None
    evs = ", ".join(f'<a href="#{anchor(e)}">{_e(e)}</a>' for e in events[:EVENTS_PER_ROW])
    if len(events) > EVENTS_PER_ROW:
        evs += f" +{len(events) - EVENTS_PER_ROW}"
    url = link.url
    return (f'<tr data-s="{_e(status)}"><td data-v="{rank.get(status, 9) * 2 + (0 if link.confirmed else 1)}">'
            f'<span class="badge b-{_e(status)}">{_e(link.status.label)}</span>'
            + (f'<span class="conf">{conf}</span>' if conf else "") + "</td>"
            f'<td class="u">{_a(safe_href(url), url)}</td><td>{_e(outlet(link))}</td>'
            f'<td class="ev" data-v="{len(events)}">{evs}</td><td class="why">{_e(_why(link))}</td>'
            f"<td>{_e(day(link.first_failed_at))}</td><td>{_e(day(link.checked_at))}</td>"
            f"<td>{_archived_html(link)}</td>"
            f"<td>{_a(snap_href, day(snap.captured_at) or 'text') if snap and snap_href else ''}</td></tr>")


def _event_list(view: ReportView, rows: Mapping[int, int]) -> tuple[list[str], dict[str, list[list[Any]]]]:
    """Each event's summary line (HTML) and its sources (data the script renders when it is opened).

    A source is ``[row, title, publisher, date, source index, line]``: its link's status,
    URL, evidence, Wayback copy and archived text are read from row ``row`` of the links
    table, so the page holds them once.
    """
    cited: dict[str, list[tuple[int, Citation, LinkEntry]]] = {}
    for link in view.links:
        for c in link.citations:
            cited.setdefault(c.event, []).append((c.source_index, c, link))
    entries: list[tuple[str, str, str]] = []
    data: dict[str, list[list[Any]]] = {}
    for event_id, items in cited.items():
        ev: EventView | None = view.events.get(event_id)
        items.sort(key=lambda t: t[0])
        key = anchor(event_id)
        sources = []
        for i, c, link in items:
            src = ev.sources.get(i) if ev else None
            sources.append([rows[id(link)], (src.title if src and src.title else None),
                            src.publisher if src else None, src.date if src else None, i, c.line])
        data[key] = sources
        statuses = [str(link.status) for _, _, link in items]
        bad = sum(1 for st in statuses if st in FAILING_STATUSES)
        file = (ev.file if ev else "") or items[0][1].file
        date = (ev.date if ev else None) or ""
        title = (ev.title if ev else None) or event_id
        n = len(items)
        strip = "".join(f'<i class="b-{_e(st)}" title="{_e(STATUS_LABELS.get(st, st))}"></i>' for st in statuses)
        html_ = (f'<details class="event" id="{key}" data-bad="{1 if bad else 0}"><summary><span class="strip">'
                 f'{strip}</span> {_e(date)} <b>{_e(title)}</b> <span class="muted small">{_e(file)} · {n} source'
                 f'{"" if n == 1 else "s"}' + (f" · {bad} failing" if bad else "") + "</span></summary></details>")
        entries.append((date, event_id, html_))
    entries.sort(key=lambda t: (t[0], t[1]))
    return [h for _, _, h in entries], data


def json_script(element_id: str, data: Any) -> Markup:
    """Data for the page's script: JSON in a non-executable script element, with <, > and & escaped
    so nothing in it can end the element or be read as markup."""
    text = (orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode("utf-8").replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029"))
    return Markup(f'<script type="application/json" id="{_e(element_id)}">{text}</script>')


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change of the run as the page lists it."""

    where: str
    href: str | None
    title: str
    text: str
    event_anchor: str | None


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    label: str
    rows: list[ChangeRow]


@dataclass(frozen=True, slots=True)
class FindingRow:
    where: str
    kind: str
    message: str
    fix: str | None


@dataclass(frozen=True, slots=True)
class FindingKindRow:
    """A kind of finding in the findings section (its findings are in the page's data, under ``key``)."""

    kind: str
    key: str
    severity: str
    count: str
    #: how many more are in report.json ('' when all are shown)
    more: str


@dataclass(frozen=True, slots=True)
class StatusCount:
    """A status with its count: a summary card (with the confirmed count of failing statuses) or a filter."""

    status: LinkStatus
    label: str
    count: str
    confirmed: str | None = None


def _changes(view: ReportView) -> list[ChangeGroup]:
    groups = []
    for kind, items in view.changes.items():
        rows = []
        for change, link in items:
            url = change.url
            cited = view.first_cited(link) if link else None
            if kind == "recovered":
                text = f"alive again (was {STATUS_LABELS.get(str(change.previous), change.previous)})"
            elif kind == "moved":
                text = f"moved to {link.moved_to}" if link and link.moved_to else "moved"
            else:
                text = f"{STATUS_LABELS.get(change.status, change.status)}: {verdict(link) if link else ''}"
            rows.append(ChangeRow(where=cited.where if cited else "", href=safe_href(url),
                                  title=cited.title if cited else url, text=text,
                                  event_anchor=anchor(cited.citation.event) if cited else None))
        groups.append(ChangeGroup(CHANGE_LABELS[kind], rows))
    return groups


def _finding_row(f: Finding) -> FindingRow:
    file, line = f.file, f.line
    return FindingRow(where=f"{file}:{line}" if file and line else (file or "-"), kind=f.kind, message=f.message,
                      fix=f.fix)


def page_context(view: ReportView, report_dir: str) -> dict[str, Any]:
    rank: dict[str, int] = {s: i for i, s in enumerate(STATUS_ORDER)}
    counts = view.status_counts
    cards = [StatusCount(s, s.label, f"{counts.get(s, 0):,}",
                         f"{view.confirmed_with(s):,}" if s in FAILING_STATUSES else None)
             for s in LINK_STATUSES if counts.get(s) or s in _ALWAYS_CARDED]
    snaps = SnapshotLinks(report_dir)
    ordered = sorted(view.links, key=lambda x: (rank.get(x.status, 9), not x.confirmed, x.url))
    rows = Markup("\n".join(_link_row(link, snaps, rank) for link in ordered))
    summaries, event_data = _event_list(view, {id(link): n for n, link in enumerate(ordered)})
    groups: list[FindingKindRow] = []
    finding_data: dict[str, list[list[Any]]] = {}
    for n, g in enumerate(view.finding_groups()):
        finding_data[f"k{n}"] = [[r.where, r.message, r.fix] for r in
                                 map(_finding_row, g.findings[:FINDINGS_PER_KIND])]
        groups.append(FindingKindRow(kind=g.kind, key=f"k{n}", severity=g.severity, count=f"{len(g.findings):,}",
                                     more=f"{max(0, len(g.findings) - FINDINGS_PER_KIND):,}"
                                     if len(g.findings) > FINDINGS_PER_KIND else ""))
    run = view.run
    run_rows = [("started", minute(run.started_at) + " UTC"), ("finished", minute(run.finished_at)
                + " UTC" if run.finished_at else "-"), ("complete", "yes" if run.complete else "no"),
                ("network", run.network), ("budgets hit", ", ".join(run.budgets_hit) or "none"),
                ("checked", f"{run.checked:,} of {run.due:,} due links")]
    if run.stage_seconds:
        run_rows.append(("stage seconds", ", ".join(f"{k} {float(v):.1f}" for k, v in run.stage_seconds.items())))
    run_rows.extend(("note", n) for n in run.notes)
    finding_total = sum(len(g.findings) for g in view.finding_groups(include_link_kinds=True))
    return {
        "day": day(run.started_at) or day(view.report.generated_at),
        "run_line": run_line(view), "headline": _headline_text(view), "quiet": view.quiet, "cards": cards,
        "citations": f"{view.citations:,}", "finding_total": f"{finding_total:,}", "changes": _changes(view),
        "new_findings": [_finding_row(f) for f in view.new_findings],
        "chart_year": bar_chart("Link rot by citation year",
                                "Share of checked links that are dead or soft 404, by the year the source was "
                                "published as cited.", view.rot_by_year(), share=True, chart_id="cy"),
        "chart_outlet": bar_chart("Dead links by outlet",
                                  "Outlets with the most dead (red) and soft-404 (orange) links, with their number "
                                  "of links.", view.rot_by_outlet(), share=False, chart_id="co"),
        "statuses": [StatusCount(s, s.label, f"{counts[s]:,}") for s in STATUS_ORDER if counts.get(s)],
        "rows": rows, "events": Markup("\n".join(summaries)), "finding_groups": groups,
        "data": json_script("report-data", {"events": event_data, "findings": finding_data}),
        "run_rows": run_rows, "health": evidence_section(losing_events(view.report)),
        "relocations": [link for link in view.links if link.replacement is not None],
    }


def _headline_text(view: ReportView) -> str:
    if view.run.network == "offline":
        return "Network offline: this run could not reach the web, so no link was judged."
    if view.quiet:
        return f"Quiet night: no link changed status and no new findings. {totals_line(view)}."
    parts = [f"{len(items):,} {CHANGE_LABELS[kind].lower()}" for kind, items in view.changes.items()]
    if view.new_findings:
        parts.append(plural(len(view.new_findings), "new finding"))
    return "Since the previous run: " + ", ".join(parts) + f". {totals_line(view)}."


def render_html(view: ReportView, *, report_dir: str | os.PathLike[str] = "reports",
                trend: Sequence[HealthTally] = ()) -> str:
    css, js = asset("report.css"), asset("report.js")
    context = page_context(view, str(report_dir))
    template = environment().get_template("report.html.j2")
    return template.render(css=Markup(css), js=Markup(js), csp=content_security_policy(css, js),
                           trend=trend_chart(trend), **context)


def html_report(report: Report, events: Mapping[str, EventView] | None = None, *,
                report_dir: str | os.PathLike[str] = "reports", trend: Sequence[HealthTally] = ()) -> str:
    """report.html; ``trend``: events by health on each run so far (oldest first), drawn as a chart."""
    return render_html(ReportView(report, events), report_dir=report_dir, trend=trend)
