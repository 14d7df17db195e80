"""The Wayback stage's decisions, without the network: capture choice, what is due, saves, stored state."""

from __future__ import annotations

import datetime as dt
import itertools

from archiver.config import load_settings
from archiver.history.linkstate import LinkState, apply_result, new_state
from archiver.history.store import dumps
from archiver.history.wayback_record import Saved, SaveJob, WaybackRecord
from archiver.models import CheckResult, Citation, Link
from archiver.timeline.catalog import canonical_url
from archiver.wayback import policy
from archiver.wayback.cdx import CdxRow
from archiver.wayback.policy import Known
from archiver.wayback.priority import LookupPriority, SavePriority

NOW = dt.datetime(2024, 6, 1, 2, 0, tzinfo=dt.UTC)
URL = "https://www.rivertongazette.com/news/2024/03/12/council-approves-license-plate-cameras/"
BASE = "https://web.archive.org"
SETTINGS = load_settings(env={}).wayback_options
HISTORY = load_settings(env={}).history_options


def link(url: str = URL, dates: tuple[str | None, ...] = ("2024-03-12",), archive_urls: tuple[str, ...] = ()) -> Link:
    return Link(url=url, normalized_url=canonical_url(url), host="www.rivertongazette.com",
                domain="rivertongazette.com", archive_urls=list(archive_urls),
                citations=[Citation(event=f"e{i}", file=f"e{i}.md", source_index=0, line=5, date=d)
                           for i, d in enumerate(dates)])


def state(status: str = "alive", when: dt.datetime = NOW, *, failures: int = 1, confirmed: bool = False) -> LinkState:
    s = new_state(URL, canonical_url(URL), when - dt.timedelta(days=30))
    if status in ("dead", "soft_404"):
        for i in range(failures):
            apply_result(s, CheckResult(URL, status, when - dt.timedelta(days=4 * (failures - 1 - i)),
                                        http_status=404), HISTORY)
        s.confirmed = confirmed
    else:
        apply_result(s, CheckResult(URL, status, when, http_status=200), HISTORY)
    return s


def rows(*specs: tuple[str, str]) -> list[CdxRow]:
    return [CdxRow(ts, URL, code, "warc/revisit" if code == "-" else "text/html") for ts, code in specs]


def test_citation_dates_become_end_of_day_timestamps() -> None:
    assert policy.date_ts("2013-06-07") == "20130607235959"
    assert policy.date_ts("2013-6") == "20130630235959"
    assert policy.date_ts("2012") == "20121231235959"
    assert policy.date_ts("2024-02") == "20240229235959"
    assert policy.date_ts("June 2013") is None and policy.date_ts(None) is None
    assert policy.cited_ts(link(dates=("2024-03-12", "2023-01-05", None))) == "20230105235959"


def test_the_capture_nearest_before_the_citation_is_chosen() -> None:
    caps = policy.from_rows(rows(("20240101000000", "200"), ("20240310120000", "200"), ("20240312230000", "200"),
                                 ("20240313010000", "200"), ("20240401000000", "200")))
    cited = "20240312235959"
    assert policy.choose(caps, cited, None) == Known("20240312230000", 200)  # the same day counts as before
    assert policy.choose(caps, "20231201235959", None) == Known("20240101000000", 200)  # else the nearest after
    assert policy.choose(caps, None, None) == Known("20240401000000", 200)  # no date: the newest
    # a failing link: nothing taken once it failed (it may be the error page)
    assert policy.choose(caps, "20240501235959", "20240320000000") == Known("20240313010000", 200)
    assert policy.choose(caps, None, "20240311000000") == Known("20240310120000", 200)
    assert policy.choose(caps, "20230101235959", "20231231000000") is None


def test_error_pages_redirects_revisits_and_challenges_are_never_chosen() -> None:
    caps = policy.from_rows(rows(("20240311000000", "404"), ("20240312000000", "301"), ("20240312100000", "-"),
                                 ("20240312110000", "503"), ("20240305000000", "200")))
    assert caps == [Known("20240305000000", 200)]
    assert policy.choose(caps, "20240312235959", None) == Known("20240305000000", 200)
    assert policy.from_rows(rows(("20240311000000", "404"), ("20240312000000", "302"))) == []
    challenged = [Known("20240311000000", 200, "a bot challenge: Just a moment..."), Known("20240301000000", 200)]
    assert policy.choose(challenged, "20240312235959", None) == Known("20240301000000", 200)
    assert [c.timestamp for c in policy.rescue_candidates(
        [Known("20240301000000", 200), Known("20240311000000", 200), Known("20240201000000", 200)],
        "20240312235959", None)] == ["20240311000000", "20240301000000"]


def test_only_a_few_captures_are_kept() -> None:
    caps = [Known(f"2023{m:02d}01000000", 200) for m in range(1, 13)] + \
           [Known(f"2024{m:02d}01000000", 200) for m in range(1, 13)]
    kept = policy.keep(caps, "20230615235959", "20240901000000")
    # the nearest before/after the citation, the newest before the failure, the newest two, and the
    # best CANDIDATES choices in order (the copy's fallbacks should a replay reject it)
    assert [c.timestamp for c in kept] == [f"2023{m:02d}01000000" for m in range(1, 8)] + [
        "20240801000000", "20241101000000", "20241201000000"]


def test_the_stored_dict_is_ordered_and_a_lookup_that_learns_nothing_writes_nothing() -> None:
    lk, s = link(), state()
    found = policy.from_rows(rows(("20240301000000", "200"), ("20240501000000", "200")))
    assert policy.learned(s, policy.with_captures(s.wayback, lk, s, found, BASE), NOW)
    assert s.wayback is not None and list(s.wayback.to_dict()) == ["url", "timestamp", "looked_up", "captures"]
    assert s.wayback.url == f"{BASE}/web/20240301000000/{URL}" and s.wayback.looked_up == "2024-06-01T02:00:00Z"
    before = dumps(s.to_dict())
    later = NOW + dt.timedelta(days=40)
    assert not policy.learned(s, policy.with_captures(s.wayback, lk, s, found, BASE), later)
    assert dumps(s.to_dict()) == before
    more = [*found, Known("20240701000000", 200)]
    assert policy.learned(s, policy.with_captures(s.wayback, lk, s, more, BASE), later)
    assert s.wayback.looked_up == "2024-07-11T02:00:00Z" and len(s.wayback.captures) == 3
    WaybackRecord.ensure(s).saved_this_run, WaybackRecord.ensure(s).save_job = True, SaveJob("spn2-1", "x")
    assert list(s.wayback.to_dict())[-2:] == ["save_job", "saved_this_run"]
    WaybackRecord.ensure(s).saved_this_run = False
    assert "saved_this_run" not in s.wayback.to_dict()


def test_what_calls_for_a_lookup() -> None:
    lk = link()
    assert policy.lookup_priority(lk, None, NOW, SETTINGS) == LookupPriority.NEW
    dead = state("dead", failures=1)
    assert policy.lookup_priority(lk, dead, NOW, SETTINGS) == LookupPriority.FAILING_UNCONFIRMED
    confirmed = state("dead", failures=3, confirmed=True)
    assert policy.lookup_priority(lk, confirmed, NOW, SETTINGS) == LookupPriority.FAILING
    alive = state()
    policy.learned(alive, policy.with_captures(None, lk, alive, [Known("20240301000000", 200)], BASE), NOW)
    assert policy.lookup_priority(lk, alive, NOW + dt.timedelta(days=1), SETTINGS) is None
    # known before it failed: a newly failing link is looked up again, once
    alive.status, alive.first_failed = "dead", "2024-06-03T02:00:00Z"
    later = NOW + dt.timedelta(days=2)
    assert policy.lookup_priority(lk, alive, later, SETTINGS) == LookupPriority.FAILING_UNCONFIRMED
    alive.status, alive.first_failed = "alive", None
    # stale knowledge: once per 30 days, on the link's own night
    nights = [d for d in range(1, 90) if policy.lookup_priority(lk, alive, NOW + dt.timedelta(days=d), SETTINGS)]
    assert nights and nights[0] >= 29 and all(b - a == 30 for a, b in itertools.pairwise(nights))
    # a save job whose status record has expired: reconcile through CDX
    WaybackRecord.ensure(alive).save_job = SaveJob("spn2-1", "2024-06-01T02:00:00Z")
    assert policy.lookup_priority(lk, alive, NOW + dt.timedelta(minutes=20), SETTINGS) is None
    assert policy.lookup_priority(lk, alive, NOW + dt.timedelta(hours=2), SETTINGS) == LookupPriority.RECONCILE


def test_lookups_are_planned_failing_first_then_newest_events() -> None:
    old, new, failing = link(URL + "old", ("2019-01-01",)), link(URL + "new", ("2024-05-01",)), link(URL + "dead")
    states = {failing.normalized_url: state("dead")}
    planned = policy.plan_lookups([old, new, failing], states, NOW, SETTINGS)
    assert [x.url for x in planned] == [failing.url, new.url, old.url]


def looked_up(s: LinkState, captures: list[Known], lk: Link | None = None) -> LinkState:
    policy.learned(s, policy.with_captures(None, lk or link(), s, captures, BASE), NOW)
    return s


def checked(status: str, http_status: int | None, evidence: str, *, confirmed: bool = False) -> LinkState:
    s = new_state(URL, canonical_url(URL), NOW - dt.timedelta(days=30))
    apply_result(s, CheckResult(URL, status, NOW, http_status=http_status, evidence=evidence), HISTORY)
    s.confirmed = confirmed
    return s


def test_save_priority() -> None:
    lk = link()
    assert policy.save_priority(lk, state(), NOW, SETTINGS) is None  # look it up first
    never = looked_up(state(), [])
    stale = looked_up(state(), [Known("20200101000000", 200)])
    older = looked_up(state(), [Known("20180101000000", 200)])
    fresh = looked_up(state(), [Known("20240101000000", 200)])
    soft = looked_up(state("soft_404"), [])
    dead_404 = looked_up(state("dead"), [])  # unconfirmed: still never worth a save
    confirmed = looked_up(state("dead", failures=3, confirmed=True), [])
    gone = looked_up(checked("dead", 410, "HTTP 410 Gone"), [])
    nxdomain = looked_up(checked("dead", None, "the domain no longer resolves (NXDOMAIN)"), [])
    parked = looked_up(checked("soft_404", 200, "the domain is parked (a Sedo parking page)"), [])
    parked_dead = looked_up(checked("dead", None, "the domain is parked: its name servers are Bodis'"), [])
    refused = looked_up(checked("dead", None, "the host resolves but refuses connections"), [])
    blocked = looked_up(checked("blocked", 403, "HTTP 403 Forbidden: the site refuses automated checks"), [])
    blocked_stale = looked_up(checked("blocked", 403, "HTTP 403 Forbidden"), [Known("20190101000000", 200)])
    keys = {name: policy.save_priority(lk, s, NOW, SETTINGS) for name, s in
            (("never", never), ("stale", stale), ("older", older), ("fresh", fresh), ("soft", soft),
             ("dead_404", dead_404), ("confirmed", confirmed), ("gone", gone), ("nxdomain", nxdomain),
             ("parked", parked), ("parked_dead", parked_dead), ("refused", refused), ("blocked", blocked),
             ("blocked_stale", blocked_stale))}
    excluded = {name for name, key in keys.items() if key is None}
    assert excluded == {"fresh", "soft", "dead_404", "confirmed", "gone", "nxdomain", "parked", "parked_dead"}
    assert [policy.definitive_failure(s) for s in (dead_404, gone, nxdomain, parked, refused, blocked)] == [
        "dead from HTTP 404", "dead from HTTP 410", "the domain no longer resolves", "the domain is parked",
        None, None]
    # alive without a capture, then alive with the oldest newest capture first, then blocked and refused
    assert keys["never"] < keys["older"] < keys["stale"] < keys["blocked"] < keys["blocked_stale"]  # type: ignore[operator]
    assert keys["stale"] < keys["refused"] and keys["refused"][0] == SavePriority.REST  # type: ignore[operator,index]
    WaybackRecord.ensure(never).save_job = SaveJob("spn2-1", "2024-06-01T02:00:00Z")
    assert policy.save_priority(lk, never, NOW, SETTINGS) is None  # never asked twice
    WaybackRecord.ensure(stale).saved = Saved("2024-05-01T02:00:00Z", None)
    assert policy.save_priority(lk, stale, NOW, SETTINGS) is None
    refused_confirmed = looked_up(checked("dead", None, "the host resolves but refuses connections",
                                          confirmed=True), [])
    assert policy.save_priority(lk, refused_confirmed, NOW, SETTINGS) is None


def test_saves_go_to_the_newest_events_first_within_a_rank() -> None:
    a, b = link(URL + "a", ("2019-01-01",)), link(URL + "b", ("2024-05-01",))
    states = {}
    for lk in (a, b):
        s = state()
        policy.learned(s, policy.with_captures(None, lk, s, [], BASE), NOW)
        states[lk.normalized_url] = s
    keys = {lk.url: policy.save_priority(lk, states[lk.normalized_url], NOW, SETTINGS) for lk in (a, b)}
    assert all(key is not None for key in keys.values())
    assert sorted([a.url, b.url], key=lambda url: keys[url]) == [b.url, a.url]  # the saver's queue order


def test_declared_archive_urls_that_need_no_network() -> None:
    lk = link()
    assert policy.declared_static(lk, f"https://web.archive.org/web/20240312000000/{URL}") is None
    assert policy.declared_static(lk, "https://web.archive.org/web/2024*/" + URL) == "calendar"
    assert policy.declared_static(lk, "https://web.archive.org/web/20240312000000/https://www.rivertongazette.com/") \
        == "mismatch"
    assert policy.declared_static(lk, "https://archive.ph/AbCd1") == "not_wayback"


def test_findings_from_the_stored_knowledge() -> None:
    lk, s = link(), state("dead")
    policy.learned(s, policy.with_captures(None, lk, s, [Known("20240301000000", 200)], BASE), NOW)
    (copy,) = policy.wayback_findings(lk, s)
    assert copy.kind == "wayback_copy" and copy.fix == f"archive_url: {BASE}/web/20240301000000/{URL}"
    none = state("dead")
    policy.learned(none, policy.with_captures(None, lk, none, [], BASE), NOW)
    assert [f.kind for f in policy.wayback_findings(lk, none)] == ["no_archived_copy"]
    declared = f"https://web.archive.org/web/20240312000000/{URL}"
    WaybackRecord.ensure(s).declared = {declared: "missing"}
    kinds = [f.kind for f in policy.wayback_findings(link(archive_urls=(declared,)), s)]
    assert kinds == ["wayback_copy", "archive_unavailable"]
    assert policy.wayback_findings(lk, state()) == []
