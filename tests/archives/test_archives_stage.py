"""The archives stage against local Memento doubles: a Wayback outage where other archives supply the copy,
captures of error pages refused across archives, a down and a slow archive rested, refusals as unknown,
text for blocked links, declared archive.today URLs verified, each archive's pace kept."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from archiver.archives.stage import ArchivesOutcome, archives_stage
from archiver.history.archives_record import ArchivedCapture, ArchivesRecord
from archiver.history.linkstate import new_state
from archiver.history.store import StateStore
from archiver.snapshots.store import SnapshotStore
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events
from archiver.wayback.run import StageInput, WaybackOutcome
from tests.support.farm import Farm
from tests.support.memento_double import MementoDouble, archives_file
from tests.support.wayback_double import WaybackDouble, article
from tests.wayback.test_wayback_copies import NOT_FOUND
from tests.wayback.test_wayback_stage import NOW, SITE, Timeline


class World(Timeline):
    """A timeline, a Wayback double (or a down Wayback Machine) and Memento doubles."""

    def __init__(self, root: Path, farm: Farm, doubles: list[MementoDouble], *, wayback_down: bool = False,
                 extra: list[dict[str, Any]] | None = None) -> None:
        self.farm = farm
        wb = WaybackDouble(clock=lambda: NOW)
        wb.start(farm)
        self.down_url = "http://{}:{}".format(*farm.closed_port()) if wayback_down else None
        super().__init__(root, wb)
        self.doubles = [d.start(farm) for d in doubles]
        self.list = archives_file(root / "archives.yaml", self.doubles, extra)
        self.wayback_down = wayback_down

    def settings(self, **extra: Any) -> Any:
        if self.down_url:  # the Wayback Machine does not answer at all
            extra = {"wayback_url": self.down_url, "availability_url": self.down_url, **extra}
        return super().settings(**extra)

    def history(self, url: str, held: dict[str, bool]) -> None:
        """An earlier run asked these archives about ``url`` (another page of the same site): which held it.
        The stage learns from it which archive to ask first about the site's other pages."""
        store = StateStore(self.snapshots).load()
        key = canonical_url(url)
        state = store.states.get(key) or new_state(url, key, NOW - dt.timedelta(days=90))
        asked = (NOW - dt.timedelta(days=1)).isoformat().replace("+00:00", "Z")
        state.archives = ArchivesRecord(looked_up=asked, asked=dict.fromkeys(held, asked), captures=[
            ArchivedCapture("20240101000000", a, f"https://{a}.example/20240101000000/{url}") for a, hit in held.items()
            if hit])
        store.save(state)

    def run_archives(self, now: dt.datetime = NOW, **extra: Any) -> tuple[ArchivesOutcome, StateStore]:
        settings = self.settings(archives_file=self.list, archive_timeout=1.0, **extra)
        catalog = build_catalog(load_events(self.events).events)
        store = StateStore(self.snapshots).load()
        given = StageInput(catalog, store, SnapshotStore.from_settings(settings), now, stream=io.StringIO())
        outcome = asyncio.run(archives_stage(settings.archives_options, given,
                                             wayback=WaybackOutcome(unreachable=self.wayback_down)))
        return outcome, store


def test_a_wayback_outage_other_archives_supply_the_verified_copy_and_the_text(farm: Farm, tmp_path: Path) -> None:
    loc, today = MementoDouble("loc", "Library of Congress"), MementoDouble("archive.today", raw=False)
    w = World(tmp_path, farm, [loc, today], wayback_down=True)
    url = w.cite(SITE + "council-cameras/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    loc.add(url, "20240405120000", article(url, ["after-the-failure"]))  # may be the error page: never chosen
    today.add(url, "20240310080000", article(url, ["as-cited"]))
    today.add(url, "20240402080000", NOT_FOUND)  # after the failure: never chosen

    outcome, store = w.run_archives()
    rec = store.states[canonical_url(url)].archives
    assert rec is not None
    assert (rec.archive, rec.timestamp, rec.verified) == ("archive.today", "20240310080000", True)
    assert rec.url == f"{today.base_url}/20240310080000/{url}"
    assert rec.rescued == {"archive": "archive.today", "timestamp": "20240310080000"}
    snap = SnapshotStore(w.snapshots).read(canonical_url(url))
    assert snap is not None and "as-cited" in snap.text
    assert snap.info.header["origin"] == "archive.today" and snap.info.header["archive_url"] == rec.url
    assert snap.info.header["captured_at"].startswith("2024-03-10T08:00:00")
    assert any("the Wayback Machine is unreachable" in n for n in outcome.notes)
    (finding,) = [f for f in outcome.findings if f.kind == "archive_copy"]
    assert "archive.today has a copy from 2024-03-10" in finding.message and finding.fix == f"archive_url: {rec.url}"
    # archive.today has no raw replay: its memento URL is replayed
    assert [h[1] for h in today.hits()] == ["timemap", "memento"]


def test_an_archived_error_page_is_rejected_and_the_next_archive_offered(farm: Farm, tmp_path: Path) -> None:
    a, b = MementoDouble("arquivo.pt"), MementoDouble("ukwa", "UK Web Archive")
    w = World(tmp_path, farm, [a, b], wayback_down=True)
    url = w.cite(SITE + "renamed-story/", date="2024-03-25")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    a.add(url, "20240320120000", NOT_FOUND)  # nearest before the citation: a 200 "404 Not Found" page
    b.add(url, "20240201120000", article(url, ["as-cited"]))
    b.add(url, "20240101120000", b"", status=404)  # an archived 404 (never judged: further away)
    w.history(SITE + "older-story/", {"arquivo.pt": True, "ukwa": False})  # Arquivo.pt is asked first

    _, store = w.run_archives()
    rec = store.states[canonical_url(url)].archives
    assert rec is not None and (rec.archive, rec.timestamp, rec.verified) == ("ukwa", "20240201120000", True)
    (rejected,) = [c for c in rec.captures if c.rejected]
    assert rejected.archive == "arquivo.pt" and rejected.rejected.startswith("an error page:")
    assert "404 Not Found" in rejected.rejected
    # the raw (id_) form is what was replayed
    assert [h for h in a.hits("memento")] and all(h[2] == 200 for h in a.hits("memento"))


def test_a_down_and_a_slow_archive_are_rested_and_the_others_still_answer(farm: Farm, tmp_path: Path) -> None:
    slow, good = MementoDouble("slow", mode="slow", delay=3.0), MementoDouble("good")
    ip, port = farm.closed_port()
    down = {"id": "down", "name": "Down Archive", "base": f"http://{ip}:{port}",
            "timemap": "{base}/timemap/link/{url}", "memento": "{base}/{timestamp}/{url}", "per_minute": 6000}
    w = World(tmp_path, farm, [slow, good], wayback_down=True, extra=[down])
    urls = [w.cite(SITE + f"story-{i}/", date="2024-03-12") for i in range(6)]
    for url in urls:
        w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
        good.add(url, "20240301000000", article(url, ["kept"]))
    for i in range(3):  # the site's pages were found at the slow and the down archive before: asked first
        w.history(SITE + f"earlier-{i}/", {"slow": True, "down": i < 2, "good": False})

    outcome, store = w.run_archives(archive_max_failures=1)
    for url in urls:
        rec = store.states[canonical_url(url)].archives
        assert rec is not None and rec.archive == "good" and rec.verified
    assert len(slow.hits()) == 1 and outcome.calls["down"] == 1  # one failure each, then rested
    rested = [n for n in outcome.notes if "rested for the rest of this run" in n]
    assert len(rested) == 2 and any(n.startswith("archives: Down Archive") for n in rested)
    unknown = [store.states[canonical_url(u)].archives.unknown for u in urls]  # type: ignore[union-attr]
    assert any("slow" in u for u in unknown) and all("good" not in u for u in unknown)


@pytest.mark.parametrize("mode,why", [("refuse", "refused (HTTP 403)"), ("legal", "not openly available (HTTP 451)"),
                                      ("captcha", "a CAPTCHA page instead of a TimeMap")])
def test_refusals_are_unknown_never_not_archived(farm: Farm, tmp_path: Path, mode: str, why: str) -> None:
    d = MementoDouble("picky", mode=mode)
    w = World(tmp_path, farm, [d], wayback_down=True)
    url = w.cite(SITE + "walled/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    outcome, store = w.run_archives()
    rec = store.states[canonical_url(url)].archives
    assert rec is not None and rec.unknown == {"picky": why} and rec.url is None and rec.captures == []
    assert any("picky refused 1 lookups: unknown" in n for n in outcome.notes)


def test_a_blocked_link_without_text_gets_the_newest_good_capture(farm: Farm, tmp_path: Path) -> None:
    d = MementoDouble("perma.cc", "Perma.cc")
    w = World(tmp_path, farm, [d])
    url = w.cite("https://www.bigpaper-daily.com/2024/03/walled-story", date="2024-03-12")
    w.verdict(url, "blocked")
    d.add(url, "20240301000000", article(url, ["older"]))
    d.add(url, "20240401000000", article(url, ["newest"]))
    d.add(url, "20240420000000", NOT_FOUND)  # the newest is an error page: refused
    outcome, _ = w.run_archives()
    snap = SnapshotStore(w.snapshots).read(canonical_url(url))
    assert snap is not None and "newest" in snap.text and snap.info.header["origin"] == "perma.cc"
    assert outcome.stats["text_archive"] == 1
    # a second run asks nothing: the link has its text
    before = len(d.hits())
    w.run_archives()
    assert len(d.hits()) == before


def test_a_blocked_link_takes_its_text_from_the_wayback_machine_first(farm: Farm, tmp_path: Path) -> None:
    d = MementoDouble("loc")
    w = World(tmp_path, farm, [d])
    url = w.cite("https://www.bigpaper-daily.com/2024/03/wire-story", date="2024-03-12")
    w.double.add(url, "20240305000000", "200", article(url, ["from-wayback"]))
    d.add(url, "20240401000000", article(url, ["from-loc"]))
    w.verdict(url, "blocked")
    w.run()  # the Wayback stage looks the link up (its captures are known)
    outcome, _ = w.run_archives()
    snap = SnapshotStore(w.snapshots).read(canonical_url(url))
    assert snap is not None and "from-wayback" in snap.text and snap.info.header["origin"] == "wayback"
    assert outcome.stats["text_wayback"] == 1 and d.hits() == []


def test_a_declared_archive_today_url_is_verified(farm: Farm, tmp_path: Path) -> None:
    today = MementoDouble("archive.today", raw=False)
    w = World(tmp_path, farm, [today])
    good = SITE + "declared-good/"
    bad = SITE + "declared-gone/"
    w.cite(good, date="2024-03-12", archive_url=f"{today.base_url}/20240312000000/{good}")
    w.cite(bad, date="2024-03-12", archive_url=f"{today.base_url}/20240312000000/{bad}")
    today.add(good, "20240312000000", article(good, ["declared"]))
    w.verdict(good, "alive")
    w.verdict(bad, "alive")
    outcome, store = w.run_archives()
    rec_good = store.states[canonical_url(good)].archives
    rec_bad = store.states[canonical_url(bad)].archives
    assert rec_good is not None and rec_good.declared == {f"{today.base_url}/20240312000000/{good}": "replays"}
    assert rec_bad is not None and rec_bad.declared == {f"{today.base_url}/20240312000000/{bad}": "missing"}
    (finding,) = [f for f in outcome.findings if f.kind == "archive_unavailable"]
    assert finding.url == bad and "was not found in the archive" in finding.message


def test_each_archive_is_paced_at_its_own_limit(farm: Farm, tmp_path: Path) -> None:
    fast, slow = MementoDouble("fast", per_minute=1200), MementoDouble("paced", per_minute=300)  # 0.05 s, 0.2 s
    w = World(tmp_path, farm, [fast, slow], wayback_down=True)
    for i in range(4):
        url = w.cite(SITE + f"paced-{i}/", date="2024-03-12")
        w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    outcome, _ = w.run_archives()
    for double, gap in ((fast, 0.05), (slow, 0.2)):
        starts = sorted(outcome.starts[double.id])  # the client's request starts: what the pace governs
        assert len(starts) == 4 and len(double.hits()) == 4
        assert min(b - a for a, b in itertools.pairwise(starts)) >= gap * 0.99
    assert outcome.calls == {"fast": 4, "paced": 4}


def test_links_without_other_archive_data_keep_byte_identical_state(farm: Farm, tmp_path: Path) -> None:
    w = World(tmp_path, farm, [MementoDouble("loc")])
    url = w.cite(SITE + "alive/", date="2024-03-12")
    w.verdict(url, "alive")
    before = w.state_bytes()
    w.run_archives()
    assert w.state_bytes() == before


def test_annotate_writes_the_only_good_copy_of_another_archive_naming_it(farm: Farm, tmp_path: Path) -> None:
    from archiver.pipeline.commands import annotate_citations

    today = MementoDouble("archive.today", raw=False)
    w = World(tmp_path, farm, [today], wayback_down=True)
    url = w.cite(SITE + "only-elsewhere/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    today.add(url, "20240310080000", article(url, ["as-cited"]))
    w.run_archives()
    result = annotate_citations(w.settings(), write=True)
    assert result.edits
    text = (w.events / "event-001.md").read_text("utf-8")
    memento = f"{today.base_url}/20240310080000/{url}"
    assert f"    archive_url: {memento}\n" in text and "    archive_date: '2024-03-10'\n" in text
    assert "    archive_source: archive.today\n" in text


def test_a_rescue_from_another_archive_is_kept_as_warc_records(farm: Farm, tmp_path: Path) -> None:
    """The memento's bytes as received go into the run's WARC (target: the cited URL; refers to: the memento),
    and the snapshot header names that record; its payload digest is the stored body's sha256."""
    from warcio.archiveiterator import ArchiveIterator

    from archiver.snapshots.warc import WarcRun

    today = MementoDouble("archive.today", raw=False)
    w = World(tmp_path, farm, [today], wayback_down=True)
    url = w.cite(SITE + "warc-kept/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    today.add(url, "20240310080000", article(url, ["kept-as-warc"]))
    settings = w.settings(archives_file=w.list, archive_timeout=1.0)
    warcs = WarcRun(tmp_path / "warcs", NOW)
    store = StateStore(w.snapshots).load()
    given = StageInput(build_catalog(load_events(w.events).events), store,
                       SnapshotStore.from_settings(settings, warcs=warcs), NOW, stream=io.StringIO())
    asyncio.run(archives_stage(settings.archives_options, given, wayback=WaybackOutcome(unreachable=True)))
    path = warcs.close()
    assert path is not None and path.exists()
    snap = SnapshotStore(w.snapshots).read(canonical_url(url))
    assert snap is not None and snap.info.header["origin"] == "archive.today"
    with path.open("rb") as fh:  # a record's payload is read while the iterator stands on it
        responses = [(r.rec_headers, r.content_stream().read()) for r in ArchiveIterator(fh)
                     if r.rec_type == "response"]
    ((headers, payload),) = responses
    assert headers.get_header("WARC-Target-URI") == url
    assert headers.get_header("WARC-Refers-To-Target-URI") == f"{today.base_url}/20240310080000/{url}"
    assert headers.get_header("WARC-Record-ID") == snap.info.header["warc_record_id"]
    assert headers.get_header("WARC-Payload-Digest") == snap.info.header["warc_payload_digest"]
    assert b"kept-as-warc" in payload


def test_archiver_wayback_asks_the_other_archives_too(farm: Farm, tmp_path: Path) -> None:
    """`archiver wayback` (the stage alone on the stored state) runs the same archive step as `archiver run`."""
    from archiver.pipeline.commands import run_wayback

    loc = MementoDouble("loc", "Library of Congress")
    w = World(tmp_path, farm, [loc], wayback_down=True)
    url = w.cite(SITE + "wayback-command/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    loc.add(url, "20240301000000", article(url, ["as-cited"]))
    out, err = io.StringIO(), io.StringIO()
    settings = w.settings(archives_file=w.list, archive_timeout=1.0, report_dir=tmp_path / "reports")
    assert run_wayback(settings, out=out, err=err) == 0, err.getvalue()
    rec = StateStore(w.snapshots).load().states[canonical_url(url)].archives
    assert rec is not None and (rec.archive, rec.verified) == ("loc", True)
    report = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    (entry,) = [e for e in report["links"] if e["url"] == url]
    assert entry["copy"]["archive"] == "loc" and entry["copy"]["verified"] is True


def test_a_link_whose_wayback_lookup_failed_is_asked_of_the_others(farm: Farm, tmp_path: Path) -> None:
    """One failed CDX lookup (not yet "unreachable"): that link is asked of the other archives; a failing link
    the Wayback Machine was not asked about this run waits for it."""
    loc = MementoDouble("loc", "Library of Congress")
    w = World(tmp_path, farm, [loc])
    failed = w.cite(SITE + "cdx-failed/", date="2024-03-12")
    waiting = w.cite(SITE + "not-asked-yet/", date="2024-03-12")
    for url in (failed, waiting):
        w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
        loc.add(url, "20240301000000", article(url, ["as-cited"]))
    settings = w.settings(archives_file=w.list, archive_timeout=1.0)
    store = StateStore(w.snapshots).load()
    given = StageInput(build_catalog(load_events(w.events).events), store, SnapshotStore.from_settings(settings), NOW,
                       stream=io.StringIO())
    asyncio.run(archives_stage(settings.archives_options, given,
                               wayback=WaybackOutcome(lookup_failed={canonical_url(failed)})))
    assert store.states[canonical_url(failed)].archives is not None
    assert store.states[canonical_url(waiting)].archives is None
    assert {h[1] for h in loc.hits()} <= {"timemap", "memento"} and len(loc.hits("timemap")) == 1
