"""`archiver run` end to end: a 30-event timeline in a git repository, a loopback web and a
local Wayback Machine, two nights a day apart; then `archiver annotate --write`; then runs
killed at random moments that must resume without losing or corrupting anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from archiver.report.build import load_schema
from tests.pipeline.test_nightly import Web, to_be_killed
from tests.support.farm import Farm
from tests.support.wayback_double import WaybackDouble

VALIDATOR = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
FAST = ["--per-host-gap", "0", "--connect-timeout", "1", "--read-timeout", "2", "--total-timeout", "3",
        "--attempts", "1", "--backoff-base", "0", "--quiet", "--no-soft404-probe"]
NIGHT1 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
DEAD = {3, 11, 17}  # link numbers whose pages are gone (404)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
                          check=True, capture_output=True, text=True).stdout


def build_timeline(repo: Path, web: Web, double: WaybackDouble) -> list[str]:
    """30 events citing 40 links; dead ones have archive captures from before their cited date."""
    events = repo / "events"
    events.mkdir(parents=True)
    urls = [web.hosts[i % len(web.hosts)].url(f"/news/2020/story-{i}") for i in range(40)]
    for i in DEAD:
        web.status[f"/news/2020/story-{i}"] = 404
        double.add(urls[i], "20200301120000", "200", b"<html><head><title>Story</title></head><body>"
                   + b"<article><p>" + b"The council approved the budget after a long debate. " * 40
                   + b"</p></article></body></html>")
        double.add(urls[i], "20240101000000", "404")
    for i in range(0, 40, 4):  # some live pages already have captures
        if i not in DEAD:
            double.add(urls[i], "20250601000000", "200", b"<html><body>old copy</body></html>")
    for n in range(30):
        picks = [urls[n], urls[30 + n % 10]] if n % 3 else [urls[n]]
        sources = "".join(
            f"  - url: {u}\n    title: Story {urls.index(u)}\n    publisher: Example News\n"
            f"    date: 2020-03-0{1 + k}\n    tier: 2\n" for k, u in enumerate(picks))
        (events / f"2020-03-{n:02d}--event-{n}.md").write_text(
            f"---\nid: event-{n}\ndate: 2020-03-01\ntitle: Event {n}\nsources:\n{sources}---\n\nBody.\n", "utf-8")
    (repo / ".gitignore").write_text("reports/\nwarcs/\n")  # raw captures are never committed
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "timeline")
    return urls


def run(repo: Path, double: WaybackDouble, now: dt.datetime, *extra: str, wait: bool = True
        ) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "IA_"))}
    env.update({
        "ARCHIVER_NOW": now.isoformat(), "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8",
        "ARCHIVER_WAYBACK_URL": double.base_url, "ARCHIVER_AVAILABILITY_URL": double.base_url,
        "ARCHIVER_CDX_PER_MINUTE": "6000", "ARCHIVER_SAVE_PER_MINUTE": "6000", "ARCHIVER_REPLAY_PER_MINUTE": "6000",
        "ARCHIVER_WAYBACK_PAUSE": "1", "ARCHIVER_SAVE_POLL_SECONDS": "3", "ARCHIVER_EXTRACT_WORKERS": "1",
        "IA_ACCESS_KEY": double.access, "IA_SECRET_KEY": double.secret,
    })
    args = [sys.executable, "-m", "archiver.cli", "run", *FAST, *extra]
    if not wait:
        return subprocess.Popen(args, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=180, check=False)


def load_report(repo: Path) -> dict:
    data = json.loads((repo / "reports" / "report.json").read_text("utf-8"))
    VALIDATOR.validate(data)
    assert (repo / "reports" / "report.md").stat().st_size > 0
    assert (repo / "reports" / "report.html").stat().st_size > 0
    return data


def check_store(repo: Path, *, just_killed: bool = False) -> int:
    """Every state and snapshot file parses; snapshot texts match their recorded hash.

    ``just_killed``: a process killed mid-write may leave its temp file (the next run
    removes it); otherwise there must be none.
    """
    import hashlib

    snaps = 0
    for path in (repo / "snapshots").rglob("*"):
        if path.name == "state.json":
            json.loads(path.read_text("utf-8"))
        elif path.name.startswith("snapshot") and path.suffix == ".md":
            text = path.read_text("utf-8")
            head, body = re.match(r"^---\n(.*?)\n---\n\n?(.*)$", text, re.S).groups()  # type: ignore[union-attr]
            meta = yaml.safe_load(head)
            assert hashlib.sha256(body.encode("utf-8")).hexdigest() == meta["text_sha256"], path
            snaps += 1
        assert just_killed or not path.name.endswith(".tmp"), path
    return snaps


@pytest.mark.subprocess
def test_two_nights_then_annotate(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 5)
    double = WaybackDouble(clock=lambda: NIGHT1).start(farm)
    repo = tmp_path / "timeline"
    urls = build_timeline(repo, web, double)

    first = run(repo, double, NIGHT1)
    assert first.returncode == 0, first.stderr
    assert "== archiver run (complete)" in first.stdout and "reports/report.md" in first.stdout
    report = load_report(repo)
    by_url = {e["url"]: e for e in report["links"]}
    assert len(by_url) == 40
    for i in DEAD:
        entry = by_url[urls[i]]
        assert (entry["status"], entry["confirmed"]) == ("dead", False)
        # the copy closest before the cited date, never the capture of the 404 page
        assert entry["wayback"]["timestamp"] == "20200301120000"
        assert entry["snapshot"]["origin"] == "wayback"  # rescued: no live capture was ever stored
    alive = [u for i, u in enumerate(urls) if i not in DEAD]
    assert all(by_url[u]["status"] == "alive" and by_url[u]["snapshot"]["origin"] == "live" for u in alive)
    assert sum(1 for h in double.hits() if h.kind == "save") > 0  # never-captured live pages were saved
    assert check_store(repo) == 40
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "night 1")

    double.publish()
    night2 = NIGHT1 + dt.timedelta(days=1)
    second = run(repo, double, night2)
    assert second.returncode == 0, second.stderr
    report2 = load_report(repo)
    assert report2["run"]["complete"] is True
    changed = git(repo, "status", "--porcelain").splitlines()
    paths = [line[3:] for line in changed]
    # the second night rewrote no archived text, and touched only state of links it checked
    assert not [p for p in paths if p.endswith(".md")], paths
    states = {p: json.loads((repo / p).read_text("utf-8")) for p in paths if p.endswith("state.json")}
    # health.json: the events' health and the trend, one tally a run (issue 22)
    assert {Path(p).name for p in paths} <= {"state.json", "run.json", "findings.json", "health.json"}
    assert len(json.loads((repo / "snapshots" / "health.json").read_text("utf-8"))["trend"]) == 2
    for p, state in states.items():
        assert state["last_checked"].startswith("2026-03-02") or state.get("wayback"), p
    dead_states = [s for s in states.values() if s["status"] == "dead"]
    assert len(dead_states) == len(DEAD)  # failing links are rechecked every night
    assert all(s["failures"] == 2 for s in dead_states)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "night 2")

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    annotate = subprocess.run([sys.executable, "-m", "archiver.cli", "annotate", "--write"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
    assert annotate.returncode == 0, annotate.stderr
    diff = git(repo, "diff", "-U0", "--", "events/")
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert not removed, removed
    assert added and all(re.match(r"^\+    archive_(url|date): ", line) for line in added), added
    dead_lines = [line for line in added if "story-3\n" in line + "\n" or line.endswith("/story-3")]
    assert dead_lines and "20200301120000" in dead_lines[0]
    assert len([a for a in added if "archive_url" in a]) == len([a for a in added if "archive_date" in a])


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.subprocess
def test_runs_killed_at_random_moments_resume_without_loss(farm: Farm, tmp_path: Path, seed: int) -> None:
    web = Web(farm, 4, delay=0.05)
    double = WaybackDouble(clock=lambda: NIGHT1).start(farm)
    repo = tmp_path / "timeline"
    build_timeline(repo, web, double)
    rng = random.Random(seed)
    for attempt in range(2):
        with to_be_killed(run(repo, double, NIGHT1 + dt.timedelta(minutes=attempt), wait=False)) as proc:
            time.sleep(rng.uniform(0.3, 2.5))  # a random moment of the run (the point of this test)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        check_store(repo, just_killed=True)  # whatever the moment, everything on disk is valid
    final = run(repo, double, NIGHT1 + dt.timedelta(minutes=5))
    assert final.returncode == 0, final.stderr
    report = load_report(repo)
    assert report["run"]["complete"] is True
    assert report["summary"]["links"].get("unchecked", 0) == 0
    assert check_store(repo) == 40
