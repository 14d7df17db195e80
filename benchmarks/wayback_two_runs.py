"""Benchmark: the Wayback stage on a few hundred links over two nightly runs, against the local double.

The double (tests/support/wayback_double.py, a real HTTP server on loopback) holds captures for a mix
of links: alive with a fresh capture, alive with only old captures, alive never captured,
dead with good captures before (or only after) the citation date and 404 captures after the
death, dead with only 404/redirect captures, soft 404s whose later captures are the error page,
and links declaring an archive_url. Run 1 is night 1; run 2 a simulated day later (``now``),
after the double has published every capture (saves now visible in CDX, jobs finished) and
a few live links have started failing. Some save jobs outlast ``save_poll_seconds`` in run 1
and must be reconciled in run 2.

Printed: archive calls per link (by kind) in each run, saves requested versus needed and
duplicates (a URL asked for twice), the share of dead links rescued (a snapshot with origin
wayback), and the CDX rate the double saw against the limit: the shortest gap between two
CDX calls and the most calls in any window, scaled to calls a minute.

Rates are scaled up (``--cdx-per-minute``, default 1200) so two runs take seconds; the limiter
works the same at any rate. ``--real-rate N`` adds a run of N lookups at the default 24 a
minute and measures it over 60-second windows (N=30 takes about 75 s).

    .venv/bin/python benchmarks/wayback_two_runs.py [--links 300] [--seed 7] [--real-rate 30]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import itertools
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.config import Settings, load_settings  # noqa: E402
from archiver.history.linkstate import apply_result, new_state  # noqa: E402
from archiver.history.store import StateStore  # noqa: E402
from archiver.models import CheckResult  # noqa: E402
from archiver.snapshots.store import SnapshotStore  # noqa: E402
from archiver.timeline.catalog import build_catalog, canonical_url  # noqa: E402
from archiver.timeline.load import load_events  # noqa: E402
from archiver.wayback.run import StageInput  # noqa: E402
from archiver.wayback.stage import WaybackOutcome, wayback_stage  # noqa: E402
from tests.support.farm import Farm  # noqa: E402
from tests.support.wayback_double import Hit, WaybackDouble, article, urlkey  # noqa: E402

NIGHT1 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
NIGHT2 = NIGHT1 + dt.timedelta(days=1)
MIX = (  # kind, share of links
    ("alive_fresh", 0.27), ("alive_stale", 0.15), ("alive_never", 0.18), ("alive_declared", 0.05),
    ("dead_before", 0.12), ("dead_after_only", 0.04), ("dead_404_only", 0.08), ("soft_404", 0.07),
    ("turns_dead", 0.04))
ERROR_PAGE = (b"<html><head><title>Page not found</title></head><body><h1>Page not found</h1><p>"
              + b"Sorry, the page you are looking for no longer exists. " * 20 + b"</p></body></html>")


def ts(when: dt.datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def _serve(conn: Connection, spec: WaybackDouble, clock: dt.datetime) -> None:
    """The double in its own process, so the arrival times it logs are not delayed by the stage's work."""
    now = [clock]
    farm = Farm().start()
    spec.clock = lambda: now[0]
    spec.start(farm)
    conn.send(spec.base_url)
    while True:
        command, arg = conn.recv()
        if command == "publish":
            spec.publish()
            conn.send(None)
        elif command == "clock":
            now[0] = arg
            conn.send(None)
        elif command == "log":
            conn.send(list(spec.log))
        elif command == "captures":
            conn.send({key: [(c.timestamp, c.status) for c in snaps] for key, snaps in spec.captures.items()})
        else:
            farm.stop()
            conn.send(None)
            return


class RemoteDouble:
    """A :class:`WaybackDouble` set up here and served by a child process (the CDX rate is measured there)."""

    def __init__(self, spec: WaybackDouble, clock: dt.datetime) -> None:
        self.spec = spec
        self.conn, child = multiprocessing.get_context("fork").Pipe()
        spec.clock = None  # type: ignore[assignment]  # not picklable; the child sets its own
        self.process = multiprocessing.get_context("fork").Process(target=_serve, args=(child, spec, clock),
                                                                   daemon=True)
        self.process.start()
        self.base_url: str = self.conn.recv()
        self.access, self.secret = spec.access, spec.secret

    def call(self, command: str, arg: Any = None) -> Any:
        self.conn.send((command, arg))
        return self.conn.recv()

    def log(self) -> list[Hit]:
        return self.call("log")

    def hits(self, kind: str, since: float = 0.0) -> list[Hit]:
        return [h for h in self.log() if h.kind == kind and h.at >= since]

    def stop(self) -> None:
        self.call("stop")
        self.process.join(5)


class Bench:
    def __init__(self, root: Path, double: WaybackDouble, n: int, seed: int) -> None:
        self.root, self.double, self.rng = root, double, random.Random(seed)
        self.remote: RemoteDouble | None = None
        self.events = root / "events"
        self.events.mkdir()
        self.snapshots = root / "snapshots"
        self.kinds: dict[str, str] = {}
        self.cited: dict[str, dt.datetime] = {}
        counts = [(kind, round(share * n)) for kind, share in MIX]
        i = 0
        for kind, count in counts:
            for _ in range(count):
                self.make(kind, i)
                i += 1

    def make(self, kind: str, i: int) -> None:
        rng, d = self.rng, self.double
        url = f"https://www.outlet{i % 37}.com/{2015 + i % 11}/story-{i}-{kind.replace('_', '-')}/"
        cited = dt.datetime(2015, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(0, 11 * 365 - 60))
        if kind == "alive_fresh":
            cited = NIGHT1 - dt.timedelta(days=rng.randrange(20, 300))
        self.kinds[url], self.cited[url] = kind, cited
        archive_url = None
        before = cited - dt.timedelta(days=rng.randrange(1, 40))
        after = cited + dt.timedelta(days=rng.randrange(1, 20))
        died = cited + dt.timedelta(days=rng.randrange(60, 400))
        if kind in ("alive_fresh", "alive_declared", "turns_dead"):
            d.add(url, ts(before), "200", article(url, ["as-cited"]))
            d.add(url, ts(NIGHT1 - dt.timedelta(days=rng.randrange(2, 200))), "200", article(url))
            if kind == "alive_declared":
                archive_url = f"https://web.archive.org/web/{ts(before)}/{url}"
        elif kind == "alive_stale":
            d.add(url, ts(before), "200", article(url, ["as-cited"]))
            d.add(url, ts(min(after, NIGHT1 - dt.timedelta(days=400))), "200", article(url))
        elif kind == "dead_before":
            d.add(url, ts(before - dt.timedelta(days=200)), "200", article(url, ["older"]))
            d.add(url, ts(before), "200", article(url, ["as-cited"]))
            d.add(url, ts(died + dt.timedelta(days=3)), "404", ERROR_PAGE)
        elif kind == "dead_after_only":
            d.add(url, ts(after), "200", article(url, ["soon-after"]))
            d.add(url, ts(died + dt.timedelta(days=3)), "404", ERROR_PAGE)
        elif kind == "dead_404_only":
            d.add(url, ts(died + dt.timedelta(days=3)), "404", ERROR_PAGE)
            d.add(url, ts(died + dt.timedelta(days=9)), "301", b"", location="https://www.example.org/")
            d.job_errors[urlkey(url)] = "error:not-found"
        elif kind == "soft_404":
            d.add(url, ts(before), "200", article(url, ["as-cited"]))
            d.add(url, ts(died + dt.timedelta(days=5)), "200", ERROR_PAGE)
        date = cited.date().isoformat()
        block = f"  - url: {url}\n    title: Story {i}\n    publisher: Outlet\n    date: {date}\n    tier: 2\n"
        if archive_url:
            block += f"    archive_url: {archive_url}\n"
        (self.events / f"e{i:04d}.md").write_text(
            f"---\nid: e{i:04d}\ndate: {date}\ntitle: Event {i}\nsources:\n{block}---\n", "utf-8")

    def status_on(self, url: str, night: int) -> str:
        kind = self.kinds[url]
        if kind.startswith("dead"):
            return "dead"
        if kind == "soft_404":
            return "soft_404"
        if kind == "turns_dead":
            return "dead" if night == 2 else "alive"
        return "alive"

    def record_checks(self, night: int, now: dt.datetime, settings: Settings) -> None:
        """The check stage's verdicts for this night (written as a check would)."""
        store = StateStore(self.snapshots).load()
        for url in self.kinds:
            key = canonical_url(url)
            state = store.states.get(key) or new_state(url, key, NIGHT1 - dt.timedelta(days=90))
            status = self.status_on(url, night)
            if night == 1 and status != "alive":  # failing for a while already; half of them confirmed
                for k in range(3 if hash(url) % 2 else 1):
                    apply_result(state, CheckResult(url, status, now - dt.timedelta(days=8 - 4 * k),
                                                    http_status=404 if status == "dead" else 200), settings)
            apply_result(state, CheckResult(url, status, now - dt.timedelta(minutes=30),
                                            http_status=404 if status == "dead" else 200), settings)
            store.save(state)

    def needed_saves(self, now: dt.datetime, settings: Settings) -> set[str]:
        """Ground truth: links the issues say need a save (alive without a 2xx capture newer than
        save_max_age_days; dead but not yet confirmed, with no 2xx capture at all, unless the death is
        definitive: a 404/410 is never saved, issue 13)."""
        store = StateStore(self.snapshots).load()
        assert self.remote is not None
        captures = self.remote.call("captures")
        out = set()
        for url in self.kinds:
            state = store.states[canonical_url(url)]
            ok = [stamp for stamp, code in captures.get(urlkey(url), []) if code.startswith("2")]
            fresh = [stamp for stamp in ok if (now - dt.datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(
                tzinfo=dt.UTC)).days < settings.save_max_age_days]
            if (state.status == "alive" and not fresh) or (state.status == "dead" and not state.confirmed and not ok
                                                           and state.http_status not in (404, 410)):
                out.add(url)
        return out

    def run(self, now: dt.datetime, settings: Settings) -> tuple[WaybackOutcome, float]:
        catalog = build_catalog(load_events(self.events).events)
        store = StateStore(self.snapshots).load()
        started = time.monotonic()
        env = {"IA_ACCESS_KEY": self.double.access, "IA_SECRET_KEY": self.double.secret}
        given = StageInput(catalog, store, SnapshotStore.from_settings(settings), now, stream=io.StringIO(), env=env)
        outcome = asyncio.run(wayback_stage(settings.wayback_options, given))
        return outcome, time.monotonic() - started


def rate_report(double: RemoteDouble, since: float, limit: float) -> str:
    times = sorted(h.at for h in double.hits("cdx", since))
    if len(times) < 2:
        return "fewer than two CDX calls"
    gap = min(b - a for a, b in itertools.pairwise(times))
    interval = 60 / limit
    lines = [f"shortest gap {gap * 1000:.1f} ms (limit {interval * 1000:.1f} ms)"]
    for windows in (24, 120):  # 24 intervals: the scaled minute of the default 24/min
        window = interval * windows
        peak = max(sum(1 for t in times if a <= t < a + window) for a in times)
        lines.append(f"most in any {window:.2f} s window: {peak} (limit {windows}) = {peak / window * 60:.0f}/min")
    return "; ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cdx-per-minute", type=float, default=1200.0)
    parser.add_argument("--save-per-minute", type=float, default=1200.0)
    parser.add_argument("--real-rate", type=int, default=0, metavar="N",
                        help="also time N lookups at the default 24 CDX calls a minute")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-wayback-") as tmp:
        spec = WaybackDouble()
        bench = Bench(Path(tmp), spec, args.links, args.seed)
        slow = [u for u in bench.kinds if bench.kinds[u] in ("alive_never", "alive_stale")][::8]
        spec.slow.update(urlkey(u) for u in slow)
        spec.job_seconds, spec.slow_seconds = 0.05, 1.5  # slow jobs outlast save_poll_seconds
        double = bench.remote = RemoteDouble(spec, NIGHT1)
        try:
            settings = load_settings(env={}, overrides={
                "events": bench.events, "snapshots": bench.snapshots, "wayback_url": double.base_url,
                "availability_url": double.base_url, "allow_networks": "127.0.0.0/8",
                "cdx_per_minute": args.cdx_per_minute, "save_per_minute": args.save_per_minute,
                "replay_per_minute": args.cdx_per_minute * 4, "per_host_gap": 0, "max_saves": 1000,
                "save_poll_seconds": 1.0})
            n = len(bench.kinds)
            print(f"{n} links: " + ", ".join(f"{k} {v}" for k, v in Counter(bench.kinds.values()).items()))
            print(f"rates: CDX {args.cdx_per_minute:g}/min, saves {args.save_per_minute:g}/min "
                  "(scaled up from 24 and 4 so the runs take seconds); the double runs in its own process")
            asked: Counter[str] = Counter()
            for night, now in ((1, NIGHT1), (2, NIGHT2)):
                if night == 2:
                    double.call("publish")  # a day later: every capture is in CDX and replay, every job is done
                    double.call("clock", NIGHT2)
                bench.record_checks(night, now, settings)
                needed = bench.needed_saves(now, settings)
                since = time.monotonic()
                outcome, seconds = bench.run(now, settings)
                hits = [h for h in double.log() if h.at >= since]
                calls = Counter(h.kind for h in hits)
                saves = [h.url for h in hits if h.kind == "save" and h.url]
                asked.update(saves)
                failing = [u for u in bench.kinds if bench.status_on(u, night) != "alive"]
                store = SnapshotStore(bench.snapshots)
                rescued = [u for u in failing if (f := store.first(canonical_url(u))) is not None
                           and f.origin == "wayback"]
                rescuable = [u for u in failing
                             if bench.kinds[u] in ("dead_before", "dead_after_only", "soft_404", "turns_dead")]
                s = outcome.stats
                print(f"\nrun {night} ({now:%Y-%m-%d}): {seconds:.1f} s, {len(hits)} archive calls "
                      f"= {len(hits) / n:.2f} per link ({', '.join(f'{k} {v}' for k, v in sorted(calls.items()))})")
                print(f"  CDX calls per link {calls['cdx'] / n:.2f}; links looked up {s['looked_up']}; "
                      f"save jobs reconciled through CDX {s['reconciled']}")
                unneeded = [u for u in saves if u not in needed]
                print(f"  saves: needed {len(needed)}, requested {len(saves)} (not needed: {len(unneeded)}), "
                      f"done {s['saves_done']}, left pending {s['saves_pending']}, failed {s['saves_failed']}")
                states = StateStore(bench.snapshots).load().states
                waiting = Counter(bench.kinds[u] for u in bench.kinds
                                  if (states[canonical_url(u)].wayback or {}).get("save_job"))
                if waiting:
                    print("  save jobs still unconfirmed: " + ", ".join(f"{k} {v}" for k, v in sorted(waiting.items())))
                print(f"  dead/soft-404 links: {len(failing)}; rescued so far {len(rescued)} "
                      f"({len(rescued) / max(1, len(failing)):.0%} of all, "
                      f"{len(rescued) / max(1, len(rescuable)):.0%} of the {len(rescuable)} with a good capture)")
                print(f"  CDX rate at the double: {rate_report(double, since, args.cdx_per_minute)}")
                for note in outcome.notes:
                    print(f"  note: {note}")
            dupes = {u: c for u, c in asked.items() if c > 1}
            for url in dupes:
                answers = [(h.status, round(h.at - since, 2)) for h in double.hits("save") if h.url == url]
                print(f"  asked twice: {url} {answers}")
            print(f"\nduplicate save requests over both runs: {len(dupes)} "
                  f"(URLs asked for: {len(asked)}, requests: {sum(asked.values())})")
            print(f"CDX calls answered 429 by the double: {sum(1 for h in double.hits('cdx') if h.status == 429)}")
        finally:
            double.stop()
    if args.real_rate:
        real_rate(args.real_rate)


def real_rate(count: int) -> None:
    """``count`` never-seen links looked up at the default limit (24/min), measured at the double."""
    with tempfile.TemporaryDirectory(prefix="archiver-wayback-real-") as tmp:
        spec = WaybackDouble()
        spec.cdx_limit = (30, 60.0)  # the archive's own limit: more than 30 in a minute answer 429
        root = Path(tmp)
        events = root / "events"
        events.mkdir()
        for i in range(count):
            url = f"https://www.outlet{i}.com/real-rate-{i}/"
            spec.add(url, "20250101000000", "200", article(url))
            (events / f"r{i}.md").write_text(f"---\nid: r{i}\ndate: 2025-01-02\ntitle: R\nsources:\n"
                                             f"  - url: {url}\n---\n", "utf-8")
        double = RemoteDouble(spec, NIGHT1)
        try:
            settings = load_settings(env={}, overrides={
                "events": events, "snapshots": root / "snapshots", "wayback_url": double.base_url,
                "availability_url": double.base_url, "allow_networks": "127.0.0.0/8", "per_host_gap": 0})
            catalog = build_catalog(load_events(events).events)
            store = StateStore(settings.snapshots).load()
            started = time.monotonic()
            given = StageInput(catalog, store, SnapshotStore.from_settings(settings), NIGHT1, stream=io.StringIO(),
                               env={})
            asyncio.run(wayback_stage(settings.wayback_options, given))
            took = time.monotonic() - started
            calls = double.hits("cdx")
            print(f"\nreal rate: {len(calls)} CDX calls in {took:.1f} s at the default "
                  f"{settings.cdx_per_minute:g}/min; {rate_report(double, started, settings.cdx_per_minute)}; "
                  f"answered 429 (the double allows 30 a minute, as the archive does): "
                  f"{sum(1 for h in calls if h.status == 429)}")
        finally:
            double.stop()


if __name__ == "__main__":
    main()
