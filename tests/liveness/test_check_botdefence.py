"""Issue 13: bot defences that answer 404 everywhere, and hosts that throttle hard (429 + Retry-After).

Real loopback servers on distinct 127.0.0.x hosts; ``archiver check`` runs as a subprocess.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from archiver.config import BROWSER_USER_AGENT
from archiver.liveness.batch import check_links
from archiver.liveness.check import BOT_404, SITE_GONE
from archiver.liveness.fetcher import retry_after_seconds
from archiver.liveness.politeness import HostScheduler
from tests.pipeline.test_check_cli import FAST, run_cli, write_event
from tests.support.farm import Conn, FarmHost, Request
from tests.support.farm_sites import Sites, article, fast_settings, link_for, page
from tests.support.throttle_site import Throttle, throttle_handler


def _browser(req: Request) -> bool:
    return "Mozilla/" in req.headers.get("user-agent", "")


async def bot_wall(req: Request, conn: Conn) -> None:
    """Site A: 404 to every non-browser client on every path; the pages to a browser."""
    if _browser(req):
        await conn.send(200, article(req.path.strip("/") or "home"))
    else:
        await conn.send(404, page("Not Found", "Not Found"))


async def gone(req: Request, conn: Conn) -> None:
    """Site B: gone; 404 to everyone, home page included."""
    await conn.send(404, page("Not Found", "Nothing here any more"))


async def home_ok(req: Request, conn: Conn) -> None:
    """Site C: an answering site with one removed page."""
    if req.path == "/":
        await conn.send(200, article("front-page"))
    elif req.path.startswith("/removed"):
        await conn.send(404, page("Not Found", "No such page"))
    else:
        await conn.send(200, article(req.path.rsplit("/", 1)[-1]))


def _home_hits(host: FarmHost, since: float) -> tuple[int, int]:
    """Requests for the home page since ``since``: (checker User-Agent, browser User-Agent)."""
    hits = [r for r in host.requests if r.path == "/" and r.at >= since]
    return sum(not _browser(r) for r in hits), sum(_browser(r) for r in hits)


def _check(tmp_path: Path, urls: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    events = tmp_path / "events"
    events.mkdir(exist_ok=True)
    for i in range(0, len(urls), 3):
        write_event(events, f"2020-01-0{i // 3 + 1}--e{i}", urls[i:i + 3])
    done = run_cli(["--events", str(events), "--report-dir", str(tmp_path / "out"), "--allow-networks",
                    "127.0.0.0/8", *FAST], cwd=tmp_path, env_extra=env)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    return report


@pytest.fixture
def walls(sites: Sites) -> tuple[FarmHost, FarmHost, FarmHost, FarmHost]:
    tag = uuid.uuid4().hex[:6]
    farm = sites.farm
    return (farm.add(f"bot-{tag}", bot_wall), farm.add(f"gone-{tag}", gone), farm.add(f"homeok-{tag}", home_ok),
            farm.add(f"bothome-{tag}", bot_wall))


@pytest.mark.subprocess
def test_bot_defence_blocked_gone_site_dead_real_404_dead(
        walls: tuple[FarmHost, FarmHost, FarmHost, FarmHost], tmp_path: Path) -> None:
    a, b, c, d = walls
    a_links = [a.url(f"/news/2020/story-{i}") for i in range(5)]
    b_links = [b.url(f"/articles/old-{i}") for i in range(2)]
    started = time.monotonic()
    report = _check(tmp_path, [*a_links, *b_links, c.url("/removed/page"), c.url("/news/still-here"), d.url("/")])
    by_url = {e["url"]: e for e in report["links"]}
    for url in a_links:
        assert by_url[url]["status"] == "blocked", by_url[url]
        assert by_url[url]["evidence"] == BOT_404
        assert by_url[url]["http_status"] == 404
    for url in b_links:
        assert by_url[url]["status"] == "dead", by_url[url]
        assert by_url[url]["evidence"] == SITE_GONE
    assert by_url[c.url("/removed/page")]["status"] == "dead"
    assert by_url[c.url("/removed/page")]["evidence"] == "HTTP 404 Not Found"
    assert by_url[c.url("/news/still-here")]["status"] == "alive"
    # the cited URL is the home page itself: its own answer is the home check
    assert by_url[d.url("/")]["status"] == "blocked" and by_url[d.url("/")]["evidence"] == BOT_404
    # one home-page check per host and run, however many links: one with the checker's User-Agent, one browser
    assert _home_hits(a, started) == (1, 1)
    assert _home_hits(b, started) == (1, 1)
    assert _home_hits(c, started) == (1, 0), "the home page answers: no browser-like request"
    assert _home_hits(d, started) == (1, 1), "the cited home page is not requested twice"
    browser = [r for r in a.requests if _browser(r) and r.at >= started]
    assert browser[0].headers["user-agent"] == BROWSER_USER_AGENT
    # the home-page requests count in the run's request figures
    # A: 5 pages + 2 home; B: 2 + 2; C: 2 pages + home + the soft-404 probe of its live page; D: 1 + browser
    assert report["run"]["requests"] == (5 + 2) + (2 + 2) + (2 + 1 + 1) + (1 + 1)


@pytest.mark.subprocess
def test_browser_check_off_never_dead(walls: tuple[FarmHost, FarmHost, FarmHost, FarmHost], tmp_path: Path) -> None:
    a, b, c, _ = walls
    a_links = [a.url(f"/news/2021/story-{i}") for i in range(3)]
    started = time.monotonic()
    report = _check(tmp_path, [*a_links, b.url("/articles/x"), c.url("/removed/y")],
                    env={"ARCHIVER_BROWSER_USER_AGENT": ""})
    by_url = {e["url"]: e for e in report["links"]}
    for url in [*a_links, b.url("/articles/x")]:
        assert by_url[url]["status"] == "blocked", by_url[url]
        assert by_url[url]["evidence"].startswith(BOT_404 + " (not counted as dead: the browser-like home page "
                                                  "check is off")
    assert by_url[c.url("/removed/y")]["status"] == "dead"
    assert _home_hits(a, started) == (1, 0)


async def test_home_page_failing_otherwise_is_not_dead(sites: Sites) -> None:
    """Home page 403 to the checker, 404 to a browser too: never counted from the checker's 403 alone."""
    async def forbidden_home(req: Request, conn: Conn) -> None:
        if req.path == "/" and not _browser(req):
            await conn.send(403, page("Forbidden", "no"))
        elif req.path == "/":
            await conn.send(500, page("Error", "oops"))
        else:
            await conn.send(404, page("Not Found", "no"))

    host = sites.farm.add(f"forbidden-{uuid.uuid4().hex[:6]}", forbidden_home)
    run = await check_links([link_for(host.url("/a/b"))], fast_settings(attempts=1))
    (result,) = run.results.values()
    assert result.status == "blocked"
    assert result.evidence == ("the site answers 404 to the checker and its home page fails too (HTTP 403) "
                               "(not counted as dead: the home page request with a browser-like User-Agent was "
                               "inconclusive: HTTP 500)")


# ------------------------------------------------------------------ hosts that throttle hard


@pytest.mark.parametrize("form", ["date", "seconds"])
async def test_throttling_host_no_request_before_retry_after(sites: Sites, form: str) -> None:
    throttle = Throttle(interval=0.4, form=form)
    host = sites.farm.add(f"throttle-{form}-{uuid.uuid4().hex[:6]}", throttle_handler(throttle))
    links = [link_for(host.url(f"/news/2022/story-{i}")) for i in range(5)]
    settings = fast_settings(attempts=6, per_host_concurrency=2, retry_after_cap=5.0)
    run = await check_links(links, settings)
    assert {r.status for r in run.results.values()} == {"alive"}, [r.evidence for r in run.results.values()]
    assert throttle.promises, "the host did answer 429 with a Retry-After"
    assert throttle.early() == [], "no request arrived before the Retry-After the host gave"
    refused = sum(1 for *_, status in throttle.arrivals if status == 429)
    # slowed down for the rest of the run, not only that one retry: without that, with no gap and two requests
    # in flight, every accepted request after a pause would be followed at once by a refused one
    assert refused < len(throttle.accepted()), throttle.arrivals


def test_retry_after_both_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(" 7 ", now) == 7
    assert retry_after_seconds("Thu, 01 Jan 2026 00:00:02 GMT", now) == 2
    assert retry_after_seconds("Wed, 31 Dec 2025 23:59:00 GMT", now) == 0, "a past date: no wait"
    assert retry_after_seconds("-3", now) is None and retry_after_seconds("1.5", now) is None
    assert retry_after_seconds("tomorrow at noon", now) is None and retry_after_seconds("", now) is None


async def test_retry_after_holds_a_request_already_waiting() -> None:
    """A request queued for the host (and one already granted a slot) is not sent before the Retry-After."""
    sched = HostScheduler(concurrency=4, per_host=2, gap=0.0)
    sent: list[float] = []

    async def request(delay_grant: float) -> None:
        async with sched.slot("h") as slot:
            await asyncio.sleep(delay_grant)  # connecting
            await slot.wait_hold()
            slot.sent()
            sent.append(time.monotonic())

    first = asyncio.create_task(request(0.05))  # granted, still connecting when the 429 arrives
    await asyncio.sleep(0.01)
    start = time.monotonic()
    sched.throttled("h", None, 0.3)
    second = asyncio.create_task(request(0.0))
    await asyncio.gather(first, second)
    assert min(sent) - start >= 0.29, sent
    assert sched.hold_remaining("h") == 0.0


async def test_throttled_host_gap_grows_and_does_not_fall_back() -> None:
    sched = HostScheduler(concurrency=4, per_host=1, gap=0.1, max_gap=0.3)
    sched.throttled("h", None, None)
    assert sched.host_gap("h") == 0.2, "no Retry-After: the gap doubles"
    sched.throttled("h", None, None)
    assert sched.host_gap("h") == 0.3, "capped by max_per_host_gap"
    for _ in range(3):  # accepted requests do not shrink it back
        async with sched.slot("h") as slot:
            slot.sent()
        sched.answered("h", slot)
    assert sched.host_gap("h") == 0.3
    assert sched.host_gap("other") == 0.1
