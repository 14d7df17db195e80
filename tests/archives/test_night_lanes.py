"""The night's archive lanes against loopback archives, each with its own limit (issue 19): lanes overlap in
time, a slow Save Page Now lane delays no copy, the value order holds when the budget is short, an interrupted
night resumes its queue, and with the Wayback Machine down the other archives, asked likeliest first, give
copies for the gone pages they alone hold."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import pytest

from archiver.history.store import StateStore
from archiver.pipeline.night import all_archives
from archiver.snapshots.store import SnapshotStore
from archiver.support.lanes import Work
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events
from archiver.wayback.run import StageInput, WaybackOutcome
from tests.archives.test_archives_stage import World
from tests.support.farm import Farm
from tests.support.memento_double import MementoDouble
from tests.support.wayback_double import article
from tests.wayback.test_wayback_stage import NOW, SITE

FAILED_AT = dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC)


def night(w: World, *, budget: float | None = None, now: dt.datetime = NOW,
          **extra: Any) -> tuple[WaybackOutcome, StateStore, str]:
    """One night's archive step (``archiver run`` after the check) on the world's state."""
    settings = w.settings(archives_file=w.list, archive_timeout=1.0, **extra)
    catalog = build_catalog(load_events(w.events).events)
    store = StateStore(w.snapshots).load()
    stream = io.StringIO()
    deadline = time.monotonic() + budget if budget is not None else None
    given = StageInput(catalog, store, SnapshotStore.from_settings(settings), now, stream=stream, progress=True)
    outcome = asyncio.run(all_archives(settings, given, deadline=deadline))
    return outcome, StateStore(w.snapshots).load(), stream.getvalue()


def dead(w: World, url: str, *, confirmed: bool = False) -> str:
    w.cite(url, date="2024-03-12")
    w.verdict(url, "dead", since=FAILED_AT, confirmed=confirmed)
    return url


def copy_of(store: StateStore, url: str) -> tuple[str | None, bool]:
    rec = store.states[canonical_url(url)].archives
    return (rec.archive, rec.verified) if rec is not None else (None, False)


def test_the_other_archives_work_while_the_wayback_lookups_go_on(farm: Farm, tmp_path: Path) -> None:
    """A link the Wayback Machine lacks goes to the other archives as soon as its lookup is done, not after
    every lookup: the lanes overlap, and the night takes about its busiest lane's time, not the sum."""
    loc = MementoDouble("loc", "Library of Congress", per_minute=300)  # 0.2 s between calls
    w = World(tmp_path, farm, [loc])
    urls = [dead(w, SITE + f"gone-{i}/") for i in range(8)]
    for url in urls:
        loc.add(url, "20240301000000", article(url, ["as-cited"]))

    started = time.monotonic()
    outcome, store, err = night(w, cdx_per_minute=300)  # 8 lookups: 1.6 s of CDX pace
    wall = time.monotonic() - started
    assert all(copy_of(store, url) == ("loc", True) for url in urls)
    cdx = [h.at for h in w.double.hits("cdx")]
    asks = [h[0] for h in loc.hits()]
    assert len(cdx) == 8 and len(asks) == 16  # a TimeMap and one replay a link
    assert min(asks) < max(cdx)  # the archive was asked while lookups were still going
    lanes = outcome.lanes
    assert lanes["wayback cdx"]["done"] == 8 and lanes["loc"]["done"] == 8
    sequential = (max(cdx) - min(cdx)) + (max(asks) - min(asks))
    assert wall < sequential  # overlapped: less than one lane after the other
    assert "archives: starting (wayback cdx 8 queued" in err and "loc 8 done, 0 left" in err


def test_a_slow_save_page_now_lane_delays_no_copy(farm: Farm, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Saves at 12 a minute take 5 s each; the copies of failing links (other archives, Wayback replays) come
    while the saves go on, and the polls of the save jobs are interleaved with the submissions."""
    loc = MementoDouble("loc", per_minute=600)
    w = World(tmp_path, farm, [loc])
    monkeypatch.setenv("IA_ACCESS_KEY", w.double.access)
    monkeypatch.setenv("IA_SECRET_KEY", w.double.secret)
    w.double.job_seconds = 0.3
    alive = [SITE + f"alive-{i}/" for i in range(4)]
    for url in alive:
        w.cite(url, date="2024-03-12")
        w.verdict(url, "alive")
    gone = [dead(w, SITE + f"gone-{i}/") for i in range(3)]
    for url in gone:
        loc.add(url, "20240301000000", article(url, ["as-cited"]))
    replayed = dead(w, SITE + "wayback-copy/")
    w.double.add(replayed, "20240301000000", "200", article(replayed, ["from-wayback"]))

    outcome, store, _ = night(w, save_per_minute=12, save_poll_seconds=10.0)
    assert outcome.stats["saves_requested"] == 4 and outcome.stats["saves_done"] == 4
    assert all(copy_of(store, url) == ("loc", True) for url in gone)
    wb = store.states[canonical_url(replayed)].wayback
    assert wb is not None and wb.verified
    saves = sorted(h.at for h in w.double.hits("save"))
    copies = [h[0] for h in loc.hits()] + [h.at for h in w.double.hits("replay")]
    assert len(saves) == 4 and max(copies) < saves[2]  # every copy came before the third save went out
    polls = [h.at for h in w.double.hits("status")]
    assert any(saves[0] < p < saves[-1] for p in polls)  # polls between submissions, not only after them


def test_the_value_order_holds_when_the_budget_is_short(farm: Farm, tmp_path: Path) -> None:
    """One CDX lookup a second and a 3.5 s night: the newly failing links are looked up first, then the blocked
    ones without text, and what is left (older failing links, live links) is said by kind."""
    w = World(tmp_path, farm, [])
    alive = [SITE + f"alive-{i}/" for i in range(2)]
    for url in alive:
        w.cite(url, date="2024-03-12")
        w.verdict(url, "alive")
    for i in range(2):
        dead(w, SITE + f"old-{i}/", confirmed=True)
    blocked = [SITE + f"walled-{i}/" for i in range(2)]
    for url in blocked:
        w.cite(url, date="2024-03-12")
        w.verdict(url, "blocked")
    new = [dead(w, SITE + f"new-{i}/") for i in range(2)]

    outcome, _, _ = night(w, budget=3.5, cdx_per_minute=60)
    asked = [h.url for h in sorted(w.double.hits("cdx"), key=lambda h: h.at)]
    assert len(asked) == 4
    assert set(asked[:2]) == set(new) and set(asked[2:]) == set(blocked)
    assert outcome.left == {Work.OLD_FAILING: 2, Work.LOOKUP: 2}
    assert "4 lookups are left for the next run (the time budget)" in " ".join(outcome.notes)
    assert "left for the next run: 2 copies for older failing links, 2 lookups of alive links" in " ".join(
        outcome.notes)


def test_an_interrupted_night_resumes_its_queue(farm: Farm, tmp_path: Path) -> None:
    """A night cut short by its budget leaves the rest to the next one, which asks nothing twice."""
    loc = MementoDouble("loc", per_minute=120)  # 0.5 s between calls: two links a night of 2.2 s
    w = World(tmp_path, farm, [loc], wayback_down=True)
    urls = [dead(w, SITE + f"gone-{i}/") for i in range(6)]
    for url in urls:
        loc.add(url, "20240301000000", article(url, ["as-cited"]))

    first, store, _ = night(w, budget=2.2)
    done = [u for u in urls if copy_of(store, u) == ("loc", True)]
    assert 1 <= len(done) < len(urls)
    assert first.left.get(Work.NEW_FAILING, 0) >= len(urls) - len(done) - 1
    second, store, _ = night(w, now=NOW + dt.timedelta(hours=3))
    assert all(copy_of(store, u) == ("loc", True) for u in urls)
    timemaps = [h for h in loc.hits("timemap")]
    assert len(timemaps) == len(urls)  # each link's TimeMap asked once over the two nights
    assert not second.left


def test_with_the_wayback_machine_down_the_likeliest_archive_is_asked_first(farm: Farm, tmp_path: Path) -> None:
    """The Wayback Machine is down for the night. Four archives (two calls a second each) each hold the gone
    pages of one site; a night of 9 s cannot ask every archive about every page (80 TimeMaps and 20 replays
    would take 12.5 s), but one that learns per site which archive holds its pages, stops at the first good
    copy and keeps every lane busy gives copies for at least 80% of them."""
    archives = [MementoDouble(name, per_minute=120) for name in ("loc", "arquivo.pt", "ukwa", "archive-it")]
    w = World(tmp_path, farm, archives, wayback_down=True)
    pages: list[str] = []
    for i, holder in enumerate(archives):
        site = f"https://www.daily-paper-{i}.com/news/"
        for j in range(5):
            url = dead(w, site + f"story-{j}/")
            holder.add(url, "20240301000000", article(url, ["as-cited"]))
            pages.append(url)

    outcome, store, _ = night(w, budget=9.0)
    copies = [u for u in pages if copy_of(store, u)[1]]
    assert len(copies) >= 0.8 * len(pages), f"{len(copies)} of {len(pages)}"
    asked = sum(len(a.hits("timemap")) for a in archives)
    assert asked < 2 * len(pages)  # far fewer than every archive for every page
    assert "the Wayback Machine is unreachable" in " ".join(outcome.notes)


def test_an_archive_that_held_the_sites_pages_before_is_asked_first_and_alone(farm: Farm, tmp_path: Path) -> None:
    """Learned per host: an archive that held the site's other pages is asked first; its good copy ends the
    link's asks (the other archive is never asked)."""
    likely, other = MementoDouble("ukwa"), MementoDouble("loc")
    w = World(tmp_path, farm, [other, likely], wayback_down=True)
    url = dead(w, SITE + "story/")
    likely.add(url, "20240301000000", article(url, ["as-cited"]))
    other.add(url, "20240302000000", article(url, ["also-here"]))
    for i in range(2):
        w.history(SITE + f"earlier-{i}/", {"ukwa": True, "loc": False})
    _, store, _ = night(w)
    assert copy_of(store, url) == ("ukwa", True)
    assert other.hits() == [] and [h[1] for h in likely.hits()] == ["timemap", "memento"]


def test_the_text_of_live_pages_is_extracted_while_the_archive_lanes_work(farm: Farm, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """``archiver run``: the live pages' text is extracted (in the process pool) while the Wayback lookups go on,
    not before or after them: long pages still being extracted when the check ends, the first lookup goes out
    before the last text is written."""
    from click.testing import CliRunner

    from archiver.cli import cli
    from tests.support.farm import Conn, Request
    from tests.support.wayback_double import WaybackDouble
    from tests.wayback.test_wayback_budget import timeline

    paragraph = "<p>" + "The council met again on Tuesday to discuss the cameras and the budget. " * 12 + "</p>"

    async def long_page(req: Request, conn: Conn) -> None:  # about 1 MB: seconds of extraction in all
        await conn.send(200, f"<html><head><title>Story {req.path}</title></head><body><article><h1>Story</h1>"
                             f"{paragraph * 1200}</article></body></html>".encode())

    news = farm.add("long-news", long_page)
    double = WaybackDouble().start(farm)
    urls = [news.url(f"/news/story-{i}") for i in range(6)]
    timeline(tmp_path, urls)
    env = {k: None for k in __import__("os").environ if k.startswith(("ARCHIVER_", "IA_"))}
    env.update({"ARCHIVER_WAYBACK_URL": double.base_url, "ARCHIVER_AVAILABILITY_URL": double.base_url,
                "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_CDX_PER_MINUTE": "600",
                "ARCHIVER_PER_HOST_GAP": "0", "ARCHIVER_NOW": "2024-05-01T02:00:00Z",
                "ARCHIVER_SNAPSHOT_PAGES": "true", "ARCHIVER_SOFT404_PROBE": "false", "ARCHIVER_EXTRACT_WORKERS": "1"})
    monkeypatch.chdir(tmp_path)
    offset = time.time() - time.monotonic()
    result = CliRunner().invoke(cli, ["run", "--events", "events", "--snapshots", "snapshots", "--report-dir",
                                      "reports"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    snapshots = list((tmp_path / "snapshots").rglob("snapshot*.md"))
    cdx = sorted(h.at for h in double.hits("cdx"))
    assert len(snapshots) == 6 and len(cdx) == 6
    written = max(p.stat().st_mtime for p in snapshots) - offset
    assert cdx[0] < written, "the archive lanes waited for the text extraction"


def test_two_nights_in_one_process_do_not_share_a_pause(farm: Farm, tmp_path: Path) -> None:
    """Each night owns its archive limiter (issue 20): a 429 pauses that night's archive calls only. A night
    that follows one cut short by a long pause, in the same process, makes its calls at once."""
    w = World(tmp_path, farm, [])
    for i in range(3):
        dead(w, SITE + f"paused-{i}/")
    w.double.cdx_429 = 1
    _, _, said = night(w, budget=1.5, wayback_pause=30.0)
    assert [h.status for h in w.double.hits("cdx")] == [429]  # the rest of the night waits past its budget
    assert "every archive call pauses for 30 s" in said
    before = len(w.double.hits("cdx"))
    started = time.monotonic()
    second, _, _ = night(w, budget=10.0, wayback_pause=30.0)
    after = w.double.hits("cdx")[before:]
    assert after and all(h.status == 200 for h in after)
    assert min(h.at for h in after) - started < 5.0  # not held by the first night's 30 s pause
    assert second.calls.get("cdx", 0) == len(after)
