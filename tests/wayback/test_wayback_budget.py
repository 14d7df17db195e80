"""``archiver run``'s default Wayback budget: the stage stops at ``max_lookups``, the summary says how
many lookups are left for the next run, the next run continues with them, and progress shows the time
left. Links on a loopback farm, the archive is the local double (tests/support/wayback_double.py)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Settings
from archiver.history.store import StateStore
from archiver.report.build import load_schema
from archiver.snapshots.store import SnapshotStore
from archiver.timeline.catalog import build_catalog
from archiver.timeline.load import load_events
from archiver.wayback.run import StageInput
from archiver.wayback.stage import wayback_stage
from tests.support.docs import config_reference, page
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.farm_sites import article
from tests.support.wayback_double import WaybackDouble


def site(farm: Farm) -> FarmHost:
    async def handle(req: Request, conn: Conn) -> None:
        await conn.send(200, article(req.path.strip("/").replace("/", "-")))

    return farm.add("news", handle)


def timeline(root: Path, urls: list[str]) -> None:
    events = root / "events"
    events.mkdir()
    for n, url in enumerate(urls):
        (events / f"event-{n:02d}.md").write_text(
            f"---\nid: event-{n:02d}\ndate: 2024-03-{n + 1:02d}\ntitle: Event {n}\nsources:\n  - url: {url}\n"
            f"    title: Story {n}\n    publisher: Example News\n    date: 2024-03-{n + 1:02d}\n    tier: 2\n---\n\n"
            "Body.\n", "utf-8")


def archiver_run(root: Path, double: WaybackDouble, now: str, *args: str) -> tuple[int, str, str]:
    env = {k: None for k in os.environ if k.startswith(("ARCHIVER_", "IA_"))}
    env.update({"ARCHIVER_WAYBACK_URL": double.base_url, "ARCHIVER_AVAILABILITY_URL": double.base_url,
                "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_CDX_PER_MINUTE": "6000",
                "ARCHIVER_REPLAY_PER_MINUTE": "6000", "ARCHIVER_PER_HOST_GAP": "0", "ARCHIVER_NOW": now,
                "ARCHIVER_SNAPSHOT_PAGES": "false", "ARCHIVER_SOFT404_PROBE": "false"})
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(cli, ["run", "--events", "events", "--snapshots", "snapshots", "--report-dir",
                                          "reports", *args], env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def looked_up(double: WaybackDouble) -> list[str]:
    return sorted(h.url or "" for h in double.hits("cdx"))


def test_the_default_budget_is_documented_and_can_be_lifted() -> None:
    assert Settings().max_lookups == 500
    reference = config_reference().reference_markdown()  # docs/configuration.md's generated tables
    archives = page("archives")
    assert "| `max_lookups` | `ARCHIVER_MAX_LOOKUPS` | `500` |" in reference and "--max-lookups none" in archives


def test_a_run_stops_the_lookups_at_the_budget_and_the_next_runs_continue(farm: Farm, tmp_path: Path) -> None:
    double = WaybackDouble().start(farm)
    news = site(farm)
    urls = [news.url(f"/news/story-{i}") for i in range(5)]
    timeline(tmp_path, urls)
    double.add(urls[0], "20240305120000", "200", b"<html>old</html>")

    code, out, err = archiver_run(tmp_path, double, "2024-05-01T02:00:00Z", "--max-lookups", "2")
    assert code == 0, err
    assert len(double.hits("cdx")) == 2
    assert "wayback: 2 links looked up (2 CDX calls); 3 lookups left for the next run (the max_lookups budget; " \
           "--max-lookups none lifts it)" in out
    assert "note: wayback: 3 lookups are left for the next run (the max_lookups budget)" in out
    # one progress display for the night's lanes on stderr, with the time left (CliRunner's stderr is no
    # terminal: plain lines)
    assert "archives: starting (wayback cdx 2 queued, about " in err and "archives: wayback cdx 2 done, 0 left" in err
    report = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    assert report["run"]["wayback"]["lookups_left"] == 3
    archives = report["run"]["archives"]  # the night's lanes, and what is left by kind
    assert archives["lanes"]["wayback cdx"] == {"done": 2, "failed": 0, "left": 0,
                                                "busy_seconds": archives["lanes"]["wayback cdx"]["busy_seconds"]}
    assert archives["left"] == {"lookups": 3}
    assert "archives: left for the next run: 3 lookups of alive links" in out
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(report)
    first = looked_up(double)

    code, out, err = archiver_run(tmp_path, double, "2024-05-01T05:00:00Z", "--max-lookups", "2")
    assert code == 0, err
    assert "3 lookups left" not in out and "1 lookups left for the next run" in out
    second = looked_up(double)
    assert len(second) == 4 == len(set(second)) and set(first) < set(second)  # two new ones, none asked twice

    code, out, err = archiver_run(tmp_path, double, "2024-05-01T08:00:00Z", "--max-lookups", "none")
    assert code == 0, err
    assert "lookups left" not in out and "wayback: 1 links looked up (1 CDX calls)" in out
    assert sorted(set(looked_up(double))) == looked_up(double) and len(looked_up(double)) == 5
    report = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    assert report["run"]["wayback"]["lookups_left"] == 0
    assert {e["url"]: e["wayback"]["timestamp"] for e in report["links"]}[urls[0]] == "20240305120000"


def test_lookups_cut_by_the_deadline_say_so_not_the_budget(farm: Farm, tmp_path: Path) -> None:
    double = WaybackDouble().start(farm)
    news = site(farm)
    timeline(tmp_path, [news.url(f"/news/late-{i}") for i in range(3)])
    settings = Settings(events=tmp_path / "events", snapshots=tmp_path / "snapshots", wayback_url=double.base_url,
                        availability_url=double.base_url, allow_networks=("127.0.0.0/8",), max_lookups=2)
    catalog = build_catalog(load_events(settings.events).events)
    store = StateStore(settings.snapshots).load()
    given = StageInput(catalog, store, SnapshotStore.from_settings(settings), settings.clock(), stream=io.StringIO(),
                       env={})
    outcome = asyncio.run(wayback_stage(settings.wayback_options, given, deadline=time.monotonic() - 1))
    assert outcome.lookups_left == 3 and not double.hits("cdx")  # 1 beyond the budget, 2 cut by the deadline
    assert "3 lookups left for the next run (the time budget)" in outcome.summary
