"""Politeness measured at the server: in-flight limit, gap between starts, interleaving, User-Agent."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

from archiver.liveness.batch import check_links
from archiver.liveness.politeness import HostScheduler
from tests.support.farm_sites import Sites, check_one, fast_settings, link_for


async def test_per_host_concurrency_never_exceeds_the_limit(sites: Sites) -> None:
    tag = uuid.uuid4().hex[:8]
    links = [link_for(sites.slow.url(f"/slow/{tag}-{i}")) for i in range(8)]
    run = await check_links(links, fast_settings(per_host_concurrency=2, concurrency=16))
    assert {r.status for r in run.results.values()} == {"alive"}
    mine = sites.slow.hits(f"/slow/{tag}")
    assert len(mine) == 8
    assert max(r.in_flight for r in mine) == 2, "the limit is used, and never exceeded"


async def test_gap_between_request_starts_to_one_host(sites: Sites) -> None:
    tag = uuid.uuid4().hex[:8]
    start = time.monotonic()
    links = [link_for(sites.gap.url(f"/g/{tag}-{i}")) for i in range(4)]
    await check_links(links, fast_settings(per_host_gap=0.25, per_host_concurrency=4))
    arrivals = sorted(r.at for r in sites.gap.requests if r.at >= start)  # the probe counts too
    assert len(arrivals) >= 4
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # measured at the server, so scheduling jitter on a loaded machine can shave a little off one gap
    assert min(gaps) >= 0.19, gaps
    assert (arrivals[-1] - arrivals[0]) / len(gaps) >= 0.24, gaps


async def test_hosts_are_interleaved_not_serialised(sites: Sites) -> None:
    """3 hosts x 5 links with a 0.2 s gap: about one host's time (5-6 starts), not three."""
    tag = uuid.uuid4().hex[:8]
    links = []
    for i in range(5):
        links += [link_for(sites.gap.url(f"/g/{tag}-{i}")), link_for(sites.busy.url(f"/b/{tag}-{i}")),
                  link_for(sites.news.url(f"/articles/{tag}-{i}"))]
    started = time.monotonic()
    run = await check_links(links, fast_settings(per_host_gap=0.2, per_host_concurrency=2))
    elapsed = time.monotonic() - started
    assert {r.status for r in run.results.values()} == {"alive"}
    assert elapsed < 2.0, f"{elapsed:.2f}s: hosts were not interleaved (one host needs ~1.0-1.2s)"


async def test_scheduler_global_limit() -> None:
    sched = HostScheduler(concurrency=3, per_host=2, gap=0.0)
    peak = 0
    running = 0

    async def job(host: str) -> None:
        nonlocal peak, running
        async with sched.slot(host):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.02)
            running -= 1

    await asyncio.gather(*(job(f"h{i % 5}") for i in range(30)))
    assert peak == 3 and sched.max_in_flight == 3


async def test_user_agent_names_the_tool_and_contact(sites: Sites) -> None:
    path = f"/ua/{uuid.uuid4().hex[:8]}"
    settings = fast_settings(contact_url="https://example.org/contact-us")
    await check_one(sites.news.url(path), settings)
    (req,) = sites.news.hits(path)
    ua = req.headers["user-agent"]
    assert ua.startswith("archiver/") and "https://example.org/contact-us" in ua
    assert req.method == "GET" and "gzip" in req.headers.get("accept-encoding", "")


async def test_user_agent_can_be_replaced(sites: Sites) -> None:
    path = f"/ua/{uuid.uuid4().hex[:8]}"
    await check_one(sites.news.url(path), fast_settings(user_agent="TimelineBot/2.0 (+https://example.org)"))
    (req,) = sites.news.hits(path)
    assert req.headers["user-agent"] == "TimelineBot/2.0 (+https://example.org)"


async def test_busiest_host_gets_a_freed_global_slot_first() -> None:
    sched = HostScheduler(concurrency=1, per_host=1, gap=0.0)
    sched.expect("small", 1)
    sched.expect("busy", 4)
    order: list[str] = []
    release = asyncio.Event()

    async def blocker() -> None:
        async with sched.slot("x"):
            await release.wait()

    async def job(host: str) -> None:
        async with sched.slot(host):
            order.append(host)

    first = asyncio.create_task(blocker())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(job("small"))]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(job("busy")) for _ in range(4)]
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order[0] == "busy", order  # arrived later, but has the most work left
    assert sorted(order) == ["busy"] * 4 + ["small"]


async def test_cancelled_waiters_do_not_leak_slots() -> None:
    sched = HostScheduler(concurrency=1, per_host=2, gap=0.0)
    hold = asyncio.Event()

    async def holder() -> None:
        async with sched.slot("a"):
            await hold.wait()

    async def waiter(host: str) -> None:
        async with sched.slot(host):
            pass

    h = asyncio.create_task(holder())
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(waiter(f"h{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    for w in waiters:
        w.cancel()
    hold.set()
    await asyncio.gather(h, *waiters, return_exceptions=True)
    async with asyncio.timeout(1):
        await waiter("after")  # the slot is free again
    assert sched.in_flight == 0
