"""report.html in a real browser: headless Chromium (Debian's ``chromium``), driven over DevTools.

Skipped where Chromium is not installed (CI installs it in .ci/run). The page is opened
from disk; the test fails on any console error or uncaught exception (a CSP violation
included), on any script the hostile titles could have run, and unless filtering the
table by status shows exactly the links of that status.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.report.build import write_reports
from tests.support.cdp import find_chromium
from tests.support.reportdata import HOSTILE_TITLE, HOSTILE_URL, Ev, Src, build

pytestmark = [pytest.mark.browser, pytest.mark.subprocess,
              pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")]

STATUSES = ("alive", "dead", "soft_404", "blocked", "error")


def visible_statuses(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate("Array.from(document.querySelectorAll('#links tbody tr'))"
                         ".filter(r => !r.hidden && r.offsetParent !== null).map(r => r.dataset.s)")


def test_report_html_filters_sorts_and_stays_inert(tmp_path: Path) -> None:
    from tests.support.cdp import Browser

    events = []
    for e in range(120):
        sources = [Src(f"https://host{e % 9}-site.net/{e}/{k}", status=STATUSES[(e + k) % 5],
                       confirmed=(e + k) % 3 == 0, title=f"Story {e}.{k}", date=f"20{10 + e % 12}-02-03",
                       snapshot=f"snapshots/host/{e}-{k}/snapshot.md" if (e + k) % 5 == 0 else None)
                   for k in range(3)]
        events.append(Ev(f"2020-01-{e:03d}--event", sources, title=f"Event {e}"))
    events.append(Ev("2020-02-01--hostile", [Src("https://evil-site.net/x", status="dead", title=HOSTILE_TITLE,
                                                 publisher=HOSTILE_TITLE, evidence=HOSTILE_TITLE),
                                             Src(HOSTILE_URL, title=HOSTILE_TITLE)], title=HOSTILE_TITLE))
    b = build(events, changes=[{"kind": "newly_failing", "url": "https://evil-site.net/x", "status": "dead",
                                "previous": "alive"}])
    paths = write_reports(b.report, tmp_path / "reports", events=b.events)
    expected = {s: sum(1 for x in b.report.links if x.status == s) for s in STATUSES}
    url = paths.html.resolve().as_uri()

    with Browser() as browser:
        page = browser.page()
        page.navigate(url)
        assert page.evaluate("document.getElementById('f-count').textContent") == f"all {len(b.report.links)} links"
        assert len(visible_statuses(page)) == len(b.report.links)

        for status in ("dead", "blocked", "alive"):  # as a person does: pick a status in the select
            page.evaluate(f"(() => {{ const s = document.getElementById('f-status'); s.value = '{status}';"
                          "s.dispatchEvent(new Event('change')); })()")
            shown = visible_statuses(page)
            assert shown and set(shown) == {status} and len(shown) == expected[status]
        assert page.evaluate("location.hash") == "#status=alive"

        page.evaluate("(() => { const q = document.getElementById('f-text'); q.value = 'host3-site';"
                      "q.dispatchEvent(new Event('input')); })()")
        page.evaluate("new Promise(r => setTimeout(r, 300))")
        shown = page.evaluate("Array.from(document.querySelectorAll('#links tbody tr')).filter(r => !r.hidden)"
                              ".map(r => [r.dataset.s, r.cells[1].textContent])")
        assert shown and all(s == "alive" and "host3-site" in u for s, u in shown)

        page.navigate("about:blank")
        page.navigate(url + "#status=soft_404")  # a shared link with a filter applies it on load
        shown = visible_statuses(page)
        assert set(shown) == {"soft_404"} and len(shown) == expected["soft_404"]

        # sorting by URL orders the rows
        page.evaluate("document.querySelectorAll('#links thead th')[1].click()")
        urls = page.evaluate("Array.from(document.querySelectorAll('#links tbody tr'))"
                             ".map(r => r.cells[1].textContent)")
        assert urls == sorted(urls, key=str.lower)

        # an event opens with its sources, rendered from the page's data and the links table
        opened = page.evaluate("(() => { const d = document.querySelector('details.event[data-bad=\"1\"]');"
                               "d.open = true; return d.id; })()")
        page.evaluate("new Promise(r => setTimeout(r, 100))")
        items = page.evaluate(f"Array.from(document.querySelectorAll('#{opened} li')).map(li => li.textContent)")
        assert items and all("source " in i and "line " in i for i in items)
        page.evaluate("document.querySelector('details.event:last-of-type').open = true")
        page.evaluate("Array.from(document.querySelectorAll('details.event')).forEach(d => d.open = true)")
        page.evaluate("Array.from(document.querySelectorAll('details.kind')).forEach(d => d.open = true)")
        page.evaluate("new Promise(r => setTimeout(r, 200))")

        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
        hrefs = page.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        assert not [h for h in hrefs if not h.startswith(("http://", "https://", "file://"))]
        assert page.console_errors() == []
        page.screenshot(tmp_path / "report.png")
        assert (tmp_path / "report.png").stat().st_size > 10_000


def test_health_filters_hide_non_matching_events(tmp_path: Path) -> None:
    """Issue 22: report.html's "Events losing their evidence" filters by health and text; the reading room's
    index filters and sorts by health; both show their controls only with script, and run without errors."""
    from archiver.report.site import build_site
    from archiver.reportmodel.health import HealthTally
    from archiver.snapshots.store import SnapshotStore
    from tests.support.cdp import Browser

    events = [Ev(f"e{n}", [Src(f"https://a-site.net/{n}"), Src(f"https://b-site.net/{n}", status="dead",
                                                                 state="lost" if n % 3 else "unknown")],
                 title=f"Weakened {n}", previous="ok" if n % 2 else "weakened") for n in range(6)]
    events += [Ev("gone", [Src("https://c-site.net/x", status="dead", confirmed=True, state="lost")],
                  title=HOSTILE_TITLE), Ev("fine", [Src("https://a-site.net/fine")], title="Fine")]
    b = build(events)
    trend = [HealthTally(f"2026-02-0{d}T02:00:00Z", {"ok": 9 - d, "weakened": d, "lost": 1}) for d in range(1, 8)]
    paths = write_reports(b.report, tmp_path / "reports", events=b.events, trend=trend)
    build_site(b.report, b.events, SnapshotStore(tmp_path / "snapshots"), tmp_path / "site")
    shown = ("Array.from(document.querySelectorAll('#health-list article')).filter(a => !a.hidden && "
             "a.offsetParent !== null).map(a => a.dataset.h + a.dataset.newly)")
    pick = ("(() => {{ const s = document.getElementById('{0}'); s.value = '{1}';"
            " s.dispatchEvent(new Event('{2}')); }})()")

    with Browser() as browser:
        page = browser.page()
        page.navigate(paths.html.resolve().as_uri())
        assert page.evaluate("document.getElementById('health-filters').hidden") is False
        everything = page.evaluate(shown)
        assert len(everything) == 7 and everything[0] == "lost0"
        assert page.evaluate("document.getElementById('health-still').open") is False  # folded until filtered
        page.evaluate(pick.format("f-health", "lost", "change"))
        assert set(page.evaluate(shown)) == {"lost0"}
        assert page.evaluate("document.getElementById('f-health-count').textContent") == "1 of 7 events"
        page.evaluate(pick.format("f-health", "newly", "change"))
        assert page.evaluate(shown) == ["weakened1"] * 3
        page.evaluate(pick.format("f-health", "", "change"))
        page.evaluate(pick.format("f-health-text", "events/e4.md", "input"))
        assert page.evaluate(shown) == ["weakened0"]
        assert page.evaluate("document.getElementById('health-still').open") is True
        assert page.evaluate("document.querySelectorAll('#trend-chart polyline').length") == 4
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.console_errors() == []

        page.navigate((tmp_path / "site" / "index.html").resolve().as_uri())
        rows = ("Array.from(document.querySelectorAll('#events tbody tr')).filter(r => !r.hidden)"
                ".map(r => r.dataset.health)")
        assert len(page.evaluate(rows)) == 8
        page.evaluate(pick.format("f-health", "weakened", "change"))
        assert page.evaluate(rows) == ["weakened"] * 6
        page.evaluate(pick.format("f-health", "", "change"))
        page.evaluate(pick.format("f-sort", "health", "change"))
        assert page.evaluate(rows) == ["lost"] + ["weakened"] * 6 + ["ok"]
        assert page.evaluate("typeof window.__pwned") == "undefined" and page.console_errors() == []


def test_console_errors_are_caught(tmp_path: Path) -> None:
    """The check above would see a broken page: a thrown error and a CSP violation are reported."""
    from tests.support.cdp import Browser

    page_file = tmp_path / "broken.html"
    page_file.write_text("<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                         "script-src 'unsafe-inline'\"><p>x</p><script>undefinedFunction();</script>"
                         "<img src=\"https://blocked.invalid/x.png\">", "utf-8")
    with Browser() as browser:
        page = browser.page()
        page.navigate(page_file.as_uri())
        errors = page.console_errors()
    assert any("undefinedFunction" in e for e in errors)
    assert any("Content Security Policy" in e for e in errors)
