"""The Wayback stage end to end against the local double: rescue, declared archive URLs, the 429 pause,
the CDX rate, saving within quota, pending jobs reconciled, no duplicate saves, keys kept secret."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
from click.testing import CliRunner

from archiver.cli import cli
from archiver.config import Settings, load_settings
from archiver.history.linkstate import LinkState, apply_result, new_state
from archiver.history.store import StateStore
from archiver.history.wayback_record import Rescued, WaybackRecord
from archiver.models import CheckResult
from archiver.report.build import load_schema
from archiver.snapshots.store import SnapshotStore, parse
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events
from archiver.wayback.run import StageInput
from archiver.wayback.stage import SAVING_OFF, WaybackOutcome, wayback_stage
from tests.history.test_wayback_record import roundtrip_state_files
from tests.support.wayback_double import WaybackDouble, article, urlkey

NOW = dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
SITE = "https://www.rivertongazette.com/news/2024/03/"
CHALLENGE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser "
             b"before accessing the site.</h1><p>" + b"Please enable JavaScript and cookies to continue. " * 30 +
             b"</p></body></html>")
ERROR_PAGE = (b"<html><head><title>Page not found | Riverton Gazette</title></head><body><h1>Page not found</h1><p>"
              + b"Sorry, the page you are looking for has moved or no longer exists. " * 20 + b"</p></body></html>")


class Timeline:
    """Events citing links, their check verdicts in the link state, and runs of the stage."""

    def __init__(self, root: Path, double: WaybackDouble) -> None:
        self.root, self.double = root, double
        self.events = root / "events"
        self.events.mkdir(parents=True, exist_ok=True)
        self.snapshots = root / "snapshots"
        self.sources: list[str] = []

    def cite(self, url: str, *, date: str = "2024-03-12", archive_url: str | None = None) -> str:
        block = f"  - url: {url}\n    title: Source {len(self.sources)}\n    publisher: Riverton Gazette\n" \
                f"    date: {date}\n    tier: 1\n"
        if archive_url:
            block += f"    archive_url: {archive_url}\n"
        self.sources.append(block)
        n = len(self.sources)
        (self.events / f"event-{n:03d}.md").write_text(
            f"---\nid: event-{n:03d}\ndate: {date}\ntitle: Event {n}\nsources:\n{block}---\n\nBody.\n", "utf-8")
        return url

    def verdict(self, url: str, status: str, *, since: dt.datetime = NOW - dt.timedelta(days=1),
                checks: int = 1, confirmed: bool = False) -> None:
        store = StateStore(self.snapshots).load()
        key = canonical_url(url)
        state = store.states.get(key) or new_state(url, key, since - dt.timedelta(days=60))
        for i in range(checks):
            when = since + dt.timedelta(days=2 * i)
            apply_result(state, CheckResult(url, status, when, http_status=200 if status == "alive" else 404),
                         self.settings())
        state.confirmed = confirmed
        store.save(state)

    def settings(self, **extra: Any) -> Settings:
        values: dict[str, Any] = {
            "events": self.events, "snapshots": self.snapshots, "report_dir": self.root / "reports",
            "wayback_url": self.double.base_url, "availability_url": self.double.base_url,
            "allow_networks": "127.0.0.0/8", "cdx_per_minute": 6000, "replay_per_minute": 6000,
            "save_per_minute": 6000, "per_host_gap": 0, "wayback_pause": 0.4, "save_poll_seconds": 1.0,
            "connect_timeout": 2, "read_timeout": 2, "total_timeout": 5}
        values.update(extra)
        return load_settings(overrides=values, env={})

    def keys(self) -> dict[str, str]:
        return {"IA_ACCESS_KEY": self.double.access, "IA_SECRET_KEY": self.double.secret}

    def run(self, now: dt.datetime = NOW, *, keys: bool = False, err: io.StringIO | None = None,
            **extra: Any) -> tuple[WaybackOutcome, StateStore]:
        settings = self.settings(**extra)
        catalog = build_catalog(load_events(self.events).events)
        store = StateStore(self.snapshots).load()
        given = StageInput(catalog, store, SnapshotStore.from_settings(settings), now, stream=err or io.StringIO(),
                           env=self.keys() if keys else {})
        outcome = asyncio.run(wayback_stage(settings.wayback_options, given))
        return outcome, store

    def state(self, url: str) -> LinkState:
        return StateStore(self.snapshots).load().states[canonical_url(url)]

    def state_bytes(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(self.snapshots.rglob("state.json"))}


def test_a_dead_link_is_rescued_from_the_capture_nearest_before_its_citation(double: WaybackDouble,
                                                                             tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "council-cameras/", date="2024-03-12")
    double.add(url, "20240101120000", "200", article(url, ["first-version"]))
    double.add(url, "20240310120000", "200", article(url, ["as-cited"]))
    double.add(url, "20240312180000", "301", b"", location="https://www.rivertongazette.com/")
    double.add(url, "20240315120000", "404", ERROR_PAGE)
    double.add(url, "20240402120000", "200", ERROR_PAGE)  # after it failed: the site's error page, answered 200
    t.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC), checks=3, confirmed=True)

    outcome, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.timestamp == "20240310120000"
    assert wb.url == f"{double.base_url}/web/20240310120000/{url}"
    assert wb.rescued == Rescued("20240310120000", "written")
    assert outcome.stats["rescued"] == 1 and outcome.calls == {"cdx": 1, "replay": 1}
    snapshot = SnapshotStore(t.snapshots).read(canonical_url(url))
    assert snapshot is not None and "as-cited" in snapshot.text and "first-version" not in snapshot.text
    header = snapshot.info.header
    assert header["origin"] == "wayback" and header["wayback_url"] == wb.url
    assert header["captured_at"] == "2024-03-10T12:00:00Z" and header["http_status"] == 200
    (finding,) = [f for f in outcome.findings if f.url == url]
    assert finding.kind == "wayback_copy" and finding.fix == f"archive_url: {wb.url}"
    assert [h.url for h in double.hits("replay")] == [url]

    before, hits = t.state_bytes(), len(double.log)
    again, _ = t.run(NOW + dt.timedelta(hours=20))  # nothing calls for a lookup: not a request, not a byte
    assert len(double.log) == hits and t.state_bytes() == before and again.calls == {}


def test_captures_of_error_pages_and_redirects_are_never_offered(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "only-errors/")
    double.add(url, "20240301120000", "404", ERROR_PAGE)
    double.add(url, "20240305120000", "301", b"", location="https://www.rivertongazette.com/")
    double.add(url, "20240306120000", "-", b"")
    t.verdict(url, "dead")
    outcome, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.to_dict() == {"url": None, "timestamp": None, "looked_up": "2024-05-01T02:00:00Z"}
    assert not double.hits("replay")
    assert [f.kind for f in outcome.findings] == ["no_archived_copy"]
    assert SnapshotStore(t.snapshots).first(canonical_url(url)) is None


def test_a_bot_challenge_capture_is_refused_and_the_next_one_rescued(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "challenged/")
    double.add(url, "20240301120000", "200", article(url, ["earlier-copy"]))
    double.add(url, "20240311120000", "200", CHALLENGE)
    t.verdict(url, "soft_404")
    outcome, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.timestamp == "20240301120000" and wb.rescued is not None
    assert wb.rescued.timestamp == "20240301120000"
    challenged = [c for c in wb.captures if c.timestamp == "20240311120000"]
    assert challenged and "challenge" in (challenged[0].rejected or "")
    snapshot = SnapshotStore(t.snapshots).read(canonical_url(url))
    assert snapshot is not None and "earlier-copy" in snapshot.text
    assert outcome.stats["replays_judged"] == 2 and outcome.stats["captures_rejected"] == 1


def test_a_live_capture_is_never_replaced_by_a_rescue(double: WaybackDouble, tmp_path: Path) -> None:
    from archiver.snapshots.extract import extract
    from archiver.snapshots.store import Capture

    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "kept-live/")
    double.add(url, "20240301120000", "200", article(url, ["archived"]))
    body = article(url, ["live-copy"])
    SnapshotStore(t.snapshots).save(Capture(url=url, normalized_url=canonical_url(url), captured_at=NOW,
                                            extraction=extract(body, "text/html", url), http_status=200))
    t.verdict(url, "dead")
    _, store = t.run()
    snapshot = SnapshotStore(t.snapshots).read(canonical_url(url))
    assert snapshot is not None and "live-copy" in snapshot.text and snapshot.info.origin == "live"
    # the copy to cite is replayed once to judge it, never stored over the live capture
    assert double.replayed(url) == ["20240301120000"]
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.verified is True and wb.rescued is None
    t.run(NOW + dt.timedelta(hours=20))
    assert double.replayed(url) == ["20240301120000"]  # judged once, not every night


def test_declared_archive_urls_are_checked(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    good = t.cite(SITE + "declared-good/", archive_url=f"https://web.archive.org/web/20240312000000/{SITE}declared-good/")
    other = t.cite(SITE + "declared-other/", archive_url="https://web.archive.org/web/20240312000000/https://www.rivertongazette.com/")
    elsewhere = t.cite(SITE + "declared-elsewhere/", archive_url="https://archive.ph/AbCd1")
    never = t.cite(SITE + "declared-never/", archive_url=f"https://web.archive.org/web/2024/{SITE}declared-never/")
    error = t.cite(SITE + "declared-error/", archive_url=f"https://web.archive.org/web/20240310000000/{SITE}declared-error/")
    double.add(good, "20240311120000", "200", article(good))
    double.add(error, "20240310000000", "404", ERROR_PAGE)
    for url in (good, other, elsewhere, never, error):
        t.verdict(url, "alive")
    outcome, store = t.run()
    verdicts = {url: next(iter(WaybackRecord.ensure(store.states[canonical_url(url)]).declared.values()))
                for url in (good, other, elsewhere, never, error)}
    assert verdicts == {good: "replays", other: "mismatch", elsewhere: "not_wayback", never: "missing",
                        error: "error"}
    assert outcome.stats["declared_checked"] == 3  # the others need no request
    flagged = sorted(f.url for f in outcome.findings if f.kind == "archive_unavailable")
    assert flagged == sorted([never, error])


def test_a_429_pauses_every_archive_call_and_says_so(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    urls = [t.cite(f"{SITE}story-{i}/") for i in range(6)]
    for url in urls:
        double.add(url, "20240301120000", "200", article(url))
        t.verdict(url, "alive")
    dead = t.cite(SITE + "dead-one/")
    double.add(dead, "20240301120000", "200", article(dead))
    t.verdict(dead, "dead")
    double.cdx_429 = 1
    err = io.StringIO()
    outcome, store = t.run(err=err, keys=True, wayback_pause=0.6)
    (limited,) = [h for h in double.log if h.status == 429]
    after = [h for h in double.log if h.at > limited.at]
    assert after and min(h.at for h in after) - limited.at >= 0.58  # nothing at all during the pause
    assert "429 Too Many Requests (CDX); every archive call pauses for 0.6 s" in err.getvalue()
    assert any("every archive call pauses for 0.6 s" in n for n in outcome.notes)
    assert all(store.states[canonical_url(u)].wayback for u in [*urls, dead])  # the lookup was retried


def test_a_second_429_ends_the_lookups_of_the_run(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    for i in range(5):
        t.verdict(t.cite(f"{SITE}story-{i}/"), "alive")
    double.cdx_429 = 2
    outcome, _ = t.run(wayback_pause=0.2)
    # the second lookup worker's call may already be on its way when the second 429 arrives
    assert [h.status for h in double.hits("cdx")][:2] == [429, 429] and len(double.hits("cdx")) <= 3
    assert outcome.lookups_left >= 4
    assert any("lookups stopped for this run" in n for n in outcome.notes)
    assert any(f"{outcome.lookups_left} lookups are left for the next run" in n for n in outcome.notes)


def test_lookups_stay_within_the_budget_in_priority_order(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    urls = [t.cite(f"{SITE}budget-{i}/", date=f"2024-03-{10 + i:02d}") for i in range(4)]
    for url in urls:
        t.verdict(url, "alive")
    dead = t.cite(SITE + "budget-dead/", date="2019-01-01")
    t.verdict(dead, "dead")
    outcome, _ = t.run(max_lookups=2)
    assert [h.url for h in double.hits("cdx")] == [dead, urls[-1]]  # failing first, then the newest event
    assert outcome.lookups_left == 3 and any("3 lookups are left for the next run (the max_lookups budget)" in n
                                             for n in outcome.notes)


def test_the_cdx_rate_never_exceeds_the_limit(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    for i in range(12):
        url = t.cite(f"{SITE}busy-{i}/", date="2019-01-01")
        double.add(url, "20180101000000", "200", article(url))
        t.verdict(url, "alive")
    t.run(keys=True, cdx_per_minute=600)  # 10 a second; old captures also need a second query
    assert len(double.hits("cdx")) == 24
    assert double.peak("cdx", 1.0) <= 10 and double.peak("cdx", 2.0) <= 20


def test_cdx_failures_fall_back_to_the_availability_api(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "heavy/")
    double.add(url, "20240301120000", "200", article(url))
    t.verdict(url, "alive")
    double.cdx_503 = 1
    _, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.timestamp == "20240301120000" and wb.source == "availability"
    _, store = t.run(NOW + dt.timedelta(hours=20))  # partial knowledge: CDX is asked again
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.source is None and [h.status for h in double.hits("cdx")] == [503, 200]


def never_captured(t: Timeline, n: int, name: str = "fresh") -> list[str]:
    urls = []
    for i in range(n):
        url = t.cite(f"{SITE}{name}-{i}/", date=f"2024-04-{10 + i:02d}")
        t.verdict(url, "alive")
        urls.append(url)
    return urls


def test_saves_stop_at_the_accounts_quota(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    never_captured(t, 5)
    double.daily_captures = double.daily_limit - 2
    outcome, _ = t.run(keys=True)
    assert len(double.hits("save")) == 2 and outcome.stats["saves_requested"] == 2
    assert any("the save budget (2) is spent" in n for n in outcome.notes)


def test_a_quota_refusal_stops_saving_for_the_run(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    urls = never_captured(t, 4)
    double.submit_errors[urlkey(urls[-1])] = "error:too-many-daily-captures"  # the newest event is saved first
    outcome, store = t.run(keys=True)
    assert len(double.hits("save")) == 1  # no retry, no other link
    assert any("saving stopped for this run: Save Page Now answered error:too-many-daily-captures" in n
               for n in outcome.notes)
    error = WaybackRecord.ensure(store.states[canonical_url(urls[-1])]).save_error
    assert error is not None and error.code == "error:too-many-daily-captures"


def test_a_429_from_save_page_now_stops_saving(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    never_captured(t, 3)
    double.save_429 = True
    outcome, _ = t.run(keys=True, wayback_pause=0.2)
    assert len(double.hits("save")) == 1
    assert any("Save Page Now answered 429" in n for n in outcome.notes)


def test_a_pending_job_is_reconciled_by_a_later_run_and_never_asked_twice(double: WaybackDouble,
                                                                          tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    slow, quick = never_captured(t, 2)
    double.slow.add(urlkey(slow))
    double.job_seconds = 0.0
    outcome, store = t.run(keys=True, save_poll_seconds=0.5)
    wb = store.states[canonical_url(slow)].wayback
    assert wb is not None and wb.save_job is not None and str(wb.save_job.id).startswith("spn2-")
    assert wb.saved_this_run is True
    assert outcome.stats["saves_pending"] == 1 and outcome.stats["saves_done"] == 1
    saved = WaybackRecord.ensure(store.states[canonical_url(quick)]).saved
    assert saved is not None and saved.timestamp == "20240501020000"

    # ten minutes later the archive still remembers the job: its status is asked, nothing is submitted
    outcome, store = t.run(NOW + dt.timedelta(minutes=10), keys=True, save_poll_seconds=0.3)
    assert len(double.hits("save")) == 2 and outcome.stats["saves_requested"] == 0
    assert not WaybackRecord.ensure(store.states[canonical_url(quick)]).saved_this_run

    # a day later: the status record has expired, the capture has appeared in CDX
    double.publish()
    outcome, store = t.run(NOW + dt.timedelta(days=1), keys=True)
    wb = store.states[canonical_url(slow)].wayback
    assert wb is not None and wb.save_job is None and wb.saved is not None and wb.saved.timestamp == "20240501020000"
    assert wb.timestamp == "20240501020000" and not wb.saved_this_run
    assert outcome.stats["reconciled"] == 1 and len(double.hits("save")) == 2
    assert {h.url for h in double.hits("save")} == {slow, quick}  # one request per link, ever


def test_a_job_that_finished_meanwhile_is_read_from_its_status(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    (url,) = never_captured(t, 1)
    double.slow.add(urlkey(url))
    t.run(keys=True, save_poll_seconds=0.2)
    double.publish()
    outcome, store = t.run(NOW + dt.timedelta(minutes=20), keys=True)
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.saved is not None and wb.saved.timestamp == "20240501020000"
    assert outcome.stats["saves_done"] == 1
    assert len(double.hits("save")) == 1 and not double.hits("cdx")[1:]  # by status: no CDX reconciliation


def invoke(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        clean = {k: None for k in os.environ if k.startswith(("ARCHIVER_", "IA_"))}
        result = runner.invoke(cli, args, env={**clean, **env}, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def cli_env(double: WaybackDouble, **extra: str) -> dict[str, str]:
    return {"ARCHIVER_WAYBACK_URL": double.base_url, "ARCHIVER_AVAILABILITY_URL": double.base_url,
            "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_CDX_PER_MINUTE": "6000",
            "ARCHIVER_REPLAY_PER_MINUTE": "6000", "ARCHIVER_SAVE_PER_MINUTE": "6000", "ARCHIVER_PER_HOST_GAP": "0",
            "ARCHIVER_NOW": "2024-05-01T02:00:00Z", "ARCHIVER_SAVE_POLL_SECONDS": "1", **extra}


def test_archiver_wayback_without_keys_saves_nothing_and_says_how(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    alive = never_captured(t, 1)[0]
    dead = t.cite(SITE + "cli-dead/")
    double.add(dead, "20240301120000", "200", article(dead))
    t.verdict(dead, "dead")
    code, out, err = invoke(["wayback", "--events", "events", "--snapshots", "snapshots", "--report-dir", "reports"],
                            tmp_path, cli_env(double))
    assert code == 0, err
    assert "saving off" in out and SAVING_OFF in err
    assert not [h for h in double.log if h.kind in ("save", "status", "user", "legacy_save")]
    report = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(report)
    assert f"wayback: {SAVING_OFF}" in report["run"]["notes"] and "wayback" in report["run"]["stage_seconds"]
    by_url = {e["url"]: e for e in report["links"]}
    assert by_url[dead]["wayback"] == {"url": f"{double.base_url}/web/20240301120000/{dead}",
                                       "timestamp": "20240301120000", "verified": True}
    assert by_url[dead]["snapshot"]["origin"] == "wayback"
    assert by_url[alive]["wayback"] == {"url": None, "timestamp": None}
    assert report["summary"]["findings"].get("wayback_copy") == 1
    assert (tmp_path / "reports" / "report.md").is_file()


def test_keys_never_appear_in_output_reports_or_state(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    never_captured(t, 2)
    keys = {"IA_ACCESS_KEY": double.access, "IA_SECRET_KEY": double.secret}
    code, out, err = invoke(["wayback", "--events", "events", "--snapshots", "snapshots", "--report-dir", "reports",
                             "--max-saves", "1"], tmp_path, {**cli_env(double), **keys})
    assert code == 0, err
    assert "saves: 1 requested, 1 done" in out
    wrong = {"IA_ACCESS_KEY": double.access, "IA_SECRET_KEY": "IAKEY-secret-wrong-0000"}
    code2, out2, err2 = invoke(["wayback", "--events", "events", "--snapshots", "snapshots", "--report-dir",
                                "reports"], tmp_path, {**cli_env(double, ARCHIVER_NOW="2024-05-02T02:00:00Z"),
                                                       **wrong})
    assert code2 == 0 and "refused the keys" in err2
    texts = [out, err, out2, err2] + [p.read_text("utf-8", "replace") for p in tmp_path.rglob("*") if p.is_file()
                                      and "events" not in p.parts]
    for secret in (double.access, double.secret, "IAKEY-secret-wrong-0000"):
        assert not [text for text in texts if secret in text]
    assert any(h.status == 401 for h in double.hits("user"))


def test_report_entry_is_in_the_schema_and_parse_of_rescued_file(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "parse-me/")
    double.add(url, "20240301120000", "200", article(url))
    t.verdict(url, "dead")
    t.run()
    path = next(t.snapshots.rglob("snapshot.md"))
    parsed = parse(path.read_text("utf-8"))
    assert parsed is not None and parsed[0]["origin"] == "wayback" and parsed[0]["cited_by"] == ["event-001"]


def test_state_files_written_by_the_stage_round_trip_through_the_typed_record(double: WaybackDouble,
                                                                             tmp_path: Path) -> None:
    """Rescues, rejected captures, declared URLs, saves done and pending: every state.json the stage wrote
    is read and written back byte-identical, in the stored form the dict-based code wrote."""
    t = Timeline(tmp_path, double)
    dead = t.cite(SITE + "council-cameras/", date="2024-03-12",
                  archive_url=f"https://web.archive.org/web/20240310120000/{SITE}council-cameras/")
    double.add(dead, "20240101120000", "200", article(dead, ["first-version"]))
    double.add(dead, "20240310120000", "200", article(dead, ["as-cited"]))
    double.add(dead, "20240311120000", "200", CHALLENGE)
    t.verdict(dead, "dead", checks=2, confirmed=True)
    t.run()  # the rescue first: saves submitted during it could outlive their poll time
    slow, _quick = never_captured(t, 2)
    double.slow.add(urlkey(slow))
    double.job_seconds = 0.0
    outcome, _ = t.run(keys=True, save_poll_seconds=1.0)
    assert outcome.stats["saves_done"] == 1 and outcome.stats["saves_pending"] == 1, outcome.summary
    assert roundtrip_state_files(t.snapshots) == 3
    stored = "".join(p.read_text("utf-8") for p in t.snapshots.rglob("state.json"))
    for key in ('"rescued"', '"rejected"', '"verified"', '"declared"', '"save_job"', '"saved"', '"saved_this_run"'):
        assert key in stored, key  # every sub-record was written and read back
