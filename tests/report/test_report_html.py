"""report.html: self-contained, hostile data inert, only http(s) URLs as links."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from archiver.report.html import html_report
from archiver.report.view import safe_href
from archiver.reportmodel import Report
from tests.support.reportdata import HOSTILE_TITLE, HOSTILE_URL, Ev, Src, build


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    return tags


def hostile_report() -> tuple[str, Report]:
    title = HOSTILE_TITLE
    b = build([
        Ev("2020-01-01--<b>evil</b>", [
            Src("https://ok-site.net/a?q=\"><script>window.__pwned=1</script>", status="dead", confirmed=True,
                title=title, publisher=title, evidence=title, outlet=title,
                wayback="javascript:alert(1)", snapshot="snapshots/x/\"><script>y</script>/snapshot.md"),
            Src(HOSTILE_URL, title=title),
            Src("data:text/html,<script>alert(1)</script>", status="blocked", title=title),
            Src("https://fine-site.net/page", status="alive", snapshot="snapshots/fine-site.net/page--abc/snapshot.md"),
        ], title=title),
    ], changes=[{"kind": "newly_failing", "url": "https://ok-site.net/a?q=\"><script>window.__pwned=1</script>",
                 "status": "dead", "previous": "alive"}])
    return html_report(b.report, b.events, report_dir="reports"), b.report


def test_hostile_titles_and_urls_are_inert() -> None:
    html, _ = hostile_report()
    tags = parse(html)
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert scripts == [{"type": "application/json", "id": "report-data"}, {}]  # the data, then our own code
    assert not [tag for tag, _ in tags.tags if tag in ("img", "iframe", "object", "embed", "link", "base", "form")]
    for tag, attrs in tags.tags:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            ok = href.startswith("#") or safe_href(href) or not re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I)
            assert ok, href
            assert not href.lower().startswith(("javascript:", "data:", "vbscript:"))
    # the titles are there, as text
    assert any("<script>window.__pwned=1</script>" in t for t in tags.text)
    # the data block cannot end early or hide markup
    data = tags.scripts[0]
    assert "<" not in data and ">" not in data
    assert json.loads(data)["events"]


def test_javascript_urls_are_text_not_links() -> None:
    html, _ = hostile_report()
    hrefs = [a.get("href") for tag, a in parse(html).tags if tag == "a"]
    assert "javascript:alert(1)" not in hrefs and not any(h and "javascript" in h.lower() for h in hrefs)
    assert HOSTILE_URL in html  # shown, as text
    assert "https://fine-site.net/page" in hrefs
    assert "../snapshots/fine-site.net/page--abc/snapshot.md" in hrefs  # relative link to the archived text
    assert any(h and h.startswith("https://web.archive.org/web/*/https://ok-site.net/") for h in hrefs)


def test_self_contained_with_a_strict_content_security_policy() -> None:
    html, _ = hostile_report()
    tags = parse(html)
    (meta,) = [a for t, a in tags.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    csp = meta["content"] or ""
    assert "default-src 'none'" in csp and "base-uri 'none'" in csp and "form-action 'none'" in csp

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(tags.scripts[1])}" in csp
    assert f"style-src {digest(tags.styles[0])}" in csp
    assert not [a for _, a in tags.tags if a.get("src")]  # nothing loaded from anywhere
    assert "@import" not in tags.styles[0] and "url(" not in tags.styles[0]


def test_table_rows_status_and_charts() -> None:
    b = build([Ev(f"e{i}", [Src(f"https://s{i % 4}-site.net/{i}/{k}", status=s, date=f"20{10 + i % 8}-01-01",
                                 outlet=f"Outlet {i % 4}")
                            for k, s in enumerate(("alive", "dead", "soft_404", "blocked", "error"))])
               for i in range(12)])
    html = html_report(b.report, b.events)
    rows = re.findall(r'<tr data-s="([a-z_0-9]+)">', html)
    assert len(rows) == 60 and rows[:12] == ["dead"] * 12  # the most urgent first
    assert sorted(set(rows)) == ["alive", "blocked", "dead", "error", "soft_404"]
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 2
    assert "<title id=\"cy-t\">Link rot by citation year</title>" in svgs[0] and ">2010</text>" in svgs[0]
    assert "40% (6 of 15)" in svgs[0] or "40%" in svgs[0]
    assert "Outlet 0" in svgs[1] and "of 15 links" in svgs[1]


def test_written_by_write_reports(tmp_path: Path) -> None:
    from archiver.report.build import write_reports

    b = build([Ev("e", [Src("https://a-site.net/x", status="dead")])])
    paths = write_reports(b.report, tmp_path, events=b.events)
    assert [p.name for p in (paths.json, paths.markdown, paths.html)] == ["report.json", "report.md", "report.html"]
    assert all(p.stat().st_size > 0 for p in (paths.json, paths.markdown, paths.html))
