"""Issue 22 in report.md and report.html: "Events losing their evidence" and the trend of events by health."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

from archiver.report.build import write_reports
from archiver.report.html import html_report
from archiver.report.markdown import markdown_report
from archiver.reportmodel import Report
from archiver.reportmodel.health import HealthTally
from tests.support.reportdata import HOSTILE_TITLE, HOSTILE_URL, Built, Ev, Src, build

WAYBACK = "https://web.archive.org/web/2020/https://c-site.net/2"
SVG = "{http://www.w3.org/2000/svg}"


def night() -> Built:
    """One event of each kind: ok, lost (was weakened), newly weakened (was ok), still weakened, unknown."""
    return build([
        Ev("2020-a-ok", [Src("https://a-site.net/1")], title="All fine"),
        Ev("2020-d-still", [Src("https://d-site.net/1"), Src("https://d-site.net/2", status="error")],
           title="Still weakened event", previous="weakened"),
        Ev("2020-c-new", [Src("https://c-site.net/1"),
                          Src("https://c-site.net/2", status="dead", state="copy", wayback=WAYBACK, verified=True),
                          Src("https://c-site.net/3", status="blocked")], title="Newly weakened event", previous="ok"),
        Ev("2020-b-lost", [Src("https://b-site.net/1", status="dead", confirmed=True, state="lost")],
           title="Lost event", previous="weakened", date="2021-01-01"),
        Ev("2020-e-unknown", [Src("https://e-site.net/1", status="blocked")], title="Unknown event"),
    ])


def section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i:text.index(end, i)]


# --------------------------------------------------------------------------- report.md


def test_markdown_opens_with_lost_then_newly_weakened_with_states_and_fixes() -> None:
    text = markdown_report(night().report)
    part = section(text, "### Events losing their evidence", "**Totals:**")
    assert text.index("### Events losing their evidence") < text.index("**Totals:**")
    assert part.startswith("### Events losing their evidence (1 lost, 1 newly weakened)")
    assert "1 lost, 2 weakened, 1 unknown, 1 ok" in part
    headings = re.findall(r"^#### (.+)$", part, re.M)
    assert headings == ["Lost: Lost event (2021-01-01)", "Newly weakened: Newly weakened event (2020-05-01)"]
    lost = section(part, "#### Lost", "#### Newly")
    assert "**lost** (was weakened)" in lost
    assert "https://b-site.net/1" in lost and "a reader gets nothing" in lost
    assert "Fix: `cite a new source: the page is gone and no archive holds a good copy`" in lost
    new = part[part.index("#### Newly"):]
    assert "**weakened** (was ok)" in new
    assert f"a reader gets an archived copy ([{WAYBACK}]({WAYBACK}))" in new
    assert f"Fix: `add archive_url: {WAYBACK} (archiver annotate --write)`" in new
    assert "**unknown**; a reader gets nothing." in new and "**live**; a reader gets the live page." in new
    # the still weakened event: one compact line with its unreadable source only
    assert "**Still weakened (1)**\n\n- Still weakened event (`events/2020-d-still.md`): " \
           "`events/2020-d-still.md:13` unknown" in part
    assert "All fine" not in part and "Unknown event" not in part


def test_markdown_one_line_when_no_event_is_losing_evidence() -> None:
    b = build([Ev("e1", [Src("https://a-site.net/1")])], health=True)
    text = markdown_report(b.report)
    assert "**Events losing their evidence:** none (0 lost, 0 weakened, 0 unknown, 1 ok)." in text
    assert "### Events losing their evidence" not in text


def test_markdown_old_report_without_events_has_no_section() -> None:
    b = build([Ev("e1", [Src("https://a-site.net/1", status="dead", confirmed=True)])])
    assert b.report.events is None
    old = Report.from_json(b.report.to_json())
    text = markdown_report(old)
    assert "losing their evidence" not in text and "### Dead and soft-404 links to fix" in text


def test_markdown_writes_at_most_a_hundred_events_of_each_list() -> None:
    from archiver.report.markdown import EVENTS_SHOWN

    b = build([Ev(f"e{n:03d}", [Src(f"https://a-site.net/{n}"), Src(f"https://b-site.net/{n}", status="dead",
                                                                   state="lost")], previous="ok" if n % 2 else None)
               for n in range(2 * EVENTS_SHOWN + 10)])
    text = markdown_report(b.report)
    part = section(text, "### Events losing their evidence", "**Totals:**")
    assert part.count("#### Newly weakened: ") == EVENTS_SHOWN
    urgent = part[:part.index("**Still weakened")]
    assert urgent.rstrip().endswith("_… and 5 events more in report.html and report.json._")
    still = part[part.index("**Still weakened"):]
    lines = still.count("\n- ")
    assert still.startswith(f"**Still weakened ({EVENTS_SHOWN + 5})**") and 5 <= lines <= EVENTS_SHOWN
    assert f"… and {EVENTS_SHOWN + 5 - lines} events more in report.html and report.json" in still
    assert len(text) <= 65_536


def test_markdown_hostile_title_and_url_stay_text() -> None:
    b = build([Ev("e1", [Src("https://x-site.net/1", status="dead", state="lost", title=HOSTILE_TITLE),
                         Src(HOSTILE_URL, status="invalid", state="lost")], title=HOSTILE_TITLE)])
    part = section(markdown_report(b.report), "### Events losing", "**Totals:**")
    assert re.search(r"(?<!\\)<", part) is None  # every < escaped: no HTML
    assert "\\<script\\>" in part
    assert "](javascript:" not in part and "not a web link" in part


# --------------------------------------------------------------------------- report.html


def test_html_section_first_in_order_with_filter_and_fixes() -> None:
    page = html_report(night().report)
    main = page[page.index("<main>"):]
    assert main.index('<section id="health"') < main.index('<section id="changes"')
    part = section(page, '<section id="health"', "</section>")
    items = re.findall(r'<article class="hev" data-h="(\w+)" data-newly="(\d)" data-q="([^"]*)"', part)
    assert [(h, n) for h, n, _ in items] == [("lost", "1"), ("weakened", "1"), ("weakened", "0")]
    assert "lost event events/2020-b-lost.md" in items[0][2]
    # controls: hidden until the script shows them, so without script the full list is what shows
    assert '<div class="filters" id="health-filters" hidden>' in part
    assert re.findall(r'<option value="(\w*)">', part) == ["", "lost", "newly", "weakened"]
    assert 'id="f-health-text"' in part
    assert f'<a href="{WAYBACK}" rel="noopener noreferrer">an archived copy</a>' in part
    assert "Fix: <code>cite a new source" in part and f"Fix: <code>add archive_url: {WAYBACK}" in part
    assert "All fine" not in part and "Unknown event" not in part
    still = section(part, '<details id="health-still"><summary>1 event still weakened</summary>', "</details>")
    assert "Still weakened event" in still and "d-site.net/2" in still and "d-site.net/1" not in still


def test_html_section_escapes_hostile_titles_and_urls() -> None:
    b = build([Ev("e1", [Src("https://x-site.net/1", status="dead", state="lost"),
                         Src(HOSTILE_URL, status="invalid", state="lost")], title=HOSTILE_TITLE)])
    part = section(html_report(b.report), '<section id="health"', "</section>")
    assert "<script" not in part and "<img" not in part and 'href="javascript:' not in part
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in part
    assert f"<span>{HOSTILE_URL}</span>" in part  # the URL as text, not a link


def test_html_one_line_without_events_or_losses() -> None:
    old = html_report(Report.from_json(build([Ev("e1", [Src("https://a-site.net/1")])]).report.to_json()))
    assert "This report predates event health" in old and 'id="health-list"' not in old
    fine = html_report(build([Ev("e1", [Src("https://a-site.net/1")])], health=True).report)
    assert 'id="health-none"' in fine and "0 lost, 0 weakened, 0 unknown, 1 ok" in fine


def tallies(n: int) -> list[HealthTally]:
    return [HealthTally(f"2026-02-{d + 1:02d}T02:00:00Z", {"ok": 40 - d, "weakened": d, "lost": d // 3, "unknown": 2})
            for d in range(n)]


def test_trend_chart_is_valid_svg_with_a_point_per_run_per_health(tmp_path: Path) -> None:
    paths = write_reports(night().report, tmp_path, trend=tallies(7))
    page = paths.html.read_text("utf-8")
    svg = re.search(r'<svg[^>]*id="trend-chart".*?</svg>', page, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))  # well-formed XML
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    lines = {p.get("data-health"): p.get("points", "").split() for p in root.iter(f"{SVG}polyline")}
    assert set(lines) == {"lost", "weakened", "unknown", "ok"} and all(len(p) == 7 for p in lines.values())
    ys = [float(p.split(",")[1]) for p in lines["ok"]]
    assert ys == sorted(ys)  # ok falls each run: y grows downwards
    texts = "".join(root.itertext())
    assert "2026-02-01" in texts and "2026-02-07" in texts and "events" in texts
    assert "ok: 40 → 34" in unescape(section(page, 'id="trend-summary"', "</p>"))


def test_no_trend_says_so_and_hostile_dates_are_escaped() -> None:
    assert 'id="trend-none"' in html_report(night().report) and "<svg" not in section(
        html_report(night().report), '<div class="chart trend">', "</div>")
    page = html_report(night().report, trend=[HealthTally(HOSTILE_TITLE, {"ok": 1}), HealthTally("2026", {"ok": 2})])
    chart = section(page, '<div class="chart trend">', "</div>")
    assert "<script" not in chart and "<img" not in chart
    ET.fromstring(re.search(r"<svg.*?</svg>", chart, re.S).group(0))  # type: ignore[union-attr]
