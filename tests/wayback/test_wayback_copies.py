"""Issue 13 against the local Wayback double: the copy to cite and the rescue are judged by the
capture's replayed content (an archived error page, an empty or thin capture is refused and
remembered), and Save Page Now's scarce budget goes to links a capture can still help."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from archiver.history.linkstate import apply_result, new_state
from archiver.history.store import StateStore
from archiver.history.wayback_record import Rescued
from archiver.models import CheckResult
from archiver.snapshots.extract import extract
from archiver.snapshots.store import Capture, SnapshotStore
from archiver.timeline.catalog import canonical_url
from tests.support.wayback_double import WaybackDouble, article
from tests.wayback.test_wayback_stage import NOW, SITE, Timeline

NOT_FOUND = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>"
             + b"The requested URL was not found on this server. Try the search or the front page. " * 15
             + b"</p></body></html>")
STUB = (b"<!DOCTYPE html><html><head><title>Council cameras | Riverton Gazette</title></head><body><article>"
        b"<h1>Council cameras</h1><p>" + b"The council voted on Tuesday to approve the plate cameras downtown. " * 12
        + b"</p></article></body></html>")


def test_an_archived_not_found_page_is_never_the_copy_or_the_rescue(double: WaybackDouble, tmp_path: Path) -> None:
    """The acceptance test: the newest 2xx capture before the failure is the site's not-found page."""
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "renamed-story/", date="2024-03-25")
    double.add(url, "20240201120000", "200", article(url, ["as-cited"]))
    double.add(url, "20240320120000", "200", NOT_FOUND)  # answered 200, before the checker saw it fail
    t.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))

    outcome, store = t.run()
    key = canonical_url(url)
    wb = store.states[key].wayback
    assert wb is not None and wb.timestamp == "20240201120000" and wb.verified is True
    assert wb.rescued == Rescued("20240201120000", "written")
    (rejected,) = [c for c in wb.captures if c.timestamp == "20240320120000"]
    assert rejected.rejected is not None
    assert rejected.rejected.startswith("an error page:") and "404 Not Found" in rejected.rejected
    assert double.replayed(url) == ["20240320120000", "20240201120000"]
    snapshot = SnapshotStore(t.snapshots).read(key)
    assert snapshot is not None and "as-cited" in snapshot.text and "not found" not in snapshot.text.lower()
    (finding,) = [f for f in outcome.findings if f.url == url]
    assert finding.kind == "wayback_copy" and finding.fix == f"archive_url: {double.base_url}/web/20240201120000/{url}"
    assert "not yet replayed" not in finding.message

    # the link comes back, then fails again: a new lookup sees both captures again; neither is replayed
    t.verdict(url, "alive", since=NOW + dt.timedelta(days=1))
    t.verdict(url, "dead", since=NOW + dt.timedelta(days=2))
    cdx_before = len(double.hits("cdx"))
    _, store = t.run(NOW + dt.timedelta(days=3))
    assert len(double.hits("cdx")) == cdx_before + 1  # looked up again
    assert double.replayed(url) == ["20240320120000", "20240201120000"]  # nothing replayed again
    wb = store.states[key].wayback
    assert wb is not None and wb.timestamp == "20240201120000" and wb.verified is True
    assert [(c.rejected or "")[:13] for c in wb.captures if c.timestamp == "20240320120000"] == ["an error page"]


def test_empty_and_thin_captures_are_refused_for_the_copy_to_cite(double: WaybackDouble, tmp_path: Path) -> None:
    """A link whose live text is stored: the copy to cite is still judged; a capture with no body or
    with a fraction of the article's text (a subscriber stub) is refused, the older article offered."""
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "council-cameras/", date="2024-03-12")
    long_article = article(url, ["testimony"] * 60)
    SnapshotStore(t.snapshots).save(Capture(url=url, normalized_url=canonical_url(url), captured_at=NOW,
                                            extraction=extract(long_article, "text/html", url), http_status=200))
    double.add(url, "20240101120000", "200", long_article)
    double.add(url, "20240305120000", "200", b"")
    double.add(url, "20240310120000", "200", STUB)
    t.verdict(url, "soft_404")
    outcome, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert wb is not None and wb.timestamp == "20240101120000" and wb.verified is True
    reasons = {c.timestamp: c.rejected for c in wb.captures}
    assert reasons["20240305120000"] == "the capture is empty"
    assert reasons["20240310120000"] is not None and reasons["20240310120000"].startswith("thin text: ")
    assert "under 20% of the" in reasons["20240310120000"]
    assert double.replayed(url) == ["20240310120000", "20240305120000", "20240101120000"]
    assert outcome.stats["captures_rejected"] == 2 and wb.rescued is None
    snapshot = SnapshotStore(t.snapshots).read(canonical_url(url))
    assert snapshot is not None and snapshot.info.origin == "live"


def test_a_copy_not_judged_yet_is_marked_unverified_and_judged_on_a_later_run(double: WaybackDouble,
                                                                            tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    url = t.cite(SITE + "many-errors/", date="2024-03-12")
    double.add(url, "20240101120000", "200", article(url, ["as-cited"]))
    for day in range(5, 10):  # five archived error pages nearer the citation than the article
        double.add(url, f"202403{day:02d}120000", "200", NOT_FOUND)
    t.verdict(url, "dead")
    outcome, store = t.run()
    wb = store.states[canonical_url(url)].wayback
    assert len(double.replayed(url)) == 3  # VERIFY_TRIES a link and run
    assert wb is not None and wb.url and not wb.verified
    (finding,) = [f for f in outcome.findings if f.url == url]
    assert "(not yet replayed and checked: it may be an error page)" in finding.message
    assert wb.timestamp not in double.replayed(url)
    t.run(NOW + dt.timedelta(hours=20))
    wb = t.state(url).wayback
    assert wb is not None and wb.timestamp == "20240101120000" and wb.verified is True
    assert len(double.replayed(url)) == 6 and len(set(double.replayed(url))) == 6  # none replayed twice


def test_saves_skip_definitive_failures_and_go_to_alive_links_first(double: WaybackDouble, tmp_path: Path) -> None:
    t = Timeline(tmp_path, double)
    verdicts: dict[str, tuple[str, int | None, str]] = {
        "dead-404": ("dead", 404, "HTTP 404 Not Found"),
        "dead-410": ("dead", 410, "HTTP 410 Gone"),
        "nxdomain": ("dead", None, "the domain no longer resolves (NXDOMAIN)"),
        "parked": ("dead", 200, "the domain is parked (a parking service's page)"),
        "soft-404": ("soft_404", 200, "the title reads 'Page not found'"),
        "refused": ("dead", None, "the host resolves but refuses connections"),
        "blocked": ("blocked", 403, "HTTP 403 Forbidden: the site refuses automated checks"),
        "never": ("alive", 200, "HTTP 200 OK"),
        "stale-2021": ("alive", 200, "HTTP 200 OK"),
        "stale-2018": ("alive", 200, "HTTP 200 OK"),
    }
    urls = {name: t.cite(f"{SITE}{name}/", date=f"2024-03-{10 + i:02d}") for i, name in enumerate(verdicts)}
    double.add(urls["stale-2021"], "20210301120000", "200", article(urls["stale-2021"]))
    double.add(urls["stale-2018"], "20180301120000", "200", article(urls["stale-2018"]))
    store = StateStore(t.snapshots).load()
    for name, (status, code, evidence) in verdicts.items():
        url = urls[name]
        state = new_state(url, canonical_url(url), NOW - dt.timedelta(days=60))
        apply_result(state, CheckResult(url, status, NOW - dt.timedelta(hours=1), http_status=code,
                                        evidence=evidence), t.settings())
        store.save(state)
    t.run()  # the lookups (saving off): what the archive holds is known before any save
    assert not double.hits("save")
    outcome, store = t.run(NOW + dt.timedelta(hours=1), keys=True)
    submitted = [h.url for h in double.hits("save")]
    assert submitted == [urls["never"], urls["stale-2018"], urls["stale-2021"], urls["blocked"], urls["refused"]]
    assert outcome.stats["saves_requested"] == 5
    for name in ("dead-404", "dead-410", "nxdomain", "parked", "soft-404"):
        wb = store.states[canonical_url(urls[name])].wayback
        assert wb is None or wb.save_job is None


def test_not_the_page_names_parked_captures_and_error_pages_apart() -> None:
    from archiver.wayback.rescue import not_the_page

    parked = (b"<html><head><title>example-gazette.com is for sale</title></head><body>"
              b"<h1>This domain may be for sale</h1><div class='related'>Related searches</div>"
              b"<script src='https://www.sedoparking.com/frmpark/x.js'></script></body></html>")
    why = not_the_page("https://example-gazette.com/2019/story", parked, "text/html")
    assert why is not None and why.startswith("not the page: the domain is parked")
    missing = b"<html><head><title>Page not found</title></head><body><h1>Page not found</h1></body></html>"
    assert not_the_page("https://example.com/a/b", missing, "text/html") == \
        "an error page: the page title says 'Page not found'"
    article = b"<html><head><title>Senate report on the attack</title></head><body><p>Text.</p></body></html>"
    assert not_the_page("https://example.com/a/b", article, "text/html") is None
