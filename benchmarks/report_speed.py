"""How long writing report.json, report.md and report.html takes for the corpus's ~8,000 links.

Loads ../shared/corpus/capture-cascade/events, gives every link a synthetic but
realistic state (seeded: mostly alive; dead and soft 404s, some confirmed, some with
a Wayback capture; blocked and error links; snapshots for most live pages; a night's
worth of changes; each link's evidence state, each event's health and 180 nights of
its trend), runs the real citation audit, then times each format separately
and all three through :func:`archiver.report.build.write_reports`, and prints seconds per
format and file sizes. Target: all three under 3 s.

    .venv/bin/python benchmarks/report_speed.py [--corpus PATH] [--out DIR] [--repeat 3]
    .venv/bin/python benchmarks/report_speed.py --before REV [--rounds 5]   # side by side with REV's code
    .venv/bin/python benchmarks/report_speed.py --before REV --no-health    # ... on a report without events[]

Nothing touches the network. ``--out`` keeps the files (e.g. to look at report.html).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.audit.stage import outlets  # noqa: E402
from archiver.history.linkstate import LinkState  # noqa: E402
from archiver.history.wayback_record import WaybackRecord  # noqa: E402
from archiver.models import Event, Finding  # noqa: E402
from archiver.pipeline.findings import link_findings  # noqa: E402
from archiver.report.build import RunInfo, build_report, write_json_report, write_reports  # noqa: E402
from archiver.report.html import html_report  # noqa: E402
from archiver.report.markdown import markdown_report  # noqa: E402
from archiver.report.view import event_views  # noqa: E402
from archiver.reportmodel import EventHealth, EventSources, Report, RunChange  # noqa: E402
from archiver.reportmodel.health import HEALTHS, EvidenceState, Health, HealthTally, health_of  # noqa: E402
from archiver.support.storepaths import link_dir  # noqa: E402
from archiver.timeline.catalog import Catalog, build_catalog  # noqa: E402
from archiver.timeline.load import load_events  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "capture-cascade" / "events"
NOW = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)
MIX = [("alive", 0.78), ("dead", 0.085), ("soft_404", 0.03), ("blocked", 0.07), ("error", 0.035)]
EVIDENCE = {
    "dead": ["HTTP 404 Not Found", "HTTP 410 Gone", "the domain no longer resolves (NXDOMAIN)",
             "connection refused by the host"],
    "soft_404": ["a deep link redirected to the home page", "the page title says \"Page not found\"",
                 "the text matches the host's page for a path that cannot exist (similarity 0.97)"],
    "blocked": ["HTTP 403 Forbidden", "a bot challenge (Cloudflare \"Just a moment...\")", "HTTP 429 after retries"],
    "error": ["timed out reading after 20 s", "HTTP 503 Service Unavailable after 3 attempts",
              "TLS failure: certificate has expired"],
}


def iso(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def synthetic_states(catalog: Catalog, rng: random.Random) -> dict[str, LinkState]:
    states: dict[str, LinkState] = {}
    statuses, weights = zip(*MIX, strict=True)
    for link in catalog.links:
        if not link.checkable:
            continue
        status = rng.choices(statuses, weights)[0]
        checked = NOW - dt.timedelta(days=rng.randint(0, 6), minutes=rng.randint(0, 90))
        state = LinkState(url=link.url, normalized_url=link.normalized_url, first_seen=iso(NOW - dt.timedelta(90)),
                          status=status, last_checked=iso(checked))
        if status == "alive":
            state.http_status = 200
            state.evidence = "HTTP 200"
            state.last_alive = state.last_checked
            if rng.random() < 0.75:
                path = f"snapshots/{link_dir(link.normalized_url)}/snapshot.md"
                state.snapshot = {"path": path, "sha256": f"{rng.getrandbits(256):064x}",
                                  "captured_at": iso(NOW - dt.timedelta(days=rng.randint(1, 80))), "origin": "live"}
            if rng.random() < 0.01:
                state.moved_to = link.url.rstrip("/") + "/moved"
        else:
            state.evidence = rng.choice(EVIDENCE[status])
            state.http_status = int(state.evidence[5:8]) if state.evidence.startswith("HTTP ") else (
                200 if status == "soft_404" else None)
            if status == "soft_404":
                state.final_url = link.url.split("/", 3)[0] + "//" + (link.host or "example.org") + "/"
        if status in ("dead", "soft_404"):
            state.failures = rng.randint(1, 9)
            state.first_failed = iso(NOW - dt.timedelta(days=rng.randint(0, 60)))
            state.confirmed = state.failures >= 3 and rng.random() < 0.7
            if rng.random() < 0.45:
                ts = f"20{rng.randint(10, 24):02d}0{rng.randint(1, 9)}1{rng.randint(0, 9)}120000"
                state.wayback = WaybackRecord(url=f"https://web.archive.org/web/{ts}/{link.url}", timestamp=ts)
        states[link.normalized_url] = state
    return states


def synthetic_changes(states: dict[str, LinkState], catalog: Catalog, rng: random.Random) -> list[RunChange]:
    by_key = {link.normalized_url: link for link in catalog.links}
    changes = []
    for key, state in sorted(states.items()):
        roll = rng.random()
        if state.status in ("dead", "soft_404") and state.failures == 1 and roll < 0.5:
            changes.append({"kind": "newly_failing", "url": by_key[key].url, "status": state.status,
                            "previous": "alive"})
        elif state.confirmed and roll < 0.05:
            changes.append({"kind": "newly_confirmed", "url": by_key[key].url, "status": state.status,
                            "previous": state.status})
        elif state.status == "alive" and roll < 0.002:
            changes.append({"kind": "recovered", "url": by_key[key].url, "status": "alive", "previous": "dead"})
        elif state.moved_to:
            changes.append({"kind": "moved", "url": by_key[key].url, "status": "alive", "previous": "alive"})
    return [RunChange.from_dict(c) for c in changes]


def synthetic_report(events: list[Event], catalog: Catalog, seed: int = 7) -> Report:
    from archiver.audit.registry import load_registry
    from archiver.audit.rules import audit

    rng = random.Random(seed)
    states = synthetic_states(catalog, rng)
    registry = load_registry()
    findings: list[Finding] = list(catalog.findings)
    for link in catalog.links:
        findings.extend(link_findings(link, states.get(link.normalized_url)))
    audit_findings = audit(events, catalog, registry)
    findings.extend(audit_findings)
    run = RunInfo(started_at=NOW, finished_at=NOW + dt.timedelta(minutes=41, seconds=12), network="ok",
                  checked=1_150, due=1_150, stage_seconds={"check": 2_380.4, "extract": 2_101.7, "audit": 0.6},
                  changes=synthetic_changes(states, catalog, rng))
    from archiver.history.known_findings import fingerprint

    run.new_findings = sorted(fingerprint(f) for f in rng.sample(audit_findings, 6))
    return build_report(catalog.links, states, findings, run, extras=outlets(catalog.links, registry))


def synthetic_health(report: Report, events: list[Event], rng: random.Random) -> list[HealthTally]:
    """Evidence states, events' health (some changed since the previous run) and 180 nights of trend, as the
    pipeline would give them: alive links live; failing ones a copy when the Wayback copy is verified or text
    is stored, else lost once confirmed; the rest unknown."""
    for link in report.links:
        if link.status == "alive":
            state = EvidenceState.LIVE
        elif link.wayback is not None and rng.random() < 0.6:
            link.wayback = dataclasses.replace(link.wayback, verified=True)
            state = EvidenceState.COPY
        elif link.snapshot is not None:
            state = EvidenceState.COPY
        elif link.status in ("dead", "soft_404") and link.confirmed:
            state = EvidenceState.LOST
        else:
            state = EvidenceState.UNKNOWN
        link.evidence_state = state
    cited: dict[str, list[EvidenceState]] = {}
    for link in report.links:
        for c in link.citations:
            cited.setdefault(c.event, []).append(link.evidence_state or EvidenceState.UNKNOWN)
    out = []
    for e in events:
        states = cited.get(e.id, [])
        health = health_of(states)
        previous = rng.choice(list(Health)) if health != Health.OK and rng.random() < 0.3 else health
        out.append(EventHealth(id=e.id, file=e.file, health=health, title=e.title, date=e.date,
                               sources=EventSources(*(states.count(EvidenceState(k))
                                                      for k in ("live", "copy", "lost", "unknown"))),
                               previous_health=previous))
    report.events = out
    report.summary.events = {str(h): sum(1 for e in out if e.health == h) for h in HEALTHS}
    last = report.summary.events
    return [HealthTally(iso(NOW - dt.timedelta(days=d)), {h: max(0, n - d // 20 if h != "ok" else n + d // 10)
                                                          for h, n in last.items()}) for d in range(179, -1, -1)]


TIMING = re.compile(r"^(report\.\w+|read report\.json|all three \(write_reports\))\s+([\d.]+) s")


def side_by_side(before: str, corpus: Path, repeat: int, rounds: int, after_args: tuple[str, ...] = ()) -> int:
    """This checkout and ``before`` (its archiver/ and benchmarks/ extracted with ``git archive``), each
    run as a fresh process of its own report_speed.py, alternated ``rounds`` times: the median per format
    (``after_args``: more options for this checkout's script only)."""
    runs: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="report-speed-") as tmp:
        old = Path(tmp)
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", before, "archiver", "benchmarks"], check=True,
                             capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=tar, check=True)
        scripts = {f"before ({before})": old / "benchmarks" / "report_speed.py",
                   "after (this checkout)": Path(__file__).resolve()}
        for _ in range(rounds):
            for name, script in scripts.items():
                more = after_args if script == Path(__file__).resolve() else ()
                done = subprocess.run([sys.executable, str(script), "--corpus", str(corpus), "--repeat", str(repeat),
                                       *more], capture_output=True, text=True, check=False)
                found = {m.group(1): float(m.group(2)) for line in done.stdout.splitlines()
                         if (m := TIMING.match(line))}
                if not found:
                    print(done.stdout, done.stderr, file=sys.stderr)
                    return 2
                runs.setdefault(name, []).append(found)
    names = list(dict.fromkeys(k for rows in runs.values() for row in rows for k in row))
    print(f"seconds, median of {rounds} alternated runs (each the best of {repeat}):")
    print(f"{'':28s}" + "".join(f"{name:>26s}" for name in runs))
    for key in names:
        cells = [statistics.median(row[key] for row in rows) if all(key in row for row in rows) else None
                 for rows in runs.values()]
        print(f"{key:28s}" + "".join(f"{c:26.3f}" if c is not None else f"{'-':>26s}" for c in cells))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=None, help="keep the three files here")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each timing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--before", metavar="REV", help="also time REV's code (git archive), side by side")
    parser.add_argument("--rounds", type=int, default=5, help="with --before: alternated runs of each")
    parser.add_argument("--no-health", action="store_true",
                        help="no events' health nor trend (a report as before issue 22)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found", file=sys.stderr)
        return 2
    if args.before:
        return side_by_side(args.before, args.corpus.resolve(), args.repeat, args.rounds,
                            ("--no-health",) if args.no_health else ())
    t0 = time.perf_counter()
    loaded = load_events(args.corpus)
    catalog = build_catalog(loaded.events)
    report = synthetic_report(loaded.events, catalog, args.seed)
    trend = [] if args.no_health else synthetic_health(report, loaded.events, random.Random(args.seed))
    events = event_views(loaded.events)
    report = Report.from_json(report.to_json())  # as a reader of report.json would have it
    print(f"corpus: {len(loaded.events):,} events, {len(catalog.links):,} links, {len(report.findings):,} "
          f"findings; set up in {time.perf_counter() - t0:.1f} s")
    print("statuses:", ", ".join(f"{k} {v:,}" for k, v in report.summary.links.items()))
    print("events:", ", ".join(f"{k} {v:,}" for k, v in (report.summary.events or {}).items()))

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        timings: dict[str, float] = {}

        def best(name: str, fn: Any) -> None:
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            timings[name] = min(times)

        data = report.to_json()
        best("report.json", lambda: write_json_report(report, out))
        best("read report.json", lambda: Report.from_json(data))
        best("report.md", lambda: markdown_report(report, events, report_dir=str(out)))
        best("report.html", lambda: html_report(report, events, report_dir=out, trend=trend))
        best("all three (write_reports)", lambda: write_reports(report, out, events=events, trend=trend))
        for name, seconds in timings.items():
            size = (out / name).stat().st_size if (out / name).exists() else None
            extra = f"{size / 1e6:8.2f} MB" if size is not None else ""
            print(f"{name:28s} {seconds:6.2f} s {extra}")
        md = (out / "report.md").read_text("utf-8")
        print(f"report.md: {len(md):,} characters (limit 65,536); "
              f"{'truncated' if 'Left out to fit' in md else 'complete'}")
        total = timings["all three (write_reports)"]
        print(f"target: all three under 3 s: {'ok' if total < 3 else 'MISSED'} ({total:.2f} s)")
        return 0 if total < 3 else 1


if __name__ == "__main__":
    sys.exit(main())
