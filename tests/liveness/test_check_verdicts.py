"""Verdicts against real loopback servers: every case of issue 3's test list."""

from __future__ import annotations

import time
import uuid

import pytest

from archiver.liveness.transport import build_ssl_context
from tests.support.farm_sites import Sites, check_one, fast_settings


def token() -> str:
    return uuid.uuid4().hex[:10]


@pytest.mark.parametrize(("path", "status", "http_status"), [
    ("/articles/council-votes-on-budget", "alive", 200),
    ("/gone-404/council-story", "dead", 404),
    ("/gone-410/removed-story", "dead", 410),
    ("/unauthorized", "blocked", 401),
    ("/forbidden", "blocked", 403),
    ("/legal", "blocked", 451),
    ("/always429", "blocked", 429),
    ("/server-error", "error", 500),
    ("/teapot", "error", 418),
    ("/challenge-403", "blocked", 403),
    ("/challenge-503", "blocked", 503),
    ("/challenge-200", "blocked", 200),
    ("/attention-403", "blocked", 403),
    ("/latin1", "alive", 200),
    ("/latin1-bare", "alive", 200),
    ("/report.pdf", "alive", 200),
    ("/gzip-page", "alive", 200),
    ("/articles/how-to-fix-404-errors", "alive", 200),
])
async def test_status_verdicts(sites: Sites, path: str, status: str, http_status: int) -> None:
    result = await check_one(sites.news.url(path))
    assert (result.status, result.http_status) == (status, http_status), result
    assert result.checked_at is not None and result.elapsed >= 0
    if status != "alive":
        assert result.error


async def test_alive_keeps_the_body_for_snapshots(sites: Sites) -> None:
    result = await check_one(sites.news.url("/articles/river-clean-up"))
    assert result.status == "alive" and result.body and b"River clean up" in result.body
    assert result.content_type == "text/html" and not result.body_truncated


async def test_pdf_content_type(sites: Sites) -> None:
    result = await check_one(sites.news.url("/report.pdf"))
    assert result.content_type == "application/pdf" and result.body and result.body.startswith(b"%PDF")


async def test_get_is_used_even_when_head_fails(sites: Sites) -> None:
    for kind in ("head-405", "head-404"):
        path = f"/{kind}/{token()}"
        result = await check_one(sites.news.url(path))
        assert result.status == "alive", result
        assert [r.method for r in sites.news.hits(path)] == ["GET"]


async def test_permanent_redirect_to_live_page_is_moved(sites: Sites) -> None:
    result = await check_one(sites.news.url("/old/senator-files-bill"))
    assert result.status == "alive"
    assert result.final_url == sites.news.url("/articles/senator-files-bill")
    assert result.moved_to == result.final_url
    assert [(h.url, h.status) for h in result.redirects] == [(sites.news.url("/old/senator-files-bill"), 301)]


async def test_redirect_chain_records_every_hop(sites: Sites) -> None:
    result = await check_one(sites.news.url("/chain/judge-hears-appeal"))
    assert result.status == "alive"
    assert [h.status for h in result.redirects] == [302, 307, 301]
    assert result.redirects[1].url == sites.news.url("/chain2/judge-hears-appeal")
    assert result.final_url == sites.news.url("/articles/judge-hears-appeal")
    assert result.moved_to is None  # the chain starts with a temporary redirect


async def test_the_redirect_answers_ride_with_the_page_s_exchange(sites: Sites) -> None:
    """Each hop as received (for its WARC records), on the final answer's exchange, when bodies are kept."""
    result = await check_one(sites.news.url("/chain/judge-hears-appeal"))
    assert result.exchange is not None
    hops = result.exchange.hops
    assert [(h.exchange.url, h.exchange.status) for h in hops] == [(h.url, h.status) for h in result.redirects]
    assert all(any(k.lower() == "location" for k, _ in h.exchange.headers) for h in hops)
    refresh = await check_one(sites.news.url("/refresh-to/hearing-notes"))  # a meta refresh, with its page
    assert refresh.exchange is not None and [h.exchange.status for h in refresh.exchange.hops] == [200]
    assert b"refresh" in refresh.exchange.hops[0].body.lower()
    lean = await check_one(sites.news.url("/chain/judge-hears-appeal"), keep_bodies=False)
    assert lean.exchange is None and len(lean.redirects) == 3


async def test_trailing_slash_redirect_is_not_a_move(sites: Sites) -> None:
    result = await check_one(sites.news.url("/trailing/court-rules"))
    assert result.status == "alive" and result.final_url == sites.news.url("/trailing/court-rules/")
    assert result.moved_to is None  # the same page: not worth a finding


async def test_redirect_loop_is_error(sites: Sites) -> None:
    result = await check_one(sites.news.url("/loop/a"))
    assert result.status == "error" and "redirect loop" in (result.error or "")


async def test_too_many_redirects_is_error(sites: Sites) -> None:
    result = await check_one(sites.news.url("/endless/0"), fast_settings(max_redirects=5))
    assert result.status == "error" and "too many redirects" in (result.error or "")
    assert len(result.redirects) == 6


async def test_cookie_setting_self_redirect_is_not_a_loop(sites: Sites) -> None:
    result = await check_one(sites.news.url(f"/cookie/{token()}"))
    assert result.status == "alive", result


async def test_redirect_to_home_page_is_soft_404(sites: Sites) -> None:
    result = await check_one(sites.news.url("/removed/police-camera-program"))
    assert result.status == "soft_404" and "home page" in (result.evidence or "")
    assert result.final_url == sites.news.url("/")


async def test_redirect_to_section_is_soft_404(sites: Sites) -> None:
    result = await check_one(sites.news.url("/news/minister-visits-hospital"))
    assert result.status == "soft_404" and "section" in (result.evidence or "")


async def test_meta_refresh_to_home_page_is_soft_404(sites: Sites) -> None:
    result = await check_one(sites.news.url("/refresh-home/vanished-report"))
    assert result.status == "soft_404" and result.final_url == sites.news.url("/")
    assert [h.status for h in result.redirects] == [200]


async def test_meta_refresh_is_followed_like_a_redirect(sites: Sites) -> None:
    result = await check_one(sites.news.url("/refresh-to/hearing-notes"))
    assert result.status == "alive" and result.final_url == sites.news.url("/articles/hearing-notes")
    assert result.moved_to is None  # not a permanent redirect


async def test_auto_reloading_page_is_not_a_redirect(sites: Sites) -> None:
    result = await check_one(sites.news.url("/auto-reload/live-blog"))
    assert result.status == "alive" and result.redirects == []


async def test_redirect_to_login_is_blocked(sites: Sites) -> None:
    result = await check_one(sites.news.url("/paywalled/union-protest"))
    assert result.status == "blocked"


async def test_redirect_to_non_web_scheme_is_error(sites: Sites) -> None:
    result = await check_one(sites.news.url("/to-ftp/x"))
    assert result.status == "error" and "non-web" in (result.error or "")


# ------------------------------------------------------------------ soft 404


async def test_soft_404_host_random_path_probe(sites: Sites) -> None:
    before = len(sites.soft.hits("/archiver-probe-"))
    settings = fast_settings()
    from archiver.liveness.check import Checker

    async with Checker(settings) as checker:
        gone = await checker.check(sites.soft.url("/missing/old-story-2019"))
        gone2 = await checker.check(sites.soft.url("/2019/05/another-missing-story"))
        real = await checker.check(sites.soft.url("/story/agency-releases-privacy-report"))
    assert gone.status == "soft_404" and "random, non-existent path" in (gone.evidence or ""), gone
    assert gone2.status == "soft_404"
    assert real.status == "alive", real
    assert len(sites.soft.hits("/archiver-probe-")) - before == 1, "one probe per host"


async def test_soft_404_error_title(sites: Sites) -> None:
    gone = await check_one(sites.softtitle.url("/2020/01/story-that-was-deleted"))
    real = await check_one(sites.softtitle.url("/a/court-rules-on-contract"))
    assert gone.status == "soft_404" and "title" in (gone.evidence or "")
    assert real.status == "alive"


async def test_unknown_paths_serving_the_home_page(sites: Sites) -> None:
    gone = await check_one(sites.homesoft.url("/2018/10/vanished-article"))
    real = await check_one(sites.homesoft.url("/post/budget-hearing"))
    home = await check_one(sites.homesoft.url("/"))
    assert gone.status == "soft_404"
    assert real.status == "alive" and home.status == "alive"


async def test_home_page_cited_with_a_query_is_not_soft_404(sites: Sites) -> None:
    result = await check_one(sites.homesoft.url("/?utm_source=newsletter&ref=home"))
    assert result.status == "alive"


async def test_javascript_shell_is_not_soft_404(sites: Sites) -> None:
    """Every path serves the same near-empty shell: nothing proves the page is gone."""
    result = await check_one(sites.spa.url("/reports/2021/annual"))
    assert result.status == "alive"


async def test_probe_can_be_disabled(sites: Sites) -> None:
    result = await check_one(sites.soft.url("/missing/never-probed"), fast_settings(soft404_probe=False))
    assert result.status == "alive"


# ------------------------------------------------------------------ retries


async def test_429_with_retry_after_then_200(sites: Sites) -> None:
    path = f"/rate/{token()}"
    result = await check_one(sites.news.url(path))
    assert result.status == "alive"
    first, second = sites.news.hits(path)
    assert second.at - first.at >= 0.95, "Retry-After: 1 was honoured"


async def test_retry_after_longer_than_cap_is_not_waited_for(sites: Sites) -> None:
    path = f"/rate/{token()}"
    result = await check_one(sites.news.url(path), fast_settings(retry_after_cap=0.5))
    assert result.status == "blocked" and len(sites.news.hits(path)) == 1


async def test_503_once_then_200(sites: Sites) -> None:
    path = f"/flaky503/{token()}"
    result = await check_one(sites.news.url(path))
    assert result.status == "alive" and len(sites.news.hits(path)) == 2


async def test_connection_reset_once_then_200(sites: Sites) -> None:
    path = f"/reset/{token()}"
    result = await check_one(sites.news.url(path))
    assert result.status == "alive" and len(sites.news.hits(path)) == 2


async def test_404_is_not_retried(sites: Sites) -> None:
    path = f"/gone-404/{token()}"
    assert (await check_one(sites.news.url(path), fast_settings(attempts=3))).status == "dead"
    assert len(sites.news.hits(path)) == 1


async def test_500_is_retried_then_error(sites: Sites) -> None:
    before = len(sites.news.hits("/server-error"))
    result = await check_one(sites.news.url("/server-error"), fast_settings(attempts=3))
    assert result.status == "error" and len(sites.news.hits("/server-error")) - before == 3


# ------------------------------------------------------------------ timeouts and size caps


async def test_slow_headers_time_out(sites: Sites) -> None:
    result = await check_one(sites.news.url("/slow-headers"), fast_settings(attempts=1, read_timeout=0.3))
    assert result.status == "error" and "response headers" in (result.error or "")


async def test_host_that_keeps_timing_out_is_not_tried_for_every_link(sites: Sites) -> None:
    from archiver.liveness.batch import check_links
    from tests.support.farm_sites import link_for

    tag = token()
    links = [link_for(sites.news.url(f"/slow-headers?{tag}={i}")) for i in range(8)]
    started = time.monotonic()
    run = await check_links(links, fast_settings(attempts=2, read_timeout=0.3, per_host_concurrency=1))
    assert {r.status for r in run.results.values()} == {"error"}
    assert len(sites.news.hits(f"/slow-headers?{tag}")) == 3
    assert time.monotonic() - started < 2.5
    assert sum("timed out 3 times in a row" in (r.error or "") for r in run.results.values()) >= 6


async def test_trickling_body_stopped_by_total_timeout(sites: Sites) -> None:
    before = len(sites.news.hits("/trickle"))
    result = await check_one(sites.news.url("/trickle"), fast_settings(attempts=3, total_timeout=0.8))
    assert result.status == "error" and "timed out after 0.8s" in (result.error or "")
    assert result.http_status == 200
    assert len(sites.news.hits("/trickle")) - before == 1, "a server that answered, then trickled, is not retried"


async def test_200_mb_body_is_not_downloaded(sites: Sites) -> None:
    cap = 128 * 1024
    result = await check_one(sites.news.url("/huge"), fast_settings(max_body_bytes=cap))
    assert result.status == "alive" and result.body_truncated and len(result.body or b"") == cap
    # the server stops when the client hangs up: socket buffers, not 200 MB
    for _ in range(50):
        if "huge_sent" in sites.stats:
            break
        import asyncio

        await asyncio.sleep(0.02)
    assert sites.stats["huge_sent"] < 32 * 1024 * 1024


@pytest.mark.parametrize("path", ["/gzip-bomb", "/brotli-bomb"])
async def test_compression_bombs_stop_at_the_decoded_cap(sites: Sites, path: str) -> None:
    cap = 100_000
    result = await check_one(sites.news.url(path), fast_settings(max_body_bytes=cap))
    assert result.status == "alive"
    assert result.body_truncated and len(result.body or b"") == cap


# ------------------------------------------------------------------ TLS


async def test_tls_self_signed_is_error_and_says_why(sites: Sites) -> None:
    if sites.tls_bad is None:
        pytest.skip("openssl is not available to make certificates")
    result = await check_one(sites.tls_bad.url("/g/secure-page"))
    assert result.status == "error"
    assert "TLS certificate" in (result.error or "") and "self-signed" in (result.error or "")


async def test_tls_trusted_through_ssl_cert_file(sites: Sites) -> None:
    if sites.tls_good is None or sites.cafile is None:
        pytest.skip("openssl is not available to make certificates")
    ctx = build_ssl_context(env={"SSL_CERT_FILE": str(sites.cafile)})
    result = await check_one(sites.tls_good.url("/g/secure-page"), ssl_context=ctx)
    assert result.status == "alive", result
