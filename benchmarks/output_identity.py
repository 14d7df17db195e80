"""Prove that a change (issue 14's restructure) leaves the command-line outputs byte-identical.

    .venv/bin/python benchmarks/output_identity.py --save /tmp/identity-before   # on the old code
    .venv/bin/python benchmarks/output_identity.py --compare /tmp/identity-before  # on the new code

``--save DIR`` first writes the input timelines into ``DIR/inputs/`` (built from the tests'
fixture timelines and, for the link state, with the current code), then runs, offline,
``archiver validate`` (text and ``--format json``), ``archiver links --format json``,
``archiver audit --format json``, ``archiver report``, ``archiver site`` and ``archiver merge`` (the
case's state merged into itself: the run record and findings.json written again, then the reports)
on each case, every command in a fresh temporary copy of the case's folders, and stores stdout,
stderr, the exit code and the files the command produced (``report.json``, ``report.md``,
``report.html``, ``snapshots/run.json``, ``snapshots/findings.json``, every page of ``site/``) under
``DIR/outputs/``. ``--compare DIR`` runs the same commands on the *saved* inputs (so a
later move of the tests' helpers changes nothing) and diffs every output: it prints
``identical`` per output or the first differing lines, and exits 1 on any difference.

Cases: ``project-events`` (the repository's ``events/`` with a synthetic link state: every
verdict, confirmed or not, a move, Wayback copies, text snapshots, a run record),
``broken`` (``tests.timeline.test_events.write_broken_timeline``: one file per timeline problem),
``audit`` (``tests.audit.test_audit``'s timeline), and ``corpus``
(``../shared/corpus/capture-cascade/events``, when present, read in place from ../shared and
never copied into DIR; with a synthetic state for one link in seven, kept in DIR).

Offline: none of these commands fetches (validate/links/audit read files; report rebuilds
from the stored state). As a guard, every command runs with ``ARCHIVER_*`` variables removed,
``HTTP(S)_PROXY``/``ALL_PROXY`` pointing at a closed loopback port, and ``ARCHIVER_NOW`` fixed,
so the reports' ``generated_at`` does not vary. Normalised (the only volatile bits): the
temporary folder's path, replaced by ``<TMP>`` in every output. Nothing in the repository
changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpus" / "capture-cascade" / "events"
NOW = "2026-03-04T02:00:00Z"
#: what the report commands leave behind, compared byte for byte
PRODUCED = ("reports/report.json", "reports/report.md", "reports/report.html", "snapshots/run.json",
            "snapshots/findings.json")
#: folders the commands write, compared file by file (stored as ``site__e__<page>.html``)
PRODUCED_TREES = ("site",)
COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "--events", "events"],
    "validate-json": ["validate", "--events", "events", "--format", "json"],
    "links-json": ["links", "--events", "events", "--format", "json"],
    "audit-json": ["audit", "--events", "events", "--format", "json"],
    "report": ["report", "--events", "events", "--snapshots", "snapshots", "--report-dir", "reports"],
    # the reading room, and a merge of the state into itself: the run record and findings written again
    "site": ["site", "--events", "events", "--snapshots", "snapshots", "--out", "site"],
    "merge": ["merge", "--events", "events", "--snapshots", "snapshots", "--report-dir", "reports", "snapshots"],
}


# --------------------------------------------------------------------------- inputs (built once, at --save)


def _synthetic_state(events: Path, snapshots: Path, *, every: int = 1, texts: int = 3) -> int:
    """A link state for every ``every``-th checkable link, cycling through the verdicts."""
    from archiver.history.linkstate import LinkState, VerdictRun
    from archiver.history.store import StateStore
    from archiver.history.wayback_record import WaybackRecord
    from archiver.snapshots.extract import Extraction
    from archiver.snapshots.store import Capture, SnapshotStore
    from archiver.timeline.catalog import build_catalog
    from archiver.timeline.load import load_events

    now = dt.datetime.fromisoformat(NOW.replace("Z", "+00:00"))

    def iso(stamp: dt.datetime) -> str:
        return stamp.replace(microsecond=0).isoformat().replace("+00:00", "Z")

    catalog = build_catalog(load_events(events, processes=1).events)
    store = StateStore(snapshots)
    snaps = SnapshotStore(snapshots)
    kinds = ("alive", "dead", "soft_404", "blocked", "error", "alive-moved", "dead-unconfirmed", "alive-wayback")
    written = 0
    for i, link in enumerate(catalog.checkable[::every]):
        kind = kinds[i % len(kinds)]
        status = kind.split("-")[0]
        failing = status in ("dead", "soft_404")
        confirmed = failing and kind != "dead-unconfirmed"
        checked = iso(now - dt.timedelta(hours=i % 48))
        http = {"alive": 200, "dead": 404, "soft_404": 200, "blocked": 403, "error": None}[status]
        evidence = {"alive": "HTTP 200", "dead": "HTTP 404 Not Found",
                    "soft_404": "the page says 'page not found' (title)", "blocked": "HTTP 403 with a challenge page",
                    "error": None}[status]
        state = LinkState(
            url=link.url, normalized_url=link.normalized_url, first_seen=iso(now - dt.timedelta(days=30)),
            status=status, confirmed=confirmed, http_status=http, evidence=evidence,
            error="connect timeout" if status == "error" else None, content_type="text/html",
            last_checked=checked, last_alive=checked if status == "alive" else iso(now - dt.timedelta(days=20)),
            first_failed=iso(now - dt.timedelta(days=6)) if failing else None,
            failures=(3 if confirmed else 1) if failing else 0,
            history=[VerdictRun(status=status, http_status=http, first=iso(now - dt.timedelta(days=6)), last=checked,
                                count=3 if confirmed else 1)])
        if kind == "alive-moved":
            state.moved_to = link.url.rstrip("/") + "/moved"
            state.redirects = [{"url": link.url, "status": 301}]
            state.final_url = state.moved_to
        if kind in ("alive-wayback", "dead") or (failing and i % 3 == 0):
            stamp = "20200102030405"
            state.wayback = WaybackRecord.from_dict({
                "url": f"https://web.archive.org/web/{stamp}/{link.url}", "timestamp": stamp,
                "looked_up": iso(now - dt.timedelta(days=2)), "source": "cdx",
                "captures": [{"timestamp": stamp, "status": 200}]})
        store.save(state)
        written += 1
        if status == "alive" and i < texts * len(kinds):
            text = f"# Story {i}\n\n" + " ".join(f"word{j}" for j in range(200 + i)) + "\n"
            snaps.save(Capture(url=link.url, normalized_url=link.normalized_url,
                               captured_at=now - dt.timedelta(days=1),
                               extraction=Extraction(kind="html", text=text, title=f"Story {i}", date="2020-01-02",
                                                     sitename=link.domain, extractor="synthetic"),
                               http_status=200, content_type="text/html",
                               cited_by=tuple(sorted({c.event for c in link.citations}))))
    store.write_run({"started_at": iso(now - dt.timedelta(minutes=10)), "finished_at": iso(now),
                     "complete": True, "network": "ok", "budgets_hit": [], "checked": written, "due": written,
                     "notes": ["synthetic run record (benchmarks/output_identity.py)"], "changes": [],
                     "stage_seconds": {"check": 12.5, "extract": 1.5}, "requests": written, "hosts": 3})
    return written


def build_inputs(root: Path) -> dict[str, Path]:
    """The cases' folders under ``root`` (each with ``events/``, maybe ``snapshots/``)."""
    sys.path.insert(0, str(PROJECT))
    from tests.audit.test_audit import EVENT as AUDIT_EVENT
    from tests.timeline.test_events import write_broken_timeline

    cases: dict[str, Path] = {}
    case = root / "project-events"
    shutil.copytree(PROJECT / "events", case / "events")
    _synthetic_state(case / "events", case / "snapshots")
    cases[case.name] = case

    case = root / "broken"
    write_broken_timeline(case / "events")
    cases[case.name] = case

    case = root / "audit"
    (case / "events").mkdir(parents=True)
    (case / "events" / "2024-01-01--e.md").write_text(AUDIT_EVENT, "utf-8")
    (case / "events" / "2024-01-02--crlf.md").write_bytes(
        b"---\r\nsources:\r\n- url: https://apnews.com/article/x\r\n  outlet: AP\r\n  title: T\r\n---\r\n")
    cases[case.name] = case

    if CORPUS.is_dir():
        case = root / "corpus"
        # the state only: the events are read from ../shared at every run
        _synthetic_state(CORPUS, case / "snapshots", every=7)
        cases[case.name] = case
    return cases


# --------------------------------------------------------------------------- running


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_") and "proxy" not in k.lower()}
    dead = "http://127.0.0.1:9"  # a closed loopback port: any request would fail at once, visibly
    env.update({"ARCHIVER_NOW": NOW, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "ALL_PROXY": dead,
                "http_proxy": dead, "https_proxy": dead, "all_proxy": dead, "NO_PROXY": "", "no_proxy": "",
                "PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C.UTF-8", "COLUMNS": "120"})
    return env


def _archiver() -> list[str]:
    script = Path(sys.executable).parent / "archiver"
    if not script.exists():
        raise SystemExit(f"no archiver console script next to {sys.executable}: install the project in this venv")
    return [str(script)]


def _normalise(data: bytes, tmp: Path) -> bytes:
    for form in {str(tmp), str(tmp.resolve())}:
        data = data.replace(form.encode(), b"<TMP>")
    return data


def run_all(inputs: dict[str, Path], out: Path) -> list[tuple[str, float]]:
    """Every command on every case, each in a fresh copy; outputs under ``out/<case>/<command>/``."""
    timings: list[tuple[str, float]] = []
    env, exe = _env(), _archiver()
    for name, case in inputs.items():
        for command, args in COMMANDS.items():
            with tempfile.TemporaryDirectory(prefix="identity-") as tmp_name:
                tmp = Path(tmp_name)
                work = tmp / "work"
                events = CORPUS if name == "corpus" else case / "events"
                shutil.copytree(events, work / "events")
                if (case / "snapshots").is_dir():
                    shutil.copytree(case / "snapshots", work / "snapshots")
                t0 = time.perf_counter()
                done = subprocess.run([*exe, *args], cwd=work, env=env, capture_output=True, timeout=600)
                elapsed = time.perf_counter() - t0
                dest = out / name / command
                dest.mkdir(parents=True)
                (dest / "stdout").write_bytes(_normalise(done.stdout, tmp))
                (dest / "stderr").write_bytes(_normalise(done.stderr, tmp))
                (dest / "exit_code").write_text(f"{done.returncode}\n")
                for rel in PRODUCED:
                    if (work / rel).is_file():
                        (dest / Path(rel).name).write_bytes(_normalise((work / rel).read_bytes(), tmp))
                for tree in PRODUCED_TREES:
                    for file in sorted(p for p in (work / tree).rglob("*") if p.is_file()):
                        flat = "__".join(file.relative_to(work).parts)
                        (dest / flat).write_bytes(_normalise(file.read_bytes(), tmp))
            timings.append((f"{name}/{command}", elapsed))
            print(f"  {name}/{command}: exit {done.returncode}, {elapsed:.2f}s", flush=True)
    return timings


def compare(saved: Path, fresh: Path) -> int:
    """Print ``identical`` or the first differing lines per output; the number of differences."""
    differences = 0
    outputs = sorted({p.parent.relative_to(d) for d in (saved, fresh) for p in d.rglob("exit_code")})
    for rel in outputs:
        names = sorted({p.name for d in (saved, fresh) if (d / rel).is_dir() for p in (d / rel).iterdir()})
        problems: list[str] = []
        for file in names:
            a, b = saved / rel / file, fresh / rel / file
            if not a.exists() or not b.exists():
                problems.append(f"    {file}: {'only before' if a.exists() else 'only after'}")
                continue
            if a.read_bytes() == b.read_bytes():
                continue
            before = a.read_text("utf-8", errors="replace").splitlines()
            after = b.read_text("utf-8", errors="replace").splitlines()
            diff = list(difflib.unified_diff(before, after, "before", "after", n=1, lineterm=""))
            problems.append(f"    {file} differs:\n" + "\n".join("      " + line[:200] for line in diff[:14])
                            + ("" if diff else "\n      (same lines; bytes differ: line endings or a final newline)"))
        if problems:
            differences += 1
            print(f"{rel}: DIFFERENT\n" + "\n".join(problems))
        else:
            print(f"{rel}: identical")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, metavar="DIR", help="build the inputs and store the outputs in DIR")
    group.add_argument("--compare", type=Path, metavar="DIR", help="run again on DIR's inputs and diff")
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.save:
        root: Path = args.save
        if root.exists() and any(root.iterdir()):
            parser.error(f"{root} is not empty")
        print(f"building inputs in {root / 'inputs'}", flush=True)
        inputs = build_inputs(root / "inputs")
        print(f"inputs built in {time.perf_counter() - t0:.1f}s; running the commands", flush=True)
        timings = run_all(inputs, root / "outputs")
        print(f"saved {len(timings)} outputs in {root / 'outputs'}; commands {sum(t for _, t in timings):.1f}s, "
              f"total {time.perf_counter() - t0:.1f}s")
        return 0
    root = args.compare
    if not (root / "inputs").is_dir() or not (root / "outputs").is_dir():
        parser.error(f"{root} holds no saved run (make one with --save)")
    inputs = {p.name: p for p in sorted((root / "inputs").iterdir()) if p.is_dir()}
    if "corpus" in inputs and not CORPUS.is_dir():
        parser.error(f"the saved run includes the corpus, which is absent: {CORPUS}")
    with tempfile.TemporaryDirectory(prefix="identity-after-") as fresh_name:
        fresh = Path(fresh_name)
        print("running the commands on the saved inputs", flush=True)
        timings = run_all(inputs, fresh)
        differences = compare(root / "outputs", fresh)
    print(f"{len(timings)} outputs compared: {differences} different; commands "
          f"{sum(t for _, t in timings):.1f}s, total {time.perf_counter() - t0:.1f}s")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
