"""The night's scheduler (archiver.support.lanes): value order per lane, lanes at once, items queued by items,
stealing, the deadline and what it leaves."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from archiver.support.lanes import Item, Lane, Lanes, Place, Work


def test_a_lane_serves_its_most_valuable_item_first_then_rank_then_arrival_long_shots_last() -> None:
    done: list[str] = []

    def job(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            done.append(name)
        return run

    async def night() -> None:
        lanes = Lanes()
        lanes.put("cdx", Work.NEW_FAILING, "long-shot", job("long-shot"), Place(long_shot=True))
        lanes.put("cdx", Work.LOOKUP, "alive", job("alive"))
        lanes.put("cdx", Work.SAVE, "save", job("save"))
        lanes.put("cdx", Work.NEW_FAILING, "new-b", job("new-b"), Place(rank=(2,)))
        lanes.put("cdx", Work.NEW_FAILING, "new-a", job("new-a"), Place(rank=(1,)))
        lanes.put("cdx", Work.BLOCKED_TEXT, "blocked", job("blocked"))
        await lanes.run()
        # with odds: a likely older failing link's copy before a long-odds ask for a newly failing one
        lanes.put("loc", Work.NEW_FAILING, "new-unlikely", job("new-unlikely"), Place(odds=0.2))
        lanes.put("loc", Work.OLD_FAILING, "old-likely", job("old-likely"), Place(odds=0.9))
        await lanes.run()

    asyncio.run(night())
    assert done == ["new-a", "new-b", "blocked", "save", "alive", "long-shot", "old-likely", "new-unlikely"]


def test_lanes_run_at_once_and_items_queue_items_on_other_lanes() -> None:
    spans: dict[str, tuple[float, float]] = {}

    async def night() -> Lanes:
        lanes = Lanes()

        async def slow(name: str) -> None:
            start = time.monotonic()
            await asyncio.sleep(0.2)
            spans[name] = (start, time.monotonic())

        async def first() -> None:
            await slow("a")
            lanes.put("later", Work.SAVE, "c", lambda: slow("c"))  # a lane that did not exist yet

        lanes.put("one", Work.NEW_FAILING, "a", first)
        lanes.put("two", Work.SAVE, "b", lambda: slow("b"))
        started = time.monotonic()
        await lanes.run()
        assert time.monotonic() - started < 0.55  # a and b together, then c: not 0.6 s one after the other
        return lanes

    lanes = asyncio.run(night())
    (a0, a1), (b0, b1), (c0, _) = spans["a"], spans["b"], spans["c"]
    assert a0 < b1 and b0 < a1  # overlapping
    assert c0 >= a1
    assert {name: s["done"] for name, s in lanes.stats().items()} == {"later": 1, "one": 1, "two": 1}


def test_an_idle_lane_steals_and_the_deadline_leaves_the_rest_counted_by_kind() -> None:
    ran: list[tuple[str, str]] = []

    async def night() -> Lanes:
        lanes = Lanes(deadline=time.monotonic() + 0.35)

        def steal(lane: Lane) -> Item | None:
            busy = lanes.lanes["busy"]
            if not busy.items:
                return None
            item = busy.items.pop(0)
            return Item(item.order, item.work, item.rank, item.seq, item.key, item.job, lane.name)

        lanes.add("busy")
        lanes.add("idle", steal=steal)
        for i in range(10):
            async def job(i: int = i) -> None:
                ran.append((str(i), "x"))
                await asyncio.sleep(0.1)
            lanes.put("busy", Work.NEW_FAILING if i < 5 else Work.LOOKUP, f"link-{i}", job)
        await lanes.run()
        return lanes

    lanes = asyncio.run(night())
    assert 6 <= len(ran) <= 8  # two lanes of 0.1 s items for 0.35 s
    assert lanes.lanes["idle"].done >= 3  # the idle lane took items off the busy one
    assert lanes.left() == Counter({Work.LOOKUP: 10 - len(ran)})
    assert lanes.left_keys() == {f"link-{i}" for i in range(len(ran), 10)}


def test_a_failing_item_is_reported_and_the_night_goes_on() -> None:
    errors: list[str] = []
    done: list[str] = []

    async def boom() -> None:
        raise RuntimeError("archive said something odd")

    async def fine() -> None:
        done.append("fine")

    async def night() -> Lanes:
        lanes = Lanes(on_error=lambda lane, exc: errors.append(f"{lane}: {exc}"))
        lanes.put("x", Work.NEW_FAILING, "a", boom)
        lanes.put("x", Work.SAVE, "b", fine)
        await lanes.run()
        return lanes

    lanes = asyncio.run(night())
    assert errors == ["x: archive said something odd"] and done == ["fine"]
    assert lanes.stats()["x"]["failed"] == 1 and lanes.stats()["x"]["done"] == 1


def test_the_time_left_is_the_busiest_lanes() -> None:
    lanes = Lanes()
    lanes.add("cdx", pace=0.4)  # 24 a minute
    lanes.add("loc", pace=0.05)  # 6 a minute, two calls a link
    for i in range(40):
        lanes.put("cdx", Work.LOOKUP, f"l{i}", lambda: asyncio.sleep(0))
    for i in range(10):
        lanes.put("loc", Work.NEW_FAILING, f"f{i}", lambda: asyncio.sleep(0))
    assert lanes.eta() == 200.0  # loc: 10 links at 0.05 a second; cdx would need 100 s
    assert lanes.queued() == "cdx 40 queued · loc 10 queued"
