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
