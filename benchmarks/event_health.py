"""How long event health (issue 22) takes inside a run: the corpus and ten times the corpus.

Loads ../shared/corpus/capture-cascade/events (skipped with a message when absent), builds the link catalog,
and a 10x version in memory (each event replicated with a new id, file and host, so its links are new
links), gives every link a seeded synthetic state with realistic rot (about 20% failing: dead, soft 404s,
blocked, errors; of the failing ones some with a verified Wayback copy, some with another archive's, some with
stored text, some asked of every archive and holding nothing, the rest not asked yet), then times, best of
``--repeat``:

* the health alone (:func:`archiver.report.health.assess`: every link's evidence state, every event's health,
  the findings, the memory for the next run, with a previous night's memory to compare with);
* the report build (``build_report``) plus report.json's bytes, without and with the health;

and prints the figures side by side with the events by health. The cyclic GC is paused while timing, as the
night's report step (``gc_paused``) pauses it. Target: the health of the 10x corpus (27,820
events) under 2 s.

    .venv/bin/python benchmarks/event_health.py [--corpus PATH] [--repeat 3] [--scale 10]

Nothing touches the network.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.archives.registry import load_archives  # noqa: E402
from archiver.config import load_settings  # noqa: E402
from archiver.history.archives_record import ArchivesRecord  # noqa: E402
from archiver.history.linkstate import LinkState  # noqa: E402
from archiver.history.wayback_record import WaybackRecord  # noqa: E402
from archiver.models import Event, Link  # noqa: E402
from archiver.report.build import RunInfo, build_report  # noqa: E402
from archiver.report.health import HealthInputs, assess  # noqa: E402
from archiver.reportmodel import HEALTHS  # noqa: E402
from archiver.support.gcpause import gc_paused  # noqa: E402
from archiver.support.storepaths import link_dir  # noqa: E402
from archiver.timeline.catalog import build_catalog  # noqa: E402
from archiver.timeline.load import load_events  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "capture-cascade" / "events"
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
STATUS_MIX = [("alive", 0.80), ("dead", 0.09), ("soft_404", 0.03), ("blocked", 0.05), ("error", 0.03)]
#: what a failing (dead or soft-404) link has: a verified Wayback copy, another archive's verified copy, stored
#: text, nothing in any archive (every archive asked), or the other archives not asked yet
FAILING_MIX = [("wayback", 0.45), ("archive", 0.08), ("text", 0.12), ("asked", 0.20), ("pending", 0.15)]
FAILED = "2026-11-20T02:00:00Z"
ASKED = "2026-11-21T02:00:00Z"


def replicate(events: list[Event], scale: int) -> list[Event]:
    """``events`` and ``scale - 1`` copies, each with new ids, files and hosts (so new links)."""
    out = list(events)
    for k in range(1, scale):
        for e in events:
            sources = [dataclasses.replace(s, url=s.url.replace("://", f"://r{k}.", 1) if s.url else s.url,
                                           extra=dict(s.extra)) for s in e.sources]
            out.append(dataclasses.replace(e, id=f"{e.id}--r{k}", file=f"r{k}/{e.file}", sources=sources))
    return out


def synthetic_states(links: list[Link], archives: tuple[str, ...], rng: random.Random) -> dict[str, LinkState]:
    states: dict[str, LinkState] = {}
    statuses, weights = zip(*STATUS_MIX, strict=True)
    kinds, kind_weights = zip(*FAILING_MIX, strict=True)
    for link in links:
        if not link.checkable:
            continue
        status = rng.choices(statuses, weights)[0]
        state = LinkState(url=link.url, normalized_url=link.normalized_url, first_seen="2026-01-01T00:00:00Z",
                          status=status, last_checked="2026-12-05T02:00:00Z")
        if status in ("dead", "soft_404"):
            state.first_failed = FAILED
            fill_failing(state, rng.choices(kinds, kind_weights)[0], archives, link)
        elif status == "blocked" and rng.random() < 0.4:
            state.snapshot = {"path": f"snapshots/{link_dir(link.normalized_url)}/snapshot.md"}
        states[link.normalized_url] = state
    return states


def fill_failing(state: LinkState, kind: str, archives: tuple[str, ...], link: Link) -> None:
    if kind == "wayback":
        state.wayback = WaybackRecord(url=f"https://web.archive.org/web/2020/{link.url}", timestamp="20200101000000",
                                      verified=True, looked_up=ASKED)
        return
    state.wayback = WaybackRecord(looked_up=ASKED)
    if kind == "archive":
        state.archives = ArchivesRecord(url=f"https://loc.example/2020/{link.url}", archive=archives[0],
                                        verified=True, looked_up=ASKED, asked={archives[0]: ASKED})
    elif kind == "text":
        state.snapshot = {"path": f"snapshots/{link_dir(link.normalized_url)}/snapshot.md"}
    elif kind == "asked":
        state.archives = ArchivesRecord(looked_up=ASKED, asked=dict.fromkeys(archives, ASKED))
    else:  # pending: one archive not asked yet
        state.archives = ArchivesRecord(looked_up=ASKED, asked=dict.fromkeys(archives[1:], ASKED))


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The best time of ``repeat`` calls, the cyclic GC paused as the night's report step pauses it."""
    times, result = [], None
    for _ in range(repeat):
        with gc_paused():
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
    return min(times), result


def measure(events: list[Event], archives: tuple[str, ...], repeat: int) -> dict[str, Any]:
    catalog = build_catalog(events)
    states = synthetic_states(catalog.links, archives, random.Random(22))
    info = RunInfo(started_at=NOW, finished_at=NOW)
    # a previous night's memory, so previous_health and "became" are computed as in a real run
    first = build_report(catalog.links, states, [], RunInfo(started_at=NOW - dt.timedelta(days=1)))
    memory = assess(first, catalog.links, states, HealthInputs(events, archives, None)).memory

    def report_only() -> Any:
        return build_report(catalog.links, states, [], info).to_json()

    def health_only() -> Any:
        report = build_report(catalog.links, states, [], info)
        t0 = time.perf_counter()
        outcome = assess(report, catalog.links, states, HealthInputs(events, archives, memory))
        return time.perf_counter() - t0, report, outcome

    def report_with_health() -> Any:
        report = build_report(catalog.links, states, [], info)
        assess(report, catalog.links, states, HealthInputs(events, archives, memory))
        return report.to_json()

    without, _ = best(report_only, repeat)
    with_health, data = best(report_with_health, repeat)
    runs = []
    for _ in range(repeat):
        with gc_paused():
            runs.append(health_only())
    seconds, report, outcome = min(runs, key=lambda r: r[0])
    return {"events": len(events), "links": len(catalog.links), "health": seconds, "without": without,
            "with": with_health, "json_mb": len(data) / 1e6, "by_health": report.summary.events,
            "findings": len(outcome.findings)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"skipped: the corpus {args.corpus} is absent")
        return 0
    archives = tuple(a.id for a in load_archives(load_settings(overrides={}, env={}).archives_options))
    events = load_events(args.corpus).events
    rows = [("corpus", measure(events, archives, args.repeat)),
            (f"{args.scale}x", measure(replicate(events, args.scale), archives, args.repeat))]
    print(f"other archives asked of a lost citation: {', '.join(archives)}")
    print(f"{'':34}" + "".join(f"{name:>14}" for name, _ in rows))
    lines = [("events", "{:,}", "events"), ("links", "{:,}", "links"),
             ("event health (assess), s", "{:.3f}", "health"),
             ("build_report + report.json, s", "{:.3f}", "without"),
             ("  the same with event health, s", "{:.3f}", "with"),
             ("report.json with events, MB", "{:.1f}", "json_mb"),
             ("health findings", "{:,}", "findings")]
    for label, fmt, key in lines:
        print(f"{label:34}" + "".join(f"{fmt.format(r[key]):>14}" for _, r in rows))
    for h in HEALTHS:
        print(f"{'events ' + str(h):34}" + "".join(f"{r['by_health'][str(h)]:>14,}" for _, r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
