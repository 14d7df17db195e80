"""report.html's event health: the filterable section "Events losing their evidence" and the trend chart.

Both are built here as escaped HTML strings (every value from a report goes through ``_e``, only http(s)
URLs become links). The filter controls start ``hidden`` and the page's script shows them, so without
script the full list is what a reader sees. The chart is inline SVG drawn server-side from the runs'
:class:`~archiver.reportmodel.health.HealthTally`, with a title, a description, a legend, labelled axes
and a text summary beside it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from ..reportmodel.health import HEALTHS, HealthTally
from .evidence import STATE_LABELS, CitedEvidence, EventEvidence, Losing, counts_line, gets_text
from .view import day, plural, safe_href

#: runs shown in the trend chart (the most recent)
TREND_RUNS = 180
#: the chart's colour for each health
HEALTH_COLOURS = {"lost": "#c62828", "weakened": "#d9480f", "unknown": "#8c959f", "ok": "#1a7f37"}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _link(url: str | None, text: str) -> str:
    href = safe_href(url)
    return f'<a href="{_e(href)}" rel="noopener noreferrer">{_e(text)}</a>' if href else f"<span>{_e(text)}</span>"


# --------------------------------------------------------------------------- the section


def _cited_item(c: CitedEvidence, *, compact: bool = False) -> str:
    head = (f'<li data-state="{_e(c.state)}"><span class="badge st-{_e(c.state)}">{_e(STATE_LABELS[c.state])}'
            f'</span> {_link(c.link.url, c.link.url)} <span class="muted small">{_e(c.where)}</span>')
    if compact:  # a still weakened event's unreadable source: a reader gets nothing from it
        return head + "</li>"
    gets, fix_text = c.gets, c.fix
    got = gets_text(gets)
    if gets.kind == "archived copy":
        got_html = _link(gets.where, got)
    elif gets.kind == "stored text":
        got_html = f"{_e(got)} <code>{_e(gets.where)}</code>"
    else:
        got_html = _e(got)
    fix = f' <span class="fix">Fix: <code>{_e(fix_text)}</code></span>' if fix_text else ""
    return f'{head}<br><span class="small">a reader gets {got_html}.</span>{fix}</li>'



def _event_item(ev: EventEvidence, *, compact: bool) -> str:
    e = ev.event
    was = f" · was {_e(e.previous_health)}" if ev.newly else ""
    label = "newly weakened" if ev.newly and e.health == "weakened" else str(e.health)
    cited = [c for c in ev.cited if not c.state.readable] if compact else ev.cited
    search = f"{ev.title} {e.file} {e.id}".lower()
    return (f'<article class="hev" data-h="{_e(e.health)}" data-newly="{1 if ev.newly else 0}" '
            f'data-q="{_e(search)}"><h3><span class="badge h-{_e(e.health)}">{_e(label)}</span> {_e(ev.title)} '
            f'<span class="muted small">{_e(e.date or "")} · <code>{_e(e.file)}</code>{was} · '
            f"{e.sources.live} live, {e.sources.copy} archived, {e.sources.lost} lost, {e.sources.unknown} unknown"
            f'</span></h3><ul class="cites">{"".join(_cited_item(c, compact=compact) for c in cited)}</ul></article>')


def evidence_section(losing: Losing | None) -> Markup:
    """The section's body (under its heading): the counts, the filter, the events (lost, newly weakened,
    still weakened). One line when no event lost or weakened its evidence, or for a report without events."""
    if losing is None:
        return Markup('<p class="muted">This report predates event health: no event was assessed.</p>')
    if losing.empty:
        return Markup(f'<p id="health-none">No event has lost or weakened its evidence '
                      f"({_e(counts_line(losing))}).</p>")
    items = [_event_item(ev, compact=False) for ev in (*losing.lost, *losing.newly_weakened)]
    n_still = len(losing.still_weakened)
    if n_still:  # folded, so the page's first screen stays short (a filter opens it)
        items.append(f'<details id="health-still"><summary>{_e(plural(n_still, "event"))} still weakened'
                     "</summary>" + "".join(_event_item(ev, compact=True) for ev in losing.still_weakened)
                     + "</details>")
    return Markup(
        f'<p>Events by health: {_e(counts_line(losing))}. <b>Lost</b>: no source is readable; <b>weakened</b>: '
        f"some source is lost or unknown. Lost events first, then those weakened this run, then "
        f"{_e(plural(n_still, 'event'))} still weakened (their unreadable sources only).</p>"
        '<div class="filters" id="health-filters" hidden><label>Health <select id="f-health">'
        '<option value="">lost and weakened</option><option value="lost">lost</option>'
        '<option value="newly">newly weakened</option><option value="weakened">weakened</option></select></label>'
        '<label>Filter <input type="search" id="f-health-text" placeholder="title or file…" autocomplete="off">'
        '</label><span id="f-health-count" class="muted" aria-live="polite"></span></div>'
        f'<div id="health-list">{"".join(items)}</div>')


# --------------------------------------------------------------------------- the trend chart


def _scale(peak: int) -> int:
    """A round top for the y axis (1, 2, 5 × a power of ten) at or above ``peak``."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= peak:
                return step * m
        step *= 10


def _series(tallies: Sequence[HealthTally], top: int, box: tuple[int, int, int, int]) -> list[str]:
    left, y0, inner_w, inner_h = box
    n = len(tallies)
    out = []
    for h in HEALTHS:
        pts = []
        for i, t in enumerate(tallies):
            x = left + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)
            y = y0 + inner_h - inner_h * t.counts.get(str(h), 0) / top
            pts.append(f"{x:.1f},{y:.1f}")
        out.append(f'<polyline class="trend" data-health="{h}" fill="none" stroke="{HEALTH_COLOURS[str(h)]}" '
                   f'stroke-width="2" points="{" ".join(pts)}"><title>{h}</title></polyline>')
    return out


def trend_summary(tallies: Sequence[HealthTally]) -> str:
    """The chart in words: the span, and each health's count at the first and the last run."""
    first, last = tallies[0], tallies[-1]
    parts = [f"{h}: {first.counts.get(str(h), 0):,} → {last.counts.get(str(h), 0):,}" for h in HEALTHS]
    return (f"Events by health over {plural(len(tallies), 'run')}, {day(first.at)} to {day(last.at)}: "
            + "; ".join(parts) + ".")


def trend_chart(trend: Sequence[HealthTally]) -> Markup:
    """Events by health per run as an inline SVG line chart with its text summary ('' history: one line)."""
    tallies = list(trend)[-TREND_RUNS:]
    if not tallies:
        return Markup('<p class="muted" id="trend-none">No history yet: the trend of events by health starts '
                      "with the next runs.</p>")
    width, height, left, right, top_, bottom = 660, 260, 48, 16, 40, 40
    inner_w, inner_h = width - left - right, height - top_ - bottom
    top = _scale(max((max(t.counts.values(), default=0) for t in tallies), default=0) or 1)
    summary = trend_summary(tallies)
    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-labelledby="tr-t tr-d" '
           f'xmlns="http://www.w3.org/2000/svg" id="trend-chart">',
           '<title id="tr-t">Events by health, per run</title>',
           f'<desc id="tr-d">{_e(summary)}</desc>',
           '<text x="0" y="16" font-weight="600" font-size="14">Events by health, per run</text>']
    for i, h in enumerate(HEALTHS):  # the legend
        x = width - 330 + i * 82
        out.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{HEALTH_COLOURS[str(h)]}"/>'
                   f'<text x="{x + 14}" y="15" class="lab">{h}</text>')
    base = top_ + inner_h
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + inner_w}" y2="{base}" stroke="#8c959f"/>'
               f'<line x1="{left}" y1="{top_}" x2="{left}" y2="{base}" stroke="#8c959f"/>'
               f'<line x1="{left}" y1="{top_}" x2="{left + inner_w}" y2="{top_}" stroke="#d8dee4"/>'
               f'<text x="{left - 6}" y="{base + 4}" text-anchor="end" class="lab">0</text>'
               f'<text x="{left - 6}" y="{top_ + 4}" text-anchor="end" class="lab">{top:,}</text>'
               f'<text x="12" y="{top_ + inner_h // 2}" class="lab" text-anchor="middle" '
               f'transform="rotate(-90 12 {top_ + inner_h // 2})">events</text>'
               f'<text x="{left}" y="{base + 16}" class="lab">{_e(day(tallies[0].at))}</text>'
               f'<text x="{left + inner_w}" y="{base + 16}" class="lab" text-anchor="end">'
               f"{_e(day(tallies[-1].at))}</text>"
               f'<text x="{left + inner_w // 2}" y="{base + 32}" class="lab" text-anchor="middle">run (UTC date)'
               "</text>")
    out.extend(_series(tallies, top, (left, top_, inner_w, inner_h)))
    out.append("</svg>")
    return Markup("".join(out) + f'<p class="small muted" id="trend-summary">{_e(summary)}</p>')
