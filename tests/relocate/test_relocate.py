"""Moved, not gone (issue 23): one loopback world of a news site that reorganised its addresses.

The site moved its articles from ``/news/2024/<slug>`` to ``/stories/<slug>``: a few old addresses still redirect,
most answer 404; the Wayback double holds archived 301s of cited URLs and of uncited siblings. Decoys ("Follow-up:
<title>", "What we know about <title>", later dates) and truly removed articles must never get a replacement.
Two nights run through ``run_night`` (the second after one new address starts answering 404); the budget test
calls the stage alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archiver.config import Settings, load_settings
from archiver.history.store import StateStore
from archiver.pipeline.night import CheckOutcome, run_night
from archiver.relocate.night import relocate_links, work
from archiver.report.build import load_schema
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events
from tests.support.farm import Conn, Farm, Request
from tests.support.wayback_double import WaybackDouble

NOW = dt.datetime(2024, 6, 1, 2, 0, tzinfo=dt.UTC)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "contracts" / "report-v1.schema.json"
MOVED = ["council-budget", "river-flood", "school-board"]  # archived 301 of the cited URL, page alive
STILL = ["bridge-repair"]  # the old address still redirects (a pair), cited too
DECOY = ["mayor-resigns"]  # its archived 301 points to "Follow-up: <title>"
REMOVED = ["zoning-vote"]  # gone: its archived 301 points to the home page
AMBIGUOUS = ["park-opening"]  # two archived 301s, to two live copies with the same title and date
LATER_404 = ["library-closes"]  # relocated, then the new page disappears
SIBLINGS = ["fire-station", "bus-routes"]  # uncited, archived 301s (pairs)


def title(slug: str) -> str:
    return f"{slug.replace('-', ' ').capitalize()} after a long debate in the council chamber"


@dataclass
class Site:
    """The reorganised site: pages by path, toggled 404s, its requests counted by the farm."""

    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (title, date)
    redirects: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    async def handle(self, req: Request, conn: Conn) -> None:
        path = req.path.split("?")[0]
        if path in self.redirects:
            await conn.send(301, b"", headers={"Location": self.redirects[path]})
        elif path == "/":
            await conn.send(200, "<html><head><title>Riverton Gazette</title></head><body>" + "news " * 200
                            + "</body></html>")
        elif path in self.pages and path not in self.gone:
            await conn.send(200, page(path, *self.pages[path]))
        else:
            await conn.send(404, "<html><head><title>Not found</title></head><body>No such page.</body></html>")


def page(path: str, headline: str, date: str) -> str:
    body = " ".join(f"Paragraph {i} of the story {html.escape(headline)}." for i in range(40))
    return (f"<html><head><title>{html.escape(headline)} | Riverton Gazette</title>"
            f"<meta property=\"article:published_time\" content=\"{date}T08:00:00Z\">"
            f"<link rel=\"canonical\" href=\"{path}\"></head><body><h1>{html.escape(headline)}</h1>"
            f"<p>{body}</p></body></html>")


@dataclass
class World:
    root: Path
    farm: Farm
    site: Site
    origin: str
    double: WaybackDouble
    runs: list[CheckOutcome] = field(default_factory=list)

    def old(self, slug: str) -> str:
        return f"{self.origin}/news/2024/{slug}"

    def new(self, slug: str) -> str:
        return f"{self.origin}/stories/{slug}"

    def settings(self, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "events": self.root / "events", "snapshots": self.root / "snapshots", "report_dir": self.root / "reports",
            "wayback_url": self.double.base_url, "availability_url": self.double.base_url, "archives": "",
            "allow_networks": "127.0.0.0/8", "cdx_per_minute": 6000, "replay_per_minute": 6000, "per_host_gap": 0,
            "connect_timeout": 2, "read_timeout": 2, "total_timeout": 5, "snapshot_pages": False, "warc_dir": "off",
            "max_saves": 1, "now": NOW.isoformat()}
        values.update(extra)
        return load_settings(overrides=values, env={})

    def night(self) -> CheckOutcome:
        out = asyncio.run(run_night(self.settings(), stream=io.StringIO(), progress=False, wayback=True))
        self.runs.append(out)
        return out

    def replacement(self, slug: str) -> Any:
        return StateStore(self.root / "snapshots").load().states[canonical_url(self.old(slug))].replacement


def build_world(root: Path, farm: Farm) -> World:
    site = Site()
    host = farm.add("gazette", site.handle)
    double = WaybackDouble(clock=lambda: NOW).start(farm)
    w = World(root, farm, site, host.origin, double)
    cited = MOVED + STILL + DECOY + REMOVED + AMBIGUOUS + LATER_404
    for slug in MOVED + STILL + LATER_404 + SIBLINGS + AMBIGUOUS:
        site.pages[f"/stories/{slug}"] = (title(slug), "2024-03-12")
    for slug in STILL:
        site.redirects[f"/news/2024/{slug}"] = f"/stories/{slug}"
    for slug in DECOY + REMOVED:  # decoys live at new addresses with later dates
        site.pages[f"/stories/follow-up-{slug}"] = (f"Follow-up: {title(slug)}", "2024-04-02")
        site.pages[f"/stories/what-we-know-{slug}"] = (f"What we know about {title(slug)}", "2024-04-03")
    site.pages["/archive/park-opening"] = (title("park-opening"), "2024-03-12")
    for slug in MOVED + LATER_404 + SIBLINGS:
        double.add(w.old(slug), "20240401000000", "301", location=w.new(slug))
    double.add(w.old(DECOY[0]), "20240401000000", "301", location=w.new(f"follow-up-{DECOY[0]}"))
    double.add(w.old(REMOVED[0]), "20240401000000", "301", location=w.origin + "/")
    double.add(w.old(AMBIGUOUS[0]), "20240401000000", "301", location=w.new(AMBIGUOUS[0]))
    double.add(w.old(AMBIGUOUS[0]), "20240420000000", "301", location=w.origin + "/archive/park-opening")
    events = root / "events"
    events.mkdir(parents=True)
    for n, slug in enumerate(cited):
        (events / f"{n:02d}-{slug}.md").write_text(
            f"---\nid: e{n}\ndate: 2024-03-12\ntitle: Event {n}\nsources:\n  - url: {w.old(slug)}\n"
            f"    title: \"{title(slug)}\"\n    publisher: Riverton Gazette\n    date: 2024-03-12\n"
            f"    tier: 2\n---\n\nBody.\n", "utf-8")
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    farm = Farm().start()
    try:
        w = build_world(tmp_path_factory.mktemp("relocate"), farm)
        w.night()
        yield w
    finally:
        farm.stop()


def test_archived_redirects_find_the_relocations(world: World) -> None:
    for slug in MOVED + LATER_404:
        rep = world.replacement(slug)
        assert rep is not None and rep.url == world.new(slug) and rep.method == "archive_redirect", slug
        assert rep.title_similarity == 1.0 and "Wayback Machine holds a 301" in rep.evidence
        assert "published date 2024-03-12" in rep.evidence


def test_no_decoy_no_removed_article_and_no_ambiguous_one_gets_a_replacement(world: World) -> None:
    store = StateStore(world.root / "snapshots").load()
    for slug in DECOY + REMOVED + AMBIGUOUS:
        assert world.replacement(slug) is None, slug
        search = store.states[canonical_url(world.old(slug))].relocation_search
        assert search is not None and search["reason"].startswith("no replacement:"), slug  # why, kept in the state
    assert "is not the cited title" in store.states[canonical_url(world.old(DECOY[0]))].relocation_search["reason"]
    notes = world.runs[0].report.run.notes
    (note,) = [n for n in notes if AMBIGUOUS[0] in n]
    assert "2 different candidates pass" in note and "a wrong replacement is worse than none" in note
    assert not any("follow-up" in (e.replacement.url if e.replacement else "") for e in world.runs[0].report.links)


def test_the_report_carries_replacements_and_findings_and_validates(world: World) -> None:
    report = world.runs[0].report
    data = json.loads(world.runs[0].report_path.read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    if SHARED.is_file():
        jsonschema.Draft202012Validator(json.loads(SHARED.read_text("utf-8"))).validate(data)
    replaced = {e["url"]: e["replacement"] for e in data["links"] if e.get("replacement")}
    assert set(replaced) == {world.old(s) for s in MOVED + LATER_404}
    assert all(r["method"] == "archive_redirect" and r["checked_at"] for r in replaced.values())
    relocated = [f for f in report.findings if f.kind == "relocated"]
    assert len(relocated) == len(replaced) and all(f.severity == "warning" for f in relocated)
    assert all("annotate --write --relocations" in (f.fix or "") for f in relocated)
    md = (world.root / "reports" / "report.md").read_text("utf-8")
    page_html = (world.root / "reports" / "report.html").read_text("utf-8")
    assert "Relocations" in md and world.new(MOVED[0]) in md
    assert "Relocations" in page_html and world.new(MOVED[0]) in page_html


def test_budgets_hold(world: World, tmp_path: Path) -> None:
    """A tiny budget: the stage stops at it, and the site's requests stay within the per-host cap."""
    settings = world.settings(snapshots=tmp_path / "snapshots", relocate_max_requests=6, relocate_per_host=2)
    events = load_events(settings.events).events
    catalog = build_catalog(events)
    store = StateStore(world.root / "snapshots").load()
    for state in store.states.values():
        state.replacement = None
    items = work(catalog.links, store.states, events, lambda _key: None)
    site = world.farm.hosts["gazette"]
    before = len(site.requests)
    out = asyncio.run(relocate_links(settings.relocate_options, items, now=NOW))
    assert out.requests <= 6 + 1 and out.stopped is not None
    assert len(site.requests) - before <= 2 + 1  # the cap, and the checker's one home-page check


def test_a_replacement_that_later_404s_is_dropped(world: World) -> None:
    world.site.gone.add(f"/stories/{LATER_404[0]}")
    out = world.night()
    rep = world.replacement(LATER_404[0])
    assert rep is not None and rep.dropped and "dead" in rep.dropped
    assert "dropped on" in rep.evidence
    assert not any(e.replacement for e in out.report.links if e.url == world.old(LATER_404[0]))
    assert world.replacement(MOVED[0]) is not None and world.replacement(MOVED[0]).active


def test_annotate_relocations_edits_minimally_and_keeps_the_original_url(world: World, tmp_path: Path) -> None:
    from archiver.pipeline.commands import annotate_citations

    events = tmp_path / "events"
    events.mkdir()
    slug = MOVED[0]
    (source,) = (world.root / "events").glob(f"*-{slug}.md")
    before = source.read_text("utf-8")
    copy = events / source.name
    copy.write_text(before, "utf-8")
    result = annotate_citations(world.settings(events=events), write=True, relocations=True)
    after = copy.read_text("utf-8")
    assert result.edits is not None and [e.lines_changed for e in result.edits] == [2]
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert removed == [f"  - url: {world.old(slug)}"]
    # written in the item's own quoting (its title is double-quoted)
    assert added == [f'  - url: "{world.new(slug)}"', f'    original_url: "{world.old(slug)}"']
