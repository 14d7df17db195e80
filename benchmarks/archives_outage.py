"""A Wayback Machine outage: how much do the other archives (Memento) still give?

A timeline of failing (dead) and blocked links, the Wayback Machine down (nothing listens at its address),
and five local Memento archives (tests/support/memento_double.py) holding different shares of the pages:
some captures are archived error pages, one archive answers 451 to everything, one is down. The Wayback
stage runs first (its CDX lookups fail, it is marked unreachable), then the archives stage.

Printed: the share of failing links that still get a verified copy (and of those the archives hold at all),
the share of blocked links given text from an archive, and the calls per archive per minute (the most in
any minute, measured at the doubles) against each archive's configured limit. The archives' limits are
the shipped list's (4 or 6 a minute) times ``--speedup`` so the run takes seconds; the per-minute figures
are scaled back (a window of 60 / speedup seconds).

    .venv/bin/python benchmarks/archives_outage.py [--failing 60] [--blocked 40] [--speedup 100]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from archiver.archives.stage import archives_stage  # noqa: E402
from archiver.config import load_settings  # noqa: E402
from archiver.history.linkstate import apply_result, new_state  # noqa: E402
from archiver.history.store import StateStore  # noqa: E402
from archiver.models import CheckResult  # noqa: E402
from archiver.snapshots.store import SnapshotStore  # noqa: E402
from archiver.timeline.catalog import build_catalog, canonical_url  # noqa: E402
from archiver.timeline.load import load_events  # noqa: E402
from archiver.wayback.run import StageInput  # noqa: E402
from archiver.wayback.stage import wayback_stage  # noqa: E402
from tests.support.farm import Farm  # noqa: E402
from tests.support.memento_double import MementoDouble  # noqa: E402
from tests.support.wayback_double import article  # noqa: E402

NOW = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>"
              + b"The requested URL was not found on this server. " * 20 + b"</p></body></html>")
#: id, shipped per_minute, share of pages held, share of those captures that are error pages, mode
ARCHIVES = (("loc", 6, 0.45, 0.15, "ok"), ("archive.today", 4, 0.35, 0.05, "ok"), ("arquivo.pt", 6, 0.2, 0.1, "ok"),
            ("ukwa", 6, 0.3, 0.0, "legal"))


def max_per_window(times: list[float], window: float) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failing", type=int, default=60)
    parser.add_argument("--blocked", type=int, default=40)
    parser.add_argument("--speedup", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    farm = Farm().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            doubles = {a[0]: MementoDouble(a[0], raw=a[0] != "archive.today", per_minute=a[1] * args.speedup,
                                           mode=a[4]).start(farm) for a in ARCHIVES}
            ip, port = farm.closed_port()
            entries: list[dict[str, Any]] = [d.entry() for d in doubles.values()]
            entries.append({"id": "archive-it", "name": "Archive-It (down)", "base": f"http://{ip}:{port}",
                            "timemap": "{base}/all/timemap/link/{url}", "memento": "{base}/all/{timestamp}/{url}",
                            "per_minute": 6 * args.speedup})
            (root / "archives.yaml").write_text(yaml.safe_dump(entries, sort_keys=False), "utf-8")
            events = root / "events"
            events.mkdir()
            urls: dict[str, str] = {}
            holders: dict[str, list[str]] = {}
            for i in range(args.failing + args.blocked):
                kind = "dead" if i < args.failing else "blocked"
                url = f"https://www.outlet{i % 7}.com/2025/06/story-{i}/"
                urls[url] = kind
                (events / f"e{i:04d}.md").write_text(
                    f"---\nid: e{i:04d}\ndate: 2025-06-10\ntitle: Event {i}\nsources:\n  - url: {url}\n"
                    f"    title: Story {i}\n    publisher: Outlet {i % 7}\n    date: 2025-06-10\n    tier: 1\n---\n",
                    "utf-8")
                for archive_id, _, share, errors, _mode in ARCHIVES:
                    if rng.random() < share:
                        holders.setdefault(url, []).append(archive_id)
                        body = ERROR_PAGE if rng.random() < errors else article(url, [f"text-{i}"])
                        doubles[archive_id].add(url, "20250605120000", body)
                        if rng.random() < 0.5:
                            doubles[archive_id].add(url, "20250801120000", article(url, [f"later-{i}"]))
            snapshots = root / "snapshots"
            settings = load_settings(overrides={
                "events": events, "snapshots": snapshots, "report_dir": root / "reports",
                "wayback_url": f"http://{ip}:{port}", "availability_url": f"http://{ip}:{port}",
                "allow_networks": "127.0.0.0/8", "cdx_per_minute": 6000, "replay_per_minute": 6000,
                "per_host_gap": 0, "connect_timeout": 1, "read_timeout": 1, "total_timeout": 2,
                "archives_file": root / "archives.yaml", "archive_timeout": 2.0}, env={})
            store = StateStore(snapshots).load()
            for url, kind in urls.items():
                key = canonical_url(url)
                state = new_state(url, key, NOW - dt.timedelta(days=60))
                apply_result(state, CheckResult(url, kind, NOW - dt.timedelta(days=1),
                                                http_status=404 if kind == "dead" else 403), settings)
                store.save(state)
            catalog = build_catalog(load_events(events).events)
            store = StateStore(snapshots).load()
            snaps = SnapshotStore.from_settings(settings)
            started = time.monotonic()
            given = StageInput(catalog, store, snaps, NOW, stream=io.StringIO(), env={})
            wb = asyncio.run(wayback_stage(settings.wayback_options, given))
            out = asyncio.run(archives_stage(settings.archives_options, given, wayback=wb))
            seconds = time.monotonic() - started
            failing = [u for u, k in urls.items() if k == "dead"]
            blocked = [u for u, k in urls.items() if k == "blocked"]

            def good(url: str) -> bool:
                rec = store.states[canonical_url(url)].archives
                return bool(rec and rec.url and rec.verified)

            held = [u for u in failing if any(a != "ukwa" for a in holders.get(u, []))]
            with_copy = [u for u in failing if good(u)]
            texts = [u for u in blocked if (s := snaps.first(canonical_url(u))) is not None
                     and s.origin not in ("live", "wayback")]
            blocked_held = [u for u in blocked if any(a != "ukwa" for a in holders.get(u, []))]
            print(f"wayback unreachable: {wb.unreachable}; {seconds:.1f}s; {out.summary}")
            print(f"failing links with a verified copy: {len(with_copy)}/{len(failing)} "
                  f"({len(with_copy) / len(failing):.0%}); of those an answering archive holds: "
                  f"{len(with_copy)}/{len(held)}")
            print(f"blocked links given text from an archive: {len(texts)}/{len(blocked)} "
                  f"({len(texts) / len(blocked):.0%}); of those an answering archive holds: "
                  f"{len(texts)}/{len(blocked_held)}")
            window = 60.0 / args.speedup
            for archive_id, _, _, _, _ in (*ARCHIVES, ("archive-it", 6, 0, 0, "down")):
                limit = next(e["per_minute"] for e in entries if e["id"] == archive_id) / args.speedup
                starts = sorted(out.starts.get(archive_id, []))
                print(f"  {archive_id:14} calls {out.calls.get(archive_id, 0):4}  most in a minute (scaled) "
                      f"{max_per_window(starts, window):3}  limit {limit:g}")
            for note in out.notes:
                print("  note:", note)
    finally:
        farm.stop()


if __name__ == "__main__":
    main()
