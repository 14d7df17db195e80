"""Nightly runs replayed with ARCHIVER_NOW against a loopback farm, through the real CLI.

Confirmation over days, recovery, offline nights not counted, budgets that resume,
shards that merge into the unsharded result, a run killed with SIGKILL that resumes,
and the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from archiver.history.lock import run_lock
from archiver.report.build import load_schema
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.farm_sites import article

FAST = ["--per-host-gap", "0", "--connect-timeout", "1", "--read-timeout", "2", "--total-timeout", "3",
        "--attempts", "1", "--backoff-base", "0", "--quiet", "--no-soft404-probe"]
VALIDATOR = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())


class Web:
    """Hosts whose pages answer what the test says: ``web.status[path] = 404``."""

    def __init__(self, farm: Farm, hosts: int, delay: float = 0.0) -> None:
        self.status: dict[str, int] = {}
        self.delay = delay
        self.hosts: list[FarmHost] = [farm.add(f"h{i}", self._handle) for i in range(hosts)]

    async def _handle(self, req: Request, conn: Conn) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        code = self.status.get(req.path, 200)
        if code == 200:
            await conn.send(200, article(req.path.strip("/").replace("/", "-")))
        else:
            await conn.send(code, f"<html><title>{code}</title><body>Error {code}</body></html>")

    def hits(self, path: str) -> int:
        return sum(len(h.hits(path)) for h in self.hosts)


def timeline(folder: Path, urls: list[str], per_event: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(0, len(urls), per_event):
        chunk = urls[n:n + per_event]
        sources = "".join(f"  - url: {u}\n    title: Story {n + i}\n    publisher: Example\n    tier: 2\n"
                          f"    date: 2021-05-0{1 + i}\n" for i, u in enumerate(chunk))
        (folder / f"2021-05-{n:02d}--event-{n}.md").write_text(
            f"---\ndate: 2021-05-01\ntitle: Event {n}\nsources:\n{sources}---\n\nBody.\n", "utf-8")
    return folder


def run(tmp: Path, now: str, *extra: str, snapshots: str = "snapshots", wait: bool = True,
        env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update({"ARCHIVER_NOW": now, "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", **(env_extra or {})})
    args = [sys.executable, "-m", "archiver.cli", "check", "--events", str(tmp / "events"),
            "--snapshots", str(tmp / snapshots), "--report-dir", str(tmp / f"reports-{snapshots}"), *FAST, *extra]
    if not wait:
        return subprocess.Popen(args, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=120, check=False)


@contextlib.contextmanager
def to_be_killed(proc: subprocess.CompletedProcess[str] | subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """A run started with ``wait=False``, for a test that kills it; however the ``with`` body ends (an
    assertion failing before the kill too) the run is killed if still alive, waited for, and its
    pipes, never read, are closed. Left to the garbage collector they fail, as ResourceWarnings, some
    later test that has nothing to do with them."""
    assert isinstance(proc, subprocess.Popen)
    with proc:  # on exit: closes stdout and stderr, then waits
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)


def report(tmp: Path, snapshots: str = "snapshots") -> dict:
    data = json.loads((tmp / f"reports-{snapshots}" / "report.json").read_text("utf-8"))
    VALIDATOR.validate(data)
    return data


def states(root: Path) -> dict[str, dict]:
    out = {}
    for path in sorted(root.glob("*/*/state.json")):
        data = json.loads(path.read_text("utf-8"))
        out[data["url"]] = data
    return out


@pytest.mark.subprocess
def test_dead_link_is_confirmed_on_the_third_day_and_recovers(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 2)
    urls = [web.hosts[i % 2].url(f"/news/story-{i}") for i in range(5)]
    gone = urls[2]
    web.status["/news/story-2"] = 404
    timeline(tmp_path / "events", urls)

    first = run(tmp_path, "2026-03-01T02:00:00Z")
    assert first.returncode == 0, first.stderr
    r = report(tmp_path)
    entry = {e["url"]: e for e in r["links"]}[gone]
    assert (entry["status"], entry["confirmed"], entry["failures"]) == ("dead", False, 1)
    assert [c["kind"] for c in r["run"]["changes"]] == ["newly_failing"]
    assert r["run"]["complete"] is True

    for day in ("02", "03"):
        assert run(tmp_path, f"2026-03-{day}T02:00:00Z").returncode == 0
        entry = {e["url"]: e for e in report(tmp_path)["links"]}[gone]
        assert not entry["confirmed"]
    assert entry["failures"] == 3  # three failed checks, but they span only two days

    assert run(tmp_path, "2026-03-04T02:00:00Z").returncode == 0
    r = report(tmp_path)
    entry = {e["url"]: e for e in r["links"]}[gone]
    assert (entry["confirmed"], entry["failures"], entry["first_failed_at"]) == (True, 4, "2026-03-01T02:00:00Z")
    assert [c["kind"] for c in r["run"]["changes"]] == ["newly_confirmed"]
    assert any(f["kind"] == "dead_link" and f["severity"] == "error" for f in r["findings"])
    # the failing link was checked every night; live links were not re-checked within a day of their check
    assert web.hits("/news/story-2") == 4
    for i in (0, 1, 3, 4):
        assert web.hits(f"/news/story-{i}") <= 2

    web.status.pop("/news/story-2")
    assert run(tmp_path, "2026-03-13T02:00:00Z").returncode == 0  # confirmed-dead links: weekly
    r = report(tmp_path)
    entry = {e["url"]: e for e in r["links"]}[gone]
    assert (entry["status"], entry["confirmed"], entry["failures"]) == ("alive", False, 0)
    assert "recovered" in [c["kind"] for c in r["run"]["changes"]]


@pytest.mark.subprocess
def test_offline_night_is_not_counted(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 1)
    urls = [web.hosts[0].url("/a"), web.hosts[0].url("/b")]
    web.status["/b"] = 410
    timeline(tmp_path / "events", urls)
    assert run(tmp_path, "2026-03-01T02:00:00Z").returncode == 0
    before = states(tmp_path / "snapshots")[urls[1]]
    assert before["failures"] == 1

    host = web.hosts[0]
    farm.run(_close(host))  # the whole web refuses connections: this machine has lost its network
    offline = run(tmp_path, "2026-03-02T02:00:00Z")
    assert offline.returncode == 2
    assert "network offline" in offline.stderr and offline.stderr.count("\n") == 1
    r = report(tmp_path)
    assert r["run"]["network"] == "offline" and r["run"]["complete"] is False
    assert states(tmp_path / "snapshots")[urls[1]] == before  # an offline night changes no byte of the state
    assert not any(f["kind"] == "dead_link" and f["url"] == urls[0] for f in r["findings"])


async def _close(host: FarmHost) -> None:
    host.server.close()
    await host.server.wait_closed()


@pytest.mark.subprocess
def test_budget_stops_cleanly_and_next_run_continues(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 3)
    urls = [web.hosts[i % 3].url(f"/p/{i}") for i in range(7)]
    timeline(tmp_path / "events", urls)
    first = run(tmp_path, "2026-03-01T02:00:00Z", "--max-links", "3")
    assert first.returncode == 0, first.stderr
    r = report(tmp_path)
    assert (r["run"]["complete"], r["run"]["budgets_hit"], r["run"]["checked"]) == (False, ["max_links"], 3)
    assert r["summary"]["links"] == {"alive": 3, "unchecked": 4}
    second = run(tmp_path, "2026-03-01T03:00:00Z", "--max-links", "5")
    assert second.returncode == 0
    r = report(tmp_path)
    assert (r["run"]["complete"], r["run"]["checked"]) == (True, 4)
    assert r["summary"]["links"] == {"alive": 7}
    assert all(web.hits(f"/p/{i}") == 1 for i in range(7))


@pytest.mark.subprocess
def test_shards_merge_into_the_unsharded_result(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 6)
    urls = [web.hosts[i % 6].url(f"/s/{i}") for i in range(18)]
    web.status["/s/4"] = 404
    timeline(tmp_path / "events", urls)
    now = "2026-03-01T02:00:00Z"
    assert run(tmp_path, now, snapshots="whole").returncode == 0
    for k in (1, 2, 3):
        assert run(tmp_path, now, "--shard", f"{k}/3", snapshots=f"shard{k}").returncode == 0
    shard_counts = [len(states(tmp_path / f"shard{k}")) for k in (1, 2, 3)]
    assert sum(shard_counts) == 18 and max(shard_counts) < 18
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    merged = subprocess.run(
        [sys.executable, "-m", "archiver.cli", "merge", *(str(tmp_path / f"shard{k}") for k in (1, 2, 3)),
         "--events", str(tmp_path / "events"), "--snapshots", str(tmp_path / "merged"),
         "--report-dir", str(tmp_path / "reports-merged")], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60)
    assert merged.returncode == 0, merged.stderr
    whole = {p.relative_to(tmp_path / "whole"): p.read_bytes() for p in (tmp_path / "whole").glob("*/*/*")}
    combined = {p.relative_to(tmp_path / "merged"): p.read_bytes() for p in (tmp_path / "merged").glob("*/*/*")}
    # each run names its own WARC record (its file, a fresh record id, its place in the file): the rest is identical
    own_record = re.compile(rb"^warc_(file|record_id|offset|length): .*\n", re.M)
    assert all(own_record.search(data) for p, data in whole.items() if p.name == "snapshot.md")
    assert {p: own_record.sub(b"", d) for p, d in whole.items()} == \
           {p: own_record.sub(b"", d) for p, d in combined.items()}
    a, b = report(tmp_path, "whole"), report(tmp_path, "merged")
    assert [(e["url"], e["status"], e["failures"]) for e in a["links"]] == \
           [(e["url"], e["status"], e["failures"]) for e in b["links"]]
    assert a["summary"]["links"] == b["summary"]["links"]


@pytest.mark.subprocess
def test_killed_run_resumes_without_loss(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 3, delay=0.15)
    urls = [web.hosts[i % 3].url(f"/k/{i}") for i in range(36)]
    timeline(tmp_path / "events", urls)
    # link state alone here (a page checked but not yet snapshotted is due again: tests/pipeline/test_end_to_end.py)
    no_snapshots = {"ARCHIVER_SNAPSHOT_PAGES": "false"}
    with to_be_killed(run(tmp_path, "2026-03-01T02:00:00Z", "--per-host-concurrency", "1", wait=False,
                          env_extra=no_snapshots)) as proc:
        deadline = time.monotonic() + 30
        while len(list((tmp_path / "snapshots").glob("*/*/state.json"))) < 6:  # wait for progress, not a fixed time
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    saved = states(tmp_path / "snapshots")  # every file on disk parses
    assert 6 <= len(saved) < 36
    assert (tmp_path / "snapshots" / ".archiver.lock").exists()

    rerun = run(tmp_path, "2026-03-01T02:30:00Z", "--per-host-concurrency", "1", env_extra=no_snapshots)
    assert rerun.returncode == 0, rerun.stderr
    assert "taking over a stale lock" in rerun.stderr
    assert not list((tmp_path / "snapshots").rglob("*.tmp"))  # what a kill mid-write leaves is gone
    final = states(tmp_path / "snapshots")
    assert len(final) == 36 and all(s["status"] == "alive" for s in final.values())
    for url, state in saved.items():
        assert final[url]["last_checked"] == state["last_checked"]  # finished checks were not redone
    in_flight = sum(1 for i in range(36) if web.hits(f"/k/{i}") > 1)
    # at most the checks in flight when it was killed ran twice: per host one request on the wire
    # and one answered but not yet recorded
    assert in_flight <= 6
    assert report(tmp_path)["run"]["complete"] is True


@pytest.mark.subprocess
def test_second_run_refused_while_the_first_holds_the_lock(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 1)
    timeline(tmp_path / "events", [web.hosts[0].url("/x")])
    with run_lock(tmp_path / "snapshots"):
        proc = run(tmp_path, "2026-03-01T02:00:00Z")
    assert proc.returncode == 2
    assert "holds" in proc.stderr and web.hits("/x") == 0


_GUARDED_CHECK = """
import socket, sys
attempts = []
real_connect = socket.socket.connect
def connect(self, address):
    attempts.append(address)
    return real_connect(self, address)
socket.socket.connect = connect
from archiver.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
print("ATTEMPTS", len(attempts), "HTTPX", "httpx" in sys.modules, "EXIT", code, file=sys.stderr)
"""


@pytest.mark.subprocess
def test_a_run_with_nothing_due_touches_no_network_and_no_state(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 2)
    timeline(tmp_path / "events", [web.hosts[i % 2].url(f"/news/story-{i}") for i in range(6)])
    assert run(tmp_path, "2026-03-01T02:00:00Z").returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "snapshots").glob("*/*/state.json")}
    hits = sum(len(h.requests) for h in web.hosts)

    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update({"ARCHIVER_NOW": "2026-03-01T14:00:00Z", "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8"})
    done = subprocess.run([sys.executable, "-c", _GUARDED_CHECK, "check", "--events", str(tmp_path / "events"),
                           "--snapshots", str(tmp_path / "snapshots"), "--report-dir", str(tmp_path / "reports"),
                           *FAST], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "ATTEMPTS 0 HTTPX False EXIT 0" in done.stderr, done.stderr
    assert sum(len(h.requests) for h in web.hosts) == hits
    assert {p: p.read_bytes() for p in (tmp_path / "snapshots").glob("*/*/state.json")} == before
    data = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    VALIDATOR.validate(data)
    assert (data["run"]["due"], data["run"]["checked"], data["run"]["requests"]) == (0, 0, 0)
    assert data["summary"]["links"] == {"alive": 6}


@pytest.mark.subprocess
def test_a_pipeline_rerun_with_nothing_due_imports_no_http_stack(tmp_path: Path) -> None:
    """Issue 19: ``archiver run`` again the same night, with every link checked and looked up, asks nothing,
    and so never imports httpx, httpcore or lxml (the archive clients build theirs with their first call)."""
    import datetime as dt

    from archiver.config import Settings
    from archiver.history.linkstate import apply_result, new_state
    from archiver.history.store import StateStore
    from archiver.history.wayback_record import WaybackRecord
    from archiver.models import CheckResult
    from archiver.timeline.catalog import build_catalog
    from archiver.timeline.load import load_events

    timeline(tmp_path / "events", [f"https://news{i % 2}.example/story-{i}" for i in range(6)])
    night = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    store, stamp = StateStore(tmp_path / "snapshots"), "20200102030405"
    for link in build_catalog(load_events(tmp_path / "events", processes=1).events).checkable:
        state = new_state(link.url, link.normalized_url, night)
        apply_result(state, CheckResult(url=link.url, status="alive", checked_at=night, http_status=200,
                                        final_url=None, content_type="text/html", evidence="HTTP 200 OK"), Settings())
        state.extracted = state.last_checked
        state.wayback = WaybackRecord.from_dict({
            "url": f"https://web.archive.org/web/{stamp}/{link.url}", "timestamp": stamp, "source": "cdx",
            "looked_up": state.last_checked, "captures": [{"timestamp": stamp, "status": 200}]})
        store.save(state)
    closed = "http://127.0.0.1:9"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update({"ARCHIVER_NOW": "2026-03-01T14:00:00Z", "ARCHIVER_WAYBACK_URL": closed,
                "ARCHIVER_AVAILABILITY_URL": closed})
    guard = _GUARDED_CHECK.replace('"EXIT", code', '"LXML", "lxml" in sys.modules, "EXIT", code')
    done = subprocess.run([sys.executable, "-c", guard, "run", "--events", str(tmp_path / "events"),
                           "--snapshots", str(tmp_path / "snapshots"), "--report-dir", str(tmp_path / "reports"),
                           "--quiet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert "ATTEMPTS 0 HTTPX False LXML False EXIT 0" in done.stderr, done.stdout + done.stderr
    data = json.loads((tmp_path / "reports" / "report.json").read_text("utf-8"))
    assert (data["run"]["due"], data["run"]["requests"], data["run"]["wayback"]["lookups_left"]) == (0, 0, 0)


@pytest.mark.subprocess
def test_a_same_night_rerun_leaves_failing_links_alone_until_the_next_night(farm: Farm, tmp_path: Path) -> None:
    web = Web(farm, 1)

    async def failing(req: Request, conn: Conn) -> None:
        if req.path == "/":  # the home page answers: a 404 below it is real (not a bot defence)
            await conn.send(200, "<html><title>Home</title><body>Welcome</body></html>")
        elif req.path.startswith("/gone"):
            await conn.send(404, "<html><title>Not found</title><body>Not found</body></html>")
        elif req.path.startswith("/broken"):
            await conn.send(503, "<html><title>Unavailable</title><body>Try later</body></html>")
        else:  # /slow: never answers within the read timeout
            await asyncio.sleep(30)

    bad = [farm.add("gone", failing), farm.add("broken", failing), farm.add("slow", failing)]
    urls = [web.hosts[0].url(f"/ok/{i}") for i in range(3)]
    urls += [bad[0].url("/gone/1"), bad[1].url("/broken/1"), bad[2].url("/slow/1")]
    timeline(tmp_path / "events", urls)
    quick = ["--read-timeout", "0.5", "--total-timeout", "1"]

    def bad_hits() -> int:
        return sum(len(h.requests) for h in bad)

    first = run(tmp_path, "2026-03-01T02:00:00Z", *quick)
    assert first.returncode == 0, first.stderr
    statuses = {e["url"]: e["status"] for e in report(tmp_path)["links"]}
    assert [statuses[u] for u in urls[3:]] == ["dead", "error", "error"]
    assert bad_hits() == 4  # one check each (one attempt, no soft-404 probe), and the 404 host's home page
    ok_hits = web.hits("/ok/")

    # a retried job three hours later: nothing is due, no request to any of them, and it says why
    rerun = run(tmp_path, "2026-03-01T05:00:00Z", *quick)
    assert rerun.returncode == 0, rerun.stderr
    assert bad_hits() == 4 and web.hits("/ok/") == ok_hits
    assert "checked 0 of 0 due links" in rerun.stdout and "nothing due" in rerun.stdout
    waiting = ("3 failing or inconclusive links checked less than 20 h ago (failing_recheck_hours) not rechecked; "
               "the first is due again at 2026-03-01T22:00:00Z")
    assert waiting in rerun.stdout
    r = report(tmp_path)
    VALIDATOR.validate(r)
    assert (r["run"]["due"], r["run"]["checked"], r["run"]["requests"]) == (0, 0, 0) and waiting in r["run"]["notes"]

    # the next night, 21 hours after the first run: all three are checked again, the dead one counts twice
    night = run(tmp_path, "2026-03-01T23:00:00Z", *quick)
    assert night.returncode == 0, night.stderr
    assert bad_hits() == 8
    entry = {e["url"]: e for e in report(tmp_path)["links"]}[urls[3]]
    assert (entry["status"], entry["failures"]) == ("dead", 2)
