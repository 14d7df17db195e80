"""`archiver site`: the static reading room (index, events, snapshots with provenance)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

from archiver.report.site import build_site, snapshot_page
from archiver.snapshots.extract import Extraction
from archiver.snapshots.store import Capture, SnapshotStore
from archiver.timeline.catalog import canonical_url
from tests.support.reportdata import HOSTILE_TITLE, HOSTILE_URL, Ev, Src, build

TEXT = ("The committee published its findings on Tuesday. " * 30) + "\n\n<script>window.__pwned=1</script> end."


def store_with(tmp: Path, url: str) -> SnapshotStore:
    store = SnapshotStore(tmp / "snapshots")
    extraction = Extraction(kind="html", text=TEXT, title=HOSTILE_TITLE, sitename="Example News",
                            extractor="trafilatura", encoding="utf-8", body_sha256="ab" * 32, body_bytes=4096)
    outcome = store.save(Capture(url=url, normalized_url=canonical_url(url), captured_at=dt.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), extraction=extraction, http_status=200, final_url=url,
        content_type="text/html", wayback_url="https://web.archive.org/web/2026/" + url, cited_by=("e1",)))
    assert outcome.action == "written", outcome.reason
    return store


def test_site_pages_links_and_escaping(tmp_path: Path) -> None:
    url = "https://news-site.net/2020/report"
    b = build([Ev("e1", [Src(url, title=HOSTILE_TITLE), Src("https://gone-site.net/x", status="dead",
                                                            confirmed=True), Src(HOSTILE_URL)], title=HOSTILE_TITLE),
               Ev("e2", [Src(url)], title="Second event")])
    store = store_with(tmp_path, url)
    out = tmp_path / "site"
    result = build_site(b.report, b.events, store, out)
    page = out / snapshot_page(canonical_url(url), 0)
    assert (out / "index.html").is_file() and page.is_file()
    assert result.pages == 1 + 2 + 1 and result.written == result.pages

    html = page.read_text("utf-8")
    assert "<script" not in html.replace("&lt;script", "")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # the article's own text, as text
    for field in ("captured_at", "2026-01-02T03:04:05Z", "text_sha256", "http_status", "wayback_url",
                  'href="https://web.archive.org/web/2026/https://news-site.net/2020/report"'):
        assert field in html
    assert "default-src 'none'" in unescape(html) and "script-src 'none'" in unescape(html)
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in unescape(html)  # the page's own style is the one allowed

    # every relative link resolves to a page of the site; only http(s) links leave it
    for path in out.rglob("*.html"):
        text = path.read_text("utf-8")
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", text)  # no event handler attribute anywhere
        for href in re.findall(r'href="([^"]+)"', text):
            if href.startswith(("http://", "https://")):
                continue
            assert not re.match(r"^[a-z][a-z0-9+.-]*:", href), href
            assert (path.parent / unquote(href)).resolve().is_file(), (path, href)
    event_page = next(p for p in (out / "e").glob("*.html") if "Second event" not in p.read_text("utf-8"))
    text = event_page.read_text("utf-8")
    assert HOSTILE_URL in text and 'href="javascript' not in text
    assert "archived text (2026-01-02)" in text and "search the Wayback Machine" in text

    # a rebuild with nothing new writes nothing; a page no longer produced is removed
    again = build_site(b.report, b.events, store, out)
    assert again.written == 0 and again.removed == 0
    (out / "e" / "stale.html").write_text("old", "utf-8")
    assert build_site(b.report, b.events, store, out).removed == 1


def test_site_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from archiver.cli import cli

    events = tmp_path / "events"
    events.mkdir()
    (events / "2021-01-01--a.md").write_text(
        "---\ntitle: An event\ndate: 2021-01-01\nsources:\n  - url: https://news-site.net/2020/report\n"
        "    title: A report\n---\n", "utf-8")
    store_with(tmp_path, "https://news-site.net/2020/report")
    result = CliRunner().invoke(cli, ["site", "--events", str(events), "--snapshots", str(tmp_path / "snapshots"),
                                      "--out", str(tmp_path / "site")], env={"ARCHIVER_NOW": "2026-03-04T00:00:00Z"})
    assert result.exit_code == 0, result.output
    assert "3 pages" in result.output
    index = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "An event" in index and "1 of 1" in index


def test_site_event_health_and_what_a_reader_gets(tmp_path: Path) -> None:
    """Issue 22: each event page says its health and, per source, what a reader gets; the index filters and
    sorts by health with its own script (allowed by hash), which only shows controls that start hidden."""
    kept = "https://kept-site.net/story"  # dead, but its text is stored (and on the site)
    wayback = "https://web.archive.org/web/2020/https://copy-site.net/a"
    b = build([Ev("e1", [Src("https://live-site.net/a"), Src(kept, status="dead", state="copy",
                                                            snapshot="snapshots/kept/snapshot.md"),
                         Src("https://copy-site.net/a", status="dead", state="copy", wayback=wayback, verified=True),
                         Src("https://gone-site.net/a", status="dead", confirmed=True, state="lost")],
                  title="Weakened one", previous="ok"),
               Ev("e2", [Src("https://gone-site.net/b", status="dead", state="lost")], title=HOSTILE_TITLE,
                  date="2021-01-01"),
               Ev("e3", [Src("https://live-site.net/b")], title="Fine one", date="2019-01-01")])
    out = tmp_path / "site"
    build_site(b.report, b.events, store_with(tmp_path, kept), out)
    pages = {p.read_text("utf-8").split("<h1>", 1)[1].split("</h1>", 1)[0]: p.read_text("utf-8")
             for p in (out / "e").glob("*.html")}
    page = pages["Weakened one"]
    assert 'data-health="weakened"' in page and "was ok" in page and "1 live, 2 archived, 1 lost, 0 unknown" in page
    gets = re.findall(r'<div class="small gets" data-gets="([^"]+)">.*?A reader gets:\n(.*?)</div>', page, re.S)
    assert [g for g, _ in gets] == ["live page", "stored text", "archived copy", "nothing"]
    assert 'href="https://live-site.net/a"' in gets[0][1]
    text_href = re.search(r'href="([^"]+)"', gets[1][1])
    assert text_href and text_href.group(1) == "../" + snapshot_page(canonical_url(kept), 0)
    assert f'href="{wayback}"' in gets[2][1] and "<b>nothing</b>" in gets[3][1]
    assert "&lt;script&gt;" in pages["&lt;script&gt;window.__pwned=1&lt;/script&gt;&#34;&gt;&lt;img src=x "
                                     "onerror=&#34;window.__pwned=1&#34;&gt;"]

    index = (out / "index.html").read_text("utf-8")
    rows = re.findall(r'<tr data-health="(\w*)" data-rank="(\d)" data-n="(\d+)">', index)
    assert rows == [("ok", "3", "0"), ("weakened", "1", "1"), ("lost", "0", "2")]  # by date as served
    assert '<div class="filters" id="index-filters" hidden>' in index
    assert re.findall(r'<option value="(\w*)">', index) == ["", "lost", "weakened", "unknown", "ok", "date", "health"]
    script = index.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in unescape(index)
    assert index.count("<script") == 1 and "<img" not in index


def test_site_of_an_old_report_without_events_has_no_health(tmp_path: Path) -> None:
    from archiver.reportmodel import Report

    b = build([Ev("e1", [Src("https://live-site.net/a")])])
    old = Report.from_json(b.report.to_json())
    build_site(old, b.events, SnapshotStore(tmp_path / "snapshots"), tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text("utf-8")
    assert "<script" not in index and "script-src 'none'" in unescape(index) and "index-filters" not in index
    page = next((tmp_path / "site" / "e").glob("*.html")).read_text("utf-8")
    assert 'class="health"' not in page and 'data-gets="live page"' in page
