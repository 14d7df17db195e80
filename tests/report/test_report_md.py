"""report.md: first screen, grouping, escaping, and the GitHub size limit."""

from __future__ import annotations

import re

from archiver.history.known_findings import fingerprint
from archiver.models import Finding
from archiver.report.markdown import GITHUB_LIMIT, code, md, render_markdown, text_length
from archiver.report.view import ReportView
from tests.support.reportdata import HOSTILE_TITLE, HOSTILE_URL, Built, Ev, Src, build


def first_screen(text: str) -> str:
    return text.split("### ", 1)[0]


def test_quiet_night_is_one_line() -> None:
    b = build([Ev("e1", [Src("https://a-site.net/1"), Src("https://b-site.net/2", status="dead", confirmed=True)])],
              new_findings=[])
    text = render_markdown(ReportView(b.report, b.events))
    lines = [line for line in first_screen(text).splitlines() if line.strip()]
    assert lines[1].startswith("Quiet night: no link changed status and no new findings; 2 links, 1 alive, 1 dead")
    assert lines[1].count("\n") == 0
    assert "Since the previous run" not in text


def test_busy_night_first_screen_lists_changes_then_totals() -> None:
    url = "https://news-site.net/gone"
    tier = Finding(kind="tier_mismatch", severity="warning", message="source 0: cited tier 3, the registry says 1",
                   file="events/e1.md", line=10, event="e1", source_index=0, url="https://a-site.net/1",
                   expected=1, actual=3, fix="tier: 1")
    b = build([Ev("e1", [Src("https://a-site.net/1"), Src(url, status="dead", evidence="HTTP 404 Not Found")]),
               Ev("e2", [Src("https://c-site.net/back")])],
              changes=[{"kind": "newly_failing", "url": url, "status": "dead", "previous": "alive"},
                       {"kind": "recovered", "url": "https://c-site.net/back", "status": "alive", "previous": "dead"}],
              findings=[tier], new_findings=[fingerprint(tier)])
    text = render_markdown(ViewOf(b))
    screen = first_screen(text)
    assert "**Since the previous run:** 1 newly failing, 1 recovered, 1 new finding." in screen
    assert screen.index("**Newly failing (1)**") < screen.index("**Recovered (1)**") < screen.index("**Totals:**")
    assert "`events/e1.md:13`" in screen and f"]({url})" in screen and "HTTP 404 Not Found" in screen
    assert "**New findings (1)**" in screen and "Fix: `tier: 1`" in screen


def ViewOf(b: Built) -> ReportView:
    return ReportView(b.report, b.events)


def test_dead_links_grouped_by_event_with_evidence_and_archived_copy() -> None:
    b = build([
        Ev("2020-01-01--a", [Src("https://x-site.net/1", status="dead", confirmed=True, evidence="HTTP 410 Gone",
                                 wayback="https://web.archive.org/web/20200101000000/https://x-site.net/1"),
                             Src("https://x-site.net/2", status="soft_404", confirmed=True,
                                 evidence="a deep link redirected to the home page")], title="First event"),
        Ev("2020-01-02--b", [Src("https://x-site.net/1", status="dead", confirmed=True),
                             Src("https://y-site.net/3", status="dead", confirmed=True,
                                 archive_url="https://web.archive.org/web/2019/https://y-site.net/3")]),
        Ev("2020-01-03--c", [Src("https://z-site.net/4", status="dead", failures=1)]),
    ])
    text = render_markdown(ViewOf(b))
    fix = text.split("### Dead and soft-404 links to fix", 1)[1].split("\n### ", 1)[0]
    assert "(4 citations in 2 events)" in fix
    first = fix.split("#### First event (2020-05-01)", 1)[1].split("####", 1)[0]
    assert "`events/2020-01-01--a.md:10` source 0: [Story 0](https://x-site.net/1): **dead**, confirmed: " \
           "HTTP 410 Gone; failing since 2026-02-27 (3 failed checks). Wayback copy: " \
           "[https://web.archive.org/web/20200101000000/https://x-site.net/1]" in first
    assert "`events/2020-01-01--a.md:13` source 1" in first and "**soft 404**" in first
    search = "https://web.archive.org/web/*/https://x-site.net/2"
    assert f"No archived copy known: [search the Wayback Machine]({search})" in first
    assert "Archived copy (cited): [https://web.archive.org/web/2019/https://y-site.net/3]" in fix
    watch = text.split("### Failing, not yet confirmed", 1)[1]
    assert "`events/2020-01-03--c.md:10`" in watch and "not yet confirmed" in watch
    assert "z-site.net" not in fix


def test_blocked_and_inconclusive_are_summarised_by_domain() -> None:
    sources = [Src(f"https://www.blocky-site.net/{i}", status="blocked", evidence="HTTP 403 Forbidden")
               for i in range(40)]
    sources += [Src(f"https://slow-site.net/{i}", status="error", evidence="timed out") for i in range(3)]
    text = render_markdown(ViewOf(build([Ev("e", sources)])))
    section = text.split("### Blocked and inconclusive (43 links on 2 domains)", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows == ["| domain | blocked | error | e.g. |", "| blocky-site.net | 40 | 0 | HTTP 403 Forbidden |",
                    "| slow-site.net | 0 | 3 | timed out |"]
    # one table: no blank line between its header and its rows (GitHub would end the table there)
    assert "|---|---:|---:|---|\n| blocky-site.net |" in section


def test_findings_grouped_by_kind_and_capped() -> None:
    findings = [Finding(kind="missing_field", severity="warning", message=f"source 0: no tier {i}",
                        file=f"events/e{i}.md", line=5, source_index=0, fix="tier: 2") for i in range(30)]
    findings.append(Finding(kind="archive_mismatch", severity="error", message="archive of another page",
                            file="events/x.md", line=7, source_index=1, fix="remove archive_url"))
    text = render_markdown(ViewOf(build([Ev("e", [Src("https://a-site.net/")])], findings=findings)))
    section = text.split("### Citation findings (31 findings)", 1)[1]
    assert section.index("#### `archive_mismatch` (1, error)") < section.index("#### `missing_field` (30, warning)")
    missing = section.split("#### `missing_field`", 1)[1]
    assert missing.count("\n- `events/") == 20 and "_… and 10 findings more in report.json._" in missing


def test_hostile_titles_and_urls_cannot_break_out() -> None:
    title = HOSTILE_TITLE + " | pipe ] bracket](javascript:alert(2)) @octocat\nsecond line"
    b = build([Ev("e", [Src("https://ok-site.net/a|b)c", status="dead", confirmed=True, title=title),
                        Src(HOSTILE_URL, title=title)], title=title)])
    text = render_markdown(ViewOf(b))
    assert re.search(r"(?<!\\)<", text) is None  # every < is escaped: no HTML can start
    assert re.search(r"(?<!\\)\]\(javascript", text) is None and "](javascript" not in text.replace("\\]", "")
    assert "@octocat" not in text and "@\u200boctocat" in text
    assert "\nsecond line" not in text
    # the URL's pipe and parenthesis cannot end the link or a table cell
    assert "](https://ok-site.net/a%7Cb%29c)" in text
    assert md("a|b") == "a\\|b" and code("a`b") == "``a`b``"


def test_truncated_at_the_github_limit_with_a_note() -> None:
    events = []
    for e in range(1500):
        events.append(Ev(f"2021-01-01--event-{e}", [
            Src(f"https://site{e % 97}-site.net/story/{e}/{k}", status="dead", confirmed=e % 3 > 0,
                title=f"Story {e}.{k} 🦉 with a long, long title about things that happened " * 2)
            for k in range(3)]))
    findings = [Finding(kind="tier_mismatch", severity="warning", message=f"tier {i}", file=f"events/f{i}.md",
                        line=3, source_index=0, fix="tier: 1") for i in range(5000)]
    changes = [{"kind": "newly_failing", "url": f"https://site{e % 97}-site.net/story/{e}/0", "status": "dead",
                "previous": "alive"} for e in range(400)]
    b = build(events, findings=findings, changes=changes, new_findings=[])
    text = render_markdown(ViewOf(b))
    assert text_length(text) <= GITHUB_LIMIT
    assert len(text) > GITHUB_LIMIT * 0.8  # it used the room
    assert "**Newly failing (400)**" in text and "**Totals:**" in text
    footer = text.rsplit("---\n", 1)[1]
    assert "Full report: `report.html`" in footer and "report.json" in footer
    assert "Left out to fit GitHub's 65,536-character limit:" in footer and "events with confirmed dead links" in footer
    # every section still shows its heading and a few items, most urgent first
    assert "### Blocked and inconclusive" not in text  # none here
    assert text.count("#### `tier_mismatch`") == 1
    assert "### Failing, not yet confirmed" in text
    small = render_markdown(ViewOf(b), limit=20_000)
    assert text_length(small) <= 20_000 and "**Totals:**" in small


def test_offline_night_says_so_first() -> None:
    b = build([Ev("e", [Src("https://a-site.net/", status="dead")])], network="offline")
    text = render_markdown(ViewOf(b))
    assert text.splitlines()[2].startswith("**Network offline:**")
