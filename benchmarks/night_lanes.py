"""A night's archive budget: what the lanes buy, side by side with the sequential order of the release before.

A first night on a 2,000-link timeline (every link checked, none looked up yet): the corpus's own URLs (a sample
of ../shared/corpus/capture-cascade/events, so its hosts are as skewed as a real timeline's; made-up ones on 200
hosts when it is absent), 300 failing links (half newly failing, half failing for a while), 100 blocked links
without text, 1,600 live ones. A local Wayback Machine (tests/support/wayback_double.py) holds half the failing
pages (some of its captures are archived error pages), 40% of the blocked ones and half the live ones; six local
Memento archives (tests/support/memento_double.py) hold pages as real ones do: half the sites are in one
archive's crawl (a national domain, a collection's seeds), which holds 85% of their pages, and archive.today
holds 10% of single pages, those people asked it to save; some of their captures are archived error pages too.
Save Page Now keys are set. Every archive is paced at its real limit (CDX 24, replay 60, saves 4 and the Memento
archives 4 or 6 calls a minute) times ``--speedup``, and the night's time budget is 900 s divided by it, so one
night takes 900 / speedup seconds of wall time; the default budgets (max_lookups 500, max_saves 50) hold.

``archiver wayback`` (the archive step on the stored state, the same step ``archiver run`` takes after the
check) runs in a subprocess, once with this checkout and once with ``--baseline`` (extracted with
``git archive``), each on a fresh copy of the same state, against the same doubles. A second scenario has the
Wayback Machine down for the night (503 everywhere, as in October 2024).

Printed, per scenario and version: copies for failing links (and for the gone pages only the other archives
hold), texts for blocked links, saves, the calls per archive, and the wall time against the busiest lane's
bound (its calls at its pace). Nothing leaves the machine: every address is on loopback.

    .venv/bin/python benchmarks/night_lanes.py [--links 2000] [--speedup 30] [--baseline 6327cde]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus" / "capture-cascade" / "events"

import yaml  # noqa: E402

from archiver.config import load_settings  # noqa: E402
from archiver.history.linkstate import apply_result, new_state  # noqa: E402
from archiver.history.store import StateStore  # noqa: E402
from archiver.models import CheckResult  # noqa: E402
from archiver.snapshots.store import SnapshotStore  # noqa: E402
from archiver.timeline.catalog import build_catalog, canonical_url  # noqa: E402
from archiver.timeline.load import load_events  # noqa: E402
from tests.support.farm import Conn, Farm, Request  # noqa: E402
from tests.support.memento_double import MementoDouble  # noqa: E402
from tests.support.wayback_double import WaybackDouble, article  # noqa: E402

NOW = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>"
              + b"The requested URL was not found on this server. " * 20 + b"</p></body></html>")
#: the Memento archives: id, real calls a minute, raw (id_) replay
ARCHIVES = (("loc", 6, True), ("archive.today", 4, False), ("arquivo.pt", 6, True), ("ukwa", 6, True),
            ("archive-it", 6, True), ("perma.cc", 4, True))
RATES = {"cdx": 24.0, "replay": 60.0, "save": 4.0}


@dataclass
class World:
    links: dict[str, str] = field(default_factory=dict)  # url -> dead | dead-confirmed | blocked | alive
    only_others: set[str] = field(default_factory=set)  # failing pages only another archive holds (good copy)
    wayback_good: set[str] = field(default_factory=set)


def build(root: Path, farm: Farm, n: int, speedup: float, rng: random.Random,
          wayback_down: bool) -> tuple[World, dict[str, MementoDouble], WaybackDouble, str]:
    wayback = WaybackDouble(clock=lambda: NOW, job_seconds=20.0 / speedup).start(farm)
    if wayback_down:
        async def unavailable(req: Request, conn: Conn) -> None:
            await conn.send(503, b"Service Unavailable", content_type="text/plain")
        wayback_url = farm.add("wayback-down", unavailable).origin
    else:
        wayback_url = wayback.base_url
    doubles = {a: MementoDouble(a, raw=raw, per_minute=pm * speedup).start(farm) for a, pm, raw in ARCHIVES}
    (root / "archives.yaml").write_text(yaml.safe_dump([d.entry() for d in doubles.values()], sort_keys=False),
                                        "utf-8")
    events = root / "events"
    events.mkdir()
    world = World()
    urls = sample_urls(n, rng)
    holder: dict[str, str | None] = {}
    crawlers = [a for a, _, _ in ARCHIVES if a != "archive.today"]
    for i, url in enumerate(urls):
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        # archives crawl by site (a national domain, a collection's seeds): half the sites are in one archive's
        # crawl, which holds most of their pages; archive.today holds single pages people asked it to save
        holder.setdefault(host, rng.choice(crawlers) if rng.random() < 0.5 else None)
        kind = ("dead" if i % 40 < 3 else "dead-confirmed" if i % 40 < 6 else "blocked" if i % 40 < 8
                else "alive")
        world.links[url] = kind
        (events / f"e{i:05d}.md").write_text(
            f"---\nid: e{i:05d}\ndate: 2025-06-10\ntitle: Event {i}\nsources:\n  - url: '{url}'\n"
            f"    title: Story {i}\n    publisher: Outlet\n    date: 2025-06-10\n    tier: 1\n---\n", "utf-8")
        in_wayback = rng.random() < {"alive": 0.5, "blocked": 0.4}.get(kind, 0.5)
        if in_wayback:
            error = kind.startswith("dead") and rng.random() < 0.1
            wayback.add(url, "20250605120000", "200", ERROR_PAGE if error else article(url, [f"text-{i}"]))
            if kind.startswith("dead") and not error:
                world.wayback_good.add(url)
        holders = [a for a in (holder[host] if rng.random() < 0.85 else None,
                               "archive.today" if rng.random() < 0.1 else None) if a]
        for archive_id in holders:
            error = kind.startswith("dead") and rng.random() < 0.1
            doubles[archive_id].add(url, "20250605120000", ERROR_PAGE if error else article(url, [f"kept-{i}"]))
            if kind.startswith("dead") and not error and url not in world.wayback_good:
                world.only_others.add(url)
    return world, doubles, wayback, wayback_url


def sample_urls(n: int, rng: random.Random) -> list[str]:
    """``n`` distinct cited URLs of the corpus (its hosts as skewed as a real timeline's), else made up."""
    if CORPUS.is_dir():
        catalog = build_catalog(load_events(CORPUS).events)
        urls = sorted(link.url for link in catalog.links if link.checkable and "'" not in link.url
                      and '"' not in link.url and "\n" not in link.url)
        if len(urls) >= n:
            return rng.sample(urls, n)
    names = ["herald", "gazette", "tribune", "courier", "ledger", "post", "times", "review", "daily", "record"]
    return [f"https://www.{names[i % 10]}-{i % 200}.com/2025/06/story-{i}/" for i in range(n)]


def write_state(root: Path, world: World, settings: Any) -> None:
    store = StateStore(root / "snapshots").load()
    for url, kind in world.links.items():
        key = canonical_url(url)
        state = new_state(url, key, NOW - dt.timedelta(days=60))
        status = kind.split("-")[0]
        checks = 3 if kind == "dead-confirmed" else 1
        for c in range(checks):
            when = NOW - dt.timedelta(hours=1 + 24 * (checks - 1 - c))
            apply_result(state, CheckResult(url, status, when, http_status={"dead": 404, "blocked": 403}.get(
                status, 200)), settings)
        if kind == "alive":
            state.extracted = state.last_checked  # its live text is kept
        store.save(state)


def run(version: Path, root: Path, env: dict[str, str]) -> float:
    env = {**env, "PYTHONPATH": str(version)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", "from archiver.cli import main; main()", "wayback"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"archiver wayback failed ({version}): {proc.stderr[-2000:]}")
    return seconds


def measure(root: Path, world: World, doubles: dict[str, MementoDouble], wayback: WaybackDouble, since: float,
            speedup: float, seconds: float) -> dict[str, Any]:
    store = StateStore(root / "snapshots").load()
    snaps = SnapshotStore(root / "snapshots")

    def copy(url: str) -> bool:
        state = store.states[canonical_url(url)]
        return any(rec is not None and rec.url and rec.verified for rec in (state.wayback, state.archives))

    failing = [u for u, k in world.links.items() if k.startswith("dead")]
    blocked = [u for u, k in world.links.items() if k == "blocked"]
    wb_calls = {kind: len([h for h in wayback.hits(kind) if h.at >= since]) for kind in ("cdx", "replay", "save")}
    calls = {a: len([h for h in d.log if h[0] >= since]) for a, d in doubles.items()}
    bounds = {f"wayback {kind}": n / (RATES[kind] * speedup / 60) for kind, n in wb_calls.items()}
    bounds.update({a: calls[a] / (pm * speedup / 60) for a, pm, _ in ARCHIVES})
    busiest = max(bounds, key=lambda k: bounds[k])
    report = json.loads((root / "reports" / "report.json").read_text("utf-8"))
    lanes = report["run"].get("archives", {}).get("lanes", {})
    left = report["run"].get("archives", {}).get("left", {})
    asks: dict[str, list[int]] = {"copy": [], "only others hold, no copy": [], "nowhere": []}
    for url in world.links:
        rec = store.states[canonical_url(url)].archives
        if rec is None or not rec.asked:
            continue
        where = "copy" if copy(url) else "only others hold, no copy" if url in world.only_others else "nowhere"
        asks[where].append(len(rec.asked))
    return {
        "failing": f"{sum(map(copy, failing))}/{len(failing)}",
        "new failing": f"{sum(copy(u) for u in failing if world.links[u] == 'dead')}/"
                       f"{sum(1 for u in failing if world.links[u] == 'dead')}",
        "only others hold": f"{sum(map(copy, world.only_others))}/{len(world.only_others)}",
        "blocked text": f"{sum(snaps.first(canonical_url(u)) is not None for u in blocked)}/{len(blocked)}",
        "saves": f"{wb_calls['save']} asked",
        "calls": " ".join(f"{k}={v}" for k, v in {**wb_calls, **calls}.items() if v),
        "wall": f"{seconds:.1f}s ({seconds * speedup:.0f}s real)",
        "busiest lane": f"{busiest} {bounds[busiest]:.1f}s",
        "lanes (done/left, busy s)": "; ".join(f"{k} {v['done']}/{v['left']} {v['busy_seconds']:.0f}s"
                                               for k, v in lanes.items()) or "-",
        "left for the next run": ", ".join(f"{n} {k}" for k, n in left.items()) or "-",
        "TimeMaps a link asked": "; ".join(f"{k} {len(v)} links, {sum(v) / len(v):.1f}" for k, v in asks.items()
                                           if v) or "-",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--speedup", type=float, default=30.0)
    parser.add_argument("--baseline", default="6327cde", help="the release to compare with (a git revision)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--scenario", choices=("both", "up", "down"), default="both")
    args = parser.parse_args()
    farm = Farm().start()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp) / "baseline"
            base.mkdir()
            archive = subprocess.run(["git", "archive", args.baseline], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            for scenario in (("up", "down") if args.scenario == "both" else (args.scenario,)):
                world_root = Path(tmp) / f"world-{scenario}"
                world_root.mkdir()
                world, doubles, wayback, wayback_url = build(world_root, farm, args.links, args.speedup,
                                                             random.Random(args.seed), scenario == "down")
                overrides = {
                    "events": world_root / "events", "snapshots": world_root / "snapshots",
                    "wayback_url": wayback_url, "availability_url": wayback_url, "allow_networks": "127.0.0.0/8",
                    "per_host_gap": 0, "archives_file": world_root / "archives.yaml"}
                write_state(world_root, world, load_settings(overrides=overrides, env={}).history_options)
                env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "IA_"))}
                env.update({
                    "ARCHIVER_EVENTS": str(world_root / "events"), "ARCHIVER_WAYBACK_URL": wayback_url,
                    "ARCHIVER_AVAILABILITY_URL": wayback_url, "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8",
                    "ARCHIVER_ARCHIVES_FILE": str(world_root / "archives.yaml"), "ARCHIVER_NOW": NOW.isoformat(),
                    "ARCHIVER_CDX_PER_MINUTE": str(RATES["cdx"] * args.speedup),
                    "ARCHIVER_REPLAY_PER_MINUTE": str(RATES["replay"] * args.speedup),
                    "ARCHIVER_SAVE_PER_MINUTE": str(RATES["save"] * args.speedup),
                    "ARCHIVER_SAVE_POLL_SECONDS": str(120 / args.speedup),
                    "ARCHIVER_TIME_BUDGET": str(900 / args.speedup), "ARCHIVER_ARCHIVE_TIMEOUT": "5",
                    "IA_ACCESS_KEY": wayback.access, "IA_SECRET_KEY": wayback.secret,
                    "HTTP_PROXY": "", "HTTPS_PROXY": "", "NO_PROXY": "*"})
                for name, version in (("sequential (" + args.baseline + ")", base), ("lanes (this checkout)", ROOT)):
                    copy = Path(tmp) / f"{scenario}-{name.split()[0]}"
                    shutil.copytree(world_root, copy)
                    env_run = {**env, "ARCHIVER_EVENTS": str(copy / "events"),
                               "ARCHIVER_SNAPSHOTS": str(copy / "snapshots"),
                               "ARCHIVER_REPORT_DIR": str(copy / "reports")}
                    wayback.jobs.clear()
                    since = time.monotonic()
                    seconds = run(version, copy, env_run)
                    results.setdefault(scenario, {})[name] = measure(copy, world, doubles, wayback, since,
                                                                     args.speedup, seconds)
                    print(f"{scenario:4} {name:28} " + "; ".join(f"{k} {v}" for k, v in
                                                                  results[scenario][name].items()), flush=True)
    finally:
        farm.stop()
    print()
    for scenario, rows in results.items():
        title = "Wayback Machine up" if scenario == "up" else "Wayback Machine down (503)"
        names = list(rows)
        print(f"### {title}: {args.links} links, a {900:.0f} s night at x{args.speedup:g}\n")
        print("| figure | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for key in rows[names[0]]:
            print(f"| {key} | " + " | ".join(str(rows[n][key]) for n in names) + " |")
        print()


if __name__ == "__main__":
    main()
