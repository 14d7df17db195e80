"""Network down is not link rot: DNS/refused failures are dead only while the network works."""

from __future__ import annotations

import time
from pathlib import Path

from archiver.config import Settings
from archiver.liveness.batch import BatchRules, check_links, interleave_by_host
from archiver.liveness.network import assess
from tests.support.farm_sites import Sites, fast_settings, link_for


def live_links(sites: Sites) -> list:
    hosts = [sites.news, sites.soft, sites.softtitle, sites.homesoft, sites.spa, sites.gap, sites.busy]
    paths = ["/articles/a", "/story/b", "/a/c", "/post/d", "/app/e", "/g/f", "/b/g"]
    return [link_for(h.url(p)) for h, p in zip(hosts, paths, strict=True)]


async def test_nxdomain_and_refused_are_dead_when_the_network_works(sites: Sites) -> None:
    links = [*live_links(sites), link_for("http://vanished-newspaper.invalid/2019/story"),
             link_for(sites.refused_url)]
    run = await check_links(links, fast_settings())
    by_url = {r.url: r for r in run.results.values()}
    assert run.network.status == "ok" and run.complete
    gone = by_url["http://vanished-newspaper.invalid/2019/story"]
    assert gone.status == "dead" and gone.connection_failure and "does not resolve" in (gone.error or "")
    refused = by_url[sites.refused_url]
    assert refused.status == "dead" and refused.connection_failure and "refused" in (refused.error or "")
    assert all(by_url[link.url].status == "alive" for link in links[:7])


async def test_offline_when_most_hosts_fail_nothing_is_dead(sites: Sites) -> None:
    links = [link_for(f"http://site{i}.invalid/news/{i}") for i in range(10)]
    links.append(link_for(sites.news.url("/articles/still-here")))
    run = await check_links(links, fast_settings())
    assert run.network.status == "offline"
    assert run.network.message and "network offline" in run.network.message
    statuses = [r.status for r in run.results.values()]
    assert "dead" not in statuses
    failed = [r for r in run.results.values() if r.connection_failure]
    assert len(failed) == 10
    assert all(r.status == "error" and "not counted as dead" in (r.error or "") for r in failed)


async def test_offline_run_stops_early(sites: Sites) -> None:
    """The first sample of hosts all fail: the run stops without waiting for slow hosts."""
    links = [link_for(f"http://gone{i}.invalid/x") for i in range(25)]
    links += [link_for(sites.news.url(f"/slow-headers?n={i}")) for i in range(5)]
    started = time.monotonic()
    run = await check_links(links, fast_settings(read_timeout=5, total_timeout=10, network_sample_hosts=20))
    assert time.monotonic() - started < 3
    assert run.network.status == "offline" and not run.complete and run.stopped == "network_offline"
    assert len(run.results) < len(links)
    assert "dead" not in {r.status for r in run.results.values()}, [
        (r.url, r.error, r.connection_failure) for r in run.results.values() if r.status == "dead"]


async def test_degraded_network_reports_connection_failures_as_error(sites: Sites) -> None:
    links = [*live_links(sites), *(link_for(f"http://lost{i}.invalid/p") for i in range(3))]
    run = await check_links(links, fast_settings())
    assert run.network.status == "degraded" and run.complete
    lost = [r for r in run.results.values() if ".invalid" in r.url]
    assert {r.status for r in lost} == {"error"}


async def test_small_timeline_judged_sensibly(sites: Sites) -> None:
    # 3 hosts, 2 fail: one host works, so the network works and the two are dead
    links = [link_for(sites.news.url("/articles/x")), link_for("http://a.invalid/"), link_for("http://b.invalid/p")]
    run = await check_links(links, fast_settings())
    assert run.network.status == "ok"
    assert sorted(r.status for r in run.results.values()) == ["alive", "dead", "dead"]
    # 2 hosts, both fail: offline
    run = await check_links([link_for("http://a.invalid/"), link_for("http://b.invalid/p")], fast_settings())
    assert run.network.status == "offline" and "dead" not in {r.status for r in run.results.values()}


async def test_provisional_results_are_announced_then_finalised(sites: Sites) -> None:
    seen: list[tuple[str, bool]] = []
    links = [link_for(f"http://x{i}.invalid/") for i in range(6)]
    run = await check_links(links, fast_settings(),
                            on_result=lambda link, r: seen.append((r.status, r.connection_failure)))
    assert seen and all(cf for _, cf in seen), "connection-level verdicts are marked for holding back"
    assert {r.status for r in run.results.values()} == {"error"}


async def test_invalid_links_are_not_requested(sites: Sites) -> None:
    link = link_for("ftp://example.org/file")
    link.invalid_reason = "'ftp://example.org/file' is not an http(s) URL"
    run = await check_links([link], fast_settings())
    (result,) = run.results.values()
    assert result.status == "invalid" and run.requests == 0


def test_assess_thresholds() -> None:
    s = Settings()
    assert assess(0, 0, s).status == "ok"
    assert assess(1, 1, s).status == "offline"
    assert assess(4, 3, s).status == "ok"
    assert assess(4, 4, s).status == "offline"
    assert assess(20, 12, s).status == "offline"
    assert assess(20, 6, s).status == "degraded"
    assert assess(20, 5, s).status == "ok"


def test_interleave_by_host() -> None:
    links = [link_for(u) for u in ("http://a.org/1", "http://a.org/2", "http://a.org/3", "http://b.org/1",
                                   "http://c.org/1", "http://b.org/2")]
    assert [link.url for link in interleave_by_host(links)] == [
        "http://a.org/1", "http://b.org/1", "http://c.org/1", "http://a.org/2", "http://b.org/2", "http://a.org/3"]


async def test_time_budget_stops_the_run_cleanly(sites: Sites) -> None:
    links = [link_for(sites.news.url(f"/slow-headers?budget={i}")) for i in range(3)]
    links.append(link_for(sites.news.url("/articles/quick-one")))
    started = time.monotonic()
    run = await check_links(links, fast_settings(read_timeout=5, total_timeout=10).check_options,
                            rules=BatchRules(deadline=time.monotonic() + 0.5))
    assert time.monotonic() - started < 2
    assert run.stopped == "time_budget" and not run.complete
    assert [r.status for r in run.results.values()] == ["alive"]


async def test_pipeline_honours_max_links(sites: Sites, tmp_path: Path) -> None:
    from dataclasses import replace

    from archiver.pipeline.night import run_night

    events = tmp_path / "events"
    events.mkdir()
    urls = "".join(f"  - url: {sites.gap.url(f'/g/max-links-{i}')}\n" for i in range(4))
    (events / "e.md").write_text(f"---\nid: e\nsources:\n{urls}---\n", encoding="utf-8")
    settings = replace(fast_settings(max_links=2), events=events, report_dir=tmp_path / "r",
                       snapshots=tmp_path / "snapshots")
    outcome = await run_night(settings, progress=False)
    assert outcome.exit_code == 0
    assert outcome.report.summary.links == {"alive": 2, "unchecked": 2}
    assert outcome.report.run.budgets_hit == ["max_links"] and outcome.report.run.complete is False
