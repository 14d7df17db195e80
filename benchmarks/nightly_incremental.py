"""Benchmark: a nightly run over the corpus's ~8,000 links when little or nothing is due.

1. Builds the link state of every corpus link as if all were checked alive on night 0
   (the same code path as a run: ``history.apply_result`` + ``StateStore.save``), in a
   temporary git repository, and commits it.
2. Runs ``archiver check`` on night 0 + 12 h, when nothing is due: wall time (target
   under 3 s; median of 5, alternated with the same run parsing the events in one
   process), requests made (must be 0: it never touches the network).
3. Replays nights 1..7: each night applies an unchanged "alive" verdict to the links
   the scheduler says are due (what a run that re-checks with no status change
   writes), and measures what git sees: files changed, lines and bytes of diff.
4. Same-night rerun (issue 13): a synthetic timeline of 600 failing links (404, 503,
   timeouts) on 30 loopback hosts is checked on night 0, then checked again 3 hours
   later, as a retried CI job would: wall time and requests made, with the default
   ``failing_recheck_hours`` (20) and with 0 (every failing link due on every run, the
   behaviour before).
5. ``--rerun`` (issue 19), alone: the whole pipeline (``archiver run``) run again the same
   night with nothing due, on a 2,000-link sample of the corpus (every 4th event file),
   with this checkout's code and with ``--before REV``'s (extracted with ``git archive``),
   alternated: median wall time of each, side by side, and whether their report.json,
   report.md, report.html and ``snapshots/`` came out byte-identical. The state is written
   as a night's run leaves it (every link checked alive, its text dealt with, its Wayback
   copy looked up), then ``archiver run`` runs once to settle it; the archives' URLs point at a
   closed loopback port, so any request would show (``requests`` must be 0).

    python benchmarks/nightly_incremental.py [--events PATH] [--rerun-only]
    python benchmarks/nightly_incremental.py --rerun [--before REV] [--repeats N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archiver.config import Settings
from archiver.history.linkstate import apply_result, new_state
from archiver.history.schedule import select_due
from archiver.history.store import StateStore
from archiver.models import CheckResult
from archiver.timeline.catalog import build_catalog
from archiver.timeline.load import load_events

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the loopback farm of the tests

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "capture-cascade" / "events"
NIGHT0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def alive(url: str, when: dt.datetime) -> CheckResult:
    return CheckResult(url=url, status="alive", checked_at=when, http_status=200, final_url=None,
                       content_type="text/html; charset=utf-8", evidence="HTTP 200 OK")


def disk_usage(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def same_night_rerun(links: int = 600, hosts: int = 30) -> None:
    """A night-0 check of ``links`` failing links, then a rerun 3 hours later (see the module docstring)."""
    import asyncio

    from tests.support.farm import Conn, Farm, Request

    async def failing(req: Request, conn: Conn) -> None:
        kind = req.path.split("/")[1]
        if kind == "gone":
            await conn.send(404, "<html><title>Not found</title><body>Not found</body></html>")
        elif kind == "busy":
            await conn.send(503, "<html><title>Unavailable</title><body>Try later</body></html>")
        else:
            await asyncio.sleep(30)  # never answers within the read timeout

    farm = Farm().start()
    try:
        kinds = ("gone", "busy", "slow")
        farm_hosts = [farm.add(f"fail{i}", failing) for i in range(hosts)]
        urls = [farm_hosts[n % hosts].url(f"/{kinds[(n // hosts) % 3]}/story-{n}") for n in range(links)]
        with tempfile.TemporaryDirectory(prefix="archiver-rerun-") as tmp:
            root = Path(tmp)
            events = root / "events"
            events.mkdir()
            for n in range(0, links, 3):
                sources = "".join(f"  - url: {u}\n    title: Story\n    publisher: Example\n    date: 2021-05-01\n"
                                  for u in urls[n:n + 3])
                (events / f"event-{n:04d}.md").write_text(
                    f"---\ndate: 2021-05-01\ntitle: Event {n}\nsources:\n{sources}---\n\nBody.\n", "utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
            env["ARCHIVER_ALLOW_NETWORKS"] = "127.0.0.0/8"

            def check(now: dt.datetime, snapshots: str, **extra: str) -> tuple[float, dict[str, object]]:
                cmd = [sys.executable, "-m", "archiver.cli", "check", "--events", str(events), "--snapshots",
                       str(root / snapshots), "--report-dir", str(root / f"reports-{snapshots}"), "--quiet",
                       "--read-timeout", "1", "--total-timeout", "2", "--attempts", "2", "--backoff-base", "0.2"]
                start = time.perf_counter()
                done = subprocess.run(cmd, env={**env, "ARCHIVER_NOW": now.isoformat(), **extra},
                                      capture_output=True, text=True, check=False)
                wall = time.perf_counter() - start
                if done.returncode != 0:
                    sys.exit(f"archiver check failed: {done.stderr}")
                run = json.loads((root / f"reports-{snapshots}" / "report.json").read_text("utf-8"))["run"]
                return wall, run

            def served() -> int:
                return sum(len(h.requests) for h in farm_hosts)

            wall, run = check(NIGHT0, "snapshots")
            print(f"same-night rerun: {links} failing links (404, 503, timeouts) on {hosts} loopback hosts; "
                  f"night 0: {wall:.1f}s, checked {run['checked']}, requests {run['requests']}")
            subprocess.run(["cp", "-a", str(root / "snapshots"), str(root / "before")], check=True)
            later = NIGHT0 + dt.timedelta(hours=3)
            for label, snapshots, extra in (("failing_recheck_hours=20 (default)", "snapshots", {}),
                                            ("failing_recheck_hours=0 (before)", "before",
                                             {"ARCHIVER_FAILING_RECHECK_HOURS": "0"})):
                hits = served()
                wall, run = check(later, snapshots, **extra)
                print(f"  rerun 3 h later, {label}: {wall:.1f}s wall, due {run['due']}, checked {run['checked']}, "
                      f"requests {run['requests']} (the hosts saw {served() - hits})")
            wall, run = check(NIGHT0 + dt.timedelta(hours=21), "snapshots")
            print(f"  the next night (21 h later), default: {wall:.1f}s, due {run['due']}, checked {run['checked']}")
    finally:
        farm.stop()


def _sample_state(events: Path, snapshots: Path, when: dt.datetime) -> int:
    """Every checkable link checked alive at ``when``, its text dealt with, its Wayback copy looked up."""
    from archiver.history.wayback_record import WaybackRecord
    from archiver.wayback import policy

    settings = Settings().history_options  # what apply_result and select_due read
    store = StateStore(snapshots)
    stamp = "20200102030405"
    links = [link for link in build_catalog(load_events(events, processes=1).events).links if link.checkable]
    for link in links:
        state = new_state(link.url, link.normalized_url, when)
        apply_result(state, alive(link.url, when), settings)
        state.extracted = state.last_checked
        state.wayback = WaybackRecord.from_dict({
            "url": f"https://web.archive.org/web/{stamp}/{link.url}", "timestamp": stamp,
            "looked_up": state.last_checked, "source": "cdx", "captures": [{"timestamp": stamp, "status": 200}],
            "declared": {u: policy.declared_static(link, u) or "replays" for u in link.archive_urls},
            "declared_checked": state.last_checked if link.archive_urls else None})
        store.save(state)
    return len(links)


_STAGE_SECONDS = re.compile(rb'("stage_seconds": ?\{)([^}]*)(\})')
_MEASURED = re.compile(rb"(stage seconds: )[^\n<]*|((?:wayback|archives): [^\"\n<]*? in )[0-9.]+s"
                       rb"|(<td>)check [0-9.]+[^<]*")


def _tree(root: Path, work: Path) -> dict[str, bytes]:
    """The files under ``root``, with the run's folder and its measured stage seconds (which vary from run
    to run) blanked."""
    def normal(data: bytes) -> bytes:
        data = data.replace(str(work).encode(), b"<WORK>")
        data = _STAGE_SECONDS.sub(lambda m: m.group(1) + re.sub(rb"[0-9.]+", b"#", m.group(2)) + m.group(3), data)
        return _MEASURED.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + b"#", data)
    return {str(p.relative_to(root)): normal(p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()}


def nothing_due_rerun(corpus: Path, before: str, repeats: int, keep: Path | None = None) -> None:
    """``archiver run`` again the same night with nothing due: this checkout against ``before`` (step 5)."""
    project = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="archiver-rerun19-") as tmp:
        root = keep or Path(tmp)
        events = root / "events"
        events.mkdir()
        for path in sorted(corpus.glob("*.md"))[::4]:
            (events / path.name).write_bytes(path.read_bytes())
        code = {"after": project, "before": root / "before"}
        (root / "before").mkdir()
        archive = subprocess.run(["git", "-C", str(project), "archive", before, "archiver"], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root / "before")], input=archive, check=True)
        night0 = NIGHT0
        links = _sample_state(events, root / "state", night0)
        closed = "http://127.0.0.1:9"  # nothing listens: a request would fail at once, and be counted
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
        env.update({"ARCHIVER_WAYBACK_URL": closed, "ARCHIVER_AVAILABILITY_URL": closed,
                    "ARCHIVER_ARCHIVES": "", "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8",
                    "HTTP_PROXY": closed, "HTTPS_PROXY": closed, "NO_PROXY": ""})

        def run(which: str, hours: float) -> tuple[float, dict[str, object]]:
            work = root / which
            cmd = [sys.executable, "-m", "archiver.cli", "run", "--events", str(events), "--snapshots",
                   str(work / "snapshots"), "--report-dir", str(work / "reports"), "--quiet"]
            now = (night0 + dt.timedelta(hours=hours)).isoformat()
            start = time.perf_counter()
            done = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False,
                                  env={**env, "PYTHONPATH": str(code[which]), "ARCHIVER_NOW": now})
            wall = time.perf_counter() - start
            if done.returncode != 0:
                sys.exit(f"archiver run ({which}) failed: {done.stdout}{done.stderr}")
            return wall, json.loads((work / "reports" / "report.json").read_text("utf-8"))["run"]

        for which in code:
            (root / which).mkdir(exist_ok=True)
            subprocess.run(["cp", "-a", str(root / "state"), str(root / which / "snapshots")], check=True)
            run(which, 12)  # the night's last run: it settles run.json and the findings
        walls: dict[str, list[float]] = {which: [] for which in code}
        runs: dict[str, dict[str, object]] = {}
        for i in range(repeats):
            for which in ("before", "after") if i % 2 else ("after", "before"):
                wall, runs[which] = run(which, 13)
                walls[which].append(wall)
        print(f"nothing-due rerun of `archiver run` on {links} links ({len(list(events.iterdir()))} events, "
              f"every 4th corpus file), median of {repeats}:")
        for which in ("before", "after"):
            w = sorted(walls[which])
            r = runs[which]
            print(f"  {which:6} ({before if which == 'before' else 'this checkout'}): {w[len(w) // 2]:.2f}s "
                  f"(min {w[0]:.2f}, max {w[-1]:.2f}); due {r['due']}, checked {r['checked']}, "
                  f"requests {r.get('requests')}, stage seconds {r['stage_seconds']}")
        trees = {which: {f"{part}/{k}": v for part in ("reports", "snapshots")
                         for k, v in _tree(root / which / part, root / which).items()} for which in code}
        differ = sorted(k for k in trees["before"].keys() | trees["after"].keys()
                        if trees["before"].get(k) != trees["after"].get(k))
        print(f"  outputs: {len(trees['after'])} files (reports and snapshots/); "
              + ("byte-identical" if not differ else f"{len(differ)} DIFFER: {', '.join(differ[:10])}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, default=DEFAULT)
    parser.add_argument("--rerun-only", action="store_true", help="only the same-night rerun figure (step 4)")
    parser.add_argument("--rerun", action="store_true",
                        help="only the nothing-due `archiver run` rerun, before and after (step 5)")
    parser.add_argument("--before", default="main", metavar="REV", help="the code to compare with (--rerun)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (--rerun)")
    parser.add_argument("--keep", type=Path, metavar="EMPTY_DIR", help="build the --rerun setup there and keep it")
    args = parser.parse_args()
    if args.rerun:
        nothing_due_rerun(args.events, args.before, args.repeats, args.keep)
        return
    if args.rerun_only:
        same_night_rerun()
        return
    if not args.events.is_dir():
        sys.exit(f"corpus not found at {args.events}")
    settings = Settings().history_options  # what apply_result and select_due read
    with tempfile.TemporaryDirectory(prefix="archiver-nightly-") as tmp:
        repo = Path(tmp)
        snapshots = repo / "snapshots"
        t0 = time.perf_counter()
        catalog = build_catalog(load_events(args.events).events)
        store = StateStore(snapshots)
        keys = [link.normalized_url for link in catalog.links if link.checkable]
        by_key = {link.normalized_url: link for link in catalog.links}
        for key in keys:
            state = new_state(by_key[key].url, key, NIGHT0)
            apply_result(state, alive(by_key[key].url, NIGHT0), settings)
            state.extracted = state.last_checked  # as the pipeline marks a page the snapshot stage dealt with
            store.save(state)
        files, size = disk_usage(snapshots)
        print(f"state of {len(keys)} links written in {time.perf_counter() - t0:.1f}s: {files} files, "
              f"{size / 1e6:.1f} MB on disk ({size / len(keys):.0f} bytes a link)")
        git(repo, "init", "-q")
        git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "add", "-A")
        git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "night 0")

        # --- a run when nothing is due, through the real CLI
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
        env["ARCHIVER_NOW"] = (NIGHT0 + dt.timedelta(hours=12)).isoformat()
        cmd = [sys.executable, "-m", "archiver.cli", "check", "--events", str(args.events), "--snapshots",
               str(snapshots), "--report-dir", str(repo / "reports"), "--quiet"]
        # the default (events parsed in two processes) and one process, alternated so load
        # on a shared machine hits both alike
        walls: dict[str, list[float]] = {"2": [], "1": []}
        for _ in range(5):
            for processes in ("2", "1"):
                start = time.perf_counter()
                done = subprocess.run(cmd, env={**env, "ARCHIVER_PARSE_PROCESSES": processes}, capture_output=True,
                                      text=True, check=False)
                walls[processes].append(time.perf_counter() - start)
                if done.returncode != 0:
                    sys.exit(f"archiver check failed: {done.stderr}")
        run = json.loads((repo / "reports" / "report.json").read_text("utf-8"))["run"]
        for processes in walls:
            walls[processes].sort()
        median = walls["2"][2]
        print(f"nothing-due run: {median:.2f}s wall (median of 5; min {walls['2'][0]:.2f}s, max "
              f"{walls['2'][-1]:.2f}s), exit {done.returncode}, due {run['due']}, checked {run['checked']}, "
              f"requests {run.get('requests')}, stage seconds {run['stage_seconds']}  "
              f"(target < 3 s: {'met' if median < 3 else 'MISSED'})")
        print(f"  same run with the events parsed in one process (ARCHIVER_PARSE_PROCESSES=1): "
              f"{walls['1'][2]:.2f}s (min {walls['1'][0]:.2f}s, max {walls['1'][-1]:.2f}s)")
        state_changes = git(repo, "status", "--porcelain", "--", "snapshots").splitlines()
        print(f"  files changed by it under snapshots/: {len(state_changes)} "
              f"({', '.join(line[3:] for line in state_changes) or 'none'})")
        git(repo, "checkout", "-q", "--", "snapshots")

        # --- nights 1..7: re-check what is due, verdicts unchanged
        print(f"{'night':>5}{'due':>7}{'files changed':>15}{'+lines':>8}{'-lines':>8}{'diff bytes':>12}"
              f"{'bytes/link':>12}")
        store = StateStore(snapshots).load()
        total_due = 0
        for night in range(1, 8):
            now = NIGHT0 + dt.timedelta(days=night)
            due = select_due(store.states, keys, now, settings)
            total_due += len(due)
            for key in due:
                state = store.states[key]
                apply_result(state, alive(state.url, now), settings)
                state.extracted = state.last_checked
                store.save(state)
            stat = git(repo, "diff", "--numstat", "--", "snapshots").splitlines()
            added = sum(int(line.split("\t")[0]) for line in stat)
            removed = sum(int(line.split("\t")[1]) for line in stat)
            diff_bytes = len(git(repo, "diff", "--", "snapshots").encode())
            print(f"{night:>5}{len(due):>7}{len(stat):>15}{added:>8}{removed:>8}{diff_bytes:>12}"
                  f"{diff_bytes / max(1, len(due)):>12.0f}")
            git(repo, "-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qam", f"night {night}")
        print(f"over 7 nights {total_due} re-checks for {len(keys)} links "
              f"({total_due / len(keys):.2f} per link); a night's diff touches only the links it re-checked")
        files, size = disk_usage(snapshots)
        packed = git(repo, "count-objects", "-vH")
        print(f"state after a week: {size / 1e6:.1f} MB in {files} files; git objects: "
              + " ".join(line for line in packed.splitlines() if line.startswith(("size-pack", "size:"))))
    same_night_rerun()


if __name__ == "__main__":
    main()
